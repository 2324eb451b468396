"""Generate the FHIR code tables from the knowledge base (called from conf.py).

Usage in conf.py::

    from _code_tables import write_code_tables
    write_code_tables(pathlib.Path(__file__).parent / "generated")
"""

from __future__ import annotations

import pathlib  # noqa: TC003 - used at runtime by callers' type hints too

from cluneal import citation
from cluneal.knowledge.codes import code_tables


def _source(citation_id: str) -> str:
    cited = citation(citation_id)
    mark = "" if cited.verified else " (unverified)"
    return f"[{cited.id}]({cited.url}){mark}" if cited.url else f"{cited.id}{mark}"


def _tables() -> str:
    tables = code_tables()
    lines = [
        "<!-- Generated from src/cluneal/knowledge/codes.toml by docs/_code_tables.py. -->",
        "",
        "### Observations (LOINC)",
        "",
        "| LOINC | name | Patient field | units accepted | source |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines.extend(
        f"| [{o.loinc}](https://loinc.org/{o.loinc}) | {o.display} | `{o.field}` | "
        f"{', '.join(f'`{u}`' for u in o.units)} | {_source(o.citation)} |"
        for o in tables.observations
    )
    hla = tables.hla_b_1502
    escaped = hla.display.replace("*", "\\*")  # Markdown emphasis
    lines += [
        "",
        "### HLA-B\\*15:02 (LOINC)",
        "",
        f"[{hla.loinc}](https://loinc.org/{hla.loinc}) {escaped} sets "
        "`hla_b_1502`: positive from the LOINC answers "
        f"{', '.join(hla.positive_answers)} or the words "
        f"{', '.join(repr(w) for w in hla.positive_words)}; negative from "
        f"{', '.join(hla.negative_answers)} or {', '.join(repr(w) for w in hla.negative_words)}; "
        "`valueBoolean` as it is. Sources: " + ", ".join(_source(c) for c in hla.citations) + ".",
    ]
    lines += [
        "",
        "### Conditions (SNOMED CT, ICD-10-CM)",
        "",
        (
            "An ICD-10-CM code matches a listed code and every code below it (`G40` matches "
            "`G40.909`); SNOMED CT concepts match exactly."
        ),
        "",
        "| cluneal | SNOMED CT | ICD-10-CM | note |",
        "| --- | --- | --- | --- |",
    ]
    for entry in (*tables.conditions, *tables.states):
        name = entry.condition.value if hasattr(entry, "condition") else entry.field
        snomed = (
            ", ".join(f"{c} (unverified)" if c in entry.unverified else c for c in entry.snomed)
            or "none listed"
        )
        lines.append(f"| `{name}` | {snomed} | {', '.join(entry.icd10cm)} | {entry.note or ''} |")
    sources = sorted({c for e in (*tables.conditions, *tables.states) for c in e.citations})
    lines += ["", "Sources: " + ", ".join(_source(c) for c in sources) + ".", ""]
    lines += [
        "### Medications and allergies (RxNorm ingredients)",
        "",
        "| medication | RxCUI | source |",
        "| --- | --- | --- |",
    ]
    rows = []
    for group in tables.rxnorm:
        rows += [(name, code, _source(group.citation)) for name, code in group.codes.items()]
        rows += [
            (name, f"none: {why}", _source(group.citation))
            for name, why in group.without_code.items()
        ]
    lines.extend(f"| {n} | {c} | {s} |" for n, c, s in sorted(rows))
    allergy = ", ".join(
        f"an allergy to a `{cls.value}` member sets `{cond.value}`"
        for cls, cond in tables.allergy_class_conditions.items()
    )
    lines += ["", f"Allergies are read with the same RxNorm table; {allergy}.", ""]
    return "\n".join(lines)


def write_code_tables(outdir: pathlib.Path) -> list[str]:
    """Write ``fhir-codes.md`` (included by docs/fhir.md) and return its name."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "fhir-codes.md").write_text(_tables(), encoding="utf-8")
    return ["fhir-codes.md"]
