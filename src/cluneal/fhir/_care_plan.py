"""A care plan as a FHIR R4 ``Bundle`` of its CarePlan, MedicationRequests and DetectedIssues."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal._checks import instance
from cluneal.fhir._detected_issue import detected_issue
from cluneal.fhir._medication_request import medication_request
from cluneal.fhir._plan_definition import PLAN_DEFINITION_URL
from cluneal.fhir._resource import (
    BASE_URL,
    EXT_PROTOCOL_SHA256,
    RULE_SYSTEM,
    STEP_SYSTEM,
    fhir_coding,
    subject_reference,
    urn_of,
    with_content_id,
)
from cluneal.plan import CarePlan

if TYPE_CHECKING:
    from cluneal.complementary import ComplementaryMeasure

__all__ = ["bundle"]

_COMPLEMENTARY_SYSTEM: Final = f"{BASE_URL}/CodeSystem/complementary-measure"

_Resource = dict[str, Any]


def _measure_activity(measure: ComplementaryMeasure) -> dict[str, Any]:
    return {
        "detail": {
            "code": {
                "coding": [fhir_coding(_COMPLEMENTARY_SYSTEM, measure.id, measure.name)],
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
    subject = subject_reference(patient_reference)
    requests = [
        medication_request(s, patient_reference=patient_reference) for s in plan.medications
    ]
    issues = []
    for alert in plan.alerts:
        implicated = [
            urn_of(mr)
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
                "coding": [fhir_coding(STEP_SYSTEM, rec.step.value, rec.step.label)],
                "text": rec.step.label,
            },
            "reasonCode": [
                {
                    "coding": [fhir_coding(RULE_SYSTEM, rec.transition)],
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
            else {"extension": [{"url": EXT_PROTOCOL_SHA256, "valueString": plan.protocol_sha256}]}
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
                {"reference": {"reference": urn_of(mr), "display": f"{s.drug.value} titration"}}
                for mr, s in zip(requests, plan.medications, strict=True)
            ),
            *(_measure_activity(m) for m in plan.complementary),
        ],
        "note": _care_plan_notes(plan),
    }
    if issues:
        care["supportingInfo"] = [
            {"reference": urn_of(i), "display": i["code"]["text"]} for i in issues
        ]
    resources = [with_content_id(care), *requests, *issues]
    entries = list({urn_of(r): {"fullUrl": urn_of(r), "resource": r} for r in resources}.values())
    return with_content_id({"resourceType": "Bundle", "type": "collection", "entry": entries})
