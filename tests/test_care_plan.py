"""The care plan: first-line drug choice, complementary care, alerts and trace (clinical.md 0.8)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cluneal import Drug, Patient, Severity
from cluneal.complementary import complementary_care, complementary_measures
from cluneal.diagnosis import BlockResult, Findings, NeuroExam, PainPattern, TenderPoint
from cluneal.errors import ClunealError
from cluneal.evidence import EvidenceLevel, citation
from cluneal.pathway import CareHistory, InterventionOutcome, PathwayStep
from cluneal.plan import CarePlan, ChoiceStatus, ScreeningStatus, care_plan

TRIAD_1_2 = Findings(
    pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
)
RENAL_OK: dict[str, Any] = {"weight": "70 kg", "serum_creatinine": "0.9 mg/dL"}


def _chosen(plan: CarePlan) -> list[str]:
    return [s.drug.value for s in plan.medications]


def _status(plan: CarePlan, drug: str) -> ChoiceStatus:
    return next(c.status for c in plan.drug_choices if c.drug.value == drug)


def test_young_adult_gets_nortriptyline_first() -> None:
    """clinical.md 0.8: first choice nortriptyline unless contraindicated, older or cardiac."""
    plan = care_plan(Patient(age=30, sex="female", **RENAL_OK), TRIAD_1_2)
    assert _chosen(plan) == ["nortriptyline"]
    assert _status(plan, "nortriptyline") is ChoiceStatus.CHOSEN
    assert _status(plan, "carbamazepine") is ChoiceStatus.NOT_REACHED
    assert plan.medications[0].steps[0].day == 0


def test_seventy_year_old_does_not_get_nortriptyline() -> None:
    """clinical.md 0.8 and Beers 2023: no nortriptyline first at 65 or older."""
    plan = care_plan(Patient(age=70, sex="male", **RENAL_OK), TRIAD_1_2)
    assert "nortriptyline" not in _chosen(plan)
    assert _status(plan, "nortriptyline") is ChoiceStatus.EXCLUDED
    assert _chosen(plan) == ["carbamazepine"]
    assert "pharm.skip.nortriptyline.older" in plan.trace


def test_sixty_five_counts_as_older() -> None:
    """clinical.md 0.4: older means age >= 65 (the conservative reading of 'older than 65')."""
    plan = care_plan(Patient(age=65, sex="male", **RENAL_OK), TRIAD_1_2)
    assert _status(plan, "nortriptyline") is ChoiceStatus.EXCLUDED


def test_cardiac_disease_skips_nortriptyline() -> None:
    """clinical.md 0.8: not nortriptyline with cardiac disease."""
    plan = care_plan(
        Patient(age=40, sex="male", conditions=["cardiac_disease"], **RENAL_OK), TRIAD_1_2
    )
    assert _status(plan, "nortriptyline") is ChoiceStatus.EXCLUDED
    assert _chosen(plan) == ["carbamazepine"]


@pytest.mark.parametrize(
    ("kwargs", "expected", "skipped"),
    [
        # MAOI contraindicates nortriptyline and carbamazepine (clinical.md 0.5) -> gabapentin
        ({"medications": ["phenelzine"]}, "gabapentin", ["nortriptyline", "carbamazepine"]),
        # recent MI excludes nortriptyline; HLA-B*15:02 positive refuses carbamazepine
        (
            {"conditions": ["recent_myocardial_infarction"], "hla_b_1502": True},
            "gabapentin",
            ["nortriptyline", "carbamazepine"],
        ),
        # pregnancy refuses carbamazepine (0.5); young adult still gets nortriptyline
        ({"conditions": ["pregnancy"]}, "nortriptyline", []),
    ],
)
def test_contraindications_push_the_choice_down(
    kwargs: dict[str, Any], expected: str, skipped: list[str]
) -> None:
    """clinical.md 0.8: contraindications push the choice down the first-line list."""
    plan = care_plan(Patient(age=30, sex="female", **RENAL_OK, **kwargs), TRIAD_1_2)
    assert _chosen(plan) == [expected]
    for drug in skipped:
        assert _status(plan, drug) in {ChoiceStatus.CONTRAINDICATED, ChoiceStatus.EXCLUDED}
        assert drug in plan.medication_rationale.lower()


def test_every_first_line_drug_excluded_gives_no_medication_and_an_explanation() -> None:
    """clinical.md 0.8: every first-line drug contraindicated -> no medication, explained.

    70 years old (nortriptyline excluded, Beers 2023), HLA-B*15:02 positive
    (carbamazepine refused, Part 0.5), hypersensitive to gabapentin and
    pregabalin (their labels' only contraindication, B5).
    """
    plan = care_plan(
        Patient(
            age=70,
            sex="male",
            hla_b_1502=True,
            allergies=["gabapentin", "pregabalin"],
            **RENAL_OK,
        ),
        TRIAD_1_2,
    )
    assert plan.medications == ()
    assert _status(plan, "nortriptyline") is ChoiceStatus.EXCLUDED
    for drug in ("carbamazepine", "gabapentin", "pregabalin"):
        assert _status(plan, drug) is ChoiceStatus.CONTRAINDICATED
    assert plan.medication_rationale.startswith("Every first-line drug is contraindicated")
    for drug in ("nortriptyline", "carbamazepine", "gabapentin", "pregabalin"):
        assert drug in plan.medication_rationale.lower()
    assert "contraindication.gabapentin.hypersensitivity" in plan.trace


def test_no_medication_while_diagnosis_unlikely() -> None:
    """No drug is started for cluneal neuralgia while the diagnosis is unlikely (conservative)."""
    plan = care_plan(Patient(age=30, sex="female", **RENAL_OK), Findings(tender_points=()))
    assert plan.medications == ()
    assert all(
        c.status in {ChoiceStatus.WITHHELD, ChoiceStatus.SECOND_LINE} for c in plan.drug_choices
    )
    assert "unlikely" in plan.medication_rationale
    assert plan.recommendation.step is PathwayStep.REASSESS_DIAGNOSIS


def test_no_medication_with_urgent_red_flag() -> None:
    """Bladder or bowel dysfunction: urgent reassessment, no titration started."""
    plan = care_plan(
        Patient(age=30, sex="female", **RENAL_OK),
        Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True)),
    )
    assert plan.medications == ()
    assert plan.recommendation.urgent
    assert "pharm.withhold.urgent" in plan.trace


def test_second_line_drugs_are_listed_not_scheduled() -> None:
    """clinical.md 0.8: tramadol and low-dose naltrexone only as second line."""
    plan = care_plan(Patient(age=30, sex="female", **RENAL_OK), TRIAD_1_2)
    second = {c.drug for c in plan.drug_choices if c.status is ChoiceStatus.SECOND_LINE}
    assert second == {Drug.TRAMADOL, Drug.NALTREXONE}
    assert all(s.drug not in second for s in plan.medications)


def test_complementary_care_labelled_with_real_evidence() -> None:
    """clinical.md D9: no cluneal-specific evidence for any complementary measure."""
    ids = [m.id for m in complementary_measures()]
    assert ids == [
        "aerobic_exercise",
        "heat_cold",
        "omega_3",
        "gluten_free_trial",
        "meditation",
        "acupuncture",
    ]
    for measure in complementary_measures():
        assert measure.evidence_level is EvidenceLevel.NO_SPECIFIC_EVIDENCE
        assert "cluneal" in measure.evidence_note
        for c in measure.citations:
            citation(c)


@pytest.mark.parametrize("medication", ["warfarin", "apixaban", "clopidogrel", "aspirin"])
def test_omega_3_with_anticoagulant_or_antiplatelet_alerts(medication: str) -> None:
    """clinical.md 0.6: omega-3 with an anticoagulant or antiplatelet (bleeding: moderate)."""
    plan = care_plan(Patient(age=30, sex="female", medications=[medication], **RENAL_OK), TRIAD_1_2)
    omega = [a for a in plan.alerts if a.rule_id == "complementary.omega_3.bleeding"]
    assert len(omega) == 1
    assert omega[0].severity is Severity.MODERATE
    assert medication in omega[0].drugs


def test_no_omega_3_alert_without_bleeding_risk_drug() -> None:
    """The omega-3 alert needs an anticoagulant or antiplatelet."""
    assert complementary_care(Patient(age=30, sex="female", medications=["sertraline"]))[1] == ()


def test_plan_carries_alerts_of_the_schedule_and_version_and_trace() -> None:
    """All alerts, the knowledge-base version and a trace of the rules applied."""
    plan = care_plan(Patient(age=72, sex="female", medications=["warfarin"], **RENAL_OK), TRIAD_1_2)
    schedule_alerts = set(plan.medications[0].alerts)
    assert schedule_alerts <= set(plan.alerts)
    severities = [a.severity.rank for a in plan.alerts]
    assert severities == sorted(severities, reverse=True)
    assert plan.knowledge_base_version == plan.medications[0].knowledge_base_version
    assert "pathway.block_indicated" in plan.trace
    assert "pharm.first_line" in plan.trace
    assert plan.safety_statement.startswith("cluneal supports clinical decisions")


def test_plan_follows_history_to_rfa() -> None:
    """The recommendation inside the plan is the pathway's next step."""
    findings = Findings(
        pain=TRIAD_1_2.pain,
        tender_points=TRIAD_1_2.tender_points,
        block=BlockResult(branches={"superior"}, relief_percent=80, relief_duration="3 weeks"),
    )
    plan = care_plan(Patient(age=30, sex="female", **RENAL_OK), findings, CareHistory())
    assert plan.recommendation.step is PathwayStep.RADIOFREQUENCY_ABLATION
    later = care_plan(
        Patient(age=30, sex="female", **RENAL_OK),
        findings,
        CareHistory(
            outcomes=[
                InterventionOutcome(
                    intervention="radiofrequency_ablation",
                    relief_percent=90,
                    relief_duration="6 months",
                )
            ]
        ),
    )
    assert later.recommendation.step is PathwayStep.MAINTAIN


def test_plan_json_round_trip_and_mappings() -> None:
    """API.md: JSON round trip; services may pass JSON mappings."""
    plan = care_plan(
        {
            "age": 45,
            "sex": "male",
            "weight": {"value": 80, "unit": "kg"},
            "serum_creatinine": "1.0 mg/dL",
            "medications": ["warfarin"],
        },
        TRIAD_1_2.model_dump(mode="json"),
        {"outcomes": []},
        start_date="2026-12-01",
    )
    assert CarePlan.model_validate_json(plan.model_dump_json()) == plan
    assert plan.medications[0].steps[0].date is not None


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((42, TRIAD_1_2), ClunealError),
        ((Patient(age=30, sex="male"), "findings"), ClunealError),
        (({"age": 10, "sex": "male"}, TRIAD_1_2), ValidationError),
    ],
)
def test_bad_input_fails_closed(args: tuple[Any, ...], error: type[Exception]) -> None:
    """Principle 3: bad input is a clear error."""
    with pytest.raises(error):
        care_plan(*args)


# --- clinical.md 0.10: every listed drug screened; hypersensitivity ----------------------


def test_tricyclic_hypersensitivity_is_never_given_nortriptyline() -> None:
    """0.10: tricyclic_hypersensitivity contraindicates nortriptyline (label [V2]) and
    carbamazepine; care_plan passes both over and proposes gabapentin."""
    p = Patient(age=40, sex="female", conditions=["tricyclic_hypersensitivity"], **RENAL_OK)
    plan = care_plan(p, TRIAD_1_2)
    assert _status(plan, "nortriptyline") is ChoiceStatus.CONTRAINDICATED
    assert _status(plan, "carbamazepine") is ChoiceStatus.CONTRAINDICATED
    assert _chosen(plan) == ["gabapentin"]
    assert "contraindication.nortriptyline.tricyclic_hypersensitivity" in plan.trace


def test_maoi_patient_never_sees_tramadol_as_a_plain_second_line_option() -> None:
    """0.10: an MAOI patient must not see tramadol as a plain second-line option: it is shown
    as contraindicated with its reasons, in the choices and in the rationale."""
    p = Patient(age=50, sex="male", medications=["phenelzine"], **RENAL_OK)
    plan = care_plan(p, TRIAD_1_2)
    tramadol = next(c for c in plan.drug_choices if c.drug is Drug.TRAMADOL)
    assert tramadol.status is ChoiceStatus.CONTRAINDICATED
    assert tramadol.screening is ScreeningStatus.CONTRAINDICATED
    assert "contraindication.tramadol.maoi" in tramadol.rule_ids
    assert "MAOI" in tramadol.reason
    assert "tramadol (contraindicated)" in plan.medication_rationale
    naltrexone = next(c for c in plan.drug_choices if c.drug is Drug.NALTREXONE)
    assert naltrexone.status is ChoiceStatus.SECOND_LINE
    assert naltrexone.screening is ScreeningStatus.NO_ALERTS


def test_an_alternative_not_reached_is_still_screened() -> None:
    """0.10: the first-line alternatives are screened too: carbamazepine not reached after
    nortriptyline, but contraindicated by HLA-B*15:02, is shown as contraindicated."""
    p = Patient(age=30, sex="female", hla_b_1502=True, **RENAL_OK)
    plan = care_plan(p, TRIAD_1_2)
    assert _chosen(plan) == ["nortriptyline"]
    carbamazepine = next(c for c in plan.drug_choices if c.drug is Drug.CARBAMAZEPINE)
    assert carbamazepine.status is ChoiceStatus.CONTRAINDICATED
    assert "otherwise not reached" in carbamazepine.reason


def test_screening_of_an_option_with_alerts_names_them() -> None:
    """0.10: a listed drug with alerts but no contraindication keeps its status and says
    which alerts it has (tramadol with sertraline: serotonin syndrome, major)."""
    p = Patient(age=30, sex="female", medications=["sertraline"], **RENAL_OK)
    plan = care_plan(p, TRIAD_1_2)
    tramadol = next(c for c in plan.drug_choices if c.drug is Drug.TRAMADOL)
    assert tramadol.status is ChoiceStatus.SECOND_LINE
    assert tramadol.screening is ScreeningStatus.MAJOR
    assert "interaction.tramadol.ssri_snri" in tramadol.reason


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"start_date": "someday"}, "start_date"), ({"weight_basis": "lean"}, "weight_basis")],
)
def test_bad_arguments_fail_even_when_no_drug_is_scheduled(
    arguments: dict[str, Any], field: str
) -> None:
    """Fail closed: an argument is checked whether or not a drug is scheduled (an urgent red
    flag withholds every drug, clinical.md 0.7)."""
    urgent = Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True))
    with pytest.raises(ClunealError, match=field):
        care_plan(Patient(age=30, sex="female", **RENAL_OK), urgent, **arguments)
