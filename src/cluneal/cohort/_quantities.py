"""The patient's quantities of every row in canonical units, range-checked with numpy.

The factors and limits are the scalar parser's (:data:`cluneal.units.KINDS`);
quantity text is parsed by the scalar parser itself, once per distinct value.
A row whose value is not accepted here goes row by row, where the scalar
message becomes its ``error``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from cluneal.errors import ClunealError
from cluneal.units import KINDS, Kind, magnitude_in, parse_quantity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from cluneal.cohort._input import Columns

__all__ = ["Quantities"]

# Quantity column -> (kind, unit code of a numeric value).
_QUANTITIES: Final = {
    "age": (Kind.AGE, "a"),
    "weight_kg": (Kind.BODY_WEIGHT, "kg"),
    "height_cm": (Kind.HEIGHT, "cm"),
    "serum_creatinine_mg_dl": (Kind.SERUM_CREATININE, "mg/dL"),
    "serum_creatinine_umol_l": (Kind.SERUM_CREATININE, "umol/L"),
}
_FIELD: Final = {
    "age": "age",
    "weight_kg": "weight",
    "height_cm": "height",
    "serum_creatinine_mg_dl": "serum_creatinine",
    "serum_creatinine_umol_l": "serum_creatinine",
}


class Quantities:
    """The patient's quantities in canonical units, with what the checks accepted."""

    def __init__(self, columns: Columns) -> None:
        n = columns.rows
        self.canonical: dict[str, NDArray[np.float64]] = {}
        self.present: dict[str, NDArray[np.bool_]] = {}
        self.valid = np.ones(n, dtype=bool)
        for name, (kind, code) in _QUANTITIES.items():
            listed = columns.values.get(name)
            if listed is None:
                self.canonical[name] = np.full(n, np.nan)
                self.present[name] = np.zeros(n, dtype=bool)
                continue
            present = columns.present[name]
            spec = KINDS[kind]
            if name in columns.numeric:
                given = columns.numeric[name]
                values = given * spec.factors[code]
                # The range in the column's unit, as the scalar parser checks it.
                low, high = spec.bounds_in(code)
                with np.errstate(invalid="ignore"):
                    ok = np.isfinite(values)
                    if low is not None:
                        ok &= given >= low
                        if not spec.minimum_inclusive:
                            ok &= given != low
                    if high is not None:
                        ok &= given <= high
            else:
                values, ok = self._parse_text(listed, _FIELD[name], kind)
            self.canonical[name] = values
            self.present[name] = present
            # A null optional value is fine; a null age is for the scalar path to refuse.
            self.valid &= ok | (~present if name != "age" else False)
        both = self.present["serum_creatinine_mg_dl"] & self.present["serum_creatinine_umol_l"]
        self.valid &= ~both

    @staticmethod
    def _parse_text(
        listed: Sequence[Any], field: str, kind: Kind
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Quantity text, each distinct value parsed once by the scalar parser."""
        parsed: dict[Any, float] = {}
        spec = KINDS[kind]
        for value in set(listed) if all(isinstance(v, str | None) for v in listed) else ():
            if value is None:
                continue
            try:
                parsed[value] = magnitude_in(parse_quantity(value, field, spec), kind)
            except ClunealError:
                continue
        values = np.fromiter(
            (parsed.get(v, math.nan) if isinstance(v, str) else math.nan for v in listed),
            dtype=np.float64,
            count=len(listed),
        )
        return values, ~np.isnan(values)
