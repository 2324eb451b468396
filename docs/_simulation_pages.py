"""Compute the simulation page's table and figure at every docs build.

Called by conf.py like the other generators: the numbers come from
:func:`cluneal.simulate` and the knowledge base of the checkout being
documented, so the page can never show another version's counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathlib

# The RFA series' proportion (46 of 51 responded) at four sample sizes, to show the
# interval widen as the count shrinks; everything else is the built-in knowledge base.
_SCALES = ((9, 10), (46, 51), (460, 510), (4600, 5100))


def _cohort() -> list[object]:
    from cluneal import Findings, Patient

    temporary = Findings(
        pain={"low_back_pain": True, "deep_aching_poorly_localized": True},
        tender_points=[{"site": "iliac_crest", "reproduces_pain": True}],
        block={"branches": ["superior"], "relief_percent": 80, "relief_duration": "2 weeks"},
    )
    return [(Patient(age=60, sex="female"), temporary)] * 300


def write_simulation_pages(outdir: pathlib.Path) -> list[str]:
    """Write ``simulation-widths.md`` and ``simulation_plot.png`` into ``outdir``."""
    from matplotlib.figure import Figure

    import cluneal
    from cluneal.knowledge.outcomes import OutcomeParameters

    kb = cluneal.knowledge_base()
    cohort = _cohort()
    rows = [
        "| RFA response count | lasting relief at 6 months: mean | 95% interval | width |",
        "| --- | --- | --- | --- |",
    ]
    for successes, trials in _SCALES:
        rfa = kb.outcomes.response_for("radiofrequency_ablation")
        assert rfa is not None
        scaled = rfa.model_copy(update={"successes": successes, "trials": trials})
        outcomes = OutcomeParameters(
            response=tuple(scaled if r is rfa else r for r in kb.outcomes.response),
            relapse=kb.outcomes.relapse,
        )
        variant = kb.replace(version=f"rfa-{successes}-of-{trials}", outcomes=outcomes)
        row = (
            cluneal.simulate(cohort, months=6, draws=400, seed=16, knowledge=variant)
            .summary()
            .loc[6]
        )
        low, mean, high = (row[f"lasting_relief_{k}"] for k in ("low", "mean", "high"))
        rows.append(
            f"| {successes}/{trials} | {mean:.1%} | {low:.1%} to {high:.1%} | {high - low:.1%} |"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "simulation-widths.md").write_text("\n".join(rows) + "\n", encoding="utf-8")

    sim = cluneal.simulate(cohort, months=12, draws=400, seed=16)
    figure = Figure(figsize=(12, 5), layout="constrained")
    sim.plot(ax=figure.subplots(1, 2))
    figure.savefig(outdir / "simulation_plot.png", dpi=80, metadata={"Software": None})
    return ["simulation-widths.md", "simulation_plot.png"]
