"""Generate one MyST page per drug from the knowledge base (called from conf.py).

Usage in conf.py::

    from _drug_pages import write_drug_pages
    write_drug_pages(pathlib.Path(__file__).parent / "drugs" / "generated")
"""

from __future__ import annotations

import pathlib  # noqa: TC003 - used at runtime by callers' type hints too

from cluneal import KNOWLEDGE_BASE_VERSION, ContraindicatedError, Drug, Patient
from cluneal.knowledge.base import knowledge_base
from cluneal.knowledge.drugs import (
    KnowledgeRule,
    ProtocolName,
    monograph,
    monograph_text,
    rule_text,
)
from cluneal.knowledge.safety_rules import InteractionRule, PatientRule
from cluneal.titration import titration_schedule

_REGIMEN_NOTE = (
    "Doses a day never fall within a schedule; each step is the largest total its equal "
    "doses make at or below the intended dose, never above the largest single dose; a step "
    "that cannot rise is held (decision_doses_per_day_never_fall)."
)
_EXAMPLES = (
    (
        "Adult of 50, CrCl 100 mL/min",
        Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL", hla_b_1502=False),
        "standard",
    ),
    (
        "Woman of 78, CrCl 34 mL/min",
        Patient(
            age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL", hla_b_1502=False
        ),
        None,
    ),
)


def _mark(rule: KnowledgeRule) -> str:
    return f"`{rule.rule_id}` ({rule.citation}; {rule.mark.label})"


def _example_regimens(drug: Drug) -> list[str]:
    lines = ["", "## Example regimens", "", _REGIMEN_NOTE, ""]
    for label, patient, protocol in _EXAMPLES:
        try:
            s = titration_schedule(drug, patient, protocol=protocol)
        except ContraindicatedError as exc:
            lines.append(f"- {label}: not started ({', '.join(a.rule_id for a in exc.alerts)})")
            continue
        regimen = "; ".join(f"day {st.day}: {st.dose_mg:g} mg {st.timing.value}" for st in s.steps)
        lines.append(
            f"- {label} ({s.protocol.value.replace('_', ' ')}, at most "
            f"{s.max_daily_dose_mg:g} mg/day): {regimen}"
        )
    return lines


def _page(drug: Drug) -> str:
    mono = monograph(drug)
    kb = knowledge_base()

    def text(rule: KnowledgeRule) -> str:
        return rule_text(rule, kb)

    lines = [
        f"# {mono.title}",
        "",
        monograph_text(mono.summary, kb),
        "",
        f"Knowledge base {KNOWLEDGE_BASE_VERSION}.",
        "",
    ]
    lines += ["## Strengths", ""]
    lines += [f"- {s.mg:g} mg {s.form}" for s in mono.strengths]
    if mono.compounded:
        lines.append(f"- {text(mono.compounded)} — {_mark(mono.compounded)}")
    if mono.solution:
        lines.append(f"- {text(mono.solution)} — {_mark(mono.solution)}")
    lines += ["", "## Protocols", ""]
    for name in ProtocolName:
        p = mono.protocol(name)
        lines.append(f"- **{name.value.replace('_', ' ')}**: {text(p)} — {_mark(p)}")
    lines += ["", "## Caps", ""]
    lines += [
        f"- {c.max_mg_day:g} mg/day ({c.when.describe()}): {text(c)} — {_mark(c)}"
        for c in mono.caps
    ]
    if mono.renal_bands:
        lines += [
            "",
            "## Renal bands (Cockcroft–Gault CrCl)",
            "",
            "| band | mg/day columns | doses/day | largest single dose | rule |",
            "| --- | --- | --- | --- | --- |",
        ]
        for b in mono.renal_bands:
            columns = ", ".join(f"{c:g}" for c in b.columns_mg_day)
            low = min(b.min_doses_per_day or mono.dose_splits[0].min_doses, b.max_doses_per_day)
            doses = f"{low}" if low == b.max_doses_per_day else f"{low} or {b.max_doses_per_day}"
            single = "" if b.max_single_dose_mg is None else f"{b.max_single_dose_mg:g} mg"
            lines.append(f"| {b.band.value} | {columns} | {doses} | {single} | {_mark(b)} |")
    if mono.max_single_dose:
        lines += [
            "",
            f"Largest single dose: {text(mono.max_single_dose)} — {_mark(mono.max_single_dose)}",
        ]
    lines += _example_regimens(drug)
    if mono.dialysis_supplements:
        lines += ["", "## After haemodialysis", ""]
        lines += [f"- {text(r)} — {_mark(r)}" for r in mono.dialysis_supplements]
    lines += [
        "",
        f"Dialysis: {monograph_text(mono.dialysis_note, kb)}",
        "",
        "## Contraindications and alerts",
        "",
    ]
    for rule in kb.safety_rules:
        if (isinstance(rule, PatientRule) and drug in rule.drugs) or (
            isinstance(rule, InteractionRule) and (rule.drug is drug or drug in rule.partner_drugs)
        ):
            message = rule.message.format(drug=drug.value, partners="…")
            lines.append(f"- **{rule.severity.value}**: {message} — {_mark(rule)}")
    for alert in mono.dose_alerts:
        lines.append(f"- **{alert.severity.value}**: {text(alert)} — {_mark(alert)}")
    if mono.monitoring:
        lines += ["", "## Monitoring", ""]
        lines += [f"- {text(m)} — {_mark(m)}" for m in mono.monitoring]
    return "\n".join(lines) + "\n"


def write_drug_pages(outdir: pathlib.Path) -> list[str]:
    """Write one page per drug; ``drugs/index.md`` lists them (a glob toctree), no nested index."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "index.md").unlink(missing_ok=True)  # an older build's nested "Drugs" page
    written = []
    for drug in Drug:
        name = f"{drug.value}.md"
        (outdir / name).write_text(_page(drug), encoding="utf-8")
        written.append(name)
    return written
