"""Building blocks of the HTML renderings in :mod:`cluneal.display`.

Convention: functions and variables that hold HTML end in ``_html``; every
other value is text and goes through :func:`e` before it is placed in markup.
Styles are inline attributes only: no ``<style>`` or ``<script>`` element, no
external asset, so a fragment renders the same in a notebook, an exported
HTML file or an e-mail.

Example:
    >>> print(link_html("https://doi.org/10.1/x", e("a <title>")))
    <a href="https://doi.org/10.1/x" style="color:#0b57a4" target="_blank"
    rel="noopener">a &lt;title&gt;</a>
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Final

from cluneal._format import DECISION_PREFIX, citation_label, citation_url
from cluneal.alerts import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from cluneal.alerts import SafetyAlert

__all__ = [
    "INFO",
    "MUTED",
    "SEVERITY_COLOURS",
    "alerts_html",
    "badge_html",
    "citation_html",
    "code_html",
    "e",
    "evidence_html",
    "heading_html",
    "headline_html",
    "kv_table_html",
    "link_html",
    "list_html",
    "root_html",
    "section_html",
    "source_html",
    "table_html",
]

# Palette: (background, border, text). Contrast ratios of text on background
# are above 7:1, and every coloured element also says its meaning in words.
SEVERITY_COLOURS: Final = {
    Severity.CONTRAINDICATED: ("#fdecea", "#b71c1c", "#7f0000"),
    Severity.MAJOR: ("#fff3e0", "#e65100", "#6d2c00"),
    Severity.MODERATE: ("#fffbe6", "#b58a00", "#4d3b00"),
    Severity.INFO: ("#eaf2fb", "#1f5fa8", "#123a66"),
}
INFO: Final = SEVERITY_COLOURS[Severity.INFO]

_ROOT: Final = (
    "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "font-size:13px;line-height:1.45;color:#1f2328;max-width:56em;"
    "border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:4px 0;"
    "background:#ffffff"
)
H2: Final = "font-size:16px;margin:0 0 6px 0;font-weight:600"
H3: Final = (
    "font-size:13px;margin:12px 0 4px 0;font-weight:600;text-transform:uppercase;"
    "letter-spacing:0.04em;color:#57606a"
)
_TABLE: Final = "border-collapse:collapse;margin:4px 0;font-size:12.5px"
TH: Final = (
    "text-align:left;padding:3px 8px;border-bottom:2px solid #d0d7de;"
    "background:#f6f8fa;font-weight:600"
)
TD: Final = "padding:3px 8px;border-bottom:1px solid #eaeef2;vertical-align:top"
_NUM: Final = f"{TD};text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap"
_CODE: Final = (
    "font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:11.5px;"
    "background:#f6f8fa;border-radius:3px;padding:0 3px;color:#24292f"
)
MUTED: Final = "color:#57606a;font-size:12px"
_LIST: Final = "margin:2px 0 2px 0;padding-left:20px"
_LINK: Final = "color:#0b57a4"


def e(value: object) -> str:
    """Escape text for HTML (quotes included)."""
    return html.escape(str(value), quote=True)


def code_html(text: str) -> str:
    """A rule id or other identifier in monospace."""
    return f'<code style="{_CODE}">{e(text)}</code>'


def link_html(url: str, text_html: str, title: str | None = None) -> str:
    """A link that opens in a new tab; ``text_html`` is already HTML."""
    hover = f' title="{e(title)}"' if title else ""
    return (
        f'<a href="{e(url)}" style="{_LINK}"{hover} target="_blank" rel="noopener">{text_html}</a>'
    )


def citation_html(citation_id: str) -> str:
    """A citation id as a link to the source (its title is the hover text)."""
    return link_html(
        citation_url(citation_id), code_html(citation_id), title=citation_label(citation_id)
    )


def source_html(rule_id: str, citations: Iterable[str]) -> str:
    """``[rule id; citation links]`` in muted text."""
    cites = ", ".join(citation_html(c) for c in citations)
    inner = code_html(rule_id) + (f"; {cites}" if cites else "")
    return f'<span style="{MUTED}">[{inner}]</span>'


def evidence_html(citation_ids: Iterable[str]) -> str:
    """A list of citation titles, each a link to its source."""
    unique = list(dict.fromkeys(citation_ids))
    if not unique:
        return f'<p style="{MUTED};margin:2px 0">No citations.</p>'
    decisions = [c for c in unique if c.startswith(DECISION_PREFIX)]
    sources = [c for c in unique if not c.startswith(DECISION_PREFIX)]
    parts = []
    # The package's own decisions first, apart from the published sources.
    for label, ids in (("Package decisions", decisions), ("Sources", sources)):
        if not ids:
            continue
        if decisions and sources:
            parts.append(f'<div style="{MUTED};margin-top:4px">{e(label)}</div>')
        parts.append(
            list_html(
                f"{link_html(citation_url(c), e(citation_label(c)))} "
                f'<span style="{MUTED}">({citation_html(c)})</span>'
                for c in ids
            )
        )
    return "".join(parts)


def root_html(kind: str, body_html: str) -> str:
    """The outer ``<div>`` of every fragment."""
    return f'<div style="{_ROOT}" data-cluneal="{e(kind)}">{body_html}</div>'


def heading_html(text: str, *, heading: bool) -> str:
    """A page title (``heading=True``) or, inside a care plan, a section title."""
    return f'<h2 style="{H2}">{e(text)}</h2>' if heading else section_html(text, "")


def section_html(title: str, body_html: str) -> str:
    """A small upper-case heading followed by its body."""
    return f'<h3 style="{H3}">{e(title)}</h3>{body_html}'


def badge_html(text: str, colours: tuple[str, str, str]) -> str:
    """A rounded label, its meaning written in words."""
    background, border, fg = colours
    return (
        f'<span style="display:inline-block;padding:1px 7px;border-radius:10px;'
        f"background:{background};border:1px solid {border};color:{fg};font-weight:600;"
        f'font-size:11.5px;letter-spacing:0.03em">{e(text.upper())}</span>'
    )


def headline_html(label: str, value: str, unit: str, note_html: str = "") -> str:
    """A calculator-style result: label, big number, unit, and a note below."""
    return (
        '<div style="display:inline-block;vertical-align:top;margin:4px 24px 4px 0">'
        f'<div style="{MUTED};text-transform:uppercase;letter-spacing:0.04em">{e(label)}</div>'
        f'<div style="font-size:26px;font-weight:700;line-height:1.2">{e(value)}'
        f'<span style="font-size:14px;font-weight:500;color:#57606a"> {e(unit)}</span></div>'
        f"{note_html}</div>"
    )


def table_html(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: frozenset[int] = frozenset()
) -> str:
    """A table; ``rows`` hold HTML cells (already escaped), ``headers`` hold text."""
    head = "".join(f'<th style="{TH}">{e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_NUM if i in numeric else TD}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table style="{_TABLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def kv_table_html(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of ``(label text, value HTML)`` rows."""
    cells = "".join(
        f'<tr><th style="{TH};background:none;border-bottom:1px solid #eaeef2">{e(label)}</th>'
        f'<td style="{TD}">{value}</td></tr>'
        for label, value in rows
    )
    return f'<table style="{_TABLE}"><tbody>{cells}</tbody></table>'


def list_html(items_html: Iterable[str]) -> str:
    """A bulleted list of HTML items (empty text when there are none)."""
    items = "".join(f"<li>{item}</li>" for item in items_html)
    return f'<ul style="{_LIST}">{items}</ul>' if items else ""


def alerts_html(alerts: Sequence[SafetyAlert], no_action: str) -> str:
    """Each alert once, coloured by severity, with its action line and source."""
    if not alerts:
        return f'<p style="{MUTED};margin:2px 0">No alerts.</p>'
    parts = []
    for alert in alerts:
        background, border, fg = SEVERITY_COLOURS[alert.severity]
        drugs = f" ({', '.join(alert.drugs)})" if alert.drugs else ""
        action = alert.action or no_action
        parts.append(
            f'<div style="background:{background};border-left:4px solid {border};color:{fg};'
            f'padding:5px 10px;margin:4px 0;border-radius:3px" '
            f'data-severity="{e(alert.severity.value)}" data-rule="{e(alert.rule_id)}">'
            f"<b>{e(alert.severity.value.upper())}</b>{e(drugs)}: {e(alert.message)} "
            f"{source_html(alert.rule_id, (alert.citation,))}"
            f'<div style="margin-top:2px"><b>Action:</b> {e(action)}</div></div>'
        )
    return "".join(parts)
