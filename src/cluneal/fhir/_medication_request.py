"""A titration schedule as a FHIR R4 ``MedicationRequest`` (status draft, intent proposal)."""

from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from cluneal._checks import instance
from cluneal.drug import Drug
from cluneal.fhir._resource import (
    BASE_URL,
    EXT_PROTOCOL_SHA256,
    fhir_coding,
    fhir_number,
    fhir_quantity,
    subject_reference,
    with_content_id,
)
from cluneal.knowledge.codes import code_tables
from cluneal.plan import SAFETY_STATEMENT
from cluneal.titration import Timing, TitrationSchedule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.titration import TitrationStep

__all__ = ["RXNORM_INGREDIENTS", "RXNORM_SYSTEM", "TIMING_TEXT", "medication_request"]

RXNORM_SYSTEM: Final = code_tables().systems.rxnorm
"""The RxNorm code system."""

# RxNorm ingredient (TTY=IN) concepts, from the knowledge base (codes.toml).
# Ingredient level on purpose: a titration uses several strengths and forms, so
# no single clinical-drug code fits.
RXNORM_INGREDIENTS: Final[Mapping[Drug, str]] = MappingProxyType(
    {drug: code_tables().rxnorm_code(drug.value) or "" for drug in Drug}
)
"""RxNorm ingredient codes of the six drugs (RxCUI, term type IN)."""

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
"""How each dose timing reads in a dosage instruction's text."""

# FHIR EventTiming codes: HS = before the hour of sleep, MORN = during the morning.
_EVENT_TIMING: Final = MappingProxyType({Timing.BEDTIME: "HS", Timing.MORNING: "MORN"})
_EXT_ADJUSTMENT: Final = f"{BASE_URL}/StructureDefinition/adjustment"
_EXT_MAX_DOSE_RULE: Final = f"{BASE_URL}/StructureDefinition/max-daily-dose-rule"
_EXT_KB_VERSION: Final = f"{BASE_URL}/StructureDefinition/knowledge-base-version"


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
        repeat["boundsDuration"] = fhir_quantity(length, "d")
    if step.timing is Timing.EVERY_12_H:
        # "Every 12 h" is a fixed interval, not just n doses somewhere in the day.
        repeat.update(frequency=1, period=fhir_number(24 / step.doses_per_day), periodUnit="h")
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
        "doseAndRate": [{"doseQuantity": fhir_quantity(step.dose_mg, "mg")}],
        "maxDosePerPeriod": cap,
    }


def _medication(drug: Drug) -> dict[str, Any]:
    return {
        "coding": [fhir_coding(RXNORM_SYSTEM, RXNORM_INGREDIENTS[drug], drug.value)],
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
        extensions.append({"url": EXT_PROTOCOL_SHA256, "valueString": schedule.protocol_sha256})
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
        "numerator": fhir_quantity(schedule.max_daily_dose_mg, "mg"),
        "denominator": fhir_quantity(1, "d"),
    }
    steps = schedule.steps
    lengths: list[int | None] = [b.day - a.day for a, b in itertools.pairwise(steps)]
    lengths.append(None)
    return with_content_id(
        {
            "resourceType": "MedicationRequest",
            "extension": _adjustment_extensions(schedule),
            "status": "draft",
            "intent": "proposal",
            "medicationCodeableConcept": _medication(schedule.drug),
            "subject": subject_reference(patient_reference),
            "note": _schedule_notes(schedule),
            "dosageInstruction": [
                _dosage(i, step, length, cap)
                for i, (step, length) in enumerate(zip(steps, lengths, strict=True))
            ],
        }
    )
