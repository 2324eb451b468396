"""One row through the scalar functions: what every vectorised result must equal.

A cohort row that the engine cannot key (a value the vectorised checks do not
accept, a dose that scales with the clearance itself) is decided here, and so
is the first row of every key. The outputs are the scalar results, read into
the cohort's output columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from cluneal._first_line import withhold_rule
from cluneal.errors import ClunealError, ContraindicatedError
from cluneal.pathway import next_step
from cluneal.patient import Patient
from cluneal.plan import care_plan
from cluneal.renal import assess_renal_function
from cluneal.titration import titration_schedule

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cluneal.alerts import SafetyAlert
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.titration import TitrationSchedule
    from cluneal.vocabulary import Drug

__all__ = ["Row", "care_plan_row", "pathway_part", "schedule_row"]

Row = dict[str, Any]
"""The output values of one row, by output column."""


def _renal(row: Row, patient: Patient, knowledge: KnowledgeBase) -> None:
    renal = assess_renal_function(patient, knowledge=knowledge)
    row["crcl_ml_min"] = renal.crcl_ml_min
    row["renal_band"] = renal.band.value


def schedule_row(patient: dict[str, Any], drug: Drug, knowledge: KnowledgeBase) -> Row:
    """One row of :func:`cluneal.cohort.schedules`, through the scalar functions."""
    row: Row = {}
    try:
        person = Patient.model_validate(patient)
        try:
            schedule = titration_schedule(drug, person, knowledge=knowledge)
        except ContraindicatedError as exc:
            _renal(row, person, knowledge)
            row["contraindicated"] = True
            row["alert_rule_ids"] = [a.rule_id for a in exc.alerts]
            row["_alerts"] = _alerts(exc.alerts)
            return row
    except (ClunealError, ValidationError) as exc:
        return {"error": str(exc)}
    row["crcl_ml_min"] = schedule.renal.crcl_ml_min
    row["renal_band"] = schedule.renal.band.value
    row["max_daily_dose_mg"] = schedule.max_daily_dose_mg
    row["final_daily_dose_mg"] = schedule.steps[-1].daily_dose_mg
    row["first_daily_dose_mg"] = schedule.steps[0].daily_dose_mg
    row["steps"] = len(schedule.steps)
    row["contraindicated"] = False
    row["alert_rule_ids"] = [a.rule_id for a in schedule.alerts]
    row["_alerts"] = _alerts(schedule.alerts)
    row["_steps"] = _steps(schedule)
    return row


def _alerts(alerts: Sequence[SafetyAlert]) -> tuple[tuple[str, str, str | None], ...]:
    """(rule id, severity, drugs) of each alert, for the long ``alerts`` table."""
    return tuple((a.rule_id, a.severity.value, ", ".join(a.drugs) or None) for a in alerts)


def _steps(schedule: TitrationSchedule) -> tuple[tuple[int, float, int, float], ...]:
    """(day, dose mg, doses a day, daily dose mg) of each step, for the long ``steps`` table."""
    return tuple((s.day, s.dose_mg, s.doses_per_day, s.daily_dose_mg) for s in schedule.steps)


def care_plan_row(
    patient: dict[str, Any], findings: dict[str, Any], knowledge: KnowledgeBase
) -> Row:
    """One row of :func:`cluneal.cohort.care_plans`, through the scalar functions."""
    try:
        plan = care_plan(patient, findings, knowledge=knowledge)
    except (ClunealError, ValidationError) as exc:
        return {"error": str(exc)}
    row: Row = {}
    _renal(row, plan.patient, knowledge)
    row["classification"] = plan.assessment.classification.value
    row["next_step"] = plan.recommendation.step.value
    if plan.medications:
        schedule = plan.medications[0]
        row["drug"] = schedule.drug.value
        row["max_daily_dose_mg"] = schedule.max_daily_dose_mg
        row["final_daily_dose_mg"] = schedule.steps[-1].daily_dose_mg
    row["alert_rule_ids"] = [a.rule_id for a in plan.alerts]
    row["_alerts"] = _alerts(plan.alerts)
    if plan.medications:
        row["_steps"] = _steps(plan.medications[0])
    return row


def pathway_part(findings: dict[str, Any], knowledge: KnowledgeBase) -> tuple[Row | None, Any]:
    """The pathway outputs of a care plan, which read the findings only.

    ``care_plan`` calls ``next_step`` on the findings exactly so; the code returned is
    the withholding rule that fired (the medication part depends on it), read by the
    plan module's own function.

    Returns:
        (classification and next step, or ``None`` when the findings are refused; the
        withholding rule id or ``None``).
    """
    try:
        recommendation = next_step(findings, knowledge=knowledge)
    except (ClunealError, ValidationError):
        return None, None
    assessment = recommendation.assessment
    rule = withhold_rule(assessment, knowledge.pharmacotherapy)
    outputs: Row = {
        "classification": assessment.classification.value,
        "next_step": recommendation.step.value,
    }
    return outputs, None if rule is None else rule.rule_id
