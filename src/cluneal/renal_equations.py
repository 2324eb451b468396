"""The renal equations, in plain floats: Cockcroft-Gault, CKD-EPI 2021, Devine.

Below the knowledge base: no rule, no threshold, only the published
equations with their published coefficients. The same functions run on
floats (the scalar path) and on numpy arrays (:mod:`cluneal.cohort`), so the
two paths cannot drift apart. What the results mean for dosing (the bands,
the KDIGO categories, the weight basis) is data in ``renal.toml``, applied by
:mod:`cluneal.renal`.

Example:
    >>> round(cockcroft_gault_ml_min(55.0, 72.0, 1.2, 1.0), 1)
    70.8
    >>> round(ckd_epi_2021(1.2, 55.0, female=False))
    71
"""

from __future__ import annotations

from typing import Any, Final, Protocol

__all__ = [
    "CM_PER_INCH",
    "FEMALE_FACTOR",
    "DevineConstants",
    "ckd_epi_2021",
    "cockcroft_gault_ml_min",
    "devine_kg",
]

FEMALE_FACTOR: Final = 0.85
"""Cockcroft-Gault's factor for women (cockcroft_gault_1976)."""
CM_PER_INCH: Final = 2.54
"""Centimetres in an inch (exact, by definition)."""


def cockcroft_gault_ml_min(age: Any, weight: Any, creatinine: Any, sex_factor: Any) -> Any:
    """Cockcroft-Gault, unrounded, for floats or numpy arrays alike (same operations, same order).

    CrCl = (140 - age) x weight / (72 x SCr in mg/dL) x sex factor
    (cockcroft_gault_1976).

    Example:
        >>> cockcroft_gault_ml_min(40.0, 72.0, 1.0, 1.0)
        100.0
    """
    return (140.0 - age) * weight / (72.0 * creatinine) * sex_factor


def ckd_epi_2021(creatinine_mg_dl: float, age_years: float, *, female: bool) -> float:
    """EGFR by the race-free CKD-EPI 2021 creatinine equation, in mL/min/1.73 m².

    eGFR = 142 x min(SCr/k, 1)^a x max(SCr/k, 1)^-1.200 x 0.9938^age
    x 1.012 (female), with k = 0.7 / 0.9 and a = -0.241 / -0.302 for
    female / male (inker_2021).

    Example:
        >>> round(ckd_epi_2021(0.7, 40.0, female=True), 1)
        112.1
    """
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    value = float(142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age_years)
    return value * 1.012 if female else value


class DevineConstants(Protocol):
    """The constants of the Devine formula (``renal.toml``'s ``ideal_body_weight``)."""

    @property
    def min_height_cm(self) -> float:
        """The height the formula starts from, in cm (``renal.ibw.devine``)."""

    @property
    def kg_per_inch_over(self) -> float:
        """Kilograms per inch above it."""


def devine_kg(height_cm: Any, base_kg: Any, rule: DevineConstants) -> Any:
    """Devine ideal body weight, unrounded, for floats or numpy arrays alike.

    IBW = base + kg per inch x (height - the height it starts from) in inches
    (devine_1974); the base and the constants come from the knowledge base
    (``renal.ibw.devine``).

    Example:
        >>> from cluneal.knowledge.renal import renal_table
        >>> devine_kg(177.8, 50.0, renal_table().ideal_body_weight)
        73.0
    """
    inches_over = (height_cm - rule.min_height_cm) / CM_PER_INCH
    return base_kg + rule.kg_per_inch_over * inches_over
