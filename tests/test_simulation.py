"""Pathway simulation (issue 16): seeded, bounded, and checked against hand calculations.

Counts quoted from clinical.md Part A3 / A2: Kuniya 2014 77/113 (>50% VAS fall); the SCN RFA
series (46 analysed of 51; 10 relapses at a mean 111.2 days, 36 ongoing at a mean 92.1 days);
Mas D'Alessandro 2025 PNS 5/6; Maigne 1997 13/19 excellent; Acta Neurochir 2023 6/32 sides.
Toy counts below are made up for the checks and say so.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from cluneal import (
    Findings,
    InvalidArgumentError,
    KnowledgeBaseError,
    LocalProtocol,
    Patient,
    knowledge_base,
    simulate,
)
from cluneal.knowledge.base import KnowledgeBase
from cluneal.knowledge.outcomes import (
    OutcomeParameters,
    RelapseCount,
    ResponseCount,
    outcome_parameters,
    parse_outcome_parameters,
)

mpl.use("Agg")

PATIENT = Patient(age=60, sex="female")
PAIN = {"low_back_pain": True, "deep_aching_poorly_localized": True}
TENDER = [{"site": "iliac_crest", "reproduces_pain": True}]
# Block indicated: pain pattern and a pain-reproducing tender point, no block yet.
UNBLOCKED = Findings(pain=PAIN, tender_points=TENDER)
# A positive block whose relief was temporary (2 weeks): the next step is RFA.
TEMPORARY = Findings(
    pain=PAIN,
    tender_points=TENDER,
    block={"branches": ["superior"], "relief_percent": 80, "relief_duration": "2 weeks"},
)
DAYS_PER_MONTH = 365.25 / 12


def _cohort(findings: Findings, n: int) -> list[tuple[Patient, Findings]]:
    return [(PATIENT, findings)] * n


def _response(procedure: str, s: int, n: int, threshold: float = 50.0) -> ResponseCount:
    return ResponseCount(
        rule_id=f"toy.response.{procedure}",
        procedure=procedure,
        series=f"toy series {s}/{n}",
        citation="kuniya_2014",
        outcome="made up for a test",
        successes=s,
        trials=n,
        threshold_percent=threshold,
    )


def _relapse(procedure: str, events: int, days: float, censored: int = 1) -> RelapseCount:
    return RelapseCount(
        rule_id=f"toy.relapse.{procedure}",
        procedure=procedure,
        series="toy relapse",
        citation="kuniya_2014",
        outcome="made up for a test",
        events=events,
        censored=censored,
        censored_mean=f"{days} days",
    )


# No relapse in a million patients followed for 100 years each (toy): relief never ends.
NEVER = (0, 36500.0, 1_000_000)
STEPS = (
    "diagnostic_block",
    "radiofrequency_ablation",
    "peripheral_nerve_stimulation",
    "surgical_decompression",
)


def _toy(
    responses: dict[str, tuple[int, int]], relapse: tuple[int, float, int] = NEVER
) -> KnowledgeBase:
    return knowledge_base().replace(
        version="toy",
        outcomes=OutcomeParameters(
            response=tuple(_response(p, *responses[p]) for p in STEPS),
            relapse=tuple(_relapse(p, *relapse) for p in STEPS),
        ),
    )


def test_same_seed_same_result_and_different_seeds_differ() -> None:
    a = simulate(_cohort(UNBLOCKED, 50), draws=40, seed=7)
    b = simulate(_cohort(UNBLOCKED, 50), draws=40, seed=7)
    c = simulate(_cohort(UNBLOCKED, 50), draws=40, seed=8)
    assert np.array_equal(a.occupancy, b.occupancy)
    assert np.array_equal(a.lasting_relief, b.lasting_relief)
    assert a.summary().equals(b.summary())
    assert not np.array_equal(a.occupancy, c.occupancy)
    # No seed: fresh entropy each run.
    d = simulate(_cohort(UNBLOCKED, 50), draws=40)
    e = simulate(_cohort(UNBLOCKED, 50), draws=40)
    assert d.seed is None
    assert not np.array_equal(d.occupancy, e.occupancy)


def test_proportions_bounded_and_states_sum_to_one() -> None:
    mixed = _cohort(UNBLOCKED, 30) + _cohort(TEMPORARY, 30) + _cohort(Findings(), 5)
    sim = simulate(mixed, months=18, draws=60, seed=1)
    for values in (sim.occupancy, sim.lasting_relief, sim.first_lasting_relief):
        assert values.min() >= 0.0
        assert values.max() <= 1.0
    assert np.allclose(sim.occupancy.sum(axis=2), 1.0)
    summary = sim.summary()
    assert len(summary) == 19
    assert (summary["lasting_relief_low"] <= summary["lasting_relief_mean"]).all()
    assert (summary["lasting_relief_mean"] <= summary["lasting_relief_high"]).all()
    # Reaching lasting relief is cumulative; being in it is not.
    assert (np.diff(sim.first_lasting_relief, axis=1) >= 0).all()


def test_certain_response_gives_deterministic_relief() -> None:
    # 1000/1000 responders and no relapse over a billion days at risk (toy counts).
    kb = _toy(dict.fromkeys(STEPS, (1000, 1000)))
    sim = simulate(_cohort(TEMPORARY, 100), draws=20, seed=2, knowledge=kb)
    summary = sim.summary()
    # Month 0: RFA; from month 1 maintain; lasting from 12 weeks (month 3: 91 days >= 84).
    assert summary.loc[0, "radiofrequency_ablation_mean"] == 1.0
    assert summary.loc[1:, "maintain_low"].min() >= 0.99
    assert summary.loc[:2, "lasting_relief_high"].max() == 0.0
    assert summary.loc[3:, "lasting_relief_low"].min() >= 0.99


def test_no_response_everyone_escalates_along_the_ladder() -> None:
    # 0 of ten million (toy): RFA, then PNS, then surgery, then reassessment.
    kb = _toy(dict.fromkeys(STEPS, (0, 10_000_000)))
    summary = simulate(_cohort(TEMPORARY, 100), draws=20, seed=3, knowledge=kb).summary()
    path = [
        "radiofrequency_ablation",
        "peripheral_nerve_stimulation",
        "surgical_decompression",
        "reassess_diagnosis",
    ]
    for month, state in enumerate(path):
        assert summary.loc[month, f"{state}_mean"] == 1.0
    assert summary["lasting_relief_high"].max() == 0.0
    assert summary.loc[12, "procedures_per_patient_mean"] == 3.0


def test_interval_width_shrinks_as_counts_grow() -> None:
    widths = []
    for s, n in ((3, 6), (30, 60), (300, 600)):
        kb = _toy(
            {
                "diagnostic_block": (1, 2),
                "radiofrequency_ablation": (s, n),
                "peripheral_nerve_stimulation": (0, 10_000_000),
                "surgical_decompression": (0, 10_000_000),
            }
        )
        summary = simulate(_cohort(TEMPORARY, 400), draws=300, seed=4, knowledge=kb).summary()
        widths.append(summary.loc[6, "lasting_relief_high"] - summary.loc[6, "lasting_relief_low"])
    assert widths[0] > widths[1] > widths[2]


def test_single_draw_is_a_valid_single_path() -> None:
    sim = simulate(_cohort(UNBLOCKED, 25), draws=1, seed=5)
    summary = sim.summary()
    assert (summary["maintain_low"] == summary["maintain_mean"]).all()
    assert (summary["maintain_high"] == summary["maintain_mean"]).all()
    assert np.allclose(sim.occupancy.sum(axis=2), 1.0)
    assert sim.to_dataframe()["draw"].unique().tolist() == [0]


def test_two_state_toy_matches_the_hand_calculation() -> None:
    # RFA 3/8: Beta(4, 6), mean 0.4. Relapse 1 event over 300 days: hazard ~ Gamma(2, 300).
    # Relief lasting past t days: E[exp(-lambda t)] = (300 / (300 + t)) ** 2.
    # Non-responders go to PNS and surgery, which never respond (0 of ten million).
    kb = knowledge_base().replace(
        version="toy",
        outcomes=OutcomeParameters(
            response=(
                _response("radiofrequency_ablation", 3, 8),
                _response("peripheral_nerve_stimulation", 0, 10_000_000),
                _response("surgical_decompression", 0, 10_000_000),
            ),
            relapse=(
                RelapseCount(
                    rule_id="toy.relapse",
                    procedure="radiofrequency_ablation",
                    series="toy",
                    citation="kuniya_2014",
                    outcome="made up",
                    events=1,
                    event_mean="300 days",
                ),
                _relapse("peripheral_nerve_stimulation", *NEVER),
                _relapse("surgical_decompression", *NEVER),
            ),
        ),
    )
    summary = simulate(
        _cohort(TEMPORARY, 200), months=6, draws=4000, seed=6, knowledge=kb
    ).summary()

    def survive(months: float) -> float:
        return (300 / (300 + months * DAYS_PER_MONTH)) ** 2

    # Month 1: responders whose relief has not ended are at "maintain" (follow-up).
    assert summary.loc[1, "maintain_mean"] == pytest.approx(0.4 * survive(1), abs=0.01)
    # Month 6: in lasting relief when relief outlasts 6 months.
    assert summary.loc[6, "lasting_relief_mean"] == pytest.approx(0.4 * survive(6), abs=0.01)
    # Lasting relief (12 weeks, 84 days) is first seen at the month-3 visit, by responders
    # still in relief then; no later responder exists (PNS and surgery never respond).
    assert summary.loc[2, "first_lasting_relief_high"] == 0.0
    assert summary.loc[6, "first_lasting_relief_mean"] == pytest.approx(0.4 * survive(3), abs=0.01)
    # Everyone has RFA once, at month 0. PNS follows for non-responders and for responders
    # whose relief ended before 84 days (temporary): all but 0.4 * (300 / 384) ** 2.
    assert (summary["radiofrequency_ablation_per_patient_mean"] == 1.0).all()
    assert summary.loc[6, "peripheral_nerve_stimulation_per_patient_mean"] == pytest.approx(
        1 - 0.4 * (300 / 384) ** 2, abs=0.01
    )


def test_refuses_a_procedure_without_a_cited_count() -> None:
    kb = knowledge_base().replace(
        version="no-pns",
        outcomes=OutcomeParameters(
            response=tuple(
                r for r in outcome_parameters().response if "stimulation" not in r.procedure
            ),
            relapse=outcome_parameters().relapse,
        ),
    )
    with pytest.raises(KnowledgeBaseError, match="no cited response count for peripheral_nerve"):
        simulate(_cohort(TEMPORARY, 3), draws=2, seed=0, knowledge=kb)
    # A cohort that cannot reach the procedure needs no count for it.
    simulate(_cohort(Findings(), 3), draws=2, seed=0, knowledge=kb)


def test_protocol_threshold_above_the_counts_is_refused_and_lasting_relief_drives() -> None:
    strict = knowledge_base().with_protocol(
        LocalProtocol(name="clinic", version="1", block_threshold_percent=70)
    )
    with pytest.raises(KnowledgeBaseError, match="threshold in use is 70%"):
        simulate(_cohort(UNBLOCKED, 3), draws=2, seed=0, knowledge=strict)
    longer = knowledge_base().with_protocol(
        LocalProtocol(name="clinic", version="2", lasting_relief="24 weeks")
    )
    base = simulate(_cohort(TEMPORARY, 200), draws=100, seed=9)
    local = simulate(_cohort(TEMPORARY, 200), draws=100, seed=9, knowledge=longer)
    assert local.lasting_relief_weeks == 24.0
    assert local.knowledge_base_version.endswith("+clinic@2")
    # 12 weeks reached at month 3, 24 weeks only at month 6.
    assert base.summary().loc[3, "lasting_relief_mean"] > 0.3
    assert local.summary().loc[5, "lasting_relief_high"] == 0.0


def test_every_output_names_the_series() -> None:
    sim = simulate(_cohort(UNBLOCKED, 10), draws=5, seed=0)
    for text in (
        sim.statement,
        sim.summary().attrs["statement"],
        sim.to_dataframe().attrs["statement"],
    ):
        assert text.startswith("These are case-series figures, not trial results")
        for series in ("Kuniya 2014", "SCN RFA", "Mas D'Alessandro 2025", "Maigne"):
            assert series in text
    assert "simulation.response.radiofrequency_ablation" in sim.parameters


def test_plot_has_occupancy_and_relief_panels() -> None:
    sim = simulate(_cohort(UNBLOCKED, 40) + _cohort(TEMPORARY, 40), draws=30, seed=0)
    fig = sim.plot()
    left, right = fig.axes
    assert "state" in left.get_title()
    assert "Lasting relief" in right.get_title()
    assert any("case-series figures" in t.get_text() for t in fig.texts)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())
    assert image.shape[0] > 300
    # Not blank: many distinct colours drawn.
    assert len(np.unique(image.reshape(-1, 4), axis=0)) > 20


def test_to_dataframe_has_every_draw() -> None:
    sim = simulate(_cohort(UNBLOCKED, 10), months=3, draws=4, seed=0)
    frame = sim.to_dataframe()
    assert set(frame.columns) == {"draw", "month", "measure", "value"}
    per_measure = frame[frame["measure"] == "maintain"]
    assert len(per_measure) == 4 * 4


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"months": 0}, "months"),
        ({"months": True}, "months"),
        ({"draws": 0}, "draws"),
        ({"draws": 2.5}, "draws"),
        ({"seed": -1}, "seed"),
        ({"knowledge": {"version": "1"}}, "knowledge"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError, match=field):
        simulate(_cohort(UNBLOCKED, 2), **kwargs)


@pytest.mark.parametrize("patients", [[], "abc", 3, [(PATIENT,)], [(PATIENT, 5)]])
def test_bad_patients_are_refused(patients: Any) -> None:
    with pytest.raises((InvalidArgumentError, ValueError)):
        simulate(patients, draws=2)


def test_pending_block_in_the_findings_is_followed() -> None:
    # A positive block whose duration is not yet known: maintain until it is.
    pending = Findings(
        pain=PAIN,
        tender_points=TENDER,
        block={"branches": ["superior"], "relief_percent": 80},
    )
    summary = simulate(_cohort(pending, 50), draws=20, seed=0).summary()
    assert summary.loc[0, "maintain_mean"] == 1.0
    # Block relief has a mean of 7.7 days (MCN series): almost all need RFA by month 1.
    assert summary.loc[1, "radiofrequency_ablation_mean"] > 0.9


def test_loader_refuses_malformed_counts() -> None:
    good = {
        "procedure": "radiofrequency_ablation",
        "series": "s",
        "citation": "kuniya_2014",
        "outcome": "o",
    }
    with pytest.raises(KnowledgeBaseError, match="exceed trials"):
        parse_outcome_parameters(
            {
                "response": [
                    {**good, "rule_id": "a", "successes": 5, "trials": 4, "threshold_percent": 50}
                ]
            }
        )
    with pytest.raises(KnowledgeBaseError, match="no time at risk"):
        parse_outcome_parameters({"relapse": [{**good, "rule_id": "b", "events": 3}]})
    with pytest.raises(KnowledgeBaseError, match="censored_mean"):
        parse_outcome_parameters(
            {"relapse": [{**good, "rule_id": "c", "events": 3, "censored": 2}]}
        )
    twice = {**good, "rule_id": "d", "events": 1, "event_mean": "3 days"}
    with pytest.raises(KnowledgeBaseError, match="more than one"):
        parse_outcome_parameters({"relapse": [twice, {**twice, "rule_id": "e"}]})
    with pytest.raises(KnowledgeBaseError, match="procedure"):
        KnowledgeBase.from_documents(
            {"outcomes.toml": {"relapse": [{**twice, "procedure": "acupuncture"}]}}
        )


def test_built_in_counts_are_the_cited_ones() -> None:
    counts = outcome_parameters()
    rfa = counts.relapse_for("radiofrequency_ablation")
    assert rfa is not None
    # clinical.md A3: 10 relapses at a mean 111.2 days, 36 ongoing at a mean 92.1 days.
    assert rfa.exposure_days == pytest.approx(10 * 111.2 + 36 * 92.1)
    shape, rate = rfa.gamma
    assert shape == 11.0
    assert rate == pytest.approx(4427.6)
    pns = counts.response_for("peripheral_nerve_stimulation")
    assert pns is not None
    assert (pns.successes, pns.trials) == (5, 6)  # Mas D'Alessandro 2025: 5/6
    surgery = counts.response_for("surgical_decompression")
    assert surgery is not None
    assert (surgery.successes, surgery.trials) == (13, 19)  # Maigne 1997: 13 excellent of 19
    block = counts.response_for("diagnostic_block")
    assert block is not None
    assert (block.successes, block.trials) == (77, 113)  # Kuniya 2014: 77 (68%) >50%
    assert counts.relapse_for("acupuncture") is None
    assert math.isclose(sum(block.beta), 115.0)


def test_too_many_draws_for_the_months_is_refused_not_attempted() -> None:
    # The result holds draws x (months + 1) rows of every measure: at most 10,000,000.
    with pytest.raises(InvalidArgumentError, match="at most 769,230 for 12 months"):
        simulate(_cohort(UNBLOCKED, 1), draws=769_231, seed=0)
    with pytest.raises(InvalidArgumentError, match="at most 16,638 for 600 months"):
        simulate(_cohort(UNBLOCKED, 1), months=600, draws=16_639, seed=0)


def _frame() -> Any:
    return pd.DataFrame(
        {
            "age": [60, 60],
            "sex": ["female", "female"],
            "low_back_pain": [True, True],
            "deep_aching_poorly_localized": [True, True],
            "tender_point_site": ["iliac_crest", "iliac_crest"],
            "tender_point_reproduces_pain": [True, True],
            "block_relief_percent": [None, 80.0],
            "block_relief_days": [None, 14.0],
            "block_branches": [None, "superior"],
        }
    )


def test_a_cohort_frame_walks_like_its_pairs() -> None:
    pairs = [(PATIENT, UNBLOCKED), (PATIENT, TEMPORARY)]
    from_pairs = simulate(pairs, draws=30, seed=12)
    from_frame = simulate(_frame(), draws=30, seed=12)
    assert np.array_equal(from_pairs.occupancy, from_frame.occupancy)
    assert np.array_equal(from_pairs.lasting_relief, from_frame.lasting_relief)


def test_a_dask_frame_is_walked_by_partition_like_its_pairs() -> None:
    # In this process (the synchronous scheduler); tests/test_simulation_dask.py runs the
    # same on a two-worker LocalCluster.
    import dask
    import dask.dataframe as _dd

    dd: Any = _dd  # dask is untyped
    pairs = [(PATIENT, UNBLOCKED), (PATIENT, TEMPORARY)] * 5
    frame = pd.concat([_frame()] * 5, ignore_index=True)
    expected = simulate(pairs, draws=10, seed=13)
    with dask.config.set(scheduler="synchronous"):
        for parts in (1, 2, 3, 10):
            got = simulate(dd.from_pandas(frame, npartitions=parts), draws=10, seed=13)
            assert got.patients == 10
            assert np.array_equal(got.occupancy, expected.occupancy)
            assert np.array_equal(got.procedures, expected.procedures)
            assert np.array_equal(got.first_lasting_relief, expected.first_lasting_relief)


def test_walking_in_chunks_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A patient's random numbers depend on its position in the cohort, not on its chunk.
    mixed = _cohort(UNBLOCKED, 13) + _cohort(TEMPORARY, 11) + _cohort(Findings(), 3)
    whole = simulate(mixed, months=8, draws=16, seed=31)
    monkeypatch.setattr("cluneal.simulation._walk._CHUNK_CELLS", 5 * 16)  # 5 patients a chunk
    chunked = simulate(mixed, months=8, draws=16, seed=31)
    for name in ("occupancy", "lasting_relief", "first_lasting_relief", "procedures"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name


def test_a_bad_frame_row_is_named() -> None:
    frame = _frame()
    frame.loc[1, "block_relief_percent"] = 180.0
    with pytest.raises(InvalidArgumentError, match="row 1"):
        simulate(frame, draws=2, seed=0)


def test_every_bad_row_is_counted_and_the_first_ten_others_numbered() -> None:
    for copies, tail in (
        (10, "9 other row(s) are bad too: 3, 5, 7, 9, 11, 13, 15, 17, 19"),
        (11, "10 other row(s) are bad too: 3, 5, 7, 9, 11, 13, 15, 17, 19, 21"),
        (12, "11 other row(s) are bad too: 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, ..."),
    ):
        frame = pd.concat([_frame()] * copies, ignore_index=True)
        frame.loc[frame.index % 2 == 1, "block_relief_percent"] = 180.0  # every odd row
        with pytest.raises(InvalidArgumentError) as refused:
            simulate(frame, draws=2, seed=0)
        message = str(refused.value)
        assert message.startswith("row 1: ")
        assert message.endswith(tail)
