"""Titration schedules as pandas DataFrames (optional extra ``cluneal[dataframe]``).

pandas is imported when a frame is built, never when :mod:`cluneal` is
imported. By default, float columns carry their unit in their name
(``dose_mg``, ``daily_dose_mg``), as STYLE.md asks wherever a float stands for
a quantity. With ``units="pint"`` the dose columns are pint-pandas columns
(``dose``, ``daily_dose``) on cluneal's one registry, :data:`cluneal.ureg`, so
they compare with a schedule's quantities directly.

pint-pandas keeps one registry per process, ``pint_pandas.PintType.ureg``.
cluneal points it at :data:`cluneal.ureg` when a pint frame is first built, if
it is still pint's default; your own pint-pandas code then shares it. If your
code set another registry, cluneal refuses rather than mixing registries: set
``pint_pandas.PintType.ureg = cluneal.ureg`` yourself.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.dataframe import schedule_dataframe
    >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
    >>> df = schedule_dataframe(s)
    >>> df["day"].tolist(), df["daily_dose_mg"].tolist()
    ([0, 7, 14], [1.5, 3.0, 4.5])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal

from cluneal.errors import ClunealError, MissingExtraError, UnknownTermError
from cluneal.units import ureg

if TYPE_CHECKING:
    from cluneal.titration import TitrationSchedule

__all__ = ["PINT_SCHEDULE_COLUMNS", "SCHEDULE_COLUMNS", "schedule_dataframe"]

SCHEDULE_COLUMNS: Final = (
    "day",
    "date",
    "dose_mg",
    "doses_per_day",
    "daily_dose_mg",
    "timing",
    "composition",
    "reason",
)
"""The columns of :func:`schedule_dataframe`, in order."""

PINT_SCHEDULE_COLUMNS: Final = tuple(
    {"dose_mg": "dose", "daily_dose_mg": "daily_dose"}.get(c, c) for c in SCHEDULE_COLUMNS
)
"""The columns with ``units="pint"``: ``dose`` (pint[mg]) and ``daily_dose`` (pint[mg/d])."""


def _pandas() -> Any:
    # A plain import, not importlib.util.find_spec: find_spec raises ValueError
    # when sys.modules holds None for the name (how a blocked module is spelled),
    # whereas the import statement turns that into an ImportError.
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError("dataframe", "TitrationSchedule.to_dataframe()") from exc
    return pd


def _pint_pandas() -> Any:
    try:
        import pint_pandas
    except ImportError as exc:
        raise MissingExtraError(
            "dataframe", 'TitrationSchedule.to_dataframe(units="pint")'
        ) from exc
    current = pint_pandas.PintType.ureg
    if current is not ureg:
        import pint

        pint_module: Any = pint  # get_application_registry is untyped
        if current is not pint_module.get_application_registry():
            msg = (
                "units: pint-pandas is set to another unit registry; cluneal's quantities "
                "live on cluneal.ureg (set pint_pandas.PintType.ureg = cluneal.ureg)"
            )
            raise ClunealError(msg)
        pint_pandas.PintType.ureg = ureg
    return pint_pandas


def _pint_column(pint_pandas: Any, values: list[float], unit: str) -> Any:
    return pint_pandas.PintArray(values, dtype=pint_pandas.PintType(ureg.Unit(unit)))


def schedule_dataframe(
    schedule: TitrationSchedule, units: Literal["float", "pint"] = "float"
) -> Any:
    """Return a schedule as a pandas DataFrame, one row per step.

    Columns, in order (:data:`SCHEDULE_COLUMNS`): ``day`` (int, days from the
    start), ``date`` (``datetime64``; ``NaT`` when the schedule has no start
    date), ``dose_mg`` (float, per administration), ``doses_per_day`` (int),
    ``daily_dose_mg`` (float, mg/day), ``timing``, ``composition`` and ``reason``
    (text). ``DataFrame.attrs`` carries the drug, the protocol, the cap
    (``max_daily_dose_mg``) and its rule id (``max_daily_dose_rule``), the target
    and the knowledge-base version.

    With ``units="pint"``, ``dose_mg`` and ``daily_dose_mg`` are replaced by
    pint-pandas columns ``dose`` (mg) and ``daily_dose`` (mg/d) on
    :data:`cluneal.ureg` (:data:`PINT_SCHEDULE_COLUMNS`).

    Args:
        schedule: The schedule.
        units: ``"float"`` (default: plain float columns, unit in the name) or
            ``"pint"`` (pint-pandas columns).

    Returns:
        A new ``pandas.DataFrame``.

    Raises:
        MissingExtraError: pandas (or, for ``units="pint"``, pint-pandas) is not
            installed (``pip install "cluneal[dataframe]"``).
        UnknownTermError: ``units`` is neither ``"float"`` nor ``"pint"``.
        ClunealError: Other code set pint-pandas to another registry.

    Example:
        >>> from cluneal import Patient, titration_schedule
        >>> from cluneal.dataframe import SCHEDULE_COLUMNS, schedule_dataframe
        >>> p = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
        >>> df = schedule_dataframe(titration_schedule("gabapentin", p, start_date="2026-03-02"))
        >>> list(df.columns) == list(SCHEDULE_COLUMNS)
        True
        >>> row = df.iloc[1]
        >>> int(row["day"]), float(row["dose_mg"]), int(row["doses_per_day"]), row["timing"]
        (1, 300.0, 2, 'twice daily')
        >>> str(df.loc[1, "date"].date()), df.attrs["max_daily_dose_rule"]
        ('2026-03-03', 'gabapentin.cap.adult')
        >>> s = titration_schedule("gabapentin", p)
        >>> pint_df = schedule_dataframe(s, units="pint")
        >>> pint_df["daily_dose"].pint.units
        <Unit('milligram / day')>
        >>> bool((pint_df["daily_dose"] <= s.max_daily_dose).all())
        True
    """
    if units not in {"float", "pint"}:
        raise UnknownTermError("units", units, ["float", "pint"])
    pd = _pandas()
    steps = schedule.steps
    doses = [s.dose_mg for s in steps]
    dailies = [s.daily_dose_mg for s in steps]
    if units == "pint":
        pint_pandas = _pint_pandas()
        dose = pd.Series(_pint_column(pint_pandas, doses, "mg"))
        daily = pd.Series(_pint_column(pint_pandas, dailies, "mg/d"))
        names = {"dose_mg": "dose", "daily_dose_mg": "daily_dose"}
        columns = PINT_SCHEDULE_COLUMNS
    else:
        dose = pd.Series(doses, dtype="float64")
        daily = pd.Series(dailies, dtype="float64")
        names = {}
        columns = SCHEDULE_COLUMNS
    data = {
        "day": pd.Series([s.day for s in steps], dtype="int64"),
        "date": pd.to_datetime(pd.Series([s.date for s in steps], dtype="object")),
        "dose_mg": dose,
        "doses_per_day": pd.Series([s.doses_per_day for s in steps], dtype="int64"),
        "daily_dose_mg": daily,
        "timing": pd.Series([s.timing.value for s in steps], dtype="object"),
        "composition": pd.Series([s.composition for s in steps], dtype="object"),
        "reason": pd.Series([s.reason for s in steps], dtype="object"),
    }
    frame = pd.DataFrame({names.get(k, k): v for k, v in data.items()}, columns=list(columns))
    frame.attrs.update(
        {
            "drug": schedule.drug.value,
            "protocol": schedule.protocol.value,
            "max_daily_dose_mg": schedule.max_daily_dose_mg,
            "max_daily_dose_rule": schedule.max_daily_dose_rule,
            "target_daily_dose_mg": schedule.target_daily_dose_mg,
            "knowledge_base_version": schedule.knowledge_base_version,
        }
    )
    return frame
