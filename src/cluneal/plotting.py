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

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Final

from cluneal._numbers import clinical_number
from cluneal.errors import MissingExtraError
from cluneal.knowledge.base import knowledge_base
from cluneal.knowledge.drugs import monograph, rule_text

if TYPE_CHECKING:
    from cluneal.titration import TitrationSchedule

__all__ = ["cap_label", "plot_schedule"]

DOSE_COLOUR: Final = "#1f5fa8"
"""The colour of the daily-dose line."""
CAP_COLOUR: Final = "#b71c1c"
"""The colour of the cap line."""
SUPPLEMENT_COLOUR: Final = "#6a1b9a"
"""The colour of the post-haemodialysis supplement markers."""
_MIN_TAIL_DAYS: Final = 7


def _pyplot() -> Any:
    # A plain import statement turns a None entry in sys.modules (a blocked
    # module) into an ImportError; importlib.util.find_spec would raise ValueError.
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingExtraError("plot", "TitrationSchedule.plot()") from exc
    return plt


def _short(text: str) -> str:
    # The words before the rule's colon, without its bracketed asides.
    head = text.split(":", 1)[0]
    return " ".join(re.sub(r"\([^)]*\)", "", head).split())


def _supplement_marks(schedule: TitrationSchedule) -> list[tuple[int, float]]:
    """(step index, supplement mg) for every step a post-dialysis supplement applies to."""
    marks = []
    for index, step in enumerate(schedule.steps):
        applying = [
            i
            for i in schedule.supplemental_instructions
            if i.dose is not None and (i.from_day is None or i.from_day <= step.day)
        ]
        if applying:
            # The supplement of the latest maintenance dose reached (from_day).
            latest = max(applying, key=lambda i: -1 if i.from_day is None else i.from_day)
            if latest.dose is not None:
                marks.append((index, float(latest.dose.m_as("mg"))))
    return marks


def cap_label(schedule: TitrationSchedule) -> str:
    """Say in words which cap applied: "maximum 300 mg/day (older than 75 years)".

    The words come from the knowledge-base rule the cap came from; the rule id
    itself is shown beside the line, in smaller type.

    Args:
        schedule: The schedule.

    Returns:
        The label.

    Example:
        >>> from cluneal import Patient, titration_schedule
        >>> p = Patient(age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL")
        >>> cap_label(titration_schedule("tramadol", p))
        'maximum 300 mg/day (older than 75 years)'
    """
    rule = schedule.max_daily_dose_rule
    mono = monograph(schedule.drug)
    kb = knowledge_base()
    words = "cap"
    for cap in mono.caps:
        if cap.rule_id == rule:
            words = "adult maximum" if cap.when.always else _short(rule_text(cap, kb)).lower()
    for band in mono.renal_bands:
        if band.rule_id == rule:
            words = f"renal band {band.band.value.replace('_', ' ')}: {_short(rule_text(band, kb))}"
    amount = clinical_number(schedule.max_daily_dose_mg, down=True)
    return f"maximum {amount} mg/day ({words})"


def plot_schedule(schedule: TitrationSchedule, ax: Any = None) -> Any:
    """Plot the daily dose over time as a step plot, with the cap as a dashed line.

    The x axis shows calendar dates when the schedule has a start date, days
    from the start otherwise; the y axis is the daily dose (mg/day). Each step
    starts at its day and holds until the next one, and the last step is drawn
    on for a week (or a fifth of the schedule, if longer) so that it shows.
    The cap that applied is a dashed line labelled in words (see
    :func:`cap_label`), with its rule id in small type beside it; the dose
    line is drawn over it, so a final dose equal to the cap stays visible. A
    post-haemodialysis supplement is drawn as a marker above each step: the
    total on a dialysis day.

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
        ['maximum 300 mg/day (older than 75 years)', 'daily dose']
    """
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7.0, 3.6), layout="constrained")
    steps = schedule.steps
    days = [step.day for step in steps]
    doses = [step.daily_dose_mg for step in steps]
    tail = max(_MIN_TAIL_DAYS, round(days[-1] / 5))
    start = schedule.start_date
    xs: list[Any] = [*days, days[-1] + tail]
    if start is not None:
        xs = [start + dt.timedelta(days=day) for day in xs]
    cap = schedule.max_daily_dose_mg
    # The cap goes underneath (lower zorder) and the dose line on top, so a
    # final dose equal to the cap is drawn, not hidden.
    ax.axhline(
        cap,
        linestyle=(0, (5, 4)),
        color=CAP_COLOUR,
        linewidth=1.3,
        zorder=2,
        label=cap_label(schedule),
    )
    ax.annotate(
        schedule.max_daily_dose_rule,
        xy=(1.0, cap),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 3),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize="x-small",
        color=CAP_COLOUR,
        alpha=0.8,
    )
    ax.step(
        xs,
        [*doses, doses[-1]],
        where="post",
        color=DOSE_COLOUR,
        linewidth=2.2,
        zorder=4,
        label="daily dose",
    )
    ax.scatter(xs[:-1], doses, s=18, color=DOSE_COLOUR, zorder=5, clip_on=False)
    top = max(cap, doses[-1])
    marks = _supplement_marks(schedule)
    if marks:
        mark_x = [xs[i] for i, _ in marks]
        mark_y = [doses[i] + extra for i, extra in marks]
        ax.scatter(
            mark_x,
            mark_y,
            marker="^",
            s=46,
            color=SUPPLEMENT_COLOUR,
            zorder=6,
            clip_on=False,
            label="on a haemodialysis day: daily dose + supplement after the session",
        )
        for x, y, (_, extra) in zip(mark_x, mark_y, marks, strict=True):
            ax.annotate(
                f"+{clinical_number(extra)} mg",
                xy=(x, y),
                xytext=(5, 2),
                textcoords="offset points",
                fontsize="x-small",
                color=SUPPLEMENT_COLOUR,
            )
        top = max(top, *mark_y)
    ax.set_xlim(xs[0], xs[-1])
    # Head room above the highest mark keeps the legend (top left) clear of the lines.
    ax.set_ylim(0, top * 1.45)
    if start is None:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Day")
    else:
        import matplotlib.dates

        dates: Any = matplotlib.dates  # typed loosely: its stubs vary between releases
        locator = dates.AutoDateLocator(maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
        ax.set_xlabel(f"Date (day 0 = {start.isoformat()})")
    ax.set_ylabel("Daily dose (mg/day)")
    protocol = schedule.protocol.value.replace("_", " ")
    ax.set_title(f"{schedule.drug.value.capitalize()} titration ({protocol} protocol)")
    ax.grid(visible=True, axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax
