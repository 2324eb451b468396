"""The monographs' texts take their numbers from the data they describe (issue 11).

A text shown with a schedule (a protocol, a cap, a renal band, a dialysis
supplement) names the values it states as placeholders, so a changed value
changes its explanation too; the knowledge base refuses a template that does
not fill in when it is made. What is left as a literal number is a quote of a
source that no rule acts on, listed below with its reason.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

import pytest

from cluneal import (
    Drug,
    KnowledgeBase,
    KnowledgeBaseError,
    LocalProtocol,
    Patient,
    assess_diagnosis,
    knowledge_base,
    titration_schedule,
)
from cluneal.diagnosis import BlockResult, Findings, criterion_definitions
from cluneal.knowledge import read_toml
from cluneal.knowledge.drugs import ProtocolName, monograph_text, rule_text

if TYPE_CHECKING:
    from pydantic import BaseModel


def _with(model: BaseModel, **update: Any) -> Any:
    # model_copy skips validation on purpose: the knowledge base's own checks must catch it.
    return model.model_copy(update=update)


# clinical.md Part 0.4, the "start (standard)" and "start (start low)" columns.
STARTS = {
    (Drug.NORTRIPTYLINE, ProtocolName.STANDARD): "25 mg at bedtime",
    (Drug.NORTRIPTYLINE, ProtocolName.START_LOW): "10 mg at bedtime",
    (Drug.CARBAMAZEPINE, ProtocolName.STANDARD): "100 mg twice daily",
    (Drug.CARBAMAZEPINE, ProtocolName.START_LOW): "100 mg at bedtime",
    (Drug.GABAPENTIN, ProtocolName.START_LOW): "100 mg at bedtime",
    (Drug.PREGABALIN, ProtocolName.STANDARD): "75 mg twice daily",
    (Drug.PREGABALIN, ProtocolName.START_LOW): "25 mg at bedtime",
    (Drug.TRAMADOL, ProtocolName.STANDARD): "25 mg each morning",
    (Drug.TRAMADOL, ProtocolName.START_LOW): "25 mg each morning",
}
_WORDS = {"bedtime": "at bedtime", "morning": "each morning"}


@pytest.mark.parametrize(("drug", "name"), sorted(STARTS, key=str))
def test_a_protocol_names_its_first_dose_as_the_schedule_gives_it(
    drug: Drug, name: ProtocolName
) -> None:
    """The protocol text's first dose is the schedule's day 0 (normal renal function, age 40)."""
    kb = knowledge_base()
    proto = kb.monographs[drug].protocol(name)
    text = rule_text(proto, kb)
    assert text.startswith(STARTS[drug, name] + ", ")
    patient = Patient(age=40, sex="female", weight="70 kg", serum_creatinine="0.8 mg/dL")
    first = titration_schedule(drug, patient, protocol=name.value).steps[0]
    words = _WORDS.get(first.timing.value, first.timing.value)
    assert text.startswith(f"{first.dose_mg:g} mg {words}, ")


def _session(kb: KnowledgeBase, hours: float) -> KnowledgeBase:
    rules = dict(kb.titration_rules)
    rules["titration.renal.dialysis_session"] = _with(
        rules["titration.renal.dialysis_session"], session_hours=hours
    )
    return kb.replace(version="test-session-3h", titration_rules=rules)


def test_the_dialysis_session_fills_the_supplement_texts() -> None:
    """The labels' "after each 4 h session" is the session rule's length, wherever it is said."""
    kb = knowledge_base()
    short = _session(kb, 3)
    for drug in (Drug.GABAPENTIN, Drug.PREGABALIN):
        mono = short.monographs[drug]
        assert " 3 h" in monograph_text(mono.dialysis_note, short)
        assert " 4 h" in monograph_text(mono.dialysis_note, kb)
        for row in mono.dialysis_supplements:
            assert "after each 3 h" in rule_text(row, short)
            assert "after each 4 h" in rule_text(row, kb)
    patient = Patient(
        age=60, sex="male", weight="70 kg", serum_creatinine="8 mg/dL", on_dialysis=True
    )
    schedule = titration_schedule(Drug.PREGABALIN, patient, knowledge=short)
    assert schedule.supplemental_instructions
    for instruction in schedule.supplemental_instructions:
        assert "after each 3-hour haemodialysis session" in instruction.text
        assert "after each 3 h session" in instruction.text


def test_every_12_h_is_the_caps_count_of_doses() -> None:
    """Tramadol's "every 12 h" is 24 h over the cap's doses a day (clinical.md 0.3: 2 doses)."""
    kb = knowledge_base()
    mono = kb.monographs[Drug.TRAMADOL]
    renal = next(c for c in mono.caps if c.rule_id == "tramadol.cap.renal")
    assert "every 12 h" in rule_text(renal, kb)
    assert "every 8 h" in rule_text(_with(renal, max_doses_per_day=3), kb)


def test_the_solution_text_names_the_end_stage_bound() -> None:
    """Gabapentin's oral solution "below 15 mL/min" is the severe band's lower CrCl bound."""
    kb = knowledge_base()
    solution = kb.monographs[Drug.GABAPENTIN].solution
    assert solution is not None
    assert "below 15 mL/min" in rule_text(solution, kb)


@pytest.mark.parametrize("field", ["summary", "dialysis_note"])
def test_a_monograph_text_that_does_not_fill_in_is_refused(field: str) -> None:
    """A summary or dialysis note naming an unknown value is refused when the base is made."""
    kb = knowledge_base()
    monographs = dict(kb.monographs)
    monographs[Drug.PREGABALIN] = _with(monographs[Drug.PREGABALIN], **{field: "{bogus} h"})
    with pytest.raises(KnowledgeBaseError, match=rf"pregabalin\.toml.*{field}.*bogus"):
        kb.replace(monographs=monographs)


# Literal numbers left in the monographs' texts: quotes of a source (or a name) that no
# rule acts on. Any other number in a text must be a placeholder.
QUOTES: dict[str, tuple[tuple[str, ...], str]] = {
    "nortriptyline.protocol.standard": (("2007",), "citation year (Dworkin 2007)"),
    "nortriptyline.cap.older_adult": (("30", "50"), "the label's elderly dose range"),
    "nortriptyline.dose.plasma_level": (("50", "150"), "therapeutic plasma range, advice"),
    "nortriptyline.monitoring.ecg": (
        ("40",),
        "monitoring advice; the alert is alert.nortriptyline.ecg_over_40 (safety.toml)",
    ),
    "nortriptyline.monitoring.cyp2d6": (("2", "6"), "the gene's name"),
    "nortriptyline.summary": (("2023",), "citation year (Beers 2023)"),
    "carbamazepine.monitoring.labs": (("4", "12", "3", "5"), "label monitoring advice"),
    "carbamazepine.monitoring.dose_reduction": (("3",), "label monitoring advice"),
    "carbamazepine.summary": (("15", "02"), "the allele's name, HLA-B*15:02"),
    "gabapentin.protocol.standard": (("1", "2", "3"), "day numbers of the label's climb"),
    "gabapentin.protocol.start_low": (("100", "200"), "the article's start range, quoted"),
    "gabapentin.cap.adult": (("1",), "the label's Table 1, named"),
    "gabapentin.renal.normal": (("1",), "the label's Table 1, named"),
    "gabapentin.renal.moderate": (("1",), "the label's Table 1, named"),
    "gabapentin.renal.severe": (("1",), "the label's Table 1, named"),
    "gabapentin.renal.end_stage": (("1",), "the label's Table 1, named"),
    "gabapentin.monitoring.sedation": (("1",), "label advice on stopping"),
    "gabapentin.summary": (("1",), "the label's Table 1, named"),
    "gabapentin.dialysis_note": (("1",), "the label's Table 1, named"),
    "pregabalin.protocol.start_low": (("25", "50"), "the article's start range, quoted"),
    "pregabalin.dialysis.supplement_25_to_50": (("25",), "the label's row heading"),
    "pregabalin.dialysis.supplement_50_to_75": (("50", "75"), "the label's row heading"),
    "pregabalin.monitoring.sedation": (("2019", "1"), "citation year; label advice"),
    "pregabalin.summary": (("1", "2"), "label Table 1; pharmacology"),
    "naltrexone.cap.low_dose": (("50",), "the labelled addiction dose, not this use"),
    "naltrexone.monitoring.opioid_free": (("7", "10"), "label advice"),
    "naltrexone.summary": (("50", "3", "88", "95", "5", "40"), "trial figures (ED50, ED95)"),
    "tramadol.single_dose.max": (("50", "100", "4", "6"), "the label's dosing, quoted"),
    "tramadol.cap.renal": (("30",), "a decision's id (decision_tramadol_crcl_30_restricted)"),
    "tramadol.summary": (("25",), "summary prose: the label's start"),
    "tramadol.dialysis_note": (("7", "4"), "the label: under 7% removed in a 4 h session"),
}


def _texts() -> dict[str, str]:
    kb = knowledge_base()
    texts: dict[str, str] = {}
    for drug, mono in kb.monographs.items():
        texts.update({r.rule_id: r.text for r in mono.rules()})
        texts[f"{drug.value}.summary"] = mono.summary
        texts[f"{drug.value}.dialysis_note"] = mono.dialysis_note
    return texts


def test_texts_state_no_number_a_rule_acts_on() -> None:
    """Outside placeholders, a monograph text's numbers are the quotes listed above."""
    found = {}
    for key, text in _texts().items():
        numbers = tuple(re.findall(r"\d+", re.sub(r"\{[^}]*\}", "", text)))
        if numbers:
            found[key] = numbers
    assert found == {key: numbers for key, (numbers, _) in QUOTES.items()}


def test_the_diagnosis_texts_name_the_files_numbers() -> None:
    """The default threshold and the landmarks' distances fill the criteria's and sites' texts."""
    raw = read_toml("diagnosis.toml")
    built = KnowledgeBase.from_documents({"diagnosis.toml": raw}, version="dx-same").diagnosis
    # clinical.md Part 0.7: threshold 50%, about 70 mm from the midline, within 40 mm of the PSIS.
    assert "(default 50%)" in built.definition_of(built.criterion[2])
    assert (
        built.landmark[0].site_text == "on the posterior iliac crest about 70 mm from the midline"
    )
    assert built.landmark[1].site_text == "within 40 mm caudal to the PSIS"
    changed = copy.deepcopy(raw)
    changed["default_block_threshold_percent"] = 60.0
    changed["landmark"][0]["from_midline_mm"] = 75.0
    changed["landmark"][1]["caudal_to_psis_max_mm"] = 45.0
    table = KnowledgeBase.from_documents({"diagnosis.toml": changed}, version="dx-60").diagnosis
    assert "(default 60%)" in table.definition_of(table.criterion[2])
    assert "about 75 mm (7.5 cm) from the midline" in table.landmark[0].location
    assert table.landmark[1].site_text == "within 45 mm caudal to the PSIS"
    assert "within 45 mm caudal to the PSIS" in table.criterion[1].examine_text  # type: ignore[operator]


def test_a_diagnosis_text_naming_an_unknown_number_is_refused() -> None:
    """A criterion text naming a value the file does not hold is refused when read."""
    raw = read_toml("diagnosis.toml")
    raw["criterion"][0]["definition"] = "at least {bogus_mm:g} mm"
    with pytest.raises(KnowledgeBaseError, match=r"criterion\.definition.*bogus_mm"):
        KnowledgeBase.from_documents({"diagnosis.toml": raw}, version="dx-bad")


def test_the_criteria_reasons_are_data() -> None:
    """An assessment's reasons read diagnosis.toml's [reasons]; an unknown placeholder is refused."""
    raw = read_toml("diagnosis.toml")
    changed = copy.deepcopy(raw)
    changed["reasons"]["block_not_met"] = "only {relief} after the {what}{lasting} (< {threshold})"
    kb = KnowledgeBase.from_documents({"diagnosis.toml": changed}, version="dx-words")
    findings = Findings(block=BlockResult(branches={"superior"}, relief_percent=30))
    block = assess_diagnosis(findings, knowledge=kb).criterion("block_response")
    assert block.reason == "only 30% after the block of the superior cluneal nerve (< 50%)"
    changed["reasons"]["pain_met"] = "pain{support} {bogus}"
    with pytest.raises(KnowledgeBaseError, match=r"pain_met.*bogus"):
        KnowledgeBase.from_documents({"diagnosis.toml": changed}, version="dx-bad")


def test_a_local_protocols_threshold_is_the_definitions_default() -> None:
    """With a protocol's block threshold (70%), the block criterion's definition names it."""
    kb = knowledge_base().with_protocol(
        LocalProtocol(name="clinic", version="1", block_threshold_percent=70)
    )
    block = assess_diagnosis(Findings(), knowledge=kb).criterion("block_response")
    assert "(default 70%)" in block.definition
    assert "(default 70%)" in criterion_definitions(knowledge=kb)[2][2]
    assert "(default 50%)" in criterion_definitions()[2][2]  # clinical.md Part 0.7
