"""Results built from already-validated values (``cluneal._base.trusted``) equal validated ones."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from pydantic import BaseModel

from cluneal import Patient, care_plan
from cluneal._base import trusted, trusted_update
from cluneal.alerts import SafetyAlert, Severity
from cluneal.diagnosis import (
    Criterion,
    DiagnosticAssessment,
    Findings,
    RedFlag,
    assess_diagnosis,
)
from cluneal.pathway import Alternative, CareHistory, Recommendation, next_step
from cluneal.plan import CarePlan
from tests.property.strategies_findings import block_thresholds, findings
from tests.property.strategies_history import care_histories


def test_a_trusted_model_equals_the_validated_one_field_for_field() -> None:
    """Same fields, same order (the repr), same JSON, same hash; defaults filled in."""
    fields = {"severity": Severity.MAJOR, "message": "m", "rule_id": "r", "citation": "c"}
    built = trusted(SafetyAlert, **fields)
    checked = SafetyAlert(**fields)
    assert built == checked
    assert repr(built) == repr(checked)
    assert built.model_dump_json() == checked.model_dump_json()
    assert hash(built) == hash(checked)
    assert built.drugs == ()
    assert built.action is None


def test_a_missing_or_unknown_field_is_refused() -> None:
    """An engine bug surfaces as an error, never as a half-built result."""
    with pytest.raises(TypeError, match=r"missing \['citation', 'rule_id'\]"):
        trusted(SafetyAlert, severity=Severity.INFO, message="m")
    with pytest.raises(TypeError, match=r"unknown fields \['colour'\]"):
        trusted(
            SafetyAlert, severity=Severity.INFO, message="m", rule_id="r", citation="c", colour=1
        )


def test_an_updated_copy_equals_the_validated_model_and_leaves_the_original() -> None:
    """trusted_update: the changed fields, the others shared, the fields set counted; no typo."""
    original = trusted(SafetyAlert, severity=Severity.MAJOR, message="m", rule_id="r", citation="c")
    copy = trusted_update(original, message="n", action="a")
    checked = SafetyAlert(severity="major", message="n", rule_id="r", citation="c", action="a")
    assert copy == checked
    assert copy.model_dump_json() == checked.model_dump_json()
    assert copy.model_fields_set == checked.model_fields_set
    assert original.message == "m"
    assert original.action is None
    with pytest.raises(TypeError, match=r"unknown fields \['colour'\]"):
        trusted_update(original, colour=1)


def test_a_care_plan_validates_again_to_itself() -> None:
    """A plan built from trusted values passes its own model's validation unchanged."""
    plan = care_plan(
        Patient(age=70, sex="female", weight="60 kg", serum_creatinine="1.1 mg/dL"), Findings()
    )
    assert CarePlan.model_validate_json(plan.model_dump_json()) == plan


@settings(max_examples=80, deadline=None)
@given(f=findings(), h=care_histories(), threshold=block_thresholds())
def test_a_trusted_recommendation_and_assessment_equal_validated_ones(
    f: Findings, h: CareHistory, threshold: float
) -> None:
    """next_step and assess_diagnosis build their results unvalidated: the same as validated.

    Rebuilding each result (and its nested criteria, red flags and alternatives)
    through the models' own validation from its field values gives an equal
    model with the same types all the way down, so no field holds a value of another type.
    """
    rec = next_step(f, h, block_threshold=threshold)
    again = Recommendation(
        **{
            **dict(rec),
            "assessment": _revalidated(rec.assessment),
            "alternative_options": tuple(Alternative(**dict(a)) for a in rec.alternative_options),
        }
    )
    assert again == rec
    assert _shape(again) == _shape(rec)
    assessment = assess_diagnosis(f, block_threshold=threshold)
    assert _revalidated(assessment) == assessment
    assert _shape(_revalidated(assessment)) == _shape(assessment)


def _shape(value: object) -> object:
    """Each value with its type, all the way down; a set's members in a fixed order.

    Not ``repr``: a frozenset's repr lists its members in the order of their
    hashes, which change with ``PYTHONHASHSEED``.
    """
    if isinstance(value, BaseModel):
        return type(value).__name__, tuple((k, _shape(v)) for k, v in dict(value).items())
    if isinstance(value, frozenset | set):
        return type(value).__name__, tuple(sorted(repr(_shape(v)) for v in value))
    if isinstance(value, tuple | list):
        return type(value).__name__, tuple(_shape(v) for v in value)
    return type(value).__name__, repr(value)


def _revalidated(a: DiagnosticAssessment) -> DiagnosticAssessment:
    return DiagnosticAssessment(
        **{
            **dict(a),
            "criteria": tuple(Criterion(**dict(c)) for c in a.criteria),
            "red_flags": tuple(RedFlag(**dict(r)) for r in a.red_flags),
        }
    )
