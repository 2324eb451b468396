"""FHIR R4 export: mapping, R4B validity, references and determinism (docs/fhir.md, API.md FHIR)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

import cluneal
import cluneal.fhir
from cluneal import (
    CareHistory,
    ClunealError,
    Drug,
    Findings,
    MissingExtraError,
    Patient,
    SafetyAlert,
    Severity,
    care_plan,
    titration_schedule,
)
from cluneal.fhir import export as fhir
from cluneal.pathway import pathway_transitions
from cluneal.titration import Timing

if TYPE_CHECKING:
    from cluneal import CarePlan, TitrationSchedule

UCUM = "http://unitsofmeasure.org"
SAFETY = "cluneal supports clinical decisions; it does not make them."

ADULT: dict[str, Any] = {
    "age": 50,
    "sex": "male",
    "weight": "80 kg",
    "serum_creatinine": "1.0 mg/dL",
}
TRIAD_BLOCK_TEMPORARY: dict[str, Any] = {
    "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
    "block": {"branches": ["superior"], "relief_percent": 80, "relief_duration": "3 weeks"},
}
# The `cluneal demo` patient: 72 years, CrCl ~ 42 mL/min, on sertraline and apixaban.
DEMO_PATIENT: dict[str, Any] = {
    "age": 72,
    "sex": "female",
    "weight": "68 kg",
    "serum_creatinine": "1.3 mg/dL",
    "medications": ["sertraline", "apixaban"],
}


@pytest.fixture
def r4b() -> Any:
    """fhir.resources' R4B models (the nox tests session installs the extra)."""
    return pytest.importorskip("fhir.resources.R4B")


def _r4b_validate(r4b: Any, resource: dict[str, Any]) -> None:
    model = r4b.get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)


def _schedule(drug: str, **patient: Any) -> TitrationSchedule:
    return titration_schedule(drug, Patient(**(patient or ADULT)))


def _demo_plan() -> CarePlan:
    return care_plan(DEMO_PATIENT, TRIAD_BLOCK_TEMPORARY)


def _references(value: Any) -> list[str]:
    """Every Reference.reference string anywhere in a JSON value."""
    if isinstance(value, dict):
        # DetectedIssue.reference is a uri, not a Reference: skip resources' own key.
        is_reference = isinstance(value.get("reference"), str) and "resourceType" not in value
        found = [value["reference"]] if is_reference else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


# --- MedicationRequest -----------------------------------------------------------


@pytest.mark.parametrize(
    ("drug", "patient"),
    [
        ("nortriptyline", ADULT),
        ("carbamazepine", ADULT),
        ("gabapentin", ADULT),
        ("pregabalin", ADULT),
        ("tramadol", ADULT),
        ("naltrexone", ADULT),
        # clinical reference 0.2: tramadol CrCl < 30 -> every 12 h, at most 200 mg/day.
        ("tramadol", {"age": 50, "sex": "male", "weight": "60 kg", "serum_creatinine": "3 mg/dL"}),
        # clinical reference 0.2: haemodialysis -> lowest band plus a post-dialysis supplement.
        ("gabapentin", {"age": 60, "sex": "male", "weight": "70 kg", "on_dialysis": True}),
    ],
)
def test_medication_request_is_valid_r4b(r4b: Any, drug: str, patient: dict[str, Any]) -> None:
    """API.md: medication_request(schedule) is FHIR R4 JSON that validates with R4B models."""
    schedule = _schedule(drug, **patient)
    resource = cluneal.fhir.medication_request(schedule)
    _r4b_validate(r4b, resource)
    fhir.validate(resource)
    assert json.loads(json.dumps(resource)) == resource


def test_medication_request_is_a_draft_proposal_for_the_drug() -> None:
    """cluneal proposes, a clinician decides: status draft, intent proposal."""
    mr = cluneal.fhir.medication_request(_schedule("gabapentin"))
    assert mr["resourceType"] == "MedicationRequest"
    assert (mr["status"], mr["intent"]) == ("draft", "proposal")
    concept = mr["medicationCodeableConcept"]
    assert concept["text"] == "gabapentin"
    assert concept["coding"] == [
        {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "25480",
            "display": "gabapentin",
        }
    ]
    assert mr["subject"] == {"display": "Patient (no reference supplied)"}


def test_every_drug_has_an_rxnorm_ingredient_code() -> None:
    """The six drugs map to RxNorm ingredient concepts (CPIC drug table; public RxNorm mappings)."""
    assert fhir.RXNORM_INGREDIENTS == {
        Drug.NORTRIPTYLINE: "7531",
        Drug.CARBAMAZEPINE: "2002",
        Drug.GABAPENTIN: "25480",
        Drug.PREGABALIN: "187832",
        Drug.NALTREXONE: "7243",
        Drug.TRAMADOL: "10689",
    }


def test_one_dosage_instruction_per_step_in_sequence() -> None:
    """Gabapentin standard protocol (clinical reference 0.4): 300, 600, 900 mg on days 0, 1, 2, then weekly."""
    schedule = _schedule("gabapentin")
    dosages = cluneal.fhir.medication_request(schedule)["dosageInstruction"]
    assert len(dosages) == len(schedule.steps)
    assert [d["sequence"] for d in dosages] == list(range(1, len(schedule.steps) + 1))
    assert [s.daily_dose_mg for s in schedule.steps][:3] == [300.0, 600.0, 900.0]
    assert dosages[0]["text"].startswith("Day 0: 300 mg (1 x 300 mg capsule) at bedtime")
    assert dosages[3]["text"].startswith("Days 9-15: ")


def test_bounds_duration_is_the_length_of_each_step() -> None:
    """boundsDuration (UCUM d) = next step's day - this step's day; the last step is open-ended."""
    schedule = _schedule("gabapentin")
    dosages = cluneal.fhir.medication_request(schedule)["dosageInstruction"]
    days = [s.day for s in schedule.steps]
    for dosage, day, next_day in zip(dosages, days, days[1:], strict=False):
        assert dosage["timing"]["repeat"]["boundsDuration"] == {
            "value": next_day - day,
            "unit": "d",
            "system": UCUM,
            "code": "d",
        }
    assert [d["timing"]["repeat"]["boundsDuration"]["value"] for d in dosages[:-1]] == [
        1,
        1,
        7,
        7,
        7,
    ]
    last = dosages[-1]
    assert "boundsDuration" not in last["timing"]["repeat"]
    assert last["text"].startswith(f"From day {days[-1]}:")
    assert "until reviewed" in last["text"]


def test_dose_quantity_is_ucum_mg() -> None:
    """Naltrexone low dose (clinical reference 0.4): 1.5, 3, 4.5 mg at bedtime, doses in UCUM mg."""
    schedule = _schedule("naltrexone", age=40, sex="female")
    dosages = cluneal.fhir.medication_request(schedule)["dosageInstruction"]
    assert [d["doseAndRate"][0]["doseQuantity"] for d in dosages] == [
        {"value": value, "unit": "mg", "system": UCUM, "code": "mg"} for value in (1.5, 3, 4.5)
    ]
    assert all(d["timing"]["repeat"]["when"] == ["HS"] for d in dosages)


@pytest.mark.parametrize(
    ("drug", "patient", "cap_mg", "rule"),
    [
        # clinical reference 0.3: tramadol age > 75 -> 300 mg/day.
        (
            "tramadol",
            {"age": 80, "sex": "female", "weight": "60 kg", "serum_creatinine": "1.0 mg/dL"},
            300,
            "tramadol.cap.age_over_75",
        ),
        # clinical reference 0.3: tramadol CrCl < 30 -> 200 mg/day.
        (
            "tramadol",
            {"age": 50, "sex": "male", "weight": "60 kg", "serum_creatinine": "3 mg/dL"},
            200,
            "tramadol.cap.renal",
        ),
        # clinical reference 0.3: naltrexone (low dose) 4.5 mg/day.
        ("naltrexone", {"age": 40, "sex": "female"}, 4.5, "naltrexone.cap.low_dose"),
        # clinical reference 0.3: gabapentin adult cap 3600 mg/day.
        ("gabapentin", ADULT, 3600, "gabapentin.cap.adult"),
    ],
)
def test_max_dose_per_period_is_the_cap(
    drug: str, patient: dict[str, Any], cap_mg: float, rule: str
) -> None:
    """maxDosePerPeriod = the cap that applied, mg per 1 d, on every step; its rule is named."""
    schedule = _schedule(drug, **patient)
    assert schedule.max_daily_dose_mg == cap_mg
    mr = cluneal.fhir.medication_request(schedule)
    for dosage in mr["dosageInstruction"]:
        assert dosage["maxDosePerPeriod"] == {
            "numerator": {"value": cap_mg, "unit": "mg", "system": UCUM, "code": "mg"},
            "denominator": {"value": 1, "unit": "d", "system": UCUM, "code": "d"},
        }
    rules = [e["valueCode"] for e in mr["extension"] if e["url"].endswith("max-daily-dose-rule")]
    assert rules == [rule]
    assert any(rule in n["text"] and f"{cap_mg:g} mg/day" in n["text"] for n in mr["note"])


def test_frequency_and_period_follow_timing() -> None:
    """n doses a day -> frequency n per 1 d; 'every 12 h' -> 1 per 12 h (tramadol, CrCl < 30)."""
    schedule = _schedule("tramadol", age=50, sex="male", weight="60 kg", serum_creatinine="3 mg/dL")
    dosages = cluneal.fhir.medication_request(schedule)["dosageInstruction"]
    seen_every_12_h = False
    for step, dosage in zip(schedule.steps, dosages, strict=True):
        repeat = dosage["timing"]["repeat"]
        if step.timing is Timing.EVERY_12_H:
            seen_every_12_h = True
            assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (1, 12, "h")
        else:
            assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (
                step.doses_per_day,
                1,
                "d",
            )
        if step.timing is Timing.MORNING:
            assert repeat["when"] == ["MORN"]
    assert seen_every_12_h


def test_adjustments_travel_as_extensions_and_notes_with_rule_ids() -> None:
    """Every adjustment keeps its rule id and citation (STYLE: every output names its rules)."""
    schedule = _schedule(
        "tramadol", age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL"
    )
    assert schedule.adjustments
    mr = cluneal.fhir.medication_request(schedule)
    exported = [
        {
            sub["url"]: next(v for k, v in sub.items() if k.startswith("value"))
            for sub in e["extension"]
        }
        for e in mr["extension"]
        if e["url"].endswith("/adjustment")
    ]
    assert exported == [
        {"ruleId": a.rule_id, "citation": a.citation, "reason": a.reason, "verified": a.verified}
        for a in schedule.adjustments
    ]
    notes = [n["text"] for n in mr["note"]]
    for adjustment in schedule.adjustments:
        assert any(adjustment.rule_id in n and adjustment.reason in n for n in notes)
    assert any("beers.hyponatraemia" in n for n in notes)  # the alert is listed by rule id
    assert notes[-1].endswith(SAFETY)


def test_supplemental_instruction_is_a_note() -> None:
    """clinical reference 0.2: the post-haemodialysis supplement is reported as a separate instruction."""
    schedule = _schedule("gabapentin", age=60, sex="male", weight="70 kg", on_dialysis=True)
    assert schedule.supplemental_instructions
    notes = [n["text"] for n in cluneal.fhir.medication_request(schedule)["note"]]
    for item in schedule.supplemental_instructions:
        assert any(item.rule_id in n and item.text in n for n in notes)


def test_dated_schedule_shows_dates_in_the_text() -> None:
    """A start date gives each step's calendar date in its text; no clock is read."""
    schedule = titration_schedule(
        "naltrexone", Patient(age=40, sex="female"), start_date="2026-03-02"
    )
    dosages = cluneal.fhir.medication_request(schedule)["dosageInstruction"]
    assert dosages[1]["text"].startswith("Days 7-13 (from 2026-03-09): 3 mg")


def test_patient_reference_is_the_subject() -> None:
    """A caller's reference becomes subject.reference; a bad one is refused with ClunealError."""
    schedule = _schedule("naltrexone", age=40, sex="female")
    mr = cluneal.fhir.medication_request(schedule, patient_reference="Patient/123")
    assert mr["subject"] == {"reference": "Patient/123"}
    for bad in ("", "  ", 5):
        with pytest.raises(ClunealError, match="patient_reference"):
            cluneal.fhir.medication_request(schedule, patient_reference=bad)  # type: ignore[arg-type]


# --- DetectedIssue ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        (Severity.CONTRAINDICATED, "high"),
        (Severity.MAJOR, "high"),
        (Severity.MODERATE, "moderate"),
        (Severity.INFO, "low"),
    ],
)
def test_detected_issue_severity_mapping(r4b: Any, severity: Severity, expected: str) -> None:
    """contraindicated/major -> high, moderate -> moderate, info -> low."""
    alert = SafetyAlert(
        severity=severity,
        drugs=("tramadol", "sertraline"),
        message="Serotonin syndrome and seizure risk.",
        rule_id="interaction.tramadol.ssri_snri",
        citation="tramadol_label",
        action="Avoid the combination.",
    )
    issue = cluneal.fhir.detected_issue(alert, implicated=["urn:uuid:x"])
    _r4b_validate(r4b, issue)
    assert issue["severity"] == expected
    assert issue["status"] == "preliminary"
    assert issue["code"]["coding"][0] == {"system": fhir.RULE_SYSTEM, "code": alert.rule_id}
    assert issue["code"]["text"] == "Safety alert: tramadol + sertraline"
    assert issue["detail"] == alert.message
    assert issue["mitigation"] == [{"action": {"text": "Avoid the combination."}}]
    assert issue["implicated"] == [{"reference": "urn:uuid:x"}]
    assert issue["evidence"][0]["detail"][0]["display"].startswith("[tramadol_label] ")


def test_detected_issue_without_action_or_known_citation(r4b: Any) -> None:
    """No action -> no mitigation; an id outside the citation registry is shown as it is."""
    alert = SafetyAlert(severity="info", message="m", rule_id="r.x", citation="not_a_source")
    issue = cluneal.fhir.detected_issue(alert)
    _r4b_validate(r4b, issue)
    assert "mitigation" not in issue
    assert "implicated" not in issue
    assert "reference" not in issue
    assert issue["code"]["text"] == "Safety alert"
    assert "not in the cluneal citation registry" in issue["evidence"][0]["detail"][0]["display"]


def test_detected_issue_points_to_the_citation_url() -> None:
    """DetectedIssue.reference is the citation's address when the registry has one."""
    alert = SafetyAlert(severity="moderate", message="m", rule_id="r", citation="beers_2023")
    issue = cluneal.fhir.detected_issue(alert)
    assert issue["reference"] == cluneal.citation("beers_2023").url


# --- PlanDefinition --------------------------------------------------------------


def test_plan_definition_has_one_action_per_transition(r4b: Any) -> None:
    """The pathway (clinical reference 0.8) as a PlanDefinition: one action per transition, all linked."""
    transitions = pathway_transitions()
    pd = cluneal.fhir.plan_definition()
    _r4b_validate(r4b, pd)
    assert (pd["status"], pd["url"], pd["version"]) == (
        "draft",
        fhir.PLAN_DEFINITION_URL,
        cluneal.KNOWLEDGE_BASE_VERSION,
    )
    actions = pd["action"]
    assert len(actions) == len(transitions)
    ids = [a["id"] for a in actions]
    assert len(set(ids)) == len(ids)
    for action, transition in zip(actions, transitions, strict=True):
        assert action["description"] == transition.rationale
        assert action["reason"][0]["coding"][0]["code"] == transition.rule_id
        assert action["code"][0]["coding"][0]["code"] == transition.step.value
        cited = [d["label"] for d in action["documentation"] if d["type"] == "citation"]
        assert set(transition.citations) <= set(cited)
        assert ("priority" in action) is transition.urgent
        for related in action.get("relatedAction", []):
            assert related["actionId"] in ids
            assert related["actionId"] != action["id"]
            assert related["relationship"] == "after"


def test_plan_definition_links_steps_to_what_leads_there() -> None:
    """RFA outcomes follow the action that proposes RFA; red flags apply at any visit."""
    actions = {a["id"]: a for a in cluneal.fhir.plan_definition()["action"]}
    after_rfa = {r["actionId"] for r in actions["pathway.rfa-failed"]["relatedAction"]}
    assert after_rfa == {"pathway.block-temporary", "pathway.repeat-block-temporary"}
    assert "relatedAction" not in actions["pathway.urgent-red-flag"]
    assert actions["pathway.urgent-red-flag"]["priority"] == "urgent"
    repeat = {r["actionId"] for r in actions["pathway.repeat-block-lasting"]["relatedAction"]}
    assert "pathway.block-temporary" in repeat
    after_any = {r["actionId"] for r in actions["pathway.duration-unknown"]["relatedAction"]}
    assert "pathway.rfa-failed" in after_any


def test_plan_definition_of_chosen_transitions() -> None:
    """A caller may export a subset of the transitions."""
    first = pathway_transitions()[:2]
    pd = cluneal.fhir.plan_definition(first)
    assert [a["id"] for a in pd["action"]] == ["pathway.urgent-red-flag", "pathway.red-flag"]


# --- Bundle ----------------------------------------------------------------------


def test_bundle_validates_whole_and_entry_by_entry(r4b: Any) -> None:
    """API.md: bundle(plan) is a FHIR R4 Bundle that validates with R4B models."""
    plan = _demo_plan()
    b = cluneal.fhir.bundle(plan, patient_reference="Patient/demo")
    _r4b_validate(r4b, b)
    for entry in b["entry"]:
        _r4b_validate(r4b, entry["resource"])
    fhir.validate(b)


def test_bundle_holds_care_plan_requests_and_issues() -> None:
    """Bundle (collection): CarePlan first, then one MedicationRequest per schedule, one DetectedIssue per alert."""
    plan = _demo_plan()
    b = cluneal.fhir.bundle(plan, patient_reference="Patient/demo")
    assert (b["resourceType"], b["type"]) == ("Bundle", "collection")
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    assert kinds == (
        ["CarePlan"]
        + ["MedicationRequest"] * len(plan.medications)
        + ["DetectedIssue"] * len(plan.alerts)
    )
    assert len(plan.medications) == 1
    assert len(plan.alerts) >= 2
    for entry in b["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    care = b["entry"][0]["resource"]
    assert (care["status"], care["intent"]) == ("draft", "proposal")
    assert care["subject"] == {"reference": "Patient/demo"}
    issues = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "DetectedIssue"]
    assert [i["code"]["coding"][0]["code"] for i in issues] == [a.rule_id for a in plan.alerts]
    assert [i["severity"] for i in issues] == [fhir.SEVERITY_MAP[a.severity] for a in plan.alerts]


def test_bundle_references_resolve() -> None:
    """CarePlan activities, supportingInfo and DetectedIssue.implicated point to entries of the Bundle."""
    plan = _demo_plan()
    b = cluneal.fhir.bundle(plan, patient_reference="Patient/demo")
    urls = {e["fullUrl"]: e["resource"] for e in b["entry"]}
    care = b["entry"][0]["resource"]
    requests = [u for u, r in urls.items() if r["resourceType"] == "MedicationRequest"]
    issues = [u for u, r in urls.items() if r["resourceType"] == "DetectedIssue"]
    activity_refs = [a["reference"]["reference"] for a in care["activity"] if "reference" in a]
    assert activity_refs == requests
    assert [s["reference"] for s in care["supportingInfo"]] == issues
    for ref in _references(b):
        assert ref == "Patient/demo" or ref in urls
    schedule_alerts = set(plan.medications[0].alerts)
    for alert, url in zip(plan.alerts, issues, strict=True):
        implicated = [i["reference"] for i in urls[url].get("implicated", [])]
        # A schedule's alert implicates its MedicationRequest; the omega-3 alert does not.
        assert implicated == (requests if alert in schedule_alerts else [])
    assert any(a.rule_id == "complementary.omega_3.bleeding" for a in plan.alerts)


def test_care_plan_activity_and_notes() -> None:
    """The recommended step is an activity; notes carry rationale, medication rationale, safety statement."""
    plan = _demo_plan()
    care = cluneal.fhir.bundle(plan)["entry"][0]["resource"]
    step = care["activity"][0]["detail"]
    assert (
        step["code"]["coding"][0]["code"]
        == plan.recommendation.step.value
        == "radiofrequency_ablation"
    )
    assert step["status"] == "not-started"
    assert step["description"] == plan.recommendation.rationale
    measures = [a["detail"]["code"]["coding"][0]["code"] for a in care["activity"][2:]]
    assert measures == [m.id for m in plan.complementary]
    notes = " ".join(n["text"] for n in care["note"])
    assert plan.recommendation.rationale in notes
    assert plan.medication_rationale in notes
    assert "Alternatives:" in notes
    assert SAFETY in notes
    assert care["instantiatesCanonical"] == [
        f"{fhir.PLAN_DEFINITION_URL}|{cluneal.KNOWLEDGE_BASE_VERSION}"
    ]


def test_bundle_without_medication_or_alerts(r4b: Any) -> None:
    """clinical reference 0.8: no medication while the diagnosis is unlikely; the Bundle stays valid."""
    findings = Findings.model_validate(
        {"pain": {"low_back_pain": False, "deep_aching_poorly_localized": False}}
    )
    plan = care_plan(Patient(age=40, sex="female"), findings, CareHistory())
    assert plan.medications == ()
    assert plan.alerts == ()
    b = cluneal.fhir.bundle(plan)
    _r4b_validate(r4b, b)
    assert [e["resource"]["resourceType"] for e in b["entry"]] == ["CarePlan"]
    assert "supportingInfo" not in b["entry"][0]["resource"]


def test_urgent_red_flag_is_marked_urgent() -> None:
    """clinical reference 0.8: bladder or bowel dysfunction -> reassess diagnosis, urgent."""
    findings = {**TRIAD_BLOCK_TEMPORARY, "neuro": {"bladder_bowel_dysfunction": True}}
    care = cluneal.fhir.bundle(care_plan(ADULT, findings))["entry"][0]["resource"]
    assert care["note"][0]["text"].startswith("Recommendation: Reassess diagnosis (urgent).")


# --- determinism -----------------------------------------------------------------


def test_exports_are_deterministic() -> None:
    """The same plan always exports the same JSON, byte for byte (UUID5 over content, no clock)."""
    first = cluneal.fhir.bundle(_demo_plan(), patient_reference="Patient/demo")
    second = cluneal.fhir.bundle(_demo_plan(), patient_reference="Patient/demo")
    assert first == second
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert cluneal.fhir.plan_definition() == cluneal.fhir.plan_definition()
    other = cluneal.fhir.bundle(_demo_plan(), patient_reference="Patient/other")
    assert other["id"] != first["id"]
    assert {e["fullUrl"] for e in other["entry"]}.isdisjoint({e["fullUrl"] for e in first["entry"]})


def test_bundle_request_matches_the_standalone_export() -> None:
    """The MedicationRequest in a Bundle is exactly medication_request(schedule) for the same patient."""
    plan = _demo_plan()
    b = cluneal.fhir.bundle(plan, patient_reference="Patient/demo")
    assert b["entry"][1]["resource"] == cluneal.fhir.medication_request(
        plan.medications[0], patient_reference="Patient/demo"
    )


# --- the optional extra ----------------------------------------------------------


def test_validate_without_the_extra_raises_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fhir.resources, validation raises MissingExtraError (a ClunealError and ImportError)."""
    monkeypatch.setitem(sys.modules, "fhir.resources", None)
    monkeypatch.setitem(sys.modules, "fhir.resources.R4B", None)
    resource = cluneal.fhir.medication_request(_schedule("naltrexone", age=40, sex="female"))
    with pytest.raises(MissingExtraError) as caught:
        cluneal.fhir.validate(resource)
    assert (caught.value.extra, caught.value.feature) == ("fhir", "FHIR validation")
    assert isinstance(caught.value, ImportError)
    assert 'pip install "cluneal[fhir]"' in str(caught.value)


def test_export_needs_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the JSON never touches fhir.resources."""
    monkeypatch.setitem(sys.modules, "fhir.resources", None)
    assert cluneal.fhir.bundle(_demo_plan())["type"] == "collection"


@pytest.mark.usefixtures("r4b")
def test_validate_rejects_bad_resources() -> None:
    """An unknown resourceType is a ClunealError; a non-conforming resource a ValidationError."""
    with pytest.raises(ClunealError, match="resourceType"):
        cluneal.fhir.validate({"resourceType": "NoSuchResource"})
    with pytest.raises(ClunealError, match="resourceType"):
        cluneal.fhir.validate({})
    mr = cluneal.fhir.medication_request(_schedule("naltrexone", age=40, sex="female"))
    del mr["subject"]  # required (1..1) in R4
    with pytest.raises(ValidationError):
        cluneal.fhir.validate(mr)


def test_importing_cluneal_fhir_does_not_import_fhir_resources() -> None:
    """STYLE: nothing imports an optional extra at import time; export is pure JSON."""
    code = (
        "import sys, cluneal, cluneal.fhir\n"
        "s = cluneal.titration_schedule('naltrexone', cluneal.Patient(age=40, sex='female'))\n"
        "cluneal.fhir.medication_request(s)\n"
        "print(any(m == 'fhir.resources' or m.startswith('fhir.resources.') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"


def test_public_module_re_exports_the_export_functions() -> None:
    """cluneal.fhir is the one FHIR module path: the export functions live in cluneal.fhir.export."""
    for name in ("bundle", "detected_issue", "medication_request", "plan_definition", "validate"):
        assert name in cluneal.fhir.__all__
        assert getattr(cluneal.fhir, name) is getattr(fhir, name)
    with pytest.raises(ImportError):
        __import__("cluneal.export")


def test_every_exported_resource_passes_an_independent_r4_validator() -> None:
    """fhirkit (generated from the R4 4.0.1 specification) agrees with fhir.resources R4B."""
    from tests.fhir_validation import assert_valid_fhir

    for drug in ("nortriptyline", "carbamazepine", "gabapentin", "pregabalin", "tramadol"):
        assert_valid_fhir(fhir.medication_request(_schedule(drug), patient_reference="Patient/1"))
    assert_valid_fhir(fhir.plan_definition())
    assert_valid_fhir(fhir.bundle(_demo_plan(), patient_reference="Patient/1"))
    for alert in _demo_plan().alerts:
        assert_valid_fhir(fhir.detected_issue(alert, patient_reference="Patient/1"))
