"""A schedule's plan: its steps and what explains them, for a choice and a CrCl scale.

:func:`plan_for` composes the choice's protocol into steps from the strengths
(:mod:`cluneal.titration._steps`) and adds the adjustments and alerts that
follow from them (the largest single dose, a smallest first dose, rounding, the
oral solution, a local protocol's strengths, dose alerts, post-dialysis
supplements). A plan is memoised per choice, except where gabapentin's
end-stage band scales it by the patient's own CrCl: that plan is composed for
its schedule, and its words that format numbers are rendered when read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from cluneal._base import trusted
from cluneal._lazy_text import Deferred
from cluneal._numbers import clinical_number
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, Severity
from cluneal.titration import _text
from cluneal.titration._choice import MEMO_BOUND, Choice
from cluneal.titration._steps import compose_plan, plan_steps
from cluneal.titration._supplements import supplements
from cluneal.titration._tables import DrugTable, Tables, rule_adjustment, rule_alert

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from cluneal._compose import ComposedStep
    from cluneal.knowledge.drugs import KnowledgeRule
    from cluneal.knowledge.monograph import Solution
    from cluneal.titration._models import Adjustment, SupplementalInstruction, TitrationStep

__all__ = ["Plan", "clear", "plan_for"]

_EPS: Final = 1e-9


def _single_dose_adjustment(table: DrugTable, mg: float, rule: KnowledgeRule) -> Adjustment:
    """The largest single dose's adjustment: the same words for every schedule (memoised)."""
    key = (table, rule.rule_id, mg)
    found = _STATIC.get(key)
    if found is None:
        text = _text.SINGLE_DOSE.format(mg=mg, text=table.texts[rule.rule_id])
        found = _remember(key, rule_adjustment(rule, text, citation=table.mono.citation))
    return found


def _solution_adjustment(table: DrugTable, solution: Solution) -> Adjustment:
    """The oral solution's adjustment: the same words for every schedule (memoised)."""
    key = (table, solution.rule_id, 0.0)
    found = _STATIC.get(key)
    if found is None:
        text = _text.SOLUTION.format(mg_per_ml=solution.mg_per_ml)
        found = _remember(key, rule_adjustment(solution, text))
    return found


# Adjustments that depend only on a compiled drug table (a few per drug; the key holds
# it), bounded like the other memos (a program making many knowledge bases).
_STATIC: dict[tuple[DrugTable, str, float], Adjustment] = {}


def _remember(key: tuple[DrugTable, str, float], adjustment: Adjustment) -> Adjustment:
    if len(_STATIC) >= MEMO_BOUND:
        _STATIC.clear()
    _STATIC[key] = adjustment
    return adjustment


def _first_smallest_words(dose: float, permitted: float) -> str:
    return _text.FIRST_SMALLEST.format(dose=dose, cap=clinical_number(permitted, down=True))


def _rounded_down_words(goal: float, final: float) -> str:
    return _text.ROUNDED_DOWN.format(goal=clinical_number(goal, down=True), final=final)


def _now(render: Callable[..., str], *args: float) -> str:
    return render(*args)


def _deferred(render: Callable[..., str], *args: float) -> Deferred:
    return Deferred(render, *args)


class Plan:
    """A choice's steps with what explains them (memoised when no CrCl scales them).

    Attributes:
        steps: The steps.
        permitted: The cap after any CrCl scaling (mg/day).
        target: The target after capping and scaling (mg/day).
        after: The adjustments reported after the caps (the largest single
            dose, a smallest first dose, rounding, the oral solution, a local
            protocol's strengths).
        alerts: A local protocol's first-dose alert and the dose alerts.
        supplements: Post-haemodialysis instructions.
    """

    __slots__ = ("after", "alerts", "permitted", "steps", "supplements", "target")

    def __init__(
        self,
        *,
        steps: tuple[TitrationStep, ...],
        permitted: float,
        target: float,
        after: tuple[Adjustment, ...],
        alerts: tuple[SafetyAlert, ...],
        supplements: tuple[SupplementalInstruction, ...],
    ) -> None:
        self.steps = steps
        self.permitted = permitted
        self.target = target
        self.after = after
        self.alerts = alerts
        self.supplements = supplements


def _plan(  # noqa: PLR0917 - private, every argument is needed
    compiled: Tables,
    choice: Choice,
    scale: float,
    day0: dt.date | None,
    on_dialysis: bool,  # noqa: FBT001 - a cache key, not a flag argument
    compose: Callable[..., tuple[tuple[TitrationStep, ...], bool, tuple[ComposedStep, ...]]],
) -> Plan | float:
    """The plan, or the permitted daily dose when no dose the strengths make is within it."""
    table = choice.table
    band_rule = choice.band_rule
    solution = table.mono.solution
    use_solution = scale < 1.0 and solution is not None and choice.band in solution.bands
    single = choice.single
    cap_mg = choice.cap_mg
    goal = choice.goal
    steps, used_solution, composed = compose(
        table,
        choice.proto.name,
        goal,
        cap_mg,
        None if band_rule is None else band_rule.band,
        choice.max_doses,
        None if single is None else single[0],
        choice.spaced,
        scale,
        use_solution,
        day0,
    )
    permitted = cap_mg * scale
    if not steps:
        return permitted
    after: list[Adjustment] = []
    alerts: list[SafetyAlert] = []
    if single is not None and any(
        c.intended_mg_day / c.doses_per_day > single[0] + _EPS for c in composed
    ):
        after.append(_single_dose_adjustment(table, single[0], single[1]))
    first = composed[0]
    # Scaled by a patient's CrCl, a plan is built for one schedule: the words that
    # format its numbers for people are rendered only if read.
    words = _deferred if scale < 1.0 else _now
    if first.smallest:
        after.append(
            rule_adjustment(
                compiled.rules["titration.first_step.smallest_dose"],
                words(_first_smallest_words, first.dose_mg, permitted),
            )
        )
    final = steps[-1].daily_dose_mg
    if final < goal * scale - _EPS:
        after.append(
            rule_adjustment(
                compiled.rules["titration.rounding.down"],
                words(_rounded_down_words, goal * scale, final),
            )
        )
    if used_solution and solution is not None:
        after.append(_solution_adjustment(table, solution))
    local = compiled.protocol
    if table.stocked is not None:
        after.append(table.stocked)
        if first.smallest and local is not None:
            limits_rules = protocol_limits()
            alerts.append(
                trusted(
                    SafetyAlert,
                    severity=Severity.MODERATE,
                    drugs=(table.name,),
                    message=_text.STOCKED_FIRST.format(
                        dose=first.dose_mg,
                        protocol=local.label,
                        intended=clinical_number(first.intended_mg_day, down=True),
                    ),
                    rule_id=limits_rules.rules.first_dose,
                    citation=limits_rules.citation,
                    action=_text.STOCKED_FIRST_ACTION,
                )
            )
    alerts.extend(
        rule_alert(
            rule.severity,
            table.name,
            table.texts[rule.rule_id],
            rule,
            table.actions[rule.rule_id],
        )
        for rule in table.mono.dose_alerts
        if final > rule.above_mg_day + _EPS
    )
    return Plan(
        steps=steps,
        permitted=permitted,
        target=goal * scale,
        after=tuple(after),
        alerts=tuple(alerts),
        supplements=supplements(table, on_dialysis, steps, permitted, compiled.rules),
    )


# Plans memoised per choice (the key holds it), bounded (emptied when full).
_PLANS: dict[tuple[object, ...], Plan | float] = {}


def plan_for(
    compiled: Tables,
    choice: Choice,
    scale: float,
    day0: dt.date | None,
    on_dialysis: bool,  # noqa: FBT001 - a key, not a flag argument
) -> Plan | float:
    """The plan, or the permitted daily dose when no dose the strengths make is within it."""
    if scale < 1.0:
        # Scaled by the patient's own CrCl: a continuous value, never found again.
        return _plan(compiled, choice, scale, day0, on_dialysis, compose_plan)
    key = (choice, day0, on_dialysis)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _plan(compiled, choice, scale, day0, on_dialysis, plan_steps)
        if len(_PLANS) >= MEMO_BOUND:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def clear() -> None:
    """Empty the memos of plans, their fixed adjustments and the step plans."""
    _PLANS.clear()
    _STATIC.clear()
    plan_steps.cache_clear()
