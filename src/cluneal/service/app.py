"""The FastAPI application of the CDS Hooks service (built by :func:`create_app`).

Endpoints: ``GET /cds-services`` (discovery), ``POST /cds-services/{id}`` (a
hook call) and ``POST /cds-services/{id}/feedback``. A malformed request gets
400, a request whose data can be neither sent nor fetched 412, an unknown
service 404, a body over the size limit 413; every refusal is JSON
``{"error", "message", "safetyStatement"}``, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cluneal.plan import SAFETY_STATEMENT
from cluneal.service._errors import ServiceRequestError
from cluneal.service.discovery import SERVICES, discovery
from cluneal.service.fetch import resolve_prefetch
from cluneal.service.hooks import answer
from cluneal.service.models import CdsRequest, CdsResponse, Discovery, ErrorBody, Feedback

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "create_app"]

MAX_BODY_BYTES: Final = 10_000_000
"""The largest request body the service reads (bytes); larger gets HTTP 413."""

_log = logging.getLogger("cluneal.service")
_REFUSALS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    404: {"model": ErrorBody, "description": "No such service"},
    412: {"model": ErrorBody, "description": "Data neither sent nor fetchable"},
    413: {"model": ErrorBody, "description": "Request body too large"},
}


def _error(status: int, error: str, message: str) -> JSONResponse:
    body = {"error": error, "message": message, "safetyStatement": SAFETY_STATEMENT}
    return JSONResponse(body, status_code=status)


class _BodyLimit:
    """Refuse request bodies over :data:`MAX_BODY_BYTES` with 413, before the app reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                response = _error(413, "too_large", f"request body over {MAX_BODY_BYTES} bytes")
                await response(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _unknown_service(service_id: str) -> JSONResponse:
    known = ", ".join(SERVICES)
    return _error(404, "not_found", f"no service {service_id[:80]!r}; known: {known}")


def create_app(*, cors_origins: Sequence[str] | None = None, fetch_timeout: float = 5.0) -> FastAPI:
    """Build the ASGI app of the CDS Hooks service.

    Args:
        cors_origins: Origins a browser may call from; ``None`` allows any
            origin (EHR sandboxes run in browsers). Headers ``authorization``
            and ``content-type`` are always allowed.
        fetch_timeout: Seconds for each connection to and read from ``fhirServer``.

    Returns:
        The FastAPI app (serve it with uvicorn, or ``cluneal serve``).
    """
    from cluneal import __version__

    app = FastAPI(
        title="cluneal CDS Hooks service",
        description=f"CDS Hooks 2.0 services for cluneal neuralgia care. {SAFETY_STATEMENT}",
        version=__version__,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors_origins) if cors_origins else ["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["authorization", "content-type"],
    )
    app.add_middleware(_BodyLimit)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return _error(exc.status_code, error, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: "
            f"{e.get('msg', 'invalid')}"
            for e in exc.errors()[:10]
        )
        return _error(400, "bad_request", f"malformed CDS Hooks request: {problems}")

    @app.get("/cds-services", response_model=Discovery)
    async def _discovery() -> dict[str, Any]:
        return discovery()

    @app.post("/cds-services/{service_id}", response_model=CdsResponse, responses=_REFUSALS)
    async def _call(service_id: str, request: CdsRequest) -> Any:
        service = SERVICES.get(service_id)
        if service is None:
            return _unknown_service(service_id)
        raw = request.model_dump(exclude_none=True)
        raw["prefetch"] = request.prefetch  # null values matter: "nothing to send"
        try:
            data, fetched = await resolve_prefetch(service, raw, timeout=fetch_timeout)
            today = dt.datetime.now(dt.UTC).date()
            # A JSONResponse skips FastAPI's re-validation of the cards against the
            # response model: they are built by our own code, and it halves the time.
            return JSONResponse(answer(service, raw, data, today=today, fetched=fetched))
        except ServiceRequestError as exc:
            return _error(exc.status, exc.error, " ".join(str(exc).split()))

    @app.post(
        "/cds-services/{service_id}/feedback",
        responses={k: v for k, v in _REFUSALS.items() if k != 412},
    )
    async def _feedback(service_id: str, feedback: Feedback) -> dict[str, Any]:
        if service_id not in SERVICES:
            return _unknown_service(service_id)  # type: ignore[return-value]
        for item in feedback.feedback:
            _log.info("feedback %s: card %s %s", service_id, item.card, item.outcome)
        return {}

    return app
