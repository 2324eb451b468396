"""CDS Hooks 2.0 cards for cluneal results: pure functions, no web framework.

A card leads with the action (``Start gabapentin ...``, ``Do not order ...``),
names its source as the guideline or label a clinician knows, with a URL, links
to the drug's page of the cluneal docs, and ends its detail with the safety
statement. Critical cards carry ``overrideReasons``. Card and suggestion UUIDs
are UUID version 5 of the service, the hook instance, the patient and the
card's own key: the same request gets the same UUIDs, and no two patients or
hook instances share one.

Example:
    >>> from cluneal.service.cards import CardContext, source
    >>> ctx = CardContext(service="cluneal-patient-view", hook_instance="h1", patient_id="p1")
    >>> ctx.uuid("a") == CardContext("cluneal-patient-view", "h1", "p2").uuid("a")
    False
    >>> source("gabapentin_label")["label"]
    'Gabapentin (Neurontin) US prescribing information'
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from cluneal._format import DOCS_URL, citation_url
from cluneal.alerts import Severity
from cluneal.drug import Drug
from cluneal.errors import UnknownTermError
from cluneal.evidence import SourceMark, citation
from cluneal.fhir.export import TIMING_TEXT
from cluneal.plan import SAFETY_STATEMENT

if TYPE_CHECKING:
    from cluneal.alerts import SafetyAlert
    from cluneal.plan import CarePlan
    from cluneal.titration import TitrationSchedule

__all__ = [
    "DOCS_URL",
    "INDICATOR",
    "OVERRIDE_REASONS",
    "CardContext",
    "alert_card",
    "card",
    "drug_choices_table",
    "drug_link",
    "schedule_summary",
    "schedule_table",
    "sort_cards",
    "source",
]

MAX_SUMMARY: Final = 139  # CDS Hooks: a summary under 140 characters
_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://cluneal.readthedocs.io/cds-hooks")
_RULE_SYSTEM: Final = "https://cluneal.readthedocs.io/fhir/CodeSystem/rule-id"
_OVERRIDE_SYSTEM: Final = "https://cluneal.readthedocs.io/fhir/CodeSystem/override-reason"

INDICATOR: Final = {
    Severity.CONTRAINDICATED: "critical",
    Severity.MAJOR: "critical",
    Severity.MODERATE: "warning",
    Severity.INFO: "info",
}
"""Card indicator by alert severity."""

OVERRIDE_REASONS: Final = tuple(
    {"system": _OVERRIDE_SYSTEM, "code": code, "display": display}
    for code, display in (
        ("benefit-outweighs-risk", "Benefit outweighs the risk for this patient"),
        ("monitored", "Aware; the patient will be monitored"),
        ("record-incorrect", "The record is wrong or out of date"),
        ("specialist-advice", "Following specialist advice"),
    )
)
"""The reasons a clinician can give for overriding a critical card (CDS Hooks 2.0)."""

_ORDER: Final = {"critical": 0, "warning": 1, "info": 2}
# A sentence ends at ". " except after "e.g" and "i.e".
_SENTENCE_END: Final = re.compile(r"(?<!e\.g)(?<!i\.e)\. ")
_DAILYMED: Final = "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query="
# "Surname AB, Surname C." at the start of a title: an author list.
_AUTHORS: Final = re.compile(r"^([A-Z][A-Za-z'\-]+(?: [A-Z][A-Za-z'\-]+)*) [A-Z]{1,3}\b[^.]*\.\s+")


@dataclass(frozen=True, slots=True)
class CardContext:
    """What makes a card's UUID unique: the service, the hook instance and the patient."""

    service: str
    hook_instance: str
    patient_id: str

    def uuid(self, key: str) -> str:
        """The UUID (version 5) of the card or suggestion with this key."""
        name = f"{self.service}|{self.hook_instance}|{self.patient_id}|{key}"
        return str(uuid.uuid5(_NAMESPACE, name))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def _label(title: str, year: int) -> str:
    """A source label a clinician recognises: the guideline or label name, not the citation."""
    if " US prescribing information" in title:
        return (
            title.split(" US prescribing information", maxsplit=1)[0]
            + " US prescribing information"
        )
    authors = _AUTHORS.match(title)
    if authors is not None:
        rest = title[authors.end() :]
        work = rest.split(". ")[0]
        return _shorten(f"{authors.group(1)} et al. {year}: {work}", 100)
    return _shorten(title.split(". ", maxsplit=1)[0].split(" (", maxsplit=1)[0], 100)


def source(
    citation_id: str, fallback_url: str = DOCS_URL, rule_id: str | None = None
) -> dict[str, Any]:
    """Return a card ``source``: the source's short name, its URL and the rule as the topic.

    Args:
        citation_id: The citation the card rests on.
        fallback_url: Where to point when the citation id is not in the registry
            (the drug's page of the cluneal docs, say).
        rule_id: The cluneal rule, given as ``topic``.

    Returns:
        ``{"label", "url", "topic"?}``.

    Example:
        >>> source("isu_2018")["label"]
        'Isu et al. 2018: Superior and Middle Cluneal Nerve Entrapment as a Cause of Low Back Pain'
    """
    try:
        cited = citation(citation_id)
    except UnknownTermError:
        result: dict[str, Any] = {"label": f"cluneal knowledge base ({citation_id})"}
        result["url"] = fallback_url
    else:
        label = _label(cited.title, cited.year)
        if cited.mark is SourceMark.DECISION:
            label = f"cluneal package decision: {label}"
        url = citation_url(citation_id)
        if cited.url is None and cited.id.endswith("_label"):
            # A US label without a set id in the registry: its DailyMed search
            # reaches the label itself, not only our reference entry.
            url = _DAILYMED + cited.id.removesuffix("_label")
        result = {"label": label, "url": url}
    if rule_id:
        result["topic"] = {"system": _RULE_SYSTEM, "code": rule_id}
    return result


def drug_link(drug: Drug | str) -> dict[str, str]:
    """A card link to the drug's page of the cluneal docs."""
    name = drug.value if isinstance(drug, Drug) else drug
    return {
        "label": f"{name.capitalize()} in the cluneal docs",
        "url": f"{DOCS_URL}/drugs/generated/{name}.html",
        "type": "absolute",
    }


def card(
    ctx: CardContext,
    key: str,
    *,
    summary: str,
    indicator: str,
    detail: str,
    source: dict[str, Any],
    links: list[dict[str, str]] | None = None,
    suggestions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build one card; the detail ends with the safety statement.

    Critical cards get :data:`OVERRIDE_REASONS`; cards with suggestions let the
    clinician take at most one.
    """
    result: dict[str, Any] = {
        "uuid": ctx.uuid(f"card:{key}"),
        "summary": _shorten(summary, MAX_SUMMARY),
        "indicator": indicator,
        "detail": f"{detail}\n\n*{SAFETY_STATEMENT}*",
        "source": source,
    }
    if suggestions:
        result["suggestions"] = suggestions
        result["selectionBehavior"] = "at-most-one"
    if indicator == "critical":
        result["overrideReasons"] = list(OVERRIDE_REASONS)
    if links:
        result["links"] = links
    return result


def suggestion(
    ctx: CardContext, key: str, label: str, action: dict[str, Any], *, recommended: bool = True
) -> dict[str, Any]:
    """One suggestion with one action."""
    return {
        "label": _shorten(label, 200),
        "uuid": ctx.uuid(f"suggestion:{key}"),
        "isRecommended": recommended,
        "actions": [action],
    }


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".")


def alert_card(ctx: CardContext, alert: SafetyAlert, *, scope: str = "") -> dict[str, Any]:
    """A card for one safety alert: the action first, then what and why.

    Args:
        ctx: The card context.
        alert: The alert.
        scope: Extra key text where the same alert may appear twice (per order).

    Returns:
        The card.
    """
    drugs = " + ".join(alert.drugs)
    lead = first_sentence(alert.action) if alert.action else first_sentence(alert.message)
    summary = f"{drugs.capitalize()}: {lead}" if drugs else lead
    lines = [f"**{alert.severity.value.capitalize()}.** {alert.message}"]
    if alert.action:
        lines.append(f"**Action:** {alert.action}")
    lines.append(f"Rule `{alert.rule_id}`.")
    first_drug = alert.drugs[0] if alert.drugs else None
    links = [drug_link(first_drug)] if first_drug and _is_drug(first_drug) else None
    fallback = links[0]["url"] if links else DOCS_URL
    return card(
        ctx,
        f"alert:{scope}:{alert.rule_id}:{','.join(alert.drugs)}",
        summary=summary,
        indicator=INDICATOR[alert.severity],
        detail="\n\n".join(lines),
        source=source(alert.citation, fallback, alert.rule_id),
        links=links,
    )


def _is_drug(name: str) -> bool:
    return name in {d.value for d in Drug}


def schedule_summary(schedule: TitrationSchedule) -> str:
    """``Start gabapentin 100 mg at bedtime; titrate to 900 mg/day (cap 1400 mg/day)``."""
    first, last = schedule.steps[0], schedule.steps[-1]
    timing = TIMING_TEXT[first.timing]
    return (
        f"Start {schedule.drug.value} {first.dose_mg:g} mg {timing}; titrate to "
        f"{last.daily_dose_mg:g} mg/day (cap {schedule.max_daily_dose_mg:g} mg/day)"
    )


def schedule_table(schedule: TitrationSchedule) -> str:
    """The titration as a Markdown table, then the cap and every adjustment with its rule."""
    rows = ["| Day | Dose | Doses/day | Daily dose |", "| --- | --- | --- | --- |"]
    rows.extend(
        f"| {s.day} | {s.dose_mg:g} mg ({s.composition}) | {s.doses_per_day} | "
        f"{s.daily_dose_mg:g} mg/day |"
        for s in schedule.steps
    )
    lines = [
        "\n".join(rows),
        (
            f"Maximum daily dose **{schedule.max_daily_dose_mg:g} mg/day** "
            f"(rule `{schedule.max_daily_dose_rule}`)."
        ),
    ]
    lines.extend(f"- `{a.rule_id}`: {a.reason}" for a in schedule.adjustments)
    lines.extend(f"- `{s.rule_id}`: {s.text}" for s in schedule.supplemental_instructions)
    return "\n\n".join(lines)


def drug_choices_table(plan: CarePlan) -> str:
    """Every drug the care plan screened: its status, its screening result and why (Markdown)."""
    rows = ["| Drug | Status | Screening | Why |", "| --- | --- | --- | --- |"]
    rows.extend(
        f"| {c.drug.value} | {c.status.value.replace('_', ' ')} | "
        f"{c.screening.value.replace('_', ' ')} | {' '.join(c.reason.split())} |"
        for c in plan.drug_choices
    )
    return "\n".join(rows)


def cap_citation(schedule: TitrationSchedule, default: str) -> str:
    """The citation of the rule that set the schedule's cap."""
    rule = schedule.max_daily_dose_rule
    return next((a.citation for a in schedule.adjustments if a.rule_id == rule), default)


def sort_cards(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Most urgent first; the order is otherwise kept."""
    return sorted(cards, key=lambda c: _ORDER[c["indicator"]])
