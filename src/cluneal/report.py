"""Plain-text renderings of results, for terminals, logs and ``print()``.

Each function returns text a clinician can read line by line, laid out like a
calculator: the inputs with their units, the formula, the result at clinical
precision ("14.9 mg/day", "34.8 mL/min"), its interpretation, and the
evidence. Every adjustment and alert carries its rule id and citation id; each
alert appears once, with an action line; the evidence section gives each
citation's title and the address where it can be read.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> text = format_schedule(titration_schedule("gabapentin", Patient(
    ...     age=40, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")))
    >>> text.splitlines()[0]
    'Gabapentin titration (standard protocol)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal._format import (
    CRCL_FORMULA,
    DECISION_PREFIX,
    EGFR_FORMULA,
    NO_ACTION,
    citation_label,
    citation_url,
    clinical_number,
    group_adjustments,
    mg,
    mg_per_day,
    plan_citations,
    renal_inputs,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from cluneal.alerts import SafetyAlert
    from cluneal.diagnosis import DiagnosticAssessment
    from cluneal.pathway import Recommendation
    from cluneal.patient import Patient
    from cluneal.plan import CarePlan
    from cluneal.renal import RenalAssessment
    from cluneal.titration import TitrationSchedule

__all__ = [
    "format_alerts",
    "format_assessment",
    "format_evidence",
    "format_plan",
    "format_recommendation",
    "format_renal",
    "format_schedule",
    "render",
]

_MET: Final = {True: "met", False: "not met", None: "unknown"}


def format_alerts(alerts: tuple[SafetyAlert, ...], indent: str = "  ") -> str:
    """Render alerts, most serious first: each once, with its action line.

    Args:
        alerts: The alerts.
        indent: Prefix of every line.

    Returns:
        The text ("none" when there are no alerts).

    Example:
        >>> from cluneal import SafetyAlert
        >>> alert = SafetyAlert(severity="major", drugs=("tramadol",), message="Seizure risk.",
        ...                     rule_id="r.x", citation="tramadol_label", action="Avoid.")
        >>> print(format_alerts((alert,)))
          - MAJOR (tramadol): Seizure risk. [r.x; tramadol_label]
            Action: Avoid.
    """
    if not alerts:
        return f"{indent}none"
    lines = []
    for alert in dict.fromkeys(alerts):
        lines.append(f"{indent}- {alert}")
        lines.append(f"{indent}  Action: {alert.action or NO_ACTION}")
    return "\n".join(lines)


def format_evidence(citation_ids: Iterable[str], indent: str = "  ") -> str:
    """Render citations once each: id, title and where to read it.

    Args:
        citation_ids: Citation ids, repeats allowed.
        indent: Prefix of every line.

    Returns:
        The text ("none" when there are none).

    Example:
        >>> print(format_evidence(["inker_2021"]))  # doctest: +ELLIPSIS
          - inker_2021: Inker LA, et al. ... <https://doi.org/10.1056/NEJMoa2102953>
    """
    unique = list(dict.fromkeys(citation_ids))
    if not unique:
        return f"{indent}none"
    # The package's own decisions first, apart from the published sources.
    ordered = sorted(unique, key=lambda c: not c.startswith(DECISION_PREFIX))
    return "\n".join(f"{indent}- {c}: {citation_label(c)} <{citation_url(c)}>" for c in ordered)


def format_renal(
    renal: RenalAssessment, patient: Patient | None = None, *, alerts: bool = True
) -> str:
    """Render a renal assessment as a calculator: inputs, formula, result, interpretation.

    Args:
        renal: The assessment.
        patient: The patient; when given, the inputs are listed with the units
            given and the units the equations use.
        alerts: List the assessment's alerts (a care plan lists them once, under Alerts).

    Returns:
        The text.

    Example:
        >>> from cluneal import Patient, assess_renal_function
        >>> p = Patient(age=78, sex="female", weight="154 lb", serum_creatinine="97 umol/L")
        >>> print(format_renal(assess_renal_function(p), p))  # doctest: +ELLIPSIS
        Renal function
          Inputs:
            Age: 78 years
            Sex: female
            Weight: 154 lb (69.9 kg)
            Serum creatinine: 97 µmol/L (1.1 mg/dL)
          Formula: CrCl (mL/min) = (140 − age in years) × weight (kg) / ...
          Result: CrCl 46.6 mL/min (Cockcroft–Gault); eGFR 51.6 mL/min/1.73 m² (CKD-EPI 2021)
          Interpretation: dosing band moderate; KDIGO G3a
          Working: Cockcroft-Gault: (140 - 78) x 69.9 kg / ... [renal.band.moderate; ...]
    """
    lines = ["Renal function"]
    if patient is not None:
        lines.append("  Inputs:")
        lines.extend(
            f"    {name}: {given}" + (f" ({used})" if used and used != given else "")
            for name, given, used in renal_inputs(patient)
        )
    lines.append(f"  Formula: {CRCL_FORMULA}")
    if renal.egfr is not None:
        lines.append(f"           {EGFR_FORMULA}")
    crcl = renal.crcl_ml_min
    if crcl is not None:
        result = f"CrCl {clinical_number(crcl)} mL/min (Cockcroft–Gault)"
    elif renal.on_dialysis:
        result = "CrCl not computed (Cockcroft–Gault is not valid on haemodialysis)"
    else:
        result = "CrCl unknown (Cockcroft–Gault)"
    if renal.egfr is not None:
        egfr = clinical_number(float(renal.egfr.magnitude))
        result += f"; eGFR {egfr} mL/min/1.73 m² (CKD-EPI 2021)"
    lines.append(f"  Result: {result}")
    meaning = f"dosing band {renal.band.value.replace('_', ' ')}"
    if renal.gfr_category is not None:
        meaning += f"; KDIGO {renal.gfr_category.value}"
    if not renal.known:
        meaning += "; renal function unknown: dosed in the most restrictive band"
    lines.append(f"  Interpretation: {meaning}")
    lines.append(f"  Working: {renal.reason} [{renal.rule_id}; {renal.citation}]")
    if alerts and renal.alerts:
        lines.append("  Alerts:")
        lines.append(format_alerts(renal.alerts, indent="    "))
    return "\n".join(lines)


def _adjustment_lines(schedule: TitrationSchedule) -> list[str]:
    lines = []
    for text, group in group_adjustments(schedule.adjustments):
        sources = " ".join(f"[{a.rule_id}; {a.citation}]" for a in group)
        unverified = "" if all(a.verified for a in group) else " (unverified rule)"
        lines.append(f"    - {text}{unverified} {sources}")
    return lines


def format_schedule(schedule: TitrationSchedule, *, alerts: bool = True) -> str:
    """Render a titration schedule as an auditable table.

    Args:
        schedule: The schedule.
        alerts: Standalone (the default): list the schedule's alerts and the renal
            working. ``False`` inside a care plan, which lists every alert once and
            shows the renal working in its own section.

    Returns:
        The text.
    """
    s = schedule
    renal = s.renal
    crcl = (
        "" if renal.crcl_ml_min is None else f", CrCl {clinical_number(renal.crcl_ml_min)} mL/min"
    )
    lines = [
        f"{s.drug.value.capitalize()} titration ({s.protocol.value.replace('_', ' ')} protocol)",
        (
            f"  Maximum daily dose: {mg_per_day(s.max_daily_dose_mg, down=True)}"
            f" [{s.max_daily_dose_rule}]"
        ),
        f"  Renal: {renal.band.value.replace('_', ' ')} band{crcl}"
        + ("" if renal.known else " (renal function unknown: most restrictive band)"),
    ]
    if alerts:  # standalone: the working; in a care plan, the Renal function section has it
        lines.append(f"    Working: {renal.reason} [{renal.rule_id}; {renal.citation}]")
    if alerts and s.protocol_sha256 is not None:
        lines.append(
            f"  Knowledge base {s.knowledge_base_version} (local protocol {s.protocol_sha256})"
        )
    lines += [
        "  Steps:",
    ]
    for step in s.steps:
        when = f"day {step.day:>3}" + (f" ({step.date.isoformat()})" if step.date else "")
        lines.append(
            f"    {when}: {mg(step.dose_mg)} x {step.doses_per_day} ({step.timing.value})"
            f" = {mg_per_day(step.daily_dose_mg)}; {step.composition}"
        )
    if s.supplemental_instructions:
        lines.append("  Separate instructions:")
        lines.extend(
            f"    - {i.text} [{i.rule_id}; {i.citation}]" for i in s.supplemental_instructions
        )
    if s.adjustments:
        lines.append("  Adjustments:")
        lines.extend(_adjustment_lines(s))
    if alerts:
        lines.append("  Alerts:")
        lines.append(format_alerts(s.alerts, indent="    "))
    elif s.alerts:
        lines.append(f"  Alerts: {len(s.alerts)}, listed once under Alerts below.")
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
    for flag in a.red_flags:
        lines.append(
            f"  RED FLAG{' (URGENT)' if flag.urgent else ''}: {flag.name} -> {flag.points_to}"
        )
        lines.append(f"    Action: {flag.action}")
    lines.append(f"  Next action: {a.next_action}")
    return "\n".join(lines)


def format_recommendation(recommendation: Recommendation) -> str:
    """Render a pathway recommendation: the step, why, alternatives, evidence, rules.

    Args:
        recommendation: The recommendation.

    Returns:
        The text.

    Example:
        >>> from cluneal.diagnosis import Findings
        >>> from cluneal.pathway import next_step
        >>> format_recommendation(next_step(Findings())).splitlines()[0]
        'Next step: Initial evaluation'
    """
    r = recommendation
    lines = [f"Next step: {r.step.label}{' (URGENT)' if r.urgent else ''}"]
    lines.append(f"Why: {r.rationale}")
    lines.extend(f"Alternative: {a.description}" for a in r.alternative_options)
    lines.append(f"Strength of evidence: {r.evidence_level.label}. {r.evidence_note}")
    lines.append(f"Rules: {', '.join(r.rules_fired)}")
    return "\n".join(lines)


def format_plan(plan: CarePlan) -> str:
    """Render a whole care plan; each alert appears once, in the Alerts section.

    Args:
        plan: The plan.

    Returns:
        The text, starting with the safety statement.
    """
    p = plan.patient
    renal = plan.medications[0].renal if plan.medications else None
    lines = [
        plan.safety_statement,
        f"Knowledge base {plan.knowledge_base_version}"
        + ("" if plan.protocol_sha256 is None else f" (local protocol {plan.protocol_sha256})"),
        "",
        f"Patient: {clinical_number(p.age_years)}-year-old {p.sex.value}",
    ]
    if renal is not None:
        lines.extend(["", format_renal(renal, p, alerts=False)])
    lines.extend(
        [
            "",
            format_assessment(plan.assessment),
            "",
            format_recommendation(plan.recommendation),
            "",
            "Pharmacotherapy:",
            f"  {plan.medication_rationale}",
        ]
    )
    for schedule in plan.medications:
        lines.extend(["", format_schedule(schedule, alerts=False)])
    lines.extend(["", "Complementary care (general wellness, no cluneal-specific evidence):"])
    lines.extend(f"  - {m}" for m in plan.complementary)
    lines.extend(["", "Alerts:", format_alerts(plan.alerts)])
    lines.extend(["", f"Rules applied: {', '.join(plan.trace)}"])
    lines.extend(["", "Evidence:", format_evidence(plan_citations(plan))])
    return "\n".join(lines)


_RENDERERS: Final[dict[str, Callable[[Any], str]]] = {
    "TitrationSchedule": format_schedule,
    "DiagnosticAssessment": format_assessment,
    "Recommendation": format_recommendation,
    "CarePlan": format_plan,
    "RenalAssessment": format_renal,
}


def render(model: object) -> str | None:
    """Return the text of a result, or ``None`` for a model without one (``str()`` uses it).

    Args:
        model: A schedule, assessment, recommendation, care plan or renal assessment.

    Returns:
        The text, or ``None``.

    Example:
        >>> from cluneal import Patient
        >>> render(Patient(age=40, sex="male")) is None
        True
    """
    renderer = _RENDERERS.get(type(model).__name__)
    return None if renderer is None else renderer(model)
