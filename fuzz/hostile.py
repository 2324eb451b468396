"""Hostile inputs against the public Python API: every call is refused cleanly or accepted soundly.

Each target is one public function, method or model entry point. Hypothesis
draws its arguments, each either a valid value (so the call reaches deep code)
or a hostile one (huge integers, NaN, lone surrogates, control characters,
megabyte strings, deep nesting, extreme dates, foreign objects whose ``repr``
raises, wrong types). Every call ends in one of three ways:

* **refused**: :class:`cluneal.ClunealError` or pydantic's ``ValidationError``,
  with a bounded message that encodes as UTF-8;
* **accepted**: a result whose JSON (when it has one) is strict JSON with no NaN
  or infinity, and whose text encodes as UTF-8;
* **unexpected**: anything else, counted by kind (exception type and the
  target), including an accepted result that holds a non-finite number, and
  any disagreement between the published JSON Schema of a case and the model
  (documents drawn from the schema must be accepted; JSON documents the model
  accepts must satisfy the schema).

``python fuzz/hostile.py --examples 105000`` runs it (``nox -s fuzz``); the CI
slice in ``tests/test_fuzz_slice.py`` runs a few hundred derandomised calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import hostile_harness
import jsonschema
import pint
from hypothesis import strategies as st
from json_places import json_places
from pydantic import BaseModel, ValidationError
from schema_strategy import from_schema

import cluneal
import cluneal.fhir
from cluneal.case import Case, case_json_schema
from cluneal.errors import ClunealError
from cluneal.units import quantity_in

MAX_MESSAGE = 20_000
"""An error message longer than this is unexpected: messages echo inputs in bounded form."""


class _RaisingRepr:
    """A caller's object whose repr, str, eq and hash all raise."""

    def __repr__(self) -> str:
        raise RuntimeError("hostile repr")

    def __str__(self) -> str:
        raise RuntimeError("hostile str")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("hostile eq")

    def __hash__(self) -> int:
        raise RuntimeError("hostile hash")


class _HugeRepr:
    def __repr__(self) -> str:
        return "x" * 1_000_000


class _FloatLike(float):
    """A float subclass, finite but odd."""


def _deep_list(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int) -> object:
    value: object = {"value": 1, "unit": "kg"}
    for _ in range(depth):
        value = {"value": value, "unit": "kg"}
    return value


_FOREIGN: pint.UnitRegistry[Any] = pint.UnitRegistry()

HOSTILE_TEXT = [
    "",
    " ",
    "\ud800",
    "70 kg\ud800",
    "\x00",
    "70\x00kg",
    "a\x1b[31mred",
    "gabapentin\n",
    "nan mg",
    "inf kg",
    "-inf kg",
    "1e309 kg",
    "1e-400 kg",
    "-70 kg",
    "+70 kg",
    "70",
    "70 furlongs",
    "900 kg",
    "154 lb",
    "2*3 mg",
    "__import__('os')",
    "Patient/1",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "female",
    "FEMALE",
    "gabapentin",
    "Gabapentin",
    "superior",
    "iliac_crest",
    "nerve_block",
    "12 weeks",
    "0 weeks",
    "\u212akg",
    "70 \u212ag",
    "７０ kg",
    "70 kg kg",
]

_UNITS = ["mg", "kg", "lb", "g", "cm", "in", "mg/dL", "umol/L", "mg/d", "mL/min", "d", "wk", "a"]


def _numbers() -> st.SearchStrategy[object]:
    return st.one_of(
        st.integers(),
        st.integers(min_value=2**1000, max_value=2**1100),
        # Built lazily: Hypothesis itself cannot repr an int of 5000 digits.
        st.builds(lambda: 10**400),
        st.builds(lambda: -(10**400)),
        st.builds(lambda: 2**1024),
        st.builds(lambda: 10**5000),
        st.floats(),
        st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, -1.0]),
        st.sampled_from([Decimal("NaN"), Decimal("1e400"), Fraction(1, 3), _FloatLike(70.0)]),
        st.complex_numbers(max_magnitude=1e3),
    )


def _quantities() -> st.SearchStrategy[object]:
    magnitudes = st.one_of(_numbers().filter(lambda v: not isinstance(v, complex)), st.just(70))
    units = st.sampled_from([*_UNITS, "degC", "meter ** 2", "dimensionless"])

    def own(m: Any, u: str) -> object:
        try:
            return cluneal.Q_(m, u)
        except Exception:
            return m

    def foreign(m: Any, u: str) -> object:
        try:
            return _FOREIGN.Quantity(m, u)
        except Exception:
            return m

    return st.one_of(st.builds(own, magnitudes, units), st.builds(foreign, magnitudes, units))


_DEEP_LIST = _deep_list(20_000)
_DEEP_DICT = _deep_dict(5_000)
_LONG_TEXT = "x" * 1_000_000
_LONG_NUMBER_TEXT = "7" * 5000 + " kg"


def hostile() -> st.SearchStrategy[object]:
    """Values no public function should choke on (it may refuse them)."""
    return _HOSTILE


def _hostile() -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        _numbers(),
        st.text(max_size=12),
        st.text(st.characters(codec=None, categories=None), max_size=12),
        st.sampled_from(HOSTILE_TEXT),
        st.binary(max_size=8),
        st.dates(),
        st.datetimes(),
        st.sampled_from([dt.date.max, dt.date.min, dt.date(9999, 12, 1), dt.timedelta(days=3)]),
        _quantities(),
        st.fixed_dictionaries(
            {
                "value": st.one_of(_numbers(), st.text(max_size=5), st.none()),
                "unit": st.one_of(st.sampled_from(_UNITS), st.text(max_size=5), st.integers()),
            }
        ),
        # Objects Hypothesis should not repr (it reprs sampled_from's elements).
        st.builds(_RaisingRepr),
        st.builds(_HugeRepr),
        st.builds(lambda: _DEEP_LIST),
        st.builds(lambda: _DEEP_DICT),
        st.builds(lambda: _LONG_TEXT),
        st.builds(lambda: _LONG_NUMBER_TEXT),
        st.sampled_from(
            [
                object(),
                cluneal.Drug.GABAPENTIN,
                cluneal.Sex.FEMALE,
                cluneal.NerveBranch.SUPERIOR,
                cluneal.Intervention.NERVE_BLOCK,
                cluneal.PathwayStep.MAINTAIN,
                Ellipsis,
                NotImplemented,
                int,
                print,
                iter([1, 2]),
                range(3),
                frozenset({"a", "b"}),
            ]
        ),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.tuples(children, children),
            st.dictionaries(st.sampled_from(["value", "unit", "age", "sex", "x"]), children),
        ),
        max_leaves=6,
    )


_HOSTILE = _hostile()


def either(valid: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly a valid value (so the call goes deep), sometimes a hostile one."""
    return st.one_of(valid, valid, hostile())


# Valid building blocks -----------------------------------------------------

_SEXES = st.sampled_from(["female", "male"])
_CONDITIONS = st.lists(st.sampled_from([c.value for c in cluneal.Condition]), max_size=3)
_MEDICATIONS = st.lists(
    st.sampled_from(["sertraline", "phenelzine", "oxycodone", "warfarin", "apixaban", "vitamin d"]),
    max_size=3,
)


def patient_fields() -> st.SearchStrategy[dict[str, object]]:
    """Patient keyword arguments, each valid or hostile."""
    return st.fixed_dictionaries(
        {"age": either(st.integers(18, 100)), "sex": either(_SEXES)},
        optional={
            "weight": either(st.sampled_from(["70 kg", "154 lb", {"value": 60, "unit": "kg"}])),
            "height": either(st.sampled_from(["175 cm", "1.6 m", "66 in"])),
            "serum_creatinine": either(st.sampled_from(["1.1 mg/dL", "97 umol/L", "3.5 mg/dL"])),
            "on_dialysis": either(st.booleans()),
            "hepatic_impairment": either(st.sampled_from(["none", "mild", "moderate", "severe"])),
            "conditions": either(_CONDITIONS),
            "medications": either(_MEDICATIONS),
            "hla_b_1502": either(st.sampled_from([None, True, False])),
        },
    )


def valid_patients() -> st.SearchStrategy[cluneal.Patient]:
    """Valid patients only."""
    return st.builds(
        cluneal.Patient,
        age=st.integers(18, 100),
        sex=_SEXES,
        weight=st.sampled_from([None, "70 kg", "154 lb", "45 kg"]),
        height=st.sampled_from([None, "175 cm", "160 cm"]),
        serum_creatinine=st.sampled_from([None, "1.1 mg/dL", "97 umol/L", "3.5 mg/dL"]),
        on_dialysis=st.booleans(),
        medications=_MEDICATIONS,
    )


def findings_data() -> st.SearchStrategy[object]:
    """Findings as JSON-style mappings, each part valid or hostile."""
    pain = st.fixed_dictionaries(
        {
            "low_back_pain": either(st.booleans()),
            "deep_aching_poorly_localized": either(st.booleans()),
        }
    )
    tender = st.lists(
        st.fixed_dictionaries(
            {
                "site": either(st.sampled_from(["iliac_crest", "caudal_to_psis", "other"])),
                "reproduces_pain": either(st.booleans()),
            }
        ),
        max_size=2,
    )
    block = st.fixed_dictionaries(
        {
            "branches": either(st.lists(st.sampled_from(["superior", "middle"]), max_size=2)),
            "relief_percent": either(st.integers(0, 100)),
        },
        optional={"relief_duration": either(st.sampled_from(["3 weeks", "2 days", "6 months"]))},
    )
    return st.fixed_dictionaries(
        {}, optional={"pain": either(pain), "tender_points": either(tender), "block": either(block)}
    )


def valid_findings() -> st.SearchStrategy[cluneal.Findings]:
    """Findings that validate (hostile parts filtered out)."""

    def build(data: object) -> cluneal.Findings | None:
        try:
            return cluneal.Findings.model_validate(data)
        except (ClunealError, ValidationError):
            return None

    return st.builds(build, findings_data()).filter(lambda f: f is not None)  # type: ignore[return-value]


def history_data() -> st.SearchStrategy[object]:
    """Care histories as JSON-style mappings."""
    outcome = st.fixed_dictionaries(
        {
            "intervention": either(st.sampled_from([i.value for i in cluneal.Intervention])),
            "relief_percent": either(st.integers(0, 100)),
            "relief_duration": either(st.sampled_from(["3 weeks", "6 months", "1 days"])),
        }
    )
    return st.fixed_dictionaries({"outcomes": either(st.lists(outcome, max_size=3))})


_DRUGS = st.sampled_from([d.value for d in cluneal.Drug])


@dataclass
class Report(hostile_harness.Report):
    """Counts of one run, with the accepted results that held NaN or infinity, per target."""

    non_finite_accepted: int = 0
    per_target: Counter[str] = field(default_factory=Counter)

    def extra(self) -> dict[str, object]:
        """Accepted non-finite results and the number of targets."""
        return {"accepted_non_finite": self.non_finite_accepted, "targets": len(self.per_target)}


class _NonFiniteError(Exception):
    """An accepted result holds NaN or infinity."""


def _reject_constant(token: str) -> object:
    raise _NonFiniteError(token)


def check_result(result: object) -> None:
    """Check an accepted result is sound: strict JSON, finite numbers, UTF-8 text."""
    if isinstance(result, BaseModel):
        text = result.model_dump_json()
        json.loads(text, parse_constant=_reject_constant)
        str(result).encode("utf-8")
    elif isinstance(result, pint.Quantity):
        if not math.isfinite(float(result.magnitude)):
            raise _NonFiniteError(repr(result))
    elif isinstance(result, dict | list | tuple):
        json.dumps(result, allow_nan=False, default=_json_default).encode("utf-8")
    elif isinstance(result, str):
        result.encode("utf-8")
    elif isinstance(result, float) and not math.isfinite(result):
        raise _NonFiniteError(repr(result))


def _json_default(value: object) -> object:
    if isinstance(value, BaseModel):
        return json.loads(value.model_dump_json(), parse_constant=_reject_constant)
    if isinstance(value, pint.Quantity):
        return [float(value.magnitude), str(value.units)]
    return str(value)


def check_refusal(exc: BaseException) -> None:
    """Check a refusal is well formed: bounded, UTF-8, picklable class."""
    message = str(exc)
    if len(message) > MAX_MESSAGE:
        raise AssertionError(f"message of {len(message)} characters")
    message.encode("utf-8")


def call(report: Report, target: str, thunk: Callable[[], object]) -> None:
    """Run one call and count how it ended.

    Hypothesis's own control flow (it abandons an input it cannot finish
    drawing) is a ``BaseException`` that is not an ``Exception``: it passes
    through uncounted, so ``tried`` is always refused + accepted + unexpected.
    """
    try:
        result = thunk()
    except (ClunealError, ValidationError) as exc:
        report.tried += 1
        report.per_target[target] += 1
        try:
            check_refusal(exc)
        except Exception as bad:
            _unexpected(report, target, f"bad refusal {type(bad).__name__}", bad)
            return
        report.refused += 1
        return
    except Exception as exc:
        report.tried += 1
        report.per_target[target] += 1
        _unexpected(report, target, type(exc).__name__, exc)
        return
    report.tried += 1
    report.per_target[target] += 1
    try:
        check_result(result)
    except _NonFiniteError as exc:
        report.non_finite_accepted += 1
        _unexpected(report, target, "accepted non-finite", exc)
        return
    except Exception as exc:
        _unexpected(report, target, f"unsound result {type(exc).__name__}", exc)
        return
    report.accepted += 1


def _unexpected(report: Report, target: str, kind: str, exc: BaseException) -> None:
    key = f"{target}: {kind}"
    report.unexpected[key] += 1
    if key not in report.examples:
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)[-12:]
        where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
        report.examples[key] = f"{cluneal.errors.show(str(exc))} at {where}"


# Targets -------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]


def _patient_or_hostile(draw: Draw) -> Any:
    return draw(st.one_of(valid_patients(), valid_patients(), patient_fields(), hostile()))


def _schedule(draw: Draw) -> Any:
    try:
        return cluneal.titration_schedule(draw(_DRUGS), draw(valid_patients()))
    except ClunealError:
        return None


def _plan(draw: Draw) -> cluneal.CarePlan:
    return cluneal.care_plan(draw(valid_patients()), draw(valid_findings()))


CASE_SCHEMA = case_json_schema()
_CASE_VALIDATOR = jsonschema.Draft202012Validator(CASE_SCHEMA)
_SCHEMA_DOCUMENTS = from_schema(CASE_SCHEMA).filter(_CASE_VALIDATOR.is_valid)


class SchemaDisagreementError(Exception):
    """The published schema and the model disagree on a document."""


def _case_from_schema(draw: Draw) -> object:
    """A document the published schema accepts must be accepted by the model."""
    document = draw(_SCHEMA_DOCUMENTS)
    try:
        return Case.model_validate(document)
    except ValidationError as exc:
        msg = f"schema accepts, model refuses: {cluneal.errors.problems(exc)[0]}"
        raise SchemaDisagreementError(msg) from None


def case_data() -> st.SearchStrategy[dict[str, object]]:
    """Case documents as mappings: a patient, and optionally findings, history, start date."""
    return st.fixed_dictionaries(
        {"patient": either(patient_fields())},
        optional={
            "findings": either(findings_data()),
            "history": either(history_data()),
            "start_date": either(st.sampled_from(["2026-03-02", "2999-12-31"])),
        },
    )


def _case_against_schema(draw: Draw) -> object:
    """A JSON document the model accepts must be accepted by the published schema."""
    document = draw(case_data())
    case = Case.model_validate(document)
    try:
        text = json.dumps(document, allow_nan=False)
    except (TypeError, ValueError):
        return case  # not a JSON document (a Pint quantity, a date): nothing to compare
    if not _CASE_VALIDATOR.is_valid(json.loads(text)):
        msg = f"model accepts, schema refuses: {cluneal.errors.show(document)}"
        raise SchemaDisagreementError(msg)
    return case


_RECORD: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "p1", "birthDate": "1950-06-01", "gender": "female"},
    {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "14682-9"}]},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {
            "value": 97,
            "unit": "µmol/L",
            "system": "http://unitsofmeasure.org",
            "code": "umol/L",
        },
    },
    {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"text": "sertraline"},
    },
]

_RESPONSE: dict[str, Any] = {
    "resourceType": "QuestionnaireResponse",
    "status": "completed",
    "item": [
        {
            "linkId": "pain",
            "item": [
                {"linkId": "pain.low-back-pain", "answer": [{"valueBoolean": True}]},
                {"linkId": "pain.deep-aching", "answer": [{"valueBoolean": True}]},
            ],
        }
    ],
}


def _replace(value: Any, path: tuple[object, ...], new: object) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _replace(v, rest, new) if k == head else v for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, rest, new) if i == head else v for i, v in enumerate(value)]
    return value  # an earlier change removed this place


def mutated(document: Any) -> st.SearchStrategy[Any]:
    """A valid FHIR document with one, two or three places replaced by hostile values."""
    places = json_places(document)

    def mutate(changes: list[tuple[int, object]]) -> Any:
        result = document
        for index, new in changes:
            result = _replace(result, places[index], new)
        return result

    change = st.tuples(st.integers(0, len(places) - 1), hostile())
    return st.one_of(st.just(document), st.lists(change, min_size=1, max_size=3).map(mutate))


def protocol_data() -> st.SearchStrategy[object]:
    """Local protocols as mappings, each field valid or hostile."""
    return st.fixed_dictionaries(
        {"name": either(st.just("st-elsewhere-pain")), "version": either(st.just("3"))},
        optional={
            "strengths": either(st.just({"gabapentin": ["300 mg"]})),
            "max_daily_dose": either(st.sampled_from([{"gabapentin": "1200 mg/day"}, {}])),
            "excluded_drugs": either(st.just(["tramadol"])),
            "first_line": either(st.just(["pregabalin", "nortriptyline"])),
            "block_threshold_percent": either(st.sampled_from([70, 50, 100])),
            "lasting_relief": either(st.sampled_from(["12 weeks", "6 months"])),
        },
    )


def _protocol_or_hostile(draw: Draw) -> Any:
    """A LocalProtocol when the drawn mapping is one, else the mapping or a hostile value."""
    data = draw(st.one_of(protocol_data(), hostile()))
    if draw(st.booleans()):
        try:
            return cluneal.LocalProtocol.model_validate(data)
        except (ClunealError, ValidationError):
            return data
    return data


def _knowledge(draw: Draw) -> Any:
    """The built-in knowledge base, one with a protocol applied, or a hostile value."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return None
    if choice == 1:
        return draw(hostile())
    try:
        protocol = cluneal.LocalProtocol.model_validate(draw(protocol_data()))
        return cluneal.knowledge_base().with_protocol(protocol)
    except (ClunealError, ValidationError):
        return None


TARGETS: dict[str, Callable[[Draw], object]] = {
    "Case from the published schema": _case_from_schema,
    "Case against the published schema": _case_against_schema,
    "Patient(**fields)": lambda d: cluneal.Patient(**d(patient_fields())),
    "Patient.model_validate": lambda d: cluneal.Patient.model_validate(
        d(st.one_of(patient_fields(), hostile()))
    ),
    "Findings.model_validate": lambda d: cluneal.Findings.model_validate(
        d(st.one_of(findings_data(), hostile()))
    ),
    "CareHistory.model_validate": lambda d: cluneal.CareHistory.model_validate(
        d(st.one_of(history_data(), hostile()))
    ),
    "Case.model_validate": lambda d: Case.model_validate(d(case_data())),
    "Case.model_validate_json": lambda d: Case.model_validate_json(
        d(
            st.one_of(
                st.binary(max_size=64),
                st.text(max_size=64),
                st.sampled_from(
                    [
                        '{"patient": {"age": 1e999, "sex": "male"}}',
                        '{"patient": {"age": NaN, "sex": "male"}}',
                        '{"patient": {"age": 70, "sex": "male\\ud800"}}',
                        '{"patient": {"age": 70, "sex": "male"}, "start_date": "9999-12-31"}',
                        "[" * 10_000 + "]" * 10_000,
                        '{"patient": ' * 3000 + "1" + "}" * 3000,
                        '{"patient": {"age": 70, "sex": "male", "medications": "warfarin"}}',
                    ]
                ),
            )
        )
    ),
    "titration_schedule": lambda d: cluneal.titration_schedule(
        d(either(_DRUGS)),
        _patient_or_hostile(d),
        d(either(st.sampled_from([None, "1800 mg/d", "300 mg/day", "1 g/d"]))),
        start_date=d(either(st.sampled_from([None, "2026-03-02", dt.date(2999, 12, 31)]))),
        protocol=d(either(st.sampled_from([None, "standard", "start_low"]))),
        weight_basis=d(either(st.sampled_from(["actual", "ideal", "adjusted"]))),
    ),
    "check_regimen": lambda d: cluneal.check_regimen(
        d(either(st.lists(_DRUGS, max_size=3))), _patient_or_hostile(d)
    ),
    "creatinine_clearance": lambda d: cluneal.creatinine_clearance(
        _patient_or_hostile(d), d(either(st.sampled_from(["actual", "ideal", "adjusted"])))
    ),
    "estimate_creatinine_clearance": lambda d: cluneal.estimate_creatinine_clearance(
        _patient_or_hostile(d), d(either(st.sampled_from(["actual", "ideal", "adjusted"])))
    ),
    "egfr": lambda d: cluneal.egfr(_patient_or_hostile(d)),
    "egfr_ckd_epi_2021": lambda d: cluneal.egfr_ckd_epi_2021(_patient_or_hostile(d)),
    "ideal_body_weight": lambda d: cluneal.ideal_body_weight(_patient_or_hostile(d)),
    "assess_renal_function": lambda d: cluneal.assess_renal_function(
        _patient_or_hostile(d), d(either(st.sampled_from(["actual", "ideal", "adjusted"])))
    ),
    "renal_band": lambda d: cluneal.renal_band(
        d(either(st.sampled_from(["30 mL/min", cluneal.Q_(45.0, "mL/min")])))
    ),
    "gfr_category": lambda d: cluneal.gfr_category(
        d(either(st.sampled_from(["30 mL/min/1.73m2", quantity_in(95.0, "mL/min/{1.73_m2}")])))
    ),
    "assess_diagnosis": lambda d: cluneal.assess_diagnosis(
        d(st.one_of(valid_findings(), findings_data(), hostile())),
        block_threshold=d(either(st.sampled_from([50, 70.0, 100]))),
    ),
    "next_step": lambda d: cluneal.next_step(
        d(st.one_of(valid_findings(), findings_data(), hostile())),
        d(either(history_data())),
        block_threshold=d(either(st.sampled_from([50, 80]))),
        lasting_relief=d(either(st.sampled_from(["12 weeks", "3 months"]))),
    ),
    "care_plan": lambda d: cluneal.care_plan(
        _patient_or_hostile(d),
        d(st.one_of(valid_findings(), findings_data(), hostile())),
        d(st.one_of(st.none(), history_data(), hostile())),
        start_date=d(either(st.sampled_from([None, "2026-03-02"]))),
        block_threshold=d(either(st.sampled_from([50, 80]))),
        lasting_relief=d(either(st.sampled_from(["12 weeks", "3 months"]))),
        weight_basis=d(either(st.sampled_from(["actual", "ideal", "adjusted"]))),
    ),
    "complementary_care": lambda d: cluneal.complementary_care(_patient_or_hostile(d)),
    "citation": lambda d: cluneal.citation(d(either(st.sampled_from(["beers_2023", "x"])))),
    "evidence_for": lambda d: cluneal.evidence_for(
        d(either(st.sampled_from([i.value for i in cluneal.Intervention])))
    ),
    "parse_procedure": lambda d: cluneal.parse_procedure(d(hostile())),
    "pathway_mermaid": lambda d: cluneal.pathway_mermaid(
        d(either(st.sampled_from([None, "maintain", cluneal.PathwayStep.MAINTAIN])))
    ),
    "pathway_dot": lambda d: cluneal.pathway_dot(
        d(either(st.sampled_from([None, "maintain", cluneal.PathwayStep.MAINTAIN])))
    ),
    "Patient.has": lambda d: d(valid_patients()).has(d(either(st.just("pregnancy")))),
    "Patient.medications_in": lambda d: d(valid_patients()).medications_in(
        d(either(st.just(cluneal.MedicationClass.OPIOID))),
        include_recent=d(either(st.booleans())),
    ),
    "TitrationSchedule.dose_on": lambda d: (
        None if (s := _schedule(d)) is None else s.dose_on(d(either(st.integers(0, 200))))
    ),
    "DiagnosticAssessment.criterion": lambda d: cluneal.assess_diagnosis(
        d(valid_findings())
    ).criterion(d(either(st.sampled_from(["pain_pattern", "tender_point", "block"])))),
    "fhir.medication_request": lambda d: cluneal.fhir.medication_request(
        d(st.one_of(st.builds(lambda: None), hostile())) if d(st.booleans()) else _schedule(d),
        **d(st.fixed_dictionaries({}, optional={"patient_reference": hostile()})),
    ),
    "fhir.detected_issue": lambda d: cluneal.fhir.detected_issue(
        d(st.sampled_from(cluneal.check_regimen(["tramadol"], {"age": 70, "sex": "male"})))
        if d(st.booleans())
        else d(hostile()),
        patient_reference=d(either(st.sampled_from([None, "Patient/1"]))),
        implicated=d(either(st.sampled_from([(), "Patient/1", ["MedicationRequest/2"]]))),
    ),
    "fhir.bundle": lambda d: cluneal.fhir.bundle(
        _plan(d) if d(st.booleans()) else d(hostile()),
        patient_reference=d(either(st.sampled_from([None, "Patient/1"]))),
    ),
    "str(CarePlan)": lambda d: str(_plan(d)),
    "LocalProtocol.model_validate": lambda d: cluneal.LocalProtocol.model_validate(
        d(st.one_of(protocol_data(), hostile()))
    ),
    "KnowledgeBase.with_protocol": lambda d: cluneal.knowledge_base().with_protocol(
        _protocol_or_hostile(d)
    ),
    "titration_schedule(knowledge=)": lambda d: cluneal.titration_schedule(
        d(either(_DRUGS)), d(valid_patients()), knowledge=_knowledge(d)
    ),
    "care_plan(knowledge=)": lambda d: cluneal.care_plan(
        d(valid_patients()), d(valid_findings()), knowledge=_knowledge(d)
    ),
    "pathway_svg": lambda d: cluneal.pathway_svg(
        d(either(st.sampled_from([None, "maintain", cluneal.PathwayStep.MAINTAIN])))
    ),
    "fhir.patient_from_fhir": lambda d: cluneal.fhir.patient_from_fhir(
        d(st.one_of(mutated(_RECORD), mutated({"resourceType": "Bundle", "entry": []}))),
        as_of=d(either(st.sampled_from([None, dt.date(2026, 11, 1), "2026-11-01"]))),
    ),
    "fhir.findings_from_fhir": lambda d: cluneal.fhir.findings_from_fhir(d(mutated(_RESPONSE))),
    "fhir.history_from_fhir": lambda d: cluneal.fhir.history_from_fhir(
        d(st.one_of(mutated([]), mutated(_RECORD)))
    ),
}


def run(examples: int, *, run_seed: int | None = None, only: str | None = None) -> Report:
    """Run ``examples`` calls spread over every target (or one), and return the counts."""
    report = Report()
    names = [n for n in TARGETS if only is None or only in n]
    per_target = max(1, examples // len(names))
    for name in names:
        _explore(report, name, TARGETS[name], per_target, run_seed)
    return report


def _explore(
    report: Report, name: str, target: Callable[[Draw], object], count: int, run_seed: int | None
) -> None:
    hostile_harness.explore(
        st.data(), lambda data: call(report, name, lambda: target(data.draw)), count, run_seed
    )


def main(argv: list[str] | None = None) -> int:
    """Run the harness from the command line; exit 1 when anything unexpected happened."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="total calls")
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed (default: derandomised)"
    )
    parser.add_argument("--only", default=None, help="run the targets whose name contains this")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    return run(args.examples, run_seed=args.seed, only=args.only).finish()


if __name__ == "__main__":
    sys.exit(main())
