"""Local protocols (API.md "Knowledge base and local protocols"; decision_local_protocol_conservative).

A clinic's protocol may only make the package more conservative: every kind of override
is applied where the rules read it, and every loosening is refused with a
LocalProtocolError naming the field, the value and the built-in limit.
"""

from __future__ import annotations

import json
import math
import pickle
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import cluneal
from cluneal import (
    ClunealError,
    ExcludedDrugError,
    Findings,
    LocalProtocol,
    LocalProtocolError,
    Patient,
    Severity,
    care_plan,
    check_regimen,
    knowledge_base,
    next_step,
    titration_schedule,
)
from cluneal.diagnosis import BlockResult, PainPattern, TenderPoint
from cluneal.plan import ChoiceStatus

if TYPE_CHECKING:
    from collections.abc import Callable

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "local_protocol.toml"
ADULT = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
TRIAD_1_2: dict[str, Any] = {
    "pain": PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    "tender_points": (TenderPoint(site="iliac_crest", reproduces_pain=True),),
}


def _protocol(**fields: Any) -> LocalProtocol:
    return LocalProtocol(name="clinic", version="1", **fields)


def _kb(**fields: Any) -> cluneal.KnowledgeBase:
    return knowledge_base().with_protocol(_protocol(**fields))


def _block(relief: float, duration: str | None) -> Findings:
    block = BlockResult(branches={"superior"}, relief_percent=relief, relief_duration=duration)
    return Findings(**TRIAD_1_2, block=block)


# --- the API shape --------------------------------------------------------------------


def test_the_api_example_is_accepted_and_names_itself() -> None:
    """API.md: the protocol of the example, exactly as written there, applies; the result's
    version is "<built-in version>+<name>@<version>" and carries the content hash."""
    protocol = LocalProtocol(
        name="st-elsewhere-pain",
        version="3",
        strengths={"gabapentin": ["300 mg"]},
        max_daily_dose={"gabapentin": "1200 mg/day"},
        excluded_drugs=["tramadol"],
        first_line=["pregabalin", "nortriptyline"],
        block_threshold_percent=70,
        lasting_relief="12 weeks",
    )
    built_in = knowledge_base()
    kb = built_in.with_protocol(protocol)
    assert kb.version == f"{built_in.version}+st-elsewhere-pain@3"
    assert kb.protocol is protocol
    assert kb.protocol_sha256 == protocol.sha256
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", protocol.sha256)
    assert built_in.protocol is None  # the built-in base is unchanged
    assert built_in.version == cluneal.KNOWLEDGE_BASE_VERSION


def test_the_hash_is_of_the_content_not_of_its_spelling() -> None:
    """The same protocol written in other units and another order hashes the same; any change
    of content (or of name or version) changes the hash."""
    one = _protocol(
        max_daily_dose={"gabapentin": "1200 mg/day", "pregabalin": "300 mg/d"},
        strengths={"gabapentin": ["300 mg", "100 mg"]},
        excluded_drugs=["tramadol", "naltrexone"],
        lasting_relief="16 weeks",
    )
    same = _protocol(
        lasting_relief={"value": 112, "unit": "d"},
        excluded_drugs=["naltrexone", "tramadol"],
        strengths={"gabapentin": ["100 mg", "0.3 g"]},
        max_daily_dose={"pregabalin": "0.3 g/d", "gabapentin": "1.2 g/d"},
    )
    assert one.sha256 == same.sha256
    assert one.canonical_json() == same.canonical_json()
    assert json.loads(one.canonical_json())["max_daily_dose_mg_per_day"] == {
        "gabapentin": 1200.0,
        "pregabalin": 300.0,
    }
    changed = [
        _protocol(max_daily_dose={"gabapentin": "1100 mg/day"}),
        _protocol(first_line=["pregabalin", "gabapentin"]),
        _protocol(first_line=["gabapentin", "pregabalin"]),
        LocalProtocol(name="clinic", version="2"),
        LocalProtocol(name="clinic-b", version="1"),
    ]
    hashes = {p.sha256 for p in changed} | {one.sha256}
    assert len(hashes) == len(changed) + 1
    assert hash(one) == hash(same)


def test_a_protocol_is_frozen_and_round_trips_as_json() -> None:
    """A frozen model; JSON out and back gives an equal protocol with the same hash."""
    protocol = LocalProtocol.from_toml(EXAMPLE)
    with pytest.raises(ValueError, match="frozen"):
        protocol.name = "other"  # type: ignore[misc]
    again = LocalProtocol.model_validate_json(protocol.model_dump_json())
    assert again == protocol
    assert again.sha256 == protocol.sha256
    minimal = LocalProtocol(name="clinic", version="1")  # every optional field absent (null)
    assert minimal.sha256  # cached on this instance only: equality is about the fields
    assert LocalProtocol.model_validate_json(minimal.model_dump_json()) == minimal
    assert minimal == LocalProtocol.from_mapping(json.loads(minimal.model_dump_json()))
    assert len({minimal, LocalProtocol(name="clinic", version="1")}) == 1


def test_the_example_file_reads_as_written(tmp_path: Path) -> None:
    """examples/local_protocol.toml, and the same protocol as JSON, read with from_toml/from_json."""
    protocol = LocalProtocol.from_toml(EXAMPLE)
    assert protocol.label == "st-elsewhere-pain@3"
    assert protocol.strengths_mg == {cluneal.Drug.GABAPENTIN: (300.0,)}
    assert protocol.max_daily_dose_mg == {
        cluneal.Drug.GABAPENTIN: 1200.0,
        cluneal.Drug.PREGABALIN: 300.0,
    }
    assert protocol.excluded_drugs == (cluneal.Drug.TRAMADOL,)
    assert protocol.first_line == (cluneal.Drug.PREGABALIN, cluneal.Drug.NORTRIPTYLINE)
    assert protocol.block_threshold_percent == 70.0
    assert protocol.lasting_relief_weeks == pytest.approx(16.0)
    as_json = tmp_path / "clinic.json"
    as_json.write_text(protocol.model_dump_json(), encoding="utf-8")
    assert LocalProtocol.from_json(as_json) == protocol
    assert LocalProtocol.from_mapping(json.loads(protocol.model_dump_json())) == protocol


def test_a_toml_integer_version_is_read_as_text(tmp_path: Path) -> None:
    """`version = 3` in TOML is the version "3" (a protocol version is a label)."""
    path = tmp_path / "p.toml"
    path.write_text('name = "clinic"\nversion = 3\n', encoding="utf-8")
    assert LocalProtocol.from_toml(path).version == "3"


# --- each kind of override, applied where the rules read it ----------------------------


def test_stocked_strengths_make_every_dose() -> None:
    """Schedules are made only of stocked strengths (gabapentin marketed 100/300/400/600/800 mg,
    clinical.md 0.4; stocked: 300 mg), and the schedule says so."""
    schedule = titration_schedule(
        "gabapentin", ADULT, knowledge=_kb(strengths={"gabapentin": ["300 mg"]})
    )
    assert {s.composition.split(" x ")[1] for s in schedule.steps} == {"300 mg capsule"}
    assert all(math.isclose(s.dose_mg % 300, 0) for s in schedule.steps)
    assert "local_protocol.strengths" in {a.rule_id for a in schedule.adjustments}
    built_in = titration_schedule("gabapentin", ADULT)
    assert any("400 mg" in s.composition for s in built_in.steps)  # 1200 = 3 x 400 mg


def test_a_start_set_by_the_stock_carries_an_alert() -> None:
    """0.4: pregabalin starts low at 25 mg at bedtime at 65 or older; with only 75 mg capsules
    stocked, day 0 is one 75 mg capsule (0.9: the smallest dose made, within the cap), and a
    moderate alert says that the stock, not the patient, set the start."""
    older = Patient(age=80, sex="female", weight="60 kg", serum_creatinine="0.9 mg/dL")
    kb = _kb(strengths={"pregabalin": ["75 mg"]})
    schedule = titration_schedule("pregabalin", older, knowledge=kb)
    assert schedule.steps[0].dose_mg == 75.0
    assert schedule.steps[0].doses_per_day == 1
    (alert,) = [a for a in schedule.alerts if a.rule_id == "local_protocol.strengths.first_dose"]
    assert alert.severity is cluneal.Severity.MODERATE
    assert "75 mg" in alert.message
    assert "25 mg/day" in alert.message
    assert titration_schedule("pregabalin", older).steps[0].dose_mg == 25.0
    standard = titration_schedule("pregabalin", ADULT, knowledge=kb)  # 75 mg twice daily: as meant
    assert not [a for a in standard.alerts if a.rule_id.startswith("local_protocol")]


def test_stocked_strengths_leave_out_the_oral_solution() -> None:
    """Below 15 mL/min the built-in schedule may use gabapentin's 50 mg/mL solution (0.4); once a
    protocol lists gabapentin's strengths, the solution counts as not stocked."""
    severe = Patient(age=80, sex="female", weight="45 kg", serum_creatinine="6 mg/dL")
    built_in = titration_schedule("gabapentin", severe)
    assert any("solution" in s.composition for s in built_in.steps)
    # CrCl (140 - 80) x 45 / (72 x 6) x 0.85 = 5.3 mL/min: the band's 300 mg/day (0.2) scaled
    # by 5.3/15 is 106 mg/day, so one 100 mg capsule a day is the schedule.
    schedule = titration_schedule(
        "gabapentin", severe, knowledge=_kb(strengths={"gabapentin": ["100 mg"]})
    )
    assert [(s.dose_mg, s.doses_per_day, s.composition) for s in schedule.steps] == [
        (100.0, 1, "1 x 100 mg capsule")
    ]
    assert schedule.max_daily_dose_mg < 300


@pytest.mark.parametrize(
    ("drug", "cap", "adult"),
    [
        ("gabapentin", "1200 mg/day", 3600),  # clinical.md 0.3: gabapentin adult cap 3600 mg
        ("pregabalin", "300 mg/day", 600),  # 0.3: pregabalin 600 mg
        ("carbamazepine", "800 mg/day", 1200),  # 0.3: carbamazepine 1200 mg
        ("nortriptyline", "100 mg/day", 150),  # 0.3: nortriptyline 150 mg
        ("tramadol", "200 mg/day", 400),  # 0.3: tramadol IR 400 mg
        ("naltrexone", "3 mg/day", 4.5),  # 0.3: low-dose naltrexone 4.5 mg
    ],
)
def test_a_lower_cap_wins_and_is_named(drug: str, cap: str, adult: float) -> None:
    """0.3: the lowest cap that applies wins and is named: the protocol's cap, below the adult
    cap, becomes the schedule's cap, no step exceeds it, and a higher target is lowered to it."""
    kb = _kb(max_daily_dose={drug: cap})
    limit = float(cap.split(maxsplit=1)[0])
    schedule = titration_schedule(drug, ADULT, f"{adult} mg/d", knowledge=kb)
    assert schedule.max_daily_dose_mg == limit
    assert schedule.max_daily_dose_rule == f"local_protocol.cap.{drug}"
    assert all(s.daily_dose_mg <= limit for s in schedule.steps)
    assert schedule.target_daily_dose_mg == limit
    assert schedule.knowledge_base_version == kb.version
    assert schedule.protocol_sha256 == kb.protocol_sha256


def test_a_cap_equal_to_the_adult_cap_changes_nothing_but_the_version() -> None:
    """A cap equal to the built-in adult cap (0.3: 600 mg pregabalin) is accepted; ties go to
    the adult cap, which stays named."""
    kb = _kb(max_daily_dose={"pregabalin": "600 mg/day"})
    schedule = titration_schedule("pregabalin", ADULT, "600 mg/d", knowledge=kb)
    assert schedule.max_daily_dose_rule == "pregabalin.cap.adult"
    assert schedule.steps == titration_schedule("pregabalin", ADULT, "600 mg/d").steps


def test_a_patient_cap_lower_than_the_protocol_cap_still_wins() -> None:
    """0.3 tramadol: CrCl < 30 caps at 200 mg/day; a protocol cap of 300 does not lift it."""
    renal = Patient(age=50, sex="male", weight="70 kg", serum_creatinine="4 mg/dL")
    schedule = titration_schedule(
        "tramadol", renal, knowledge=_kb(max_daily_dose={"tramadol": "300 mg/day"})
    )
    assert schedule.max_daily_dose_mg == 200
    assert schedule.max_daily_dose_rule == "tramadol.cap.renal"


def test_an_excluded_drug_is_never_scheduled_and_shown_as_excluded() -> None:
    """An excluded drug: titration refuses it; the care plan shows it as excluded by the
    protocol, never as an option; the first line moves on (0.8: nortriptyline first for a
    50-year-old without cardiac disease, then carbamazepine)."""
    kb = _kb(excluded_drugs=["tramadol", "nortriptyline"])
    with pytest.raises(ExcludedDrugError, match=r"tramadol .* 2026[.0-9]+\+clinic@1") as info:
        titration_schedule("tramadol", ADULT, knowledge=kb)
    assert isinstance(info.value, ClunealError)
    assert pickle.loads(pickle.dumps(info.value)).drug == "tramadol"
    plan = care_plan(ADULT, Findings(**TRIAD_1_2), knowledge=kb)
    assert [s.drug.value for s in plan.medications] == ["carbamazepine"]
    status = {c.drug.value: c.status for c in plan.drug_choices}
    assert status["nortriptyline"] is ChoiceStatus.EXCLUDED_BY_PROTOCOL
    assert status["tramadol"] is ChoiceStatus.EXCLUDED_BY_PROTOCOL
    assert status["naltrexone"] is ChoiceStatus.SECOND_LINE
    assert "Excluded by the local protocol (clinic@1): tramadol, nortriptyline" in (
        plan.medication_rationale
    )
    assert "tramadol (" not in plan.medication_rationale.split("Second-line options")[1]
    assert "local_protocol.excluded.tramadol" in plan.trace
    built_in = care_plan(ADULT, Findings(**TRIAD_1_2))
    assert [s.drug.value for s in built_in.medications] == ["nortriptyline"]


def test_the_first_line_order_is_the_clinics() -> None:
    """The clinic prefers pregabalin over nortriptyline; the others follow in the built-in order
    (0.8). Built-in safety skips still apply: at 70, nortriptyline is skipped (Beers 2023)."""
    kb = _kb(first_line=["pregabalin", "nortriptyline"])
    plan = care_plan(ADULT, Findings(**TRIAD_1_2), knowledge=kb)
    assert [s.drug.value for s in plan.medications] == ["pregabalin"]
    assert [c.drug.value for c in plan.drug_choices][:4] == [
        "pregabalin",
        "nortriptyline",
        "carbamazepine",
        "gabapentin",
    ]
    assert "local protocol clinic@1" in plan.medication_rationale
    older = Patient(age=70, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
    kb = _kb(first_line=["nortriptyline", "gabapentin"])
    plan = care_plan(older, Findings(**TRIAD_1_2), knowledge=kb)
    assert [s.drug.value for s in plan.medications] == ["gabapentin"]
    assert plan.drug_choices[0].status is ChoiceStatus.EXCLUDED  # Beers skip, not the protocol


@pytest.mark.parametrize(
    ("relief", "built_in", "under_70"),
    [
        (50, "confirmed", "unlikely"),  # 0.7: relief >= 50% is met (built-in threshold)
        (69, "confirmed", "unlikely"),
        (70, "confirmed", "confirmed"),  # Kiral 2024: >= 70%; at the threshold is met
        (90, "confirmed", "confirmed"),
    ],
)
def test_a_higher_block_threshold_is_applied(relief: float, built_in: str, under_70: str) -> None:
    """0.7: the block threshold is a parameter; the protocol's 70% (Kiral 2024) applies in
    assess_diagnosis, next_step and care_plan, and the result reports it."""
    kb = _kb(block_threshold_percent=70)
    found = _block(relief, "20 weeks")
    assert cluneal.assess_diagnosis(found).classification.value == built_in
    assessment = cluneal.assess_diagnosis(found, knowledge=kb)
    assert assessment.classification.value == under_70
    assert assessment.block_threshold == 70
    assert assessment.knowledge_base_version == kb.version
    assert assessment.protocol_sha256 == kb.protocol_sha256
    rec = next_step(found, knowledge=kb)
    expected = "maintain" if under_70 == "confirmed" else "reassess_diagnosis"
    assert rec.step.value == expected  # 0.8 steps 3 and 4
    assert rec.block_threshold == 70
    plan = care_plan(ADULT, found, knowledge=kb)
    assert plan.assessment.classification.value == under_70


@pytest.mark.parametrize(
    ("weeks", "built_in", "under_16"),
    [
        ("11 weeks", "radiofrequency_ablation", "radiofrequency_ablation"),  # 0.8 step 5
        ("12 weeks", "maintain", "radiofrequency_ablation"),  # 0.8 step 4: >= 12 weeks lasting
        ("15 weeks", "maintain", "radiofrequency_ablation"),
        ("16 weeks", "maintain", "maintain"),  # at the protocol's duration: lasting
    ],
)
def test_a_longer_lasting_relief_is_applied(weeks: str, built_in: str, under_16: str) -> None:
    """0.8 steps 4-5: relief lasting at least the duration is lasting (maintain), shorter is
    temporary (RFA). The protocol's 16 weeks applies and the recommendation reports it."""
    kb = _kb(lasting_relief="16 weeks")
    found = _block(80, weeks)
    assert next_step(found).step.value == built_in
    rec = next_step(found, knowledge=kb)
    assert rec.step.value == under_16
    assert rec.lasting_relief.to("week").magnitude == pytest.approx(16)
    assert rec.knowledge_base_version == kb.version
    assert rec.protocol_sha256 == kb.protocol_sha256
    assert care_plan(ADULT, found, knowledge=kb).recommendation.step.value == under_16


def test_a_caller_may_be_stricter_than_the_protocol_never_looser() -> None:
    """Under a protocol, its threshold and duration are floors for the caller's arguments."""
    kb = _kb(block_threshold_percent=70, lasting_relief="16 weeks")
    found = _block(80, "20 weeks")
    assert cluneal.assess_diagnosis(found, 80, knowledge=kb).block_threshold == 80
    assert next_step(found, lasting_relief="20 weeks", knowledge=kb).step.value == "maintain"
    refusals: list[tuple[Callable[[], object], str, str]] = [
        (lambda: cluneal.assess_diagnosis(found, 60, knowledge=kb), "block_threshold", "70%"),
        (lambda: next_step(found, block_threshold=50, knowledge=kb), "block_threshold", "70%"),
        (lambda: next_step(found, lasting_relief="12 weeks", knowledge=kb), "lasting_relief", "16"),
        (
            lambda: care_plan(ADULT, found, lasting_relief="8 weeks", knowledge=kb),
            "lasting_relief",
            "16 weeks",
        ),
        (
            lambda: cluneal.pathway.classify_outcome(80, None, threshold_percent=55, knowledge=kb),
            "threshold_percent",
            "70%",
        ),
    ]
    for call, field, limit in refusals:
        with pytest.raises(LocalProtocolError) as info:
            call()
        assert info.value.field == field
        assert limit in str(info.value)
        assert "clinic@1" in str(info.value)


def test_a_protocol_applies_once() -> None:
    """One protocol per knowledge base: applying a second one is refused (an audit names one)."""
    kb = _kb(excluded_drugs=["tramadol"])
    with pytest.raises(LocalProtocolError) as info:
        kb.with_protocol(LocalProtocol(name="other", version="1"))
    assert info.value.field == "knowledge"
    assert kb.version in str(info.value)


# --- each refusal: the field, the value and the built-in limit ------------------------

REFUSALS: list[tuple[dict[str, Any], str, str, str]] = [
    # (fields, the field named, the value shown, the limit named)
    # clinical.md 0.3 adult caps
    (
        {"max_daily_dose": {"gabapentin": "3601 mg/day"}},
        "max_daily_dose.gabapentin",
        "3601",
        "3600",
    ),
    ({"max_daily_dose": {"pregabalin": "0.9 g/d"}}, "max_daily_dose.pregabalin", "900", "600"),
    (
        {"max_daily_dose": {"carbamazepine": "1600 mg/d"}},
        "max_daily_dose.carbamazepine",
        "1600",
        "1200",
    ),
    (
        {"max_daily_dose": {"nortriptyline": "200 mg/d"}},
        "max_daily_dose.nortriptyline",
        "200",
        "150",
    ),
    ({"max_daily_dose": {"tramadol": "450 mg/d"}}, "max_daily_dose.tramadol", "450", "400"),
    ({"max_daily_dose": {"naltrexone": "6 mg/d"}}, "max_daily_dose.naltrexone", "6", "4.5"),
    # clinical.md 0.4 marketed strengths
    ({"strengths": {"gabapentin": ["250 mg"]}}, "strengths.gabapentin", "250", "100 mg, 300 mg"),
    ({"strengths": {"tramadol": ["25 mg"]}}, "strengths.tramadol", "25", "50 mg"),  # a half tablet
    ({"strengths": {"pregabalin": ["75 mg", "125 mg"]}}, "strengths.pregabalin", "125", "225 mg"),
    ({"strengths": {"nortriptyline": ["100 mg"]}}, "strengths.nortriptyline", "100", "75 mg"),
    ({"strengths": {"naltrexone": ["1.5 mg"]}}, "strengths.naltrexone", "1.5", "compounded"),
    ({"strengths": {"gabapentin": ["300 mg", "0.3 g"]}}, "strengths.gabapentin", "300", "once"),
    ({"strengths": {"gabapentin": ["300"]}}, "strengths.gabapentin.0", "300", "unit"),
    ({"strengths": {"gabapentin": []}}, "strengths.gabapentin", "[]", "at least 1"),
    # drugs and fields the knowledge base does not know
    ({"strengths": {"aspirin": ["300 mg"]}}, "strengths.aspirin", "aspirin", "'gabapentin'"),
    (
        {"max_daily_dose": {"ibuprofen": "1 g/d"}},
        "max_daily_dose.ibuprofen",
        "ibuprofen",
        "'tramadol'",
    ),
    ({"excluded_drugs": ["oxycodone"]}, "excluded_drugs[0]", "oxycodone", "'tramadol'"),
    ({"excluded_drugs": "tramadol"}, "excluded_drugs", "tramadol", "a list"),
    ({"excluded_drugs": ["tramadol", "Tramadol"]}, "excluded_drugs", "Tramadol", "each drug once"),
    ({"first_line": ["duloxetine"]}, "first_line[0]", "duloxetine", "'pregabalin'"),
    ({"max_dose": {"gabapentin": "1 g/d"}}, "max_dose", "gabapentin", "max_daily_dose"),
    ({"block_threshold": 70}, "block_threshold", "70", "block_threshold_percent"),
    # the first line: reorder it, never add to it (0.8: tramadol and naltrexone second line)
    ({"first_line": ["tramadol"]}, "first_line", "tramadol", "second line"),
    ({"first_line": ["naltrexone", "gabapentin"]}, "first_line", "naltrexone", "second line"),
    (
        {"first_line": ["pregabalin"], "excluded_drugs": ["pregabalin"]},
        "first_line",
        "pregabalin",
        "not also exclude",
    ),
    # 0.7: the block threshold may rise from 50% to 100%, never fall
    ({"block_threshold_percent": 49.9}, "block_threshold_percent", "49.9", "built-in 50%"),
    ({"block_threshold_percent": 20}, "block_threshold_percent", "20", "built-in 50%"),
    ({"block_threshold_percent": 100.5}, "block_threshold_percent", "100.5", "at most 100"),
    ({"block_threshold_percent": 0}, "block_threshold_percent", "0", "above 0"),
    ({"block_threshold_percent": float("nan")}, "block_threshold_percent", "nan", "at most 100"),
    ({"block_threshold_percent": True}, "block_threshold_percent", "True", "a number"),
    ({"block_threshold_percent": "70"}, "block_threshold_percent", "70", "a number"),
    # 0.8: lasting relief at least 12 weeks; at most 52 weeks (local_protocol.toml)
    ({"lasting_relief": "11 weeks"}, "lasting_relief", "11 weeks", "built-in 12 weeks"),
    ({"lasting_relief": "30 days"}, "lasting_relief", "4.28571 weeks", "built-in 12 weeks"),
    ({"lasting_relief": "53 weeks"}, "lasting_relief", "53 weeks", "at most 52 weeks"),
    ({"lasting_relief": "12"}, "lasting_relief", "12", "unit"),
]


@pytest.mark.parametrize(("fields", "field", "value", "limit"), REFUSALS)
def test_every_loosening_is_refused_naming_field_value_and_limit(
    fields: dict[str, Any], field: str, value: str, limit: str
) -> None:
    """decision_local_protocol_conservative: a refusal is a LocalProtocolError (a ClunealError)
    whose message, one line, names the field, the value and the limit."""
    with pytest.raises(LocalProtocolError) as info:
        _protocol(**fields)
    err = info.value
    assert isinstance(err, ClunealError)
    assert err.field == field
    message = str(err)
    assert "\n" not in message
    assert message.startswith(f"local protocol: {field}: got ")
    assert value in message
    assert limit in message
    assert pickle.loads(pickle.dumps(err)).field == field


# JSON has no NaN literal: the TOML test below reads a nan threshold from a file.
JSON_REFUSALS = [r for r in REFUSALS if r[2] != "nan"]


@pytest.mark.parametrize(("fields", "field", "value", "limit"), JSON_REFUSALS)
def test_every_loosening_is_refused_from_a_file(
    tmp_path: Path, fields: dict[str, Any], field: str, value: str, limit: str
) -> None:
    """The same refusals through from_json."""
    path = tmp_path / "clinic.json"
    path.write_text(json.dumps({"name": "clinic", "version": "1", **fields}), encoding="utf-8")
    with pytest.raises(LocalProtocolError) as info:
        LocalProtocol.from_json(path)
    assert info.value.field == field
    assert value in str(info.value)
    assert limit in str(info.value)


def test_toml_nan_and_malformed_files_are_refused(tmp_path: Path) -> None:
    """A TOML nan threshold, a file that is not TOML or JSON, a missing file, a JSON array, a
    missing name: each a LocalProtocolError naming what is wrong."""
    cases = {
        "nan.toml": ('name = "c"\nversion = "1"\nblock_threshold_percent = nan\n', "block_th"),
        "broken.toml": ('name = "c\n', "valid TOML"),
        "broken.json": ('{"name": ', "valid JSON"),
        "list.json": ("[1, 2]", "a table of fields"),
        "noname.toml": ('version = "1"\n', "name"),
        "spaces.toml": ('name = "st elsewhere"\nversion = "1"\n', "name"),
    }
    for filename, (text, expected) in cases.items():
        path = tmp_path / filename
        path.write_text(text, encoding="utf-8")
        read = LocalProtocol.from_json if filename.endswith(".json") else LocalProtocol.from_toml
        with pytest.raises(LocalProtocolError, match=expected):
            read(path)
    with pytest.raises(LocalProtocolError, match="a readable file"):
        LocalProtocol.from_toml(tmp_path / "missing.toml")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(LocalProtocolError, match="UTF-8"):
        LocalProtocol.from_toml(tmp_path / "binary.toml")
    with pytest.raises(LocalProtocolError, match="a table of fields"):
        LocalProtocol.from_mapping(["name", "clinic"])
    with pytest.raises(LocalProtocolError, match="a table of drug names"):
        _protocol(strengths=["gabapentin"])


def test_a_variant_knowledge_base_is_checked_again() -> None:
    """with_protocol checks the protocol against the base it is applied to, not only the
    built-in one: a base whose adult gabapentin cap is 1800 refuses a protocol cap of 2400."""
    built_in = knowledge_base()
    mono = built_in.monographs[cluneal.Drug.GABAPENTIN]
    adult = mono.caps[0]
    lowered_cap = type(adult)(**{**dict(adult), "max_mg_day": 1800.0})
    lowered = type(mono)(**{**dict(mono), "caps": (lowered_cap, *mono.caps[1:])})
    variant = built_in.replace(
        version="variant", monographs={**built_in.monographs, mono.drug: lowered}
    )
    protocol = _protocol(max_daily_dose={"gabapentin": "2400 mg/day"})
    assert built_in.with_protocol(protocol).version.endswith("+clinic@1")
    with pytest.raises(LocalProtocolError, match="1800 mg/day"):
        variant.with_protocol(protocol)


def test_a_raised_refusal_pickles_with_traceback_pickling_installed() -> None:
    """Dask installs tblib's exception pickling, which also walks ``__context__``:
    a refusal raised by the constructor must not carry a cycle through pydantic's
    error (which holds the refusal), or sending it between workers recurses forever."""
    from tblib import pickling_support

    pickling_support.install()
    with pytest.raises(LocalProtocolError) as info:
        _protocol(max_daily_dose={"gabapentin": "3601 mg/day"})
    assert info.value.__context__ is None
    restored = pickle.loads(pickle.dumps(info.value))
    assert restored.field == "max_daily_dose.gabapentin"
    assert "3600" in str(restored)


def test_check_regimen_names_a_drug_the_protocol_excludes() -> None:
    """decision_local_protocol_conservative: a regimen with an excluded drug is flagged (major),
    with the protocol's rule id; the built-in base does not flag it."""
    kb = _kb(excluded_drugs=["tramadol"])
    alerts = check_regimen(["tramadol", "gabapentin"], ADULT, knowledge=kb)
    excluded = [a for a in alerts if a.rule_id == "local_protocol.excluded.tramadol"]
    assert len(excluded) == 1
    assert excluded[0].severity is Severity.MAJOR
    assert excluded[0].drugs == ("tramadol",)
    assert "clinic@1" in excluded[0].message
    assert excluded[0].citation == "decision_local_protocol_conservative"
    built_in = check_regimen(["tramadol"], ADULT)
    assert not any(a.rule_id.startswith("local_protocol.") for a in built_in)
