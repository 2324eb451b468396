"""Draw the schedule plot shown on the notebooks page.

Called by conf.py at every build, like the pathway pages: the figure is drawn
by :meth:`cluneal.TitrationSchedule.plot` from the knowledge base of the
checkout being documented, so it can never show another version's doses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathlib


def write_plot(outdir: pathlib.Path) -> list[str]:
    """Write ``schedule_plot.png`` (gabapentin at CrCl 30 mL/min) into ``outdir``."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no backend to choose

    import cluneal

    patient = cluneal.Patient(
        age=78, sex="male", weight="72 kg", serum_creatinine=cluneal.Q_(62 / 30, "mg/dL")
    )
    schedule = cluneal.titration_schedule("gabapentin", patient)

    figure = Figure(figsize=(7.0, 3.6), layout="constrained")
    schedule.plot(ax=figure.subplots())

    outdir.mkdir(parents=True, exist_ok=True)
    # No "Software" metadata: the PNG does not carry the matplotlib version.
    figure.savefig(outdir / "schedule_plot.png", dpi=100, metadata={"Software": None})
    return ["schedule_plot.png"]
