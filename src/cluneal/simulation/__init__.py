"""Pathway simulation: what a cohort's next months look like, with honest uncertainty.

Each patient walks the pathway of :func:`~cluneal.next_step` month by month
(``_router`` asks it once per distinct history). Each
procedure's response and relief duration come from the case-series counts of
the knowledge base (``outcomes.toml``, ``_counts``): a
response probability with a Beta(1 + s, 1 + n - s) posterior and a monthly
relapse hazard with a Gamma(1 + events, time at risk) posterior. Both are
drawn once per draw (probabilistic sensitivity analysis), then each patient's
response and relief duration are drawn from them, from random streams laid out
by the patient's position in the cohort (``_random``),
so the same seed gives the same result however the cohort is split. The walk
(``_walk``) counts patients per draw and month; a Dask
cohort is walked partition by partition and the counts summed
(``_dask``).

Example:
    >>> from cluneal import Findings, Patient, simulate
    >>> findings = Findings(pain={"low_back_pain": True, "deep_aching_poorly_localized": True},
    ...                     tender_points=[{"site": "iliac_crest", "reproduces_pain": True}])
    >>> sim = simulate([(Patient(age=60, sex="female"), findings)] * 20, draws=50, seed=1)
    >>> row = sim.summary().loc[0]
    >>> float(row["diagnostic_block_mean"])
    1.0
"""

from __future__ import annotations

from cluneal.simulation._result import Simulation
from cluneal.simulation._simulate import simulate

__all__ = ["Simulation", "simulate"]
