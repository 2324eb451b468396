"""The result of a simulation: shares of the cohort per draw and month, summarised or drawn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cluneal.errors import MissingExtraError
from cluneal.simulation._states import PROCEDURES, STATES

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Simulation"]


@dataclass(frozen=True, eq=False)
class Simulation:
    """The result of :func:`simulate`: per draw and month, where the cohort is.

    Attributes:
        months: Months simulated (rows 0 to ``months``).
        draws: Parameter draws.
        patients: Patients in the cohort.
        seed: The seed used (``None`` when none was given).
        statement: Case-series figures, not trial results, with the series named.
        lasting_relief_weeks: The lasting-relief duration that drove the transitions.
        parameters: The rule ids of the counts used.
        knowledge_base_version: The knowledge base used.
        occupancy: Share of patients in each state, ``draws x (months + 1) x states``.
        lasting_relief: Share in lasting relief, ``draws x (months + 1)``.
        first_lasting_relief: Share who have had lasting relief by each month.
        procedures: Procedures per patient so far, ``draws x (months + 1) x procedures``.
    """

    months: int
    draws: int
    patients: int
    seed: int | None
    statement: str
    lasting_relief_weeks: float
    parameters: tuple[str, ...]
    knowledge_base_version: str
    occupancy: NDArray[np.float64] = field(repr=False)
    lasting_relief: NDArray[np.float64] = field(repr=False)
    first_lasting_relief: NDArray[np.float64] = field(repr=False)
    procedures: NDArray[np.float64] = field(repr=False)

    def _measures(self) -> dict[str, NDArray[np.float64]]:
        measures = {s.value: self.occupancy[:, :, i] for i, s in enumerate(STATES)}
        measures["lasting_relief"] = self.lasting_relief
        measures["first_lasting_relief"] = self.first_lasting_relief
        measures["procedures_per_patient"] = self.procedures.sum(axis=2)
        for i, step in enumerate(PROCEDURES):
            measures[f"{step.value}_per_patient"] = self.procedures[:, :, i]
        return measures

    def summary(self) -> Any:
        """One row per month: mean and 95% interval of every state and measure.

        Columns are ``<measure>_mean``, ``<measure>_low`` and ``<measure>_high``
        (2.5th and 97.5th percentiles over the draws) for each pathway state,
        ``lasting_relief``, ``first_lasting_relief`` (the share who have reached
        lasting relief by that month: the distribution of the time to first
        lasting relief), ``procedures_per_patient`` and each procedure's
        ``<procedure>_per_patient`` (cumulative). ``attrs["statement"]`` says
        these are case-series figures.

        Returns:
            A pandas DataFrame indexed by month.

        Raises:
            MissingExtraError: pandas is not installed.

        Example:
            >>> from cluneal import Findings, Patient, simulate
            >>> sim = simulate([(Patient(age=50, sex="male"), Findings())], draws=3, seed=0)
            >>> float(sim.summary()["initial_evaluation_mean"].iloc[-1])
            1.0
        """
        pd = _pandas()
        import numpy as np

        columns: dict[str, Any] = {}
        for name, values in self._measures().items():
            columns[f"{name}_mean"] = values.mean(axis=0)
            low, high = np.percentile(values, [2.5, 97.5], axis=0)
            columns[f"{name}_low"] = low
            columns[f"{name}_high"] = high
        frame = pd.DataFrame(columns, index=pd.RangeIndex(self.months + 1, name="month"))
        frame.attrs["statement"] = self.statement
        return frame

    def to_dataframe(self) -> Any:
        """Every draw: one row per draw, month and measure (long form).

        Returns:
            A pandas DataFrame with columns ``draw``, ``month``, ``measure``, ``value``;
            ``attrs["statement"]`` says these are case-series figures.

        Raises:
            MissingExtraError: pandas is not installed.

        Example:
            >>> from cluneal import Findings, Patient, simulate
            >>> pairs = [(Patient(age=50, sex="male"), Findings())]
            >>> sim = simulate(pairs, draws=2, months=1, seed=0)
            >>> sim.to_dataframe().shape[1]
            4
        """
        pd = _pandas()
        import numpy as np

        frames = []
        draw, month = np.meshgrid(np.arange(self.draws), np.arange(self.months + 1), indexing="ij")
        for name, values in self._measures().items():
            frames.append(
                pd.DataFrame(
                    {
                        "draw": draw.ravel(),
                        "month": month.ravel(),
                        "measure": name,
                        "value": values.ravel(),
                    }
                )
            )
        frame = pd.concat(frames, ignore_index=True)
        frame["measure"] = frame["measure"].astype("category")
        frame.attrs["statement"] = self.statement
        return frame

    def plot(self, ax: Any = None) -> Any:
        """Draw state occupancy (stacked, with interval bands) and the relief curve.

        Args:
            ax: A sequence of two matplotlib axes, or ``None`` for a new figure.

        Returns:
            The matplotlib figure.

        Raises:
            MissingExtraError: matplotlib is not installed.

        Example:
            >>> from cluneal import Findings, Patient, simulate
            >>> sim = simulate([(Patient(age=50, sex="male"), Findings())], draws=2, seed=0)
            >>> type(sim.plot()).__name__
            'Figure'
        """
        from cluneal.simulation._plot import plot_simulation

        return plot_simulation(self, [s.label for s in STATES], ax)


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError("dataframe", "Simulation.summary()") from exc
    return pd
