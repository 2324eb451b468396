"""Keys of rows: integer codes of columns, and the rows that share every code.

Equal raw values get equal codes (Arrow's encoding when it could encode the
column, Python's otherwise); NaN and unhashable values are each their own key,
so two rows share a key only when the scalar functions would see the same inputs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from cluneal.cohort._input import Columns

__all__ = ["codes_of", "group"]

_PLAIN: Final = (
    frozenset({str, type(None)}),
    frozenset({bool, type(None)}),
    frozenset({int, type(None)}),
    frozenset({float, type(None)}),  # each NaN is its own object: its own key
)


def codes_of(columns: Columns, name: str) -> NDArray[np.int64]:
    """Integer codes of a column (Arrow's when it could encode it)."""
    encoded = columns.codes.get(name)
    return _factorize(columns.values[name]) if encoded is None else encoded


def _factorize(listed: Sequence[Any]) -> NDArray[np.int64]:
    """Integer codes of a column's raw values (equal values, equal codes)."""
    codes: dict[Any, int] = {}
    kinds = frozenset(map(type, listed))
    if any(kinds <= plain for plain in _PLAIN):
        # One plain type (and nulls): the values are their own keys (no True == 1 mix-up).
        return np.fromiter(
            (codes.setdefault(v, len(codes)) for v in listed), dtype=np.int64, count=len(listed)
        )
    return np.fromiter(
        (codes.setdefault(_hashable(v, i), len(codes)) for i, v in enumerate(listed)),
        dtype=np.int64,
        count=len(listed),
    )


def _hashable(value: Any, row: int) -> Any:
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list | tuple):
            return ("seq", *(_hashable(v, row) for v in items))
    if isinstance(value, float) and math.isnan(value):
        return ("nan", row)  # NaN equals nothing: its own group
    try:
        hash(value)
    except TypeError:
        return ("unhashable", row)
    return (type(value).__name__, value)


def group(codes: list[NDArray[np.int64]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(first row of each distinct key, key of each row)."""
    sizes = [int(c.max()) + 1 if len(c) else 1 for c in codes]
    if math.prod(sizes) < 2**62:
        combined = np.zeros(len(codes[0]), dtype=np.int64)
        for code, size in zip(codes, sizes, strict=True):
            combined = combined * size + code
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    else:  # pragma: no cover - needs more distinct values than a cohort has
        stacked = np.stack(codes, axis=1)
        _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)
