"""The dose composer: regimens a clinician would write (clinical.md Part 0.9).

Every expected value below is worked out by hand from Part 0.4 (protocols,
marketed strengths) and Part 0.9 (counts, largest totals, largest single
doses, held steps, day 0, dialysis supplements), with the line named next to
each group. Boundary patients are male, 68 years, 72 kg, so Cockcroft-Gault
CrCl = 72 / SCr (SCr 1.44 gives 50 mL/min).
"""

from __future__ import annotations

from typing import Any

import pytest

from cluneal import Q_, ContraindicatedError, Drug, Patient
from cluneal._compose import Regimen, compose_steps, formulary
from cluneal.knowledge.drugs import monograph
from cluneal.titration import Timing, TitrationSchedule, titration_schedule


def crcl_patient(crcl: float, **extra: Any) -> Patient:
    """Male, 68 y, 72 kg: CrCl = 72 / SCr exactly."""
    return Patient(
        age=68, sex="male", weight="72 kg", serum_creatinine=f"{72 / crcl!r} mg/dL", **extra
    )


def steps(s: TitrationSchedule) -> list[tuple[int, float, int]]:
    return [(st.day, st.dose_mg, st.doses_per_day) for st in s.steps]


# --- the known examples of the issue ----------------------------------------------------


def test_gabapentin_78_year_old_woman_crcl_34_ends_twice_daily() -> None:
    """Part 0.9: 30 < CrCl < 60 -> 2 doses a day (label Table 1 'BID'); start low (Part 0.4:
    100 mg at bedtime, +100 mg/day every 3 days to 900) begins with one bedtime dose and
    moves to 2 equal doses at 200 mg/day; 300, 500, 700 and 900 mg/day cannot be two equal
    doses and are held; it ends on 400 mg twice daily."""
    p = Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL")
    s = titration_schedule("gabapentin", p)
    assert round(s.renal.crcl_ml_min or 0, 1) == 33.8
    assert steps(s) == [(0, 100, 1), (3, 100, 2), (9, 200, 2), (15, 300, 2), (21, 400, 2)]
    assert s.steps[-1].timing is Timing.TWICE_DAILY
    assert [st.doses_per_day for st in s.steps][-1] == 2


@pytest.mark.parametrize("target", ["900 mg/d", "1100 mg/d", "1300 mg/d", "1400 mg/d", "3600 mg/d"])
@pytest.mark.parametrize("protocol", ["standard", "start_low"])
def test_gabapentin_crcl_50_never_above_700_mg_in_one_dose(target: str, protocol: str) -> None:
    """Part 0.9: largest single dose 700 mg at 15 < CrCl < 60 (label Table 1, second row:
    700 mg BID); 900, 1100 and 1300 mg/day are never one dose."""
    s = titration_schedule("gabapentin", crcl_patient(50), target, protocol=protocol)
    assert all(st.dose_mg <= 700 for st in s.steps)
    assert all(st.doses_per_day == 2 for st in s.steps[1:])


def test_gabapentin_crcl_50_standard_schedule() -> None:
    """Part 0.9 with the label's 300 mg climb (Part 0.4 standard: 300 / 600 / 900 mg then
    +300 mg/day weekly): 2 doses a day is the band's count, so 900 is 2 x 400 (rounded down
    from 2 x 450) and 1400 is 2 x 700 (600 + 100)."""
    s = titration_schedule("gabapentin", crcl_patient(50), "1400 mg/d", protocol="standard")
    assert steps(s) == [(0, 300, 1), (1, 300, 2), (2, 400, 2), (9, 600, 2), (16, 700, 2)]
    assert s.steps[-1].composition == "1 x 600 mg tablet + 1 x 100 mg capsule"


@pytest.mark.parametrize(
    "fields",
    [
        {"hepatic_impairment": "moderate"},
        {"hepatic_impairment": "severe"},
        {"conditions": ["cirrhosis"]},
    ],
)
def test_tramadol_under_hepatic_cap_is_50_mg_every_12_h_at_most(fields: dict[str, Any]) -> None:
    """Part 0.3 / 0.9: under the hepatic cap tramadol is 50 mg every 12 h at most [V2]; 75 mg
    is never one dose; 75 mg/day (two equal doses of 37.5 mg) is held."""
    p = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL", **fields)
    s = titration_schedule("tramadol", p, "400 mg/d")
    assert s.max_daily_dose_mg == 100
    assert steps(s) == [(0, 25, 1), (7, 25, 2), (21, 50, 2)]
    assert s.steps[-1].timing is Timing.EVERY_12_H
    assert all(st.dose_mg <= 50 for st in s.steps)


# --- doses per day by drug and band (Part 0.9, first bullet) ---------------------------

COUNTS = [
    # (drug, CrCl, target, protocol, final doses per day) -- Part 0.9 regimen counts
    ("gabapentin", 100, "3600 mg/d", "standard", 3),  # CrCl >= 60: 3
    ("gabapentin", 50, "1400 mg/d", "standard", 2),  # 30 < CrCl < 60: 2
    ("gabapentin", 25, "700 mg/d", "standard", 1),  # 15 < CrCl <= 30: 1
    ("gabapentin", 15, "300 mg/d", "standard", 1),  # CrCl <= 15: 1
    ("pregabalin", 100, "600 mg/d", "standard", 2),  # 2 or 3: the lower
    ("pregabalin", 25, "150 mg/d", "standard", 1),  # 1 or 2: the lower
    ("pregabalin", 15, "75 mg/d", "standard", 1),  # 1
    ("tramadol", 100, "400 mg/d", "standard", 4),  # climbs to 4
    ("tramadol", 25, "400 mg/d", "standard", 2),  # CrCl < 30: every 12 h
    ("carbamazepine", 100, "800 mg/d", "standard", 2),  # 2
    ("carbamazepine", 100, "1200 mg/d", "standard", 3),  # 3 above 800 mg/day
    ("nortriptyline", 100, "150 mg/d", "standard", 1),  # 1
    ("naltrexone", 100, "4.5 mg/d", "standard", 1),  # 1
]


@pytest.mark.parametrize(("drug", "crcl", "target", "protocol", "count"), COUNTS)
def test_doses_per_day_by_drug_and_band(
    drug: str, crcl: float, target: str, protocol: str, count: int
) -> None:
    """Part 0.9: the regimen count comes from the drug and band and never falls."""
    s = titration_schedule(drug, crcl_patient(crcl, hla_b_1502=False), target, protocol=protocol)
    assert s.steps[-1].doses_per_day == count
    counts = [st.doses_per_day for st in s.steps]
    assert counts == sorted(counts)


def test_pregabalin_moves_to_three_doses_only_when_two_cannot_make_the_total() -> None:
    """Part 0.9: pregabalin uses the lower count (2) until a total can only be made with 3:
    75 mg/day is 3 x 25 mg (2 x 37.5 is not a strength), and it never goes back to 2."""
    s = titration_schedule("pregabalin", crcl_patient(50), "300 mg/d", protocol="start_low")
    assert steps(s) == [(0, 25, 1), (3, 25, 2), (6, 25, 3), (15, 50, 3), (24, 75, 3), (33, 100, 3)]


def test_carbamazepine_three_doses_above_800() -> None:
    """Part 0.4 / 0.9: carbamazepine 2 doses, 3 above 800 mg/day: 1000 mg/day is rounded down
    to 900 (3 x 333 mg is not made of 100/200 mg tablets; 3 x 300 = 200 + 100 is)."""
    p = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL", hla_b_1502=False)
    s = titration_schedule("carbamazepine", p, "1200 mg/d")
    assert steps(s) == [
        (0, 100, 2),
        (7, 200, 2),
        (14, 300, 2),
        (21, 400, 2),
        (28, 300, 3),
        (35, 400, 3),
    ]


def test_gabapentin_standard_climbs_by_300_mg_doses() -> None:
    """Part 0.4 (label): 300 mg on day 1, 600 mg on day 2, 900 mg on day 3 = 300 mg once,
    twice and three times a day; then three doses a day."""
    s = titration_schedule("gabapentin", crcl_patient(100), "1800 mg/d", protocol="standard")
    assert steps(s)[:4] == [(0, 300, 1), (1, 300, 2), (2, 300, 3), (9, 400, 3)]
    assert steps(s)[-1] == (23, 600, 3)


# --- largest single dose (Part 0.9, third bullet) ----------------------------------------

SINGLE = [
    # (drug, CrCl, extra patient fields, largest single dose mg) -- Part 0.9 line by line
    ("gabapentin", 100, {}, 1200),  # label Table 1 column 5, CrCl >= 60
    ("gabapentin", 50, {}, 700),  # label Table 1, 30-59 row
    ("gabapentin", 20, {}, 700),  # label Table 1, 15-29 row
    ("gabapentin", 15, {}, 300),  # label Table 1, CrCl 15 row
    ("tramadol", 100, {}, 100),  # label 50-100 mg every 4-6 h
    ("tramadol", 100, {"hepatic_impairment": "severe"}, 50),  # 50 mg every 12 h
    ("pregabalin", 100, {}, 300),  # 600 / 2
    ("pregabalin", 50, {}, 150),  # 300 / 2
    ("pregabalin", 20, {}, 150),  # 150 / 1
    ("pregabalin", 10, {}, 75),  # 75 / 1
]


@pytest.mark.parametrize(("drug", "crcl", "fields", "largest"), SINGLE)
def test_largest_single_dose(
    drug: str, crcl: float, fields: dict[str, Any], largest: float
) -> None:
    """Part 0.9: no single dose above the largest single dose, whatever the count; the
    schedule reaches it when the target allows."""
    s = titration_schedule(drug, crcl_patient(crcl, **fields), "100000 mg/d", protocol="standard")
    assert max(st.dose_mg for st in s.steps) <= largest


def test_single_dose_adjustment_cites_the_drugs_own_label() -> None:
    """Part 0.9: the largest-single-dose rule is explained, citing the drug's own label."""
    s = titration_schedule("gabapentin", crcl_patient(50), "1400 mg/d", protocol="standard")
    single = [a for a in s.adjustments if a.rule_id == "gabapentin.renal.moderate"]
    assert single
    assert all(a.citation == "gabapentin_label" for a in s.adjustments if "renal" in a.rule_id)


# --- held steps (Part 0.9, second bullet) -------------------------------------------------


def test_a_step_that_cannot_rise_is_held_never_rescued_by_fewer_doses() -> None:
    """Part 0.9: gabapentin 30 < CrCl < 60, start low: 300 mg/day is not two equal doses
    (2 x 150), so the step is held at 200 mg/day; it is never 300 mg once."""
    s = titration_schedule("gabapentin", crcl_patient(50), "900 mg/d", protocol="start_low")
    assert (6, 300.0, 1) not in steps(s)
    assert all(st.daily_dose_mg != 300 for st in s.steps)
    held = next(st for st in s.steps if st.day == 9)
    assert "held on day 6" in held.reason


def test_compose_steps_directly() -> None:
    """Part 0.9 on the composer alone: one bedtime dose, then 2 equal doses as soon as they
    make the total; 300 mg/day held; 1500 mg/day capped by the 700 mg single dose."""
    form = formulary(Drug.GABAPENTIN, with_solution=False)
    twice = Regimen(counts=lambda _mg: (2, 2), max_single_mg=700, starts_once_daily=True)
    plan = [(0, 100.0), (3, 200.0), (6, 300.0), (9, 400.0), (12, 1500.0)]
    out = compose_steps(plan, form, twice, 1400)
    assert [(c.day, c.dose_mg, c.doses_per_day) for c in out] == [
        (0, 100, 1),
        (3, 100, 2),
        (9, 200, 2),
        (12, 700, 2),
    ]
    assert out[2].held_days == (6,)


# --- first step on day 0 (Part 0.9, fourth bullet) --------------------------------------


def test_first_step_is_day_0_with_the_smallest_dose_when_the_intended_one_rounds_to_nothing() -> (
    None
):
    """Part 0.9: gabapentin at CrCl 0.6 mL/min is scaled by 0.6/15 = 0.04 (Part 0.2 note a):
    the start-low 100 mg becomes 4 mg, below the 5 mg (0.1 mL of 50 mg/mL) the solution
    measures; the cap 300 x 0.04 = 12 mg admits 5 mg, so day 0 is 5 mg."""
    p = Patient(age=100, sex="male", weight="21.6 kg", serum_creatinine="20 mg/dL")
    s = titration_schedule("gabapentin", p)
    assert round(s.renal.crcl_ml_min or 0, 6) == 0.6
    assert s.steps[0].day == 0
    assert s.steps[0].dose_mg == 5
    assert "oral solution" in s.steps[0].composition
    assert any(a.rule_id == "titration.first_step.smallest_dose" for a in s.adjustments)


def test_smallest_dose_above_the_cap_is_refused_asking_for_specialist_dosing() -> None:
    """Part 0.9: when even the smallest dose is above the cap, the schedule is refused with a
    clear error asking for specialist dosing (CrCl 0.2 mL/min: cap 300 x 0.2/15 = 4 mg < 5 mg)."""
    p = Patient(age=120, sex="female", weight="20 kg", serum_creatinine="25 mg/dL")
    with pytest.raises(ContraindicatedError) as info:
        titration_schedule("gabapentin", p)
    assert info.value.alerts[0].rule_id == "titration.no_achievable_dose"
    assert "specialist" in (info.value.alerts[0].action or "")


# --- dialysis supplements (Part 0.9, fifth bullet) --------------------------------------

SUPPLEMENT_ROWS = [
    # (drug, maintenance mg/day, supplement mg) -- Part 0.9 / label rows, lower value each time
    ("gabapentin", 100, 125),
    ("gabapentin", 125, 150),
    ("gabapentin", 150, 200),
    ("gabapentin", 200, 250),
    ("gabapentin", 250, 250),  # between rows: the row with the largest maintenance not above
    ("gabapentin", 300, 350),
    ("pregabalin", 25, 25),
    ("pregabalin", 50, 50),  # "25-50 mg QD -> 50 or 75"
    ("pregabalin", 75, 100),  # "75 mg QD -> 100 or 150"
]


@pytest.mark.parametrize(("drug", "maintenance", "supplement"), SUPPLEMENT_ROWS)
def test_supplement_rows(drug: str, maintenance: float, supplement: float) -> None:
    """Part 0.9: a maintenance dose takes the label row with the largest maintenance dose
    not above it."""
    row = monograph(drug).dialysis_supplement_for(maintenance)
    assert row is not None
    assert row.supplement_mg == supplement


@pytest.mark.parametrize(
    ("drug", "maintenance", "supplement"),
    [("gabapentin", 100, 125), ("gabapentin", 200, 250), ("gabapentin", 300, 350)]
    + [r for r in SUPPLEMENT_ROWS if r[0] == "pregabalin"],
)
def test_supplement_follows_the_schedule(drug: str, maintenance: float, supplement: float) -> None:
    """Part 0.9: the supplement follows the current maintenance dose (capsule-made doses of
    the end-stage band: gabapentin 100/200/300, pregabalin 25/50/75 mg/day)."""
    p = Patient(age=60, sex="male", on_dialysis=True)
    s = titration_schedule(drug, p, Q_(maintenance, "mg/d"))
    last = s.supplemental_instructions[-1]
    assert s.steps[-1].daily_dose_mg == maintenance
    assert last.dose == Q_(supplement, "mg")
    assert last.from_day == s.steps[-1].day
    # A separate instruction: never counted against the cap.
    assert "not counted against the maximum daily dose" in last.text


def test_no_supplement_row_for_a_drug_without_supplements() -> None:
    """Part B2: tramadol has no post-dialysis supplement row."""
    assert monograph("tramadol").dialysis_supplement_for(100) is None


# --- each adjustment cites the adjusted drug's own label (Part 0.9, Dialysis) ---------

LABELS = {
    "gabapentin": "gabapentin_label",
    "pregabalin": "pregabalin_label",
    "tramadol": "tramadol_label",
    "carbamazepine": "carbamazepine_label",
    "nortriptyline": "nortriptyline_label",
    "naltrexone": "bruun_plesner_2020",
}


@pytest.mark.parametrize("drug", sorted(LABELS))
def test_dialysis_adjustment_cites_the_drugs_own_label(drug: str) -> None:
    """Part 0.9: dialysis cites each drug's own label, never another drug's."""
    p = Patient(age=50, sex="male", on_dialysis=True, hla_b_1502=False)
    s = titration_schedule(drug, p)
    dialysis = next(a for a in s.adjustments if a.rule_id == "titration.renal.dialysis")
    assert dialysis.citation == LABELS[drug]
    others = {label for name, label in LABELS.items() if name != drug}
    assert not any(a.citation in others for a in s.adjustments)
    for i in s.supplemental_instructions:
        assert i.citation not in others


def test_scaling_below_15_cites_the_gabapentin_label() -> None:
    """Part 0.2 note a: the CrCl/15 scaling is gabapentin's own label rule."""
    s = titration_schedule("gabapentin", crcl_patient(7.5))
    scaled = next(a for a in s.adjustments if a.rule_id == "titration.renal.scaled")
    assert scaled.citation == "gabapentin_label"


def test_a_schedule_whose_doses_per_day_fall_is_refused() -> None:
    """Part 0.9: the schedule model itself refuses doses per day that fall, and a first step
    after day 0 (JSON from elsewhere is validated the same way)."""
    s = titration_schedule("gabapentin", crcl_patient(100), "1800 mg/d", protocol="standard")
    data = s.model_dump(mode="json")
    data["steps"][3]["doses_per_day"] = 2
    data["steps"][3]["dose"] = {"value": 600, "unit": "mg"}
    data["steps"][3].pop("daily_dose")
    with pytest.raises(ValueError, match="doses per day fall"):
        TitrationSchedule.model_validate(data)
    late = s.model_dump(mode="json")
    late["steps"] = late["steps"][1:]
    with pytest.raises(ValueError, match="day 0"):
        TitrationSchedule.model_validate(late)
