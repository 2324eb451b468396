"""The CDS Hooks example service: discovery, cards, suggestions and 400s (docs/cds-hooks.md)."""

from __future__ import annotations

import copy
import importlib.util
import pathlib
import sys
from typing import Any

import pytest

pytest.importorskip("fastapi")

import cluneal
import cluneal.fhir
from cluneal import Severity

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "cds_hooks_service.py"
SAFETY = "cluneal supports clinical decisions; it does not make them."


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("cds_hooks_service", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # FastAPI resolves the endpoints' annotations through it
    spec.loader.exec_module(module)
    return module


service = _load()
PATIENT_VIEW = "/cds-services/cluneal-patient-view"
ORDER_SELECT = "/cds-services/cluneal-order-select"


@pytest.fixture(scope="module")
def client() -> Any:
    return service.make_test_client()


def _patient_view(case: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = copy.deepcopy(service.EXAMPLE_PATIENT_VIEW_REQUEST)
    if case is not None:
        request["prefetch"]["clunealCase"] = case
    request.update(changes)
    return request


def _draft(
    text: str | None, dose_mg: float, per_day: int, order_id: str | None = "draft-1"
) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text} if text is not None else {}
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": concept,
        "subject": {"reference": "Patient/example"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": dose_mg,
                            "unit": "mg",
                            "system": "http://unitsofmeasure.org",
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
    }
    if order_id is not None:
        order["id"] = order_id
    return order


def _order_select(
    orders: list[dict[str, Any]],
    patient: dict[str, Any] | None = None,
    selections: list[str] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "Practitioner/example",
        "patientId": "example",
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": o} for o in orders],
        },
    }
    if selections is not None:
        context["selections"] = selections
    return {
        "hook": "order-select",
        "hookInstance": "5a1b2c3d-0000-4000-8000-000000000001",
        "context": context,
        "prefetch": {"clunealCase": {"patient": patient or service.EXAMPLE_CASE["patient"]}},
    }


def _check_card(card: dict[str, Any]) -> None:
    assert len(card["summary"]) < 140
    assert card["indicator"] in {"info", "warning", "critical"}
    assert card["source"]["label"]
    assert card["detail"].endswith(f"*{SAFETY}*")


# --- discovery -------------------------------------------------------------------


def test_discovery_lists_both_services(client: Any) -> None:
    """GET /cds-services lists a patient-view and an order-select service with prefetch templates."""
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert services["cluneal-patient-view"]["hook"] == "patient-view"
    assert services["cluneal-order-select"]["hook"] == "order-select"
    for s in services.values():
        assert s["prefetch"] == {"patient": "Patient/{{context.patientId}}"}
        assert "clunealCase" in s["usageRequirements"]
        assert s["title"]
        assert SAFETY in s["description"]


# --- patient-view ----------------------------------------------------------------


def test_patient_view_cards_for_the_demo_case(client: Any) -> None:
    """The demo case: RFA next, carbamazepine proposed, one card per alert, most urgent first."""
    response = client.post(PATIENT_VIEW, json=service.EXAMPLE_PATIENT_VIEW_REQUEST)
    assert response.status_code == 200
    cards = response.json()["cards"]
    plan = cluneal.care_plan(
        service.EXAMPLE_CASE["patient"],
        service.EXAMPLE_CASE["findings"],
        service.EXAMPLE_CASE["history"],
    )
    for card in cards:
        _check_card(card)
    order = {"critical": 0, "warning": 1, "info": 2}
    assert [order[c["indicator"]] for c in cards] == sorted(order[c["indicator"]] for c in cards)
    summaries = [c["summary"] for c in cards]
    assert "Next step: Radiofrequency ablation" in summaries
    step = next(c for c in cards if c["summary"] == "Next step: Radiofrequency ablation")
    assert plan.recommendation.rationale in step["detail"]
    assert step["source"]["topic"]["code"] == plan.recommendation.transition
    alert_cards = [
        c
        for c in cards
        if c["source"].get("topic", {}).get("code") in {a.rule_id for a in plan.alerts}
    ]
    assert len(alert_cards) == len(plan.alerts)
    assert len(cards) == len(plan.alerts) + 2


@pytest.mark.parametrize(
    ("severity", "indicator"),
    [
        (Severity.CONTRAINDICATED, "critical"),
        (Severity.MAJOR, "critical"),
        (Severity.MODERATE, "warning"),
        (Severity.INFO, "info"),
    ],
)
def test_indicator_follows_alert_severity(severity: Severity, indicator: str) -> None:
    """contraindicated/major -> critical, moderate -> warning, info -> info."""
    assert service.INDICATOR[severity] == indicator


def test_alert_cards_carry_severity_and_citation(client: Any) -> None:
    """Each alert card's indicator comes from its severity; its source names the citation."""
    cards = client.post(PATIENT_VIEW, json=service.EXAMPLE_PATIENT_VIEW_REQUEST).json()["cards"]
    plan = cluneal.care_plan(service.EXAMPLE_CASE["patient"], service.EXAMPLE_CASE["findings"])
    by_rule = {c["source"]["topic"]["code"]: c for c in cards}
    for alert in plan.alerts:
        card = by_rule[alert.rule_id]
        assert card["indicator"] == service.INDICATOR[alert.severity]
        assert alert.message.split()[0] in card["summary"]
        assert f"`{alert.rule_id}`" in card["detail"]
        cited = cluneal.citation(alert.citation)
        assert card["source"]["label"].startswith("cluneal: ")
        assert card["source"].get("url") == cited.url
        if alert.action:
            assert f"**Action:** {alert.action}" in card["detail"]


def test_medication_card_suggests_the_draft_medication_request(client: Any) -> None:
    """The proposed schedule is offered as a 'create' suggestion of cluneal's MedicationRequest."""
    cards = client.post(PATIENT_VIEW, json=service.EXAMPLE_PATIENT_VIEW_REQUEST).json()["cards"]
    card = next(c for c in cards if c["summary"].startswith("Proposed: carbamazepine"))
    assert card["selectionBehavior"] == "at-most-one"
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "create"
    plan = cluneal.care_plan(service.EXAMPLE_CASE["patient"], service.EXAMPLE_CASE["findings"])
    expected = cluneal.fhir.medication_request(
        plan.medications[0], patient_reference="Patient/example"
    )
    assert action["resource"] == expected
    assert "| Day | Dose |" in card["detail"]
    assert plan.medication_rationale in card["detail"]


def test_cards_are_deterministic(client: Any) -> None:
    """The same request gives the same cards (uuids included)."""
    first = client.post(PATIENT_VIEW, json=service.EXAMPLE_PATIENT_VIEW_REQUEST).json()
    second = client.post(PATIENT_VIEW, json=service.EXAMPLE_PATIENT_VIEW_REQUEST).json()
    assert first == second


def test_urgent_red_flag_is_a_critical_card_first(client: Any) -> None:
    """clinical.md 0.8: bladder or bowel dysfunction -> urgent reassessment; no medication started."""
    case = copy.deepcopy(service.EXAMPLE_CASE)
    case["findings"]["neuro"] = {"bladder_bowel_dysfunction": True}
    cards = client.post(PATIENT_VIEW, json=_patient_view(case)).json()["cards"]
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"] == "Next step: Reassess diagnosis (URGENT)"
    none = next(c for c in cards if c["summary"] == "No first-line medication proposed")
    assert "suggestions" not in none
    assert none["source"]["topic"]["code"] == "pharm.withhold.urgent"


def test_case_in_context_and_long_summaries(client: Any) -> None:
    """context.clunealCase is accepted; every summary stays under 140 characters."""
    request = _patient_view()
    case = request["prefetch"].pop("clunealCase")
    request["context"]["clunealCase"] = case
    request["prefetch"]["patient"] = {"resourceType": "Patient", "id": "example"}
    response = client.post(PATIENT_VIEW, json=request)
    assert response.status_code == 200
    assert any(c["summary"].endswith("…") for c in response.json()["cards"])
    for card in response.json()["cards"]:
        assert len(card["summary"]) < 140


# --- bad requests ----------------------------------------------------------------


def _bad(client: Any, path: str, **kwargs: Any) -> dict[str, Any]:
    response = client.post(path, **kwargs)
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error", "message"}
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
    ],
)
def test_invalid_json_is_a_400(client: Any, content: bytes, message: str) -> None:
    """Invalid JSON answers 400 with a clear message, never a 500."""
    body = _bad(client, PATIENT_VIEW, content=content, headers={"content-type": "application/json"})
    assert body["error"] == "bad_request"
    assert message in body["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hook": "order-select"}, "hook"),
        ({"hookInstance": ""}, "hookInstance"),
        ({"context": None}, "context"),
        ({"context": {"userId": "Practitioner/1"}}, "context.patientId"),
        ({"prefetch": None}, "no cluneal case"),
        ({"prefetch": []}, "prefetch"),
        ({"prefetch": {"clunealCase": "text"}}, "clunealCase must be a JSON object"),
        ({"prefetch": {"clunealCase": {"patient": {}}}}, "missing findings"),
        (
            {
                "prefetch": {
                    "clunealCase": {"patient": {}, "findings": {}},
                    "patient": {"resourceType": "Patient", "id": "someone-else"},
                }
            },
            "does not match",
        ),
    ],
)
def test_malformed_requests_are_400(client: Any, change: dict[str, Any], message: str) -> None:
    """A request without what the service needs answers 400 and says what is missing."""
    body = _bad(client, PATIENT_VIEW, json=_patient_view(**change))
    assert body["error"] == "bad_request"
    assert message in body["message"]


def test_invalid_case_is_a_400_with_details(client: Any) -> None:
    """A case cluneal's models reject (pydantic ValidationError) answers 400 with the errors."""
    case = copy.deepcopy(service.EXAMPLE_CASE)
    case["patient"]["age"] = 12  # clinical.md 0.1: adults only, 18-120
    body = _bad(client, PATIENT_VIEW, json=_patient_view(case))
    assert body["error"] == "invalid_case"
    assert body["message"].startswith("invalid Patient: age: ")
    assert body["details"][0]["loc"] == ["age"]


def test_cluneal_error_is_a_400(client: Any) -> None:
    """A ClunealError (here: a patient that is not an object) answers 400."""
    case = {"patient": "Jane", "findings": {}}
    body = _bad(client, PATIENT_VIEW, json=_patient_view(case))
    assert body["error"] == "invalid_case"
    assert "patient" in body["message"]


def test_unknown_service_is_a_404(client: Any) -> None:
    """An unknown service id answers 404 with the known ids."""
    response = client.post("/cds-services/nope", json={})
    assert response.status_code == 404
    assert "cluneal-patient-view" in response.json()["message"]


# --- order-select ----------------------------------------------------------------


def test_order_select_checks_the_cap_and_offers_cluneal_titration(client: Any) -> None:
    """Gabapentin 1200 mg three times daily for CrCl ~42 mL/min: above the 1400 mg/day band cap."""
    request = _order_select([_draft("Gabapentin 400 mg capsule", 1200, 3)])
    response = client.post(ORDER_SELECT, json=request)
    assert response.status_code == 200
    cards = response.json()["cards"]
    for card in cards:
        _check_card(card)
    schedule = cluneal.titration_schedule("gabapentin", service.EXAMPLE_CASE["patient"])
    # clinical.md 0.2: 30 < CrCl < 60 -> gabapentin at most 1400 mg/day.
    assert schedule.max_daily_dose_mg == 1400
    cap = next(
        c for c in cards if c["indicator"] == "warning" and "exceeds the cap" in c["summary"]
    )
    assert "3600 mg/day" in cap["summary"] and "1400 mg/day" in cap["summary"]
    titration = next(
        c for c in cards if c["summary"].startswith("cluneal titration for gabapentin")
    )
    (action,) = titration["suggestions"][0]["actions"]
    assert action["type"] == "update"
    assert action["resource"]["id"] == "draft-1"
    expected = cluneal.fhir.medication_request(schedule, patient_reference="Patient/example")
    assert {k: v for k, v in action["resource"].items() if k != "id"} == {
        k: v for k, v in expected.items() if k != "id"
    }


def test_order_select_refuses_a_contraindicated_drug(client: Any) -> None:
    """clinical.md 0.5: carbamazepine with HLA-B*15:02 positive -> critical card, remove the draft."""
    patient = {**service.EXAMPLE_CASE["patient"], "hla_b_1502": True}
    request = _order_select([_draft("carbamazepine", 200, 2)], patient=patient)
    cards = client.post(ORDER_SELECT, json=request).json()["cards"]
    assert len(cards) == 1
    (card,) = cards
    assert card["indicator"] == "critical"
    assert card["summary"].startswith("Do not start carbamazepine")
    (action,) = card["suggestions"][0]["actions"]
    assert action == {
        "type": "delete",
        "description": "Remove the draft carbamazepine order",
        "resourceId": "MedicationRequest/draft-1",
    }


def test_order_select_reads_rxnorm_codes_and_selections(client: Any) -> None:
    """The drug may be named only by its RxNorm code; only selected drafts are checked."""
    pregabalin = _draft(None, 75, 2, order_id="draft-2")
    pregabalin["medicationCodeableConcept"] = {
        "coding": [
            "not a coding",
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "187832"},
        ]
    }
    tramadol = _draft("tramadol", 50, 4, order_id="draft-3")
    request = _order_select([pregabalin, tramadol], selections=["MedicationRequest/draft-2"])
    cards = client.post(ORDER_SELECT, json=request).json()["cards"]
    assert any(c["summary"].startswith("cluneal titration for pregabalin") for c in cards)
    assert not any("tramadol" in c["summary"] for c in cards)


def test_order_select_by_display_and_without_id(client: Any) -> None:
    """A coding display names the drug; a draft without an id gets a 'create' suggestion."""
    draft = _draft(None, 25, 1, order_id=None)
    draft["medicationCodeableConcept"] = {"coding": [{"display": "Nortriptyline, 25 mg"}]}
    patient = {"age": 40, "sex": "male"}
    cards = client.post(ORDER_SELECT, json=_order_select([draft], patient=patient)).json()["cards"]
    titration = next(c for c in cards if c["summary"].startswith("cluneal titration"))
    assert titration["suggestions"][0]["actions"][0]["type"] == "create"
    assert not any("exceeds the cap" in c["summary"] for c in cards)


def test_order_select_ignores_other_drugs_and_resources(client: Any) -> None:
    """Drafts of drugs outside cluneal's six, and non-MedicationRequest entries, give no card."""
    request = _order_select([_draft("ibuprofen 400 mg", 400, 3)])
    request["context"]["draftOrders"]["entry"].extend(
        [{"resource": {"resourceType": "ServiceRequest"}}, "junk", {"resource": _no_concept()}]
    )
    response = client.post(ORDER_SELECT, json=request)
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def _no_concept() -> dict[str, Any]:
    draft = _draft("x", 1, 1)
    del draft["medicationCodeableConcept"]
    return draft


@pytest.mark.parametrize(
    "dosage",
    [
        {},
        {
            "timing": {"repeat": {"periodUnit": "wk"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "code": "mg"}}],
        },
        {"timing": {"repeat": {}}, "doseAndRate": [{"doseQuantity": {"value": 1, "code": "g"}}]},
        {
            "timing": {"repeat": {"period": 0}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "code": "mg"}}],
        },
    ],
)
def test_unreadable_draft_doses_are_skipped(dosage: dict[str, Any]) -> None:
    """A dose the service cannot read is not checked against the cap (no guess, no error)."""
    assert service._daily_mg({"dosageInstruction": [dosage]}) is None


def test_draft_daily_dose_in_hours() -> None:
    """Every 8 h, 100 mg -> 300 mg/day."""
    dosage = {
        "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
        "doseAndRate": [{"doseQuantity": {"value": 100, "unit": "mg"}}],
    }
    assert service._daily_mg({"dosageInstruction": [dosage]}) == 300


def test_order_select_without_draft_orders_is_a_400(client: Any) -> None:
    """order-select needs context.draftOrders."""
    request = _order_select([])
    del request["context"]["draftOrders"]
    body = _bad(client, ORDER_SELECT, json=request)
    assert "draftOrders" in body["message"]


def test_order_select_with_an_invalid_patient_is_a_400(client: Any) -> None:
    """The patient goes through cluneal's validation (ValidationError -> 400)."""
    body = _bad(client, ORDER_SELECT, json=_order_select([], patient={"age": 40, "sex": "x"}))
    assert body["error"] == "invalid_case"


# --- the script ------------------------------------------------------------------


def test_script_self_check(capsys: pytest.CaptureFixture[str]) -> None:
    """`python examples/cds_hooks_service.py` checks itself in-process and exits 0."""
    assert service.main() == 0
    out = capsys.readouterr().out
    assert "cluneal-patient-view (patient-view)" in out
    assert "[critical]" in out
