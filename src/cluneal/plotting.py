"""Titration schedules as matplotlib plots (optional extra ``cluneal[plot]``).

matplotlib is imported when a plot is drawn, never when :mod:`cluneal` is
imported. Nothing here calls ``plt.show()`` or chooses a backend: the caller's
notebook or script decides how the figure is shown or saved, and the Agg
backend works for headless use.

Example:
    >>> from matplotlib.figure import Figure
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.plotting import plot_schedule
    >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
    >>> ax = plot_schedule(s, ax=Figure().subplots())
    >>> ax.get_ylabel()
    'Daily dose (mg/day)'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal.errors import MissingExtraError

if TYPE_CHECKING:
    from cluneal.titration import TitrationSchedule

__all__ = ["plot_schedule"]

_DOSE_COLOUR: Final = "#1f5fa8"
_CAP_COLOUR: Final = "#b71c1c"
_MIN_TAIL_DAYS: Final = 7


def _pyplot() -> Any:
    # A plain import statement turns a None entry in sys.modules (a blocked
    # module) into an ImportError; importlib.util.find_spec would raise ValueError.
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingExtraError("plot", "TitrationSchedule.plot()") from exc
    return plt


def plot_schedule(schedule: TitrationSchedule, ax: Any = None) -> Any:
    """Plot the daily dose over time as a step plot, with the cap as a dashed line.

    Days from the start are on the x axis and the daily dose (mg/day) on the y
    axis; each step starts at its day and holds until the next one, and the
    last step is drawn on for a week (or a fifth of the schedule, if longer) so
    that it shows. The cap that applied is a dashed horizontal line whose
    legend label names its value and rule id.

    Args:
        schedule: The schedule.
        ax: A matplotlib ``Axes`` to draw on; ``None`` for a new figure from
            ``matplotlib.pyplot`` (so that a notebook shows it).

    Returns:
        The ``Axes`` drawn on. ``plt.show()`` is never called.

    Raises:
        MissingExtraError: matplotlib is not installed (``pip install "cluneal[plot]"``).

    Example:
        >>> from matplotlib.figure import Figure
        >>> from cluneal import Patient, titration_schedule
        >>> from cluneal.plotting import plot_schedule
        >>> p = Patient(age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL")
        >>> ax = plot_schedule(titration_schedule("tramadol", p), ax=Figure().subplots())
        >>> [line.get_label() for line in ax.get_lines()]
        ['daily dose', 'maximum 300 mg/day (tramadol.cap.age_over_75)']
    """
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7.0, 3.6), layout="constrained")
    steps = schedule.steps
    days = [step.day for step in steps]
    doses = [step.daily_dose_mg for step in steps]
    tail = max(_MIN_TAIL_DAYS, round(days[-1] / 5))
    cap = schedule.max_daily_dose_mg
    ax.step(
        [*days, days[-1] + tail],
        [*doses, doses[-1]],
        where="post",
        color=_DOSE_COLOUR,
        linewidth=2,
        label="daily dose",
    )
    ax.scatter(days, doses, s=16, color=_DOSE_COLOUR, zorder=3)
    ax.axhline(
        cap,
        linestyle="--",
        color=_CAP_COLOUR,
        linewidth=1.5,
        label=f"maximum {cap:g} mg/day ({schedule.max_daily_dose_rule})",
    )
    ax.set_xlim(0, days[-1] + tail)
    # Head room above the cap keeps the legend (top left) clear of both lines.
    ax.set_ylim(0, max(cap, doses[-1]) * 1.35)
    ax.set_xlabel("Day")
    ax.set_ylabel("Daily dose (mg/day)")
    protocol = schedule.protocol.value.replace("_", " ")
    ax.set_title(f"{schedule.drug.value.capitalize()} titration ({protocol} protocol)")
    ax.grid(visible=True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax
