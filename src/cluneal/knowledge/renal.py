"""Loader for ``renal.toml``: dosing bands, KDIGO categories, weight bases, renal alerts.

Every number the renal assessment acts on is here with a rule id and a
citation: the band boundaries (decision_renal_band_boundaries), the KDIGO GFR
category bounds (kdigo_2012), the Devine ideal-body-weight constants
(devine_1974), the obesity rule (decision_obesity_weight_basis) and the alerts
that the estimate may mislead. The equations themselves are in
:mod:`cluneal.renal_equations`; the band assessment, a rule reading this
table, is :func:`cluneal.renal.assess_renal_function`.

Example:
    >>> from cluneal.knowledge.renal import renal_table
    >>> [(b.band.value, b.lower_ml_min) for b in renal_table().bands][:2]
    [('normal', 60.0), ('moderate', 30.0)]
"""

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final, Self

from pydantic import PrivateAttr, ValidationError, model_validator

from cluneal._base import FrozenModel, trusted
from cluneal.alerts import SafetyAlert, Severity
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.knowledge.texts import BASE_NAMES, checked, names, own_values
from cluneal.renal_equations import CM_PER_INCH
from cluneal.vocabulary import GfrCategory, RenalBand

__all__ = [
    "BAND_ORDER",
    "BandRule",
    "GfrCategories",
    "IdealBodyWeightRule",
    "ObesityRule",
    "RenalAlertRule",
    "RenalTable",
    "parse_renal",
    "renal_table",
]

_SOURCE: Final = "renal.toml"

BAND_ORDER: Final = tuple(RenalBand)
"""The bands from the least to the most restrictive, as ``renal.toml`` lists them."""


class BandRule(FrozenModel):
    """A dosing band and the clearance it starts from (or the dialysis and unknown rules)."""

    band: RenalBand
    rule_id: str
    lower_ml_min: float = 0.0
    lower_inclusive: bool = True
    text: str
    citation: str


class IdealBodyWeightRule(FrozenModel):
    """Devine ideal body weight: base weights, kg per inch over the height it starts from."""

    rule_id: str
    citation: str
    min_height_cm: float
    male_base_kg: float
    female_base_kg: float
    kg_per_inch_over: float
    text: str


class ObesityRule(FrozenModel):
    """When the default weight basis is adjusted body weight, and the adjustment factor."""

    rule_id: str
    citation: str
    adjusted_above_ibw_ratio: float
    adjustment_factor: float
    text: str


class RenalAlertRule(FrozenModel):
    """An alert that the Cockcroft-Gault estimate may mislead, with its threshold."""

    rule_id: str
    citation: str
    severity: Severity
    message: str
    action: str
    above_kg: float | None = None
    below_mg_dl: float | None = None
    # The patients it concerns (the one condition language; none: every patient).
    when: Criteria = Criteria()
    # The texts naming values of other files, as read: the knowledge base fills them.
    _templates: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _kept(self) -> Self:
        for field in ("message", "action"):
            text = getattr(self, field)
            if names(text) & _ALERT_LATER:
                self._templates[field] = (text, None)
        return self

    def alert(self) -> SafetyAlert:
        """The alert, built from the rule's validated values."""
        return trusted(
            SafetyAlert,
            severity=self.severity,
            message=self.message,
            rule_id=self.rule_id,
            citation=self.citation,
            action=self.action,
        )


class GfrCategories(FrozenModel):
    """KDIGO GFR categories: (category, lower bound in mL/min/1.73 m², inclusive), highest first."""

    rule_id: str
    citation: str
    # G5 below the last bound.
    lower_bounds: tuple[tuple[GfrCategory, float], ...]

    @model_validator(mode="after")
    def _descending(self) -> Self:
        bounds = [b for _, b in self.lower_bounds]
        if bounds != sorted(bounds, reverse=True) or len(set(bounds)) != len(bounds):
            msg = "gfr_categories: lower bounds must fall strictly"
            raise ValueError(msg)
        return self

    def category(self, egfr_value: float) -> GfrCategory:
        """The category of an eGFR in mL/min/1.73 m²."""
        for category, lower in self.lower_bounds:
            if egfr_value >= lower:
                return category
        return GfrCategory.G5


class RenalTable(FrozenModel):
    """The whole of ``renal.toml``."""

    gfr_categories: GfrCategories
    bands: tuple[BandRule, ...]
    dialysis: BandRule
    unknown: BandRule
    ideal_body_weight: IdealBodyWeightRule
    obesity: ObesityRule
    obesity_no_height: RenalAlertRule
    low_creatinine_older_adult: RenalAlertRule

    def band_rule(self, crcl_ml_min: float) -> BandRule:
        """The band of a Cockcroft-Gault clearance (on a boundary: as the rule says)."""
        for rule in self.bands:
            lower = rule.lower_ml_min
            if crcl_ml_min > lower or (rule.lower_inclusive and crcl_ml_min == lower):
                return rule
        return self.bands[-1]


# Filled when the knowledge base is built (knowledge.base): the low-creatinine threshold in
# umol/L is below_mg_dl times the creatinine factor of parameters.toml.
_ALERT_LATER: Final = BASE_NAMES | {"below_umol_l"}


def _inches(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"min_height_in": row["min_height_cm"] / CM_PER_INCH}


def _percent(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"adjusted_above_ibw_percent": row["adjusted_above_ibw_ratio"] * 100}


def _filled(
    row: Any,
    field: str,
    more: Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]],
) -> Any:
    """The row with its text filled from its own numbers (and ``more``), checked.

    Only the row's own numbers are checked for a literal repeat; ``more`` (other
    bands' bounds, derived values) fills the text.
    """
    if not isinstance(row, dict) or not isinstance(row.get(field), str):
        return row  # the model reports what is wrong
    extra = more(row) if callable(more) else more
    where = f"{row.get('rule_id')}.{field}"
    text = checked(
        row[field], own_values(row), more=extra, later=_ALERT_LATER, source=_SOURCE, where=where
    )
    return {**row, field: text}


@cache
def renal_table() -> RenalTable:
    """Return the built-in renal table (read once, validated).

    The texts are filled from the file's numbers; the low-creatinine alert's age
    and µmol/L figure (``parameters.toml``) in ``knowledge_base().renal``.

    Raises:
        KnowledgeBaseError: The file is missing or malformed.
    """
    return parse_renal(read_toml(_SOURCE))


def parse_renal(raw: Mapping[str, Any]) -> RenalTable:
    """Validate the parsed ``renal.toml``.

    The texts name the file's numbers (``{crcl_moderate_lower:g}``, ``{above_kg:g}``)
    and are filled in here; the low-creatinine alert's age and its threshold in
    µmol/L (``{older_adult_age:g}``, ``{below_umol_l:.0f}``, from ``parameters.toml``)
    when the knowledge base is built.

    Args:
        raw: The parsed TOML.

    Returns:
        The table.

    Raises:
        KnowledgeBaseError: The file is malformed, the bands are out of order, or a
            text does not fill in or writes one of its rule's numbers literally.
    """
    try:
        bounds = {
            f"crcl_{row['band']}_lower": row["lower_ml_min"]
            for row in raw["band"]
            if isinstance(row, dict) and "lower_ml_min" in row
        }
        table = RenalTable(
            gfr_categories=raw["gfr_categories"],
            bands=[_filled(row, "text", bounds) for row in raw["band"]],
            dialysis=_filled(raw["dialysis"], "text", bounds),
            unknown=_filled(raw["unknown"], "text", bounds),
            ideal_body_weight=_filled(raw["ideal_body_weight"], "text", _inches),
            obesity=_filled(raw["obesity"], "text", _percent),
            obesity_no_height=_filled(raw["obesity_no_height"], "message", {}),
            low_creatinine_older_adult=_filled(raw["low_creatinine_older_adult"], "message", {}),
        )
    except (KeyError, TypeError, ValidationError) as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc
    if tuple(b.band for b in table.bands) != BAND_ORDER:
        raise KnowledgeBaseError(
            _SOURCE, "bands must be listed normal, moderate, severe, end_stage"
        )
    return table
