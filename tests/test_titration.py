"""titration_schedule: protocols, bands, caps, contraindications and bad input.

Clinical numbers come from clinical.md Part 0.2 (bands), 0.3 (caps), 0.4
(protocols), 0.5 (contraindications) and 0.6 (alerts). Boundary patients are
male, 68 years, 72 kg, so Cockcroft-Gault CrCl = 72 / SCr: SCr 1.2 gives 60,
2.4 gives 30 and 4.8 gives 15 mL/min.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from cluneal import (
    KNOWLEDGE_BASE_VERSION,
    Q_,
    ClunealError,
    ContraindicatedError,
    Drug,
    InvalidArgumentError,
    InvalidQuantityError,
    Patient,
    RenalBand,
    Severity,
    UnknownTermError,
)
from cluneal._compose import formulary
from cluneal.titration import (
    ProtocolName,
    Timing,
    TitrationSchedule,
    TitrationStep,
    titration_schedule,
)


def boundary_patient(scr: float, **extra: Any) -> Patient:
    """Male, 68 y, 72 kg: CrCl = 72 / SCr exactly."""
    return Patient(age=68, sex="male", weight="72 kg", serum_creatinine=f"{scr} mg/dL", **extra)


def adult(**extra: Any) -> Patient:
    """A 50-year-old with normal renal function (CrCl 100 mL/min)."""
    fields: dict[str, Any] = {
        "age": 50,
        "sex": "male",
        "weight": "80 kg",
        "serum_creatinine": "1.0 mg/dL",
    }
    fields.update(extra)
    return Patient(**fields)


def steps(s: TitrationSchedule) -> list[tuple[int, float, int]]:
    return [(st.day, st.dose_mg, st.doses_per_day) for st in s.steps]


# --- Part 0.2: bands and boundaries ------------------------------------------------

GABAPENTIN_BANDS = [
    # (SCr, band, cap mg/day, rule) -- clinical.md Part 0.2 table and boundary rule
    (1.19, RenalBand.NORMAL, 3600, "gabapentin.cap.adult"),
    (1.2, RenalBand.NORMAL, 3600, "gabapentin.cap.adult"),  # exactly 60: normal
    (1.21, RenalBand.MODERATE, 1400, "gabapentin.renal.moderate"),
    (2.39, RenalBand.MODERATE, 1400, "gabapentin.renal.moderate"),
    (2.4, RenalBand.SEVERE, 700, "gabapentin.renal.severe"),  # exactly 30: more restrictive
    (2.41, RenalBand.SEVERE, 700, "gabapentin.renal.severe"),
    (4.79, RenalBand.SEVERE, 700, "gabapentin.renal.severe"),
    (4.8, RenalBand.END_STAGE, 300, "gabapentin.renal.end_stage"),  # exactly 15
]


@pytest.mark.parametrize(("scr", "band", "cap", "rule"), GABAPENTIN_BANDS)
def test_gabapentin_bands_and_boundaries(
    scr: float, band: RenalBand, cap: float, rule: str
) -> None:
    """Part 0.2: a CrCl exactly on a boundary goes to the more restrictive band, except 60."""
    s = titration_schedule("gabapentin", boundary_patient(scr), "3600 mg/d")
    assert s.renal.band is band
    assert s.max_daily_dose_mg == cap
    assert s.max_daily_dose_rule == rule
    assert all(st.daily_dose_mg <= cap for st in s.steps)


@pytest.mark.parametrize(("scr", "doses"), [(1.2, 3), (1.21, 2), (2.39, 2), (2.4, 1), (4.8, 1)])
def test_gabapentin_doses_per_day_follow_band(scr: float, doses: int) -> None:
    """Part 0.2: gabapentin 3 doses/day at >= 60, 2 at 30-60, 1 at <= 30."""
    s = titration_schedule("gabapentin", boundary_patient(scr), "3600 mg/d", protocol="standard")
    assert max(st.doses_per_day for st in s.steps) == doses


PREGABALIN_BANDS = [
    (1.2, RenalBand.NORMAL, 600),
    (1.21, RenalBand.MODERATE, 300),
    (2.4, RenalBand.SEVERE, 150),  # exactly 30: the conservative 15-30 band (Part B2)
    (2.41, RenalBand.SEVERE, 150),
    (4.79, RenalBand.SEVERE, 150),
    (4.8, RenalBand.END_STAGE, 75),
    (4.81, RenalBand.END_STAGE, 75),
]


@pytest.mark.parametrize(("scr", "band", "cap"), PREGABALIN_BANDS)
def test_pregabalin_bands_and_boundaries(scr: float, band: RenalBand, cap: float) -> None:
    """Part 0.2: pregabalin 150-600 / 75-300 / 25-150 / 25-75 mg/day."""
    s = titration_schedule("pregabalin", boundary_patient(scr), "600 mg/d")
    assert s.renal.band is band
    assert s.max_daily_dose_mg == cap
    assert s.steps[-1].daily_dose_mg == cap


@pytest.mark.parametrize(
    ("scr", "restricted"), [(2.39, False), (2.4, True), (2.41, True), (4.8, True)]
)
def test_tramadol_crcl_30_is_restricted(scr: float, restricted: bool) -> None:
    """Part 0.2: tramadol CrCl < 30 -> every 12 h, at most 200 mg/day; exactly 30 counts as restricted."""
    s = titration_schedule("tramadol", boundary_patient(scr), "400 mg/d")
    assert (s.max_daily_dose_mg == 200) is restricted
    if restricted:
        assert s.max_daily_dose_rule == "tramadol.cap.renal"
        assert all(st.doses_per_day <= 2 for st in s.steps)
        assert any(st.timing is Timing.EVERY_12_H for st in s.steps)
    else:
        assert s.max_daily_dose_mg == 400


def test_gabapentin_below_15_is_scaled() -> None:
    """Part 0.2 note a: below 15 mL/min the daily dose is reduced in proportion to CrCl (7.5 -> half)."""
    s = titration_schedule("gabapentin", boundary_patient(9.6))  # CrCl 7.5
    assert s.max_daily_dose_mg == 150
    assert [st.daily_dose_mg for st in s.steps] == [50, 100, 150]
    assert "oral solution" in s.steps[0].composition
    assert {a.rule_id for a in s.adjustments} >= {
        "titration.renal.scaled",
        "gabapentin.formulation.solution",
    }


def test_no_achievable_dose_is_refused() -> None:
    """Part 0.4: rounding down never up; when nothing fits, the drug cannot be started."""
    p = Patient(age=120, sex="female", weight="20 kg", serum_creatinine="25 mg/dL")
    with pytest.raises(ContraindicatedError) as info:
        titration_schedule("gabapentin", p)
    assert info.value.alerts[0].rule_id == "titration.no_achievable_dose"


# --- unknown renal function and dialysis --------------------------------------------


@pytest.mark.parametrize(
    ("drug", "cap"), [("gabapentin", 300), ("pregabalin", 75), ("tramadol", 200)]
)
def test_unknown_renal_function_uses_most_restrictive_band(drug: str, cap: float) -> None:
    """Part 0.2: unknown renal function -> most restrictive band plus an alert asking for a creatinine."""
    s = titration_schedule(drug, Patient(age=50, sex="male"))
    assert s.max_daily_dose_mg == cap
    assert not s.renal.known
    alert = next(a for a in s.alerts if a.rule_id == "titration.renal.unknown")
    assert alert.severity is Severity.MAJOR
    assert "creatinine" in (alert.action or "")
    assert s.protocol is ProtocolName.START_LOW


def test_unknown_renal_function_does_not_restrict_non_renal_drug() -> None:
    """Part 0.2: the unknown-renal rule is for renally cleared drugs only."""
    s = titration_schedule("nortriptyline", Patient(age=50, sex="male"))
    assert s.protocol is ProtocolName.STANDARD
    assert all(a.rule_id != "titration.renal.unknown" for a in s.alerts)


def test_gabapentin_dialysis_supplement() -> None:
    """Part 0.9 / B2: dialysis -> lowest band; the supplement follows the maintenance dose
    (label Table 1: 100 -> 125, 200 -> 250, 300 -> 350 mg)."""
    s = titration_schedule("gabapentin", Patient(age=60, sex="male", on_dialysis=True))
    assert s.max_daily_dose_mg == 300
    assert [st.daily_dose_mg for st in s.steps] == [100, 200, 300]
    rows = [(i.from_day, i.rule_id, i.dose) for i in s.supplemental_instructions]
    assert rows == [
        (0, "gabapentin.dialysis.supplement_100", Q_(125.0, "mg")),
        (3, "gabapentin.dialysis.supplement_200", Q_(250.0, "mg")),
        (6, "gabapentin.dialysis.supplement_300", Q_(350.0, "mg")),
    ]
    last = s.supplemental_instructions[-1]
    assert "haemodialysis" in last.text
    assert "not counted against the maximum daily dose" in last.text


def test_pregabalin_dialysis_supplement() -> None:
    """Part 0.9 / B2: pregabalin 25 -> 25, 25-50 -> 50, 75 mg QD -> 100 (or 150) mg; the lower
    label value is scheduled."""
    s = titration_schedule("pregabalin", Patient(age=60, sex="male", on_dialysis=True))
    doses = [(i.from_day, i.dose) for i in s.supplemental_instructions]
    assert doses == [(0, Q_(25.0, "mg")), (3, Q_(50.0, "mg")), (6, Q_(100.0, "mg"))]
    assert "100 or 150" in s.supplemental_instructions[-1].text


@pytest.mark.parametrize("drug", ["tramadol", "nortriptyline"])
def test_dialysis_note_without_supplement(drug: str) -> None:
    """Part B2: tramadol and nortriptyline get no supplement; the note says so."""
    p = Patient(age=60, sex="male", on_dialysis=True)
    s = titration_schedule(drug, p)
    (note,) = s.supplemental_instructions
    assert note.dose is None
    assert "supplement" in note.text


# --- Part 0.3: caps ---------------------------------------------------------------------

CAPS = [
    ("nortriptyline", {"age": 50}, 150, "nortriptyline.cap.adult"),
    ("nortriptyline", {"age": 65}, 50, "nortriptyline.cap.older_adult"),
    (
        "nortriptyline",
        {"age": 64, "conditions": ["cardiac_disease"]},
        100,
        "nortriptyline.cap.cardiac",
    ),
    (
        "nortriptyline",
        {"age": 70, "conditions": ["cardiac_arrhythmia"]},
        50,
        "nortriptyline.cap.older_adult",
    ),
    ("carbamazepine", {"age": 50, "hla_b_1502": False}, 1200, "carbamazepine.cap.adult"),
    ("tramadol", {"age": 75}, 400, "tramadol.cap.adult"),
    ("tramadol", {"age": 76}, 300, "tramadol.cap.age_over_75"),
    ("tramadol", {"age": 50, "hepatic_impairment": "moderate"}, 100, "tramadol.cap.hepatic"),
    ("tramadol", {"age": 50, "hepatic_impairment": "severe"}, 100, "tramadol.cap.hepatic"),
    ("tramadol", {"age": 50, "conditions": ["cirrhosis"]}, 100, "tramadol.cap.hepatic"),
    ("tramadol", {"age": 50, "hepatic_impairment": "mild"}, 400, "tramadol.cap.adult"),
    ("naltrexone", {"age": 50}, 4.5, "naltrexone.cap.low_dose"),
    ("pregabalin", {"age": 50}, 600, "pregabalin.cap.adult"),
    ("gabapentin", {"age": 50}, 3600, "gabapentin.cap.adult"),
]


@pytest.mark.parametrize(("drug", "fields", "cap", "rule"), CAPS)
def test_caps_part_0_3(drug: str, fields: dict[str, Any], cap: float, rule: str) -> None:
    """Part 0.3: the lowest cap that applies wins, is named, and no step exceeds it."""
    base: dict[str, Any] = {"sex": "male", "weight": "90 kg", "serum_creatinine": "0.8 mg/dL"}
    s = titration_schedule(drug, Patient(**{**base, **fields}), "100000 mg/d")
    assert s.max_daily_dose_mg == cap
    assert s.max_daily_dose_rule == rule
    assert s.steps[-1].daily_dose_mg == pytest.approx(cap)
    assert any(a.rule_id == "titration.target.capped" for a in s.adjustments)


def test_tramadol_lowest_cap_wins() -> None:
    """Part 0.3: >75 y (300) and CrCl < 30 (200) and cirrhosis (100): 100 wins."""
    p = Patient(
        age=80, sex="male", weight="60 kg", serum_creatinine="3 mg/dL", conditions=["cirrhosis"]
    )
    s = titration_schedule("tramadol", p)
    assert s.max_daily_dose_mg == 100
    assert s.max_daily_dose_rule == "tramadol.cap.hepatic"
    assert steps(s)[-1][1:] == (50.0, 2)


def test_nortriptyline_above_100_alert() -> None:
    """Part 0.3: nortriptyline above 100 mg/day -> alert to check the plasma level."""
    s = titration_schedule("nortriptyline", adult(), "150 mg/d")
    assert any(a.rule_id == "nortriptyline.dose.plasma_level" for a in s.alerts)
    s = titration_schedule("nortriptyline", adult(), "100 mg/d")
    assert all(a.rule_id != "nortriptyline.dose.plasma_level" for a in s.alerts)


def test_target_above_cap_is_lowered_and_said() -> None:
    """Part 0.3: a target above the cap is lowered to the cap and the schedule says so."""
    s = titration_schedule("carbamazepine", adult(hla_b_1502=False), "2000 mg/d")
    assert s.target_daily_dose_mg == 1200
    adj = next(a for a in s.adjustments if a.rule_id == "titration.target.capped")
    assert "2000" in adj.reason
    assert "1200" in adj.reason


def test_target_rounded_down_to_strengths() -> None:
    """Part 0.4: doses are rounded down to what the strengths make, never up."""
    s = titration_schedule("nortriptyline", adult(), "68 mg/d")
    assert s.steps[-1].daily_dose_mg == 60  # 65 would need 5 capsules (25 + 4 x 10)
    assert any(a.rule_id == "titration.rounding.down" for a in s.adjustments)


def test_lower_target_than_start() -> None:
    """A target below the protocol's start gives a single step at the target."""
    s = titration_schedule("gabapentin", adult(), "200 mg/d")
    assert steps(s) == [(0, 200.0, 1)]


# --- Part 0.4: protocols ------------------------------------------------------------------

PROTOCOLS = [
    (
        "gabapentin",
        "standard",
        [
            (0, 300.0, 1),
            (1, 300.0, 2),
            (2, 300.0, 3),
            (9, 400.0, 3),
            (16, 500.0, 3),
            (23, 600.0, 3),
        ],
    ),
    ("pregabalin", "standard", [(0, 75.0, 2), (7, 150.0, 2)]),
    ("carbamazepine", "standard", [(0, 100.0, 2), (7, 200.0, 2), (14, 300.0, 2)]),
    (
        "tramadol",
        "standard",
        # Part 0.9: the label climbs 25 mg once to four times a day, then stays at
        # 4 doses; 150 mg/day is not four equal doses of 25 mg halves, so day 12 is held.
        [(0, 25.0, 1), (3, 25.0, 2), (6, 25.0, 3), (9, 25.0, 4), (15, 50.0, 4)],
    ),
    ("naltrexone", "standard", [(0, 1.5, 1), (7, 3.0, 1), (14, 4.5, 1)]),
    ("nortriptyline", "standard", [(0, 25.0, 1), (7, 50.0, 1), (14, 75.0, 1)]),
    (
        "nortriptyline",
        "start_low",
        [
            (0, 10.0, 1),
            (7, 20.0, 1),
            (14, 30.0, 1),
            (21, 40.0, 1),
            (28, 50.0, 1),
            (35, 60.0, 1),
            (42, 70.0, 1),
            (49, 75.0, 1),
        ],
    ),
    (
        "pregabalin",
        "start_low",
        # Part 0.9: one dose at bedtime, then the band's lower count (2) as soon as it
        # makes the total, 3 when only 3 make 75 mg; 100 and 125 mg/day are held.
        [(0, 25.0, 1), (3, 25.0, 2), (6, 25.0, 3), (15, 50.0, 3)],
    ),
    # Part 0.4: carbamazepine in 2 doses up to 800 mg/day. 300 and 500 mg/day cannot
    # be two equal doses of the 100/200 mg strengths, so they round down to the
    # previous step and are skipped; the dose never rounds up.
    (
        "carbamazepine",
        "start_low",
        [(0, 100.0, 1), (7, 100.0, 2), (21, 200.0, 2), (35, 300.0, 2)],
    ),
]


@pytest.mark.parametrize(("drug", "protocol", "expected"), PROTOCOLS)
def test_protocols_part_0_4(
    drug: str, protocol: str, expected: list[tuple[int, float, int]]
) -> None:
    """Part 0.4's protocol table, day by day (a 50-year-old with normal renal function)."""
    s = titration_schedule(drug, adult(hla_b_1502=False), protocol=protocol)
    assert steps(s) == expected
    assert s.protocol is ProtocolName(protocol)


def test_standard_timings() -> None:
    """Part 0.4: nortriptyline at bedtime; tramadol 25 mg each morning; carbamazepine twice daily."""
    assert titration_schedule("nortriptyline", adult()).steps[0].timing is Timing.BEDTIME
    assert titration_schedule("tramadol", adult()).steps[0].timing is Timing.MORNING
    carb = titration_schedule("carbamazepine", adult(hla_b_1502=False))
    assert carb.steps[0].timing is Timing.TWICE_DAILY


def test_carbamazepine_three_doses_above_800() -> None:
    """Part 0.4: carbamazepine split in 2 doses, 3 above 800 mg/day."""
    s = titration_schedule("carbamazepine", adult(hla_b_1502=False), "1200 mg/d")
    for st in s.steps:
        assert st.doses_per_day == (3 if st.daily_dose_mg > 800 else 2)


@pytest.mark.parametrize(
    ("fields", "trigger"),
    [
        ({"age": 65}, "titration.start_low.older_adult"),
        ({"serum_creatinine": "2.0 mg/dL"}, "titration.start_low.renal"),
        ({"hepatic_impairment": "mild"}, "titration.start_low.hepatic"),
        ({"conditions": ["cirrhosis"]}, "titration.start_low.hepatic"),
    ],
)
def test_start_low_triggers(fields: dict[str, Any], trigger: str) -> None:
    """Part 0.4: start low for older patients, any renal band below normal, any hepatic impairment."""
    s = titration_schedule("gabapentin", adult(**fields))
    assert s.protocol is ProtocolName.START_LOW
    assert s.steps[0].dose_mg == 100
    assert any(a.rule_id == trigger for a in s.adjustments)


def test_caller_may_choose_standard_with_alert() -> None:
    """The caller may ask for the standard protocol; the schedule warns that start low applies."""
    s = titration_schedule("gabapentin", adult(age=70), protocol="standard")
    assert s.protocol is ProtocolName.STANDARD
    assert any(a.rule_id == "titration.protocol.caller_standard" for a in s.alerts)


def test_every_dose_is_made_of_strengths() -> None:
    """Part 0.4: every dose is made of the drug's marketed strengths."""
    for drug in Drug:
        s = titration_schedule(drug, adult(hla_b_1502=False), "100000 mg/d")
        form = formulary(drug, with_solution=False)
        for st in s.steps:
            assert form.round_down(st.dose_mg) == st.dose_mg
            assert st.composition == form.compose(st.dose_mg)


# --- Part 0.5: contraindications --------------------------------------------------------------

CONTRAINDICATIONS = [
    ("nortriptyline", {"medications": ["phenelzine"]}, "contraindication.nortriptyline.maoi"),
    ("nortriptyline", {"recent_medications": ["linezolid"]}, "contraindication.nortriptyline.maoi"),
    ("carbamazepine", {"medications": ["selegiline"]}, "contraindication.carbamazepine.maoi"),
    ("tramadol", {"recent_medications": ["methylene blue"]}, "contraindication.tramadol.maoi"),
    (
        "nortriptyline",
        {"conditions": ["recent_myocardial_infarction"]},
        "contraindication.nortriptyline.recent_mi",
    ),
    ("carbamazepine", {"hla_b_1502": True}, "contraindication.carbamazepine.hla_b_1502_positive"),
    (
        "carbamazepine",
        {"conditions": ["bone_marrow_depression"]},
        "contraindication.carbamazepine.bone_marrow_depression",
    ),
    (
        "carbamazepine",
        {"conditions": ["tricyclic_hypersensitivity"]},
        "contraindication.carbamazepine.tricyclic_hypersensitivity",
    ),
    ("carbamazepine", {"medications": ["nefazodone"]}, "contraindication.carbamazepine.nefazodone"),
    (
        "carbamazepine",
        {"sex": "female", "conditions": ["pregnancy"]},
        "contraindication.carbamazepine.pregnancy",
    ),
    ("naltrexone", {"medications": ["tramadol"]}, "contraindication.naltrexone.opioid"),
    ("naltrexone", {"medications": ["methadone"]}, "contraindication.naltrexone.opioid"),
    ("naltrexone", {"recent_medications": ["buprenorphine"]}, "contraindication.naltrexone.opioid"),
    (
        "naltrexone",
        {"conditions": ["opioid_use_disorder"]},
        "contraindication.naltrexone.opioid_dependence",
    ),
    (
        "naltrexone",
        {"conditions": ["acute_hepatitis"]},
        "contraindication.naltrexone.acute_hepatitis",
    ),
    ("naltrexone", {"hepatic_impairment": "severe"}, "contraindication.naltrexone.liver_failure"),
    ("tramadol", {"medications": ["naltrexone"]}, "contraindication.tramadol.naltrexone"),
    (
        "tramadol",
        {"conditions": ["respiratory_depression"]},
        "contraindication.tramadol.respiratory_depression",
    ),
]


@pytest.mark.parametrize(("drug", "fields", "rule"), CONTRAINDICATIONS)
def test_contraindications_part_0_5(drug: str, fields: dict[str, Any], rule: str) -> None:
    """Part 0.5: the schedule is refused with the reasons; there is no silent override."""
    with pytest.raises(ContraindicatedError) as info:
        titration_schedule(drug, adult(**fields))
    assert info.value.drug == drug
    assert rule in {a.rule_id for a in info.value.alerts}
    assert all(a.severity is Severity.CONTRAINDICATED for a in info.value.alerts)


@pytest.mark.parametrize(
    "drug", ["nortriptyline", "gabapentin", "pregabalin", "naltrexone", "tramadol"]
)
def test_pregnancy_is_major_for_the_others(drug: str) -> None:
    """Part 0.5: pregnancy -> carbamazepine refused, every other drug a major alert."""
    s = titration_schedule(drug, adult(sex="female", conditions=["pregnancy"]))
    alert = next(a for a in s.alerts if a.rule_id == "pregnancy.major")
    assert alert.severity is Severity.MAJOR


# --- Part 0.6 alerts on schedules ---------------------------------------------------------------


def test_alerts_sorted_and_attached() -> None:
    """Part 0.6: alerts attach to the schedule, most serious first."""
    p = adult(age=78, medications=["oxycodone"], conditions=["falls_history"])
    s = titration_schedule("gabapentin", p)
    ranks = [a.severity.rank for a in s.alerts]
    assert ranks == sorted(ranks, reverse=True)
    assert {
        "beers.gabapentin.opioid",
        "interaction.gabapentin.opioid",
        "beers.falls.antiepileptic_opioid_tca",
    } <= {a.rule_id for a in s.alerts}


def test_78_year_old_crcl_30_gabapentin() -> None:
    """Part 0.2/0.4: a 78-year-old with CrCl 30 -> severe band (15-30), start low, 700 mg/day cap, once daily."""
    p = Patient(age=78, sex="male", weight="72 kg", serum_creatinine=f"{72 * 62 / (72 * 30)} mg/dL")
    s = titration_schedule("gabapentin", p)
    assert s.renal.band is RenalBand.SEVERE
    assert s.protocol is ProtocolName.START_LOW
    assert s.max_daily_dose_mg == 700
    assert all(st.doses_per_day == 1 for st in s.steps)
    assert s.steps[-1].daily_dose_mg == 700


# --- start dates, results, JSON ---------------------------------------------------------------------


def test_start_date_gives_calendar_dates() -> None:
    """Steps carry calendar dates when a start date is given."""
    s = titration_schedule("naltrexone", adult(), start_date=dt.date(2026, 3, 1))
    assert [st.date for st in s.steps] == [
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 8),
        dt.date(2026, 3, 15),
    ]
    iso = titration_schedule("naltrexone", adult(), start_date="2026-03-01")
    assert iso == s
    stamp = titration_schedule("naltrexone", adult(), start_date=dt.datetime(2026, 3, 1, 9, 0))  # noqa: DTZ001
    assert stamp.steps[0].date == dt.date(2026, 3, 1)


def test_no_start_date_no_dates() -> None:
    """Without a start date, steps have no calendar date."""
    assert titration_schedule("naltrexone", adult()).steps[0].date is None


def test_result_reports_version_and_quantities() -> None:
    """Every result reports KNOWLEDGE_BASE_VERSION; doses are quantities in mg and mg/day."""
    s = titration_schedule("gabapentin", adult())
    assert s.knowledge_base_version == KNOWLEDGE_BASE_VERSION
    assert s.steps[0].dose == Q_(300, "mg")
    assert s.steps[0].daily_dose == Q_(300, "mg/day")
    assert s.max_daily_dose == Q_(3600, "mg/day")
    assert s.target_daily_dose == Q_(1800, "mg/day")
    assert s.final_daily_dose == Q_(1800, "mg/day")
    assert s.dose_on(0).day == 0
    assert s.dose_on(10).day == 9


@pytest.mark.parametrize("drug", list(Drug))
def test_json_round_trip(drug: Drug) -> None:
    """API.md: M.model_validate_json(m.model_dump_json()) == m; quantities as {value, unit}."""
    s = titration_schedule(
        drug, adult(age=70, on_dialysis=True, hla_b_1502=False), start_date="2026-01-01"
    )
    text = s.model_dump_json()
    assert TitrationSchedule.model_validate_json(text) == s
    data = json.loads(text)
    assert data["steps"][0]["dose"]["unit"] == "mg"
    assert data["steps"][0]["daily_dose"]["unit"] == "mg/d"
    assert data["max_daily_dose"]["unit"] == "mg/d"
    assert TitrationSchedule.model_validate(s.model_dump()) == s


def test_json_shape_of_a_step() -> None:
    """Quantities in JSON look like {"value": 300, "unit": "mg"}."""
    data = json.loads(titration_schedule("gabapentin", adult()).model_dump_json())
    assert data["steps"][0]["dose"] == {"value": 300, "unit": "mg"}
    assert data["steps"][2]["daily_dose"] == {"value": 900, "unit": "mg/d"}
    assert data["max_daily_dose"] == {"value": 3600, "unit": "mg/d"}


def test_json_schema_is_truthful() -> None:
    """The JSON Schema describes dose/daily_dose quantities, not internal floats."""
    modes: tuple[Literal["validation", "serialization"], ...] = ("validation", "serialization")
    for mode in modes:
        schema = TitrationSchedule.model_json_schema(mode=mode)
        step = schema["$defs"]["TitrationStep"]
        assert "dose" in step["properties"]
        assert "dose_mg" not in step["properties"]
        assert "max_daily_dose" in schema["properties"]
    assert "daily_dose" in TitrationStep.model_json_schema(mode="serialization")["required"]


def test_step_rejects_inconsistent_daily_dose() -> None:
    """A step whose daily dose is not dose x doses per day is refused."""
    with pytest.raises(ValidationError, match="daily_dose"):
        TitrationStep.model_validate(
            {
                "day": 0,
                "dose": "300 mg",
                "doses_per_day": 2,
                "daily_dose": "900 mg/d",
                "timing": "twice daily",
                "composition": "x",
                "reason": "r",
            }
        )


def test_schedule_rejects_broken_invariants() -> None:
    """A schedule whose steps exceed the cap or fall is refused."""
    s = titration_schedule("naltrexone", adult())
    data = json.loads(s.model_dump_json())
    data["max_daily_dose"] = {"value": 3, "unit": "mg/d"}
    with pytest.raises(ValidationError, match="exceeds the cap"):
        TitrationSchedule.model_validate(data)
    data = json.loads(s.model_dump_json())
    data["steps"] = list(reversed(data["steps"]))
    with pytest.raises(ValidationError, match="strictly increase"):
        TitrationSchedule.model_validate(data)


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"drug": "aspirin"}, UnknownTermError, "drug"),
        ({"drug": 42}, UnknownTermError, "drug"),
        ({"target_daily_dose": 300}, InvalidQuantityError, "target_daily_dose"),
        ({"target_daily_dose": "300"}, InvalidQuantityError, "target_daily_dose"),
        ({"target_daily_dose": "300 mg"}, InvalidQuantityError, "target_daily_dose"),
        ({"target_daily_dose": "-300 mg/d"}, InvalidQuantityError, "target_daily_dose"),
        ({"target_daily_dose": "0 mg/d"}, InvalidQuantityError, "target_daily_dose"),
        ({"target_daily_dose": "300 mL/min"}, InvalidQuantityError, "target_daily_dose"),
        ({"protocol": "fast"}, UnknownTermError, "protocol"),
        ({"weight_basis": "lean"}, UnknownTermError, "weight_basis"),
        ({"start_date": "tomorrow"}, InvalidArgumentError, "start_date"),
        ({"start_date": 20260101}, InvalidArgumentError, "start_date"),
        ({"start_date": "9999-12-31"}, InvalidArgumentError, "start_date"),
        ({"start_date": dt.date.max}, InvalidArgumentError, "start_date"),
    ],
)
def test_bad_input_names_the_argument(
    kwargs: dict[str, Any], error: type[ClunealError], field: str
) -> None:
    """Bad input raises a cluneal error naming the argument, never TypeError/KeyError."""
    args: dict[str, Any] = {"drug": "gabapentin", "patient": adult(), **kwargs}
    with pytest.raises(error, match=f"^{field}"):
        titration_schedule(**args)


def test_patient_as_mapping_and_bad_patient() -> None:
    """A mapping is validated as a Patient; anything else is a ValidationError."""
    s = titration_schedule("naltrexone", {"age": 40, "sex": "female"})
    assert s.steps[-1].dose_mg == 4.5
    with pytest.raises(ValidationError):
        titration_schedule("naltrexone", "not a patient")  # type: ignore[arg-type]


def test_target_in_other_units() -> None:
    """Targets convert: 1.2 g/d is 1200 mg/day; a mapping works too."""
    a = titration_schedule("gabapentin", adult(), "1.2 g/d")
    b = titration_schedule("gabapentin", adult(), {"value": 1200, "unit": "mg/d"})
    c = titration_schedule("gabapentin", adult(), Q_(1200, "mg/day"))
    assert (
        a.steps[-1].daily_dose_mg == b.steps[-1].daily_dose_mg == c.steps[-1].daily_dose_mg == 1200
    )


def test_gk_adjustments_are_unverified() -> None:
    """GK rules are reported as unverified (pregabalin's label cells are [GK], Part B2)."""
    s = titration_schedule("pregabalin", adult(serum_creatinine="2.0 mg/dL"))
    adj = next(a for a in s.adjustments if a.rule_id == "pregabalin.renal.moderate")
    assert not adj.verified
    assert "unverified" in adj.reason


def test_decision_adjustments_are_not_unverified() -> None:
    """Part 0 decisions are marked as decisions: the start-low rule is not "unverified"."""
    s = titration_schedule("gabapentin", adult(serum_creatinine="2.0 mg/dL"))
    adj = next(a for a in s.adjustments if a.rule_id == "titration.start_low.renal")
    assert adj.verified
    assert "unverified" not in adj.reason
    assert adj.citation == "decision_start_low"


def test_severity_ordering_of_refusal() -> None:
    """All contraindicating alerts are carried, sorted."""
    with pytest.raises(ContraindicatedError) as info:
        titration_schedule(
            "naltrexone", adult(medications=["oxycodone"], hepatic_impairment="severe")
        )
    ids = [a.rule_id for a in info.value.alerts]
    assert ids == sorted(ids)
    assert len(ids) == 2


def test_a_supplement_the_strengths_cannot_make_is_stated_not_dropped() -> None:
    """decision_dialysis_supplements_follow_maintenance, fail closed: when a knowledge
    base's strengths cannot make the label's post-dialysis supplement (here gabapentin
    without its oral solution and with a 50 mg row for a 100 mg/day maintenance), the
    schedule still says what the label gives and who doses it, never a KeyError."""
    import copy

    from cluneal import KnowledgeBase
    from cluneal.knowledge import read_toml

    doc = copy.deepcopy(read_toml("monographs/gabapentin.toml"))
    del doc["solution"]
    doc["dialysis_supplements"][0]["supplement_mg"] = 50
    doc["dialysis_supplements"][0].pop("alternative_mg", None)
    kb = KnowledgeBase.from_documents({"monographs/gabapentin.toml": doc})
    patient = Patient(age=60, sex="male", weight="70 kg", on_dialysis=True)
    schedule = titration_schedule("gabapentin", patient, knowledge=kb)
    first = schedule.supplemental_instructions[0]
    assert schedule.steps[0].daily_dose_mg == 100.0
    assert first.dose is None
    assert "(50 mg) cannot be made from the available strengths" in first.text


def test_replace_refuses_an_unknown_field_by_name() -> None:
    """Fail closed: KnowledgeBase.replace names a field it does not have (no TypeError)."""
    from cluneal import knowledge_base
    from cluneal.errors import UnknownTermError

    with pytest.raises(UnknownTermError, match=r"KnowledgeBase\.replace: got 'colour'"):
        knowledge_base().replace(colour="blue")
