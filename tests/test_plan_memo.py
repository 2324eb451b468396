"""care_plan's memos give the plan computed without them, whatever was planned before.

care_plan memoises what it decides from plain values (the patient's facts, the
choices made): a plan read from the memos must equal, to the byte of its JSON,
the plan computed with every memo emptied. The inputs are drawn in families
that share most of those values (the same findings and patient with another
age, creatinine, weight, allergy or co-medication) so that later plans of a
family meet the entries the earlier ones left, and are checked against a cold
computation one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cluneal import Q_, LocalProtocol, Patient, knowledge_base
from cluneal import _first_line as first_line
from cluneal import pathway as pathway_module
from cluneal._plan_json import json_parts_clear, parts_in_order
from cluneal.knowledge import criteria as criteria_module
from cluneal.knowledge.criteria import age_bounds
from cluneal.pathway import next_step
from cluneal.plan import CarePlan, care_plan
from tests.property.strategies_findings import findings
from tests.property.strategies_history import care_histories
from tests.property.strategies_patients import MEDICATIONS, patient_fields

if TYPE_CHECKING:
    from cluneal.diagnosis import Findings
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.pathway import CareHistory

TRIAD_1_2 = {
    "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
}
DRUGS = ("nortriptyline", "carbamazepine", "gabapentin", "pregabalin", "tramadol", "naltrexone")

# The built-in base's one age bound (safety.toml: a rule with age_over_years = 40).
AGES = st.sampled_from([18.0, 39.0, 40.0, 40.5, 64.0, 65.0, 70.0, 75.0, 76.0, 90.0])
CHANGES: dict[str, st.SearchStrategy[Any]] = {
    "age": AGES.map(lambda a: Q_(a, "year")),
    "serum_creatinine": st.sampled_from([None, 0.6, 1.0, 2.5, 4.0, 8.0]).map(
        lambda v: None if v is None else Q_(v, "mg/dL")
    ),
    "weight": st.sampled_from([45.0, 70.0, 130.0]).map(lambda v: Q_(v, "kg")),
    "allergies": st.lists(st.sampled_from(DRUGS), max_size=2, unique=True),
    "medications": st.lists(st.sampled_from(MEDICATIONS), max_size=2, unique=True),
    "on_dialysis": st.booleans(),
}


@st.composite
def families(draw: st.DrawFn) -> list[tuple[Patient, Findings, CareHistory]]:
    """A few inputs that differ from a first one in one or two values each."""
    base = draw(patient_fields())
    found = draw(findings())
    past = draw(care_histories(max_size=2))
    members = [(Patient(**base), found, past)]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        fields = dict(base)
        for name in draw(st.lists(st.sampled_from(sorted(CHANGES)), min_size=1, max_size=2)):
            fields[name] = draw(CHANGES[name])
        members.append((Patient(**fields), draw(st.one_of(st.just(found), findings())), past))
    return members


def _cold(patient: Patient, found: Findings, past: CareHistory, **kwargs: Any) -> CarePlan:
    """The plan with every memo of the plan, the pathway and the facts emptied first."""
    first_line.clear_memos()
    json_parts_clear()
    pathway_module._DECIDED.clear()
    criteria_module._FACTS_MEMO.clear()
    criteria_module._BANDED.clear()
    return care_plan(patient, found, past, **kwargs)


def _same(warm: CarePlan, cold: CarePlan) -> None:
    assert warm.model_dump_json() == cold.model_dump_json()
    assert warm == cold
    # The JSON from the plan's cached parts is pydantic's, byte for byte.
    assert warm.model_dump_json() == warm.model_dump_json(round_trip=False)


@settings(max_examples=60, deadline=None)
@given(family=families())
def test_a_memoised_plan_equals_the_plan_computed_cold(
    family: list[tuple[Patient, Findings, CareHistory]],
) -> None:
    """Each plan of a family, made after the others filled the memos, equals its cold plan."""
    warm = [care_plan(p, f, h) for p, f, h in family]
    # Again, every entry present: each plan now meets its own.
    again = [care_plan(p, f, h) for p, f, h in family]
    for (p, f, h), first, second in zip(family, warm, again, strict=True):
        cold = _cold(p, f, h)
        _same(first, cold)
        _same(second, cold)


def _protocol_base() -> KnowledgeBase:
    return knowledge_base().with_protocol(
        LocalProtocol(name="clinic", version="1", excluded_drugs=["nortriptyline", "tramadol"])
    )


@settings(max_examples=25, deadline=None)
@given(family=families())
def test_knowledge_bases_never_share_an_entry(
    family: list[tuple[Patient, Findings, CareHistory]],
) -> None:
    """The same inputs under a local protocol and under the built-in base: each its own plan."""
    kb = _protocol_base()
    for p, f, h in family:
        built_in = care_plan(p, f, h)
        local = care_plan(p, f, h, knowledge=kb)
        _same(built_in, _cold(p, f, h))
        _same(local, _cold(p, f, h, knowledge=kb))
        chosen = [c.drug.value for c in local.drug_choices if c.status.value == "chosen"]
        assert "nortriptyline" not in chosen


def test_the_age_bounds_are_those_the_criteria_give() -> None:
    """safety.toml's one age_over_years criterion (40); a base with another rule adds its bound."""
    kb = knowledge_base()
    assert age_bounds(kb) == (40.0,)
    skips = kb.pharmacotherapy.skips
    changed = skips[0].model_copy(update={"when": criteria_module.Criteria(age_over_years=55.5)})
    other = kb.replace(
        version="age-bound",
        pharmacotherapy=kb.pharmacotherapy.model_copy(update={"skips": (changed, *skips[1:])}),
    )
    assert age_bounds(other) == (40.0, 55.5)
    # A patient on each side of the new bound: the skip applies to one only.
    young = care_plan(Patient(age=50, sex="female"), TRIAD_1_2, knowledge=other)
    older = care_plan(Patient(age=60, sex="female"), TRIAD_1_2, knowledge=other)
    assert [c.status.value for c in young.drug_choices][:2] == ["chosen", "not_reached"]
    assert [c.status.value for c in older.drug_choices][:2] == ["excluded", "chosen"]


def test_the_json_parts_are_every_field_in_order() -> None:
    """A field added to the plan or its recommendation is never left out of the JSON."""
    assert parts_in_order(CarePlan)


def test_a_plan_changed_after_it_was_made_serialises_its_change() -> None:
    """The cached parts are found by the values' identities: a changed value is serialised."""
    plan = care_plan(Patient(age=40, sex="female"), TRIAD_1_2)
    plan.model_dump_json()
    # A pint quantity can be changed in place: the plan's own parts are never cached.
    plan.recommendation.lasting_relief.ito("day")
    assert '"lasting_relief":{"value":84.0,"unit":"d"}' in plan.model_dump_json()
    assert plan.model_dump_json() == plan.model_dump_json(round_trip=False)
    changed = plan.model_copy(update={"medication_rationale": "Another rationale."})
    assert '"medication_rationale":"Another rationale."' in changed.model_dump_json()
    # A recommendation resting on another assessment: the whole plan serialised by pydantic.
    other = next_step({})
    mixed = plan.model_copy(update={"recommendation": other})
    assert mixed.model_dump_json() == mixed.model_dump_json(round_trip=False)
    assert mixed.model_dump_json().count('"classification"') == 2
