"""HTML renderings of results, for Jupyter and other rich front ends.

Each function returns one self-contained HTML fragment laid out like a clinical
calculator page: a headline figure, small tables, alerts coloured by severity,
and every rule id and citation id visible. The fragments use inline ``style``
attributes only: no ``<style>`` or ``<script>`` element, no external asset, so
they render the same in a notebook, an exported HTML file or an e-mail.

Every piece of text is passed through :func:`html.escape` on the way out,
including the values the caller supplied (medication names, free-text
reasons): a result can be shown in a browser without trusting what went into
it. Severity is always written as a word as well as a colour.

The models' ``_repr_html_`` methods call these functions, so a result at the
end of a notebook cell renders as HTML; ``str()`` gives the plain-text report
of :mod:`cluneal.report`.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.display import schedule_html
    >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
    >>> page = schedule_html(s)
    >>> page.startswith("<div") and "4.5 mg/day" in page and "<script" not in page
    True
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

from cluneal.alerts import Severity
from cluneal.diagnosis import DiagnosticClass
from cluneal.errors import UnknownTermError
from cluneal.evidence import citation

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from cluneal.alerts import SafetyAlert
    from cluneal.diagnosis import DiagnosticAssessment
    from cluneal.pathway import Recommendation
    from cluneal.plan import CarePlan
    from cluneal.titration import TitrationSchedule

__all__ = ["assessment_html", "plan_html", "recommendation_html", "schedule_html"]

# Palette: (background, border, text). Contrast ratios of text on background
# are above 7:1, and every coloured element also says its meaning in words.
_SEVERITY_COLOURS: Final = {
    Severity.CONTRAINDICATED: ("#fdecea", "#b71c1c", "#7f0000"),
    Severity.MAJOR: ("#fff3e0", "#e65100", "#6d2c00"),
    Severity.MODERATE: ("#fffbe6", "#b58a00", "#4d3b00"),
    Severity.INFO: ("#eaf2fb", "#1f5fa8", "#123a66"),
}
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

_ROOT: Final = (
    "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:13px;line-height:1.45;color:#1f2328;max-width:56em;"
    "border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:4px 0;"
    "background:#ffffff"
)
_H2: Final = "font-size:16px;margin:0 0 6px 0;font-weight:600"
_H3: Final = (
    "font-size:13px;margin:12px 0 4px 0;font-weight:600;text-transform:uppercase;"
    "letter-spacing:0.04em;color:#57606a"
)
_TABLE: Final = "border-collapse:collapse;margin:4px 0;font-size:12.5px"
_TH: Final = (
    "text-align:left;padding:3px 8px;border-bottom:2px solid #d0d7de;"
    "background:#f6f8fa;font-weight:600"
)
_TD: Final = "padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top"
_NUM: Final = f"{_TD};text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap"
_CODE: Final = (
    "font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:11.5px;"
    "background:#f6f8fa;border-radius:3px;padding:0 3px;color:#24292f"
)
_MUTED: Final = "color:#57606a;font-size:12px"
_LIST: Final = "margin:2px 0 2px 0;padding-left:20px"


# --- building blocks ---------------------------------------------------------------
# Convention: functions and variables that hold HTML end in ``_html``; everything
# else is text and goes through ``_e`` before it is placed in markup.


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _mg(value: float) -> str:
    return f"{value:g}"


def _code_html(text: str) -> str:
    return f'<code style="{_CODE}">{_e(text)}</code>'


def _citation_html(citation_id: str) -> str:
    # The id stays visible; the full reference is a tooltip when the registry knows it.
    try:
        title = str(citation(citation_id))
    except UnknownTermError:
        return _code_html(citation_id)
    return f'<code style="{_CODE}" title="{_e(title)}">{_e(citation_id)}</code>'


def _source_html(rule_id: str, citations: Iterable[str]) -> str:
    cites = ", ".join(_citation_html(c) for c in citations)
    inner = _code_html(rule_id) + (f"; {cites}" if cites else "")
    return f'<span style="{_MUTED}">[{inner}]</span>'


def _root_html(kind: str, body_html: str) -> str:
    return f'<div style="{_ROOT}" data-cluneal="{_e(kind)}">{body_html}</div>'


def _section_html(title: str, body_html: str) -> str:
    return f'<h3 style="{_H3}">{_e(title)}</h3>{body_html}'


def _badge_html(text: str, colours: tuple[str, str, str]) -> str:
    background, border, fg = colours
    return (
        f'<span style="display:inline-block;padding:1px 7px;border-radius:10px;'
        f"background:{background};border:1px solid {border};color:{fg};font-weight:600;"
        f'font-size:11.5px;letter-spacing:0.03em">{_e(text.upper())}</span>'
    )


def _headline_html(label: str, value: str, unit: str, note_html: str = "") -> str:
    return (
        '<div style="display:inline-block;vertical-align:top;margin:4px 24px 4px 0">'
        f'<div style="{_MUTED};text-transform:uppercase;letter-spacing:0.04em">{_e(label)}</div>'
        f'<div style="font-size:26px;font-weight:700;line-height:1.2">{_e(value)}'
        f'<span style="font-size:14px;font-weight:500;color:#57606a"> {_e(unit)}</span></div>'
        f"{note_html}</div>"
    )


def _table_html(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: frozenset[int] = frozenset()
) -> str:
    """Build a table; ``rows`` hold HTML cells (already escaped), ``headers`` hold text."""
    head = "".join(f'<th style="{_TH}">{_e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_NUM if i in numeric else _TD}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _list_html(items_html: Iterable[str]) -> str:
    items = "".join(f"<li>{item}</li>" for item in items_html)
    return f'<ul style="{_LIST}">{items}</ul>' if items else ""


def _alerts_html(alerts: Sequence[SafetyAlert]) -> str:
    if not alerts:
        return f'<p style="{_MUTED};margin:2px 0">No alerts.</p>'
    parts = []
    for alert in alerts:
        background, border, fg = _SEVERITY_COLOURS[alert.severity]
        drugs = f" ({', '.join(alert.drugs)})" if alert.drugs else ""
        action = (
            f'<div style="margin-top:2px"><b>Action:</b> {_e(alert.action)}</div>'
            if alert.action
            else ""
        )
        parts.append(
            f'<div style="background:{background};border-left:4px solid {border};color:{fg};'
            f'padding:5px 10px;margin:4px 0;border-radius:3px" '
            f'data-severity="{_e(alert.severity.value)}">'
            f"<b>{_e(alert.severity.value.upper())}</b>{_e(drugs)}: {_e(alert.message)} "
            f"{_source_html(alert.rule_id, (alert.citation,))}{action}</div>"
        )
    return "".join(parts)


# --- schedules ---------------------------------------------------------------------


def _schedule_body_html(schedule: TitrationSchedule, *, heading: bool = True) -> str:
    s = schedule
    final = s.steps[-1]
    title = f"{s.drug.value.capitalize()} titration"
    protocol = s.protocol.value.replace("_", " ")
    parts = [
        f'<h2 style="{_H2}">{_e(title)} '
        f'<span style="{_MUTED};font-weight:400">({_e(protocol)} protocol)</span></h2>'
        if heading
        else f'<h3 style="{_H3}">{_e(title)} ({_e(protocol)} protocol)</h3>'
    ]
    parts.append(
        _headline_html(
            "Final daily dose",
            _mg(final.daily_dose_mg),
            "mg/day",
            f'<div style="{_MUTED}">from day {_e(final.day)}</div>',
        )
        + _headline_html(
            "Maximum daily dose",
            _mg(s.max_daily_dose_mg),
            "mg/day",
            f'<div style="{_MUTED}">{_code_html(s.max_daily_dose_rule)}</div>',
        )
        + _headline_html("Target", _mg(s.target_daily_dose_mg), "mg/day")
    )
    renal = s.renal
    crcl = "" if renal.crcl_ml_min is None else f", CrCl {renal.crcl_ml_min:.1f} mL/min"
    unknown = "" if renal.known else " (renal function unknown: most restrictive band)"
    parts.append(
        f'<div style="{_MUTED}">Renal: {_e(renal.band.value)} band{_e(crcl)}{_e(unknown)} '
        f"{_source_html(renal.rule_id, (renal.citation,))}</div>"
    )
    dated = any(step.date is not None for step in s.steps)
    # Units sit beside every number, not only in the header: a dose read out of
    # context must never be ambiguous between mg and mg/day.
    headers = ["Day", *(["Date"] if dated else []), "Dose", "Doses/day", "Daily dose"]
    headers += ["Timing", "Composition"]
    rows = []
    for step in s.steps:
        date = [_e(step.date.isoformat() if step.date else "")] if dated else []
        rows.append(
            [
                _e(step.day),
                *date,
                _e(f"{_mg(step.dose_mg)} mg"),
                _e(f"\u00d7 {step.doses_per_day}"),
                f"<b>{_e(_mg(step.daily_dose_mg))} mg/day</b>",
                _e(step.timing.value),
                _e(step.composition),
            ]
        )
    offset = 1 if dated else 0
    numeric = frozenset({0, 1 + offset, 2 + offset, 3 + offset})
    parts.append(_section_html("Steps", _table_html(headers, rows, numeric)))
    if s.supplemental_instructions:
        parts.append(
            _section_html(
                "Separate instructions",
                _list_html(
                    f"{_e(i.text)} {_source_html(i.rule_id, (i.citation,))}"
                    for i in s.supplemental_instructions
                ),
            )
        )
    if s.adjustments:
        parts.append(
            _section_html(
                "Adjustments",
                _list_html(
                    f"{_e(a.reason)} {_source_html(a.rule_id, (a.citation,))}"
                    + ("" if a.verified else f' <i style="{_MUTED}">(unverified rule)</i>')
                    for a in s.adjustments
                ),
            )
        )
    parts.append(_section_html("Alerts", _alerts_html(s.alerts)))
    if s.monitoring:
        parts.append(_section_html("Monitoring", _list_html(_e(m) for m in s.monitoring)))
    return "".join(parts)


def schedule_html(schedule: TitrationSchedule) -> str:
    """Render a titration schedule as an HTML fragment.

    The headline figures are the final daily dose, the cap that applied (with
    its rule id) and the target; then a table of the steps, the renal band, the
    adjustments and the alerts, each with its rule id and citation.

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
    return _root_html("schedule", _schedule_body_html(schedule))


# --- diagnosis ---------------------------------------------------------------------


def _assessment_body_html(assessment: DiagnosticAssessment, *, heading: bool = True) -> str:
    a = assessment
    colours = _CLASS_COLOURS[a.classification]
    branches = ", ".join(b.nerve for b in sorted(a.branches)) or "not determined"
    label = "Diagnosis" if heading else "Diagnostic assessment"
    parts = [
        f'<h2 style="{_H2}">{_e(label)}</h2>' if heading else f'<h3 style="{_H3}">{_e(label)}</h3>',
        (
            '<div style="margin:4px 0 8px 0">'
            f'<span style="font-size:22px;font-weight:700;color:{colours[2]};'
            f"background:{colours[0]};border:1px solid {colours[1]};border-radius:4px;"
            f'padding:1px 10px">{_e(a.classification.value.upper())}</span>'
            f' <span style="{_MUTED}">cluneal neuralgia; branches: {_e(branches)}</span></div>'
        ),
    ]
    rows = []
    for c in a.criteria:
        met, colour = _MET[c.met]
        rows.append(
            [
                _e(c.number),
                _e(c.name),
                f'<b style="color:{colour};white-space:nowrap">{_e(met)}</b>',
                _e(c.reason),
                _source_html(c.rule_id, c.citations),
            ]
        )
    parts.append(_table_html(("#", "Criterion", "Status", "Reason", "Rule"), rows, frozenset({0})))
    if a.red_flags:
        flags = []
        for flag in a.red_flags:
            background, border, fg = _URGENT if flag.urgent else _SEVERITY_COLOURS[Severity.MAJOR]
            urgent = " (URGENT)" if flag.urgent else ""
            flags.append(
                f'<div style="background:{background};border-left:4px solid {border};'
                f'color:{fg};padding:5px 10px;margin:4px 0;border-radius:3px">'
                f"<b>RED FLAG{_e(urgent)}</b>: {_e(flag.name)} \u2192 {_e(flag.points_to)}. "
                f"{_e(flag.action)} {_source_html(flag.rule_id, flag.citations)}</div>"
            )
        parts.append(_section_html("Red flags", "".join(flags)))
    parts.append(_section_html("Next action", f'<p style="margin:2px 0">{_e(a.next_action)}</p>'))
    parts.append(
        f'<div style="{_MUTED};margin-top:6px">Classification rule: {_e(a.classification_rule)}'
        f" \u00b7 block threshold {_e(f'{a.block_threshold:g}')}% \u00b7 citations: "
        f"{', '.join(_citation_html(c) for c in a.citations) or 'none'}</div>"
    )
    return "".join(parts)


def assessment_html(assessment: DiagnosticAssessment) -> str:
    """Render a diagnostic assessment as an HTML fragment.

    The headline is the classification; then the three criteria (met, not met
    or unknown, with the reason and rule), any red flags, the next action and
    the citations.

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
    return _root_html("assessment", _assessment_body_html(assessment))


# --- pathway -----------------------------------------------------------------------


def _recommendation_body_html(recommendation: Recommendation, *, heading: bool = True) -> str:
    r = recommendation
    badge = f" {_badge_html('urgent', _URGENT)}" if r.urgent else ""
    follow = f" {_badge_html('follow up', _SEVERITY_COLOURS[Severity.INFO])}" if r.follow_up else ""
    targets = ", ".join(b.nerve for b in sorted(r.target_branches))
    parts = [
        f'<h2 style="{_H2}">Next step</h2>' if heading else f'<h3 style="{_H3}">Next step</h3>',
        (
            f'<div style="margin:4px 0"><span style="font-size:22px;font-weight:700">'
            f"{_e(r.step.label)}</span>{badge}{follow}</div>"
        ),
        f'<div style="{_MUTED}">Transition {_code_html(r.transition)}'
        + (f" \u00b7 target: {_e(targets)}" if targets else "")
        + "</div>",
        _section_html("Why", f'<p style="margin:2px 0">{_e(r.rationale)}</p>'),
    ]
    if r.alternative_options:
        parts.append(
            _section_html(
                "Alternatives",
                _list_html(
                    f"<b>{_e(a.step.label)}</b>: {_e(a.description)}"
                    + (
                        f" {', '.join(_citation_html(c) for c in a.citations)}"
                        if a.citations
                        else ""
                    )
                    for a in r.alternative_options
                ),
            )
        )
    elif r.alternatives:
        parts.append(_section_html("Alternatives", _list_html(_e(s.label) for s in r.alternatives)))
    parts.append(
        _section_html(
            "Evidence",
            f'<p style="margin:2px 0"><b>{_e(r.evidence_level.label)}</b>. '
            f"{_e(r.evidence_note)}</p>",
        )
    )
    parts.append(
        f'<div style="{_MUTED};margin-top:6px">Rules: '
        f"{', '.join(_code_html(rule) for rule in r.rules_fired)}<br>Citations: "
        f"{', '.join(_citation_html(c) for c in r.citations) or 'none'}</div>"
    )
    return "".join(parts)


def recommendation_html(recommendation: Recommendation) -> str:
    """Render a pathway recommendation as an HTML fragment.

    The headline is the recommended step (marked urgent when it is); then why,
    the alternatives, the strength of the evidence, the rules that fired and
    the citations.

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
    return _root_html("recommendation", _recommendation_body_html(recommendation))


# --- care plans --------------------------------------------------------------------


def _patient_html(plan: CarePlan) -> str:
    p = plan.patient
    facts = [f"{p.age_years:g}-year-old {p.sex.value}"]
    if p.weight_kg is not None:
        facts.append(f"{p.weight_kg:g} kg")
    if p.creatinine_mg_dl is not None:
        facts.append(f"serum creatinine {p.creatinine_mg_dl:g} mg/dL")
    if p.on_dialysis:
        facts.append("on haemodialysis")
    if p.hepatic_impairment.value != "none":
        facts.append(f"{p.hepatic_impairment.value} hepatic impairment")
    rows = [["Patient", _e("; ".join(facts))]]
    conditions = ", ".join(c.value.replace("_", " ") for c in p.conditions)
    rows.append(["Conditions", _e(conditions or "none recorded")])
    rows.append(["Medications", _e(", ".join(p.medications) or "none recorded")])
    if p.recent_medications:
        rows.append(["Stopped within 14 days", _e(", ".join(p.recent_medications))])
    cells = "".join(
        f'<tr><th style="{_TH};background:none;border-bottom:1px solid #eaeef2">{_e(label)}</th>'
        f'<td style="{_TD}">{value}</td></tr>'
        for label, value in rows
    )
    return f'<table style="{_TABLE}"><tbody>{cells}</tbody></table>'


def _choices_html(plan: CarePlan) -> str:
    rows = [
        [
            _e(c.drug.value),
            f"<b>{_e(c.status.value.replace('_', ' '))}</b>",
            _e(c.reason),
            f'<span style="{_MUTED}">'
            + ", ".join(_code_html(rule) for rule in c.rule_ids)
            + "</span>",
        ]
        for c in plan.drug_choices
    ]
    return _table_html(("Drug", "Status", "Reason", "Rules"), rows)


def plan_html(plan: CarePlan) -> str:
    """Render a whole care plan as an HTML fragment.

    The safety statement comes first, then the patient, the diagnosis, the next
    step, pharmacotherapy (the drug choice and each titration schedule),
    complementary care with its evidence, every alert and the rules applied.

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
    info = _SEVERITY_COLOURS[Severity.INFO]
    divider = '<hr style="border:none;border-top:1px solid #d0d7de;margin:12px 0">'
    parts = [
        (
            f'<div style="background:{info[0]};border:1px solid {info[1]};color:{info[2]};'
            f'padding:6px 10px;border-radius:4px;margin-bottom:8px;font-weight:600" '
            f'role="note">{_e(plan.safety_statement)}</div>'
        ),
        f'<h2 style="{_H2}">Care plan</h2>',
        _patient_html(plan),
        divider,
        _assessment_body_html(plan.assessment, heading=False),
        divider,
        _recommendation_body_html(plan.recommendation, heading=False),
        divider,
        f'<h3 style="{_H3}">Pharmacotherapy</h3>',
        f'<p style="margin:2px 0">{_e(plan.medication_rationale)}</p>',
        _choices_html(plan),
    ]
    parts.extend(
        f'<div style="border:1px solid #eaeef2;border-radius:4px;padding:6px 10px;margin:8px 0">'
        f"{_schedule_body_html(s, heading=False)}</div>"
        for s in plan.medications
    )
    parts.append(divider)
    measures = [
        [
            _e(m.name),
            _e(m.suggestion),
            _e(m.evidence_level.label),
            f'<span style="{_MUTED}">{_code_html(m.rule_id)}; '
            + ", ".join(_citation_html(c) for c in m.citations)
            + "</span>",
        ]
        for m in plan.complementary
    ]
    parts.append(
        _section_html(
            "Complementary care (general wellness, no cluneal-specific evidence)",
            _table_html(("Measure", "Suggestion", "Evidence", "Rule"), measures),
        )
    )
    parts.append(_section_html("All alerts", _alerts_html(plan.alerts)))
    parts.append(
        f'<div style="{_MUTED};margin-top:8px">Rules applied: '
        f"{', '.join(_code_html(rule) for rule in plan.trace)}<br>"
        f"Knowledge base {_e(plan.knowledge_base_version)}</div>"
    )
    return _root_html("plan", "".join(parts))
