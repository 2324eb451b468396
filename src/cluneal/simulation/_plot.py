"""Drawing a :class:`~cluneal.simulation.Simulation`: occupancy and the relief curve.

matplotlib is imported when a plot is drawn; the caller chooses the backend.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from cluneal.errors import MissingExtraError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["plot_simulation"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingExtraError("plot", "Simulation.plot()") from exc
    return plt


def plot_simulation(simulation: Any, labels: Sequence[str], ax: Any = None) -> Any:
    """Stacked state occupancy (means, with each boundary's 95% band) and lasting relief.

    Args:
        simulation: The :class:`~cluneal.simulation.Simulation`.
        labels: The label of each state, in the order of its occupancy array.
        ax: Two matplotlib axes, or ``None`` for a new figure.

    Returns:
        The figure.
    """
    np = __import__("numpy")
    plt = _pyplot()
    if ax is None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
    else:
        left, right = ax
        fig = left.figure
    months = np.arange(simulation.months + 1)
    mean = simulation.occupancy.mean(axis=0)
    cumulative = np.cumsum(simulation.occupancy, axis=2)
    shown = [i for i in range(len(labels)) if mean[:, i].max() > 0]
    colours = plt.get_cmap("tab10")
    left.stackplot(
        months,
        *(mean[:, i] for i in shown),
        labels=[labels[i] for i in shown],
        colors=[colours(i) for i in shown],
        alpha=0.75,
    )
    for i in shown[:-1]:
        low, high = np.percentile(cumulative[:, :, i], [2.5, 97.5], axis=0)
        left.fill_between(months, low, high, color="black", alpha=0.15, linewidth=0)
    left.set(xlabel="month", ylabel="share of patients", ylim=(0, 1), xlim=(0, simulation.months))
    left.set_title("Pathway state (grey: 95% interval of each boundary)")
    # Outside the axes: the stack fills the whole plot.
    left.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    for values, label, colour in (
        (simulation.lasting_relief, "in lasting relief", "tab:green"),
        (simulation.first_lasting_relief, "reached lasting relief", "tab:blue"),
    ):
        low, high = np.percentile(values, [2.5, 97.5], axis=0)
        right.fill_between(months, low, high, color=colour, alpha=0.25, linewidth=0)
        right.plot(months, values.mean(axis=0), color=colour, label=f"{label} (mean, 95% interval)")
    right.set(xlabel="month", ylabel="share of patients", ylim=(0, 1), xlim=(0, simulation.months))
    right.set_title(f"Lasting relief (at least {simulation.lasting_relief_weeks:g} weeks)")
    right.legend(loc="lower right", fontsize="small")
    fig.suptitle(
        f"{simulation.patients} patients, {simulation.draws} draws, {simulation.months} months"
    )
    # A figure-level label: constrained layout keeps room for it under the axes.
    fig.supxlabel("\n".join(textwrap.wrap(simulation.statement, 160)), fontsize=7)
    return fig
