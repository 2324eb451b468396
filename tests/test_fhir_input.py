"""FHIR R4 input: patient_from_fhir, the triad-exam Questionnaire, findings and history (API.md)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

import cluneal
import cluneal.fhir
from cluneal import ClunealError, Condition, Severity
from cluneal.fhir import (
    UnreadableResourceError,
    exam_questionnaire,
    findings_from_fhir,
    history_from_fhir,
    patient_from_fhir,
)
from cluneal.fhir.exam import EXAM_SYSTEM, INTERVENTION_SYSTEM, QUESTIONNAIRE_URL
from cluneal.fhir.read import medication_names
from cluneal.knowledge import read_toml
from cluneal.knowledge.codes import code_tables
from tests.fhir_validation import assert_valid_fhir

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
AS_OF = dt.date(2026, 11, 1)


def patient(birth: str = "1954-03-10", gender: str = "female", pid: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": gender}


def observation(
    loinc: str,
    value: float,
    code: str,
    when: str | None = "2026-10-01",
    status: str = "final",
    oid: str = "o1",
) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": "Patient/p1"},
        "valueQuantity": {"value": value, "unit": code, "system": UCUM, "code": code},
    }
    if when is not None:
        obs["effectiveDateTime"] = when
    return obs


def condition(
    system: str,
    code: str,
    clinical: str | None = "active",
    verification: str | None = "confirmed",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"c-{code}",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
    }
    if clinical is not None:
        resource["clinicalStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": clinical,
                }
            ]
        }
    if verification is not None:
        resource["verificationStatus"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification,
                }
            ]
        }
    return resource


def medication(
    code: str | None = None,
    text: str | None = None,
    status: str = "active",
    kind: str = "MedicationRequest",
    ended: str | None = None,
) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code is not None:
        concept["coding"] = [{"system": RXNORM, "code": code}]
    if text is not None:
        concept["text"] = text
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": f"m-{code or text}".replace(" ", "-")[:60],
        "status": status,
        "medicationCodeableConcept": concept,
        "subject": {"reference": "Patient/p1"},
    }
    if kind == "MedicationRequest":
        resource["intent"] = "order"
    if ended is not None:
        resource["effectivePeriod"] = {"end": ended}
    return resource


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


# --- Patient, observations ----------------------------------------------------------


def test_demographics_and_completed_years() -> None:
    """Age is in completed years on as_of: the day before the birthday is still the younger age."""
    assert patient_from_fhir([patient("1954-11-01")], as_of=AS_OF).age.magnitude == 72
    assert patient_from_fhir([patient("1954-11-02")], as_of=AS_OF).age.magnitude == 71
    p = patient_from_fhir(bundle(patient(gender="male")), as_of=AS_OF)
    assert p.sex.value == "male"


def test_partial_birth_date_reads_as_the_oldest_possible_age() -> None:
    """A birth year alone is read as 1 January: the older age is the more cautious one."""
    assert patient_from_fhir([patient("1954")], as_of=AS_OF).age.magnitude == 72
    assert patient_from_fhir([patient("1954-12")], as_of=AS_OF).age.magnitude == 71


@pytest.mark.parametrize(
    ("loinc", "value", "code", "mg_dl"),
    [
        ("2160-0", 1.3, "mg/dL", 1.3),  # LOINC 2160-0: creatinine, mass/volume
        ("14682-9", 97, "umol/L", 97 / 88.4),  # LOINC 14682-9: molar; 88.4 µmol/L per mg/dL
    ],
)
def test_creatinine_in_both_loinc_codes(loinc: str, value: float, code: str, mg_dl: float) -> None:
    p = patient_from_fhir([patient(), observation(loinc, value, code)], as_of=AS_OF)
    assert p.creatinine_mg_dl == pytest.approx(mg_dl)


def test_weight_in_pounds_and_height_in_inches_through_ucum() -> None:
    """UCUM [lb_av] and [in_i]: 154 lb = 69.85 kg, 65 in = 165.1 cm (exact definitions)."""
    p = patient_from_fhir(
        [
            patient(),
            observation("29463-7", 154, "[lb_av]", oid="w"),
            observation("8302-2", 65, "[in_i]", oid="h"),
        ],
        as_of=AS_OF,
    )
    assert p.weight_kg == pytest.approx(154 * 0.45359237)
    assert p.height_cm == pytest.approx(65 * 2.54)


def test_latest_final_observation_counts() -> None:
    """Only final/amended/corrected count, and the latest of them; undated loses to dated."""
    record = [
        patient(),
        observation("2160-0", 1.0, "mg/dL", when="2026-01-01", oid="a"),
        observation("2160-0", 2.0, "mg/dL", when="2026-09-01", oid="b", status="amended"),
        observation("2160-0", 3.0, "mg/dL", when="2026-10-15", oid="c", status="preliminary"),
        observation("2160-0", 4.0, "mg/dL", when="2026-10-20", oid="d", status="entered-in-error"),
        observation("2160-0", 5.0, "mg/dL", when=None, oid="e"),
    ]
    assert patient_from_fhir(record, as_of=AS_OF).creatinine_mg_dl == 2.0


def test_observation_without_a_value_is_not_a_value() -> None:
    obs = observation("2160-0", 1.0, "mg/dL")
    del obs["valueQuantity"]
    obs["dataAbsentReason"] = {"text": "specimen haemolysed"}
    assert patient_from_fhir([patient(), obs], as_of=AS_OF).serum_creatinine is None


@pytest.mark.parametrize(
    ("obs", "message"),
    [
        # 2160-0 is creatinine by mass: a molar unit there is a mislabelled result.
        (observation("2160-0", 97, "umol/L", oid="x1"), r"Observation/x1: .*2160-0.*umol/L"),
        (observation("29463-7", 9000, "kg", oid="x2"), r"Observation/x2: valueQuantity: weight"),
        (
            {**observation("29463-7", 70, "kg", oid="x3"), "effectiveDateTime": "yesterday"},
            r"Observation/x3: effectiveDateTime",
        ),
        (
            {
                **observation("8302-2", 170, "cm", oid="x4"),
                "valueQuantity": {"value": 170, "system": "urn:x", "code": "cm"},
            },
            r"Observation/x4: valueQuantity: .*FHIR Quantity",
        ),
    ],
)
def test_unreadable_observation_is_named(obs: dict[str, Any], message: str) -> None:
    with pytest.raises(UnreadableResourceError, match=message):
        patient_from_fhir([patient(), obs], as_of=AS_OF)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ([], "no Patient"),
        ([patient(pid="a"), patient(pid="b")], "2 different Patient"),
        ([patient(gender="unknown")], r"Patient/p1: gender"),
        ([patient(birth="10/03/1954")], r"Patient/p1: birthDate"),
        ([patient(birth="1954-02-30")], "not a calendar date"),
        ([patient(birth="2030-01-01")], "after"),
        (["Patient"], r"resource #0: got str"),
        ([{"id": "x"}], "resourceType is missing"),
        ({"resourceType": "Bundle", "entry": {}}, "entry: expected a list"),
        ({"resourceType": "Bundle", "entry": [3]}, r"entry\[0\]: not an object"),
        ("Patient/1", "expected FHIR R4 JSON"),
    ],
)
def test_unreadable_records_raise_cluneal_error(record: Any, message: str) -> None:
    with pytest.raises(ClunealError, match=message):
        patient_from_fhir(record, as_of=AS_OF)


def test_bad_as_of_and_an_under_age_patient() -> None:
    with pytest.raises(ClunealError, match="as_of"):
        patient_from_fhir([patient()], as_of="2026-11-01")
    with pytest.raises(ValidationError):  # clinical reference 0.1: adults only
        patient_from_fhir([patient("2015-01-01")], as_of=AS_OF)


def test_default_as_of_is_today() -> None:
    today = dt.datetime.now(dt.UTC).date()
    born = today.replace(year=today.year - 40) if (today.month, today.day) != (2, 29) else today
    assert patient_from_fhir([patient(born.isoformat())]).age.magnitude in {39, 40}


# --- Conditions -------------------------------------------------------------------

# Hand-picked codes, each checked by name against its code system (not copied from codes.toml).
CONDITION_CASES = [
    (ICD10CM, "G40.909", Condition.SEIZURE_DISORDER),  # ICD-10-CM: epilepsy, unspecified
    (SNOMED, "84757009", Condition.SEIZURE_DISORDER),  # SNOMED CT: epilepsy
    (ICD10CM, "I21.4", Condition.RECENT_MYOCARDIAL_INFARCTION),  # NSTEMI
    (ICD10CM, "H40.20X0", Condition.NARROW_ANGLE_GLAUCOMA),  # primary angle-closure glaucoma
    (ICD10CM, "R33.9", Condition.URINARY_RETENTION),  # retention of urine, unspecified
    (ICD10CM, "F11.20", Condition.OPIOID_USE_DISORDER),  # opioid dependence, uncomplicated
    (ICD10CM, "Z91.81", Condition.FALLS_HISTORY),  # history of falling
    (ICD10CM, "E87.1", Condition.HYPONATRAEMIA),  # hypo-osmolality and hyponatraemia
    (SNOMED, "13645005", Condition.COPD),  # SNOMED CT: chronic obstructive lung disease
]


@pytest.mark.parametrize(("system", "code", "expected"), CONDITION_CASES)
def test_condition_codes(system: str, code: str, expected: Condition) -> None:
    p = patient_from_fhir([patient(), condition(system, code)], as_of=AS_OF)
    assert p.conditions == (expected,)


def test_every_condition_member_is_reachable_by_both_code_systems() -> None:
    """API.md: SNOMED CT or ICD-10-CM codes for every Condition member."""
    tables = code_tables()
    for entry in tables.conditions:
        for code in entry.icd10cm:
            assert tables.condition(ICD10CM, code) is entry.condition, code
        for code in entry.snomed:
            assert tables.condition(SNOMED, code) is entry.condition, code
        # Every member has SNOMED CT unless a note says why not.
        assert entry.snomed or entry.note
    assert {c.condition for c in tables.conditions} == set(Condition)


@pytest.mark.parametrize(
    ("clinical", "verification", "counted"),
    [
        ("active", "confirmed", True),
        ("recurrence", "confirmed", True),
        ("active", None, True),  # no verification status: read as confirmed (cautious)
        ("resolved", "confirmed", False),
        ("inactive", "confirmed", False),
        ("active", "unconfirmed", False),
        ("active", "refuted", False),
        ("active", "entered-in-error", False),
        (None, "confirmed", False),
    ],
)
def test_only_active_confirmed_conditions_count(
    clinical: str | None, verification: str | None, counted: bool
) -> None:
    record = [patient(), condition(ICD10CM, "G40.909", clinical, verification)]
    p = patient_from_fhir(record, as_of=AS_OF)
    assert (Condition.SEIZURE_DISORDER in p.conditions) is counted


def test_unrelated_conditions_and_dialysis() -> None:
    record = [
        patient(),
        condition(ICD10CM, "I10"),  # essential hypertension: no rule uses it
        condition(ICD10CM, "Z99.2"),  # dependence on renal dialysis
    ]
    p = patient_from_fhir(record, as_of=AS_OF)
    assert p.conditions == ()
    assert p.on_dialysis is True


def test_condition_with_a_bad_code_element_is_named() -> None:
    bad = condition(ICD10CM, "G40.909")
    bad["code"] = {"coding": "G40"}
    with pytest.raises(UnreadableResourceError, match=r"Condition/c-G40.909: code.coding"):
        patient_from_fhir([patient(), bad], as_of=AS_OF)


# --- Medications and allergies ---------------------------------------------------------

# RxNorm ingredient codes, each as listed in the CPIC drug table (cpicpgx/cpic-data db/drug.sql).
RXNORM_CASES = [
    ("36437", "sertraline"),
    ("11289", "warfarin"),
    ("7804", "oxycodone"),
    ("8123", "phenelzine"),
    ("2556", "citalopram"),
    ("321988", "escitalopram"),
    ("4337", "fentanyl"),
    ("6813", "methadone"),
]


@pytest.mark.parametrize(("code", "name"), RXNORM_CASES)
def test_rxnorm_codes_become_names(code: str, name: str) -> None:
    p = patient_from_fhir([patient(), medication(code)], as_of=AS_OF)
    assert p.medications == (name,)


def test_medication_statements_and_names_in_text() -> None:
    record = [
        patient(),
        medication(text="Sertraline 50 MG Oral Tablet", kind="MedicationStatement"),
        medication(text="methylene blue injection"),
        medication(code="11289", status="draft"),  # not active: not a current medication
        medication(code="6813", status="cancelled"),
    ]
    p = patient_from_fhir(record, as_of=AS_OF)
    assert p.medications == ("methylene blue", "sertraline")


def test_medication_reference_with_a_display_is_read() -> None:
    resource = medication(code="36437")
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": "Medication/1", "display": "sertraline"}
    assert patient_from_fhir([patient(), resource], as_of=AS_OF).medications == ("sertraline",)
    del resource["medicationReference"]["display"]
    with pytest.raises(UnreadableResourceError, match="medicationReference needs a display"):
        patient_from_fhir([patient(), resource], as_of=AS_OF)


def test_stopped_within_the_washout_window_is_recent() -> None:
    """A medication stopped 14 days or less before as_of is recent (MAOI washout, labels)."""
    record = [
        patient(),
        medication("8123", status="stopped", kind="MedicationStatement", ended="2026-10-20"),
        medication("36437", status="completed", kind="MedicationStatement", ended="2026-09-01"),
    ]
    p = patient_from_fhir(record, as_of=AS_OF)
    assert p.recent_medications == ("phenelzine",)
    assert p.medications == ()


def test_the_record_is_read_with_the_knowledge_base_given() -> None:
    """knowledge= (issue 11): the window, the codes and the catalogue come from the base passed."""
    record = [
        patient(),
        medication("8123", status="stopped", kind="MedicationStatement", ended="2026-10-20"),
    ]
    kb = cluneal.knowledge_base()
    # Stopped 12 days before as_of: recent in the built-in 14-day window, not in a 7-day one.
    shorter = kb.replace(codes=kb.codes.model_copy(update={"recent_medication_days": 7}))
    assert patient_from_fhir(record, as_of=AS_OF, knowledge=kb).recent_medications == (
        "phenelzine",
    )
    assert patient_from_fhir(record, as_of=AS_OF, knowledge=shorter).recent_medications == ()
    with pytest.raises(ClunealError, match="knowledge"):
        patient_from_fhir(record, as_of=AS_OF, knowledge="2026.12.0")  # type: ignore[arg-type]


def test_unknown_medication_code_is_not_screened_like_an_unknown_name() -> None:
    """An RxNorm code the package does not know yields the same "not screened" alert as a name."""
    by_code = patient_from_fhir([patient(), medication("999999999")], as_of=AS_OF)
    by_name = cluneal.Patient(age=72, sex="female", medications=["unrecognised rxnorm 999999999"])
    assert by_code.medications == ("unrecognised rxnorm 999999999",)
    alerts_code = cluneal.check_regimen(["gabapentin"], by_code)
    alerts_name = cluneal.check_regimen(["gabapentin"], by_name)
    screened = [a for a in alerts_code if a.rule_id == "screening.unrecognized_medication"]
    assert len(screened) == 1
    assert screened[0].severity is Severity.MODERATE
    assert [a.rule_id for a in alerts_code] == [a.rule_id for a in alerts_name]


def test_unknown_code_with_text_keeps_the_text() -> None:
    p = patient_from_fhir([patient(), medication("424242", text="Vitamin D3")], as_of=AS_OF)
    assert p.medications == ("vitamin d3",)
    assert p.unrecognized_medications == ("vitamin d3",)


def test_medication_names_refuses_an_empty_concept() -> None:
    with pytest.raises(UnreadableResourceError, match="no code, display or text"):
        medication_names({}, "MedicationRequest/1", "medication")
    assert medication_names(
        {"coding": [{"system": "urn:local", "code": "X1"}]}, "MedicationRequest/1", "medication"
    ) == ["unrecognised code X1"]


def test_allergies_to_a_drug_and_to_a_tricyclic() -> None:
    """An amitriptyline allergy is a tricyclic hypersensitivity, which contraindicates
    carbamazepine (carbamazepine label: hypersensitivity to tricyclic compounds)."""
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "code": {"coding": [{"system": RXNORM, "code": "704"}]},  # CPIC: amitriptyline
        "patient": {"reference": "Patient/p1"},
    }
    refuted = {
        **allergy,
        "id": "a2",
        "code": {"text": "Carbamazepine"},
        "verificationStatus": {"coding": [{"code": "refuted"}]},
    }
    p = patient_from_fhir([patient(), allergy, refuted], as_of=AS_OF)
    assert p.allergies == ("amitriptyline",)
    assert Condition.TRICYCLIC_HYPERSENSITIVITY in p.conditions
    with pytest.raises(cluneal.ContraindicatedError):
        cluneal.titration_schedule("carbamazepine", p)


# --- code tables ----------------------------------------------------------------------


def test_every_catalogue_medication_has_a_code_or_a_reason() -> None:
    """No medication the catalogue knows can be added without an RxNorm decision."""
    catalogue = {n for names in read_toml("medications.toml")["classes"].values() for n in names}
    coded = {n for g in code_tables().rxnorm for n in g.codes}
    explained = {n for g in code_tables().rxnorm for n in g.without_code}
    assert catalogue == coded | explained
    assert all(cluneal.Drug(d).value in coded for d in cluneal.Drug)


def test_issue_9_co_medications_have_codes() -> None:
    """The co-medications of the safety rules' examples are read from their RxNorm codes."""
    for name in (
        "apixaban",
        "rivaroxaban",
        "warfarin",
        "oxycodone",
        "fentanyl",
        "methadone",
        "hydrocodone",
        "sertraline",
        "citalopram",
        "escitalopram",
    ):
        code = code_tables().rxnorm_code(name)
        assert code is not None, name
        assert code_tables().medication_name(RXNORM, code) == name


def test_codes_are_cited() -> None:
    for group in code_tables().rxnorm:
        assert cluneal.citation(group.citation).url


# --- Questionnaire and findings ---------------------------------------------------------


def test_exam_questionnaire_is_valid_r4_for_both_validators() -> None:
    q = exam_questionnaire()
    assert q["url"] == QUESTIONNAIRE_URL
    assert q["version"] == cluneal.KNOWLEDGE_BASE_VERSION
    assert_valid_fhir(q)


def answer(link: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": [value]}


def code(value: str) -> dict[str, Any]:
    return {"valueCoding": {"system": EXAM_SYSTEM, "code": value}}


def response(*groups: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "qr1",
        "questionnaire": f"{QUESTIONNAIRE_URL}|{cluneal.KNOWLEDGE_BASE_VERSION}",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "item": list(groups),
    }


FULL = response(
    {
        "linkId": "pain",
        "item": [
            answer("pain.low-back-pain", valueBoolean=True),
            answer("pain.deep-aching", valueBoolean=True),
            answer("pain.buttock", valueBoolean=True),
        ],
    },
    {
        "linkId": "tender",
        "item": [
            answer("tender.examined", valueBoolean=True),
            {
                "linkId": "tender.point",
                "item": [
                    {"linkId": "tender.point.site", "answer": [code("iliac_crest")]},
                    answer("tender.point.reproduces-pain", valueBoolean=True),
                    {"linkId": "tender.point.side", "answer": [code("left")]},
                ],
            },
        ],
    },
    {
        "linkId": "block",
        "item": [
            answer("block.done", valueBoolean=True),
            {"linkId": "block.branches", "answer": [code("superior"), code("middle")]},
            answer("block.relief-percent", valueDecimal=80),
            answer(
                "block.relief-duration",
                valueQuantity={"value": 3, "unit": "wk", "system": UCUM, "code": "wk"},
            ),
        ],
    },
    {"linkId": "neuro", "item": [answer("neuro.motor-weakness", valueBoolean=False)]},
)


def test_a_full_exam_becomes_findings_that_confirm_the_triad() -> None:
    """Isu 2018 triad: pattern + reproducing tender point + block relief >= 50 % → confirmed."""
    assert_valid_fhir(FULL)
    f = findings_from_fhir(FULL)
    assert f.pain is not None and f.pain.buttock is True and f.pain.leg is False
    assert f.tender_points is not None and f.tender_points[0].site.value == "iliac_crest"
    assert f.tender_points[0].side is not None and f.tender_points[0].side.value == "left"
    assert f.block is not None and f.block.relief_percent == 80
    assert f.block.relief_duration is not None and f.block.relief_duration.magnitude == 3
    assert f.neuro is not None and f.neuro.motor_weakness is False
    assert f.neuro.bladder_bowel_dysfunction is None
    assessment = cluneal.assess_diagnosis(f)
    assert assessment.classification is cluneal.DiagnosticClass.CONFIRMED


def test_unanswered_is_unknown_and_examined_without_points_is_empty() -> None:
    f = findings_from_fhir(response())
    assert (f.pain, f.tender_points, f.block, f.neuro) == (None, None, None, None)
    partial = response(
        {"linkId": "pain", "item": [answer("pain.low-back-pain", valueBoolean=True)]},
        {"linkId": "tender", "item": [answer("tender.examined", valueBoolean=True)]},
        {"linkId": "block", "item": [answer("block.done", valueBoolean=False)]},
    )
    f = findings_from_fhir(partial)
    assert f.pain is None  # deep aching not answered: the pattern is not judged
    assert f.tender_points == ()
    assert f.block is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resourceType": "Questionnaire"}, "expected a FHIR QuestionnaireResponse"),
        ({"questionnaire": "http://example.org/q"}, "questionnaire: got"),
        ({"status": "entered-in-error"}, "status"),
        ({"item": [{"linkId": "mood"}]}, "'mood': not a question"),
        ({"item": {"linkId": "pain"}}, "item: expected a list"),
        (
            {"item": [{"linkId": "pain", "item": [answer("pain.leg", valueString="yes")]}]},
            "pain.leg: expected an answer valueBoolean",
        ),
        (
            {"item": [{"linkId": "block", "item": [answer("block.done", valueBoolean=True)]}]},
            "block.branches and block.relief-percent are required",
        ),
        (
            {
                "item": [
                    {
                        "linkId": "tender",
                        "item": [
                            {
                                "linkId": "tender.point",
                                "item": [answer("tender.point.site", **code("x"))],
                            }
                        ],
                    }
                ]
            },
            "tender.examined is not true",
        ),
        (
            {
                "item": [
                    {
                        "linkId": "pain",
                        "item": [
                            {
                                "linkId": "pain.leg",
                                "answer": [{"valueBoolean": True}, {"valueBoolean": False}],
                            }
                        ],
                    }
                ]
            },
            "expected one answer",
        ),
    ],
)
def test_unreadable_responses_are_named(change: dict[str, Any], message: str) -> None:
    with pytest.raises(UnreadableResourceError, match=message):
        findings_from_fhir({**response(), **change})


def test_relief_above_100_percent_is_refused() -> None:
    bad = response(
        {
            "linkId": "block",
            "item": [
                answer("block.done", valueBoolean=True),
                {"linkId": "block.branches", "answer": [code("superior")]},
                answer("block.relief-percent", valueInteger=120),
            ],
        }
    )
    with pytest.raises(ValidationError):
        findings_from_fhir(bad)


# --- history -------------------------------------------------------------------------


def procedure(pid: str, intervention: str, when: str, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": pid,
        "status": status,
        "code": {"coding": [{"system": INTERVENTION_SYSTEM, "code": intervention}]},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": when,
    }


def relief(pid: str, percent: float, weeks: float | None = None) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"relief-{pid}",
        "status": "final",
        "partOf": [{"reference": f"Procedure/{pid}"}],
        "code": {"coding": [{"system": EXAM_SYSTEM, "code": "relief-percent"}]},
        "subject": {"reference": "Patient/p1"},
        "valueQuantity": {"value": percent, "unit": "%", "system": UCUM, "code": "%"},
    }
    if weeks is not None:
        obs["component"] = [
            {
                "code": {"coding": [{"system": EXAM_SYSTEM, "code": "relief-duration"}]},
                "valueQuantity": {"value": weeks, "unit": "wk", "system": UCUM, "code": "wk"},
            }
        ]
    return obs


def test_history_from_procedures_and_relief_observations() -> None:
    record = [
        procedure("rfa", "radiofrequency_ablation", "2026-06-01"),
        relief("rfa", 70, weeks=20),
        procedure("nb", "nerve_block", "2026-03-01"),
        relief("nb", 40),
        procedure("pns", "peripheral_nerve_stimulation", "2026-09-01"),  # no outcome yet
        procedure("x", "surgical_decompression", "2026-10-01", status="not-done"),
    ]
    for resource in record:
        assert_valid_fhir(resource)
    history = history_from_fhir(bundle(*record))
    assert [o.intervention.value for o in history.outcomes] == [
        "nerve_block",
        "radiofrequency_ablation",
    ]
    assert history.outcomes[1].relief_duration is not None
    assert history.outcomes[1].relief_duration.magnitude == 20


def test_history_refuses_unreadable_procedures() -> None:
    with pytest.raises(UnreadableResourceError, match="not a cluneal intervention"):
        history_from_fhir([procedure("a", "acupuncture", "2026-01-01"), relief("a", 50)])
    undated = procedure("b", "nerve_block", "2026-01-01")
    del undated["performedDateTime"]
    with pytest.raises(UnreadableResourceError, match="performedDateTime"):
        history_from_fhir([undated, relief("b", 50)])
    bad = relief("c", 50)
    bad["valueQuantity"] = {"value": 50, "unit": "mg", "system": UCUM, "code": "mg"}
    with pytest.raises(UnreadableResourceError, match="percentage"):
        history_from_fhir([bad])


# --- FHIR Quantity wherever a quantity is taken ------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("weight", {"value": 154, "unit": "lb", "system": UCUM, "code": "[lb_av]"}, "154 lb"),
        ("serum_creatinine", {"value": 97, "system": UCUM, "code": "umol/L"}, "97 umol/L"),
        ("height", {"value": 65, "unit": "in", "system": UCUM, "code": "[in_i]"}, "65 in"),
    ],
)
def test_fhir_quantity_is_accepted_by_the_model(
    field: str, value: dict[str, Any], expected: str
) -> None:
    from_fhir = cluneal.Patient.model_validate({"age": 60, "sex": "male", field: value})
    from_text = cluneal.Patient.model_validate({"age": 60, "sex": "male", field: expected})
    assert from_fhir == from_text


@pytest.mark.parametrize(
    "value",
    [
        {"value": 97, "unit": "mg/dL", "system": UCUM, "code": "umol/L"},  # unit contradicts code
        {"value": 97, "comparator": "<", "system": UCUM, "code": "umol/L"},
        {"value": 97, "system": "http://snomed.info/sct", "code": "umol/L"},
        {"value": 97, "system": UCUM, "code": "umol/l"},  # UCUM codes are case-sensitive
        {"value": 97, "system": UCUM},
        {"value": float("nan"), "system": UCUM, "code": "umol/L"},
        {"value": 97, "unit": 3, "system": UCUM, "code": "umol/L"},
    ],
)
def test_bad_fhir_quantities_are_refused_naming_the_field(value: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="serum_creatinine"):
        cluneal.Patient.model_validate({"age": 60, "sex": "male", "serum_creatinine": value})


def test_every_input_resource_of_these_tests_is_valid_r4() -> None:
    """The records these tests read are valid FHIR R4 for both validators, so a pass here is
    about reading real FHIR, not about tolerating broken JSON."""
    resources = [
        patient(),
        observation("2160-0", 1.3, "mg/dL"),
        observation("14682-9", 97, "umol/L"),
        observation("29463-7", 154, "[lb_av]"),
        observation("8302-2", 65, "[in_i]"),
        condition(ICD10CM, "G40.909"),
        condition(SNOMED, "84757009", verification=None),
        medication("36437"),
        medication(text="Sertraline 50 MG Oral Tablet", kind="MedicationStatement"),
        medication("8123", status="stopped", kind="MedicationStatement", ended="2026-10-20"),
        procedure("rfa", "radiofrequency_ablation", "2026-06-01"),
        relief("rfa", 70, weeks=20),
        FULL,
    ]
    for resource in resources:
        assert_valid_fhir(resource)


def test_the_case_json_schema_admits_a_fhir_quantity() -> None:
    """The JSON Schema says what the models accept: a FHIR Quantity is one of the forms."""
    import jsonschema

    from cluneal.case import case_json_schema

    case: dict[str, Any] = {
        "patient": {
            "age": 60,
            "sex": "male",
            "weight": {"value": 154, "unit": "lb", "system": UCUM, "code": "[lb_av]"},
        },
        "findings": {},
    }
    jsonschema.validate(case, case_json_schema())
    bad = copy.deepcopy(case)
    bad["patient"]["weight"]["system"] = "http://snomed.info/sct"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, case_json_schema())
