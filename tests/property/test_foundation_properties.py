"""Invariants of units and renal function over random plausible inputs (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cluneal import Q_, Patient, assess_renal_function, creatinine_clearance, egfr
from cluneal.units import Kind, magnitude_in, parse_quantity

ages = st.floats(min_value=18, max_value=120, allow_nan=False)
weights_kg = st.floats(min_value=20, max_value=400, allow_nan=False)
creatinines = st.floats(min_value=0.1, max_value=25, allow_nan=False)
sexes = st.sampled_from(["female", "male"])
weight_units = st.sampled_from([("kg", 1.0), ("lb", 1 / 0.45359237), ("g", 1000.0)])


@settings(max_examples=200)
@given(
    age=ages, sex=sexes, weight=weights_kg, scr=creatinines, unit=weight_units, use_si=st.booleans()
)
def test_patient_json_round_trip(
    age: float, sex: str, weight: float, scr: float, unit: tuple[str, float], use_si: bool
) -> None:
    """API.md: M.model_validate_json(m.model_dump_json()) == m for every patient."""
    name, factor = unit
    value = min(weight * factor, 400 * factor)
    creat = {"value": scr * 88.4, "unit": "umol/L"} if use_si else f"{scr!r} mg/dL"
    p = Patient(age=age, sex=sex, weight={"value": value, "unit": name}, serum_creatinine=creat)
    assert Patient.model_validate_json(p.model_dump_json()) == p


@settings(max_examples=200)
@given(age=ages, sex=sexes, weight=weights_kg, a=creatinines, b=creatinines)
def test_higher_creatinine_never_raises_crcl_or_egfr(
    age: float, sex: str, weight: float, a: float, b: float
) -> None:
    """Monotonicity: higher creatinine never raises CrCl or eGFR."""
    low, high = sorted((a, b))
    p_low = Patient(age=age, sex=sex, weight=Q_(weight, "kg"), serum_creatinine=Q_(low, "mg/dL"))
    p_high = Patient(age=age, sex=sex, weight=Q_(weight, "kg"), serum_creatinine=Q_(high, "mg/dL"))
    assert creatinine_clearance(p_high) <= creatinine_clearance(p_low)
    assert egfr(p_high) <= egfr(p_low)
    assert assess_renal_function(p_high).band.severity >= assess_renal_function(p_low).band.severity


@settings(max_examples=200)
@given(kg=weights_kg)
def test_lb_and_kg_agree(kg: float) -> None:
    """Unit equivalence: the same weight in lb and kg gives the same canonical value."""
    lb = kg / 0.45359237
    from_lb = magnitude_in(parse_quantity({"value": lb, "unit": "lb"}, "weight"), Kind.BODY_WEIGHT)
    assert abs(from_lb - kg) <= 1e-9 * kg


@settings(max_examples=200)
@given(text=st.text(max_size=80))
def test_arbitrary_text_never_escapes_as_another_error(text: str) -> None:
    """Fail closed: any text is either a weight or a ClunealError, nothing else."""
    from cluneal.errors import ClunealError

    try:
        q = parse_quantity(text, "weight")
    except ClunealError:
        return
    assert 20 <= magnitude_in(q, Kind.BODY_WEIGHT) <= 400
