"""Titration schedules as pandas DataFrames (optional extra ``cluneal[dataframe]``).

pandas is imported when a frame is built, never when :mod:`cluneal` is
imported. Float columns carry their unit in their name (``dose_mg``,
``daily_dose_mg``), as STYLE.md asks wherever a float stands for a quantity.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.dataframe import schedule_dataframe
    >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
    >>> df = schedule_dataframe(s)
    >>> df["day"].tolist(), df["daily_dose_mg"].tolist()
    ([0, 7, 14], [1.5, 3.0, 4.5])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal.errors import MissingExtraError

if TYPE_CHECKING:
    from cluneal.titration import TitrationSchedule

__all__ = ["SCHEDULE_COLUMNS", "schedule_dataframe"]

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


def _pandas() -> Any:
    # A plain import, not importlib.util.find_spec: find_spec raises ValueError
    # when sys.modules holds None for the name (how a blocked module is spelled),
    # whereas the import statement turns that into an ImportError.
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError("dataframe", "TitrationSchedule.to_dataframe()") from exc
    return pd


def schedule_dataframe(schedule: TitrationSchedule) -> Any:
    """Return a schedule as a pandas DataFrame, one row per step.

    Columns, in order (:data:`SCHEDULE_COLUMNS`): ``day`` (int, days from the
    start), ``date`` (``datetime64``; ``NaT`` when the schedule has no start
    date), ``dose_mg`` (float, per administration), ``doses_per_day`` (int),
    ``daily_dose_mg`` (float, mg/day), ``timing``, ``composition`` and ``reason``
    (text). ``DataFrame.attrs`` carries the drug, the protocol, the cap
    (``max_daily_dose_mg``) and its rule id (``max_daily_dose_rule``), the target
    and the knowledge-base version.

    Args:
        schedule: The schedule.

    Returns:
        A new ``pandas.DataFrame``.

    Raises:
        MissingExtraError: pandas is not installed (``pip install "cluneal[dataframe]"``).

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
    """
    pd = _pandas()
    steps = schedule.steps
    frame = pd.DataFrame(
        {
            "day": pd.Series([s.day for s in steps], dtype="int64"),
            "date": pd.to_datetime(pd.Series([s.date for s in steps], dtype="object")),
            "dose_mg": pd.Series([s.dose_mg for s in steps], dtype="float64"),
            "doses_per_day": pd.Series([s.doses_per_day for s in steps], dtype="int64"),
            "daily_dose_mg": pd.Series([s.daily_dose_mg for s in steps], dtype="float64"),
            "timing": pd.Series([s.timing.value for s in steps], dtype="object"),
            "composition": pd.Series([s.composition for s in steps], dtype="object"),
            "reason": pd.Series([s.reason for s in steps], dtype="object"),
        },
        columns=list(SCHEDULE_COLUMNS),
    )
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
