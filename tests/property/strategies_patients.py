"""Reusable Hypothesis strategies: plausible adult patients (clinical.md Part 0.1 ranges)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cluneal import Q_, Condition, Patient

MEDICATIONS = (
    "sertraline",
    "duloxetine",
    "oxycodone",
    "tramadol",
    "lorazepam",
    "zolpidem",
    "warfarin",
    "aspirin",
    "phenelzine",
    "nortriptyline",
    "gabapentin",
    "naltrexone",
    "quetiapine",
    "vitamin d",
)

ages = st.floats(min_value=18, max_value=120, allow_nan=False)
weights_kg = st.floats(min_value=20, max_value=400, allow_nan=False)
creatinines_mg_dl = st.floats(min_value=0.1, max_value=25, allow_nan=False)
heights_cm = st.floats(min_value=100, max_value=250, allow_nan=False)


@st.composite
def patient_fields(draw: st.DrawFn, *, with_creatinine: bool | None = None) -> dict[str, Any]:
    """Keyword arguments of a plausible Patient, with optional weight, creatinine, dialysis,
    hepatic impairment, conditions and medications."""
    sex = draw(st.sampled_from(["female", "male"]))
    conditions = draw(st.frozensets(st.sampled_from(list(Condition)), max_size=3))
    if sex == "male":
        conditions = conditions - {Condition.PREGNANCY}
    has_creatinine = draw(st.booleans()) if with_creatinine is None else with_creatinine
    fields: dict[str, Any] = {
        "age": Q_(draw(ages), "year"),
        "sex": sex,
        "weight": Q_(draw(weights_kg), "kg") if has_creatinine or draw(st.booleans()) else None,
        # Heights below 152.4 cm (no Devine IBW) and obesity (adjusted weight) included.
        "height": Q_(draw(heights_cm), "cm") if draw(st.booleans()) else None,
        "serum_creatinine": Q_(draw(creatinines_mg_dl), "mg/dL") if has_creatinine else None,
        "on_dialysis": draw(st.booleans()) if with_creatinine is None else False,
        "hepatic_impairment": draw(st.sampled_from(["none", "none", "mild", "moderate", "severe"])),
        "conditions": tuple(sorted(conditions)),
        "medications": draw(st.lists(st.sampled_from(MEDICATIONS), max_size=3, unique=True)),
        "recent_medications": draw(st.lists(st.sampled_from(MEDICATIONS), max_size=1, unique=True)),
        "hla_b_1502": draw(st.sampled_from([None, False, True])),
    }
    return fields


def patients(*, with_creatinine: bool | None = None) -> st.SearchStrategy[Patient]:
    """Plausible patients; ``with_creatinine=True`` always gives weight and creatinine."""
    return patient_fields(with_creatinine=with_creatinine).map(lambda f: Patient(**f))
