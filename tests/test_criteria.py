"""The one condition language (issue 11): caps, safety rules and the first-line choice share it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cluneal import (
    KnowledgeBase,
    Patient,
    care_plan,
    check_regimen,
    knowledge_base,
    titration_schedule,
)
from cluneal.diagnosis import Findings, NeuroExam
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import (
    Criteria,
    Facts,
    PatientFacts,
    RuleIndex,
    facts_for,
    matches,
    patient_facts,
)
from cluneal.knowledge.parameters import clinical_parameters
from cluneal.vocabulary import RenalBand

PARAMS = clinical_parameters()


def _facts(band: str | None = None, **fields: object) -> PatientFacts:
    return patient_facts(
        Patient.model_validate({"age": 50, "sex": "female", **fields}), PARAMS, band
    )


@pytest.mark.parametrize(
    ("criteria", "fields", "band", "expected"),
    [
        # clinical.md 0.2: "Older" means age >= 65.
        (Criteria(older_adult=True), {"age": 65}, None, True),
        (Criteria(older_adult=True), {"age": 64.9}, None, False),
        (Criteria(older_adult=False), {"age": 64.9}, None, True),
        # clinical.md 0.4, tramadol row: age > 75 (strictly).
        (Criteria(age_over_75=True), {"age": 75}, None, False),
        (Criteria(age_over_75=True), {"age": 75.1}, None, True),
        (Criteria(age_over_years=40), {"age": 40}, None, False),
        (Criteria(cardiac_disease=True), {"conditions": ["cardiac_arrhythmia"]}, None, True),
        # clinical.md 0.4, tramadol row: CrCl < 30 read as severe or end-stage.
        (Criteria(renal_restricted=True), {}, "severe", True),
        (Criteria(renal_restricted=True), {}, "moderate", False),
        (Criteria(renal_restricted=True), {}, None, False),
        # Tramadol's hepatic cap: cirrhosis or moderate/severe impairment.
        (Criteria(hepatic_significant=True), {"conditions": ["cirrhosis"]}, None, True),
        (Criteria(hepatic_significant=True), {"hepatic_impairment": "mild"}, None, False),
        (Criteria(conditions_any=("pregnancy",)), {"conditions": ["pregnancy"]}, None, True),
        (Criteria(hepatic_any=("severe",)), {"hepatic_impairment": "moderate"}, None, False),
        (Criteria(hla_b_1502="unknown"), {}, None, True),
        (Criteria(hla_b_1502="positive"), {"hla_b_1502": False}, None, False),
        (Criteria(hla_b_1502="positive"), {"hla_b_1502": True}, None, True),
        (Criteria(older_adult=True, cardiac_disease=True), {"age": 70}, None, False),
        (Criteria(), {}, None, True),
    ],
)
def test_matches(
    criteria: Criteria, fields: dict[str, object], band: str | None, expected: bool
) -> None:
    """Every criterion given must hold; an empty set always holds."""
    assert matches(criteria, _facts(band, **fields)) is expected


def test_describe_and_always() -> None:
    """A criteria set says itself in words; the empty one is 'always'."""
    assert Criteria().always
    assert Criteria().describe() == "always"
    assert (
        Criteria(older_adult=True, age_over_years=40).describe()
        == "older_adult, age_over_years=40.0"
    )
    assert not Criteria(older_adult=False).always


def test_an_unknown_criterion_is_refused() -> None:
    """A misspelt criterion is an error when the data is loaded, never silently ignored."""
    with pytest.raises(ValidationError, match="older"):
        Criteria.model_validate({"older": True})


def test_one_language_for_caps_safety_and_first_line() -> None:
    """Moving the older-adult age moves the cap, the Beers alert and the first-line skip together."""
    raw = read_toml("parameters.toml")
    raw["older_adult"]["age_years"] = 70.0
    kb = KnowledgeBase.from_documents({"parameters.toml": raw})
    p = Patient(age=67, sex="male", weight="70 kg", serum_creatinine="0.9 mg/dL")
    # clinical.md 0.4, nortriptyline row: age >= 65: 50 mg/day.
    assert titration_schedule("nortriptyline", p).max_daily_dose_mg == 50
    assert titration_schedule("nortriptyline", p, knowledge=kb).max_daily_dose_mg == 150
    beers = "beers.nortriptyline.anticholinergic"
    assert beers in {a.rule_id for a in check_regimen(["nortriptyline"], p)}
    assert beers not in {a.rule_id for a in check_regimen(["nortriptyline"], p, knowledge=kb)}
    skip = "pharm.skip.nortriptyline.older"
    assert skip in care_plan(p, Findings()).trace
    assert skip not in care_plan(p, Findings(), knowledge=kb).trace


def test_start_low_triggers_are_criteria_in_the_data() -> None:
    """decision_start_low: any hepatic impairment starts low; the trigger is data (titration.toml)."""
    p = Patient(
        age=50,
        sex="female",
        weight="70 kg",
        serum_creatinine="0.9 mg/dL",
        hepatic_impairment="mild",
    )
    default = titration_schedule("gabapentin", p)
    assert default.protocol.value == "start_low"
    assert "titration.start_low.hepatic" in {a.rule_id for a in default.adjustments}
    raw = read_toml("titration.toml")
    hepatic = next(r for r in raw["rule"] if r["rule_id"] == "titration.start_low.hepatic")
    hepatic["when"] = {"hepatic_start_low": True, "older_adult": True}
    narrowed = KnowledgeBase.from_documents({"titration.toml": raw})
    assert titration_schedule("gabapentin", p, knowledge=narrowed).protocol.value == "standard"


def test_a_trigger_reason_must_format() -> None:
    """A trigger's reason may only use age, older_adult_age and band."""
    raw = read_toml("titration.toml")
    raw["rule"][0]["reason"] = "age {years}"
    with pytest.raises(ValueError, match="reason template"):
        KnowledgeBase.from_documents({"titration.toml": raw})


def test_withholding_rules_are_criteria_on_the_assessment() -> None:
    """decision_pharmacotherapy_withheld: the withholding rules are criteria in the data; the
    urgent red flag (bladder or bowel dysfunction, clinical.md 0.7) withholds every drug."""
    urgent = Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True))
    p = Patient(age=50, sex="female", weight="70 kg", serum_creatinine="0.9 mg/dL")
    plan = care_plan(p, urgent)
    assert plan.medications == ()
    assert "pharm.withhold.urgent" in plan.trace
    raw = read_toml("pharmacotherapy.toml")
    for rule in raw["withhold"]:
        # Narrowed to older adults: a 50-year-old is no longer withheld by it.
        rule["when"] = {**rule["when"], "older_adult": True}
    narrowed = KnowledgeBase.from_documents({"pharmacotherapy.toml": raw})
    assert "pharm.withhold.urgent" not in care_plan(p, urgent, knowledge=narrowed).trace
    raw["withhold"][0]["when"] = "urgent_red_flag"
    with pytest.raises(KnowledgeBaseError, match=r"pharmacotherapy\.toml"):
        KnowledgeBase.from_documents({"pharmacotherapy.toml": raw})


def test_an_allergy_holds_drug_by_drug() -> None:
    """Every label: a listed hypersensitivity contraindicates that drug, not the others."""
    p = Patient(age=50, sex="male", allergies=["gabapentin"])
    fired = {a.rule_id for a in check_regimen(["gabapentin", "pregabalin"], p)}
    assert "contraindication.gabapentin.hypersensitivity" in fired
    assert "contraindication.pregabalin.hypersensitivity" not in fired
    plan = care_plan(p, Findings())
    status = {c.drug.value: c.status.value for c in plan.drug_choices}
    assert status["gabapentin"] == "contraindicated"
    assert status["pregabalin"] != "contraindicated"


def test_medication_classes_come_from_the_knowledge_base_passed() -> None:
    """A catalogue that classes a medication differently changes the screening with it."""
    p = Patient(age=50, sex="male", medications=["sertraline"])
    tramadol_ssri = "interaction.tramadol.ssri_snri"
    assert tramadol_ssri in {a.rule_id for a in check_regimen(["tramadol"], p)}
    raw = read_toml("medications.toml")
    raw["classes"]["ssri"] = [m for m in raw["classes"]["ssri"] if m != "sertraline"]
    raw["classes"]["antiplatelet"] = [*raw["classes"]["antiplatelet"], "sertraline"]
    kb = KnowledgeBase.from_documents({"medications.toml": raw})
    fired = {a.rule_id for a in check_regimen(["tramadol"], p, knowledge=kb)}
    assert tramadol_ssri not in fired
    facts = facts_for(p, kb)
    assert {c.value for c in facts.classes_of("sertraline")} == {"antiplatelet"}


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"age": 80},
        {"conditions": ["pregnancy", "seizure_disorder"]},
        {"hepatic_impairment": "severe", "hla_b_1502": True},
        {"age": 70, "conditions": ["copd", "falls_history"], "hla_b_1502": False},
        {"sex": "male", "age": 41, "conditions": ["cirrhosis", "cardiac_arrhythmia"]},
    ],
)
def test_the_rule_index_finds_exactly_the_rules_that_match(fields: dict[str, object]) -> None:
    """Indexing the safety rules by trigger drops no rule that matches and keeps their order."""
    kb = knowledge_base()
    facts = facts_for(Patient.model_validate({"age": 50, "sex": "female", **fields}), kb)
    for extra in ((), ("allergy_listed",), ("urgent_red_flag", "diagnosis_unlikely")):
        more = facts.with_atoms(extra)
        rules = [(r.when, r.rule_id) for r in kb.safety_rules]
        expected = [rule_id for when, rule_id in rules if matches(when, more)]
        assert RuleIndex(rules).matching(more) == expected


def test_facts_without_a_patient() -> None:
    """An assessment's facts: atoms only; a criterion on age never holds without an age."""
    done = Facts(frozenset({"block_done"}))
    assert matches(Criteria(block_done=True, block_positive=False), done)
    assert not matches(Criteria(block_positive=True), done)
    assert matches(Criteria(block_positive=True), done.with_atoms(("block_positive",)))
    assert not matches(Criteria(age_over_years=18), done)
    assert Criteria(older_adult=True).triggers == frozenset({"older_adult"})
    assert Criteria(older_adult=False).triggers is None


@pytest.mark.parametrize("band", list(RenalBand))
@pytest.mark.parametrize(
    "patient",
    [
        Patient(age=50, sex="female"),
        Patient(age=80, sex="male", hepatic_impairment="moderate", medications=["sertraline"]),
    ],
)
def test_facts_given_a_renal_band_afterwards_equal_facts_computed_with_it(
    band: RenalBand, patient: Patient
) -> None:
    """The care plan computes the facts once, then gives them the renal assessment's band."""
    kb = knowledge_base()
    later = facts_for(patient, kb).with_renal_band(band.value, kb.parameters)
    assert later == facts_for(patient, kb, band.value)
    assert later.renal_below_normal is (band is not RenalBand.NORMAL)
