"""Compute the simulation page's table and figure at every docs build.

Called by conf.py like the other generators: the numbers come from
:func:`cluneal.simulate` and the knowledge base of the checkout being
documented, so the page can never show another version's counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathlib

# The RFA series (46 of 51 responded; 10 relapses, 36 in relief at their last visit) at
# four sizes with the same proportions, to show the interval widen as the counts shrink;
# everything else is the built-in knowledge base.
_SCALES = (0.2, 1, 10, 100)


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
    header = (
        "| RFA response | RFA relapses / in relief | lasting relief at 6 months: mean"
        " | 95% interval | width |"
    )
    rows = [
        header,
        "| --- | --- | --- | --- | --- |",
    ]
    rfa = kb.outcomes.response_for("radiofrequency_ablation")
    relapse = kb.outcomes.relapse_for("radiofrequency_ablation")
    if rfa is None or relapse is None:
        msg = "the built-in knowledge base has no RFA counts"
        raise RuntimeError(msg)
    for scale in _SCALES:
        response = rfa.model_copy(
            update={
                "successes": round(rfa.successes * scale),
                "trials": round(rfa.trials * scale),
            }
        )
        relapses = relapse.model_copy(
            update={
                "events": round(relapse.events * scale),
                "censored": round(relapse.censored * scale),
            }
        )
        outcomes = OutcomeParameters(
            response=tuple(response if r is rfa else r for r in kb.outcomes.response),
            relapse=tuple(relapses if r is relapse else r for r in kb.outcomes.relapse),
        )
        variant = kb.replace(version=f"rfa-x{scale:g}", outcomes=outcomes)
        row = (
            cluneal.simulate(cohort, months=6, draws=400, seed=16, knowledge=variant)
            .summary()
            .loc[6]
        )
        low, mean, high = (row[f"lasting_relief_{k}"] for k in ("low", "mean", "high"))
        rows.append(
            f"| {response.successes}/{response.trials} | {relapses.events} / {relapses.censored}"
            f" | {mean:.1%} | {low:.1%} to {high:.1%} | {high - low:.1%} |"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "simulation-widths.md").write_text("\n".join(rows) + "\n", encoding="utf-8")

    sim = cluneal.simulate(cohort, months=12, draws=400, seed=16)
    figure = Figure(figsize=(12, 5), layout="constrained")
    sim.plot(ax=figure.subplots(1, 2))
    figure.savefig(outdir / "simulation_plot.png", dpi=80, metadata={"Software": None})
    return ["simulation-widths.md", "simulation_plot.png"]
