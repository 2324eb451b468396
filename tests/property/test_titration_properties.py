"""Invariants of titration_schedule over random plausible patients (clinical.md Part 0.2-0.5)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluneal import Q_, ContraindicatedError, Drug, Patient
from cluneal._rounding import formulary
from cluneal.titration import TitrationSchedule, titration_schedule
from tests.property.strategies_patients import patient_fields, patients

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    """Higher creatinine, same patient: never a higher daily dose on any day."""
    better = Patient(**fields)
    scr = min(25.0, fields["serum_creatinine"].m * factor)
    worse = Patient(**{**fields, "serum_creatinine": Q_(scr, "mg/dL")})
    a, b = schedule_or_none(drug, better, target), schedule_or_none(drug, worse, target)
    if a is None or b is None:
        return
    days = {st.day for st in a.steps} | {st.day for st in b.steps}
    for day in days:
        assert b.dose_on(day).daily_dose_mg <= a.dose_on(day).daily_dose_mg + 1e-9
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
