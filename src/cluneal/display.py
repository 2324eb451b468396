"""HTML renderings of results, for Jupyter and other rich front ends.

Each function returns one self-contained HTML fragment laid out like a
clinical calculator page (MDCalc-style): the inputs with the units given and
the units used, the formula, the result at clinical precision, its
interpretation and the evidence, every citation a link to its source. The
fragments use inline ``style`` attributes only: no ``<style>`` or ``<script>``
element, no external asset, so they render the same in a notebook, an
exported HTML file or an e-mail.

Every piece of text is passed through :func:`html.escape` on the way out,
including the values the caller supplied (medication names, free-text
reasons): a result can be shown in a browser without trusting what went into
it. Severity is always written as a word as well as a colour.

A model at the end of a notebook cell renders through :func:`render` (the
models reach it by name, through one hook in :mod:`cluneal._base`);
``str()`` gives the plain-text report of :mod:`cluneal.report`.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.display import schedule_html
    >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
    >>> page = schedule_html(s)
    >>> page.startswith("<div") and "4.5 mg/day" in page and "<script" not in page
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal import _html as h
from cluneal._format import (
    NO_ACTION,
    clinical_number,
    group_adjustments,
    mg,
    mg_per_day,
    plan_citations,
)
from cluneal._renal_display import renal_body_html
from cluneal.alerts import Severity
from cluneal.diagnosis import DiagnosticAssessment, DiagnosticClass
from cluneal.pathway import Recommendation
from cluneal.plan import CarePlan
from cluneal.renal import RenalAssessment, assess_renal_function
from cluneal.titration import TitrationSchedule

if TYPE_CHECKING:
    from collections.abc import Callable

    from cluneal.patient import Patient

__all__ = [
    "assessment_html",
    "plan_html",
    "recommendation_html",
    "renal_html",
    "render",
    "schedule_html",
]

_CLASS_COLOURS: Final = {
    DiagnosticClass.CONFIRMED: ("#e8f5e9", "#2e7d32", "#1b4d1f"),
    DiagnosticClass.PROBABLE: ("#e6f4f1", "#00796b", "#00463e"),
    DiagnosticClass.POSSIBLE: ("#fffbe6", "#b58a00", "#4d3b00"),
    DiagnosticClass.UNLIKELY: ("#f1f3f5", "#6c757d", "#343a40"),
}
_MET: Final = {
    True: ("\u2713 met", "#1b5e20"),
    False: ("\u2717 not met", "#8e0000"),
    None: ("? unknown", "#555555"),
}
_URGENT: Final = ("#fdecea", "#b71c1c", "#7f0000")
_CARD: Final = "border:1px solid #eaeef2;border-radius:4px;padding:6px 10px;margin:8px 0"


# --- renal function ----------------------------------------------------------------


def renal_html(renal: RenalAssessment, patient: Patient | None = None) -> str:
    """Render a renal assessment as a calculator: inputs, formula, result, interpretation, evidence.

    Args:
        renal: The assessment.
        patient: The patient it was computed for; when given, the inputs are
            listed with the units given and the units the equations use.

    Returns:
        A ``<div>`` with inline styles only; every text escaped.

    Example:
        >>> from cluneal import Patient, assess_renal_function
        >>> from cluneal.display import renal_html
        >>> p = Patient(age=78, sex="female", weight="154 lb", serum_creatinine="97 umol/L")
        >>> page = renal_html(assess_renal_function(p), p)
        >>> "Cockcroft" in page, "154 lb" in page, "69.9 kg" in page, "46.6" in page
        (True, True, True, True)
    """
    return h.root_html("renal", renal_body_html(renal, patient, heading=True))


# --- schedules ---------------------------------------------------------------------


def _adjustments_html(schedule: TitrationSchedule) -> str:
    items = []
    for text, group in group_adjustments(schedule.adjustments):
        sources = " ".join(h.source_html(a.rule_id, (a.citation,)) for a in group)
        unverified = (
            "" if all(a.verified for a in group) else f' <i style="{h.MUTED}">(unverified rule)</i>'
        )
        items.append(f"{h.e(text)} {sources}{unverified}")
    return h.list_html(items)


def _schedule_body_html(schedule: TitrationSchedule, *, heading: bool, alerts: bool) -> str:
    s = schedule
    final = s.steps[-1]
    title = f"{s.drug.value.capitalize()} titration"
    protocol = s.protocol.value.replace("_", " ")
    parts = [
        f'<h2 style="{h.H2}">{h.e(title)} '
        f'<span style="{h.MUTED};font-weight:400">({h.e(protocol)} protocol)</span></h2>'
        if heading
        else f'<h3 style="{h.H3}">{h.e(title)} ({h.e(protocol)} protocol)</h3>'
    ]
    parts.append(
        h.headline_html(
            "Final daily dose",
            clinical_number(final.daily_dose_mg),
            "mg/day",
            f'<div style="{h.MUTED}">from day {h.e(final.day)}</div>',
        )
        + h.headline_html(
            "Maximum daily dose",
            clinical_number(s.max_daily_dose_mg, down=True),
            "mg/day",
            f'<div style="{h.MUTED}">{h.code_html(s.max_daily_dose_rule)}</div>',
        )
        + h.headline_html("Target", clinical_number(s.target_daily_dose_mg, down=True), "mg/day")
    )
    renal = s.renal
    crcl = (
        "" if renal.crcl_ml_min is None else f", CrCl {clinical_number(renal.crcl_ml_min)} mL/min"
    )
    unknown = "" if renal.known else " (renal function unknown: most restrictive band)"
    summary = (
        f"Renal: {h.e(renal.band.value.replace('_', ' '))} band{h.e(crcl)}{h.e(unknown)} "
        f"{h.source_html(renal.rule_id, (renal.citation,))}"
    )
    if heading:
        # Standalone, the renal working folds out under its summary line (no
        # script: <details>); inside a care plan the full calculator is above.
        parts.append(
            f'<details style="{h.MUTED};margin:2px 0"><summary>{summary}</summary>'
            f"{renal_body_html(renal, None, heading=False)}</details>"
        )
    else:
        parts.append(f'<div style="{h.MUTED}">{summary}</div>')
    dated = any(step.date is not None for step in s.steps)
    # Units sit beside every number, not only in the header: a dose read out of
    # context must never be ambiguous between mg and mg/day.
    headers = ["Day", *(["Date"] if dated else []), "Dose", "Doses/day", "Daily dose"]
    headers += ["Timing", "Composition"]
    rows = []
    for step in s.steps:
        date = [h.e(step.date.isoformat() if step.date else "")] if dated else []
        rows.append(
            [
                h.e(step.day),
                *date,
                h.e(mg(step.dose_mg)),
                h.e(f"\u00d7 {step.doses_per_day}"),
                f"<b>{h.e(mg_per_day(step.daily_dose_mg))}</b>",
                h.e(step.timing.value),
                h.e(step.composition),
            ]
        )
    offset = 1 if dated else 0
    numeric = frozenset({0, 1 + offset, 2 + offset, 3 + offset})
    parts.append(h.section_html("Steps", h.table_html(headers, rows, numeric)))
    if s.supplemental_instructions:
        parts.append(
            h.section_html(
                "Separate instructions",
                h.list_html(
                    f"{h.e(i.text)} {h.source_html(i.rule_id, (i.citation,))}"
                    for i in s.supplemental_instructions
                ),
            )
        )
    if s.adjustments:
        parts.append(h.section_html("Adjustments", _adjustments_html(s)))
    if alerts:
        parts.append(h.section_html("Alerts", h.alerts_html(s.alerts, NO_ACTION)))
    elif s.alerts:
        parts.append(
            f'<p style="{h.MUTED};margin:4px 0">{len(s.alerts)} alert(s) for '
            f"{h.e(s.drug.value)}: listed once under Alerts below.</p>"
        )
    if s.monitoring:
        parts.append(h.section_html("Monitoring", h.list_html(h.e(m) for m in s.monitoring)))
    cites = [renal.citation, *(a.citation for a in s.adjustments)]
    cites += [i.citation for i in s.supplemental_instructions]
    if alerts:
        cites += [a.citation for a in s.alerts]
    if heading:  # inside a care plan, the evidence is listed once, at the end
        parts.append(h.section_html("Evidence", h.evidence_html(cites)))
    return "".join(parts)


def schedule_html(schedule: TitrationSchedule) -> str:
    """Render a titration schedule as an HTML fragment.

    The headline figures are the final daily dose, the cap that applied (with
    its rule id) and the target; then a table of the steps, the renal band, the
    adjustments (a change made for several reasons written once), the alerts
    with their action lines and the evidence, every citation a link.

    Args:
        schedule: The schedule.

    Returns:
        A ``<div>`` with inline styles only; every text escaped.

    Example:
        >>> from cluneal import Patient, titration_schedule
        >>> from cluneal.display import schedule_html
        >>> s = titration_schedule("tramadol", Patient(
        ...     age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL"))
        >>> page = schedule_html(s)
        >>> "tramadol.cap.age_over_75" in page, "300 mg/day" in page
        (True, True)
    """
    return h.root_html("schedule", _schedule_body_html(schedule, heading=True, alerts=True))


# --- diagnosis ---------------------------------------------------------------------


def _assessment_body_html(assessment: DiagnosticAssessment, *, heading: bool) -> str:
    a = assessment
    colours = _CLASS_COLOURS[a.classification]
    branches = ", ".join(b.nerve for b in sorted(a.branches)) or "not determined"
    label = "Diagnosis" if heading else "Diagnostic assessment"
    parts = [
        h.heading_html(label, heading=heading),
        (
            '<div style="margin:4px 0 8px 0">'
            f'<span style="font-size:22px;font-weight:700;color:{colours[2]};'
            f"background:{colours[0]};border:1px solid {colours[1]};border-radius:4px;"
            f'padding:1px 10px">{h.e(a.classification.value.upper())}</span>'
            f' <span style="{h.MUTED}">cluneal neuralgia; branches: {h.e(branches)}</span></div>'
        ),
    ]
    rows = []
    for c in a.criteria:
        met, colour = _MET[c.met]
        rows.append(
            [
                h.e(c.number),
                h.e(c.name),
                f'<b style="color:{colour};white-space:nowrap">{h.e(met)}</b>',
                h.e(c.reason),
                h.source_html(c.rule_id, c.citations),
            ]
        )
    parts.append(h.table_html(("#", "Criterion", "Status", "Reason", "Rule"), rows, frozenset({0})))
    if a.red_flags:
        flags = []
        for flag in a.red_flags:
            background, border, fg = _URGENT if flag.urgent else h.SEVERITY_COLOURS[Severity.MAJOR]
            urgent = " (URGENT)" if flag.urgent else ""
            flags.append(
                f'<div style="background:{background};border-left:4px solid {border};'
                f'color:{fg};padding:5px 10px;margin:4px 0;border-radius:3px">'
                f"<b>RED FLAG{h.e(urgent)}</b>: {h.e(flag.name)} \u2192 {h.e(flag.points_to)}. "
                f"{h.source_html(flag.rule_id, flag.citations)}"
                f'<div style="margin-top:2px"><b>Action:</b> {h.e(flag.action)}</div></div>'
            )
        parts.append(h.section_html("Red flags", "".join(flags)))
    parts.append(h.section_html("Next action", f'<p style="margin:2px 0">{h.e(a.next_action)}</p>'))
    parts.append(
        f'<div style="{h.MUTED};margin-top:6px">Classification rule: '
        f"{h.e(a.classification_rule)} \u00b7 block threshold "
        f"{h.e(clinical_number(a.block_threshold))}%</div>"
    )
    if heading:  # inside a care plan, the evidence is listed once, at the end
        parts.append(h.section_html("Evidence", h.evidence_html(a.citations)))
    return "".join(parts)


def assessment_html(assessment: DiagnosticAssessment) -> str:
    """Render a diagnostic assessment as an HTML fragment.

    The headline is the classification; then the three criteria (met, not met
    or unknown, with the reason and rule), any red flags with their action, the
    next action and the evidence as links.

    Args:
        assessment: The assessment.

    Returns:
        A ``<div>`` with inline styles only; every text escaped.

    Example:
        >>> from cluneal.diagnosis import Findings, assess_diagnosis
        >>> from cluneal.display import assessment_html
        >>> page = assessment_html(assess_diagnosis(Findings(tender_points=())))
        >>> "UNLIKELY" in page, "not met" in page
        (True, True)
    """
    return h.root_html("assessment", _assessment_body_html(assessment, heading=True))


# --- pathway -----------------------------------------------------------------------


def _recommendation_body_html(recommendation: Recommendation, *, heading: bool) -> str:
    r = recommendation
    badge = f" {h.badge_html('urgent', _URGENT)}" if r.urgent else ""
    follow = f" {h.badge_html('follow up', h.INFO)}" if r.follow_up else ""
    targets = ", ".join(b.nerve for b in sorted(r.target_branches))
    parts = [
        h.heading_html("Next step", heading=heading),
        (
            f'<div style="margin:4px 0"><span style="font-size:22px;font-weight:700">'
            f"{h.e(r.step.label)}</span>{badge}{follow}</div>"
        ),
        f'<div style="{h.MUTED}">Transition {h.code_html(r.transition)}'
        + (f" \u00b7 target: {h.e(targets)}" if targets else "")
        + "</div>",
        h.section_html("Why", f'<p style="margin:2px 0">{h.e(r.rationale)}</p>'),
    ]
    if r.alternative_options:
        parts.append(
            h.section_html(
                "Alternatives",
                h.list_html(
                    f"<b>{h.e(a.step.label)}</b>: {h.e(a.description)}"
                    + (
                        f" {', '.join(h.citation_html(c) for c in a.citations)}"
                        if a.citations
                        else ""
                    )
                    for a in r.alternative_options
                ),
            )
        )
    elif r.alternatives:
        parts.append(
            h.section_html("Alternatives", h.list_html(h.e(s.label) for s in r.alternatives))
        )
    parts.append(
        h.section_html(
            "Strength of evidence",
            f'<p style="margin:2px 0"><b>{h.e(r.evidence_level.label)}</b>. '
            f"{h.e(r.evidence_note)}</p>",
        )
    )
    parts.append(
        f'<div style="{h.MUTED};margin-top:6px">Rules: '
        f"{', '.join(h.code_html(rule) for rule in r.rules_fired)}</div>"
    )
    if heading:  # inside a care plan, the evidence is listed once, at the end
        parts.append(h.section_html("Evidence", h.evidence_html(r.citations)))
    return "".join(parts)


def recommendation_html(recommendation: Recommendation) -> str:
    """Render a pathway recommendation as an HTML fragment.

    The headline is the recommended step (marked urgent when it is); then why,
    the alternatives, the strength of the evidence, the rules that fired and
    the citations as links.

    Args:
        recommendation: The recommendation.

    Returns:
        A ``<div>`` with inline styles only; every text escaped.

    Example:
        >>> from cluneal.diagnosis import Findings
        >>> from cluneal.pathway import next_step
        >>> from cluneal.display import recommendation_html
        >>> page = recommendation_html(next_step(Findings()))
        >>> "Initial evaluation" in page
        True
    """
    return h.root_html("recommendation", _recommendation_body_html(recommendation, heading=True))


# --- care plans --------------------------------------------------------------------


def _patient_html(plan: CarePlan) -> str:
    p = plan.patient
    facts = [f"{clinical_number(p.age_years)}-year-old {p.sex.value}"]
    if p.on_dialysis:
        facts.append("on haemodialysis")
    if p.hepatic_impairment.value != "none":
        facts.append(f"{p.hepatic_impairment.value} hepatic impairment")
    conditions = ", ".join(c.value.replace("_", " ") for c in p.conditions)
    rows = [
        ("Patient", h.e("; ".join(facts))),
        ("Conditions", h.e(conditions or "none recorded")),
        ("Medications", h.e(", ".join(p.medications) or "none recorded")),
    ]
    if p.recent_medications:
        rows.append(("Stopped within 14 days", h.e(", ".join(p.recent_medications))))
    return h.kv_table_html(rows)


def _choices_html(plan: CarePlan) -> str:
    rows = [
        [
            h.e(c.drug.value),
            f"<b>{h.e(c.status.value.replace('_', ' '))}</b>",
            h.e(c.reason),
            f'<span style="{h.MUTED}">'
            + ", ".join(h.code_html(rule) for rule in c.rule_ids)
            + ("; " if c.citations else "")
            + ", ".join(h.citation_html(cite) for cite in c.citations)
            + "</span>",
        ]
        for c in plan.drug_choices
    ]
    return h.table_html(("Drug", "Status", "Reason", "Rules"), rows)


def plan_html(plan: CarePlan) -> str:
    """Render a whole care plan as an HTML fragment.

    The safety statement comes first, then the patient, the renal function
    (inputs, formula, result, interpretation), the diagnosis, the next step,
    pharmacotherapy (the drug choice and each titration schedule),
    complementary care with its evidence, every alert once with its action
    line, the rules applied and the evidence, every citation a link.

    Args:
        plan: The plan.

    Returns:
        A ``<div>`` with inline styles only; every text escaped.

    Example:
        >>> from cluneal import Patient, care_plan
        >>> from cluneal.diagnosis import Findings
        >>> from cluneal.display import plan_html
        >>> page = plan_html(care_plan(Patient(age=70, sex="male"), Findings()))
        >>> "it does not make them" in page, "Initial evaluation" in page
        (True, True)
    """
    info = h.INFO
    divider = '<hr style="border:none;border-top:1px solid #d0d7de;margin:12px 0">'
    renal = plan.medications[0].renal if plan.medications else assess_renal_function(plan.patient)
    parts = [
        (
            f'<div style="background:{info[0]};border:1px solid {info[1]};color:{info[2]};'
            f'padding:6px 10px;border-radius:4px;margin-bottom:8px;font-weight:600" '
            f'role="note">{h.e(plan.safety_statement)}</div>'
        ),
        f'<h2 style="{h.H2}">Care plan</h2>',
        _patient_html(plan),
        f'<div style="{_CARD}">{renal_body_html(renal, plan.patient, heading=False)}</div>',
        divider,
        _assessment_body_html(plan.assessment, heading=False),
        divider,
        _recommendation_body_html(plan.recommendation, heading=False),
        divider,
        f'<h3 style="{h.H3}">Pharmacotherapy</h3>',
        f'<p style="margin:2px 0">{h.e(plan.medication_rationale)}</p>',
        _choices_html(plan),
    ]
    parts.extend(
        f'<div style="{_CARD}">{_schedule_body_html(s, heading=False, alerts=False)}</div>'
        for s in plan.medications
    )
    parts.append(divider)
    measures = [
        [
            h.e(m.name),
            h.e(m.suggestion),
            h.e(m.evidence_level.label),
            f'<span style="{h.MUTED}">{h.code_html(m.rule_id)}; '
            + ", ".join(h.citation_html(c) for c in m.citations)
            + "</span>",
        ]
        for m in plan.complementary
    ]
    parts.append(
        h.section_html(
            "Complementary care (general wellness, no cluneal-specific evidence)",
            h.table_html(("Measure", "Suggestion", "Evidence", "Rule"), measures),
        )
    )
    parts.append(divider)
    parts.append(h.section_html("Alerts", h.alerts_html(plan.alerts, NO_ACTION)))
    parts.append(
        f'<div style="{h.MUTED};margin-top:8px">Rules applied: '
        f"{', '.join(h.code_html(rule) for rule in plan.trace)}<br>"
        f"Knowledge base {h.e(plan.knowledge_base_version)}"
        + ("" if plan.protocol_sha256 is None else f" (local protocol {h.e(plan.protocol_sha256)})")
        + "</div>"
    )
    parts.append(h.section_html("Evidence", h.evidence_html(plan_citations(plan))))
    return h.root_html("plan", "".join(parts))


# --- the hook the models reach ---------------------------------------------------

_RENDERERS: Final[dict[type[Any], Callable[[Any], str]]] = {
    TitrationSchedule: schedule_html,
    DiagnosticAssessment: assessment_html,
    Recommendation: recommendation_html,
    CarePlan: plan_html,
    RenalAssessment: renal_html,
}


def render(model: object) -> str | None:
    """Return the HTML of a result, or ``None`` for a model without one.

    The models' ``_repr_html_`` call this (through :mod:`cluneal._base`), so a
    result at the end of a notebook cell renders as HTML.

    Args:
        model: A schedule, assessment, recommendation, care plan or renal assessment.

    Returns:
        The HTML fragment, or ``None``.

    Example:
        >>> from cluneal import Patient
        >>> render(Patient(age=40, sex="male")) is None
        True
    """
    renderer = _RENDERERS.get(type(model))
    return None if renderer is None else renderer(model)
