"""Issue 15: every plot is checked as an image (Agg), not only that it runs.

Each test renders the figure to pixels and asserts on what a reader sees: the
dose line's colour at the cap's height, the supplement markers' colour where
they are drawn, dates under the x axis, the cap described in words.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from cluneal import Patient, titration_schedule
from cluneal.plotting import CAP_COLOUR, DOSE_COLOUR, SUPPLEMENT_COLOUR, plot_schedule

if TYPE_CHECKING:
    from cluneal.titration import TitrationSchedule

np = pytest.importorskip("numpy")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def _dialysis() -> TitrationSchedule:
    """Gabapentin on haemodialysis: capped at 300 mg/day (gabapentin.renal.end_stage,
    label: CrCl < 15 column 100-300 mg/day), with a supplement after each session."""
    patient = Patient(
        age=60, sex="male", weight="80 kg", serum_creatinine="6 mg/dL", on_dialysis=True
    )
    return titration_schedule("gabapentin", patient, start_date="2026-03-02")


def _naltrexone() -> TitrationSchedule:
    """Low-dose naltrexone: titrated to 4.5 mg/day, which is also its cap."""
    return titration_schedule("naltrexone", Patient(age=40, sex="female"))


def _render(schedule: TitrationSchedule) -> tuple[Any, Any, Any]:
    figure = Figure(figsize=(7.0, 3.6), dpi=100, layout="constrained")
    canvas: Any = FigureCanvasAgg(figure)
    ax = plot_schedule(schedule, ax=figure.subplots())
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3].astype(int)
    return figure, ax, pixels


def _near(pixels: Any, colour: str, tolerance: int = 90) -> Any:
    # Wide enough for antialiased edges; the three palette colours are > 150 apart.
    target = np.array([round(c * 255) for c in to_rgb(colour)])
    return np.abs(pixels - target).sum(axis=2) <= tolerance


def _pixel(ax: Any, pixels: Any, x: Any, y: float) -> tuple[int, int]:
    px, py = ax.transData.transform(
        (matplotlib.dates.date2num(x) if isinstance(x, dt.date) else x, y)
    )
    return round(float(px)), round(float(pixels.shape[0] - py))


@pytest.mark.parametrize("make", [_dialysis, _naltrexone])
def test_the_dose_line_is_visible_at_the_cap(make: Any) -> None:
    schedule = make()
    assert schedule.steps[-1].daily_dose_mg == schedule.max_daily_dose_mg
    _, ax, pixels = _render(schedule)
    last = schedule.steps[-1]
    start = last.date if last.date is not None else last.day
    end = ax.get_xlim()[1]
    x0, row = _pixel(ax, pixels, start, schedule.max_daily_dose_mg)
    x1 = int(ax.transData.transform((end, 0))[0])
    band = pixels[row - 1 : row + 2, x0 + 8 : x1 - 8]
    dose = _near(band, DOSE_COLOUR).any(axis=0)
    cap = _near(band, CAP_COLOUR).any(axis=0)
    # The dose line covers the whole final step; the dashed cap does not show through.
    assert dose.mean() > 0.97
    assert cap.mean() < 0.03


def test_the_cap_is_red_and_dashed_where_the_dose_is_below_it() -> None:
    schedule = _dialysis()
    _, ax, pixels = _render(schedule)
    first = schedule.steps[0]
    x0, row = _pixel(ax, pixels, first.date, schedule.max_daily_dose_mg)
    x1, _ = _pixel(ax, pixels, schedule.steps[1].date, schedule.max_daily_dose_mg)
    band = pixels[row - 1 : row + 2, x0 + 10 : x1 - 10]
    cap = _near(band, CAP_COLOUR).any(axis=0)
    assert 0.3 < cap.mean() < 0.9  # dashed: red with gaps


def test_dialysis_supplements_are_drawn_as_markers() -> None:
    # Gabapentin label, supplement table: maintenance 100 -> 125 mg, 200 -> 250 mg,
    # 300 -> 350 mg after each 4 h of haemodialysis.
    schedule = _dialysis()
    expected = {100.0: 125.0, 200.0: 250.0, 300.0: 350.0}
    assert [s.daily_dose_mg for s in schedule.steps] == list(expected)
    _, ax, pixels = _render(schedule)
    for step in schedule.steps:
        x, y = _pixel(ax, pixels, step.date, step.daily_dose_mg + expected[step.daily_dose_mg])
        patch = pixels[y - 3 : y + 4, x - 3 : x + 4]
        assert _near(patch, SUPPLEMENT_COLOUR).sum() >= 10, step.day
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "on a haemodialysis day: daily dose + supplement after the session" in legend
    labels = [t.get_text() for t in ax.texts]
    assert labels[1:] == ["+125 mg", "+250 mg", "+350 mg"]


def test_dates_on_the_x_axis_when_a_start_date_is_given() -> None:
    schedule = _dialysis()
    _, ax, _ = _render(schedule)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    # ConciseDateFormatter: day numbers under the ticks and the month and year
    # in the offset; none of them is a day count from the start.
    assert labels and all(label.isdigit() or label[:3] == "Mar" for label in labels)
    assert ax.xaxis.get_major_formatter().get_offset() == "2026-Mar"
    assert ax.get_xlabel() == "Date (day 0 = 2026-03-02)"


def test_days_on_the_x_axis_without_a_start_date() -> None:
    _, ax, _ = _render(_naltrexone())
    assert ax.get_xlabel() == "Day"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "0" and all(label.isdigit() for label in labels)  # whole days


def test_the_cap_is_labelled_in_words_with_the_rule_id_beside_it() -> None:
    _, ax, _ = _render(_dialysis())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "maximum 300 mg/day (renal band end stage: CrCl <= 15 mL/min)"
    assert ax.texts[0].get_text() == "gabapentin.renal.end_stage"
