"""Pathway simulation: what a cohort's next months look like, with honest uncertainty.

Each patient walks the pathway of :func:`~cluneal.next_step` month by month.
The routing is not restated here: the simulation asks :func:`next_step` once
per distinct (findings, history) it reaches, with a representative outcome of
each class (failed, temporary, lasting, duration not yet known), and caches
the answer; that is exact, because :func:`next_step` only sees those classes.

Each procedure's response and relief duration come from the case-series
counts of the knowledge base (``outcomes.toml``): a response probability with
a Beta(1 + s, 1 + n - s) posterior and a monthly relapse hazard with a
Gamma(1 + events, time at risk) posterior. Both are drawn once per draw
(probabilistic sensitivity analysis), then each patient's response and
relief duration are drawn from them. The arrays are patients x draws (numpy).

How a month works: a pending relief is settled first (the pain returned before
the lasting-relief duration: temporary; it reached that duration: lasting),
then every patient whose step is a procedure has it (one procedure per month).
A relief counts as lasting relief in a month when it has lasted at least the
lasting-relief duration and has not ended. The pathway recommends "maintain"
after lasting relief even when the pain later returns (a repeat procedure is
only an alternative there), so such a patient stays at "maintain". Initial
evaluation and reassessment are not chance events with a cited count: a
patient there stays there.

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from cluneal._base import coerce_model
from cluneal._checks import knowledge_argument
from cluneal.diagnosis import BlockResult, Findings, NerveBranch
from cluneal.errors import (
    ClunealError,
    InvalidArgumentError,
    KnowledgeBaseError,
    MissingExtraError,
    problems,
)
from cluneal.interventions import Intervention
from cluneal.pathway import (
    CareHistory,
    InterventionOutcome,
    OutcomeClass,
    PathwayStep,
    Recommendation,
    next_step,
)
from cluneal.patient import Patient
from cluneal.plan import SAFETY_STATEMENT
from cluneal.units import Kind, magnitude_in, ureg

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.outcomes import RelapseCount, ResponseCount

__all__ = ["Simulation", "simulate"]

# The steps at which something is done to the patient, in the order of their arrays.
PROCEDURES: Final = (
    PathwayStep.DIAGNOSTIC_BLOCK,
    PathwayStep.RADIOFREQUENCY_ABLATION,
    PathwayStep.PERIPHERAL_NERVE_STIMULATION,
    PathwayStep.SURGICAL_DECOMPRESSION,
)
_INTERVENTION: Final = {
    PathwayStep.RADIOFREQUENCY_ABLATION: Intervention.RADIOFREQUENCY_ABLATION,
    PathwayStep.PERIPHERAL_NERVE_STIMULATION: Intervention.PERIPHERAL_NERVE_STIMULATION,
    PathwayStep.SURGICAL_DECOMPRESSION: Intervention.SURGICAL_DECOMPRESSION,
}
STATES: Final = tuple(PathwayStep)
# Outcome classes in the order of the child table's columns.
_CLASSES: Final = (
    OutcomeClass.FAILED,
    OutcomeClass.TEMPORARY,
    OutcomeClass.LASTING,
    OutcomeClass.DURATION_UNKNOWN,
)
_FAILED, _TEMPORARY, _LASTING, _PENDING = range(4)
_BLOCK = 0
# A routing that keeps producing new histories is a broken knowledge base, not a cohort.
_MAX_NODES: Final = 100_000
_MAX_MONTHS: Final = 600
_MAX_DRAWS: Final = 1_000_000
# draws x patients: the walk holds about ten arrays of this size (80 bytes a cell).
_MAX_CELLS: Final = 20_000_000
_DAYS_PER_MONTH: Final = magnitude_in(ureg.Quantity(1, "month"), Kind.DURATION)
_CASE_SERIES: Final = "These are case-series figures, not trial results"


def _numpy() -> Any:
    try:
        import numpy as np
    except ImportError as exc:
        raise MissingExtraError("dataframe", "cluneal.simulate()") from exc
    return np


_Key = tuple[int, OutcomeClass | None, tuple[tuple[Intervention, OutcomeClass], ...]]


class _Router:
    """The pathway as a finite graph of histories, each node answered once by next_step."""

    def __init__(self, roots: Sequence[Findings], knowledge: KnowledgeBase | None) -> None:
        self.roots = roots
        self.knowledge = knowledge
        self.keys: list[_Key] = []
        self.index: dict[_Key, int] = {}
        self.steps: list[PathwayStep] = []
        self.procedure: list[int] = []
        self.pending_root: list[bool] = []
        self.children: dict[tuple[int, int], int] = {}
        first = next_step(roots[0], knowledge=knowledge)
        self.lasting_days = magnitude_in(first.lasting_relief, Kind.DURATION)
        self.threshold = first.block_threshold

    def _outcome(self, cls: OutcomeClass) -> tuple[float, Any]:
        # Representatives of each class: all next_step compares is the class.
        if cls is OutcomeClass.FAILED:
            return 0.0, None
        if cls is OutcomeClass.TEMPORARY:
            return 100.0, ureg.Quantity(self.lasting_days / 2, "day")
        if cls is OutcomeClass.LASTING:
            return 100.0, ureg.Quantity(self.lasting_days, "day")
        return 100.0, None

    def _ask(self, key: _Key) -> Recommendation:
        root, block, outcomes = key
        findings = self.roots[root]
        if block is not None:
            branches = (
                findings.block.branches
                if findings.block is not None
                else next_step(findings, knowledge=self.knowledge).target_branches
            ) or frozenset(NerveBranch)
            relief, duration = self._outcome(block)
            findings = findings.model_copy(
                update={
                    "block": BlockResult(
                        branches=branches, relief_percent=relief, relief_duration=duration
                    )
                }
            )
        history = CareHistory(
            outcomes=[
                InterventionOutcome(
                    intervention=i,
                    relief_percent=self._outcome(c)[0],
                    relief_duration=self._outcome(c)[1],
                )
                for i, c in outcomes
            ]
        )
        return next_step(findings, history, knowledge=self.knowledge)

    def node(self, key: _Key) -> int:
        found = self.index.get(key)
        if found is not None:
            return found
        if len(self.keys) >= _MAX_NODES:
            raise KnowledgeBaseError("pathway.toml", "the pathway does not end: too many histories")
        rec = self._ask(key)
        number = len(self.keys)
        self.keys.append(key)
        self.index[key] = number
        self.steps.append(rec.step)
        pending = (
            not key[2] and key[1] is None and rec.transition == "pathway.block_duration_unknown"
        )
        self.pending_root.append(pending)
        self.procedure.append(
            _BLOCK if pending else (PROCEDURES.index(rec.step) if rec.step in PROCEDURES else -1)
        )
        return number

    def expand(self) -> None:
        """Answer every history reachable from the roots."""
        frontier = list(range(len(self.keys)))
        while frontier:
            number = frontier.pop()
            procedure = self.procedure[number]
            if procedure < 0:
                continue
            root, block, outcomes = self.keys[number]
            for column, cls in enumerate(_CLASSES):
                if procedure == _BLOCK:
                    key: _Key = (root, cls, outcomes)
                else:
                    step = PROCEDURES[procedure]
                    key = (root, block, (*outcomes, (_INTERVENTION[step], cls)))
                known = len(self.keys)
                child = self.node(key)
                self.children[number, column] = child
                if child == known:
                    frontier.append(child)


@dataclass(frozen=True)
class _Counts:
    response: tuple[ResponseCount | None, ...]
    relapse: tuple[RelapseCount | None, ...]


def _counts(router: _Router, knowledge: KnowledgeBase) -> _Counts:
    """The counts of every procedure the cohort can reach; refuse any without one."""
    used = {p for p in router.procedure if p >= 0}
    response: list[ResponseCount | None] = []
    relapse: list[RelapseCount | None] = []
    for number, step in enumerate(PROCEDURES):
        if number not in used:
            response.append(None)
            relapse.append(None)
            continue
        r = knowledge.outcomes.response_for(step.value)
        q = knowledge.outcomes.relapse_for(step.value)
        for kind, count in (("response", r), ("relapse", q)):
            if count is None:
                raise KnowledgeBaseError(
                    "outcomes.toml",
                    f"no cited {kind} count for {step.value}: the simulation does not invent"
                    " one (add a count from a cited series to the knowledge base)",
                )
        assert r is not None  # noqa: S101 - refused just above
        if r.threshold_percent < router.threshold:
            raise KnowledgeBaseError(
                "outcomes.toml",
                f"{r.rule_id}: the count is of relief of {r.threshold_percent:g}% or more, but the"
                f" response threshold in use is {router.threshold:g}%: give a count at that"
                " threshold",
            )
        response.append(r)
        relapse.append(q)
    return _Counts(response=tuple(response), relapse=tuple(relapse))


def _statement(counts: _Counts) -> str:
    series = dict.fromkeys(
        f"{c.series} [{c.citation}]" for c in (*counts.response, *counts.relapse) if c is not None
    )
    named = "; ".join(series) if series else "no procedure was reached"
    return f"{_CASE_SERIES}: {named}. {SAFETY_STATEMENT}"


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
        np = _numpy()
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
        np = _numpy()
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
        from cluneal._simulation_plot import plot_simulation

        return plot_simulation(self, [s.label for s in STATES], ax)


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError("dataframe", "Simulation.summary()") from exc
    return pd


_FRAME_LIBRARIES: Final = frozenset({"pandas", "pyarrow", "polars", "dask", "dask_expr"})


def _frame_findings(frame: Any) -> list[Findings]:
    """The findings of each row of a cohort frame (the columns of API.md "Cohorts").

    A Dask frame is computed first: the simulation's cost is in the draws, not in
    reading the rows, so its partitions are not simulated separately.
    """
    from cluneal.cohort._input import (
        FINDINGS_COLUMNS,
        PATIENT_COLUMNS,
        findings_input,
        patient_input,
        read_columns,
    )

    if type(frame).__module__.split(".")[0] in {"dask", "dask_expr"}:
        frame = frame.compute()
    # The pathway reads the findings; the patient columns are checked when present
    # (weight and creatinine, required for dosing, are not needed here).
    optional = {name: (kind, False) for name, (kind, _) in PATIENT_COLUMNS.items()}
    _, columns = read_columns(frame, {**optional, **FINDINGS_COLUMNS})
    found: list[Findings] = []
    for row in range(columns.rows):
        # A bad row is reported by its number, never dropped.
        try:
            Patient.model_validate(patient_input(columns, row))
            found.append(Findings.model_validate(findings_input(columns, row)))
        except (ValidationError, ClunealError) as exc:
            reason = "; ".join(problems(exc)) if isinstance(exc, ValidationError) else str(exc)
            expected = f"a valid row ({reason})"
            raise InvalidArgumentError(f"row {row}", "its values", expected) from exc
    if not found:
        raise InvalidArgumentError("patients", "an empty frame", "at least one patient")
    return found


def _pairs(patients: object) -> list[Findings]:
    """The findings of each patient (a cohort frame or (Patient, Findings) pairs)."""
    if type(patients).__module__.split(".")[0] in _FRAME_LIBRARIES:
        return _frame_findings(patients)
    if isinstance(patients, str | bytes) or not isinstance(patients, Sequence):
        raise InvalidArgumentError(
            "patients", patients, "a sequence of (Patient, Findings) pairs or a cohort frame"
        )
    found: list[Findings] = []
    for i, pair in enumerate(patients):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidArgumentError(f"patients[{i}]", pair, "a (Patient, Findings) pair")
        coerce_model(pair[0], Patient, f"patients[{i}][0]")
        found.append(coerce_model(pair[1], Findings, f"patients[{i}][1]"))
    if not found:
        raise InvalidArgumentError("patients", patients, "at least one patient")
    return found


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(name, value, f"a whole number from {low} to {high}")
    return value


def simulate(
    patients: object,
    *,
    months: int = 12,
    draws: int = 1000,
    seed: int | None = None,
    knowledge: KnowledgeBase | None = None,
) -> Simulation:
    """Simulate where a cohort will be on the pathway, month by month, with 95% intervals.

    Args:
        patients: A cohort frame with the columns of :func:`cluneal.cohort.care_plans`
            (pandas, pyarrow, polars; a Dask frame is computed first), or a sequence
            of ``(Patient, Findings)`` pairs (or their JSON mappings).
        months: Months to simulate (1-600); the result has rows 0 to ``months``.
        draws: Parameter draws (1 to 1,000,000): each draws every count's
            posterior once, then every patient's outcomes.
        seed: Seed of the random generator; the same seed gives the same result.
        knowledge: The knowledge base (its pathway, thresholds, local protocol and
            ``outcomes`` counts); ``None`` for the built-in one.

    Returns:
        The :class:`Simulation`.

    Raises:
        InvalidArgumentError: Bad patients, months, draws, seed or knowledge, or more than
            20,000,000 draws x patients (memory).
        KnowledgeBaseError: A procedure the cohort reaches has no cited count, or
            its count is of a lower response threshold than the one in use.
        MissingExtraError: numpy is not installed.

    Example:
        >>> from cluneal import Findings, Patient, simulate
        >>> sim = simulate([(Patient(age=50, sex="male"), Findings())], draws=10, seed=3)
        >>> sim.occupancy.shape
        (10, 13, 7)
    """
    from cluneal.knowledge.base import knowledge_base

    np = _numpy()
    knowledge = knowledge_argument(knowledge)
    months = _whole(months, "months", 1, _MAX_MONTHS)
    draws = _whole(draws, "draws", 1, _MAX_DRAWS)
    if seed is not None:
        _whole(seed, "seed", 0, 2**63 - 1)
    kb = knowledge_base() if knowledge is None else knowledge
    findings = _pairs(patients)
    if draws * len(findings) > _MAX_CELLS:
        raise InvalidArgumentError(
            "draws",
            draws,
            f"at most {_MAX_CELLS // len(findings):,} for {len(findings):,} patients"
            f" (draws x patients at most {_MAX_CELLS:,}, for memory); simulate a sample",
        )
    distinct: dict[str, int] = {}
    roots: list[Findings] = []
    patient_root = np.empty(len(findings), dtype=np.int64)
    for i, f in enumerate(findings):
        key = f.model_dump_json()
        if key not in distinct:
            distinct[key] = len(roots)
            roots.append(f)
        patient_root[i] = distinct[key]
    router = _Router(roots, knowledge)
    start = np.array([router.node((r, None, ())) for r in range(len(roots))])[patient_root]
    router.expand()
    counts = _counts(router, kb)
    arrays = _walk(np, router, counts, start, months, draws, seed)
    used = [c.rule_id for c in (*counts.response, *counts.relapse) if c is not None]
    return Simulation(
        months=months,
        draws=draws,
        patients=len(findings),
        seed=seed,
        statement=_statement(counts),
        lasting_relief_weeks=router.lasting_days / 7.0,
        parameters=tuple(used),
        knowledge_base_version=kb.version,
        **arrays,
    )


def _walk(  # noqa: PLR0915, PLR0917 - one vectorised walk, private
    np: Any,
    router: _Router,
    counts: _Counts,
    start: Any,
    months: int,
    draws: int,
    seed: int | None,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    n_nodes = len(router.keys)
    child = np.full((n_nodes, len(_CLASSES)), -1, dtype=np.int64)
    for (number, column), target in router.children.items():
        child[number, column] = target
    state_of = np.array([STATES.index(s) for s in router.steps], dtype=np.int64)
    procedure_of = np.array(router.procedure, dtype=np.int64)
    does = np.array([s in PROCEDURES for s in router.steps])
    n_proc = len(PROCEDURES)
    # Parameters drawn once per draw: response probability and monthly relapse hazard.
    p_response = np.zeros((draws, n_proc))
    hazard = np.ones((draws, n_proc))
    for k in range(n_proc):
        response, relapse = counts.response[k], counts.relapse[k]
        if response is not None and relapse is not None:
            a, b = response.beta
            p_response[:, k] = rng.beta(a, b, size=draws)
            shape, rate_days = relapse.gamma
            hazard[:, k] = rng.gamma(shape, 1.0 / rate_days, size=draws) * _DAYS_PER_MONTH
    lasting = router.lasting_days / _DAYS_PER_MONTH
    n = start.shape[0]
    rows = np.arange(draws)[:, None]
    node = np.broadcast_to(start, (draws, n)).copy()
    parent = node.copy()
    pending = np.zeros((draws, n), dtype=bool)
    began = np.zeros((draws, n))
    ends = np.zeros((draws, n))
    # A pending block given before the simulation (duration not yet known) began at month 0.
    given = np.array(router.pending_root, dtype=bool)[node]
    if given.any():
        k = np.full((draws, n), _BLOCK)
        duration = rng.exponential(1.0, (draws, n)) / hazard[rows, k]
        pending |= given
        began = np.where(given, 0.0, began)
        ends = np.where(given, duration, ends)
    ever = np.zeros((draws, n), dtype=bool)
    occupancy = np.zeros((draws, months + 1, len(STATES)))
    relief = np.zeros((draws, months + 1))
    first = np.zeros((draws, months + 1))
    procedures = np.zeros((draws, months + 1, n_proc))
    done = np.zeros((draws, n_proc))
    for month in range(months + 1):
        elapsed = month - began
        length = ends - began
        temporary = pending & (length < lasting) & (elapsed >= length)
        lasted = pending & (length >= lasting) & (elapsed >= lasting)
        node = np.where(temporary, child[parent, _TEMPORARY], node)
        node = np.where(lasted, child[parent, _LASTING], node)
        pending &= ~(temporary | lasted)
        shown = state_of[node]
        act = does[node]
        k = np.where(act, procedure_of[node], 0)
        responds = act & (rng.random((draws, n)) < p_response[rows, k])
        duration = rng.exponential(1.0, (draws, n)) / hazard[rows, k]
        failed = act & ~responds
        parent = np.where(responds, node, parent)
        node = np.where(failed, child[node, _FAILED], node)
        node = np.where(responds, child[node, _PENDING], node)
        pending |= responds
        began = np.where(responds, float(month), began)
        ends = np.where(responds, month + duration, ends)
        for i in range(n_proc):
            done[:, i] += (act & (k == i)).sum(axis=1)
        procedures[:, month, :] = done / n
        for i in range(len(STATES)):
            occupancy[:, month, i] = (shown == i).mean(axis=1)
        in_lasting = (month - began >= lasting) & (month < ends)
        ever |= in_lasting
        relief[:, month] = in_lasting.mean(axis=1)
        first[:, month] = ever.mean(axis=1)
    return {
        "occupancy": occupancy,
        "lasting_relief": relief,
        "first_lasting_relief": first,
        "procedures": procedures,
    }
