"""The committed OpenAPI schema (docs/openapi.json) matches the app's; regenerate with
``redaes serve --openapi docs/openapi.json``."""

from __future__ import annotations

import json
from pathlib import Path

from redaes.cli.serve_cmds import openapi_text
from redaes.serve.schema_app import schema_app

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_schema_matches_the_app():
    assert COMMITTED.is_file(), "run: redaes serve --openapi docs/openapi.json"
    assert json.loads(COMMITTED.read_text()) == json.loads(openapi_text(schema_app())), (
        "docs/openapi.json drifted from the app: run redaes serve --openapi docs/openapi.json"
    )
    paths = json.loads(COMMITTED.read_text())["paths"]
    assert {
        "/v1/score",
        "/v1/compare",
        "/v1/explain",
        "/v1/suggest",
        "/v1/models",
        "/health",
    } <= set(paths)
    content = paths["/v1/score"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(content)
