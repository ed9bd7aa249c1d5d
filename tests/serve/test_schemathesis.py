"""Schemathesis over the served OpenAPI schema (kept equal to docs/openapi.json by
``test_openapi.py``): requests generated from every operation never get a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from redaes.serve import ServeSettings, create_app


@pytest.fixture
def api_schema(assessor):
    app = create_app({"tiny": assessor}, ServeSettings(max_request_bytes=2_000_000))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_generated_requests_never_get_a_5xx(api_schema):
    seen: list[str] = []
    calls = {"n": 0, "ok": 0}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        seen.append(f"{operation.method.upper()} {operation.path}")

        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            res = case.call()
            calls["n"] += 1
            calls["ok"] += res.status_code < 400
            assert res.status_code < 500, (case.method, case.path, res.status_code, res.text[:300])
            if res.status_code >= 400:  # every error is the JSON error shape
                body = res.json()
                assert body["status"] == res.status_code and {"error", "message"} <= set(body)

        check()
    assert "POST /v1/score" in seen and "POST /v1/suggest" in seen and len(seen) >= 6
    assert calls["n"] >= 2 * len(seen), calls  # requests were really generated and sent
    print(f"schemathesis: {calls['n']} requests over {len(seen)} operations, {calls['ok']} < 400")
