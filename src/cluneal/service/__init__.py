"""The cluneal CDS Hooks 2.0 service (extra ``cluneal[service]``: FastAPI, uvicorn, httpx).

``cluneal serve`` runs it; :func:`create_app` returns the ASGI app to serve
yourself. Discovery at ``GET /cds-services`` declares ``cluneal-patient-view``
(hook ``patient-view``), ``cluneal-order-select`` (``order-select``) and
``cluneal-order-sign`` (``order-sign``), each with standard FHIR prefetch
templates. The cards are built by pure functions (:mod:`cluneal.service.hooks`,
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
    from collections.abc import Sequence

    from fastapi import FastAPI

__all__ = ["create_app"]


def create_app(*, cors_origins: Sequence[str] | None = None, fetch_timeout: float = 5.0) -> FastAPI:
    """Build the ASGI app of the CDS Hooks service (see :func:`cluneal.service.app.create_app`).

    Args:
        cors_origins: Origins a browser may call from; ``None`` allows any.
        fetch_timeout: Seconds for each connection to and read from ``fhirServer``.

    Returns:
        The FastAPI app.

    Raises:
        MissingExtraError: FastAPI is not installed (``pip install "cluneal[service]"``).
    """
    try:
        from cluneal.service import app
    except ImportError as exc:
        raise MissingExtraError("service", "the CDS Hooks service") from exc
    return app.create_app(cors_origins=cors_origins, fetch_timeout=fetch_timeout)
