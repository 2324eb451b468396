"""The renal assessment's fast path (plain floats, no validation) equals the validated model.

``assess_renal_function`` builds its ``RenalAssessment`` directly from values
already checked, computes the patient's facts only when the low-creatinine
alert needs them, and memoises the band's words. Each test rebuilds the
result through the model's own validation, or takes the other entry point,
and compares: no expected number is computed here.
"""

from __future__ import annotations

import pytest

from cluneal import Patient, knowledge_base
from cluneal._renal_assess import _band_reason, assess
from cluneal._renal_weight import AGE, CREATININE, HEIGHT, WEIGHT
from cluneal.knowledge.criteria import facts_for, patient_facts
from cluneal.renal import RenalAssessment, assess_renal_function
from cluneal.units import Kind, magnitude_in

# Patients reaching every branch: dialysis, creatinine or weight unknown, a height
# needed and missing, each band, the obesity default, both renal alerts.
PATIENTS = [
    {
        "age": 60,
        "sex": "male",
        "weight": "70 kg",
        "serum_creatinine": "8 mg/dL",
        "on_dialysis": True,
    },
    {"age": 70, "sex": "male"},
    {"age": 70, "sex": "female", "weight": "60 kg"},
    {"age": 70, "sex": "female", "serum_creatinine": "1.1 mg/dL"},
    {"age": 40, "sex": "male", "weight": "72 kg", "serum_creatinine": "1.0 mg/dL"},
    {"age": 78, "sex": "female", "weight": "60 kg", "serum_creatinine": "1.3 mg/dL"},
    {"age": 85, "sex": "female", "weight": "45 kg", "serum_creatinine": "2.5 mg/dL"},
    {"age": 90, "sex": "male", "weight": "50 kg", "serum_creatinine": "7 mg/dL"},
    {
        "age": 50,
        "sex": "male",
        "weight": "140 kg",
        "height": "175 cm",
        "serum_creatinine": "1 mg/dL",
    },
    {"age": 50, "sex": "male", "weight": "140 kg", "serum_creatinine": "1 mg/dL"},
    {"age": 80, "sex": "female", "weight": "55 kg", "serum_creatinine": "0.5 mg/dL"},
    {"age": 40, "sex": "female", "weight": "55 kg", "serum_creatinine": "0.5 mg/dL"},
    {"age": 80, "sex": "male", "weight": "130 kg", "serum_creatinine": "40 umol/L"},
]


@pytest.mark.parametrize("record", PATIENTS)
@pytest.mark.parametrize("basis", [None, "actual", "ideal", "adjusted"])
def test_the_fast_assessment_equals_the_validated_one(
    record: dict[str, object], basis: str | None
) -> None:
    """Validated again from its own fields, the assessment is equal, with the same repr, set fields and JSON."""
    a = assess_renal_function(Patient.model_validate(record), basis)
    again = RenalAssessment.model_validate({k: getattr(a, k) for k in a.model_fields_set})
    assert again == a
    assert repr(again) == repr(a)
    assert again.model_fields_set == a.model_fields_set
    assert again.model_dump_json() == a.model_dump_json()


@pytest.mark.parametrize("record", PATIENTS)
def test_the_entry_points_agree(record: dict[str, object]) -> None:
    """With facts given (the engine's path) or computed when needed, the same assessment."""
    p = Patient.model_validate(record)
    kb = knowledge_base()
    assert assess(p, None, kb.renal, facts_for(p, kb)) == assess_renal_function(p)


def test_the_band_words_memo_gives_what_it_computes() -> None:
    """A memo hit returns the same text as a miss."""
    rule = knowledge_base().renal.bands[0]
    _band_reason.cache_clear()
    miss = _band_reason(rule.band, rule.text)
    hit = _band_reason(rule.band, rule.text)
    assert _band_reason.cache_info().hits == 1
    assert hit == miss == f"; band {rule.band.value}: {rule.text}"


def test_the_facts_memo_gives_what_it_computes_and_tells_knowledge_bases_apart() -> None:
    """A memo hit equals a fresh computation; a variant base is never served another's facts."""
    kb = knowledge_base()
    p = Patient(age=66, sex="female", medications=["sertraline"], conditions=["cardiac_disease"])
    first = facts_for(p, kb, "moderate")
    again = facts_for(Patient.model_validate(p.model_dump()), kb, "moderate")
    assert again is first  # a hit, on the plain values, for an equal patient
    assert first == patient_facts(p, kb.parameters, "moderate", medications=kb.medications)
    # An older-adult age of 70 in a variant base (the memo must not answer with kb's facts).
    later = kb.parameters.older_adult.model_copy(update={"age_years": 70.0})
    variant = kb.replace(
        version="test", parameters=kb.parameters.model_copy(update={"older_adult": later})
    )
    assert first.older_adult
    assert not facts_for(p, variant, "moderate").older_adult
    assert facts_for(p, kb, "normal") == patient_facts(
        p, kb.parameters, "normal", medications=kb.medications
    )


@pytest.mark.parametrize(
    "record",
    [
        *PATIENTS,
        {
            "age": 70,
            "sex": "male",
            "weight": "154 lb",
            "height": "70 in",
            "serum_creatinine": "97 umol/L",
        },
        {
            "age": "840 mo",
            "sex": "female",
            "weight": {"value": 60, "unit": "kg"},
            "height": "1.6 m",
        },
    ],
)
def test_the_quick_readers_read_what_magnitude_in_reads(record: dict[str, object]) -> None:
    """Canonical units by identity, any other unit through magnitude_in: the same floats."""
    p = Patient.model_validate(record)
    assert AGE(p.age) == p.age_years
    for reader, quantity, value in (
        (WEIGHT, p.weight, p.weight_kg),
        (HEIGHT, p.height, p.height_cm),
        (CREATININE, p.serum_creatinine, p.creatinine_mg_dl),
    ):
        assert (None if quantity is None else reader(quantity)) == value
    a = assess_renal_function(p)
    if a.crcl is not None:
        assert a.crcl_ml_min == magnitude_in(a.crcl, Kind.CLEARANCE)
