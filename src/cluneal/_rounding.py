"""Marketed strengths: which doses they can make, and how, rounding down only.

A dose is achievable when it is a sum of at most ``max_units_per_dose`` units
of the drug's strengths (a scored tablet may be halved), a measured volume of
an oral solution where the renal band allows one, or a multiple of a
compounded step. Doses are rounded down to the nearest achievable dose, never
up (clinical.md Part 0.4).

All amounts are integers in a per-drug grain (the greatest common divisor of
the units), so that rounding never meets floating-point noise.

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
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from cluneal.knowledge.drugs import monograph

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cluneal.drug import Drug

__all__ = ["Formulary", "best_split", "formulary"]

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


def _units(drug: Drug) -> list[_Unit]:
    mono = monograph(drug)
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
        cluneal_part0, gabapentin_label

    Example:
        >>> from cluneal.drug import Drug
        >>> formulary(Drug.TRAMADOL, with_solution=False).compose(75)
        '1 1/2 x 50 mg scored tablet'
    """
    mono = monograph(drug)
    ceiling = round(mono.caps[0].max_mg_day * _SCALE)
    if mono.compounded is not None:
        step = round(mono.compounded.step_mg * _SCALE)
        grain = step
        made = {
            k: f"1 x {k * step / _SCALE:g} mg {mono.compounded.form}"
            for k in range(1, ceiling // step + 1)
        }
        return Formulary(drug, grain / _SCALE, tuple(sorted(made)), MappingProxyType(made))
    units = _units(drug)
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


def best_split(form: Formulary, daily_mg: float, counts: tuple[int, ...]) -> tuple[float, int]:
    """Split a daily dose into equal achievable doses, rounding down.

    The result is the largest ``count x dose`` at or below ``daily_mg`` over
    the allowed counts; ties go to the count listed first (the preferred one).

    Args:
        form: The formulary.
        daily_mg: The daily dose wanted.
        counts: Allowed doses per day, most preferred first.

    Returns:
        ``(dose_mg, doses_per_day)``; the dose is 0.0 when nothing fits.

    Example:
        >>> from cluneal.drug import Drug
        >>> f = formulary(Drug.GABAPENTIN, with_solution=False)
        >>> best_split(f, 1000.0, (3, 2, 1))
        (500.0, 2)
    """
    best_dose, best_count, best_total = 0.0, counts[0], 0.0
    for count in counts:
        dose = form.round_down(daily_mg / count)
        total = dose * count
        if total > best_total + _EPS:
            best_dose, best_count, best_total = dose, count, total
    return best_dose, best_count
