"""The scalar reference for the cohort tests: one row, through the public scalar functions only.

Written from API.md "Cohorts" and docs/cohort.md (how a row becomes a patient
and findings), independently of cluneal.cohort's own row code: each output
column is what ``cluneal.titration_schedule``, ``cluneal.care_plan`` and
``cluneal.assess_renal_function`` return for the row.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

import cluneal

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase

# The output columns API.md names ("Cohorts"), in order.
SCHEDULE_OUT = (
    "error",
    "crcl_ml_min",
    "renal_band",
    "max_daily_dose_mg",
    "final_daily_dose_mg",
    "first_daily_dose_mg",
    "steps",
    "contraindicated",
    "alert_rule_ids",
)
PLAN_OUT = (
    "error",
    "crcl_ml_min",
    "renal_band",
    "classification",
    "next_step",
    "drug",
    "max_daily_dose_mg",
    "final_daily_dose_mg",
    "alert_rule_ids",
)

CONDITIONS = (
    "seizure_disorder",
    "recent_myocardial_infarction",
    "cardiac_conduction_disease",
    "narrow_angle_glaucoma",
    "urinary_retention",
    "pregnancy",
    "opioid_use_disorder",
    "falls_history",
    "cirrhosis",
    "dementia",
)
MEDICATIONS = ("sertraline", "phenelzine", "oxycodone", "warfarin", "lorazepam", "vitamin d")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [p.strip() for p in value.split(";") if p.strip()]
    return list(value)


def patient_of(record: dict[str, Any]) -> dict[str, Any]:
    patient: dict[str, Any] = {"age": record.get("age"), "sex": record.get("sex")}
    units = {"weight_kg": ("weight", "kg"), "height_cm": ("height", "cm")}
    for column, (field, unit) in units.items():
        value = record.get(column)
        if value is not None:
            patient[field] = value if isinstance(value, str) else {"value": value, "unit": unit}
    mg, umol = record.get("serum_creatinine_mg_dl"), record.get("serum_creatinine_umol_l")
    if mg is not None and umol is not None:
        raise cluneal.ClunealError(
            "serum_creatinine_mg_dl and serum_creatinine_umol_l: both given; give one of them"
        )
    if mg is not None:
        patient["serum_creatinine"] = {"value": mg, "unit": "mg/dL"}
    if umol is not None:
        patient["serum_creatinine"] = {"value": umol, "unit": "umol/L"}
    for column in ("on_dialysis", "hepatic_impairment", "hla_b_1502"):
        if record.get(column) is not None:
            patient[column] = record[column]
    for column in ("conditions", "medications"):
        if record.get(column) is not None:
            patient[column] = _names(record[column])
    return patient


def findings_of(record: dict[str, Any]) -> dict[str, Any]:
    findings: dict[str, Any] = {}
    lbp, deep = record.get("low_back_pain"), record.get("deep_aching_poorly_localized")
    if lbp is not None and deep is not None:
        findings["pain"] = {"low_back_pain": lbp, "deep_aching_poorly_localized": deep}
    site = record.get("tender_point_site")
    if site == "none":
        findings["tender_points"] = []
    elif site is not None:
        findings["tender_points"] = [
            {"site": site, "reproduces_pain": record.get("tender_point_reproduces_pain")}
        ]
    if record.get("block_relief_percent") is not None:
        block: dict[str, Any] = {
            "branches": ["superior", "middle"],
            "relief_percent": record["block_relief_percent"],
        }
        if record.get("block_relief_days") is not None:
            block["relief_duration"] = {"value": record["block_relief_days"], "unit": "d"}
        findings["block"] = block
    return findings


def _renal(patient: cluneal.Patient, kb: KnowledgeBase) -> dict[str, Any]:
    renal = cluneal.assess_renal_function(patient, knowledge=kb)
    return {"crcl_ml_min": renal.crcl_ml_min, "renal_band": renal.band.value}


def schedule_reference(record: dict[str, Any], drug: str, kb: KnowledgeBase) -> dict[str, Any]:
    empty = dict.fromkeys(SCHEDULE_OUT)
    try:
        patient_input = patient_of(record)
        schedule = cluneal.titration_schedule(drug, patient_input, knowledge=kb)
    except cluneal.ContraindicatedError as exc:
        patient = cluneal.Patient.model_validate(patient_input)
        return {
            **empty,
            **_renal(patient, kb),
            "contraindicated": True,
            "alert_rule_ids": [a.rule_id for a in exc.alerts],
        }
    except (cluneal.ClunealError, ValidationError) as exc:
        return {**empty, "error": str(exc)}
    return {
        **empty,
        "crcl_ml_min": schedule.renal.crcl_ml_min,
        "renal_band": schedule.renal.band.value,
        "max_daily_dose_mg": schedule.max_daily_dose_mg,
        "final_daily_dose_mg": schedule.steps[-1].daily_dose_mg,
        "first_daily_dose_mg": schedule.steps[0].daily_dose_mg,
        "steps": len(schedule.steps),
        "contraindicated": False,
        "alert_rule_ids": [a.rule_id for a in schedule.alerts],
    }


def care_plan_reference(record: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    empty = dict.fromkeys(PLAN_OUT)
    try:
        plan = cluneal.care_plan(patient_of(record), findings_of(record), knowledge=kb)
    except (cluneal.ClunealError, ValidationError) as exc:
        return {**empty, "error": str(exc)}
    out = {
        **empty,
        **_renal(plan.patient, kb),
        "classification": plan.assessment.classification.value,
        "next_step": plan.recommendation.step.value,
        "alert_rule_ids": [a.rule_id for a in plan.alerts],
    }
    if plan.medications:
        schedule = plan.medications[0]
        out["drug"] = schedule.drug.value
        out["max_daily_dose_mg"] = schedule.max_daily_dose_mg
        out["final_daily_dose_mg"] = schedule.steps[-1].daily_dose_mg
    return out


def random_records(n: int, seed: int, *, findings: bool = True) -> list[dict[str, Any]]:
    """Fixed-seed rows: mostly plausible, with every kind of bad value now and then."""
    rng = np.random.default_rng(seed)

    def maybe(p_null: float, value: Any) -> Any:
        return None if rng.random() < p_null else value

    def pick(options: tuple[Any, ...]) -> Any:
        return options[int(rng.integers(len(options)))]

    records: list[dict[str, Any]] = []
    for _ in range(n):
        age = float(rng.integers(18, 100)) if rng.random() < 0.95 else float(rng.uniform(15, 125))
        record: dict[str, Any] = {
            "patient_id": f"p{len(records)}",
            "age": maybe(0.01, age),
            "sex": maybe(0.01, "other" if rng.random() < 0.01 else pick(("female", "male"))),
            "weight_kg": maybe(0.05, round(float(rng.uniform(15, 190)), 1)),
            "height_cm": maybe(0.4, round(float(rng.uniform(140, 200)), 1)),
            "on_dialysis": maybe(0.5, bool(rng.random() < 0.05)),
            "hepatic_impairment": maybe(
                0.3,
                "unknown"
                if rng.random() < 0.01
                else pick(("none", "none", "mild", "moderate", "severe")),
            ),
            "hla_b_1502": maybe(0.6, bool(rng.random() < 0.1)),
        }
        scr = round(float(rng.lognormal(0.0, 0.6)), 2)
        if rng.random() < 0.5:
            record["serum_creatinine_mg_dl"] = maybe(0.1, scr)
            record["serum_creatinine_umol_l"] = None if rng.random() > 0.005 else 80.0
        else:
            record["serum_creatinine_mg_dl"] = None
            record["serum_creatinine_umol_l"] = maybe(0.1, round(scr * 88.4, 0))
        if rng.random() < 0.3:
            chosen = [c for c in CONDITIONS if rng.random() < 0.12]
            record["conditions"] = ";".join(chosen)
        else:
            record["conditions"] = None
        if rng.random() < 0.3:
            record["medications"] = ";".join(m for m in MEDICATIONS if rng.random() < 0.15)
        else:
            record["medications"] = None
        if findings:
            record["low_back_pain"] = maybe(0.2, bool(rng.random() < 0.8))
            record["deep_aching_poorly_localized"] = maybe(0.2, bool(rng.random() < 0.7))
            site = maybe(0.3, pick(("iliac_crest", "caudal_to_psis", "other", "none")))
            record["tender_point_site"] = site
            record["tender_point_reproduces_pain"] = maybe(0.05, bool(rng.random() < 0.7))
            record["block_relief_percent"] = maybe(0.5, float(rng.integers(0, 11) * 10))
            record["block_relief_days"] = maybe(0.4, float(pick((1, 7, 30, 90, 120))))
        records.append(record)
    return records


def same(a: Any, b: Any) -> bool:
    """Equal values, with None, NaN and pandas' missing values all meaning null."""
    if _null(a) or _null(b):
        return _null(a) and _null(b)
    if isinstance(a, float) or isinstance(b, float):
        return float(a) == float(b)
    return bool(a == b)


def _null(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)
