"""CLI command ``redaes serve``: the HTTP service and web page (FastAPI + uvicorn)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from redaes.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def model_name(spec: str | None) -> str:
    """The name a ``--model`` value is served under (weights file stem, or the name)."""
    if spec is None:
        return "compact-default"
    return Path(spec).stem if spec.endswith(".safetensors") else spec


def openapi_text(app: object) -> str:
    """The app's OpenAPI schema as stable JSON (sorted keys, trailing newline)."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    """Add ``redaes serve``."""

    @app.command("serve")
    def serve_cmd(
        model: list[str] = typer.Option(
            [], "--model", "-m", help="weights file or assessor name (repeatable; first=default)"
        ),
        host: str = typer.Option("127.0.0.1", "--host", help="address to bind (loopback)"),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port"),
        token: str | None = typer.Option(
            None, "--token", envvar="REDAES_TOKEN", help="bearer token required on /v1/*"
        ),
        max_mb: float = typer.Option(25.0, "--max-mb", min=0.001, help="request size limit"),
        max_pixels: int = typer.Option(40_000_000, "--max-pixels", min=1, help="per image"),
        timeout: float = typer.Option(60.0, "--timeout", min=0.01, help="seconds per request"),
        queue: int = typer.Option(64, "--queue", min=1, help="requests waiting for the model"),
        batch_wait_ms: float = typer.Option(5.0, "--batch-wait-ms", min=0.0, max=100.0),
        openapi: Path | None = typer.Option(
            None, "--openapi", help="write the OpenAPI schema to FILE and exit"
        ),
    ) -> None:
        """Serve score/compare/explain/suggest over HTTP and the web page at /."""
        try:
            import uvicorn

            from redaes.serve import ServeSettings, create_app
        except ImportError:
            raise ConfigError("redaes serve needs: pip install 'redaes[serve]'") from None
        from redaes.imageio import atomic_write_bytes
        from redaes.models import load_assessor

        if host not in LOOPBACK and not token:
            raise ConfigError(f"--host {host} is beyond loopback: set --token or REDAES_TOKEN")
        settings = ServeSettings(
            max_request_bytes=int(max_mb * 1024 * 1024),
            max_pixels=max_pixels,
            timeout_s=timeout,
            queue_size=queue,
            batch_wait_ms=batch_wait_ms,
            token=token or None,
        )
        if openapi is not None:
            from redaes.serve.schema_app import schema_app

            atomic_write_bytes(openapi, openapi_text(schema_app(settings)).encode("utf-8"))
            return
        specs: list[str | None] = list(model) or [None]
        models = {model_name(s): load_assessor(s) for s in specs}  # loaded once, at start-up
        from redaes.cli.score_cmds import announce_weights

        for assessor in models.values():
            announce_weights(assessor)  # which weights answer, named once on stderr
        uvicorn.run(create_app(models, settings), host=host, port=port, log_level="warning")
