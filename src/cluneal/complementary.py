"""Complementary care: general wellness suggestions, honestly labelled.

None of these measures has evidence specific to cluneal neuralgia
(``complementary_general``); each carries that label. The one interaction the knowledge base knows
(omega-3 with an anticoagulant or antiplatelet) becomes a moderate alert.

Example:
    >>> from cluneal import Patient
    >>> measures, alerts = complementary_care(Patient(age=60, sex="male", medications=["warfarin"]))
    >>> [m.id for m in measures][:2]
    ['aerobic_exercise', 'heat_cold']
    >>> alerts[0].severity.value, alerts[0].rule_id
    ('moderate', 'complementary.omega_3.bleeding')
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationError

from cluneal._base import FrozenModel, coerce_model
from cluneal._checks import knowledge_argument
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.errors import KnowledgeBaseError
from cluneal.evidence import EvidenceLevel
from cluneal.knowledge import read_toml
from cluneal.patient import MedicationClass, Patient

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase

__all__ = ["ComplementaryMeasure", "complementary_care", "complementary_measures"]


class ComplementaryMeasure(FrozenModel):
    """One complementary measure, with its real evidence.

    Attributes:
        id: Stable id.
        rule_id: The knowledge-base rule.
        name: Its name.
        suggestion: What is suggested, as the source phrases it.
        evidence_level: Always "no evidence specific to cluneal neuralgia" today.
        evidence_note: What evidence there is, in words.
        citations: Citation ids.
    """

    id: str
    rule_id: str
    name: str
    suggestion: str
    evidence_level: EvidenceLevel
    evidence_note: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]

    def __str__(self) -> str:
        return f"{self.name}: {self.suggestion} ({self.evidence_level.label})"


class _Interaction(FrozenModel):
    rule_id: str
    measure: str
    medication_classes: tuple[MedicationClass, ...]
    severity: Severity
    message: str
    action: str
    citation: str


class _Table(FrozenModel):
    measures: tuple[ComplementaryMeasure, ...]
    interactions: tuple[_Interaction, ...]


@cache
def _table() -> _Table:
    return _parse_table(read_toml("complementary.toml"))


def _parse_table(raw: Mapping[str, Any]) -> _Table:
    try:
        table = _Table(measures=raw["measure"], interactions=raw["interaction"])
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError("complementary.toml", str(exc)) from exc
    ids = {m.id for m in table.measures}
    if any(i.measure not in ids for i in table.interactions):
        raise KnowledgeBaseError("complementary.toml", "an interaction names an unknown measure")
    return table


def complementary_measures() -> tuple[ComplementaryMeasure, ...]:
    """Return every complementary measure of the knowledge base.

    Returns:
        The measures, in knowledge-base order.

    Example:
        >>> len(complementary_measures())
        6
    """
    return _table().measures


def complementary_care(
    patient: Patient,
    *,
    knowledge: KnowledgeBase | None = None,
) -> tuple[tuple[ComplementaryMeasure, ...], tuple[SafetyAlert, ...]]:
    """Complementary measures for a patient, with the alerts they raise.

    Args:
        patient: The patient (co-medication decides the alerts).
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The measures and the alerts, most serious first.

    References:
        complementary_general, droracle_2025

    Example:
        >>> from cluneal import Patient
        >>> complementary_care(Patient(age=40, sex="female"))[1]
        ()
    """
    knowledge = knowledge_argument(knowledge)
    patient = coerce_model(patient, Patient, "patient")
    table = _table() if knowledge is None else knowledge.complementary
    alerts = []
    for rule in table.interactions:
        matching = sorted(
            {m for cls in rule.medication_classes for m in patient.medications_in(cls)}
        )
        if matching:
            alerts.append(
                SafetyAlert(
                    severity=rule.severity,
                    drugs=(rule.measure.replace("_", "-"), *matching),
                    message=rule.message,
                    rule_id=rule.rule_id,
                    citation=rule.citation,
                    action=rule.action,
                )
            )
    return table.measures, sort_alerts(alerts)
