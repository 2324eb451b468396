"""Call the cluneal CDS Hooks service as an EHR would: discovery, then patient-view.

Needs the ``service`` extra (``pip install "cluneal[service]"``). With
``CLUNEAL_URL`` set (``http://127.0.0.1:8000``, a running ``cluneal serve``) it
calls that service; otherwise it starts ``cluneal serve`` on a free local port,
calls it, and stops it. The request carries only standard FHIR prefetch.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator

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


@contextlib.contextmanager
def service() -> Iterator[str]:
    if os.environ.get("CLUNEAL_URL"):
        yield os.environ["CLUNEAL_URL"]
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "cluneal", "serve", "--port", str(port)]
    # Its access log would interleave with this script's output: keep only errors (stderr).
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - our own command
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{url}/cds-services", timeout=1)
                break
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    with service() as url:
        services = httpx.get(f"{url}/cds-services").json()["services"]
        print("services:", ", ".join(f"{s['id']} ({s['hook']})" for s in services))
        response = httpx.post(f"{url}/cds-services/cluneal-patient-view", json=REQUEST, timeout=30)
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
