"""HLA-B*15:02 status read from FHIR (issue 14): LOINC 57979-7 → Patient.hla_b_1502.

Sources of the codes (knowledge/citations_codes.toml, ``loinc_hla_b_1502``): LOINC
57979-7 "HLA-B*15:02 [Presence]" (HL7 Genomics Reporting IG example report; Labcorp
test 167129's result LOINC); answers LA6576-8 Positive, LA6577-6 Negative, LA9633-4
Present, LA9634-2 Absent. Clinical rules (clinical reference 0.5 and 0.6):
carbamazepine is contraindicated when HLA-B*15:02 is positive; an unknown status
before carbamazepine is a major alert asking for screening.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import cluneal
from cluneal.fhir import patient_from_fhir
from cluneal.knowledge.codes import code_tables
from cluneal.service.discovery import SERVICES
from cluneal.service.hooks import answer
from tests.fhir_records import draft, order_request
from tests.fhir_validation import assert_valid_fhir

LOINC = "http://loinc.org"
AS_OF = dt.date(2026, 11, 1)
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01", "gender": "male"}
UNKNOWN_RULE = "alert.carbamazepine.hla_b_1502_unknown"
POSITIVE_RULE = "contraindication.carbamazepine.hla_b_1502_positive"


def hla(
    value: dict[str, Any],
    *,
    status: str = "final",
    when: str = "2026-10-01",
    oid: str = "hla1",
    system: str = LOINC,
) -> dict[str, Any]:
    """An HLA-B*15:02 presence Observation with the given value[x]."""
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": status,
        "code": {"coding": [{"system": system, "code": "57979-7"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        **value,
    }


def answer_code(code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": LOINC, "code": code}
    if display is not None:
        coding["display"] = display
    return {"valueCodeableConcept": {"coding": [coding]}}


def status_of(*observations: dict[str, Any]) -> bool | None:
    return patient_from_fhir([PATIENT, *observations], as_of=AS_OF).hla_b_1502


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # LOINC answer list (Genomics Reporting IG): Positive / Negative, Present / Absent.
        (answer_code("LA6576-8", "Positive"), True),
        (answer_code("LA6577-6", "Negative"), False),
        (answer_code("LA9633-4", "Present"), True),
        (answer_code("LA9634-2", "Absent"), False),
        # Words the tables list, as a whole value.
        ({"valueString": "Not  detected"}, False),
        ({"valueString": "DETECTED"}, True),
        ({"valueCodeableConcept": {"text": "Negative"}}, False),
        ({"valueBoolean": True}, True),
        ({"valueBoolean": False}, False),
        # Anything else is not a result: indeterminate (LA11884-6), free text, no value.
        (answer_code("LA11884-6", "Indeterminate"), None),
        ({"valueString": "negative for B*57:01"}, None),
        ({"valueCodeableConcept": {"text": "see report"}}, None),
        ({}, None),
    ],
)
def test_hla_b_1502_values(value: dict[str, Any], expected: bool | None) -> None:
    """Positive, negative, or unknown: only the listed answers and words count."""
    resource = hla(value)
    assert_valid_fhir(resource)
    assert status_of(resource) is expected


def test_no_observation_is_unknown_and_keeps_the_screening_alert() -> None:
    """0.6: HLA-B*15:02 unknown before carbamazepine is a major alert."""
    patient = patient_from_fhir([PATIENT], as_of=AS_OF)
    assert patient.hla_b_1502 is None
    schedule = cluneal.titration_schedule("carbamazepine", patient)
    assert UNKNOWN_RULE in {a.rule_id for a in schedule.alerts}


def test_a_negative_result_clears_the_screening_alert() -> None:
    patient = patient_from_fhir([PATIENT, hla(answer_code("LA6577-6"))], as_of=AS_OF)
    schedule = cluneal.titration_schedule("carbamazepine", patient)
    assert UNKNOWN_RULE not in {a.rule_id for a in schedule.alerts}


def test_a_positive_result_contraindicates_carbamazepine() -> None:
    """0.5: carbamazepine is refused for an HLA-B*15:02 carrier."""
    patient = patient_from_fhir([PATIENT, hla(answer_code("LA6576-8"))], as_of=AS_OF)
    with pytest.raises(cluneal.ContraindicatedError) as raised:
        cluneal.titration_schedule("carbamazepine", patient)
    assert POSITIVE_RULE in {a.rule_id for a in raised.value.alerts}


def test_one_positive_stands_against_a_later_negative() -> None:
    """A genotype does not change: conflicting results are read the cautious way."""
    positive = hla(answer_code("LA6576-8"), when="2020-01-01", oid="old")
    negative = hla(answer_code("LA6577-6"), when="2026-10-01", oid="new")
    assert status_of(positive, negative) is True
    assert status_of(negative, positive) is True


@pytest.mark.parametrize("status", ["preliminary", "registered", "cancelled", "entered-in-error"])
def test_only_final_results_count(status: str) -> None:
    assert status_of(hla(answer_code("LA6576-8"), status=status)) is None


def test_amended_and_corrected_results_count() -> None:
    assert status_of(hla(answer_code("LA6577-6"), status="amended")) is False
    assert status_of(hla(answer_code("LA6576-8"), status="corrected")) is True


def test_contradictory_codings_in_one_value_are_unknown() -> None:
    value = {
        "valueCodeableConcept": {
            "coding": [{"system": LOINC, "code": "LA6576-8"}, {"system": LOINC, "code": "LA6577-6"}]
        }
    }
    assert status_of(hla(value)) is None


def test_the_code_must_be_loinc() -> None:
    """57979-7 in another code system is not the LOINC observation."""
    assert status_of(hla(answer_code("LA6576-8"), system="http://example.org/codes")) is None


def test_an_answer_code_from_another_system_is_not_an_answer() -> None:
    value = {
        "valueCodeableConcept": {"coding": [{"system": "http://example.org", "code": "LA6576-8"}]}
    }
    assert status_of(hla(value)) is None


def test_the_tables_refuse_an_answer_that_means_both() -> None:
    """The knowledge base is checked at load: an answer cannot be positive and negative."""
    from cluneal.errors import KnowledgeBaseError
    from cluneal.knowledge import read_toml
    from cluneal.knowledge.codes import parse_code_tables

    raw = read_toml("codes.toml")
    both = {**raw, "hla_b_1502": {**raw["hla_b_1502"], "negative_answers": ["LA6576-8"]}}
    with pytest.raises(KnowledgeBaseError, match="both positive and negative"):
        parse_code_tables(both)
    taken = {
        **raw,
        "hla_b_1502": {**raw["hla_b_1502"], "loinc": raw["observation"][0]["loinc"]},
    }
    with pytest.raises(KnowledgeBaseError, match="quantity observation"):
        parse_code_tables(taken)
    shouting = {**raw, "hla_b_1502": {**raw["hla_b_1502"], "positive_words": ["Positive"]}}
    with pytest.raises(KnowledgeBaseError, match="lower case"):
        parse_code_tables(shouting)


def test_the_prefetch_asks_for_the_hla_observation() -> None:
    for service in SERVICES.values():
        assert f"{LOINC}|{code_tables().hla_b_1502.loinc}" in service.prefetch["observations"]


def test_order_select_refuses_carbamazepine_for_a_carrier() -> None:
    """The service reads the genotype from the prefetch: a carbamazepine draft is critical."""
    request = order_request("order-select", [draft("o1", "2002", 200, 2)])
    carrier = hla(answer_code("LA6576-8"))
    carrier["subject"] = {"reference": "Patient/demo"}
    request["prefetch"]["observations"]["entry"].append({"resource": carrier})
    cards = answer(SERVICES["cluneal-order-select"], request, request["prefetch"], today=AS_OF)
    first = cards["cards"][0]
    assert first["indicator"] == "critical"
    assert first["summary"].startswith("Do not order carbamazepine: HLA-B*15:02 positive")
