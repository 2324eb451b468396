"""Random patients under random valid local protocols (decision_local_protocol_conservative).

For every drug: no schedule exceeds the built-in cap for that patient (nor the protocol's),
every dose is made of the stocked strengths, no excluded drug is scheduled, and a drug the
built-in rules refuse stays refused. A care plan never schedules or offers an excluded drug.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cluneal import (
    ContraindicatedError,
    Drug,
    ExcludedDrugError,
    LocalProtocol,
    Patient,
    care_plan,
    knowledge_base,
    titration_schedule,
)
from cluneal.diagnosis import Findings, PainPattern, TenderPoint
from cluneal.plan import ChoiceStatus
from tests.property.strategies_patients import patients

_EPS = 1e-9
_BUILT_IN = knowledge_base()
_FIRST_LINE = _BUILT_IN.pharmacotherapy.selection.first_line
_TRIAD_1_2 = Findings(
    pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
)
# "1 x 300 mg capsule + 1/2 x 50 mg scored tablet": the strengths a composition uses.
_PART = re.compile(r"(?:\d+ 1/2|1/2|\d+) x (\d+(?:\.\d+)?) mg ")


@st.composite
def protocols(draw: st.DrawFn) -> LocalProtocol:
    """Valid protocols, drawn from the built-in knowledge base's own strengths and caps."""
    fields: dict[str, Any] = {"name": "random-clinic", "version": "1"}
    strengths: dict[str, list[str]] = {}
    caps: dict[str, str] = {}
    for drug, mono in _BUILT_IN.monographs.items():
        marketed = [s.mg for s in mono.strengths]
        stock = draw(st.booleans())
        if marketed and stock:
            chosen: list[float] = draw(st.lists(st.sampled_from(marketed), min_size=1, unique=True))
            strengths[drug.value] = [f"{mg:g} mg" for mg in chosen]
        if draw(st.booleans()):
            adult = mono.caps[0].max_mg_day
            cap = draw(st.floats(min_value=adult / 20, max_value=adult, allow_nan=False))
            caps[drug.value] = f"{cap:.6g} mg/day"
    excluded = draw(st.lists(st.sampled_from(list(Drug)), max_size=3, unique=True))
    order = draw(st.permutations([d for d in _FIRST_LINE if d not in excluded]))
    fields.update(
        strengths=strengths,
        max_daily_dose=caps,
        excluded_drugs=[d.value for d in excluded],
        first_line=[d.value for d in order[: draw(st.integers(0, len(order)))]],
        block_threshold_percent=draw(st.floats(min_value=50, max_value=100)),
        lasting_relief=f"{draw(st.floats(min_value=12, max_value=52)):.6g} weeks",
    )
    return LocalProtocol(**fields)


def _built_in_cap(drug: Drug, patient: Patient) -> float | None:
    """The cap the built-in rules apply to this patient, or None when they refuse the drug."""
    try:
        return titration_schedule(drug, patient).max_daily_dose_mg
    except ContraindicatedError:
        return None


ORDINARY = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
CLINIC = LocalProtocol(
    name="st-elsewhere-pain",
    version="3",
    strengths={"gabapentin": ["300 mg"], "tramadol": ["50 mg"]},
    max_daily_dose={"gabapentin": "1200 mg/day", "pregabalin": "100 mg/day"},
    excluded_drugs=["nortriptyline"],
    first_line=["pregabalin"],
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(patient=patients(), protocol=protocols())
@example(patient=ORDINARY, protocol=CLINIC)
@example(
    patient=Patient(age=80, sex="female", weight="45 kg", serum_creatinine="6 mg/dL"),
    protocol=CLINIC,
)
def test_no_schedule_loosens_a_rule(patient: Patient, protocol: LocalProtocol) -> None:
    """Under any valid protocol: never above the built-in cap or the protocol's cap, only stocked
    strengths (and no oral solution when strengths are listed), no excluded drug, and no drug
    the built-in rules refuse."""
    kb = _BUILT_IN.with_protocol(protocol)
    stocked = protocol.strengths_mg
    caps = protocol.max_daily_dose_mg
    for drug in Drug:
        built_in_cap = _built_in_cap(drug, patient)
        try:
            schedule = titration_schedule(drug, patient, knowledge=kb)
        except ExcludedDrugError:
            assert drug in protocol.excluded_drugs
            continue
        except ContraindicatedError:
            continue
        assert drug not in protocol.excluded_drugs
        assert built_in_cap is not None, f"{drug} refused by the built-in rules, not the protocol"
        assert schedule.max_daily_dose_mg <= built_in_cap + _EPS
        assert schedule.max_daily_dose_mg <= caps.get(drug, built_in_cap) + _EPS
        assert schedule.knowledge_base_version == kb.version
        assert schedule.protocol_sha256 == protocol.sha256
        for step in schedule.steps:
            assert step.daily_dose_mg <= built_in_cap + _EPS
            if drug in stocked:
                assert "solution" not in step.composition
                used = {float(mg) for mg in _PART.findall(step.composition)}
                assert used, step.composition
                assert used <= set(stocked[drug]), (step.composition, stocked[drug])


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=40)
@given(patient=patients(), protocol=protocols())
@example(patient=ORDINARY, protocol=CLINIC)
def test_a_care_plan_never_offers_an_excluded_drug(
    patient: Patient, protocol: LocalProtocol
) -> None:
    """An excluded drug is never scheduled, and is listed as excluded by the protocol (or as
    contraindicated, the stronger statement), never as an option."""
    plan = care_plan(patient, _TRIAD_1_2, knowledge=_BUILT_IN.with_protocol(protocol))
    assert not {s.drug for s in plan.medications} & set(protocol.excluded_drugs)
    for choice in plan.drug_choices:
        if choice.drug in protocol.excluded_drugs:
            assert choice.status in {
                ChoiceStatus.EXCLUDED_BY_PROTOCOL,
                ChoiceStatus.CONTRAINDICATED,
            }
        else:
            assert choice.status is not ChoiceStatus.EXCLUDED_BY_PROTOCOL
    assert plan.protocol_sha256 == protocol.sha256
