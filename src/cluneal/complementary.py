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

from typing import TYPE_CHECKING

from cluneal._base import coerce_model, trusted
from cluneal.alerts import SafetyAlert, sort_alerts
from cluneal.knowledge.base import resolved
from cluneal.knowledge.complementary import ComplementaryMeasure, ComplementaryTable
from cluneal.knowledge.criteria import facts_for
from cluneal.patient import Patient

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.criteria import PatientFacts

__all__ = ["ComplementaryMeasure", "complementary_care", "complementary_measures"]


def complementary_measures(
    *, knowledge: KnowledgeBase | None = None
) -> tuple[ComplementaryMeasure, ...]:
    """Return every complementary measure of the knowledge base.

    Args:
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The measures, in knowledge-base order.

    Example:
        >>> len(complementary_measures())
        6
    """
    kb = resolved(knowledge)
    return kb.complementary.measures


def complementary_care(
    patient: Patient,
    *,
    knowledge: KnowledgeBase | None = None,
) -> tuple[tuple[ComplementaryMeasure, ...], tuple[SafetyAlert, ...]]:
    """Complementary measures for a patient, with the alerts they raise.

    Co-medications are classified by the catalogue of ``knowledge``.

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
    kb = resolved(knowledge)
    patient = coerce_model(patient, Patient, "patient")
    return care_for(facts_for(patient, kb), kb.complementary)


def care_for(
    facts: PatientFacts, table: ComplementaryTable
) -> tuple[tuple[ComplementaryMeasure, ...], tuple[SafetyAlert, ...]]:
    """The measures and their alerts for a patient's facts (the care plan's entry point).

    Args:
        facts: The patient's facts, in the knowledge base of ``table``.
        table: The complementary table.

    Returns:
        The measures and the alerts, most serious first.

    Example:
        >>> from cluneal import Patient, knowledge_base
        >>> from cluneal.knowledge.criteria import facts_for
        >>> kb = knowledge_base()
        >>> p = Patient(age=60, sex="male", medications=["warfarin"])
        >>> care_for(facts_for(p, kb), kb.complementary) == complementary_care(p)
        True
    """
    alerts = []
    current = facts.medications
    for rule in table.interactions:
        wanted = frozenset(rule.medication_classes)
        matching = sorted(m for m in current if not wanted.isdisjoint(facts.classes_of(m)))
        if matching:
            alerts.append(
                trusted(
                    SafetyAlert,
                    severity=rule.severity,
                    drugs=(rule.measure.replace("_", "-"), *matching),
                    message=rule.message,
                    rule_id=rule.rule_id,
                    citation=rule.citation,
                    action=rule.action,
                )
            )
    return table.measures, sort_alerts(alerts)
