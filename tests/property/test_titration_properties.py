"""Invariants of titration_schedule over random plausible patients (clinical.md Part 0.2-0.5)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cluneal import Q_, ContraindicatedError, Drug, Patient, RenalBand
from cluneal._compose import formulary
from cluneal.titration import TitrationSchedule, titration_schedule
from tests.property.strategies_patients import patient_fields, patients

# The budget and derandomisation come from the profile (tests/conftest.py).
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])
drugs = st.sampled_from(list(Drug))
targets = st.one_of(st.none(), st.floats(min_value=0.5, max_value=5000, allow_nan=False))


def schedule_or_none(
    drug: Drug, patient: Patient, target: float | None = None
) -> TitrationSchedule | None:
    try:
        return titration_schedule(drug, patient, None if target is None else Q_(target, "mg/day"))
    except ContraindicatedError:
        return None


@SETTINGS
@given(drug=drugs, patient=patients(), target=targets)
# Found by random exploration: a gabapentin start-low dose scaled by CrCl/15 to
# below the solution's smallest measure must still give a day-0 step.
@example(
    drug=Drug.GABAPENTIN,
    patient=Patient(age=100, sex="male", weight="21.6 kg", serum_creatinine="20 mg/dL"),
    target=None,
)
@example(drug=Drug.NORTRIPTYLINE, patient=Patient(age=40, sex="male"), target=0.5)
def test_schedule_invariants(drug: Drug, patient: Patient, target: float | None) -> None:
    """No step above its cap; days strictly increase from 0; daily doses never fall;
    dose x doses per day = daily dose; every dose is made of the drug's strengths."""
    s = schedule_or_none(drug, patient, target)
    if s is None:
        return
    assert s.steps[0].day == 0
    form = formulary(drug, with_solution=True)
    previous = None
    for step in s.steps:
        assert step.daily_dose_mg <= s.max_daily_dose_mg + 1e-9
        assert abs(step.dose_mg * step.doses_per_day - step.daily_dose_mg) < 1e-6
        assert form.round_down(step.dose_mg) == step.dose_mg
        assert step.composition
        if previous is not None:
            assert step.day > previous.day
            assert step.daily_dose_mg >= previous.daily_dose_mg
        previous = step


@SETTINGS
@given(drug=drugs, patient=patients())
def test_contraindicated_raises_only_contraindicated_error(drug: Drug, patient: Patient) -> None:
    """Contraindicated -> ContraindicatedError (with contraindicating alerts), never anything else."""
    try:
        titration_schedule(drug, patient)
    except ContraindicatedError as exc:
        alerts = exc.alerts
    else:
        return
    assert alerts
    assert all(a.severity.value == "contraindicated" for a in alerts)


@SETTINGS
@given(drug=drugs, patient=patients())
def test_json_round_trip(drug: Drug, patient: Patient) -> None:
    """TitrationSchedule.model_validate_json(s.model_dump_json()) == s."""
    s = schedule_or_none(drug, patient)
    if s is not None:
        assert TitrationSchedule.model_validate_json(s.model_dump_json()) == s


@SETTINGS
@given(
    drug=drugs,
    fields=patient_fields(with_creatinine=True),
    factor=st.floats(min_value=1.0, max_value=20.0, allow_nan=False),
    target=targets,
)
def test_worse_renal_function_never_gives_a_higher_dose(
    drug: Drug, fields: dict[str, Any], factor: float, target: float | None
) -> None:
    """Higher creatinine, same patient: never a higher cap.

    Doses themselves are not compared: Part 0.9 rounds each step to what the band's
    equal doses make, so a worse band can be ahead on a day or at the end while staying
    within its own, lower, label range (gabapentin 500 mg/day is 2 x 200 = 400 at
    30-60 mL/min but one 500 mg dose, a label Table 1 column, at 15-30 mL/min)."""
    better = Patient(**fields)
    scr = min(25.0, fields["serum_creatinine"].m * factor)
    worse = Patient(**{**fields, "serum_creatinine": Q_(scr, "mg/dL")})
    a, b = schedule_or_none(drug, better, target), schedule_or_none(drug, worse, target)
    if a is None or b is None:
        return
    assert all(st.daily_dose_mg <= b.max_daily_dose_mg + 1e-9 for st in b.steps)
    assert b.max_daily_dose_mg <= a.max_daily_dose_mg + 1e-9


@SETTINGS
@given(
    drug=drugs,
    fields=patient_fields(),
    older=st.floats(min_value=0.0, max_value=60.0, allow_nan=False),
)
def test_older_age_never_gives_a_higher_cap(
    drug: Drug, fields: dict[str, Any], older: float
) -> None:
    """Same patient, older: the cap never rises."""
    young = Patient(**fields)
    age = min(120.0, fields["age"].m + older)
    old = Patient(**{**fields, "age": Q_(age, "year")})
    a, b = schedule_or_none(drug, young), schedule_or_none(drug, old)
    if a is None or b is None:
        return
    assert b.max_daily_dose_mg <= a.max_daily_dose_mg + 1e-9


# Part 0.9, "Largest single dose", written out independently of the knowledge base.
GABAPENTIN_SINGLE = {
    RenalBand.NORMAL: 1200,  # label Table 1, CrCl >= 60
    RenalBand.MODERATE: 700,  # 30-59
    RenalBand.SEVERE: 700,  # 15-29
    RenalBand.END_STAGE: 300,  # 15
}
PREGABALIN_SINGLE = {  # the band's daily maximum over its lowest count
    RenalBand.NORMAL: 300,
    RenalBand.MODERATE: 150,
    RenalBand.SEVERE: 150,
    RenalBand.END_STAGE: 75,
}
# Part 0.9, dialysis supplements: (maintenance from, supplement), lower label value.
SUPPLEMENTS = {
    Drug.GABAPENTIN: [(100, 125), (125, 150), (150, 200), (200, 250), (300, 350)],
    Drug.PREGABALIN: [(25, 25), (50, 50), (51, 75), (75, 100)],
}


def largest_single_dose(s: TitrationSchedule, patient: Patient) -> float:
    band = s.renal.band
    if s.drug is Drug.GABAPENTIN:
        return GABAPENTIN_SINGLE[band]
    if s.drug is Drug.PREGABALIN:
        return PREGABALIN_SINGLE[band]
    if s.drug is Drug.TRAMADOL:
        hepatic = patient.hepatic_impairment.value in {"moderate", "severe"} or (
            "cirrhosis" in {c.value for c in patient.conditions}
        )
        return 50 if hepatic else 100
    return s.max_daily_dose_mg


@SETTINGS
@given(drug=drugs, patient=patients(), target=targets)
@example(
    drug=Drug.GABAPENTIN,
    patient=Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL"),
    target=1300.0,
)
@example(
    drug=Drug.TRAMADOL,
    patient=Patient(age=50, sex="male", hepatic_impairment="moderate"),
    target=400.0,
)
def test_regimens_a_clinician_would_write(
    drug: Drug, patient: Patient, target: float | None
) -> None:
    """Part 0.9: doses per day never fall; no single dose above its largest single dose;
    the first step on day 0."""
    s = schedule_or_none(drug, patient, target)
    if s is None:
        return
    assert s.steps[0].day == 0
    counts = [st.doses_per_day for st in s.steps]
    assert counts == sorted(counts), counts
    largest = largest_single_dose(s, patient)
    assert all(st.dose_mg <= largest + 1e-9 for st in s.steps)


@SETTINGS
@given(
    drug=st.sampled_from([Drug.GABAPENTIN, Drug.PREGABALIN]),
    fields=patient_fields(),
    target=targets,
)
def test_dialysis_supplements_follow_the_label_rows(
    drug: Drug, fields: dict[str, Any], target: float | None
) -> None:
    """Part 0.9: on every day, the supplement in force is the label row with the largest
    maintenance dose not above that day's maintenance dose."""
    s = schedule_or_none(drug, Patient(**{**fields, "on_dialysis": True}), target)
    if s is None:
        return
    rows = SUPPLEMENTS[drug]
    for step in s.steps:
        in_force = [i for i in s.supplemental_instructions if (i.from_day or 0) <= step.day][-1]
        expected = max((r for r in rows if r[0] <= step.daily_dose_mg + 1e-9), default=rows[0])
        assert in_force.dose == Q_(float(expected[1]), "mg")
