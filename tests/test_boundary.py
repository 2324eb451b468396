"""Issue 10: one boundary discipline for every public entry point.

Numbers are finite and inside the float range before any arithmetic, messages
show a bounded rendering of the value, dates stay in the calendar, text that
would break JSON or FHIR is refused, and a string is never read letter by letter.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

import cluneal
import cluneal.fhir
from cluneal import _checks
from cluneal.errors import InvalidArgumentError, UnknownTermError, problems, show

P = cluneal.Patient(age=50, sex="male", weight="70 kg", serum_creatinine="1.0 mg/dL")


class _HostileRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _deep(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), math.nan, math.inf, -math.inf, True, "70", None, 1 + 2j],
)
def test_number_refuses_what_is_not_a_finite_real(value: object) -> None:
    """No OverflowError, no NaN: a plain InvalidArgumentError naming the argument."""
    with pytest.raises(InvalidArgumentError, match=r"^block_threshold: got "):
        _checks.number(value, "block_threshold")


def test_number_range_and_integers() -> None:
    """Bounds are checked after finiteness; whole numbers when asked."""
    assert _checks.number(Fraction(1, 2), "x", minimum=0, maximum=1) == 0.5
    with pytest.raises(InvalidArgumentError, match="greater than 0 and at most 100"):
        _checks.number(0, "x", minimum=0, maximum=100, minimum_inclusive=False)
    with pytest.raises(InvalidArgumentError, match="whole number"):
        _checks.number(1.5, "day", integer=True)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (10**5000, "<int of 16610 bits>"),
        ("x" * 1_000_000, "(1000000 characters)"),
        (_deep(100_000), "[[[[...]]]]"),
        (_HostileRepr(), "<_HostileRepr object>"),
        ("a\ud800\x00", r"'a\ud800\x00'"),
    ],
    ids=["huge int", "megabyte text", "deep list", "raising repr", "surrogate"],
)
def test_show_is_bounded_and_never_raises(value: object, shown: str) -> None:
    """Error messages echo any value in a few hundred characters at most, escaped."""
    text = show(value)
    assert shown in text
    assert len(text) <= 400
    text.encode("utf-8")


@pytest.mark.parametrize("text", ["a\ud800", "line\nbreak", "bell\x07", "c1\x85", "x" * 1001])
def test_text_refuses_what_json_or_fhir_cannot_carry(text: str) -> None:
    """Lone surrogates, control characters and overlong text are refused."""
    with pytest.raises(InvalidArgumentError, match=r"^patient_reference: "):
        _checks.text(text, "patient_reference")


@pytest.mark.parametrize(
    "value", ["9999-12-31", dt.date.max, dt.date(1899, 12, 31), "2026-02-30", "soon", 20260101]
)
def test_dates_stay_in_range(value: object) -> None:
    """A day 0 near date.max would overflow the schedule's dates: refused up front."""
    with pytest.raises(InvalidArgumentError, match=r"^start_date: .*from 1900-01-01 to 2999-12-31"):
        cluneal.titration_schedule("gabapentin", P, start_date=value)  # type: ignore[arg-type]


def test_the_last_accepted_date_gives_a_dated_schedule() -> None:
    """2999-12-31 is accepted and every step still has a calendar date."""
    s = cluneal.titration_schedule("gabapentin", P, start_date="2999-12-31")
    assert s.steps[0].date == dt.date(2999, 12, 31)
    assert all(step.date is not None for step in s.steps)


def test_case_start_date_is_checked_in_the_model() -> None:
    """The case document refuses a start date outside the range too, naming the field once."""
    with pytest.raises(ValidationError) as caught:
        cluneal.Case.model_validate(
            {"patient": {"age": 50, "sex": "male"}, "start_date": "9999-12-31"}
        )
    assert problems(caught.value) == (
        (
            "start_date: got '9999-12-31'; expected a calendar date"
            " (datetime.date or 'YYYY-MM-DD') from 1900-01-01 to 2999-12-31"
        ),
    )


@pytest.mark.parametrize("value", [_deep(50_000), _HostileRepr(), [1, 2], "x" * 10_000])
def test_vocabularies_refuse_hostile_values_cleanly(value: object) -> None:
    """Enum lookups never call repr() on a hostile value (RecursionError, or worse)."""
    with pytest.raises(ValueError, match="is not a valid Sex"):
        cluneal.Sex(value)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="sex"):
        cluneal.Patient(age=50, sex=value)  # type: ignore[arg-type]


def test_methods_check_their_arguments() -> None:
    """Public methods refuse bad arguments with package errors naming them."""
    with pytest.raises(UnknownTermError, match=r"^condition: "):
        P.has([])  # type: ignore[arg-type]
    with pytest.raises(UnknownTermError, match=r"^cls: "):
        P.medications_in("opioids")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"^include_recent: "):
        P.medications_in(cluneal.MedicationClass.OPIOID, include_recent="yes")  # type: ignore[arg-type]
    schedule = cluneal.titration_schedule("gabapentin", P)
    for day in (-1, 1.5, {"day": 1}, 10**400):
        with pytest.raises(InvalidArgumentError, match=r"^day: "):
            schedule.dose_on(day)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"^citation_id: "):
        cluneal.citation(["beers_2023"])  # type: ignore[arg-type]


def test_detected_issue_takes_one_reference_as_one() -> None:
    """implicated="Patient/1" is one reference, not nine letters."""
    alert = cluneal.check_regimen(["tramadol", "naltrexone"], P)[0]
    issue = cluneal.fhir.detected_issue(alert, implicated="MedicationRequest/1")
    assert issue["implicated"] == [{"reference": "MedicationRequest/1"}]
    several = cluneal.fhir.detected_issue(alert, implicated=["A/1", "B/2"])
    assert several["implicated"] == [{"reference": "A/1"}, {"reference": "B/2"}]
    with pytest.raises(InvalidArgumentError, match=r"^implicated: "):
        cluneal.fhir.detected_issue(alert, implicated=["A/1\ud800"])


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: cluneal.fhir.medication_request(None), "schedule"),  # type: ignore[arg-type]
        (lambda: cluneal.fhir.bundle("plan"), "plan"),  # type: ignore[arg-type]
        (lambda: cluneal.fhir.detected_issue(5), "alert"),  # type: ignore[arg-type]
        (
            lambda: cluneal.fhir.bundle(
                cluneal.care_plan(P, cluneal.Findings()), patient_reference="Patient/\ud800"
            ),
            "patient_reference",
        ),
    ],
)
def test_fhir_export_checks_its_arguments(call: Any, argument: str) -> None:
    """The FHIR export refuses a wrong object or unencodable text before writing JSON."""
    with pytest.raises(InvalidArgumentError, match=f"^{argument}: "):
        call()


def test_collections_are_never_strings_or_mappings() -> None:
    """A drug list given as one string or a mapping is refused, not read by letters or keys."""
    with pytest.raises(InvalidArgumentError, match=r"^drugs: "):
        _checks.collection({"tramadol": 1}, "drugs")
    assert _checks.collection(iter(["a"]), "drugs") == ("a",)


@pytest.mark.parametrize(
    "value", [{"value": 10**400, "unit": "kg"}, "1e999 kg", cluneal.Q_(10**400, "kg"), 10**400]
)
def test_quantities_beyond_the_float_range_are_refused(value: object) -> None:
    """Integers beyond the float range: an InvalidQuantityError, never OverflowError."""
    with pytest.raises(ValidationError, match="weight"):
        cluneal.Patient(age=50, sex="male", weight=value)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="age"):
        cluneal.Patient(age=value, sex="male")  # type: ignore[arg-type]


def test_problems_are_clean_sentences() -> None:
    """Issue 15: one sentence per problem, the path once, no 'Value error,' prefix."""
    with pytest.raises(ValidationError) as caught:
        cluneal.Case.model_validate(
            {"patient": {"age": -5, "sex": "x", "weight": 70}, "findings": {"pain": 1}}
        )
    lines = problems(caught.value)
    assert lines == (
        "patient.age: got -5; expected an age between 18 and 120 years",
        "patient.sex: Input should be 'female' or 'male'; got 'x'",
        (
            "patient.weight: got 70; expected a body weight as one number and one unit"
            " (kg, lb, g), e.g. '70 kg'"
        ),
        "findings.pain: Input should be a valid dictionary or instance of PainPattern; got 1",
    )
    assert not any("Value error" in line for line in lines)
    assert problems(InvalidArgumentError("day", -1, "a whole number")) == (
        "day: got -1; expected a whole number",
    )


@pytest.mark.parametrize(
    "record",
    [
        [{"resourceType": "Patient", "gender": ["female"], "birthDate": "1950-01-01"}],
        [{"resourceType": cluneal.Q_(10**400, "kg")}],
        {"resourceType": "Bundle", "entry": _deep(100)},
        [{"resourceType": "Patient", "id": {"x": 1}}, {"resourceType": "Patient", "id": "2"}],
        [{"resourceType": "Observation", "status": {"final": True}}],
        [{"resourceType": "Patient", "birthDate": math.nan}],
    ],
    ids=["list gender", "quantity", "deep", "object id", "object status", "nan"],
)
def test_fhir_input_refuses_what_is_not_fhir_json(record: object) -> None:
    """FHIR input is JSON data: anything else is refused before it is compared or hashed."""
    with pytest.raises(cluneal.ClunealError):
        cluneal.fhir.patient_from_fhir(record, as_of=dt.date(2026, 11, 1))


@pytest.mark.parametrize("knowledge", [{"version": "1"}, "2026.12.0", 5])
def test_knowledge_must_be_a_knowledge_base(knowledge: object) -> None:
    """knowledge= takes a KnowledgeBase or None: anything else is named, not an AttributeError."""
    with pytest.raises(InvalidArgumentError, match=r"^knowledge: "):
        cluneal.titration_schedule("gabapentin", P, knowledge=knowledge)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"^knowledge: "):
        cluneal.care_plan(P, cluneal.Findings(), knowledge=knowledge)  # type: ignore[arg-type]


def test_with_protocol_checks_its_argument() -> None:
    """with_protocol(None) and a protocol given as a mapping are refused naming the argument."""
    base = cluneal.knowledge_base()
    for protocol in (None, {"name": "x", "version": "1"}):
        with pytest.raises(InvalidArgumentError, match=r"^protocol: "):
            base.with_protocol(protocol)  # type: ignore[arg-type]


def test_protocol_threshold_beyond_the_float_range_is_refused() -> None:
    """An integer of 400 digits is not a percentage: a package error, not OverflowError."""
    for huge in (10**400, -(10**400)):
        with pytest.raises(
            (cluneal.ClunealError, ValidationError), match="block_threshold_percent"
        ):
            cluneal.LocalProtocol(name="x", version="1", block_threshold_percent=huge)
