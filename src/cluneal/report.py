"""Plain-text renderings of results, for terminals, logs and ``print()``.

Each function returns text a clinician can read line by line: every figure
with its unit, every adjustment and alert with its rule id and citation.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> text = format_schedule(titration_schedule("gabapentin", Patient(
    ...     age=40, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")))
    >>> text.splitlines()[0]
    'Gabapentin titration (standard protocol)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cluneal.alerts import SafetyAlert
    from cluneal.diagnosis import DiagnosticAssessment
    from cluneal.plan import CarePlan
    from cluneal.titration import TitrationSchedule

__all__ = ["format_alerts", "format_assessment", "format_plan", "format_schedule"]

_MET = {True: "met", False: "not met", None: "unknown"}


def _mg(value: float) -> str:
    return f"{value:g} mg"


def format_alerts(alerts: tuple[SafetyAlert, ...], indent: str = "  ") -> str:
    """Render alerts, most serious first, one per line.

    Args:
        alerts: The alerts.
        indent: Prefix of every line.

    Returns:
        The text ("none" when there are no alerts).
    """
    if not alerts:
        return f"{indent}none"
    return "\n".join(f"{indent}- {alert}" for alert in alerts)


def format_schedule(schedule: TitrationSchedule) -> str:
    """Render a titration schedule as an auditable table.

    Args:
        schedule: The schedule.

    Returns:
        The text.
    """
    s = schedule
    lines = [
        f"{s.drug.value.capitalize()} titration ({s.protocol.value.replace('_', ' ')} protocol)",
        f"  Maximum daily dose: {s.max_daily_dose_mg:g} mg/day [{s.max_daily_dose_rule}]",
        f"  Renal: {s.renal.band.value} band"
        + (f", CrCl {s.renal.crcl_ml_min:.1f} mL/min" if s.renal.crcl_ml_min is not None else "")
        + ("" if s.renal.known else " (renal function unknown: most restrictive band)"),
        "  Steps:",
    ]
    for step in s.steps:
        when = f"day {step.day:>3}" + (f" ({step.date.isoformat()})" if step.date else "")
        lines.append(
            f"    {when}: {_mg(step.dose_mg)} x {step.doses_per_day} ({step.timing.value})"
            f" = {step.daily_dose_mg:g} mg/day; {step.composition}"
        )
    if s.supplemental_instructions:
        lines.append("  Separate instructions:")
        lines.extend(
            f"    - {i.text} [{i.rule_id}; {i.citation}]" for i in s.supplemental_instructions
        )
    if s.adjustments:
        lines.append("  Adjustments:")
        lines.extend(f"    - {a.reason} [{a.rule_id}; {a.citation}]" for a in s.adjustments)
    lines.append("  Alerts:")
    lines.append(format_alerts(s.alerts, indent="    "))
    return "\n".join(lines)


def format_assessment(assessment: DiagnosticAssessment) -> str:
    """Render a diagnostic assessment: criteria, class, branches, red flags, next action.

    Args:
        assessment: The assessment.

    Returns:
        The text.
    """
    a = assessment
    lines = [f"Diagnosis: {a.classification.value.upper()}"]
    lines.extend(f"  {c.number}. {c.name}: {_MET[c.met]} ({c.reason})" for c in a.criteria)
    branches = ", ".join(sorted(b.value for b in a.branches)) or "not determined"
    lines.append(f"  Branches: {branches}")
    lines.extend(
        f"  RED FLAG{' (URGENT)' if flag.urgent else ''}: {flag.name} -> {flag.points_to}"
        for flag in a.red_flags
    )
    lines.append(f"  Next action: {a.next_action}")
    return "\n".join(lines)


def format_plan(plan: CarePlan) -> str:
    """Render a whole care plan.

    Args:
        plan: The plan.

    Returns:
        The text, starting with the safety statement.
    """
    p = plan.patient
    lines = [
        plan.safety_statement,
        f"Knowledge base {plan.knowledge_base_version}",
        "",
        f"Patient: {p.age_years:g}-year-old {p.sex.value}",
        "",
        format_assessment(plan.assessment),
        "",
        str(plan.recommendation),
        "",
        "Pharmacotherapy:",
        f"  {plan.medication_rationale}",
    ]
    for schedule in plan.medications:
        lines.extend(["", format_schedule(schedule)])
    lines.extend(["", "Complementary care (general wellness, no cluneal-specific evidence):"])
    lines.extend(f"  - {m}" for m in plan.complementary)
    lines.extend(["", "All alerts:", format_alerts(plan.alerts)])
    lines.extend(["", f"Rules applied: {', '.join(plan.trace)}"])
    return "\n".join(lines)
