"""The renal calculator block of :mod:`cluneal.display` (inputs, formula, result, evidence)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from cluneal import _html as h
from cluneal._format import (
    CRCL_FORMULA,
    EGFR_FORMULA,
    NO_ACTION,
    clinical_number,
    renal_citations,
    renal_inputs,
)

if TYPE_CHECKING:
    from cluneal.patient import Patient
    from cluneal.renal import RenalAssessment

__all__ = ["renal_body_html"]

_FORMULA: Final = (
    "font-family:SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace;font-size:12px;"
    "background:#f6f8fa;border:1px solid #eaeef2;border-radius:4px;padding:4px 8px;margin:2px 0"
)


def _crcl_value(renal: RenalAssessment) -> str:
    crcl = renal.crcl_ml_min
    if crcl is not None:
        return clinical_number(crcl)
    return "not computed" if renal.on_dialysis else "unknown"


def renal_body_html(renal: RenalAssessment, patient: Patient | None, *, heading: bool) -> str:
    """The renal calculator; ``heading=False`` inside a care plan (its alerts listed there)."""
    parts = [h.heading_html("Renal function", heading=heading)]
    if patient is not None:
        rows = [
            [h.e(name), h.e(given), h.e(used or given)]
            for name, given, used in renal_inputs(patient)
        ]
        parts.append(h.section_html("Inputs", h.table_html(("Input", "Given", "Used"), rows)))
    parts.append(
        h.section_html(
            "Formula",
            f'<div style="{_FORMULA}">Cockcroft\u2013Gault: {h.e(CRCL_FORMULA)}</div>'
            + (
                f'<div style="{_FORMULA}">CKD-EPI 2021: {h.e(EGFR_FORMULA)}</div>'
                if renal.egfr is not None
                else ""
            ),
        )
    )
    crcl = renal.crcl_ml_min
    results = h.headline_html(
        "Creatinine clearance",
        _crcl_value(renal),
        "mL/min" if crcl is not None else "",
        f'<div style="{h.MUTED}">Cockcroft\u2013Gault'
        + (" is not valid on haemodialysis" if renal.on_dialysis and crcl is None else "")
        + "</div>",
    )
    if renal.egfr is not None:
        results += h.headline_html(
            "eGFR",
            clinical_number(float(renal.egfr.magnitude)),
            "mL/min/1.73 m\u00b2",
            f'<div style="{h.MUTED}">CKD-EPI 2021 (staging only)</div>',
        )
    parts.append(h.section_html("Result", results))
    interpretation = [
        ("Dosing band", f"<b>{h.e(renal.band.value.replace('_', ' '))}</b>"),
    ]
    if renal.gfr_category is not None:
        interpretation.append(("KDIGO GFR category", f"<b>{h.e(renal.gfr_category.value)}</b>"))
    if not renal.known:
        interpretation.append(
            (
                "Caution",
                h.e(
                    "renal function unknown (missing: "
                    f"{', '.join(renal.missing)}): dosed in the most restrictive band"
                ),
            )
        )
    interpretation.append(
        ("Working", f"{h.e(renal.reason)} {h.source_html(renal.rule_id, (renal.citation,))}")
    )
    parts.append(h.section_html("Interpretation", h.kv_table_html(interpretation)))
    if heading and renal.alerts:  # inside a care plan, every alert is listed once, under Alerts
        parts.append(h.section_html("Alerts", h.alerts_html(renal.alerts, NO_ACTION)))
    parts.append(h.section_html("Evidence", h.evidence_html(renal_citations(renal))))
    return "".join(parts)
