"""Results built from already-validated values (``cluneal._base.trusted``) equal validated ones."""

from __future__ import annotations

import pytest

from cluneal import Patient, care_plan
from cluneal._base import trusted
from cluneal.alerts import SafetyAlert, Severity
from cluneal.diagnosis import Findings
from cluneal.plan import CarePlan


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


def test_a_care_plan_validates_again_to_itself() -> None:
    """A plan built from trusted values passes its own model's validation unchanged."""
    plan = care_plan(
        Patient(age=70, sex="female", weight="60 kg", serum_creatinine="1.1 mg/dL"), Findings()
    )
    assert CarePlan.model_validate_json(plan.model_dump_json()) == plan
