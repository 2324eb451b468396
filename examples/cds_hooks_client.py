"""Call the cluneal CDS Hooks service as an EHR would: discovery, then patient-view.

Needs the ``service`` extra (``pip install "cluneal[service]"``). With
``CLUNEAL_URL`` set (``http://127.0.0.1:8000``, a running ``cluneal serve``
without ``--trust``) it calls that service unsigned; otherwise it plays the EHR
in full: it makes a signing key, writes the public key as a JWK Set, starts
``cluneal serve --trust <issuer>=<JWK Set>`` on a free local port, signs every
request with a short-lived JWT whose ``aud`` is the URL it calls (CDS Hooks 2.0,
"Trusting CDS Clients"), and stops the service. The request carries only
standard FHIR prefetch.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

if TYPE_CHECKING:
    from collections.abc import Iterator

ISSUER = "https://ehr.example.org"  # this script, as the EHR
KEY = ec.generate_private_key(ec.SECP384R1())  # the EHR's signing key (ES384)
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
    }
    if resources:  # FHIR JSON has no empty arrays: an empty result has no `entry`
        bundle["entry"] = [{"resource": r} for r in resources]
    return bundle


def observation(loinc: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": loinc,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def medication(rxcui: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rxcui,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/example"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
    }


# What an EHR sends for the prefetch templates of cluneal-patient-view: a woman born in
# 1954, 68 kg, creatinine 1.3 mg/dL, on sertraline (36437) and apixaban (1364430). No
# triad exam is on record yet, so cluneal asks for it.
REQUEST = {
    "hook": "patient-view",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/example", "patientId": "example"},
    "prefetch": {
        "patient": {
            "resourceType": "Patient",
            "id": "example",
            "birthDate": "1954-03-10",
            "gender": "female",
        },
        "observations": searchset(
            observation("29463-7", 68, "kg"), observation("2160-0", 1.3, "mg/dL")
        ),
        "conditions": searchset(),
        "medicationRequests": searchset(medication("36437"), medication("1364430")),
        "medicationStatements": searchset(),
        "allergies": searchset(),
        "exam": searchset(),
        "procedures": searchset(),
        "relief": searchset(),
    },
}


def signed(url: str) -> dict[str, str]:
    """The Authorization header of a request to ``url``: a JWT this EHR signed for it."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": url, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    token = jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": "ehr-1"})
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def service() -> Iterator[tuple[str, bool]]:
    """The service's URL, and whether requests are signed."""
    if os.environ.get("CLUNEAL_URL"):
        yield os.environ["CLUNEAL_URL"], False
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(KEY.public_key()))
    folder = tempfile.mkdtemp()
    jwks = pathlib.Path(folder) / "ehr-jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "ehr-1", "alg": "ES384"}]}))
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "cluneal", "serve", "--port", str(port)]
    command += ["--trust", f"{ISSUER}={jwks}", "--public-url", url]
    # Its access log would interleave with this script's output: keep only errors (stderr).
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own command
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{url}/cds-services", timeout=1)
                break
            time.sleep(0.1)
        yield url, True
    finally:
        server.terminate()
        server.wait(timeout=30)
        jwks.unlink()
        os.rmdir(folder)


def main() -> int:
    with service() as (url, sign):
        discovery = f"{url}/cds-services"
        unsigned = httpx.get(discovery)
        if sign:
            print(f"unsigned discovery: HTTP {unsigned.status_code}: {unsigned.json()['message']}")
        headers = signed(discovery) if sign else {}
        services = httpx.get(discovery, headers=headers).json()["services"]
        print("services:", ", ".join(f"{s['id']} ({s['hook']})" for s in services))
        endpoint = f"{url}/cds-services/cluneal-patient-view"
        headers = signed(endpoint) if sign else {}
        response = httpx.post(endpoint, json=REQUEST, headers=headers, timeout=30)
    response.raise_for_status()
    body = response.json()
    print(f"patient-view: {len(body['cards'])} cards")
    for card in body["cards"]:
        print(f"  [{card['indicator']}] {card['summary']}")
        print(f"      source: {card['source']['label']} <{card['source']['url']}>")
    print(body["extension"]["cluneal"]["safetyStatement"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
