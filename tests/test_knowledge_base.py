"""The knowledge base as one frozen value: loaded once, checked at construction, passed as knowledge=.

Tests build their own knowledge bases with ``KnowledgeBase.replace`` instead of
swapping data files: a variant is checked as a whole when it is made.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from cluneal import (
    KNOWLEDGE_BASE_VERSION,
    KnowledgeBase,
    KnowledgeBaseError,
    Patient,
    assess_diagnosis,
    care_plan,
    knowledge_base,
    next_step,
    titration_schedule,
)
from cluneal.diagnosis import BlockResult, Findings, PainPattern, TenderPoint

if TYPE_CHECKING:
    from pydantic import BaseModel


def _with(model: BaseModel, **update: Any) -> Any:
    # model_copy skips validation on purpose: the knowledge base's own checks must catch it.
    return model.model_copy(update=update)


def _older_adult_from(age: float) -> KnowledgeBase:
    kb = knowledge_base()
    params = _with(kb.parameters, older_adult=_with(kb.parameters.older_adult, age_years=age))
    return kb.replace(version="test-older-70", parameters=params)


def _confirmed(relief: float, weeks: float | None = None) -> Findings:
    duration = None if weeks is None else f"{weeks} weeks"
    return Findings(
        pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
        tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
        block=BlockResult(branches={"superior"}, relief_percent=relief, relief_duration=duration),
    )


PATIENT_67 = Patient(age=67, sex="male", weight="70 kg", serum_creatinine="0.9 mg/dL")


def test_built_in_is_loaded_once_and_frozen() -> None:
    """knowledge_base() is one frozen value with the version every result reports."""
    kb = knowledge_base()
    assert kb is knowledge_base()
    assert kb.version == KNOWLEDGE_BASE_VERSION
    with pytest.raises(dataclasses.FrozenInstanceError):
        kb.version = "x"  # type: ignore[misc]


def test_every_result_reports_the_version_it_used() -> None:
    """API.md: every result reports the version of the knowledge base it used."""
    kb = knowledge_base().replace(version="clinic-7")
    findings = _confirmed(80, 20)
    assert titration_schedule("gabapentin", PATIENT_67, knowledge=kb).knowledge_base_version == (
        "clinic-7"
    )
    assert assess_diagnosis(findings, knowledge=kb).knowledge_base_version == "clinic-7"
    assert next_step(findings, knowledge=kb).knowledge_base_version == "clinic-7"
    assert care_plan(PATIENT_67, findings, knowledge=kb).knowledge_base_version == "clinic-7"
    assert care_plan(PATIENT_67, findings).knowledge_base_version == KNOWLEDGE_BASE_VERSION


@pytest.mark.parametrize(
    "patient",
    [
        PATIENT_67,
        Patient(age=40, sex="female", weight="60 kg", serum_creatinine="2.5 mg/dL"),
        Patient(age=80, sex="male", hepatic_impairment="moderate", medications=["oxycodone"]),
    ],
)
def test_the_built_in_base_passed_explicitly_changes_nothing(patient: Patient) -> None:
    """knowledge=knowledge_base() is the default, to the byte."""
    findings = _confirmed(60, 4)
    assert (
        care_plan(patient, findings, knowledge=knowledge_base()).model_dump_json()
        == care_plan(patient, findings).model_dump_json()
    )


def test_older_adult_age_is_read_from_the_knowledge_base() -> None:
    """clinical.md 0.2: "Older" means age >= 65, and start low applies to older patients.

    Move the age to 70 in a test knowledge base and a 67-year-old is no longer older.
    """
    default = titration_schedule("gabapentin", PATIENT_67)
    assert default.protocol.value == "start_low"
    moved = titration_schedule("gabapentin", PATIENT_67, knowledge=_older_adult_from(70))
    assert moved.protocol.value == "standard"
    assert "titration.start_low.older_adult" not in {a.rule_id for a in moved.adjustments}


def test_first_line_skip_follows_the_older_adult_age() -> None:
    """clinical.md 0.8: first choice nortriptyline unless 65 or older (Beers 2023)."""
    findings = _confirmed(80, 20)

    def nortriptyline(kb: KnowledgeBase | None) -> str:
        plan = care_plan(PATIENT_67, findings, knowledge=kb)
        return next(c.status.value for c in plan.drug_choices if c.drug.value == "nortriptyline")

    assert nortriptyline(None) == "excluded"
    assert nortriptyline(_older_adult_from(70)) == "chosen"


def test_tramadol_age_cap_is_read_from_the_knowledge_base() -> None:
    """clinical.md 0.4 (tramadol row): 400 mg; age > 75: 300 mg."""
    patient = Patient(age=80, sex="male", weight="70 kg", serum_creatinine="0.9 mg/dL")
    assert titration_schedule("tramadol", patient).max_daily_dose_mg == 300
    kb = knowledge_base()
    params = _with(kb.parameters, age_over_75=_with(kb.parameters.age_over_75, age_above_years=85))
    moved = titration_schedule("tramadol", patient, knowledge=kb.replace(parameters=params))
    assert moved.max_daily_dose_mg == 400


def test_lasting_relief_is_read_from_the_knowledge_base() -> None:
    """clinical.md 0.8, steps 4-5: relief >= 12 weeks is lasting (maintain); less: RFA."""
    findings = _confirmed(80, 10)
    assert next_step(findings).step.value == "radiofrequency_ablation"
    kb = knowledge_base()
    params = _with(kb.pathway.parameters, lasting_relief_weeks=8.0)
    shorter = kb.replace(pathway=_with(kb.pathway, parameters=params))
    rec = next_step(findings, knowledge=shorter)
    assert rec.step.value == "maintain"
    assert rec.lasting_relief.magnitude == 8


def test_block_threshold_is_read_from_the_knowledge_base() -> None:
    """clinical.md 0.7: a block responds at relief >= 50% (a parameter)."""
    findings = _confirmed(60, 20)
    assert assess_diagnosis(findings).classification.value == "confirmed"
    kb = knowledge_base()
    stricter = kb.replace(diagnosis=_with(kb.diagnosis, default_block_threshold_percent=70.0))
    assessment = assess_diagnosis(findings, knowledge=stricter)
    assert assessment.block_threshold == 70
    assert assessment.classification.value == "unlikely"


def test_an_unknown_citation_is_refused_when_the_base_is_made() -> None:
    """A variant citing an unknown source fails at construction, naming source and id."""
    kb = knowledge_base()
    params = _with(kb.parameters, older_adult=_with(kb.parameters.older_adult, citation="nope"))
    with pytest.raises(KnowledgeBaseError, match=r"parameters.*population\.older_adult.*nope"):
        kb.replace(parameters=params)


def test_a_rule_id_used_in_two_files_is_refused() -> None:
    """Rule ids are unique across the whole knowledge base, not only within a file."""
    kb = knowledge_base()
    first = kb.pathway.transitions[0]
    clash = _with(first, rule_id="titration.rounding.down")
    pathway = _with(kb.pathway, transitions=(clash, *kb.pathway.transitions[1:]))
    with pytest.raises(KnowledgeBaseError, match=r"pathway\.toml.*duplicate.*rounding"):
        kb.replace(pathway=pathway)


def test_a_malformed_template_is_refused() -> None:
    """Message templates must format; a broken brace is refused when the base is made."""
    kb = knowledge_base()
    rule = _with(kb.safety_rules[0], message="Broken {brace")
    with pytest.raises(KnowledgeBaseError, match=r"safety\.toml.*template"):
        kb.replace(safety_rules=(rule, *kb.safety_rules[1:]))


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("renal_restricted", "bands"),
        ("hepatic_significant", "impairment"),
        ("hepatic_start_low", "conditions"),
    ],
)
def test_unknown_states_are_refused(name: str, field: str) -> None:
    """A band, impairment or condition the package does not know is refused."""
    kb = knowledge_base()
    states = _with(getattr(kb.parameters, name), **{field: ("bogus",)})
    with pytest.raises(KnowledgeBaseError, match=rf"{name}\.{field}.*bogus"):
        kb.replace(parameters=_with(kb.parameters, **{name: states}))


def test_every_drug_needs_a_monograph_and_a_version() -> None:
    """A base without a drug's monograph, or without a version, is refused."""
    kb = knowledge_base()
    fewer = {d: m for d, m in kb.monographs.items() if d.value != "tramadol"}
    with pytest.raises(KnowledgeBaseError, match="monograph"):
        kb.replace(monographs=fewer)
    with pytest.raises(KnowledgeBaseError, match="version"):
        kb.replace(version="")


def test_kdigo_categories_come_from_the_knowledge_base() -> None:
    """KDIGO 2012: G1 >= 90, G2 60-89 mL/min/1.73 m²; the bounds are data (renal.toml)."""
    from cluneal.knowledge import read_toml

    patient = Patient(age=40, sex="male", weight="80 kg", serum_creatinine="1.2 mg/dL")
    default = titration_schedule("gabapentin", patient).renal.gfr_category
    assert default is not None
    assert default.value == "G2"  # CKD-EPI 2021 eGFR 78 mL/min/1.73 m² for this patient
    raw = read_toml("renal.toml")
    raw["gfr_categories"]["lower_bounds"] = [["G1", 90.0], ["G2", 95.0]]
    with pytest.raises(KnowledgeBaseError, match="fall strictly"):
        KnowledgeBase.from_documents({"renal.toml": raw})
    raw["gfr_categories"]["lower_bounds"] = [["G1", 40.0]]
    lenient = KnowledgeBase.from_documents({"renal.toml": raw})
    moved = titration_schedule("gabapentin", patient, knowledge=lenient).renal.gfr_category
    assert moved is not None
    assert moved.value == "G1"


def test_pathway_routing_is_data() -> None:
    """clinical.md 0.8 step 5: temporary relief after a positive block leads to RFA (pathway.toml)."""
    from cluneal.knowledge import read_toml

    findings = _confirmed(80, 4)
    assert next_step(findings).transition == "pathway.block_temporary"
    raw = read_toml("pathway.toml")
    raw["routing"]["first_block"]["temporary"] = "pathway.block_lasting"
    rerouted = KnowledgeBase.from_documents({"pathway.toml": raw})
    assert next_step(findings, knowledge=rerouted).transition == "pathway.block_lasting"
    raw["routing"]["first_block"]["temporary"] = "pathway.nowhere"
    with pytest.raises(KnowledgeBaseError, match="unknown transitions"):
        KnowledgeBase.from_documents({"pathway.toml": raw})
    raw = read_toml("pathway.toml")
    raw["routing"]["after"] = raw["routing"]["after"][1:]
    with pytest.raises(KnowledgeBaseError, match="every intervention"):
        KnowledgeBase.from_documents({"pathway.toml": raw})
    raw = read_toml("pathway.toml")
    del raw["routing"]["leads_to"]["surgical_decompression"]
    with pytest.raises(KnowledgeBaseError, match="every rung"):
        KnowledgeBase.from_documents({"pathway.toml": raw})
