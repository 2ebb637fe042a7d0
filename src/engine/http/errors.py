"""The one error shape, and the one place where engine errors become HTTP status codes.

{"error": {"code": "...", "message": "...", "details": [{"field": "...", "problem": "..."}]}}
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine import errors
from engine.domain.parsing import field_path
from engine.http.auth import RateLimitedError, UnauthorizedError

log = logging.getLogger("engine.http")

STATUS_BY_ERROR: list[tuple[type[errors.EngineError], int]] = [
    (errors.MissingDependencyError, 501),
    (errors.NotAvailableError, 501),
    (errors.ValidationError, 422),
    (errors.ConfigurationError, 422),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.ArtifactIntegrityError, 500),
    (errors.ConnectorError, 502),
]


def status_for(exc: errors.EngineError) -> int:
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(exc, error_type):
            return status
    return 500


def error_body(
    code: str, message: str, details: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.EngineError)
    async def engine_error(_: Request, exc: errors.EngineError) -> JSONResponse:
        status = status_for(exc)
        details = [{"field": d.field, "problem": d.problem} for d in exc.details]
        if status >= 500 and not isinstance(
            exc, errors.NotAvailableError | errors.MissingDependencyError
        ):
            error_id = uuid.uuid4().hex[:12]
            log.error("error %s: %s", error_id, exc.message, exc_info=exc)
            return error_response(status, exc.code, f"{exc.message} (error id {error_id})", details)
        return error_response(status, exc.code, exc.message, details)

    @app.exception_handler(UnauthorizedError)
    async def unauthorized(_: Request, exc: UnauthorizedError) -> JSONResponse:
        return error_response(
            401, "unauthorized", exc.message, headers={"WWW-Authenticate": "ApiKey"}
        )

    @app.exception_handler(RateLimitedError)
    async def rate_limited(_: Request, exc: RateLimitedError) -> JSONResponse:
        retry = str(int(exc.retry_after))
        return error_response(
            429,
            "rate_limited",
            "Too many requests for this API key.",
            headers={"Retry-After": retry},
        )

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for problem in exc.errors():
            location = tuple(problem.get("loc", ()))
            where = location[0] if location else "body"
            path = (
                field_path(location[1:])
                if where in ("body", "query", "path", "header") and len(location) > 1
                else field_path(location)
            )
            details.append({"field": path, "problem": str(problem.get("msg", "invalid"))})
        malformed = any(p.get("type") == "json_invalid" for p in exc.errors())
        if malformed:
            details = [
                {
                    "field": "body",
                    "problem": str(exc.errors()[0].get("ctx", {}).get("error", "not valid JSON")),
                }
            ]
        message = (
            "The request body is not valid JSON."
            if malformed
            else "The request is invalid: "
            + "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        )
        return error_response(
            400 if malformed else 422,
            "malformed_json" if malformed else "validation_error",
            message,
            details,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(
            exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None)
        )

    app.add_middleware(UnexpectedErrors)


class UnexpectedErrors:
    """Any other exception becomes a 500 in the one shape, with an error id that is also in the
    log. A middleware rather than an `Exception` handler: Starlette re-raises after such a
    handler, and the server then drops the keep-alive connection, so a client's next request on
    it fails too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            if started:  # too late for a response of our own; let the server end it
                raise
            error_id = uuid.uuid4().hex[:12]
            log.error("unexpected error %s", error_id, exc_info=exc)
            response = error_response(
                500, "internal_error", f"An unexpected error occurred (error id {error_id})."
            )
            await response(scope, receive, send)
