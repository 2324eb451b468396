"""Reading a cohort frame: one narwhals code path for pandas, pyarrow and polars.

Each input column becomes either a float array in its canonical unit (the
quantities the vectorised renal path needs) or a list of Python values (what
the scalar functions receive for that row). Nothing here decides anything
clinical: a value that cannot be read is handed to the scalar functions as it
is, and their message becomes the row's ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from cluneal.errors import ClunealError, MissingExtraError, show

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "CARE_PLAN_COLUMNS",
    "PATIENT_COLUMNS",
    "SCHEDULE_COLUMNS",
    "Columns",
    "findings_input",
    "narwhals",
    "patient_input",
    "read_columns",
]

QUANTITY: Final = "quantity"
BOOLEAN: Final = "boolean"
TEXT: Final = "text"
NAMES: Final = "names"

# name -> (kind, required)
PATIENT_COLUMNS: Final[dict[str, tuple[str, bool]]] = {
    "age": (QUANTITY, True),
    "sex": (TEXT, True),
    "weight_kg": (QUANTITY, True),
    "height_cm": (QUANTITY, False),
    "serum_creatinine_mg_dl": (QUANTITY, False),
    "serum_creatinine_umol_l": (QUANTITY, False),
    "on_dialysis": (BOOLEAN, False),
    "hepatic_impairment": (TEXT, False),
    "conditions": (NAMES, False),
    "medications": (NAMES, False),
    "hla_b_1502": (BOOLEAN, False),
}
"""The patient columns of API.md "Cohorts", with what each holds and whether it is required."""

FINDINGS_COLUMNS: Final[dict[str, tuple[str, bool]]] = {
    "low_back_pain": (BOOLEAN, False),
    "deep_aching_poorly_localized": (BOOLEAN, False),
    "tender_point_site": (TEXT, False),
    "tender_point_reproduces_pain": (BOOLEAN, False),
    "block_relief_percent": (QUANTITY, False),
    "block_relief_days": (QUANTITY, False),
    "block_branches": (NAMES, False),
}
"""The findings columns (``block_branches`` is cluneal's addition: which branches were blocked)."""

SCHEDULE_OUTPUT: Final = (
    "error",
    "crcl_ml_min",
    "renal_band",
    "max_daily_dose_mg",
    "final_daily_dose_mg",
    "first_daily_dose_mg",
    "steps",
    "contraindicated",
    "alert_rule_ids",
)
CARE_PLAN_OUTPUT: Final = (
    "error",
    "crcl_ml_min",
    "renal_band",
    "classification",
    "next_step",
    "drug",
    "max_daily_dose_mg",
    "final_daily_dose_mg",
    "alert_rule_ids",
)
SCHEDULE_COLUMNS: Final = tuple(PATIENT_COLUMNS)
CARE_PLAN_COLUMNS: Final = (*PATIENT_COLUMNS, *FINDINGS_COLUMNS)

_EXPECTED: Final = {
    QUANTITY: "numbers (or quantity text such as '70 kg')",
    BOOLEAN: "true/false values",
    TEXT: "text",
    NAMES: "lists of names, or names separated by ';'",
}
_QUANTITY_UNITS: Final = {
    "weight_kg": "kg",
    "height_cm": "cm",
    "serum_creatinine_mg_dl": "mg/dL",
    "serum_creatinine_umol_l": "umol/L",
    "block_relief_days": "d",
}

# What the scalar path does with a branch-less block: both branches were blocked.
DEFAULT_BLOCK_BRANCHES: Final = ("superior", "middle")


def narwhals() -> Any:
    """The narwhals module, or :class:`MissingExtraError` naming the extra."""
    try:
        import narwhals.stable.v2 as nw
    except ImportError as exc:
        raise MissingExtraError("cohort", "cluneal.cohort") from exc
    return nw


@dataclass(frozen=True, slots=True)
class Columns:
    """A frame's cohort columns, read once.

    Attributes:
        rows: The number of rows.
        values: Per column, the Python value of each row (``None`` for null).
        numeric: Per numeric column, its values as floats (NaN for null).
        text: The quantity columns given as text (their values are parsed per row).
        codes: Per column Arrow could encode, an integer code per row (equal values,
            equal codes; null has its own code).
        present: Per column, whether each row holds a value (not null).
    """

    rows: int
    values: dict[str, list[Any]]
    numeric: dict[str, NDArray[np.float64]]
    text: frozenset[str]
    codes: dict[str, NDArray[np.int64]]
    present: dict[str, NDArray[np.bool_]]


def _kind_ok(kind: str, dtype: Any, nw: Any) -> tuple[bool, bool]:
    """(accepted, numeric) for a column of ``kind`` and narwhals ``dtype``."""
    if dtype in {nw.Object, nw.Unknown}:
        # pandas object columns: the scalar functions check every value.
        return True, False
    is_null = dtype == getattr(nw, "Null", None)
    if kind == QUANTITY:
        numeric = dtype.is_numeric() and dtype != nw.Boolean
        return numeric or dtype == nw.String or is_null, numeric
    if kind == BOOLEAN:
        return dtype == nw.Boolean or is_null, False
    if kind == TEXT:
        return dtype in {nw.String, nw.Categorical, nw.Enum} or is_null, False
    # NAMES
    names = isinstance(dtype, nw.List) and dtype.inner in {nw.String, nw.Categorical}
    return names or dtype == nw.String or is_null, False


def read_columns(frame: Any, spec: dict[str, tuple[str, bool]]) -> tuple[Any, Columns]:
    """Read the cohort columns of an eager frame.

    Args:
        frame: A pandas DataFrame, a pyarrow Table or a polars DataFrame.
        spec: The columns to read (name -> (kind, required)).

    Returns:
        The narwhals frame and its columns.

    Raises:
        ClunealError: Not a frame, a required column missing, or a column of
            the wrong type (named).
    """
    nw = narwhals()
    try:
        df = nw.from_native(frame, eager_only=True)
    except TypeError:
        raise ClunealError(
            f"frame: got {show(frame)}; expected a pandas DataFrame, a pyarrow Table, "
            "a polars DataFrame or a Dask DataFrame"
        ) from None
    schema = df.schema
    missing = [name for name, (_, required) in spec.items() if required and name not in schema]
    if missing:
        raise ClunealError(
            f"frame: missing column(s) {', '.join(repr(m) for m in missing)}; "
            f"the cohort columns are {', '.join(spec)}"
        )
    values: dict[str, list[Any]] = {}
    numeric: dict[str, NDArray[np.float64]] = {}
    text: set[str] = set()
    codes: dict[str, NDArray[np.int64]] = {}
    present: dict[str, NDArray[np.bool_]] = {}
    for name, (kind, _) in spec.items():
        if name not in schema:
            continue
        dtype = schema[name]
        accepted, is_numeric = _kind_ok(kind, dtype, nw)
        if not accepted:
            raise ClunealError(
                f"column {name!r}: got values of type {dtype}; expected {_EXPECTED[kind]}"
            )
        series = df[name]
        nulls = series.is_null().to_numpy()
        if is_numeric:
            floats = np.asarray(series.cast(nw.Float64).to_numpy(), dtype=np.float64)
            floats = np.where(nulls, np.nan, floats)
            numeric[name] = floats
            # Integers stay integers, as the scalar call would receive them.
            listed = series.to_list() if dtype.is_integer() else floats.tolist()
        else:
            listed = series.to_list()
            if kind == QUANTITY:
                text.add(name)
        if nulls.any():
            for i in np.flatnonzero(nulls).tolist():
                listed[i] = None
        values[name] = listed
        present[name] = ~nulls
        encoded = _encode(series)
        if encoded is not None:
            codes[name] = encoded
    return df, Columns(
        rows=len(df),
        values=values,
        numeric=numeric,
        text=frozenset(text),
        codes=codes,
        present=present,
    )


def _encode(series: Any) -> NDArray[np.int64] | None:
    """Integer codes of a column, computed by Arrow (``None`` when Arrow cannot encode it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if series.dtype.is_nested():
        return None  # lists: keyed in Python
    try:
        arrow = series.to_arrow()
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        encoded = pc.dictionary_encode(arrow, null_encoding="encode")
    except (pa.ArrowException, TypeError, ValueError):
        return None  # a pandas object column of mixed values: keyed in Python
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _value(columns: Columns, name: str, row: int) -> Any:
    listed = columns.values.get(name)
    return None if listed is None else listed[row]


def _names(value: Any) -> Any:
    """Names as the scalar functions take them: a list (split on ';' when text)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if value is None:
        return []
    if hasattr(value, "tolist") and not isinstance(value, list):
        return value.tolist()  # numpy arrays from pandas' arrow-backed lists
    return value


def _quantity(columns: Columns, name: str, row: int) -> Any:
    value = _value(columns, name, row)
    if value is None or name in columns.text or name not in _QUANTITY_UNITS:
        return value
    return {"value": value, "unit": _QUANTITY_UNITS[name]}


def patient_input(columns: Columns, row: int) -> dict[str, Any]:
    """The mapping a scalar call receives as the patient of one row.

    Null optional values are left out (the scalar defaults apply: no dialysis,
    no hepatic impairment, no conditions, no medications, HLA-B*15:02 unknown).
    A numeric quantity column becomes ``{"value": x, "unit": <the column's unit>}``;
    a text one is passed as it is (``"154 lb"``).

    Raises:
        ClunealError: Both creatinine columns hold a value for this row.
    """
    patient: dict[str, Any] = {
        "age": _value(columns, "age", row),
        "sex": _value(columns, "sex", row),
    }
    mg = _quantity(columns, "serum_creatinine_mg_dl", row)
    umol = _quantity(columns, "serum_creatinine_umol_l", row)
    if mg is not None and umol is not None:
        raise ClunealError(
            "serum_creatinine_mg_dl and serum_creatinine_umol_l: both given; give one of them"
        )
    optional = {
        "weight": _quantity(columns, "weight_kg", row),
        "height": _quantity(columns, "height_cm", row),
        "serum_creatinine": mg if mg is not None else umol,
        "on_dialysis": _value(columns, "on_dialysis", row),
        "hepatic_impairment": _value(columns, "hepatic_impairment", row),
        "hla_b_1502": _value(columns, "hla_b_1502", row),
    }
    patient.update({k: v for k, v in optional.items() if v is not None})
    for name in ("conditions", "medications"):
        listed = _value(columns, name, row)
        if listed is not None:
            patient[name] = _names(listed)
    return patient


def findings_input(columns: Columns, row: int) -> dict[str, Any]:
    """The mapping a scalar call receives as the findings of one row.

    Null means not examined (unknown): the pain pattern needs both of its
    columns; ``tender_point_site`` ``"none"`` is examined and none found; a
    block needs ``block_relief_percent`` (``block_branches`` defaults to both
    branches, ``block_relief_days`` to unknown).
    """
    findings: dict[str, Any] = {}
    low_back = _value(columns, "low_back_pain", row)
    deep = _value(columns, "deep_aching_poorly_localized", row)
    if low_back is not None and deep is not None:
        findings["pain"] = {"low_back_pain": low_back, "deep_aching_poorly_localized": deep}
    site = _value(columns, "tender_point_site", row)
    if site == "none":
        findings["tender_points"] = []
    elif site is not None:
        findings["tender_points"] = [
            {"site": site, "reproduces_pain": _value(columns, "tender_point_reproduces_pain", row)}
        ]
    relief = _value(columns, "block_relief_percent", row)
    if relief is not None:
        branches = _value(columns, "block_branches", row)
        block: dict[str, Any] = {
            "branches": list(DEFAULT_BLOCK_BRANCHES) if branches is None else _names(branches),
            "relief_percent": relief,
        }
        duration = _quantity(columns, "block_relief_days", row)
        if duration is not None:
            block["relief_duration"] = duration
        findings["block"] = block
    return findings
