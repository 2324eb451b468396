"""The FastAPI application of the CDS Hooks service (built by :func:`create_app`).

Endpoints: ``GET /cds-services`` (discovery), ``POST /cds-services/{id}`` (a
hook call) and ``POST /cds-services/{id}/feedback``. A malformed request gets
400, a request without a trusted bearer JWT 401 (when trusted issuers are
configured, :mod:`cluneal.service.auth`), a request whose data can be neither
sent nor fetched 412, an unknown service 404, a body over the size limit 413;
every refusal is JSON ``{"error", "message", "safetyStatement"}``, never a
traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from typing import TYPE_CHECKING, Any, Final

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from cluneal.errors import ClunealError
from cluneal.plan import SAFETY_STATEMENT
from cluneal.service._errors import ServiceRequestError
from cluneal.service.auth import AuthenticationError, TokenVerifier
from cluneal.service.discovery import SERVICES, discovery
from cluneal.service.fetch import resolve_prefetch
from cluneal.service.hooks import answer
from cluneal.service.models import CdsRequest, CdsResponse, Discovery, ErrorBody, Feedback

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONFIG_ENV", "MAX_BODY_BYTES", "app_from_environment", "create_app"]

MAX_BODY_BYTES: Final = 10_000_000
"""The largest request body the service reads (bytes); larger gets HTTP 413."""

CONFIG_ENV: Final = "CLUNEAL_SERVICE_CONFIG"
"""The environment variable :func:`app_from_environment` reads (JSON of create_app's options)."""

_log = logging.getLogger("cluneal.service")
_REFUSALS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ErrorBody, "description": "Malformed request"},
    401: {"model": ErrorBody, "description": "No trusted bearer JWT (when issuers are configured)"},
    404: {"model": ErrorBody, "description": "No such service"},
    412: {"model": ErrorBody, "description": "Data neither sent nor fetchable"},
    413: {"model": ErrorBody, "description": "Request body too large"},
}


def _error(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": error, "message": message, "safetyStatement": SAFETY_STATEMENT}
    return JSONResponse(body, status_code=status, headers=headers)


class _Authenticate:
    """Refuse ``/cds-services`` requests without a trusted bearer JWT (401), before the body."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, public_url: str | None) -> None:
        self.app = app
        self.verifier = verifier
        self.public_url = public_url

    def _audiences(self, scope: Scope) -> list[str]:
        path = scope.get("root_path", "") + scope["path"]
        if self.public_url is not None:
            base = self.public_url
        else:
            host = Headers(scope=scope).get("host") or "{}:{}".format(*scope["server"])
            base = f"{scope['scheme']}://{host}"
        called = base + path
        # Feedback belongs to its service: either URL names the endpoint called.
        return (
            [called, called.removesuffix("/feedback")] if path.endswith("/feedback") else [called]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or not scope["path"].startswith("/cds-services")
        ):
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        try:
            claims = await self.verifier.verify(authorization, self._audiences(scope))
        except Exception as exc:  # whatever fails in the check, the request is refused: 401
            if not isinstance(exc, AuthenticationError):
                _log.warning("bearer token check failed unexpectedly", exc_info=exc)
                exc = AuthenticationError("the bearer token could not be verified")
            challenge = 'Bearer error="invalid_token"' if authorization else "Bearer"
            response = _error(401, exc.error, str(exc), {"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            return
        _log.debug("CDS client %s (sub %s)", claims.get("iss"), claims.get("sub"))
        await self.app(scope, receive, send)


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


def create_app(
    *,
    cors_origins: Sequence[str] | None = None,
    fetch_timeout: float = 5.0,
    trusted_issuers: Mapping[str, str] | None = None,
    public_url: str | None = None,
) -> FastAPI:
    """Build the ASGI app of the CDS Hooks service.

    Args:
        cors_origins: Origins a browser may call from; ``None`` allows any
            origin (EHR sandboxes run in browsers). Headers ``authorization``
            and ``content-type`` are always allowed.
        fetch_timeout: Seconds for each connection to and read from
            ``fhirServer`` and from a JWK Set URL.
        trusted_issuers: The EHRs the service trusts: issuer (the JWT's
            ``iss``) → its JWK Set (an https URL, or a local file path). With
            them, every ``/cds-services`` request needs a bearer JWT they signed
            (:mod:`cluneal.service.auth`), or gets 401. ``None`` or empty: no
            request is authenticated, for a local sandbox on 127.0.0.1 only (a
            warning is logged).
        public_url: The service's base URL as EHRs call it
            (``https://cds.example.org``), which a JWT's ``aud`` names; ``None``:
            the URL of each request as received (scheme and Host header).

    Returns:
        The FastAPI app (serve it with uvicorn, or ``cluneal serve``).

    Raises:
        ClunealError: A trusted issuer, JWK Set or ``public_url`` cannot be used.
    """
    from cluneal import __version__

    verifier = TokenVerifier(trusted_issuers, timeout=fetch_timeout) if trusted_issuers else None
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        msg = f"public_url: got {public_url!r:.100}; expected the service's base URL"
        raise ClunealError(msg)
    if verifier is not None and public_url is None:
        _log.warning(
            "trusted issuers without public_url: a JWT's aud is checked against the URL each "
            "request names in its Host header; set public_url to the URL EHRs call"
        )
    if verifier is None:
        _log.warning(
            "no trusted issuers: CDS Hooks requests are NOT authenticated "
            "(for a local sandbox on 127.0.0.1 only)"
        )

    app = FastAPI(
        title="cluneal CDS Hooks service",
        description=f"CDS Hooks 2.0 services for cluneal neuralgia care. {SAFETY_STATEMENT}",
        version=__version__,
    )
    # The last added runs first: CORS (so that refusals carry its headers), then
    # the token check (before the body is read), then the body limit.
    app.add_middleware(_BodyLimit)
    if verifier is not None:
        base = None if public_url is None else public_url.rstrip("/")
        app.add_middleware(_Authenticate, verifier=verifier, public_url=base)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors_origins) if cors_origins else ["*"],
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["authorization", "content-type"],
    )

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
            # A direct response skips FastAPI's re-validation of the cards against the
            # response model (they are built by our own code, and it halves the time);
            # orjson writes the same JSON about twenty times faster than the json module.
            cards = answer(service, raw, data, today=today, fetched=fetched)
            try:
                return Response(orjson.dumps(cards), media_type="application/json")
            except TypeError:  # an integer past 64 bits, echoed from a draft order
                return JSONResponse(cards)
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


def app_from_environment() -> FastAPI:
    """Build the app from :data:`CONFIG_ENV` (how ``cluneal serve --workers`` starts each worker).

    Returns:
        :func:`create_app` of the options in the variable (none when it is unset).

    Raises:
        ClunealError: The variable is not a JSON object of create_app's options.
    """
    raw = os.environ.get(CONFIG_ENV, "{}")
    try:
        options = json.loads(raw)
        return create_app(**options)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ClunealError):
            raise
        msg = f"{CONFIG_ENV}: expected a JSON object of create_app's options ({exc})"
        raise ClunealError(msg) from None
