"""Patient: construction, plausible ranges, conditions and medication classes (API.md, clinical.md 0.1)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cluneal import Q_, Condition, HepaticImpairment, MedicationClass, Patient, Sex
from cluneal.patient import classes_of, is_recognized_medication


def test_minimal_patient_defaults() -> None:
    """API.md: Patient(age, sex, weight=None, ...) with conservative defaults."""
    p = Patient(age=50, sex="male")
    assert p.sex is Sex.MALE
    assert p.weight is None and p.height is None and p.serum_creatinine is None
    assert p.on_dialysis is False
    assert p.hepatic_impairment is HepaticImpairment.NONE
    assert p.conditions == () and p.medications == ()
    assert p.hla_b_1502 is None
    assert p.age == Q_(50, "year")


def test_patient_is_frozen() -> None:
    """Every model is frozen: a changed value is a new model."""
    p = Patient(age=50, sex="male")
    with pytest.raises(ValidationError):
        p.age = Q_(60, "year")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age", 17),
        ("age", 121),
        ("weight", 70),
        ("weight", "19 kg"),
        ("weight", "401 kg"),
        ("height", "99 cm"),
        ("height", 170),
        ("serum_creatinine", "0.05 mg/dL"),
        ("serum_creatinine", "26 mg/dL"),
        ("serum_creatinine", 1.1),
        ("sex", "F"),
        ("sex", "unknown"),
        ("hepatic_impairment", "child-pugh b"),
        ("conditions", ["not_a_condition"]),
        ("conditions", "seizure_disorder"),
        ("medications", [1]),
        ("medications", ["<script>"]),
        ("on_dialysis", "no"),
        ("on_dialysis", 0),
        ("hla_b_1502", "negative"),
        ("nickname", "x"),
    ],
)
def test_bad_patient_fields_are_refused_naming_the_field(field: str, value: object) -> None:
    """clinical.md 0.1: values outside the plausible ranges are errors, never clamps."""
    with pytest.raises(ValidationError) as info:
        Patient.model_validate({"age": 50, "sex": "male", field: value})
    assert field in str(info.value)


def test_pregnancy_in_a_male_patient_is_refused() -> None:
    """Contradictory records fail closed rather than guessing which field is wrong."""
    with pytest.raises(ValidationError, match="pregnancy"):
        Patient(age=30, sex="male", conditions=["pregnancy"])


def test_conditions_accept_strings_and_members_and_deduplicate() -> None:
    """API.md: conditions are Condition members or their string values."""
    p = Patient(
        age=70,
        sex="female",
        conditions=["falls_history", Condition.SEIZURE_DISORDER, "falls_history"],
    )
    assert set(p.conditions) == {Condition.FALLS_HISTORY, Condition.SEIZURE_DISORDER}
    assert len(p.conditions) == 2
    assert p.has("falls_history")
    assert not p.has(Condition.PREGNANCY)


@pytest.mark.parametrize(
    "name",
    [
        "seizure_disorder",
        "recent_myocardial_infarction",
        "cardiac_conduction_disease",
        "narrow_angle_glaucoma",
        "urinary_retention",
        "pregnancy",
        "opioid_use_disorder",
        "respiratory_depression",
        "bone_marrow_depression",
        "tricyclic_hypersensitivity",
        "falls_history",
    ],
)
def test_api_condition_values_exist(name: str) -> None:
    """API.md lists these Condition values; outside checks rely on them."""
    assert Condition(name).value == name


@pytest.mark.parametrize(
    ("medication", "expected"),
    [
        ("phenelzine", MedicationClass.MAOI),
        ("linezolid", MedicationClass.MAOI),
        ("methylene blue", MedicationClass.MAOI),
        ("sertraline", MedicationClass.SSRI),
        ("duloxetine", MedicationClass.SNRI),
        ("oxycodone", MedicationClass.OPIOID),
        ("methadone", MedicationClass.OPIOID),
        ("buprenorphine", MedicationClass.OPIOID),
        ("tramadol", MedicationClass.OPIOID),
        ("lorazepam", MedicationClass.BENZODIAZEPINE),
        ("warfarin", MedicationClass.ANTICOAGULANT),
        ("clopidogrel", MedicationClass.ANTIPLATELET),
        ("nortriptyline", MedicationClass.TCA),
        ("carbamazepine", MedicationClass.ANTIEPILEPTIC),
        ("gabapentin", MedicationClass.GABAPENTINOID),
        ("pregabalin", MedicationClass.GABAPENTINOID),
        ("naltrexone", MedicationClass.OPIOID_ANTAGONIST),
        ("nefazodone", MedicationClass.NEFAZODONE),
    ],
)
def test_medication_classes(medication: str, expected: MedicationClass) -> None:
    """API.md: the package knows MAOIs, SSRIs/SNRIs, opioids, benzodiazepines,
    anticoagulants/antiplatelets and the six drugs themselves."""
    assert expected in classes_of(medication)
    assert expected in Patient(age=40, sex="male", medications=[medication]).medication_classes


def test_medication_names_are_normalised() -> None:
    """Medications are generic names, lower case; spacing and case are normalised."""
    p = Patient(age=40, sex="male", medications=["  Sertraline ", "METHYLENE   blue", "sertraline"])
    assert p.medications == ("methylene blue", "sertraline")
    assert p.medications_in(MedicationClass.MAOI) == ("methylene blue",)


def test_unrecognised_medications_are_kept_and_reported() -> None:
    """Unknown is not safe: an unrecognised medication is kept and listed as not screened."""
    p = Patient(age=40, sex="male", medications=["vitamin d", "warfarin"])
    assert p.unrecognized_medications == ("vitamin d",)
    assert not is_recognized_medication("vitamin d")


def test_recent_medications_are_separate() -> None:
    """MAOIs stopped within 14 days still count where a rule asks for recent use."""
    p = Patient(age=40, sex="male", recent_medications=["phenelzine"])
    assert p.medications_in(MedicationClass.MAOI) == ()
    assert p.medications_in(MedicationClass.MAOI, include_recent=True) == ("phenelzine",)
    assert MedicationClass.MAOI in p.recent_medication_classes


def test_cns_active_and_cardiac_flags() -> None:
    """Beers 2023 CNS-active classes; cardiac conditions for the nortriptyline cap."""
    assert MedicationClass.OPIOID.is_cns_active
    assert not MedicationClass.ANTICOAGULANT.is_cns_active
    assert Patient(
        age=70, sex="male", conditions=["cardiac_conduction_disease"]
    ).has_cardiac_disease
    assert not Patient(age=70, sex="male", conditions=["falls_history"]).has_cardiac_disease


@pytest.mark.parametrize(("age", "older"), [(64, False), (64.9, False), (65, True), (80, True)])
def test_older_adult_threshold(age: float, older: bool) -> None:
    """clinical.md 0.4: "older" means age >= 65."""
    assert Patient(age=age, sex="female").is_older_adult is older


def test_float_views_use_canonical_units() -> None:
    """Cheap float views for calculations: kg, cm, mg/dL, years."""
    p = Patient(age=78, sex="female", weight="154 lb", height="65 in", serum_creatinine="97 umol/L")
    assert p.weight_kg == pytest.approx(69.853, rel=1e-4)
    assert p.height_cm == pytest.approx(165.1)
    assert p.creatinine_mg_dl == pytest.approx(97 / 88.4)
    assert p.age_years == 78.0


def test_patient_json_round_trip_keeps_units() -> None:
    """API.md: M.model_validate_json(m.model_dump_json()) == m, without loss of units."""
    p = Patient(
        age=78,
        sex="female",
        weight="154 lb",
        height="165 cm",
        serum_creatinine="97 umol/L",
        on_dialysis=False,
        hepatic_impairment="mild",
        conditions=["falls_history"],
        medications=["sertraline"],
        recent_medications=["phenelzine"],
        hla_b_1502=False,
    )
    back = Patient.model_validate_json(p.model_dump_json())
    assert back == p
    assert str(back.weight.units) == "pound"  # type: ignore[union-attr]
    assert str(back.serum_creatinine.units) == "micromole / liter"  # type: ignore[union-attr]


@pytest.mark.parametrize("age", [float("nan"), float("inf"), float("-inf"), "nan", "inf years"])
def test_age_that_is_not_a_number_is_refused(age: object) -> None:
    """clinical.md 0.10: NaN and infinity are refused everywhere, ages included: an unknown
    age is never treated as a young adult's."""
    with pytest.raises(ValidationError, match="age"):
        Patient(age=age, sex="female")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        # clinical.md 0.10: the co-medications carbamazepine's induction alerts look for.
        ("apixaban", MedicationClass.ANTICOAGULANT),
        ("rivaroxaban", MedicationClass.ANTICOAGULANT),
        ("warfarin", MedicationClass.ANTICOAGULANT),
        ("oxycodone", MedicationClass.OPIOID),
        ("fentanyl", MedicationClass.OPIOID),
        ("methadone", MedicationClass.OPIOID),
        ("hydrocodone", MedicationClass.OPIOID),
        ("sertraline", MedicationClass.SSRI),
        ("citalopram", MedicationClass.SSRI),
        ("escitalopram", MedicationClass.SSRI),
    ],
)
def test_catalogue_knows_the_induction_partners(name: str, cls: MedicationClass) -> None:
    """0.10: the medication catalogue knows each partner of the carbamazepine induction
    alerts, with its class (so none is reported as 'not screened')."""
    assert is_recognized_medication(name)
    assert cls in classes_of(name)
