"""Resolve a request's prefetch: what the EHR sent, and the rest fetched from ``fhirServer``.

CDS Hooks 2.0: a key the EHR did not send is fetched from the request's
``fhirServer`` with its bearer token (``fhirAuthorization.access_token``); a
key sent as ``null`` means the EHR has nothing for it. When a key can be
neither sent nor fetched the service answers 412. Fetching uses httpx with
timeouts, a size cap per response and a bounded number of search pages; plain
http is accepted only for 127.0.0.1, ::1 and localhost (test EHRs).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urljoin, urlsplit

from cluneal.errors import MissingExtraError
from cluneal.service._body import read_capped
from cluneal.service._errors import BadRequestError, DataUnavailableError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from cluneal.service.discovery import Service

__all__ = ["MAX_BYTES", "MAX_PAGES", "resolve_prefetch"]

MAX_BYTES: Final = 5_000_000
"""The largest FHIR response read from a server (bytes)."""
MAX_PAGES: Final = 5
"""The most search pages followed per prefetch key."""
_LOCAL: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_TOKEN: Final = re.compile(r"\{\{context\.([A-Za-z]+)\}\}")
_FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def _render(template: str, context: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        if not isinstance(found, str) or not _FHIR_ID.fullmatch(found):
            msg = f"prefetch template needs context.{match.group(1)} as a FHIR id"
            raise DataUnavailableError(msg)
        return quote(found, safe="")

    return _TOKEN.sub(value, template)


def _server(request: Mapping[str, Any]) -> str:
    server = request.get("fhirServer")
    if not isinstance(server, str) or not server:
        msg = "no fhirServer to fetch it from"
        raise DataUnavailableError(msg)
    parts = urlsplit(server)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"https", "http"} or not host:
        msg = f"fhirServer: got {server!r:.100}; expected an https URL"
        raise BadRequestError(msg)
    if parts.scheme == "http" and host not in _LOCAL:
        msg = (
            f"fhirServer: plain http is accepted only for 127.0.0.1 and localhost; "
            f"got {server!r:.100}"
        )
        raise BadRequestError(msg)
    return server.rstrip("/") + "/"


def _token(request: Mapping[str, Any]) -> str | None:
    auth = request.get("fhirAuthorization")
    if auth is None:
        return None
    token = auth.get("access_token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token or "\n" in token:
        msg = "fhirAuthorization.access_token: a token string is required"
        raise BadRequestError(msg)
    return token


async def _get_json(client: httpx.AsyncClient, url: str, key: str) -> Any:
    import httpx

    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                msg = f"prefetch.{key}: the FHIR server answered HTTP {response.status_code}"
                raise DataUnavailableError(msg)
            body = await read_capped(response, MAX_BYTES)
            if body is None:
                msg = f"prefetch.{key}: the FHIR server's answer exceeds {MAX_BYTES} bytes"
                raise DataUnavailableError(msg)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        msg = f"prefetch.{key}: the FHIR server could not be reached ({type(exc).__name__})"
        raise DataUnavailableError(msg) from None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        msg = f"prefetch.{key}: the FHIR server's answer is not JSON"
        raise DataUnavailableError(msg) from None


def _next_page(bundle: object, base: str) -> str | None:
    if not isinstance(bundle, dict) or not isinstance(bundle.get("link"), list):
        return None
    for link in bundle["link"]:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            # Only pages on the same server: a link elsewhere is not followed.
            if isinstance(url, str) and urljoin(base, url).startswith(base):
                return urljoin(base, url)
    return None


async def _fetch(client: httpx.AsyncClient, base: str, key: str, query: str) -> Any:
    first = await _get_json(client, urljoin(base, query), key)
    pages = [first]
    url = _next_page(first, base)
    while url is not None and len(pages) < MAX_PAGES:
        page = await _get_json(client, url, key)
        pages.append(page)
        url = _next_page(page, base)
    if len(pages) == 1:
        return first
    entries = [e for p in pages if isinstance(p, dict) for e in p.get("entry", []) or []]
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


async def resolve_prefetch(
    service: Service, request: Mapping[str, Any], *, timeout: float = 5.0
) -> tuple[dict[str, object], bool]:
    """Return the data of every prefetch key of a service, and whether any was fetched.

    Args:
        service: The service called.
        request: The request (its ``context`` checked).
        timeout: Seconds for each connection and read.

    Returns:
        Key → FHIR JSON (``None`` where the EHR sent null), and ``True`` when
        something was fetched from the FHIR server.

    Raises:
        DataUnavailableError: A key is missing and cannot be fetched (HTTP 412).
        BadRequestError: The prefetch, fhirServer or fhirAuthorization is malformed.
        MissingExtraError: httpx is not installed.
    """
    sent = request.get("prefetch") or {}
    if not isinstance(sent, dict):
        msg = "prefetch: a JSON object is expected"
        raise BadRequestError(msg)
    data: dict[str, object] = {k: sent[k] for k in service.prefetch if k in sent}
    missing = [k for k in service.prefetch if k not in sent]
    if not missing:
        return data, False
    try:
        base = _server(request)
    except DataUnavailableError:
        msg = f"prefetch {', '.join(missing)} not sent and no fhirServer to fetch it from"
        raise DataUnavailableError(msg) from None
    token = _token(request)
    context = request.get("context") or {}
    queries = {k: _render(service.prefetch[k], context) for k in missing}
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - the service extra installs httpx
        raise MissingExtraError("service", "fetching from fhirServer") from exc
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    limits = httpx.Timeout(timeout, connect=min(timeout, 2.0))
    async with httpx.AsyncClient(headers=headers, timeout=limits, follow_redirects=False) as client:
        results = await asyncio.gather(
            *(_fetch(client, base, k, q) for k, q in queries.items()), return_exceptions=True
        )
    for key, result in zip(queries, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        data[key] = result
    return data, True
