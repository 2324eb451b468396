"""check_regimen: contraindications (clinical.md Part 0.5), alerts (Part 0.6), Beers 2023 (Part B4)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cluneal import (
    ContraindicatedError,
    Drug,
    Patient,
    SafetyAlert,
    Severity,
    UnknownTermError,
    titration_schedule,
)
from cluneal.errors import InvalidArgumentError
from cluneal.safety import check_regimen, parse_drugs, screen


def patient(**fields: Any) -> Patient:
    base: dict[str, Any] = {"age": 50, "sex": "male", "hla_b_1502": False}
    return Patient(**{**base, **fields})


def rules(alerts: tuple[SafetyAlert, ...]) -> dict[str, SafetyAlert]:
    return {a.rule_id: a for a in alerts}


ALERTS = [
    # (drugs, patient fields, rule id, severity) -- clinical.md Part 0.5 / 0.6
    (["tramadol", "nortriptyline"], {}, "interaction.tramadol.tca", Severity.MAJOR),
    (["tramadol", "carbamazepine"], {}, "interaction.tramadol.carbamazepine", Severity.MAJOR),
    (["carbamazepine", "nortriptyline"], {}, "interaction.carbamazepine.tca", Severity.MODERATE),
    (["gabapentin", "tramadol"], {}, "interaction.gabapentin.opioid", Severity.MAJOR),
    (
        ["pregabalin"],
        {"medications": ["oxycodone"]},
        "interaction.pregabalin.opioid",
        Severity.MAJOR,
    ),
    (
        ["tramadol"],
        {"medications": ["sertraline"]},
        "interaction.tramadol.ssri_snri",
        Severity.MAJOR,
    ),
    (
        ["tramadol"],
        {"medications": ["duloxetine"]},
        "interaction.tramadol.ssri_snri",
        Severity.MAJOR,
    ),
    (
        ["tramadol"],
        {"conditions": ["seizure_disorder"]},
        "alert.tramadol.seizure_disorder",
        Severity.MAJOR,
    ),
    (["carbamazepine"], {}, "alert.carbamazepine.monitoring", Severity.INFO),
    (
        ["carbamazepine"],
        {"hla_b_1502": None},
        "alert.carbamazepine.hla_b_1502_unknown",
        Severity.MAJOR,
    ),
    (
        ["nortriptyline"],
        {"conditions": ["cardiac_arrhythmia"]},
        "alert.nortriptyline.cardiac",
        Severity.MAJOR,
    ),
    (
        ["nortriptyline"],
        {"conditions": ["cardiac_conduction_disease"]},
        "alert.nortriptyline.cardiac",
        Severity.MAJOR,
    ),
    (
        ["nortriptyline"],
        {"conditions": ["narrow_angle_glaucoma"]},
        "alert.nortriptyline.glaucoma",
        Severity.MAJOR,
    ),
    (
        ["nortriptyline"],
        {"conditions": ["urinary_retention"]},
        "alert.nortriptyline.urinary_retention",
        Severity.MAJOR,
    ),
    (["nortriptyline"], {"age": 41}, "alert.nortriptyline.ecg_over_40", Severity.INFO),
    (
        ["tramadol"],
        {"medications": ["lorazepam"]},
        "interaction.tramadol.benzodiazepine",
        Severity.MAJOR,
    ),
    # clinical.md 0.10: carbamazepine, a strong CYP3A4 and P-gp inducer.
    (
        ["carbamazepine"],
        {"medications": ["apixaban"]},
        "interaction.carbamazepine.apixaban_rivaroxaban",
        Severity.MAJOR,
    ),
    (
        ["carbamazepine"],
        {"medications": ["rivaroxaban"]},
        "interaction.carbamazepine.apixaban_rivaroxaban",
        Severity.MAJOR,
    ),
    (
        ["carbamazepine"],
        {"medications": ["warfarin"]},
        "interaction.carbamazepine.warfarin",
        Severity.MAJOR,
    ),
    (
        ["carbamazepine"],
        {"medications": ["dabigatran"]},
        "interaction.carbamazepine.anticoagulant",
        Severity.MAJOR,
    ),
    (
        ["carbamazepine"],
        {"medications": ["oxycodone"]},
        "interaction.carbamazepine.opioid_induction",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"medications": ["fentanyl"]},
        "interaction.carbamazepine.opioid_induction",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"medications": ["methadone"]},
        "interaction.carbamazepine.opioid_induction",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"medications": ["hydrocodone"]},
        "interaction.carbamazepine.opioid_induction",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"medications": ["sertraline"]},
        "interaction.carbamazepine.ssri_induction",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"medications": ["citalopram"]},
        "interaction.carbamazepine.ssri_induction",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"medications": ["escitalopram"]},
        "interaction.carbamazepine.ssri_induction",
        Severity.MODERATE,
    ),
    # clinical.md 0.10: tricyclic hypersensitivity contraindicates nortriptyline itself.
    (
        ["nortriptyline"],
        {"conditions": ["tricyclic_hypersensitivity"]},
        "contraindication.nortriptyline.tricyclic_hypersensitivity",
        Severity.CONTRAINDICATED,
    ),
    (
        ["tramadol"],
        {"medications": ["warfarin"]},
        "interaction.tramadol.anticoagulant",
        Severity.MODERATE,
    ),
    (["gabapentin", "pregabalin"], {}, "interaction.gabapentin.pregabalin", Severity.MAJOR),
    (
        ["gabapentin"],
        {"conditions": ["copd"]},
        "alert.gabapentinoid.respiratory",
        Severity.MODERATE,
    ),
    (
        ["carbamazepine"],
        {"hepatic_impairment": "mild"},
        "alert.carbamazepine.hepatic",
        Severity.MAJOR,
    ),
    (
        ["naltrexone"],
        {"hepatic_impairment": "moderate"},
        "alert.naltrexone.hepatic",
        Severity.MAJOR,
    ),
    (["naltrexone"], {"conditions": ["cirrhosis"]}, "alert.naltrexone.cirrhosis", Severity.MAJOR),
    # Beers 2023, age >= 65
    (["nortriptyline"], {"age": 65}, "beers.nortriptyline.anticholinergic", Severity.MAJOR),
    (
        ["gabapentin"],
        {"age": 65, "medications": ["morphine"]},
        "beers.gabapentin.opioid",
        Severity.MAJOR,
    ),
    (["pregabalin", "tramadol"], {"age": 70}, "beers.pregabalin.opioid", Severity.MAJOR),
    (
        ["tramadol"],
        {"age": 70, "medications": ["diazepam"]},
        "beers.tramadol.benzodiazepine",
        Severity.MAJOR,
    ),
    (
        ["carbamazepine"],
        {"age": 70, "conditions": ["falls_history"]},
        "beers.falls.antiepileptic_opioid_tca",
        Severity.MAJOR,
    ),
    (
        ["tramadol"],
        {"age": 70, "conditions": ["falls_history"]},
        "beers.falls.antiepileptic_opioid_tca",
        Severity.MAJOR,
    ),
    (
        ["nortriptyline"],
        {"age": 70, "conditions": ["falls_history"]},
        "beers.falls.antiepileptic_opioid_tca",
        Severity.MAJOR,
    ),
    (["carbamazepine"], {"age": 70}, "beers.hyponatraemia", Severity.MODERATE),
    (["tramadol"], {"age": 70}, "beers.hyponatraemia", Severity.MODERATE),
    (["nortriptyline"], {"age": 70}, "beers.hyponatraemia", Severity.MODERATE),
    (
        ["gabapentin", "carbamazepine", "nortriptyline"],
        {"age": 70},
        "beers.cns_active.three_or_more",
        Severity.MAJOR,
    ),
    (
        ["gabapentin"],
        {"age": 70, "medications": ["zolpidem", "quetiapine"]},
        "beers.cns_active.three_or_more",
        Severity.MAJOR,
    ),
    # Part 0.5 contraindications
    (
        ["tramadol", "naltrexone"],
        {},
        "contraindication.tramadol.naltrexone",
        Severity.CONTRAINDICATED,
    ),
    (
        ["tramadol", "naltrexone"],
        {},
        "contraindication.naltrexone.opioid",
        Severity.CONTRAINDICATED,
    ),
    (
        ["nortriptyline"],
        {"medications": ["tranylcypromine"]},
        "contraindication.nortriptyline.maoi",
        Severity.CONTRAINDICATED,
    ),
    (
        ["carbamazepine"],
        {"recent_medications": ["rasagiline"]},
        "contraindication.carbamazepine.maoi",
        Severity.CONTRAINDICATED,
    ),
    (
        ["tramadol"],
        {"medications": ["isocarboxazid"]},
        "contraindication.tramadol.maoi",
        Severity.CONTRAINDICATED,
    ),
    (
        ["carbamazepine"],
        {"medications": ["delavirdine"]},
        "contraindication.carbamazepine.nnrti",
        Severity.CONTRAINDICATED,
    ),
    (
        ["carbamazepine"],
        {"sex": "female", "conditions": ["pregnancy"]},
        "contraindication.carbamazepine.pregnancy",
        Severity.CONTRAINDICATED,
    ),
    (
        ["gabapentin"],
        {"sex": "female", "conditions": ["pregnancy"]},
        "pregnancy.major",
        Severity.MAJOR,
    ),
]


@pytest.mark.parametrize(("drugs", "fields", "rule_id", "severity"), ALERTS)
def test_alerts(drugs: list[str], fields: dict[str, Any], rule_id: str, severity: Severity) -> None:
    """Each alert and contraindication of Part 0.5-0.6 fires with its severity and a citation."""
    found = rules(check_regimen(drugs, patient(**fields)))
    assert rule_id in found, sorted(found)
    assert found[rule_id].severity is severity
    assert found[rule_id].citation


@pytest.mark.parametrize(
    ("drugs", "fields", "rule_id"),
    [
        (["nortriptyline"], {"age": 64}, "beers.nortriptyline.anticholinergic"),
        (["gabapentin"], {"age": 64, "medications": ["morphine"]}, "beers.gabapentin.opioid"),
        (
            ["gabapentin", "carbamazepine", "nortriptyline"],
            {"age": 64},
            "beers.cns_active.three_or_more",
        ),
        (["gabapentin", "carbamazepine"], {"age": 70}, "beers.cns_active.three_or_more"),
        (["nortriptyline"], {"age": 40}, "alert.nortriptyline.ecg_over_40"),
        (["carbamazepine"], {"hla_b_1502": False}, "alert.carbamazepine.hla_b_1502_unknown"),
        (["naltrexone", "gabapentin"], {}, "contraindication.naltrexone.opioid"),
        (["tramadol"], {"recent_medications": ["sertraline"]}, "interaction.tramadol.ssri_snri"),
    ],
)
def test_rules_that_must_not_fire(drugs: list[str], fields: dict[str, Any], rule_id: str) -> None:
    """Beers applies from 65; ECG above 40; HLA alert only when unknown; SSRI stopped is not current."""
    assert rule_id not in rules(check_regimen(drugs, patient(**fields)))


def test_cns_count_uses_current_medications() -> None:
    """Beers 2023: three or more CNS-active drugs, counting the patient's current CNS-active drugs."""
    alert = rules(
        check_regimen(["gabapentin"], patient(age=70, medications=["sertraline", "oxycodone"]))
    )["beers.cns_active.three_or_more"]
    assert alert.drugs == ("gabapentin", "oxycodone", "sertraline")


def test_interaction_with_co_medication_among_the_six() -> None:
    """Planning nortriptyline for a patient already on tramadol finds the tramadol-TCA interaction."""
    found = rules(check_regimen(["nortriptyline"], patient(medications=["tramadol"])))
    assert found["interaction.tramadol.tca"].drugs == ("tramadol", "nortriptyline")


def test_unrecognised_medications_are_not_screened() -> None:
    """Unknown is not safe: unrecognised co-medications produce an alert."""
    alert = rules(check_regimen(["gabapentin"], patient(medications=["st john's wort"])))[
        "screening.unrecognized_medication"
    ]
    assert "st john's wort" in alert.drugs
    assert "not screened" in alert.message.lower()
    # A package decision, not general knowledge: never "unverified".
    assert "unverified" not in alert.message
    assert alert.citation == "decision_unrecognized_medication_alert"


def test_omega_3_is_not_screened_here() -> None:
    """Omega-3 with an anticoagulant belongs to the care-plan issue, not to check_regimen."""
    found = rules(check_regimen(["gabapentin"], patient(medications=["warfarin"])))
    assert not any("omega" in r for r in found)


def test_deterministic_order() -> None:
    """Alerts come most serious first, then by rule id, the same every time."""
    p = patient(age=80, medications=["oxycodone", "sertraline"], conditions=["falls_history"])
    first = check_regimen(["tramadol", "gabapentin", "nortriptyline"], p)
    assert first == check_regimen(["nortriptyline", "gabapentin", "tramadol"], p)
    keys = [(-a.severity.rank, a.rule_id) for a in first]
    assert keys == sorted(keys)


def test_empty_regimen() -> None:
    """No drugs, no alerts."""
    assert check_regimen([], patient(medications=["unknown thing"])) == ()


def test_single_name_and_enum() -> None:
    """A single drug name or Drug is accepted as a regimen of one."""
    assert check_regimen("carbamazepine", patient()) == check_regimen(
        [Drug.CARBAMAZEPINE], patient()
    )


@pytest.mark.parametrize("drugs", [["aspirin"], [None]])
def test_bad_drugs(drugs: object) -> None:
    """Unknown drugs raise UnknownTermError naming the argument."""
    with pytest.raises(UnknownTermError, match=r"^drugs"):
        check_regimen(drugs, patient())


@pytest.mark.parametrize("drugs", [42, {"tramadol": 1}, b"tramadol"])
def test_drugs_not_a_collection(drugs: object) -> None:
    """A number, a mapping or bytes is not a list of drugs: refused naming the argument."""
    with pytest.raises(InvalidArgumentError, match=r"^drugs: .*expected a list of drug names"):
        check_regimen(drugs, patient())


def test_patient_mapping_and_bad_patient() -> None:
    """A mapping is validated as a Patient; garbage is a ValidationError."""
    assert check_regimen(["gabapentin"], {"age": 50, "sex": "male"}) == ()
    with pytest.raises(ValidationError):
        check_regimen(["gabapentin"], "nobody")  # type: ignore[arg-type]


def test_parse_drugs_order() -> None:
    """Drugs are unique and in Drug order."""
    assert parse_drugs(["tramadol", "nortriptyline", "tramadol"]) == (
        Drug.NORTRIPTYLINE,
        Drug.TRAMADOL,
    )


def test_screen_empty() -> None:
    """screen() of nothing is nothing."""
    assert screen((), patient()) == ()


@pytest.mark.parametrize(
    "drug", ["nortriptyline", "carbamazepine", "gabapentin", "pregabalin", "naltrexone", "tramadol"]
)
def test_listed_hypersensitivity_contraindicates_the_drug(drug: str) -> None:
    """clinical.md B5: hypersensitivity to the drug is a contraindication in every label."""
    patient = Patient(age=40, sex="female", allergies=[drug.upper()], hla_b_1502=False)
    alerts = check_regimen([drug], patient)
    rule = f"contraindication.{drug}.hypersensitivity"
    assert any(a.rule_id == rule and a.severity is Severity.CONTRAINDICATED for a in alerts)
    with pytest.raises(ContraindicatedError) as info:
        titration_schedule(drug, patient)
    assert rule in {a.rule_id for a in info.value.alerts}
    other = "gabapentin" if drug != "gabapentin" else "pregabalin"
    assert not any(a.rule_id == rule for a in check_regimen([other], patient))


def test_tramadol_in_pregnancy_warns_of_neonatal_opioid_withdrawal() -> None:
    """clinical.md B5: prolonged tramadol use in pregnancy can cause NOWS (tramadol label, V2)."""
    patient = Patient(age=30, sex="female", conditions=["pregnancy"])
    rules = {a.rule_id: a for a in check_regimen(["tramadol"], patient)}
    assert rules["pregnancy.tramadol.nows"].severity is Severity.MAJOR
    assert "pregnancy.major" in rules
    assert "pregnancy.tramadol.nows" not in {
        a.rule_id for a in check_regimen(["gabapentin"], patient)
    }
    assert "tramadol" not in rules["pregnancy.major"].message.lower().replace(
        rules["pregnancy.major"].drugs[0], ""
    )
