"""Trusting CDS clients (CDS Hooks 2.0): the EHR's bearer JWT, verified against trusted issuers.

Real parts only: RSA and EC key pairs generated here, the issuer's JWK Set served by a
small HTTP server on 127.0.0.1 (or read from a file), tokens signed with PyJWT, and the
service running under uvicorn. The specification's rules tested: ``iss`` trusted, ``aud``
the URL of the endpoint called, ``exp``/``iat``, a ``jti`` never replayed, ``kid`` naming
the key, ``jku`` only the configured JWK Set, no ``none`` or HMAC signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cluneal.errors import ClunealError
from cluneal.plan import SAFETY_STATEMENT
from cluneal.service import create_app
from tests.fhir_records import patient_view
from tests.servers import running

if TYPE_CHECKING:
    import pathlib
    from collections.abc import Iterator

ISSUER = "https://ehr.example.org"
PV = "/cds-services/cluneal-patient-view"


class Keys:
    """An EHR's signing keys: one EC P-384 (ES384) and one RSA 2048 (RS384) key pair."""

    def __init__(self) -> None:
        self.ec = ec.generate_private_key(ec.SECP384R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key()))
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key()))
        return {
            "keys": [
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES384"},
                {**rsa_jwk, "kid": "rsa-1", "use": "sig"},
            ]
        }


class JwksServer:
    """Serves one JSON document at any path; counts the requests."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks_server(keys: Keys) -> Iterator[JwksServer]:
    server = JwksServer(keys.jwks())
    yield server
    server.close()


@pytest.fixture(scope="module")
def live(jwks_server: JwksServer) -> Iterator[str]:
    with running(create_app(trusted_issuers={ISSUER: jwks_server.url})) as url:
        yield url


def token(
    keys: Keys,
    aud: str | list[str],
    *,
    alg: str = "ES384",
    kid: str = "ec-1",
    headers: dict[str, Any] | None = None,
    omit: str | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "sub": "ehr-client",
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    payload.pop(omit or "", None)
    key = keys.ec if alg.startswith("ES") else keys.rsa
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, **(headers or {})})


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def call(base: str, bearer: str | None, path: str = PV) -> httpx.Response:
    headers = {"authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return httpx.post(f"{base}{path}", json=patient_view(), headers=headers, timeout=30)


def refused(response: httpx.Response, words: str) -> None:
    """A 401 with the JSON body every refusal has, naming what is wrong."""
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "unauthorized"
    assert words in body["message"], body["message"]
    assert body["safetyStatement"] == SAFETY_STATEMENT
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "kid"), [("ES384", "ec-1"), ("RS384", "rsa-1"), ("RS256", "rsa-1")]
)
def test_a_token_signed_by_a_trusted_issuer_gets_cards(
    live: str, keys: Keys, alg: str, kid: str
) -> None:
    response = call(live, token(keys, f"{live}{PV}", alg=alg, kid=kid))
    assert response.status_code == 200, response.text
    assert response.json()["cards"]


def test_aud_as_a_list_and_the_configured_jku_are_accepted(
    live: str, keys: Keys, jwks_server: JwksServer
) -> None:
    jku = {"jku": jwks_server.url}
    response = call(live, token(keys, [f"{live}{PV}"], headers=jku))
    assert response.status_code == 200, response.text


def test_discovery_and_feedback_need_their_own_audience(live: str, keys: Keys) -> None:
    """aud is the URL of the endpoint called: discovery's, or the service's for feedback."""
    auth = {"authorization": f"Bearer {token(keys, f'{live}/cds-services')}"}
    assert httpx.get(f"{live}/cds-services", headers=auth, timeout=30).status_code == 200
    refused(httpx.get(f"{live}/cds-services", timeout=30), "Bearer JWT is required")
    feedback = {
        "feedback": [
            {"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-12-01"}
        ]
    }
    for aud in (f"{live}{PV}", f"{live}{PV}/feedback"):
        auth = {"authorization": f"Bearer {token(keys, aud)}"}
        answered = httpx.post(f"{live}{PV}/feedback", json=feedback, headers=auth, timeout=30)
        assert answered.status_code == 200, answered.text
    other = token(keys, f"{live}/cds-services/cluneal-order-select")
    refused(call(live, other, f"{PV}/feedback"), "aud must be")


def test_cors_preflight_and_openapi_need_no_token(live: str) -> None:
    preflight = httpx.options(
        f"{live}{PV}",
        headers={
            "origin": "https://sandbox.example.org",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
        timeout=30,
    )
    assert preflight.status_code == 200
    assert httpx.get(f"{live}/openapi.json", timeout=30).status_code == 200


def test_a_refusal_carries_cors_headers(live: str) -> None:
    """A browser-based EHR can read why it was refused."""
    response = httpx.post(
        f"{live}{PV}", json={}, headers={"origin": "https://sandbox.example.org"}, timeout=30
    )
    refused(response, "Bearer JWT is required")
    assert response.headers["access-control-allow-origin"] == "*"


# --- refused --------------------------------------------------------------------------


def test_no_token_and_not_a_bearer(live: str, keys: Keys) -> None:
    refused(call(live, None), "Bearer JWT is required")
    basic = httpx.post(
        f"{live}{PV}", json=patient_view(), headers={"authorization": "Basic dXNlcjpwdw=="}
    )
    refused(basic, "Bearer JWT is required")
    refused(call(live, "not-a-jwt"), "not a well-formed JWT")
    refused(call(live, "x" * 20_000), "longer than")


def test_expired(live: str, keys: Keys) -> None:
    now = int(time.time())
    stale = token(keys, f"{live}{PV}", iat=now - 900, exp=now - 600)
    refused(call(live, stale), "expired")


def test_issued_in_the_future(live: str, keys: Keys) -> None:
    now = int(time.time())
    early = token(keys, f"{live}{PV}", iat=now + 3600, exp=now + 3900)
    refused(call(live, early), "not valid yet")


def test_wrong_audience(live: str, keys: Keys) -> None:
    """A token for another service, or another server, is not a token for this endpoint."""
    refused(call(live, token(keys, f"{live}/cds-services/cluneal-order-select")), "aud must be")
    refused(call(live, token(keys, "https://other.example.org/cds-services/x")), "aud must be")


def test_wrong_issuer(live: str, keys: Keys) -> None:
    refused(call(live, token(keys, f"{live}{PV}", iss="https://evil.example.org")), "not trusted")


def test_bad_signature(live: str, keys: Keys) -> None:
    """Signed by a key the issuer never published, under the issuer's kid."""
    forger = Keys()
    refused(call(live, token(forger, f"{live}{PV}")), "signature does not verify")


def test_tampered_payload(live: str, keys: Keys) -> None:
    head, _, signature = token(keys, f"{live}{PV}").split(".")
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": f"{live}{PV}", "iat": now, "exp": now + 300, "jti": "j"}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused(call(live, f"{head}.{body}.{signature}"), "signature does not verify")


def test_replayed_jti(live: str, keys: Keys) -> None:
    once = token(keys, f"{live}{PV}")
    assert call(live, once).status_code == 200
    refused(call(live, once), "already used")


@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "aud"])
def test_required_claims(live: str, keys: Keys, claim: str) -> None:
    refused(call(live, token(keys, f"{live}{PV}", omit=claim)), "required")


def test_unknown_kid_and_kid_missing(live: str, keys: Keys, jwks_server: JwksServer) -> None:
    refused(call(live, token(keys, f"{live}{PV}", kid="nope")), "no key 'nope'")
    unnamed = jwt.encode(
        {"iss": ISSUER, "aud": f"{live}{PV}", "exp": time.time() + 60, "iat": time.time()},
        keys.ec,
        algorithm="ES384",
    )
    refused(call(live, unnamed), "kid")


def test_a_key_is_used_only_for_its_algorithm(live: str, keys: Keys) -> None:
    """ec-1 is published for ES384: an RS384 header naming it is refused."""
    refused(call(live, token(keys, f"{live}{PV}", alg="RS384", kid="ec-1")), "is for ES384")


def test_hmac_and_none_are_refused(live: str, keys: Keys) -> None:
    """CDS Hooks: never 'none', never a symmetric algorithm (a shared secret)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": f"{live}{PV}", "iat": now, "exp": now + 300, "jti": "h"}
    # HMAC keyed with the issuer's public JWK: the classic algorithm-confusion attack.
    secret = json.dumps(keys.jwks()["keys"][1]).encode()
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'rsa-1'})}.{b64(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    refused(call(live, forged), "asymmetric signature is required")
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'ec-1'})}.{b64(claims)}."
    refused(call(live, unsigned), "asymmetric signature is required")


def test_jku_other_than_the_configured_jwks_is_refused(live: str, keys: Keys) -> None:
    """The service never fetches a URL a token names."""
    elsewhere = {"jku": "https://evil.example.org/jwks.json"}
    refused(call(live, token(keys, f"{live}{PV}", headers=elsewhere)), "jku")


def test_typ_other_than_jwt_is_refused(live: str, keys: Keys) -> None:
    refused(call(live, token(keys, f"{live}{PV}", headers={"typ": "at+jwt"})), "typ")


def test_hostile_authorization_headers_are_401_never_5xx(live: str, keys: Keys) -> None:
    """Garbage in every part of a token: always a 401, never a server error."""
    good = token(keys, f"{live}{PV}")
    head, payload, signature = good.split(".")
    hostile = [
        "Bearer",
        "bearer ....",
        "Bearer a.b.c",
        f"Bearer {head}.{payload}",
        f"Bearer {head}.{payload}.{signature}.extra",
        f"Bearer {b64([1, 2])}.{payload}.{signature}",
        f"Bearer {b64({'alg': ['ES384'], 'kid': 'ec-1'})}.{payload}.{signature}",
        f"Bearer {b64({'alg': 'ES384', 'kid': {'a': 1}})}.{payload}.{signature}",
        f"Bearer {b64({'alg': 'ES384', 'kid': 'ec-1', 'jku': 7})}.{payload}.{signature}",
        f"Bearer {head}.{b64({'iss': ['x']})}.{signature}",
        f"Bearer {head}.{b64({'iss': ISSUER, 'aud': 5, 'exp': 'soon'})}.{signature}",
        f"Bearer {head}.{b64('just a string')}.{signature}",
        f"Bearer {head}.%%%.{signature}",
        "Bearer " + "é" * 50,
    ]
    for value in hostile:
        response = httpx.post(
            f"{live}{PV}",
            json=patient_view(),
            headers={b"authorization": value.encode()},
            timeout=30,
        )
        assert response.status_code == 401, (value, response.text)


# --- configuration ----------------------------------------------------------------------


def test_a_local_jwks_file_and_a_public_url(tmp_path: pathlib.Path, keys: Keys) -> None:
    """Behind a proxy, aud names the public URL, not the address uvicorn sees."""
    jwks = tmp_path / "ehr-jwks.json"
    jwks.write_text(json.dumps(keys.jwks()), encoding="utf-8")
    public = "https://cds.example.org"
    app = create_app(trusted_issuers={ISSUER: str(jwks)}, public_url=public + "/")
    with running(app) as base:
        assert call(base, token(keys, f"{public}{PV}")).status_code == 200
        refused(call(base, token(keys, f"{base}{PV}")), "aud must be the URL of the endpoint")


def test_the_jwks_is_fetched_once_and_cached(keys: Keys) -> None:
    server = JwksServer(keys.jwks())
    try:
        with running(create_app(trusted_issuers={ISSUER: server.url})) as base:
            for _ in range(3):
                assert call(base, token(keys, f"{base}{PV}")).status_code == 200
            # An unknown kid right after a fetch does not make the service fetch again.
            refused(call(base, token(keys, f"{base}{PV}", kid="new")), "no key")
        assert server.hits == 1
    finally:
        server.close()


def test_an_unreachable_or_broken_jwks_is_a_401(keys: Keys) -> None:
    broken = JwksServer({"not": "a jwk set"})
    try:
        for url, words in [
            ("http://127.0.0.1:9/jwks.json", "could not be fetched"),
            (broken.url, "not a JWK Set"),
        ]:
            with running(create_app(trusted_issuers={ISSUER: url}, fetch_timeout=2)) as base:
                refused(call(base, token(keys, f"{base}{PV}")), words)
    finally:
        broken.close()


@pytest.mark.parametrize(
    ("issuers", "words"),
    [
        ({ISSUER: "http://ehr.example.org/jwks.json"}, "must be https"),
        ({ISSUER: "/no/such/jwks.json"}, "cannot be read"),
        ({"": "https://ehr.example.org/jwks.json"}, "issuer's URI"),
        ({ISSUER: ""}, "JWK Set URL or file path"),
    ],
)
def test_unusable_configuration_is_refused_at_start(issuers: dict[str, str], words: str) -> None:
    with pytest.raises(ClunealError, match=words):
        create_app(trusted_issuers=issuers)


def test_a_jwks_file_that_is_not_a_jwk_set(tmp_path: pathlib.Path) -> None:
    for text, words in [("{", "not JSON"), ("[]", "not a JWK Set")]:
        bad = tmp_path / "bad.json"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ClunealError, match=words):
            create_app(trusted_issuers={ISSUER: str(bad)})
    symmetric = tmp_path / "oct.json"
    symmetric.write_text(json.dumps({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}))
    app = create_app(trusted_issuers={ISSUER: str(symmetric)})
    # A symmetric key is never loaded: a token naming it finds no key.
    assert app is not None


def test_a_bad_public_url_is_refused() -> None:
    with pytest.raises(ClunealError, match="public_url"):
        create_app(public_url="cds.example.org")


def test_without_issuers_nothing_is_checked(caplog: pytest.LogCaptureFixture) -> None:
    """The local-sandbox default: no token needed, and a warning says so."""
    with caplog.at_level("WARNING", logger="cluneal.service"):
        app = create_app()
    assert "NOT authenticated" in caplog.text
    with running(app) as base:
        assert call(base, None).status_code == 200


# --- cluneal serve ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--host", "0.0.0.0"], "needs --trust ISSUER=JWKS"),  # noqa: S104 - refused, never bound
        (["--trust", "no-equals-sign"], "--trust takes ISSUER=JWKS"),
        (["--trust", f"{ISSUER}=/no/such/jwks.json"], "cannot be read"),
        (["--workers", "0"], "--workers takes a whole number"),
        (["--public-url", "cds.example.org"], "public_url"),
    ],
)
def test_serve_refuses_before_listening(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from cluneal.cli import main

    assert main(["serve", *argv]) == 2
    assert words in capsys.readouterr().err


def test_serve_with_workers_and_a_trusted_issuer(tmp_path: pathlib.Path, keys: Keys) -> None:
    """A real `cluneal serve --workers 2` process: each worker builds the app from the options."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.jwks()), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "cluneal", "serve", "--port", str(port), "--workers", "2"]
    command += ["--trust", f"{ISSUER}={jwks}", "--public-url", base]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                first = httpx.get(f"{base}/cds-services", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.2)
        refused(first, "Bearer JWT is required")
        for _ in range(4):  # requests reach both workers
            signed = {"authorization": f"Bearer {token(keys, f'{base}/cds-services')}"}
            assert httpx.get(f"{base}/cds-services", headers=signed, timeout=30).status_code == 200
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"trusted issuers: {ISSUER}" in err.decode()


def test_an_unexpected_failure_in_the_check_is_a_401_not_a_500(
    keys: Keys, jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: whatever breaks inside the token check, the request is refused."""
    from cluneal.service.auth import TokenVerifier

    async def broken(*_: object) -> dict[str, Any]:
        raise RuntimeError("a library fault")

    monkeypatch.setattr(TokenVerifier, "verify", broken)
    with running(create_app(trusted_issuers={ISSUER: jwks_server.url})) as base:
        refused(call(base, token(keys, f"{base}{PV}")), "could not be verified")


def test_workers_build_the_app_from_the_environment(
    tmp_path: pathlib.Path, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `cluneal serve --workers` hands each worker: create_app's options as JSON."""
    from cluneal.service.app import CONFIG_ENV, app_from_environment

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.jwks()), encoding="utf-8")
    options = {"trusted_issuers": {ISSUER: str(jwks)}, "public_url": "https://cds.example.org"}
    monkeypatch.setenv(CONFIG_ENV, json.dumps(options))
    with running(app_from_environment()) as base:
        refused(call(base, None), "Bearer JWT is required")
        assert call(base, token(keys, f"https://cds.example.org{PV}")).status_code == 200
    for bad, words in [("[1, 2]", "JSON object"), ("{", "JSON object"), ('{"nope": 1}', "JSON")]:
        monkeypatch.setenv(CONFIG_ENV, bad)
        with pytest.raises(ClunealError, match=words):
            app_from_environment()


def test_a_failed_fetch_is_named_until_the_next_one(keys: Keys) -> None:
    """Within the refetch interval, later requests are told why the JWK Set is missing."""
    with running(create_app(trusted_issuers={ISSUER: "http://127.0.0.1:9/jwks.json"})) as base:
        for _ in range(2):
            refused(call(base, token(keys, f"{base}{PV}")), "could not be fetched")
