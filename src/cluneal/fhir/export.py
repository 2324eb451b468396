"""FHIR R4 export: schedules, alerts, the pathway and care plans as FHIR JSON.

Every function here is pure: cluneal models in, plain ``dict`` JSON out, no
clock and no I/O. cluneal builds the JSON itself, so exporting needs no extra;
only :func:`validate` needs ``fhir.resources`` (``pip install "cluneal[fhir]"``),
imported when it is first called, and checks a resource against the R4B models
(R4B shares R4's resources; fhir.resources' default models are R5, which reject
R4 JSON).

Mapping (docs/fhir.md has the full table):

* a :class:`~cluneal.titration.TitrationSchedule` is a ``MedicationRequest``
  (status ``draft``, intent ``proposal``), one ``dosageInstruction`` per step;
* a :class:`~cluneal.alerts.SafetyAlert` is a ``DetectedIssue``
  (contraindicated and major → ``high``, moderate → ``moderate``, info → ``low``);
* the pathway (:func:`~cluneal.pathway.pathway_transitions`) is a ``PlanDefinition``;
* a :class:`~cluneal.care_plan.CarePlan` is a ``Bundle`` of type ``collection``
  holding a ``CarePlan``, its ``MedicationRequest`` and its ``DetectedIssue`` resources.

Ids are deterministic: each resource's ``id`` is a UUID version 5 of its own
canonical JSON, and a Bundle entry's ``fullUrl`` is ``urn:uuid:<id>``, so the
same input always exports byte-identical JSON and references can be checked.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.fhir import medication_request
    >>> mr = medication_request(titration_schedule("naltrexone", Patient(age=40, sex="female")))
    >>> mr["resourceType"], mr["status"], mr["intent"]
    ('MedicationRequest', 'draft', 'proposal')
"""

from __future__ import annotations

import itertools
import json
import uuid
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from cluneal import (
    KNOWLEDGE_BASE_VERSION,
    ClunealError,
    Drug,
    MissingExtraError,
    Severity,
    UnknownTermError,
    citation,
)
from cluneal._checks import collection, instance, text
from cluneal._format import citation_url
from cluneal.alerts import SafetyAlert
from cluneal.errors import InvalidArgumentError, show
from cluneal.knowledge.codes import code_tables
from cluneal.pathway import PathwayStep, pathway_transitions
from cluneal.plan import SAFETY_STATEMENT, CarePlan
from cluneal.titration import Timing, TitrationSchedule
from cluneal.units import UCUM_SYSTEM

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType

    from cluneal import (
        Citation,
        ComplementaryMeasure,
        TitrationStep,
    )
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.pathway import Transition

__all__ = [
    "BASE_URL",
    "PLAN_DEFINITION_URL",
    "RULE_SYSTEM",
    "RXNORM_INGREDIENTS",
    "RXNORM_SYSTEM",
    "SEVERITY_MAP",
    "TIMING_TEXT",
    "UCUM_SYSTEM",
    "bundle",
    "detected_issue",
    "medication_request",
    "plan_definition",
    "validate",
]

RXNORM_SYSTEM: Final = code_tables().systems.rxnorm
"""The RxNorm code system."""

BASE_URL: Final = "https://cluneal.readthedocs.io/fhir"
"""Base of cluneal's own identifiers: code systems for rule ids and pathway steps,
extension URLs and the pathway's canonical URL. They name cluneal concepts; no
StructureDefinition or CodeSystem resource is published at these addresses."""

PLAN_DEFINITION_URL: Final = f"{BASE_URL}/PlanDefinition/cluneal-pathway"
"""The canonical URL of the pathway's PlanDefinition (versioned by the knowledge base)."""

RULE_SYSTEM: Final = f"{BASE_URL}/CodeSystem/rule-id"
"""The code system of cluneal's rule ids (``code`` of a DetectedIssue, ``reason`` of an action)."""

# RxNorm ingredient (TTY=IN) concepts, from the knowledge base (codes.toml).
# Ingredient level on purpose: a titration uses several strengths and forms, so
# no single clinical-drug code fits.
RXNORM_INGREDIENTS: Final[Mapping[Drug, str]] = MappingProxyType(
    {drug: code_tables().rxnorm_code(drug.value) or "" for drug in Drug}
)
"""RxNorm ingredient codes of the six drugs (RxCUI, term type IN)."""

SEVERITY_MAP: Final[Mapping[Severity, str]] = MappingProxyType(
    {
        Severity.CONTRAINDICATED: "high",
        Severity.MAJOR: "high",
        Severity.MODERATE: "moderate",
        Severity.INFO: "low",
    }
)
"""cluneal severity → FHIR ``DetectedIssue.severity`` (high | moderate | low)."""

_STEP_SYSTEM: Final = f"{BASE_URL}/CodeSystem/pathway-step"
_COMPLEMENTARY_SYSTEM: Final = f"{BASE_URL}/CodeSystem/complementary-measure"
_EXT_ADJUSTMENT: Final = f"{BASE_URL}/StructureDefinition/adjustment"
_EXT_MAX_DOSE_RULE: Final = f"{BASE_URL}/StructureDefinition/max-daily-dose-rule"
_EXT_KB_VERSION: Final = f"{BASE_URL}/StructureDefinition/knowledge-base-version"
_EXT_PROTOCOL_SHA256: Final = f"{BASE_URL}/StructureDefinition/local-protocol-sha256"
_PLAN_DEFINITION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
# A fixed namespace makes the UUIDs reproducible across machines and releases.
_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, BASE_URL)
_NO_PATIENT: Final = "Patient (no reference supplied)"
_TREATMENT_STEPS: Final = frozenset(
    {
        PathwayStep.RADIOFREQUENCY_ABLATION,
        PathwayStep.PERIPHERAL_NERVE_STIMULATION,
        PathwayStep.SURGICAL_DECOMPRESSION,
    }
)
TIMING_TEXT: Final = MappingProxyType(
    {
        Timing.BEDTIME: "at bedtime",
        Timing.MORNING: "each morning",
        Timing.TWICE_DAILY: "twice daily",
        Timing.EVERY_12_H: "every 12 hours",
        Timing.THREE_TIMES_DAILY: "three times daily",
        Timing.FOUR_TIMES_DAILY: "four times daily",
    }
)
# FHIR EventTiming codes: HS = before the hour of sleep, MORN = during the morning.
_EVENT_TIMING: Final = MappingProxyType({Timing.BEDTIME: "HS", Timing.MORNING: "MORN"})
_SOURCE_TEXT: Final = MappingProxyType(
    {
        "any": "At any visit",
        "any_treatment": "After any treatment",
        "nerve_block": "After a repeat block",
    }
)

_Resource = dict[str, Any]


# --- small builders --------------------------------------------------------------


def _number(value: float) -> int | float:
    # Whole numbers as ints, so JSON reads 300 rather than 300.0.
    return int(value) if float(value).is_integer() else value


def _quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": code, "system": UCUM_SYSTEM, "code": code}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _subject(patient_reference: object) -> dict[str, str]:
    # Typed `object`: callers outside mypy may pass anything, and must get a ClunealError.
    if patient_reference is None:
        return {"display": _NO_PATIENT}
    reference = text(patient_reference, "patient_reference")
    if not reference.strip():
        expected = "a FHIR reference such as 'Patient/123', or None"
        raise InvalidArgumentError("patient_reference", patient_reference, expected)
    return {"reference": reference}


def _fhir_id(rule_id: str) -> str:
    # FHIR ids allow letters, digits, '-' and '.', at most 64 characters.
    return rule_id.replace("_", "-")[:64]


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _with_id(resource: _Resource) -> _Resource:
    """Return the resource with ``id`` first after ``resourceType``: a UUID5 of its content."""
    body = {k: v for k, v in resource.items() if k not in {"resourceType", "id"}}
    kind = resource["resourceType"]
    uid = uuid.uuid5(_NAMESPACE, f"{kind}:{_canonical(body)}")
    return {"resourceType": kind, "id": str(uid), **body}


def _urn(resource: _Resource) -> str:
    return f"urn:uuid:{resource['id']}"


def _lookup(citation_id: str) -> Citation | None:
    # An alert built by a caller may cite an id the registry does not know: the
    # export then shows the bare id rather than failing.
    try:
        return citation(citation_id)
    except UnknownTermError:
        return None


def _citation_text(citation_id: str) -> str:
    cited = _lookup(citation_id)
    if cited is None:
        return f"[{citation_id}] (not in the cluneal citation registry)"
    ident = f", {cited.identifier}" if cited.identifier else ""
    unverified = "" if cited.verified else " [unverified: general knowledge]"
    return f"[{cited.id}] {cited.title} ({cited.year}{ident}){unverified}"


def _citation_url(citation_id: str) -> str | None:
    # The same address the HTML links to: the source's own, or the package's
    # decision or reference entry in the published docs.
    return None if _lookup(citation_id) is None else citation_url(citation_id)


def _related_artifact(citation_id: str) -> dict[str, str]:
    artifact = {"type": "citation", "label": citation_id, "citation": _citation_text(citation_id)}
    url = _citation_url(citation_id)
    if url:
        artifact["url"] = url
    return artifact


# --- MedicationRequest ------------------------------------------------------------


def _step_text(step: TitrationStep, length: int | None) -> str:
    if length is None:
        when = f"From day {step.day}"
    elif length == 1:
        when = f"Day {step.day}"
    else:
        when = f"Days {step.day}-{step.day + length - 1}"
    if step.date is not None:
        when += f" (from {step.date.isoformat()})"
    text = (
        f"{when}: {step.dose_mg:g} mg ({step.composition}) {TIMING_TEXT[step.timing]}, "
        f"{step.daily_dose_mg:g} mg/day."
    )
    if length is None:
        text += " Continue at this dose until reviewed."
    return text


def _repeat(step: TitrationStep, length: int | None) -> dict[str, Any]:
    repeat: dict[str, Any] = {}
    if length is not None:
        repeat["boundsDuration"] = _quantity(length, "d")
    if step.timing is Timing.EVERY_12_H:
        # "Every 12 h" is a fixed interval, not just n doses somewhere in the day.
        repeat.update(frequency=1, period=_number(24 / step.doses_per_day), periodUnit="h")
    else:
        repeat.update(frequency=step.doses_per_day, period=1, periodUnit="d")
    event = _EVENT_TIMING.get(step.timing)
    if event is not None:
        repeat["when"] = [event]
    return repeat


def _dosage(
    index: int, step: TitrationStep, length: int | None, cap: dict[str, Any]
) -> dict[str, Any]:
    return {
        "sequence": index + 1,
        "text": _step_text(step, length),
        "timing": {"repeat": _repeat(step, length)},
        "route": {"text": "oral"},
        "doseAndRate": [{"doseQuantity": _quantity(step.dose_mg, "mg")}],
        "maxDosePerPeriod": cap,
    }


def _medication(drug: Drug) -> dict[str, Any]:
    return {
        "coding": [_coding(RXNORM_SYSTEM, RXNORM_INGREDIENTS[drug], drug.value)],
        "text": drug.value,
    }


def _schedule_notes(schedule: TitrationSchedule) -> list[dict[str, str]]:
    notes = [
        (
            f"Maximum daily dose {schedule.max_daily_dose_mg:g} mg/day "
            f"(rule {schedule.max_daily_dose_rule}); no step exceeds it."
        ),
        f"Protocol: {schedule.protocol.value.replace('_', ' ')}.",
    ]
    notes.extend(
        f"Adjustment [{a.rule_id}; {a.citation}]: {a.reason}" for a in schedule.adjustments
    )
    notes.extend(
        f"Supplemental instruction [{s.rule_id}; {s.citation}]: {s.text}"
        for s in schedule.supplemental_instructions
    )
    notes.extend(f"Monitoring: {m}" for m in schedule.monitoring)
    if schedule.alerts:
        listed = "; ".join(f"{a.severity.value} {a.rule_id}" for a in schedule.alerts)
        notes.append(f"Safety alerts (exported as DetectedIssue resources): {listed}.")
    notes.append(
        f"Proposed by cluneal, knowledge base {schedule.knowledge_base_version}. {SAFETY_STATEMENT}"
    )
    return [{"text": n} for n in notes]


def _adjustment_extensions(schedule: TitrationSchedule) -> list[dict[str, Any]]:
    extensions: list[dict[str, Any]] = [
        {"url": _EXT_MAX_DOSE_RULE, "valueCode": schedule.max_daily_dose_rule},
        {"url": _EXT_KB_VERSION, "valueString": schedule.knowledge_base_version},
    ]
    if schedule.protocol_sha256 is not None:
        extensions.append({"url": _EXT_PROTOCOL_SHA256, "valueString": schedule.protocol_sha256})
    extensions.extend(
        {
            "url": _EXT_ADJUSTMENT,
            "extension": [
                {"url": "ruleId", "valueCode": a.rule_id},
                {"url": "citation", "valueCode": a.citation},
                {"url": "reason", "valueString": a.reason},
                {"url": "verified", "valueBoolean": a.verified},
            ],
        }
        for a in schedule.adjustments
    )
    return extensions


def medication_request(
    schedule: TitrationSchedule, *, patient_reference: str | None = None
) -> dict[str, Any]:
    """Export a titration schedule as a FHIR R4 ``MedicationRequest``.

    Status ``draft`` and intent ``proposal``: cluneal proposes, a clinician
    decides. The drug is an RxNorm ingredient code with the name as text. Each
    step is one ``dosageInstruction``: ``sequence`` 1, 2, ... in order;
    ``timing.repeat.boundsDuration`` is the step's length in days (UCUM ``d``),
    up to the next step; the last step has no bounds, because it is the
    maintenance dose, continued until a clinician reviews it; ``frequency`` per
    ``period`` 1 ``d`` (every 12 h: 1 per 12 ``h``); the dose in UCUM ``mg``;
    and the cap as ``maxDosePerPeriod`` (mg per 1 d) on every step. Adjustments,
    the cap's rule and supplemental instructions are notes (with rule ids) and
    cluneal extensions. Alerts are separate ``DetectedIssue`` resources
    (:func:`detected_issue`); a note lists their rule ids.

    Args:
        schedule: The schedule.
        patient_reference: A FHIR reference to the patient (``"Patient/123"``);
            ``None`` leaves a display-only placeholder.

    Returns:
        The resource as JSON-ready dicts, with a deterministic ``id``.

    Raises:
        ClunealError: ``patient_reference`` is not a non-empty string.

    References:
        decision_dialysis_supplements_follow_maintenance

    Example:
        >>> from cluneal import Patient, titration_schedule
        >>> from cluneal.fhir import medication_request
        >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
        >>> mr = medication_request(s, patient_reference="Patient/123")
        >>> [d["sequence"] for d in mr["dosageInstruction"]]
        [1, 2, 3]
        >>> mr["dosageInstruction"][0]["timing"]["repeat"]["boundsDuration"]["value"]
        7
        >>> mr["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
        {'value': 1.5, 'unit': 'mg', 'system': 'http://unitsofmeasure.org', 'code': 'mg'}
        >>> mr["dosageInstruction"][0]["maxDosePerPeriod"]["numerator"]["value"]
        4.5
    """
    schedule = instance(schedule, TitrationSchedule, "schedule")
    cap = {
        "numerator": _quantity(schedule.max_daily_dose_mg, "mg"),
        "denominator": _quantity(1, "d"),
    }
    steps = schedule.steps
    lengths: list[int | None] = [b.day - a.day for a, b in itertools.pairwise(steps)]
    lengths.append(None)
    return _with_id(
        {
            "resourceType": "MedicationRequest",
            "extension": _adjustment_extensions(schedule),
            "status": "draft",
            "intent": "proposal",
            "medicationCodeableConcept": _medication(schedule.drug),
            "subject": _subject(patient_reference),
            "note": _schedule_notes(schedule),
            "dosageInstruction": [
                _dosage(i, step, length, cap)
                for i, (step, length) in enumerate(zip(steps, lengths, strict=True))
            ],
        }
    )


# --- DetectedIssue ----------------------------------------------------------------


def detected_issue(
    alert: SafetyAlert,
    *,
    patient_reference: str | None = None,
    implicated: Sequence[str] | str = (),
) -> dict[str, Any]:
    """Export a safety alert as a FHIR R4 ``DetectedIssue``.

    ``severity``: contraindicated and major → ``high``, moderate → ``moderate``,
    info → ``low`` (:data:`SEVERITY_MAP`). ``code`` carries the rule id (cluneal
    code system) and a text naming the drugs; ``detail`` is the message;
    ``mitigation[0].action.text`` the action, when the rule gives one;
    ``evidence`` and ``reference`` point to the citation (an id outside the
    registry is shown as it is). Status
    ``preliminary``: a clinician has not reviewed it yet.

    Args:
        alert: The alert.
        patient_reference: A FHIR reference to the patient, or ``None``.
        implicated: References to the resources the alert concerns
            (e.g. a MedicationRequest's ``urn:uuid:...``); one string is one
            reference, never a sequence of letters.

    Returns:
        The resource, with a deterministic ``id``.

    Raises:
        ClunealError: ``patient_reference`` is not a non-empty string.

    Example:
        >>> from cluneal import SafetyAlert
        >>> from cluneal.fhir import detected_issue
        >>> alert = SafetyAlert(severity="major", drugs=("tramadol", "sertraline"),
        ...                     message="Serotonin syndrome and seizure risk.",
        ...                     rule_id="interaction.tramadol.ssri_snri", citation="tramadol_label")
        >>> issue = detected_issue(alert)
        >>> issue["severity"], issue["code"]["coding"][0]["code"]
        ('high', 'interaction.tramadol.ssri_snri')
    """
    alert = instance(alert, SafetyAlert, "alert")
    references = (
        (implicated,) if isinstance(implicated, str) else collection(implicated, "implicated")
    )
    references = tuple(text(ref, "implicated") for ref in references)
    drugs = " + ".join(alert.drugs)
    issue: _Resource = {
        "resourceType": "DetectedIssue",
        "status": "preliminary",
        "code": {
            "coding": [_coding(RULE_SYSTEM, alert.rule_id)],
            "text": f"Safety alert: {drugs}" if drugs else "Safety alert",
        },
        "severity": SEVERITY_MAP[alert.severity],
        "patient": _subject(patient_reference),
    }
    if references:
        issue["implicated"] = [{"reference": ref} for ref in references]
    issue["evidence"] = [{"detail": [{"display": _citation_text(alert.citation)}]}]
    issue["detail"] = alert.message
    url = _citation_url(alert.citation)
    if url:
        issue["reference"] = url
    if alert.action:
        issue["mitigation"] = [{"action": {"text": alert.action}}]
    return _with_id(issue)


# --- PlanDefinition ---------------------------------------------------------------


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
        "id": _fhir_id(t.rule_id),
        "title": t.step.label,
        "description": t.rationale,
        "textEquivalent": text,
        "code": [
            {"coding": [_coding(_STEP_SYSTEM, t.step.value, t.step.label)], "text": t.step.label}
        ],
        "reason": [{"coding": [_coding(RULE_SYSTEM, t.rule_id)], "text": t.condition}],
        "documentation": [
            {"type": "justification", "display": f"Evidence: {t.evidence_level.label}"},
            *(
                _related_artifact(c)
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
            {"actionId": _fhir_id(o.rule_id), "relationship": "after"} for o in related
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
    extension = [] if sha256 is None else [{"url": _EXT_PROTOCOL_SHA256, "valueString": sha256}]
    return _with_id(
        {
            "resourceType": "PlanDefinition",
            **({"extension": extension} if extension else {}),
            "url": PLAN_DEFINITION_URL,
            "version": KNOWLEDGE_BASE_VERSION if knowledge is None else knowledge.version,
            "name": "ClunealNeuralgiaPathway",
            "title": "Cluneal neuralgia treatment pathway",
            "type": {
                "coding": [_coding(_PLAN_DEFINITION_TYPE, "clinical-protocol", "Clinical Protocol")]
            },
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


# --- CarePlan and Bundle ----------------------------------------------------------


def _measure_activity(measure: ComplementaryMeasure) -> dict[str, Any]:
    return {
        "detail": {
            "code": {
                "coding": [_coding(_COMPLEMENTARY_SYSTEM, measure.id, measure.name)],
                "text": measure.name,
            },
            "status": "not-started",
            "description": f"{measure.suggestion} Evidence: {measure.evidence_note}",
        }
    }


def _care_plan_notes(plan: CarePlan) -> list[dict[str, str]]:
    rec = plan.recommendation
    notes = [
        f"Recommendation: {rec.step.label}{' (urgent)' if rec.urgent else ''}. {rec.rationale}",
    ]
    if rec.alternative_options:
        notes.append(
            "Alternatives: " + "; ".join(a.description for a in rec.alternative_options) + "."
        )
    notes.extend(
        [
            f"Evidence: {rec.evidence_level.label}. {rec.evidence_note}",
            f"Diagnosis: {plan.assessment.classification.value}. {plan.assessment.next_action}",
            f"Medication: {plan.medication_rationale}",
            f"Rules applied: {', '.join(plan.trace)}.",
            f"Knowledge base {plan.knowledge_base_version}. {plan.safety_statement}",
        ]
    )
    return [{"text": n} for n in notes]


def bundle(plan: CarePlan, *, patient_reference: str | None = None) -> dict[str, Any]:
    """Export a care plan as a FHIR R4 ``Bundle`` of type ``collection``.

    Entries, in order: one ``CarePlan`` (status ``draft``, intent ``proposal``),
    one ``MedicationRequest`` per schedule (:func:`medication_request`) and one
    ``DetectedIssue`` per alert (:func:`detected_issue`). The CarePlan's
    activities are the recommended pathway step (``detail``), a reference to
    each MedicationRequest and the complementary measures; its
    ``supportingInfo`` references the DetectedIssues; its notes carry the
    rationale, alternatives, evidence, medication rationale, the rules applied
    and the safety statement. A DetectedIssue of a schedule's alert
    ``implicated`` its MedicationRequest. References are the entries'
    ``urn:uuid:`` full URLs of the entries, and all ids are deterministic.

    Args:
        plan: The care plan.
        patient_reference: A FHIR reference to the patient (``"Patient/123"``);
            ``None`` leaves a display-only placeholder.

    Returns:
        The Bundle.

    Raises:
        ClunealError: ``patient_reference`` is not a non-empty string.

    References:
        decision_dialysis_supplements_follow_maintenance

    Example:
        >>> from cluneal import Patient, care_plan
        >>> from cluneal.diagnosis import Findings
        >>> from cluneal.fhir import bundle
        >>> b = bundle(care_plan(Patient(age=40, sex="female"), Findings()))
        >>> b["type"], [e["resource"]["resourceType"] for e in b["entry"]][:2]
        ('collection', ['CarePlan', 'MedicationRequest'])
        >>> b == bundle(care_plan(Patient(age=40, sex="female"), Findings()))
        True
    """
    plan = instance(plan, CarePlan, "plan")
    subject = _subject(patient_reference)
    requests = [
        medication_request(s, patient_reference=patient_reference) for s in plan.medications
    ]
    issues = []
    for alert in plan.alerts:
        implicated = [
            _urn(mr)
            for mr, schedule in zip(requests, plan.medications, strict=True)
            if alert in schedule.alerts
        ]
        issues.append(
            detected_issue(alert, patient_reference=patient_reference, implicated=implicated)
        )
    rec = plan.recommendation
    step_activity = {
        "detail": {
            "code": {
                "coding": [_coding(_STEP_SYSTEM, rec.step.value, rec.step.label)],
                "text": rec.step.label,
            },
            "reasonCode": [
                {
                    "coding": [_coding(RULE_SYSTEM, rec.transition)],
                    "text": f"Pathway rule {rec.transition}",
                }
            ],
            "status": "not-started",
            "description": rec.rationale,
        }
    }
    care: _Resource = {
        "resourceType": "CarePlan",
        "instantiatesCanonical": [f"{PLAN_DEFINITION_URL}|{plan.knowledge_base_version}"],
        **(
            {}
            if plan.protocol_sha256 is None
            else {"extension": [{"url": _EXT_PROTOCOL_SHA256, "valueString": plan.protocol_sha256}]}
        ),
        "status": "draft",
        "intent": "proposal",
        "title": "Cluneal neuralgia care plan (proposal)",
        "description": (
            f"Next step: {rec.step.label}. Diagnosis: {plan.assessment.classification.value}. "
            f"{plan.safety_statement}"
        ),
        "subject": subject,
        "activity": [
            step_activity,
            *(
                {"reference": {"reference": _urn(mr), "display": f"{s.drug.value} titration"}}
                for mr, s in zip(requests, plan.medications, strict=True)
            ),
            *(_measure_activity(m) for m in plan.complementary),
        ],
        "note": _care_plan_notes(plan),
    }
    if issues:
        care["supportingInfo"] = [
            {"reference": _urn(i), "display": i["code"]["text"]} for i in issues
        ]
    resources = [_with_id(care), *requests, *issues]
    entries = list({_urn(r): {"fullUrl": _urn(r), "resource": r} for r in resources}.values())
    return _with_id({"resourceType": "Bundle", "type": "collection", "entry": entries})


# --- validation -------------------------------------------------------------------


def _r4b() -> ModuleType:
    try:
        from fhir.resources import R4B
    except ImportError as exc:
        raise MissingExtraError("fhir", "FHIR validation") from exc
    return R4B


def validate(resource: Mapping[str, Any]) -> None:
    """Validate a resource against fhir.resources' R4B models (needs ``cluneal[fhir]``).

    R4B carries R4's resource definitions; the package's default (R5) models
    would reject R4 JSON. A Bundle is validated with every entry.

    Args:
        resource: A resource as JSON (a mapping with ``resourceType``).

    Raises:
        MissingExtraError: fhir.resources is not installed.
        ClunealError: ``resourceType`` is missing or not an R4B resource.
        ValidationError: The resource does not conform (pydantic's error, a
            :class:`ValueError`, raised by fhir.resources).

    Example:
        >>> from cluneal import Patient, titration_schedule
        >>> from cluneal.fhir import medication_request, validate
        >>> s = titration_schedule("pregabalin", Patient(age=40, sex="male"))
        >>> validate(medication_request(s))
    """
    models = _r4b()
    kind = resource.get("resourceType")
    try:
        model = models.get_fhir_model_class(kind) if isinstance(kind, str) else None
    except ValueError:
        model = None
    if model is None:
        msg = f"resourceType: got {show(kind)}; expected the name of a FHIR R4B resource"
        raise ClunealError(msg)
    model.model_validate(dict(resource))
