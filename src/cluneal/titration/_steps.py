"""The steps of a schedule: a protocol's intended doses, composed from the strengths.

:func:`compose_plan` turns a protocol, a goal and the limits that apply into
:class:`~cluneal.titration._models.TitrationStep` values (through the dose
composer, :mod:`cluneal._compose`), each with its reason. It depends only on
knowledge-base data and a few scalars, never on the patient directly, so it
is memoised (:data:`plan_steps`), except where a patient's CrCl scales it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._base import assembled
from cluneal._compose import ComposedStep, Regimen, compose_steps
from cluneal._lazy_text import Deferred
from cluneal._numbers import clinical_number
from cluneal.knowledge.drugs import ProtocolName, Timing
from cluneal.titration import _text
from cluneal.titration._models import TitrationStep, check_invariants

if TYPE_CHECKING:
    from cluneal.knowledge.drugs import Protocol
    from cluneal.titration._tables import DrugTable
    from cluneal.vocabulary import RenalBand

__all__ = ["compose_plan", "plan_steps"]

_EPS: Final = 1e-9
# A step is built with every field given (its ``model_fields_set``).
_STEP_FIELDS: Final = frozenset(TitrationStep.model_fields)


def _raw_steps(proto: Protocol, goal: float) -> list[tuple[int, float]]:
    """The protocol's (day, daily dose) sequence up to the goal, before rounding."""
    steps: list[tuple[int, float]] = []
    day = 0
    current = 0.0
    for value in proto.start_mg_day:
        current = min(value, goal)
        steps.append((day, current))
        if current >= goal - _EPS:
            return steps
        day += proto.start_interval_days
    day -= proto.start_interval_days
    above = proto.increment_above_mg_day
    larger = proto.increment_above
    while current < goal - _EPS:
        step = (
            larger
            if above is not None and larger is not None and current >= above - _EPS
            else proto.increment_mg_day
        )
        current = min(current + step, goal)
        day += proto.interval_days
        steps.append((day, current))
    return steps


def _timing(count: int, once: Timing, *, spaced: bool) -> Timing:
    # Two doses under a cap that limits doses a day are evenly spaced (every 12 h).
    if count == 1:
        return once
    if count == 2:
        return Timing.EVERY_12_H if spaced else Timing.TWICE_DAILY
    return Timing.THREE_TIMES_DAILY if count == 3 else Timing.FOUR_TIMES_DAILY


def _reason(text: str, index: int, c: ComposedStep) -> str:
    intended = clinical_number(c.intended_mg_day, down=True)
    reason = (
        _text.STEP_START.format(text=text)
        if index == 0
        else _text.STEP_INCREASE.format(intended=intended)
    )
    daily = c.daily_mg
    if c.smallest:
        reason += _text.STEP_SMALLEST.format(intended=intended, dose=c.dose_mg)
    elif daily < c.intended_mg_day - _EPS:
        reason += _text.STEP_ROUNDED.format(daily=daily, count=c.doses_per_day)
    if c.held_days:
        reason += _text.STEP_HELD.format(days=", ".join(str(d) for d in c.held_days))
    return reason


def compose_plan(  # noqa: PLR0917 - private, memoised on exactly these arguments
    table: DrugTable,
    protocol: ProtocolName,
    goal: float,
    cap: float,
    band: RenalBand | None,
    max_doses: int | None,
    max_single: float | None,
    spaced: bool,  # noqa: FBT001 - a cache key, not a flag argument
    scale: float,
    use_solution: bool,  # noqa: FBT001 - a cache key, not a flag argument
    day0: dt.date | None,
) -> tuple[tuple[TitrationStep, ...], bool, tuple[ComposedStep, ...]]:
    proto = table.protocol(protocol)
    band_rule = None if band is None else table.bands[band]
    form = table.formulary_solution if use_solution else table.formulary
    splits = tuple(
        (None if s.upto_mg_day is None else s.upto_mg_day * scale + _EPS, s.min_doses, s.max_doses)
        for s in table.mono.dose_splits
    )

    def counts(intended: float) -> tuple[int, int]:
        for upto, low, high in splits:  # noqa: B007 - the split found is used after the loop
            if upto is None or intended <= upto:
                break
        if max_doses is not None:
            high = min(high, max_doses)
        if band_rule is not None:
            high = min(high, band_rule.max_doses_per_day)
            if band_rule.min_doses_per_day is not None:
                low = band_rule.min_doses_per_day
        return min(low, high), high

    regimen = Regimen(
        counts=counts,
        max_single_mg=max_single,
        ramp_mg=None if proto.ramp_dose_mg is None else proto.ramp_dose_mg * scale,
        starts_once_daily=proto.starts_once_daily,
    )
    intended = [(day, daily * scale) for day, daily in _raw_steps(proto, goal)]
    composed = compose_steps(intended, form, regimen, cap * scale)
    text = table.texts[proto.rule_id]
    once = proto.once_daily_timing
    steps = tuple(
        assembled(
            TitrationStep,
            {
                "day": c.day,
                "dose_mg": c.dose_mg,
                "doses_per_day": c.doses_per_day,
                "timing": _timing(c.doses_per_day, once, spaced=spaced),
                "composition": form.compose(c.dose_mg),
                "date": None if day0 is None else day0 + dt.timedelta(days=c.day),
                # A plan scaled by a patient's CrCl is built for one schedule: its
                # words (numbers formatted for people) are rendered only if read.
                "reason": Deferred(_reason, text, index, c)
                if scale < 1.0
                else _reason(text, index, c),
            },
            _STEP_FIELDS,
        )
        for index, c in enumerate(composed)
    )
    if steps:
        # The schedule's invariants, once per plan: every schedule that shares it is checked.
        check_invariants(steps, cap * scale)
    used_solution = any("solution" in st.composition for st in steps)
    return steps, used_solution, composed


# The steps depend only on knowledge-base data and these few scalars, never on
# the patient directly, so they are memoised: a pure function, a bounded LRU
# (thread-safe), and frozen results that schedules can share. A service sees
# few distinct keys (drug x protocol x cap x band), so this removes the
# composing work from most calls without changing any answer. A plan scaled by
# the patient's own CrCl (a continuous scale) calls compose_plan directly: it
# would never be found again.
plan_steps = lru_cache(maxsize=2048)(compose_plan)
