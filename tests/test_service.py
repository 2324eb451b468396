"""The CDS Hooks 2.0 service, tested as a real uvicorn server on 127.0.0.1 (API.md, docs/cds-hooks.md).

The fhirServer path is tested against a small static FHIR server made here,
serving FHIR JSON files from a temporary folder.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from cluneal.plan import SAFETY_STATEMENT
from cluneal.service import create_app
from cluneal.service.discovery import SERVICES
from tests.fhir_records import (
    ORDER_KEYS,
    RXNORM,
    draft,
    medication,
    order_request,
    patient_view,
    record,
    searchset,
)
from tests.fhir_validation import assert_valid_fhir
from tests.servers import running

if TYPE_CHECKING:
    import pathlib
    from collections.abc import Iterator


PV = "/cds-services/cluneal-patient-view"
OS = "/cds-services/cluneal-order-select"
OSIGN = "/cds-services/cluneal-order-sign"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client


# --- a static FHIR server ---------------------------------------------------------------


class StaticFhir:
    """Serves ``<folder>/<Type>/<id>.json``: reads by id, searches as paged searchset Bundles."""

    PAGE = 2

    def __init__(self, folder: pathlib.Path) -> None:
        self.folder = folder
        self.tokens: list[str | None] = []
        self.paths: list[str] = []
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def put(self, resource: dict[str, Any]) -> None:
        kind = self.folder / resource["resourceType"]
        kind.mkdir(parents=True, exist_ok=True)
        (kind / f"{resource['id']}.json").write_text(json.dumps(resource), encoding="utf-8")

    def _answer(self, path: str, query: str) -> tuple[int, object]:
        parts = path.removeprefix("/fhir/").split("/")
        if len(parts) == 2:
            file = self.folder / parts[0] / f"{parts[1]}.json"
            if not file.exists():
                return 404, {"resourceType": "OperationOutcome", "issue": []}
            return 200, json.loads(file.read_text(encoding="utf-8"))
        folder = self.folder / parts[0]
        files = sorted(folder.glob("*.json")) if folder.exists() else []
        page = int(parse_qs(query).get("_page", ["1"])[0])
        chunk = files[(page - 1) * self.PAGE : page * self.PAGE]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(files),
            "entry": [{"resource": json.loads(f.read_text(encoding="utf-8"))} for f in chunk],
        }
        if page * self.PAGE < len(files):
            bundle["link"] = [
                {"relation": "next", "url": f"{self.url}/{parts[0]}?{query}&_page={page + 1}"}
            ]
        return 200, bundle

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urlsplit(self.path)
                owner.tokens.append(self.headers.get("Authorization"))
                owner.paths.append(self.path)
                status, body = owner._answer(split.path, split.query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                return

        return Handler


@pytest.fixture
def fhir_server(tmp_path: pathlib.Path) -> Iterator[StaticFhir]:
    server = StaticFhir(tmp_path)
    for value in record().values():
        if value["resourceType"] == "Bundle":
            for entry in value.get("entry", []):
                server.put(entry["resource"])
        else:
            server.put(value)
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


# --- discovery ------------------------------------------------------------------------


def test_discovery_declares_three_services_with_fhir_prefetch(http: httpx.Client) -> None:
    response = http.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert {k: s["hook"] for k, s in services.items()} == {
        "cluneal-patient-view": "patient-view",
        "cluneal-order-select": "order-select",
        "cluneal-order-sign": "order-sign",
    }
    prefetch = services["cluneal-patient-view"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    # LOINC creatinine (both units), weight and height in one search.
    for code in ("2160-0", "14682-9", "29463-7", "8302-2"):
        assert f"http://loinc.org|{code}" in prefetch["observations"]
    for service in services.values():
        assert SAFETY_STATEMENT in service["description"]
        assert all(
            template.split("?")[0].split("/")[0][0].isupper()
            for template in service["prefetch"].values()
        )


# --- patient-view -------------------------------------------------------------------------


def _card_checks(cards: list[dict[str, Any]]) -> None:
    order = {"critical": 0, "warning": 1, "info": 2}
    assert [order[c["indicator"]] for c in cards] == sorted(order[c["indicator"]] for c in cards)
    for card in cards:
        uuid.UUID(card["uuid"])
        assert len(card["summary"]) < 140
        assert card["detail"].endswith(f"*{SAFETY_STATEMENT}*")
        assert card["source"]["label"] and len(card["source"]["label"]) <= 100
        assert card["source"]["url"].startswith("https://")
        assert ("overrideReasons" in card) is (card["indicator"] == "critical")
        for link in card.get("links", []):
            assert link["type"] == "absolute" and link["url"].startswith("https://")
        for suggestion in card.get("suggestions", []):
            uuid.UUID(suggestion["uuid"])
            for action in suggestion["actions"]:
                if "resource" in action:
                    assert_valid_fhir(action["resource"])


def test_patient_view_from_fhir_prefetch_only(http: httpx.Client) -> None:
    """A request carrying only standard FHIR prefetch gets cards (the issue's first complaint)."""
    response = http.post(PV, json=patient_view())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["extension"]["cluneal"]["safetyStatement"] == SAFETY_STATEMENT
    cards = body["cards"]
    _card_checks(cards)
    summaries = [c["summary"] for c in cards]
    # Temporary block relief after a confirmed triad -> radiofrequency ablation (pathway).
    assert "Consider radiofrequency ablation (diagnosis confirmed)" in summaries
    # 72 years: nortriptyline passed over (Beers 2023); carbamazepine with apixaban is major.
    medication_card = next(c for c in cards if c["summary"].startswith("Start carbamazepine"))
    # Every listed drug with its screening result (decision_screen_every_listed_drug).
    assert "| nortriptyline | excluded | major |" in medication_card["detail"]
    assert "| gabapentin | not reached | no alerts |" in medication_card["detail"]
    assert medication_card["links"][0]["url"].endswith("/drugs/generated/carbamazepine.html")
    action = medication_card["suggestions"][0]["actions"][0]
    assert action["type"] == "create"
    assert action["resource"]["subject"] == {"reference": "Patient/demo"}
    anticoagulant = next(c for c in cards if "apixaban" in c["summary"].lower())
    assert anticoagulant["indicator"] == "critical"
    assert anticoagulant["source"]["label"].startswith(
        ("Carbamazepine (Tegretol", "cluneal package decision: ")
    )


def test_card_uuids_are_stable_per_instance_card_and_patient(http: httpx.Client) -> None:
    def uuids(request: dict[str, Any]) -> list[str]:
        return [c["uuid"] for c in http.post(PV, json=request).json()["cards"]]

    first = uuids(patient_view())
    assert first == uuids(patient_view())
    assert len(set(first)) == len(first)
    assert not set(first) & set(uuids(patient_view(pid="other")))
    assert not set(first) & set(uuids(patient_view(instance=str(uuid.uuid4()))))


def test_missing_prefetch_without_fhir_server_is_412(http: httpx.Client) -> None:
    request = patient_view()
    del request["prefetch"]["conditions"]
    response = http.post(PV, json=request)
    assert response.status_code == 412
    assert "conditions" in response.json()["message"]
    assert response.json()["safetyStatement"] == SAFETY_STATEMENT


def test_null_prefetch_means_no_data(http: httpx.Client) -> None:
    request = patient_view()
    request["prefetch"]["allergies"] = None
    assert http.post(PV, json=request).status_code == 200
    request["prefetch"]["patient"] = None
    assert http.post(PV, json=request).status_code == 412


def test_fhir_server_is_used_with_the_bearer_token(
    http: httpx.Client, fhir_server: StaticFhir
) -> None:
    full = http.post(PV, json=patient_view()).json()
    request = patient_view()
    request["prefetch"] = {"patient": request["prefetch"]["patient"]}
    request["fhirServer"] = fhir_server.url
    request["fhirAuthorization"] = {
        "access_token": "secret-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cluneal",
    }
    response = http.post(PV, json=request)
    assert response.status_code == 200, response.text
    assert response.json() == full  # the same cards from fetched data as from prefetch
    assert fhir_server.tokens and set(fhir_server.tokens) == {"Bearer secret-token"}
    # MedicationRequest holds two resources: with pages of two, no page is dropped.
    assert any(p.startswith("/fhir/Observation?patient=demo") for p in fhir_server.paths)


def test_fhir_server_paging_is_followed(http: httpx.Client, fhir_server: StaticFhir) -> None:
    fhir_server.put(medication("warfarin", "demo", "11289"))  # a third: two pages
    request = patient_view()
    del request["prefetch"]["medicationRequests"]
    request["fhirServer"] = fhir_server.url
    cards = http.post(PV, json=request).json()["cards"]
    assert any("_page=2" in p for p in fhir_server.paths)
    assert any("warfarin" in c["summary"].lower() for c in cards)


def test_fhir_server_failures_are_412(http: httpx.Client, fhir_server: StaticFhir) -> None:
    request = patient_view()
    del request["prefetch"]["patient"]
    request["context"]["patientId"] = "nobody"  # 404 from the FHIR server
    request["fhirServer"] = fhir_server.url
    response = http.post(PV, json=request)
    assert response.status_code == 412
    assert "HTTP 404" in response.json()["message"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    request["fhirServer"] = f"http://127.0.0.1:{port}/fhir"
    response = http.post(PV, json=request)
    assert response.status_code == 412
    assert "could not be reached" in response.json()["message"]


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ("http://ehr.example.org/fhir", "plain http is accepted only"),
        ("ftp://127.0.0.1/fhir", "expected an https URL"),
    ],
)
def test_fhir_server_must_be_https_except_localhost(
    http: httpx.Client, server: str, message: str
) -> None:
    request = patient_view()
    del request["prefetch"]["exam"]
    request["fhirServer"] = server
    response = http.post(PV, json=request)
    assert response.status_code == 400
    assert message in response.json()["message"]


def _mutate(path: str, value: Any) -> dict[str, Any]:
    request = patient_view()
    target: Any = request
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return request


_DELETE = object()


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (_mutate("hook", "order-select"), "answers 'patient-view'"),
        (_mutate("hookInstance", _DELETE), "hookInstance"),
        (_mutate("context", "demo"), "context"),
        (_mutate("context.patientId", "../../admin"), "context.patientId"),
        (_mutate("context.patientId", "other"), "is not the patient of context.patientId"),
        (_mutate("prefetch.conditions", ["Condition"]), "prefetch.conditions"),
        (_mutate("prefetch.exam", {"entry": []}), "prefetch.exam"),
        (_mutate("fhirAuthorization", {"access_token": "x"}), "fhirAuthorization"),
    ],
)
def test_malformed_requests_are_400(
    http: httpx.Client, request_body: dict[str, Any], message: str
) -> None:
    response = http.post(PV, json=request_body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    "content", [b"", b"{", b"[]", b'"text"', b"\xff\xfe", b'{"hook": 3}', b"null"]
)
def test_non_json_and_wrong_shapes_are_400(http: httpx.Client, content: bytes) -> None:
    response = http.post(PV, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


def test_unknown_service_is_404_and_huge_bodies_413(http: httpx.Client) -> None:
    assert http.post("/cds-services/nope", json=patient_view()).status_code == 404
    huge = b'{"hook": "' + b"x" * 10_000_001 + b'"}'
    response = http.post(PV, content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_an_unusable_record_is_a_warning_card_not_an_error(http: httpx.Client) -> None:
    """FHIR that is valid but that cluneal cannot use is shown to the clinician as a card."""
    request = patient_view()
    request["prefetch"]["patient"]["gender"] = "unknown"
    response = http.post(PV, json=request)
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert card["indicator"] == "warning"
    assert "gender" in card["detail"]
    weight = patient_view()
    weight["prefetch"]["observations"]["entry"][0]["resource"]["valueQuantity"]["value"] = 9000
    (card,) = http.post(PV, json=weight).json()["cards"]
    assert "Observation/weight" in card["detail"]


def test_no_exam_in_the_record_asks_for_it(http: httpx.Client) -> None:
    request = patient_view()
    request["prefetch"]["exam"] = searchset()
    cards = http.post(PV, json=request).json()["cards"]
    pathway = next(c for c in cards if "diagnosis" in c["summary"])
    assert "No triad exam was found" in pathway["detail"]


# --- order-select and order-sign -------------------------------------------------------------

GABAPENTIN = "25480"  # RxNorm ingredient


def test_a_draft_above_the_cap_is_critical_and_the_fix_keeps_the_order(http: httpx.Client) -> None:
    """3,600 mg/day gabapentin for CrCl ~42 mL/min: the renal cap is 1,400 mg/day (critical).

    Gabapentin label, renal table: CrCl 30-59 mL/min, 400-1,400 mg/day.
    """
    request = order_request(
        "order-select",
        [draft("gaba", GABAPENTIN, 1200, 3)],
        selections=["MedicationRequest/gaba"],
    )
    response = http.post(OS, json=request)
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    _card_checks(cards)
    cap = cards[0]
    assert cap["indicator"] == "critical"
    assert cap["summary"].startswith("Reduce gabapentin: the draft's 3600 mg/day exceeds")
    assert "1400 mg/day" in cap["summary"]
    assert {r["code"] for r in cap["overrideReasons"]} >= {"benefit-outweighs-risk"}
    action = cap["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    resource = action["resource"]
    assert (resource["id"], resource["intent"], resource["status"]) == ("gaba", "order", "draft")
    assert resource["requester"] == {"reference": "Practitioner/1"}
    assert resource["dosageInstruction"][-1]["maxDosePerPeriod"]["numerator"]["value"] == 1400


def test_an_integer_past_64_bits_in_a_kept_element_is_echoed_not_a_500(
    http: httpx.Client,
) -> None:
    """The replacement keeps the draft's own elements as sent, even a number JSON allows but
    64-bit encoders do not: the answer is 200 with the value intact, never a server error."""
    order = draft("gaba", GABAPENTIN, 1200, 3)
    order["identifier"] = [{"system": "urn:example", "value": "x", "period": {}}]
    order["priority"] = "routine"
    order["groupIdentifier"] = {
        "value": "g",
        "extension": [{"url": "urn:n", "valueInteger": 10**30}],
    }
    request = order_request("order-select", [order], selections=["MedicationRequest/gaba"])
    response = http.post(OS, json=request)
    assert response.status_code == 200, response.text
    action = response.json()["cards"][0]["suggestions"][0]["actions"][0]
    assert action["resource"]["groupIdentifier"]["extension"][0]["valueInteger"] == 10**30


def test_a_draft_within_the_cap_gets_the_titration_as_info(http: httpx.Client) -> None:
    request = order_request("order-select", [draft("gaba", GABAPENTIN, 300, 1)])
    cards = http.post(OS, json=request).json()["cards"]
    titration = next(c for c in cards if c["summary"].startswith("Start gabapentin"))
    assert titration["indicator"] == "info"
    assert "300 mg/day, within the cap" in titration["detail"]


def test_a_contraindicated_draft_is_critical_with_a_delete(http: httpx.Client) -> None:
    """Carbamazepine with an MAOI (phenelzine, RxNorm 8123): contraindicated (label)."""
    request = order_request("order-select", [draft("cbz", "2002", 200, 2)])
    request["prefetch"]["medicationRequests"]["entry"].append(
        {"resource": medication("mao", "demo", "8123")}
    )
    cards = http.post(OS, json=request).json()["cards"]
    (card,) = cards
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Do not order carbamazepine")
    action = card["suggestions"][0]["actions"][0]
    assert action == {
        "type": "delete",
        "description": "Remove the draft carbamazepine order",
        "resourceId": "MedicationRequest/cbz",
    }


def test_selections_choose_the_orders_and_other_drafts_are_co_medications(
    http: httpx.Client,
) -> None:
    """Draft tramadol with a draft sertraline already on the order list: serotonin risk."""
    orders = [draft("tram", "10689", 50, 2), draft("sert", "36437", 50, 1)]
    request = order_request("order-select", orders, selections=["MedicationRequest/tram"])
    request["prefetch"]["medicationRequests"] = searchset()
    cards = http.post(OS, json=request).json()["cards"]
    assert any("sertraline" in c["summary"].lower() for c in cards)
    assert not any(c["summary"].startswith("Start sertraline") for c in cards)
    none_selected = order_request("order-select", orders, selections=[])
    assert http.post(OS, json=none_selected).json()["cards"] == []


def test_order_sign_checks_every_draft(http: httpx.Client) -> None:
    orders = [draft("gaba", GABAPENTIN, 1200, 3), draft("x", "999999", 1, 1)]
    response = http.post(OSIGN, json=order_request("order-sign", orders))
    assert response.status_code == 200
    assert response.json()["cards"][0]["indicator"] == "critical"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"draftOrders": None}, "context.draftOrders"),
        ({"draftOrders": {"resourceType": "Bundle", "entry": [1]}}, "context.draftOrders"),
        ({"selections": "MedicationRequest/gaba"}, "context.selections"),
    ],
)
def test_bad_draft_orders_are_400(http: httpx.Client, change: dict[str, Any], message: str) -> None:
    request = order_request("order-select", [draft("gaba", GABAPENTIN, 300, 1)])
    request["context"].update(change)
    response = http.post(OS, json=request)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_order_prefetch_is_the_record_only() -> None:
    assert tuple(SERVICES["cluneal-order-select"].prefetch) == ORDER_KEYS


# --- feedback and CORS --------------------------------------------------------------------


def test_feedback_is_accepted(http: httpx.Client) -> None:
    feedback = {
        "feedback": [
            {
                "card": str(uuid.uuid4()),
                "outcome": "overridden",
                "overrideReason": {"reason": {"code": "monitored"}, "userComment": "ok"},
                "outcomeTimestamp": "2026-11-01T10:00:00Z",
            }
        ]
    }
    assert http.post(f"{PV}/feedback", json=feedback).status_code == 200
    assert http.post("/cds-services/nope/feedback", json=feedback).status_code == 404
    assert http.post(f"{PV}/feedback", json={"feedback": [{}]}).status_code == 400


def test_cors_is_open_by_default_for_browser_sandboxes(http: httpx.Client) -> None:
    response = http.options(
        PV,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_cors_can_be_narrowed() -> None:
    app = create_app(cors_origins=["https://ehr.example.org"])
    with running(app) as url, httpx.Client(base_url=url) as client:
        other = client.get("/cds-services", headers={"Origin": "https://evil.example"})
        own = client.get("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert "access-control-allow-origin" not in other.headers
    assert own.headers["access-control-allow-origin"] == "https://ehr.example.org"


# --- the command line ------------------------------------------------------------------------


def test_cluneal_serve_runs_the_service() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "cluneal", "serve", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("cluneal serve did not start")
                time.sleep(0.1)
        assert response.status_code == 200
        assert len(response.json()["services"]) == 3
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert SAFETY_STATEMENT in stderr


@pytest.mark.parametrize("port", ["70000", "http"])
def test_cluneal_serve_refuses_a_bad_port(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    from cluneal.cli import main

    assert main(["serve", "--port", port]) == 2
    assert "port" in capsys.readouterr().err


def test_request_copies_are_independent() -> None:
    """The record builders return fresh objects (tests mutate them)."""
    first = patient_view()
    first["prefetch"]["patient"]["gender"] = "male"
    assert patient_view()["prefetch"]["patient"]["gender"] == "female"
    assert copy.deepcopy(record()) == record()
    assert RXNORM.startswith("http://www.nlm.nih.gov")


def test_docs_list_every_prefetch_template() -> None:
    """docs/cds-hooks.md shows the templates the service declares, exactly."""
    import pathlib

    docs = pathlib.Path(__file__).parent.parent / "docs" / "cds-hooks.md"
    text = docs.read_text(encoding="utf-8").replace("\\|", "|")
    for service in SERVICES.values():
        for key, template in service.prefetch.items():
            assert f"| `{key}` | `{template}` |" in text, key


def test_every_record_the_service_tests_send_is_valid_r4() -> None:
    """The prefetch and draft orders of these tests are valid FHIR R4 for both validators."""
    for value in record().values():
        assert_valid_fhir(value)
    for order in (draft("gaba", GABAPENTIN, 1200, 3), draft("tram", "10689", 50, 2)):
        assert_valid_fhir(order)
    assert_valid_fhir(
        order_request("order-sign", [draft("x", "2002", 100, 2)])["context"]["draftOrders"]
    )
