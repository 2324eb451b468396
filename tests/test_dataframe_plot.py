"""TitrationSchedule.to_dataframe() and .plot(): optional extras, imported lazily."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from cluneal import MissingExtraError, Patient, titration_schedule
from cluneal.dataframe import SCHEDULE_COLUMNS, schedule_dataframe
from cluneal.plotting import plot_schedule

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cluneal.titration import TitrationSchedule

RENAL_OK: dict[str, Any] = {"weight": "80 kg", "serum_creatinine": "1.0 mg/dL"}


def _gabapentin(**kwargs: Any) -> TitrationSchedule:
    return titration_schedule("gabapentin", Patient(age=50, sex="male", **RENAL_OK), **kwargs)


def _tramadol_over_75() -> TitrationSchedule:
    """Tramadol at 80: the age cap of 300 mg/day applies (tramadol.cap.age_over_75)."""
    patient = Patient(age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL")
    return titration_schedule("tramadol", patient)


SCHEDULES = (
    pytest.param(lambda: _gabapentin(start_date="2026-03-02"), id="gabapentin-dated"),
    pytest.param(_tramadol_over_75, id="tramadol-over-75"),
    pytest.param(
        lambda: titration_schedule("naltrexone", Patient(age=40, sex="female")), id="naltrexone"
    ),
)


# --- DataFrame --------------------------------------------------------------------------


@pytest.mark.parametrize("make", SCHEDULES)
def test_dataframe_rows_match_the_steps(make: Any) -> None:
    """One row per step; columns in order, units in the float columns' names (STYLE.md)."""
    pytest.importorskip("pandas")
    schedule = make()
    df = schedule.to_dataframe()
    assert tuple(df.columns) == SCHEDULE_COLUMNS
    assert len(df) == len(schedule.steps)
    for (_, row), step in zip(df.iterrows(), schedule.steps, strict=True):
        assert row["day"] == step.day
        assert row["dose_mg"] == step.dose_mg
        assert row["doses_per_day"] == step.doses_per_day
        assert row["daily_dose_mg"] == step.daily_dose_mg
        assert row["timing"] == step.timing.value
        assert row["composition"] == step.composition
        assert row["reason"] == step.reason
    assert str(df["day"].dtype) == "int64" and str(df["doses_per_day"].dtype) == "int64"
    assert str(df["dose_mg"].dtype) == "float64" and str(df["daily_dose_mg"].dtype) == "float64"
    assert df["daily_dose_mg"].is_monotonic_increasing
    assert df.attrs["max_daily_dose_mg"] == schedule.max_daily_dose_mg
    assert df.attrs["max_daily_dose_rule"] == schedule.max_daily_dose_rule
    assert df.attrs["drug"] == schedule.drug.value


def test_dataframe_dates() -> None:
    """Dates are datetime64 when the schedule has a start date, NaT otherwise."""
    pd = pytest.importorskip("pandas")
    dated = schedule_dataframe(_gabapentin(start_date="2026-03-02"))
    assert pd.api.types.is_datetime64_any_dtype(dated["date"])
    assert [d.date().isoformat() for d in dated["date"]][:3] == [
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
    ]
    undated = schedule_dataframe(_gabapentin())
    assert pd.api.types.is_datetime64_any_dtype(undated["date"])
    assert undated["date"].isna().all()


def test_dataframe_is_a_new_frame_each_time() -> None:
    """The frame is the caller's: changing it does not touch the schedule or the next frame."""
    pytest.importorskip("pandas")
    schedule = _gabapentin()
    first = schedule.to_dataframe()
    first.loc[0, "dose_mg"] = 9999.0
    assert schedule.to_dataframe().loc[0, "dose_mg"] == schedule.steps[0].dose_mg


def test_dataframe_missing_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pandas: MissingExtraError naming the extra, also an ImportError."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError) as info:
        _gabapentin().to_dataframe()
    assert info.value.extra == "dataframe"
    assert info.value.feature == "TitrationSchedule.to_dataframe()"
    assert isinstance(info.value, ImportError)
    assert 'pip install "cluneal[dataframe]"' in str(info.value)


# --- plot -------------------------------------------------------------------------------


@pytest.fixture
def pyplot() -> Iterator[Any]:
    """matplotlib's pyplot on the Agg backend; every figure closed afterwards."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _cap_lines(ax: Any) -> list[Any]:
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


@pytest.mark.parametrize("make", SCHEDULES)
def test_plot_draws_the_daily_dose_and_the_cap(make: Any, pyplot: Any) -> None:
    """A step plot of mg/day over time, and the cap as a dashed line labelled in words."""
    schedule = make()
    ax = schedule.plot()
    steps = schedule.steps
    dose_line = next(line for line in ax.get_lines() if line.get_label() == "daily dose")
    xs, ys = list(dose_line.get_xdata()), list(dose_line.get_ydata())
    if schedule.start_date is None:
        assert xs[:-1] == [s.day for s in steps] and xs[-1] > steps[-1].day
        assert ax.get_xlabel() == "Day"
    else:
        assert xs[:-1] == [s.date for s in steps] and xs[-1] > steps[-1].date
        assert ax.get_xlabel() == f"Date (day 0 = {schedule.start_date.isoformat()})"
    assert ys == [*(s.daily_dose_mg for s in steps), steps[-1].daily_dose_mg]
    assert dose_line.get_drawstyle() == "steps-post"

    (cap,) = _cap_lines(ax)
    assert list(cap.get_ydata()) == [schedule.max_daily_dose_mg] * 2
    assert schedule.max_daily_dose_rule not in cap.get_label()  # words first, the id beside
    assert schedule.max_daily_dose_rule in [t.get_text() for t in ax.texts]
    assert f"{schedule.max_daily_dose_mg:g} mg/day" in cap.get_label()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert cap.get_label() in legend
    assert ax.get_ylim()[1] > schedule.max_daily_dose_mg
    assert ax.get_ylabel() == "Daily dose (mg/day)"
    assert schedule.drug.value.capitalize() in ax.get_title()


def test_tramadol_cap_line_at_300(pyplot: Any) -> None:
    """Tramadol over 75: the cap line sits at 300 mg/day, said in words (tramadol.cap.age_over_75)."""
    ax = plot_schedule(_tramadol_over_75())
    (cap,) = _cap_lines(ax)
    assert list(cap.get_ydata()) == [300.0, 300.0]
    assert cap.get_label() == "maximum 300 mg/day (older than 75 years)"


def test_plot_on_a_given_axes_and_never_shows(pyplot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Draws on the caller's Axes, returns it, opens no figure of its own, never calls show()."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(pyplot, "show", refuse)
    fig, given = pyplot.subplots()
    before = pyplot.get_fignums()
    assert _gabapentin().plot(ax=given) is given
    assert pyplot.get_fignums() == before
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # renders headless on Agg
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_plot_new_figure_is_a_pyplot_figure(pyplot: Any) -> None:
    """Without ax, a new pyplot figure is made (so that a notebook shows it)."""
    before = len(pyplot.get_fignums())
    ax = _gabapentin().plot()
    assert len(pyplot.get_fignums()) == before + 1
    assert ax.figure is pyplot.gcf()


def test_plot_missing_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without matplotlib: MissingExtraError naming the 'plot' extra."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot  # loaded, so that only the blocked parent can stop the import

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingExtraError) as info:
        _gabapentin().plot()
    assert info.value.extra == "plot"
    assert isinstance(info.value, ImportError)


def test_plot_missing_matplotlib_never_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocked before it was ever imported: the same error."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtraError, match=r"cluneal\[plot\]"):
        plot_schedule(_gabapentin())


def test_rendering_modules_import_no_extra() -> None:
    """Principle 5: importing display, dataframe and plotting pulls in neither pandas nor matplotlib."""
    code = (
        "import sys, cluneal, cluneal.display, cluneal.dataframe, cluneal.plotting\n"
        "s = cluneal.titration_schedule('naltrexone', cluneal.Patient(age=40, sex='female'))\n"
        "s._repr_html_(); str(s)\n"
        "print(','.join(m for m in ('pandas', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


# --- pint-pandas ------------------------------------------------------------------------


@pytest.fixture
def pint_pandas() -> Iterator[Any]:
    """pint-pandas with its process-wide registry restored afterwards."""
    module = pytest.importorskip("pint_pandas")
    saved = module.PintType.ureg
    yield module
    module.PintType.ureg = saved


def test_pint_columns_share_the_package_registry(pint_pandas: Any) -> None:
    """Issue 15: comparing a pint-pandas column with a schedule's quantity works."""
    from cluneal import ureg
    from cluneal.dataframe import PINT_SCHEDULE_COLUMNS

    schedule = _tramadol_over_75()
    df = schedule.to_dataframe(units="pint")
    assert tuple(df.columns) == PINT_SCHEDULE_COLUMNS
    assert "dose_mg" not in df.columns and "daily_dose_mg" not in df.columns
    assert df["dose"].pint.units == ureg.mg and df["daily_dose"].pint.units == ureg.mg / ureg.d
    assert (df["daily_dose"] <= schedule.max_daily_dose).all()  # no "different registries"
    assert df["daily_dose"].pint.quantity._REGISTRY is ureg
    assert pint_pandas.PintType.ureg is ureg  # the user's own pint-pandas code shares it
    grams = df["daily_dose"].pint.to("g/d")
    assert list(grams.pint.magnitude) == pytest.approx(
        [s.daily_dose_mg / 1000 for s in schedule.steps]
    )
    assert [q.m_as("mg") for q in df["dose"]] == [s.dose_mg for s in schedule.steps]


def test_float_columns_stay_the_default(pint_pandas: Any) -> None:
    df = _tramadol_over_75().to_dataframe()
    assert str(df["daily_dose_mg"].dtype) == "float64"


def test_pint_columns_refuse_a_foreign_registry(pint_pandas: Any) -> None:
    """Fail closed: another registry set by other code is not silently replaced."""
    import pint

    from cluneal import ClunealError

    pint_pandas.PintType.ureg = pint.UnitRegistry()
    with pytest.raises(ClunealError, match=r"pint_pandas.PintType.ureg = cluneal.ureg"):
        _tramadol_over_75().to_dataframe(units="pint")


def test_unknown_units_option() -> None:
    from cluneal import UnknownTermError

    with pytest.raises(UnknownTermError):
        _tramadol_over_75().to_dataframe(units="kelvin")  # type: ignore[arg-type]


def test_pint_columns_without_pint_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    monkeypatch.setitem(sys.modules, "pint_pandas", None)
    with pytest.raises(MissingExtraError, match=r"cluneal\[dataframe\]"):
        _tramadol_over_75().to_dataframe(units="pint")
