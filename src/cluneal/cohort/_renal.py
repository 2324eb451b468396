"""Cockcroft-Gault and the renal band of every row at once, from the knowledge base's tables.

The renal module's own equation (:func:`cluneal.renal.cockcroft_gault_ml_min`,
:func:`cluneal.renal.devine_kg`) over the knowledge base's band table, with
the package's default weight basis; rounded as the scalar path rounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np
from pydantic import ValidationError

from cluneal.cohort._keys import codes_of
from cluneal.errors import ClunealError
from cluneal.patient import Patient
from cluneal.renal import FEMALE_FACTOR, cockcroft_gault_ml_min, devine_kg
from cluneal.vocabulary import RenalBand, Sex

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from cluneal.cohort._input import Columns
    from cluneal.cohort._quantities import Quantities
    from cluneal.knowledge.base import KnowledgeBase

__all__ = ["BANDS", "RenalColumns"]

BANDS: Final = tuple(RenalBand)


class RenalColumns:
    """Cockcroft-Gault and the band for every row, from the knowledge base's tables."""

    def __init__(self, columns: Columns, q: Quantities, knowledge: KnowledgeBase) -> None:
        n = columns.rows
        self.valid = q.valid.copy()
        self.female = self._flags(columns, "sex")
        self.dialysis = self._flags(columns, "on_dialysis")
        self.age = q.canonical["age"]
        self.weight = q.canonical["weight_kg"]
        self.height = q.canonical["height_cm"]
        self.has_height = q.present["height_cm"]
        self.has_weight = q.present["weight_kg"]
        self.scr = np.where(
            q.present["serum_creatinine_mg_dl"],
            q.canonical["serum_creatinine_mg_dl"],
            q.canonical["serum_creatinine_umol_l"],
        )
        self.has_scr = q.present["serum_creatinine_mg_dl"] | q.present["serum_creatinine_umol_l"]
        computable = self.valid & ~self.dialysis & self.has_scr & self.has_weight
        self.crcl = np.full(n, np.nan)
        self.adjusted = np.zeros(n, dtype=bool)
        self._clearance(computable, knowledge)
        self.known = computable | (self.dialysis & self.valid)
        self.band = self._bands(computable, knowledge)
        self.heavy, self.low = self._alerts(knowledge)

    def _flags(self, columns: Columns, column: str) -> NDArray[np.bool_]:
        """Sex (female) or dialysis as the scalar model reads each distinct value."""
        n = columns.rows
        listed = columns.values.get(column)
        if listed is None:
            return np.zeros(n, dtype=bool)
        codes = codes_of(columns, column)
        first = dict(zip(codes.tolist(), listed, strict=True))  # one value per code
        meaning = [self._read(column, first[c]) for c in range(len(first))]
        unreadable = np.asarray([m is None for m in meaning], dtype=bool)
        flags = np.asarray([bool(m) for m in meaning], dtype=bool)
        if n == 0:
            return np.zeros(0, dtype=bool)
        self.valid &= ~unreadable[codes]
        return flags[codes]

    def _clearance(self, computable: NDArray[np.bool_], knowledge: KnowledgeBase) -> None:
        """Cockcroft-Gault with the package's default weight basis (adjusted in obesity)."""
        table = knowledge.renal
        rule = table.ideal_body_weight
        with np.errstate(invalid="ignore"):
            ibw_rows = computable & self.has_height & (self.height >= rule.min_height_cm)
        ibw = np.full(len(self.crcl), np.nan)
        base = np.where(self.female, rule.female_base_kg, rule.male_base_kg)
        raw_ibw = devine_kg(self.height[ibw_rows], base[ibw_rows], rule)
        # Python's round, as the scalar path rounds (numpy's differs in the last bit).
        ibw[ibw_rows] = [round(v, 10) for v in raw_ibw.tolist()]
        obesity = table.obesity
        with np.errstate(invalid="ignore"):
            self.adjusted = ibw_rows & (self.weight > obesity.adjusted_above_ibw_ratio * ibw)
        used = np.where(
            self.adjusted, ibw + obesity.adjustment_factor * (self.weight - ibw), self.weight
        )
        raw = cockcroft_gault_ml_min(
            self.age[computable],
            used[computable],
            self.scr[computable],
            np.where(self.female[computable], FEMALE_FACTOR, 1.0),
        )
        self.crcl[computable] = [round(v, 10) for v in raw.tolist()]

    def _bands(self, computable: NDArray[np.bool_], knowledge: KnowledgeBase) -> NDArray[np.int64]:
        """The band of each row from the knowledge base's band table, in its order."""
        table = knowledge.renal
        band = np.full(len(self.crcl), BANDS.index(table.unknown.band), dtype=np.int64)
        band[self.dialysis] = BANDS.index(table.dialysis.band)
        assigned = ~computable
        for rule in table.bands:
            lower = rule.lower_ml_min
            with np.errstate(invalid="ignore"):
                hit = ~assigned & (
                    (self.crcl > lower) | ((self.crcl == lower) if rule.lower_inclusive else False)
                )
            band[hit] = BANDS.index(rule.band)
            assigned |= hit
        band[~assigned] = BANDS.index(table.bands[-1].band)
        return band

    def _alerts(self, knowledge: KnowledgeBase) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """The numeric parts of the renal alerts (never on dialysis), from the same table.

        Which patients a rule concerns (its ``when`` criteria) reads only what the key
        holds (conditions, hepatic state, HLA, age groups): the scalar engine decides that.
        """
        table = knowledge.renal
        off = self.valid & ~self.dialysis
        heavy_rule = table.obesity_no_height
        heavy = np.zeros(len(off), dtype=bool)
        if heavy_rule.above_kg is not None:
            with np.errstate(invalid="ignore"):
                heavy = (
                    off & ~self.has_height & self.has_weight & (self.weight > heavy_rule.above_kg)
                )
        low_rule = table.low_creatinine_older_adult
        low = np.zeros(len(off), dtype=bool)
        if low_rule.below_mg_dl is not None:
            with np.errstate(invalid="ignore"):
                low = off & self.has_scr & (self.scr < low_rule.below_mg_dl)
        return heavy, low

    @staticmethod
    def _read(column: str, value: Any) -> bool | None:
        """What the scalar model reads in a sex or dialysis value (``None``: refused)."""
        probe: dict[str, Any] = {"age": 40, "sex": "female"}
        if value is not None or column == "sex":  # a null dialysis flag is left out: False
            probe[column] = value
        try:
            patient = Patient.model_validate(probe)
        except (ClunealError, ValidationError):
            return None
        return patient.sex is Sex.FEMALE if column == "sex" else patient.on_dialysis
