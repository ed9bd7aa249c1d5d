"""Errors as JSON: the body-size middleware and the exception handlers of the service.

Every error body is ``{"status", "error", "message"}`` (one line, never a stack trace).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from redaes.errors import RedaesError
from redaes.serve.settings import ServeError, TooLargeError


class BodyLimit:
    """ASGI middleware: 413 for bodies over ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await error_response(TooLargeError(self._message()))(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLargeError(self._message())
            return message

        await self.app(scope, limited, send)

    def _message(self) -> str:
        return f"request body over the limit of {self.limit} bytes"


def error_response(exc: ServeError) -> JSONResponse:
    """The JSON error body for ``exc`` (``Retry-After`` on 503)."""
    headers = {"Retry-After": "1"} if exc.status == 503 else None
    body = {"status": exc.status, "error": exc.code, "message": str(exc)}
    return JSONResponse(body, status_code=exc.status, headers=headers)


def one_line(exc: ValidationError | RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(ServeError)
    async def serve_error(_: Request, exc: ServeError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RedaesError)
    async def redaes_error(_: Request, exc: RedaesError) -> JSONResponse:
        return error_response(ServeError(str(exc)))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(ServeError(one_line(exc), status=422, code="invalid_request"))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, ServeError):  # e.g. body over the limit while parsing
            return error_response(exc.__cause__)
        return error_response(ServeError(str(exc.detail), status=exc.status_code, code="http"))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        return error_response(ServeError("internal error", status=500, code="internal"))
