"""The titration engine's memos change no schedule (issue 11: a fast engine, same answers).

``titration_schedule`` reuses what it decided for earlier patients with the same
facts (choices keyed on the atoms and the age bounds the age is above, plans
keyed on the choice, start-low words per age, renal words around the CrCl). Each
test builds schedules with the memos as earlier calls left them (warm), then
again with every memo emptied (cold), and compares the two: JSON, equality and
every text read. No expected value is computed here; the cold path is the
reference.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluneal import Q_, ContraindicatedError, Drug, Patient, knowledge_base
from cluneal.knowledge.criteria import Criteria
from cluneal.safety import screen
from cluneal.titration import TitrationSchedule, titration_schedule
from cluneal.titration._engine import clear_memos, prepare, screened_for
from tests.property.strategies_patients import patient_fields

SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)

# Integer ages around the limits the rules read (18, 40, 65, 75) and beyond: siblings
# share most memo keys, so warm schedules reuse entries another patient made.
ages = st.integers(min_value=18, max_value=100)
targets = st.one_of(st.none(), st.sampled_from([1.5, 50.0, 300.0, 1200.0, 5000.0]))
protocols = st.sampled_from([None, "standard", "start_low"])
starts = st.one_of(st.none(), st.just(dt.date(2026, 1, 5)))


def _outcome(drug: Drug, patient: Patient, options: dict[str, Any]) -> object:
    try:
        return titration_schedule(drug, patient, **options)
    except ContraindicatedError as exc:
        return ("refused", tuple(a.model_dump_json() for a in exc.alerts))


def _words(schedule: TitrationSchedule) -> list[str]:
    """Every text of the schedule, read through the attributes (rendered on read)."""
    texts = [a.reason for a in schedule.adjustments]
    texts += [s.reason for s in schedule.steps]
    texts += [a.message for a in schedule.alerts]
    texts += [i.text for i in schedule.supplemental_instructions]
    texts.append(schedule.renal.reason)
    return texts


def _same(warm: object, cold: object) -> None:
    if isinstance(cold, TitrationSchedule):
        assert isinstance(warm, TitrationSchedule)
        assert warm.model_dump_json() == cold.model_dump_json()
        assert warm == cold
        assert _words(warm) == _words(cold)
    else:
        assert warm == cold


@SETTINGS
@given(
    fields=patient_fields(),
    alone=st.booleans(),
    allergies=st.lists(st.sampled_from([d.value for d in Drug]), max_size=2, unique=True),
    sibling_ages=st.lists(ages, min_size=1, max_size=3),
    drug=st.sampled_from(list(Drug)),
    target=targets,
    protocol=protocols,
    start=starts,
)
def test_warm_and_cold_schedules_are_identical(
    fields: dict[str, Any],
    alone: bool,
    allergies: list[str],
    sibling_ages: list[int],
    drug: Drug,
    target: float | None,
    protocol: str | None,
    start: dt.date | None,
) -> None:
    """Patients differing only in age, scheduled warm then cold: the same schedules.

    ``alone``: no co-medication, the case whose screening is memoised.
    """
    if alone:
        fields = {**fields, "medications": (), "recent_medications": ()}
    fields = {**fields, "allergies": allergies}
    patients = [Patient(**{**fields, "age": age}) for age in sibling_ages]
    options: dict[str, Any] = {
        "target_daily_dose": None if target is None else Q_(target, "mg/day"),
        "protocol": protocol,
        "start_date": start,
    }
    warm = [_outcome(drug, p, options) for p in patients]
    clear_memos()
    cold = [_outcome(drug, p, options) for p in patients]
    for w, c in zip(warm, cold, strict=True):
        _same(w, c)


def test_a_memoised_start_low_reason_quotes_each_patients_own_age() -> None:
    """Two older adults with the same facts share a choice, but each reason names their age."""
    clear_memos()
    older = [
        Patient(age=age, sex="female", weight="60 kg", serum_creatinine="0.8 mg/dL")
        for age in (70, 71)
    ]
    reasons = [
        [a.reason for a in titration_schedule(Drug.PREGABALIN, p).adjustments] for p in older
    ]
    assert any("age 70 years" in r for r in reasons[0])
    assert any("age 71 years" in r for r in reasons[1])
    assert not any("age 70 years" in r for r in reasons[1])
    # The caller asking for the standard protocol: the alert quotes the age too.
    alerts = [titration_schedule(Drug.PREGABALIN, p, protocol="standard").alerts for p in older]
    messages = [[a.message for a in found] for found in alerts]
    assert any("age 70 years" in m for m in messages[0])
    assert any("age 71 years" in m for m in messages[1])


def test_scaled_plans_are_composed_for_each_clearance() -> None:
    """Gabapentin below its end-stage threshold: two CrCls, two scaled schedules, none shared."""
    clear_memos()
    low = Patient(age=80, sex="male", weight="60 kg", serum_creatinine="5 mg/dL")
    lower = Patient(age=80, sex="male", weight="60 kg", serum_creatinine="7 mg/dL")
    first, second = (titration_schedule(Drug.GABAPENTIN, p) for p in (low, lower))
    assert first.max_daily_dose_mg > second.max_daily_dose_mg
    for s in (first, second):
        scaled = [a.reason for a in s.adjustments if a.rule_id == "titration.renal.scaled"]
        assert len(scaled) == 1
        assert f"{s.renal.crcl_ml_min:.1f}" in scaled[0]


def test_a_cap_on_an_age_bound_is_never_served_to_the_other_side_of_it() -> None:
    """A variant base caps nortriptyline above 50 years: 45 and 55, same facts, different caps."""
    kb = knowledge_base()
    mono = kb.monographs[Drug.NORTRIPTYLINE]
    over_50 = mono.caps[2].model_copy(update={"when": Criteria(age_over_years=50.0)})
    variant = kb.replace(
        version="test-age-bound",
        monographs={
            **kb.monographs,
            Drug.NORTRIPTYLINE: mono.model_copy(update={"caps": (*mono.caps[:2], over_50)}),
        },
    )
    people = [Patient(age=age, sex="male", weight="70 kg") for age in (45, 55, 47, 58)]
    warm = [titration_schedule(Drug.NORTRIPTYLINE, p, knowledge=variant) for p in people]
    caps = [s.max_daily_dose_rule for s in warm]
    assert caps == [
        mono.caps[0].rule_id,
        over_50.rule_id,
        mono.caps[0].rule_id,
        over_50.rule_id,
    ]
    clear_memos()
    cold = [titration_schedule(Drug.NORTRIPTYLINE, p, knowledge=variant) for p in people]
    assert warm == cold


def test_screening_is_memoised_on_the_safety_rules_age_bounds() -> None:
    """Nortriptyline's ECG alert holds above 40 years: 39 and 41, no co-medication, same atoms."""
    clear_memos()
    people = [Patient(age=age, sex="female") for age in (39, 41, 38, 45)]
    ids = [{a.rule_id for a in titration_schedule(Drug.NORTRIPTYLINE, p).alerts} for p in people]
    assert [any("ecg" in i for i in found) for found in ids] == [False, True, False, True]


def test_screened_for_equals_screening_the_drug() -> None:
    """The memoised screening of one drug is safety.screen's, for patients with and without co-medication."""
    kb = knowledge_base()
    people = [
        Patient(age=70, sex="male", allergies=["tramadol"]),
        Patient(age=70, sex="male"),
        Patient(age=50, sex="female", hepatic_impairment="severe"),
        Patient(age=80, sex="male", medications=["sertraline"], conditions=["cardiac_disease"]),
        Patient(age=30, sex="female", recent_medications=["phenelzine"]),
    ]
    for p in people:
        inputs = prepare(p, kb)
        for drug in Drug:
            warm = screened_for(inputs, drug)
            assert warm == screen((drug,), p, inputs.age, knowledge=kb, facts=inputs.facts)
            assert screened_for(inputs, drug) == warm
