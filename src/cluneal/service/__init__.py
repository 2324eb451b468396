"""The cluneal CDS Hooks 2.0 service (extra ``cluneal[service]``: FastAPI, uvicorn, httpx).

``cluneal serve`` runs it; :func:`create_app` returns the ASGI app to serve
yourself. Discovery at ``GET /cds-services`` declares ``cluneal-patient-view``
(hook ``patient-view``), ``cluneal-order-select`` (``order-select``) and
``cluneal-order-sign`` (``order-sign``), each with standard FHIR prefetch
templates. With trusted issuers configured, every request needs the EHR's
signed bearer JWT (:mod:`cluneal.service.auth`, CDS Hooks "Trusting CDS
Clients"); without, nothing is authenticated, which suits a local sandbox on
127.0.0.1 only. The cards are built by pure functions (:mod:`cluneal.service.hooks`,
:mod:`cluneal.service.cards`); only :mod:`cluneal.service.app` needs FastAPI.
cluneal supports clinical decisions; it does not make them.

Example:
    >>> from cluneal.service import create_app
    >>> app = create_app()
    >>> sorted(r.path for r in app.routes if r.path.startswith("/cds"))
    ['/cds-services', '/cds-services/{service_id}', '/cds-services/{service_id}/feedback']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluneal.errors import MissingExtraError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from fastapi import FastAPI

__all__ = ["create_app"]


def create_app(
    *,
    cors_origins: Sequence[str] | None = None,
    fetch_timeout: float = 5.0,
    trusted_issuers: Mapping[str, str] | None = None,
    public_url: str | None = None,
) -> FastAPI:
    """Build the ASGI app of the CDS Hooks service (see :func:`cluneal.service.app.create_app`).

    Args:
        cors_origins: Origins a browser may call from; ``None`` allows any.
        fetch_timeout: Seconds for each connection to and read from
            ``fhirServer`` and from a JWK Set URL.
        trusted_issuers: Issuer (a JWT's ``iss``) → its JWK Set (https URL or
            local file). With them, each request needs a bearer JWT one of them
            signed, or gets 401; ``None``: no authentication (local sandboxes only).
        public_url: The base URL EHRs call, which a JWT's ``aud`` names
            (``None``: each request's own URL).

    Returns:
        The FastAPI app.

    Raises:
        MissingExtraError: FastAPI or PyJWT is not installed (``pip install "cluneal[service]"``).
        ClunealError: A trusted issuer, JWK Set or ``public_url`` cannot be used.
    """
    try:
        from cluneal.service import app
    except ImportError as exc:
        raise MissingExtraError("service", "the CDS Hooks service") from exc
    return app.create_app(
        cors_origins=cors_origins,
        fetch_timeout=fetch_timeout,
        trusted_issuers=trusted_issuers,
        public_url=public_url,
    )
