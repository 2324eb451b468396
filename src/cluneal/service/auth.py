"""Trusting CDS clients: the EHR's signed JWT, checked against the issuers the service trusts.

CDS Hooks 2.0 ("Trusting CDS Clients"): each request carries
``Authorization: Bearer <JWT>``, signed with the EHR's private key. The header
names the key (``kid``, required) and may name its JWK Set (``jku``); the
payload carries ``iss``, ``aud`` (the URL of the endpoint called), ``exp``,
``iat`` and ``jti``. :class:`TokenVerifier` accepts a token only when:

* ``iss`` is a configured trusted issuer, whose JWK Set is a local file or a
  URL configured with it; a ``jku`` header must be that URL (the service never
  fetches a URL a token names);
* the signature verifies with the issuer's key ``kid``, under an asymmetric
  algorithm (ES/RS/PS 256-512; never ``none`` or HMAC, as the specification
  requires);
* ``aud`` is the URL of the endpoint called, ``exp`` is not past and ``iat`` is
  not in the future (both with a minute of clock skew), and ``jti`` has not
  been seen before from that issuer while unexpired (replay), in this process.

Everything else is refused with :class:`AuthenticationError` (HTTP 401) naming
what is wrong. PyJWT (``cluneal[service]``) checks the signatures; JWK Sets
are fetched with httpx, with timeouts and a size cap, at most every
:data:`JWKS_REFRESH_SECONDS` and cached for :data:`JWKS_CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import jwt

from cluneal.errors import ClunealError
from cluneal.service._body import read_capped
from cluneal.service._errors import ServiceRequestError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "ALGORITHMS",
    "JWKS_CACHE_SECONDS",
    "JWKS_REFRESH_SECONDS",
    "LEEWAY_SECONDS",
    "AuthenticationError",
    "TokenVerifier",
]

ALGORITHMS: Final = (
    "ES256",
    "ES384",
    "ES512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
)
"""Accepted signature algorithms: asymmetric only (CDS Hooks forbids ``none`` and HMAC)."""
LEEWAY_SECONDS: Final = 60
"""Clock skew allowed on ``exp`` and ``iat``."""
JWKS_CACHE_SECONDS: Final = 300
"""How long a fetched JWK Set is used before it is fetched again."""
JWKS_REFRESH_SECONDS: Final = 30
"""The least time between two fetches of one JWK Set (an unknown ``kid`` refetches)."""
_MAX_TOKEN_CHARS: Final = 16_384
_MAX_JWKS_BYTES: Final = 1_000_000
_MAX_SEEN: Final = 100_000
_REQUIRED: Final = ["iss", "aud", "exp", "iat", "jti"]
_LOCAL: Final = frozenset({"127.0.0.1", "::1", "localhost"})


class AuthenticationError(ServiceRequestError):
    """The request's bearer JWT is missing or not trusted (HTTP 401)."""

    status = 401
    error = "unauthorized"


@dataclass(frozen=True)
class _Key:
    jwk: jwt.PyJWK
    alg: str | None  # the JWK's own "alg", when it states one


@dataclass
class _Issuer:
    url: str | None  # the JWK Set URL, or None for a local file
    keys: dict[str, _Key] = field(default_factory=dict)
    fetched: float = float("-inf")  # time.monotonic() of the last fetch
    failure: str | None = None  # why the last fetch failed, until one succeeds
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _jwks_keys(document: object, where: str) -> dict[str, _Key]:
    """The signing keys of a JWK Set, by ``kid``; symmetric keys are refused."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        msg = f"{where}: not a JWK Set (a JSON object with a 'keys' list)"
        raise ClunealError(msg)
    found: dict[str, _Key] = {}
    for entry in keys:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue  # a key without a kid cannot be chosen by a token's header
        if entry.get("kty") not in {"RSA", "EC"} or entry.get("use", "sig") != "sig":
            continue  # a symmetric (oct) or encryption key never verifies a CDS client
        try:
            alg = entry.get("alg")
            found[entry["kid"]] = _Key(jwt.PyJWK(entry), alg if isinstance(alg, str) else None)
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            msg = f"{where}: key {entry['kid']!r:.40} is not a usable public key ({exc})"
            raise ClunealError(msg) from None
    return found


def _read_file(path: str) -> dict[str, _Key]:
    file = pathlib.Path(path)
    try:
        size = file.stat().st_size
        if size > _MAX_JWKS_BYTES:
            msg = f"JWK Set file {path}: {size} bytes; at most {_MAX_JWKS_BYTES}"
            raise ClunealError(msg)
        document = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"JWK Set file {path}: cannot be read ({exc.strerror or type(exc).__name__})"
        raise ClunealError(msg) from None
    except (ValueError, UnicodeDecodeError):
        msg = f"JWK Set file {path}: not JSON"
        raise ClunealError(msg) from None
    return _jwks_keys(document, f"JWK Set file {path}")


def _issuer(issuer: object, source: object) -> _Issuer:
    if not isinstance(issuer, str) or not issuer.strip():
        msg = f"trusted issuer: got {issuer!r:.80}; expected the issuer's URI (the JWT's iss)"
        raise ClunealError(msg)
    if not isinstance(source, str) or not source.strip():
        msg = f"trusted issuer {issuer!r:.80}: expected a JWK Set URL or file path"
        raise ClunealError(msg)
    parts = urlsplit(source)
    if parts.scheme in {"http", "https"}:
        if parts.scheme == "http" and (parts.hostname or "").lower() not in _LOCAL:
            msg = (
                f"trusted issuer {issuer!r:.80}: JWK Set URL {source!r:.100} must be https "
                "(plain http only on 127.0.0.1 or localhost)"
            )
            raise ClunealError(msg)
        return _Issuer(url=source)
    return _Issuer(url=None, keys=_read_file(source))


def _message(exc: jwt.PyJWTError, audiences: Iterable[str]) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired (exp)"
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"aud must be the URL of the endpoint called: {' or '.join(audiences)}"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet (iat or nbf in the future)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the claim {exc.claim!r} is required (iss, aud, exp, iat, jti)"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the signature does not verify with the issuer's key"
    return f"the token cannot be verified ({type(exc).__name__})"


class TokenVerifier:
    """Verifies CDS clients' bearer JWTs against trusted issuers (see the module docs).

    Args:
        trusted_issuers: Issuer (the JWT's ``iss``) → its JWK Set: an https URL
            (plain http only on 127.0.0.1 or localhost) or a path to a local
            JWK Set file, read now.
        timeout: Seconds for each connection to and read from a JWK Set URL.

    Raises:
        ClunealError: No issuer, or an issuer or JWK Set that cannot be used.

    Example:
        >>> import asyncio, json, pathlib, tempfile
        >>> jwks = pathlib.Path(tempfile.mkdtemp()) / "jwks.json"
        >>> _ = jwks.write_text(json.dumps({"keys": []}))
        >>> verifier = TokenVerifier({"https://ehr.example.org": str(jwks)})
        >>> asyncio.run(verifier.verify(None, ["https://cds.example.org/cds-services"]))
        Traceback (most recent call last):
        ...
        cluneal.service.auth.AuthenticationError: Authorization: a Bearer JWT is required ...
    """

    def __init__(self, trusted_issuers: Mapping[str, str], *, timeout: float = 5.0) -> None:
        if not trusted_issuers:
            msg = "trusted_issuers: at least one issuer is needed (or none at all: no checks)"
            raise ClunealError(msg)
        self._issuers = {iss: _issuer(iss, src) for iss, src in trusted_issuers.items()}
        self._timeout = timeout
        self._seen: dict[tuple[str, str], float] = {}

    @property
    def issuers(self) -> tuple[str, ...]:
        """The trusted issuers."""
        return tuple(self._issuers)

    async def verify(self, authorization: str | None, audiences: Iterable[str]) -> dict[str, Any]:
        """Check a request's ``Authorization`` header; return the token's claims.

        Args:
            authorization: The header's value, or ``None`` when absent.
            audiences: The URLs of the endpoint called that ``aud`` may name.

        Returns:
            The verified claims.

        Raises:
            AuthenticationError: No bearer JWT, or one the service does not trust.
        """
        accepted = list(audiences)
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            msg = "Authorization: a Bearer JWT is required (CDS Hooks 2.0, Trusting CDS Clients)"
            raise AuthenticationError(msg)
        if len(token) > _MAX_TOKEN_CHARS:
            msg = f"the bearer token is longer than {_MAX_TOKEN_CHARS} characters"
            raise AuthenticationError(msg)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            msg = "the bearer token is not a well-formed JWT"
            raise AuthenticationError(msg) from None
        alg, kid, issuer = header.get("alg"), header.get("kid"), unverified.get("iss")
        if alg not in ALGORITHMS:
            msg = (
                f"alg {alg!r:.20} is not accepted: an asymmetric signature is required "
                "(ES384 or RS384 recommended)"
            )
            raise AuthenticationError(msg)
        if not isinstance(kid, str) or not kid:
            msg = "the JWT header needs kid, the id of the signing key"
            raise AuthenticationError(msg)
        if "typ" in header and str(header["typ"]).upper() != "JWT":
            msg = f"typ {header['typ']!r:.20}: expected 'JWT'"
            raise AuthenticationError(msg)
        trusted = self._issuers.get(issuer) if isinstance(issuer, str) else None
        if trusted is None or not isinstance(issuer, str):
            msg = f"issuer {issuer!r:.100} is not trusted by this service"
            raise AuthenticationError(msg)
        jku = header.get("jku")
        if jku is not None and jku != trusted.url:
            msg = f"jku {jku!r:.100} is not the JWK Set URL configured for {issuer!r:.100}"
            raise AuthenticationError(msg)
        key = await self._key(trusted, issuer, kid)
        if key.alg is not None and key.alg != alg:
            msg = f"key {kid!r:.40} is for {key.alg}, not {alg}"
            raise AuthenticationError(msg)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.jwk.key,
                algorithms=[alg],
                audience=accepted,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": _REQUIRED, "strict_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(_message(exc, accepted)) from None
        except (TypeError, ValueError):  # a key of the wrong type for alg
            msg = f"key {kid!r:.40} cannot verify an {alg} signature"
            raise AuthenticationError(msg) from None
        self._remember(issuer, claims)
        return claims

    def _remember(self, issuer: str, claims: Mapping[str, Any]) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            msg = "jti must be a non-empty string (it protects against replay)"
            raise AuthenticationError(msg)
        now = time.time()
        if self._seen.get((issuer, jti), float("-inf")) + LEEWAY_SECONDS >= now:
            msg = f"jti {jti!r:.80} was already used: a replayed token is refused"
            raise AuthenticationError(msg)
        if len(self._seen) >= _MAX_SEEN:
            # Forget the tokens that have expired; past the bound, the soonest to expire.
            for stale in [k for k, exp in self._seen.items() if exp + LEEWAY_SECONDS < now]:
                del self._seen[stale]
            while len(self._seen) >= _MAX_SEEN:
                del self._seen[min(self._seen, key=self._seen.__getitem__)]
        self._seen[issuer, jti] = float(claims["exp"])

    async def _key(self, trusted: _Issuer, issuer: str, kid: str) -> _Key:
        if trusted.url is not None:
            fresh = time.monotonic() - trusted.fetched
            if fresh > JWKS_CACHE_SECONDS or (
                kid not in trusted.keys and fresh > JWKS_REFRESH_SECONDS
            ):
                async with trusted.lock:
                    if time.monotonic() - trusted.fetched > JWKS_REFRESH_SECONDS:
                        await self._fetch(trusted, issuer)
        key = trusted.keys.get(kid)
        if key is None and trusted.failure is not None:
            raise AuthenticationError(trusted.failure)
        if key is None:
            msg = f"no key {kid!r:.40} in the JWK Set of {issuer!r:.100}"
            raise AuthenticationError(msg)
        return key

    async def _fetch(self, trusted: _Issuer, issuer: str) -> None:
        import httpx

        name = f"the JWK Set of {issuer!r:.100}"
        trusted.fetched = time.monotonic()  # a failed fetch also waits before the next
        try:
            body = await _download(str(trusted.url), name, self._timeout)
            trusted.keys = _jwks_keys(json.loads(body), name)
        except AuthenticationError as exc:
            trusted.failure = str(exc)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            trusted.failure = f"{name} could not be fetched ({type(exc).__name__})"
        except (ValueError, UnicodeDecodeError, ClunealError) as exc:
            trusted.failure = str(exc) if isinstance(exc, ClunealError) else f"{name} is not JSON"
        else:
            trusted.failure = None
            return
        raise AuthenticationError(trusted.failure)


async def _download(url: str, name: str, timeout: float) -> bytes:
    import httpx

    limits = httpx.Timeout(timeout, connect=min(timeout, 2.0))
    async with (
        httpx.AsyncClient(timeout=limits, follow_redirects=False) as client,
        client.stream("GET", url, headers={"Accept": "application/json"}) as response,
    ):
        if response.status_code != 200:
            msg = f"{name} answered HTTP {response.status_code}"
            raise AuthenticationError(msg)
        body = await read_capped(response, _MAX_JWKS_BYTES)
    if body is None:
        msg = f"{name} exceeds {_MAX_JWKS_BYTES} bytes"
        raise AuthenticationError(msg)
    return body
