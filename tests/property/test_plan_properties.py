"""Care plans over random patients: no drug offered without its screening status (clinical.md 0.10)."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings

from cluneal import Patient, Severity, check_regimen
from cluneal.diagnosis import Findings, PainPattern, TenderPoint
from cluneal.plan import ChoiceStatus, ScreeningStatus, care_plan
from tests.property.strategies_findings import findings
from tests.property.strategies_patients import patients

TRIAD_1_2 = Findings(
    pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(patient=patients(), found=findings())
@example(patient=Patient(age=50, sex="male", medications=["phenelzine"]), found=TRIAD_1_2)
@example(
    patient=Patient(age=40, sex="female", conditions=["tricyclic_hypersensitivity"]),
    found=TRIAD_1_2,
)
def test_every_listed_drug_carries_its_screening(patient: Patient, found: Findings) -> None:
    """0.10: every drug a care plan lists is screened and shown with its status; a drug the
    safety screen contraindicates is shown as contraindicated, never offered plainly."""
    plan = care_plan(patient, found)
    assert {c.drug for c in plan.drug_choices} == {
        "nortriptyline",
        "carbamazepine",
        "gabapentin",
        "pregabalin",
        "tramadol",
        "naltrexone",
    }
    for choice in plan.drug_choices:
        alerts = check_regimen([choice.drug], patient)
        refused = any(a.severity is Severity.CONTRAINDICATED for a in alerts)
        if refused:
            assert choice.status is ChoiceStatus.CONTRAINDICATED, choice
            assert choice.screening is ScreeningStatus.CONTRAINDICATED
        if choice.status is not ChoiceStatus.CONTRAINDICATED:
            expected = alerts[0].severity.value if alerts else "no_alerts"
            if choice.status is not ChoiceStatus.CHOSEN:
                assert choice.screening.value == expected, choice
        assert choice.status is not ChoiceStatus.CHOSEN or not refused
