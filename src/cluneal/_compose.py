"""The dose composer: regimens a clinician would write, from marketed strengths.

Two parts. :func:`formulary` says which single doses a drug's strengths can
make and how. :func:`compose_steps` turns a protocol's intended daily doses
into steps (decision_doses_per_day_never_fall,
decision_largest_total_at_or_below, decision_largest_single_dose,
decision_first_step_day_0):

* the number of doses a day comes from the drug and renal band
  (:class:`Regimen`) and never falls within a schedule; a schedule may begin
  with one dose (start low) or climb one dose at a time by a fixed dose (the
  gabapentin and tramadol label titrations), and moves up to the regimen's
  count as soon as equal doses can make the total;
* each step's daily total is the largest total at or below the intended one
  that the step's number of equal doses can make, no dose above the largest
  single dose; the lower count is used until only a higher one makes a larger
  total;
* a step that cannot rise above the previous one is held (skipped), never
  rescued by fewer, larger doses;
* the first step is on day 0: if the intended first dose rounds down to
  nothing, the smallest dose the strengths make is used when it is within
  the cap.

A single dose is achievable when it is a sum of at most ``max_units_per_dose``
units of the drug's strengths (a scored tablet may be halved; 500 mg = 400 +
100), a measured volume of an oral solution where the renal band allows one,
or a multiple of a compounded step.
All amounts are integers in a per-drug grain (the greatest common divisor of
the units), so that rounding never meets floating-point noise.

Doses are rounded down to the nearest achievable dose, never up
(decision_round_down_marketed_strengths).

Example:
    >>> from cluneal.drug import Drug
    >>> f = formulary(Drug.NORTRIPTYLINE, with_solution=False)
    >>> f.round_down(33.0), f.compose(35.0)
    (30.0, '1 x 25 mg capsule + 1 x 10 mg capsule')
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from cluneal.knowledge.drugs import monograph

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from cluneal.drug import Drug
    from cluneal.knowledge.drugs import Monograph

__all__ = ["ComposedStep", "Formulary", "Regimen", "compose_steps", "formulary", "formulary_of"]

# Amounts are handled in hundredths of a milligram before the grain is found:
# every strength, half tablet, solution step and compounded step in the
# knowledge base is a whole number of hundredths.
_SCALE = 100
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class _Unit:
    amount: int  # hundredths of a mg
    strength_mg: float
    form: str
    halves: int  # 1 for half a scored tablet, 2 for a whole unit


@dataclass(frozen=True, slots=True)
class Formulary:
    """The achievable doses of one drug, and how each is made.

    Attributes:
        drug: The drug.
        grain_mg: Every achievable dose is a multiple of this.
        amounts: Achievable doses in grains, ascending.
        recipes: How each achievable dose (in grains) is made, in words.
    """

    drug: Drug
    grain_mg: float
    amounts: tuple[int, ...]
    recipes: Mapping[int, str]

    def round_down(self, mg: float) -> float:
        """Return the largest achievable dose at or below ``mg`` (0.0 if none).

        Args:
            mg: A dose in mg.

        Returns:
            The achievable dose in mg.
        """
        grains = math.floor(mg / self.grain_mg + _EPS)
        i = bisect_right(self.amounts, grains)
        return 0.0 if i == 0 else self.amounts[i - 1] * self.grain_mg

    def compose(self, mg: float) -> str:
        """Describe how an achievable dose is made ("1 x 300 mg capsule").

        Args:
            mg: An achievable dose in mg.

        Returns:
            The composition in marketed strengths.

        Raises:
            KeyError: The dose is not achievable.
        """
        return self.recipes[round(mg / self.grain_mg)]


def _units(mono: Monograph) -> list[_Unit]:
    units: list[_Unit] = []
    for s in mono.strengths:
        units.append(_Unit(round(s.mg * _SCALE), s.mg, s.form, 2))
        if s.scored:
            units.append(_Unit(round(s.mg * _SCALE / 2), s.mg, s.form, 1))
    return units


def _count_text(halves: int) -> str:
    whole, half = divmod(halves, 2)
    if not half:
        return str(whole)
    return "1/2" if whole == 0 else f"{whole} 1/2"


def _describe(parts: Iterable[_Unit]) -> str:
    counts: dict[tuple[float, str], int] = {}
    for unit in parts:
        key = (unit.strength_mg, unit.form)
        counts[key] = counts.get(key, 0) + unit.halves
    ordered = sorted(counts.items(), key=lambda item: -item[0][0])
    return " + ".join(f"{_count_text(h)} x {mg:g} mg {form}" for (mg, form), h in ordered)


@cache
def formulary(drug: Drug, *, with_solution: bool) -> Formulary:
    """Return what the drug's strengths can make (computed once per drug).

    Args:
        drug: The drug.
        with_solution: Also offer the drug's oral solution (gabapentin below 15 mL/min).

    Returns:
        The formulary.

    References:
        decision_round_down_marketed_strengths, gabapentin_label

    Example:
        >>> from cluneal.drug import Drug
        >>> formulary(Drug.TRAMADOL, with_solution=False).compose(75)
        '1 1/2 x 50 mg scored tablet'
    """
    return formulary_of(monograph(drug), with_solution=with_solution)


# Keyed on the (frozen, hashable) monograph: a caller's own knowledge base is composed
# once per monograph, not on every schedule.
@lru_cache(maxsize=64)
def formulary_of(mono: Monograph, *, with_solution: bool) -> Formulary:
    """Return what a monograph's strengths can make (see :func:`formulary`).

    Args:
        mono: The monograph, from any knowledge base.
        with_solution: Also offer the drug's oral solution.

    Returns:
        The formulary.
    """
    drug = mono.drug
    ceiling = round(mono.caps[0].max_mg_day * _SCALE)
    if mono.compounded is not None:
        step = round(mono.compounded.step_mg * _SCALE)
        grain = step
        made = {
            k: f"1 x {k * step / _SCALE:g} mg {mono.compounded.form}"
            for k in range(1, ceiling // step + 1)
        }
        return Formulary(drug, grain / _SCALE, tuple(sorted(made)), MappingProxyType(made))
    units = _units(mono)
    solution = mono.solution if with_solution else None
    measure = 0 if solution is None else round(solution.mg_per_ml * solution.measure_ml * _SCALE)
    grain = math.gcd(*(u.amount for u in units), measure)
    top = ceiling // grain
    # Fewest units for every amount up to the adult cap (unbounded knapsack).
    best: list[tuple[_Unit, ...] | None] = [None] * (top + 1)
    best[0] = ()
    for amount in range(1, top + 1):
        for unit in sorted(units, key=lambda u: -u.amount):
            k = unit.amount // grain
            prev = best[amount - k] if k <= amount else None
            if prev is not None and len(prev) < mono.max_units_per_dose:
                candidate = (*prev, unit)
                current = best[amount]
                if current is None or len(candidate) < len(current):
                    best[amount] = candidate
    recipes: dict[int, str] = {}
    for amount in range(1, top + 1):
        parts = best[amount]
        if parts is not None:
            recipes[amount] = _describe(parts)
        elif solution is not None and (amount * grain) % measure == 0:
            ml = amount * grain / _SCALE / solution.mg_per_ml
            recipes[amount] = f"{ml:g} mL of {solution.mg_per_ml:g} mg/mL oral solution"
    return Formulary(drug, grain / _SCALE, tuple(sorted(recipes)), MappingProxyType(recipes))


class Regimen:
    """How many doses a day a schedule may use, and how large one dose may be.

    A plain class with slots (built for every schedule composed, so cheaply).

    Attributes:
        counts: The regimen's counts for an intended daily dose, ``(lowest,
            highest)`` (gabapentin ``(2, 2)`` at CrCl 30-60, pregabalin ``(2, 3)``).
        max_single_mg: The largest single dose, or ``None`` when only the cap limits it.
        ramp_mg: The label climbs one dose a day at a time by this dose until the
            regimen's count (gabapentin 300 mg, tramadol 25 mg), or ``None``.
        starts_once_daily: The protocol may begin with one dose a day (start low).
    """

    __slots__ = ("counts", "max_single_mg", "ramp_mg", "starts_once_daily")

    def __init__(
        self,
        counts: Callable[[float], tuple[int, int]],
        max_single_mg: float | None = None,
        ramp_mg: float | None = None,
        *,
        starts_once_daily: bool = False,
    ) -> None:
        self.counts = counts
        self.max_single_mg = max_single_mg
        self.ramp_mg = ramp_mg
        self.starts_once_daily = starts_once_daily


class ComposedStep:
    """One composed step (a plain class with slots: built for every step composed).

    Attributes:
        day: Day of the step.
        dose_mg: Dose per administration.
        doses_per_day: Administrations per day.
        intended_mg_day: The protocol's intended daily dose for the step.
        held_days: Earlier days whose step was held because it could not rise.
        smallest: The intended dose rounded to nothing; this is the smallest dose made.
    """

    __slots__ = ("day", "dose_mg", "doses_per_day", "held_days", "intended_mg_day", "smallest")

    def __init__(  # noqa: PLR0917 - the step's values, in order
        self,
        day: int,
        dose_mg: float,
        doses_per_day: int,
        intended_mg_day: float,
        held_days: tuple[int, ...] = (),
        smallest: bool = False,  # noqa: FBT001, FBT002 - a value, as the other fields
    ) -> None:
        self.day = day
        self.dose_mg = dose_mg
        self.doses_per_day = doses_per_day
        self.intended_mg_day = intended_mg_day
        self.held_days = held_days
        self.smallest = smallest

    def __repr__(self) -> str:
        return (
            f"ComposedStep(day={self.day}, dose_mg={self.dose_mg}, "
            f"doses_per_day={self.doses_per_day}, intended_mg_day={self.intended_mg_day}, "
            f"held_days={self.held_days}, smallest={self.smallest})"
        )

    @property
    def daily_mg(self) -> float:
        """The daily total."""
        return self.dose_mg * self.doses_per_day


def _options(current: int | None, intended: float, regimen: Regimen) -> tuple[int, ...]:
    """The counts a step may use, in order of preference (earlier wins ties)."""
    low, high = regimen.counts(intended)
    if current is not None and current >= low:
        # Never fewer doses than now; the lower count until only a higher one does better.
        return tuple(range(current, max(high, current) + 1))
    regimen_counts = tuple(range(low, high + 1))
    if regimen.ramp_mg is not None:
        climbed = math.floor(intended / regimen.ramp_mg + _EPS)
        count = max(current or 1, min(climbed, low))
        return (count,) if count < low else regimen_counts
    if regimen.starts_once_daily:
        # One dose a day until the regimen's equal doses make at least as much.
        return (*regimen_counts, current or 1)
    return regimen_counts


def compose_steps(
    intended: Sequence[tuple[int, float]],
    form: Formulary,
    regimen: Regimen,
    cap_mg_day: float,
) -> tuple[ComposedStep, ...]:
    """Compose a protocol's intended ``(day, daily dose)`` sequence into steps.

    Args:
        intended: The protocol's days and intended daily doses, days increasing.
        form: What the strengths make.
        regimen: Counts, largest single dose and how the schedule may begin.
        cap_mg_day: The cap that applies (the smallest first dose must be within it).

    Returns:
        The steps; empty when not even the smallest dose the strengths make is
        within the cap (the drug needs specialist dosing).

    References:
        decision_doses_per_day_never_fall, decision_largest_total_at_or_below,
        decision_largest_single_dose, decision_first_step_day_0

    Example:
        >>> from cluneal.drug import Drug
        >>> f = formulary(Drug.GABAPENTIN, with_solution=False)
        >>> twice = Regimen(counts=lambda mg: (2, 2), max_single_mg=700, starts_once_daily=True)
        >>> plan = [(0, 100.0), (3, 200.0), (6, 300.0), (9, 400.0), (12, 1500.0)]
        >>> [(s.day, s.dose_mg, s.doses_per_day) for s in compose_steps(plan, f, twice, 1400)]
        [(0, 100.0, 1), (3, 100.0, 2), (9, 200.0, 2), (12, 700.0, 2)]
    """
    steps: list[ComposedStep] = []
    current: int | None = None
    previous = 0.0
    held: list[int] = []
    max_single = regimen.max_single_mg
    # Formulary.round_down inlined (the composer's innermost loop): the same arithmetic.
    grain = form.grain_mg
    amounts = form.amounts
    for day, wanted in intended:
        best_dose, best_count, best_total = 0.0, 0, 0.0
        for count in _options(current, wanted, regimen):
            per_dose = wanted / count
            if max_single is not None:
                per_dose = min(per_dose, max_single)
            i = bisect_right(amounts, math.floor(per_dose / grain + _EPS))
            dose = 0.0 if i == 0 else amounts[i - 1] * grain
            if dose * count > best_total + _EPS:
                best_dose, best_count, best_total = dose, count, dose * count
        smallest = False
        if not steps and best_total <= _EPS:
            # The first step is on day 0: the smallest dose made, if within the cap.
            best_dose = best_total = form.amounts[0] * form.grain_mg
            best_count = 1
            limit = min(cap_mg_day, regimen.max_single_mg or cap_mg_day)
            if best_dose > limit + _EPS:
                return ()
            smallest = True
        if best_total <= previous + _EPS:
            held.append(day)  # cannot rise: the previous step continues
            continue
        steps.append(
            ComposedStep(day, best_dose, best_count, wanted, tuple(held), smallest=smallest)
        )
        held = []
        current, previous = best_count, best_total
    return tuple(steps)
