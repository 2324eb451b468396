"""The treatment pathway as a FHIR R4 ``PlanDefinition`` (status draft: expert opinion)."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from cluneal.fhir._citations import related_artifact
from cluneal.fhir._resource import (
    BASE_URL,
    EXT_PROTOCOL_SHA256,
    RULE_SYSTEM,
    STEP_SYSTEM,
    fhir_coding,
    rule_fhir_id,
    with_content_id,
)
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.pathway import PathwayStep, pathway_transitions
from cluneal.plan import SAFETY_STATEMENT

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.pathway import Transition

__all__ = ["PLAN_DEFINITION_URL", "plan_definition"]

PLAN_DEFINITION_URL: Final = f"{BASE_URL}/PlanDefinition/cluneal-pathway"
"""The canonical URL of the pathway's PlanDefinition (versioned by the knowledge base)."""

_PD_TYPE: Final = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
_PROTOCOL: Final = "Clinical Protocol"
_TREATMENT_STEPS: Final = frozenset(
    {
        PathwayStep.RADIOFREQUENCY_ABLATION,
        PathwayStep.PERIPHERAL_NERVE_STIMULATION,
        PathwayStep.SURGICAL_DECOMPRESSION,
    }
)
_SOURCE_TEXT: Final = MappingProxyType(
    {
        "any": "At any visit",
        "any_treatment": "After any treatment",
        "nerve_block": "After a repeat block",
    }
)


def _offers_block(t: Transition) -> bool:
    return any(a.step is PathwayStep.DIAGNOSTIC_BLOCK for a in t.alternatives)


def _predecessors(t: Transition, transitions: Sequence[Transition]) -> list[Transition]:
    """Actions this one follows: those that lead to its source."""
    others = [o for o in transitions if o.rule_id != t.rule_id]
    if t.source in PathwayStep.__members__.values():
        return [o for o in others if o.step.value == t.source]
    if t.source == "nerve_block":
        # A repeat block follows any action that offers a block as an alternative.
        return [o for o in others if _offers_block(o)]
    if t.source == "any_treatment":
        return [o for o in others if o.step in _TREATMENT_STEPS or _offers_block(o)]
    return []  # "any": applies at every visit


def _action(t: Transition, transitions: Sequence[Transition]) -> dict[str, Any]:
    if t.source in PathwayStep.__members__.values():
        source = f"After {PathwayStep(t.source).label.lower()}"
    else:
        source = _SOURCE_TEXT.get(t.source, f"From {t.source}")
    text = f"{source}, when {t.condition}: {t.step.label.lower()}{' (urgent)' if t.urgent else ''}."
    if t.alternatives:
        text += " Alternatives: " + "; ".join(a.text for a in t.alternatives) + "."
    text += f" Evidence: {t.evidence_level.label}."
    action: dict[str, Any] = {
        "id": rule_fhir_id(t.rule_id),
        "title": t.step.label,
        "description": t.rationale,
        "textEquivalent": text,
        "code": [
            {"coding": [fhir_coding(STEP_SYSTEM, t.step.value, t.step.label)], "text": t.step.label}
        ],
        "reason": [{"coding": [fhir_coding(RULE_SYSTEM, t.rule_id)], "text": t.condition}],
        "documentation": [
            {"type": "justification", "display": f"Evidence: {t.evidence_level.label}"},
            *(
                related_artifact(c)
                for c in dict.fromkeys(
                    [*t.citations, *(c for a in t.alternatives for c in a.citations)]
                )
            ),
        ],
    }
    if t.urgent:
        action["priority"] = "urgent"
    related = _predecessors(t, transitions)
    if related:
        action["relatedAction"] = [
            {"actionId": rule_fhir_id(o.rule_id), "relationship": "after"} for o in related
        ]
    return action


def _protocol_description(knowledge: KnowledgeBase | None) -> str:
    protocol = None if knowledge is None else knowledge.protocol
    if knowledge is None or protocol is None:
        return ""
    params = knowledge.pathway.parameters
    threshold = knowledge.diagnosis.default_block_threshold_percent
    return (
        f" Local protocol {protocol.label} ({protocol.sha256}): a block is positive from "
        f"{threshold:g}% relief, and relief is lasting from {params.lasting_relief_weeks:g} weeks."
    )


def plan_definition(
    transitions: Sequence[Transition] | None = None, *, knowledge: KnowledgeBase | None = None
) -> dict[str, Any]:
    """Export the treatment pathway as a FHIR R4 ``PlanDefinition``.

    One action per transition: ``id`` from the rule id (``_`` becomes ``-``),
    ``title`` the step, ``description`` the rationale, ``textEquivalent`` the
    condition, the alternatives and the evidence level, ``code`` the step,
    ``reason`` the rule id and condition, ``documentation`` the evidence level
    and the citations, and ``relatedAction`` (``after``) pointing to the actions
    that lead to where it starts. Status ``draft``: the ladder is expert
    opinion built on case series.

    Args:
        transitions: The transitions; ``None`` for the pathway of ``knowledge``.
        knowledge: The knowledge base (``None``: the built-in one). Under a local
            protocol, ``version`` is the knowledge base version that names the
            protocol (``"2026.12.0+clinic@3"``), the description states the
            protocol's thresholds, and an extension carries its sha256.

    Returns:
        The resource, with a deterministic ``id``.

    References:
        decision_pathway_next_step, isu_2018, kuniya_2014, gill_2022

    Example:
        >>> from cluneal.fhir import plan_definition
        >>> pd = plan_definition()
        >>> pd["status"], pd["action"][0]["id"], pd["action"][0]["priority"]
        ('draft', 'pathway.urgent-red-flag', 'urgent')
    """
    if transitions is not None:
        chosen = tuple(transitions)
    else:
        chosen = pathway_transitions() if knowledge is None else knowledge.pathway.transitions
    sha256 = None if knowledge is None else knowledge.protocol_sha256
    extension = [] if sha256 is None else [{"url": EXT_PROTOCOL_SHA256, "valueString": sha256}]
    return with_content_id(
        {
            "resourceType": "PlanDefinition",
            **({"extension": extension} if extension else {}),
            "url": PLAN_DEFINITION_URL,
            "version": KNOWLEDGE_BASE_VERSION if knowledge is None else knowledge.version,
            "name": "ClunealNeuralgiaPathway",
            "title": "Cluneal neuralgia treatment pathway",
            "type": {"coding": [fhir_coding(_PD_TYPE, "clinical-protocol", _PROTOCOL)]},
            "status": "draft",
            "description": (
                "The next step of cluneal neuralgia care (decision_pathway_next_step): block, "
                "radiofrequency ablation, peripheral nerve stimulation, surgical "
                "decompression. No guideline-level algorithm exists: the ladder is expert "
                f"opinion built on case series.{_protocol_description(knowledge)} "
                f"{SAFETY_STATEMENT}"
            ),
            "action": [_action(t, chosen) for t in chosen],
        }
    )
