"""Benchmark: titration_schedule for each of the six drugs against the plain-float floor.

Run: python benchmarks/bench_titration.py [--patients N] [--repeat R] [--seed S]

Random patients (seeded), a fresh set for every timed pass: age, sex, weight,
serum creatinine (or none), dialysis, hepatic impairment and cardiac disease.
For each drug, the package and the plain-float floor of ``_floor.py`` (the
same rules, no validation, no memoisation) first give the same steps, caps and
alert rule ids on every patient of two sets; then each runs ``R`` passes, the
package and the floor interleaved, each pass on patients neither has seen, and
the median time per schedule is reported with the median of the per-pass
ratios and their geometric mean over the six drugs.

* warm: the steady state of a process that has made schedules before for
  other patients (the compiled knowledge base and the memos as a service
  has them);
* cold: the engine's memos (step plans and decisions) cleared before
  every call, so every schedule composes its steps (the compiled knowledge
  base stays: it is built once per knowledge base, and the import benchmark
  counts it).

It never fails on a time: the goal (geometric mean <= 3x the floor) is reported.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

import _floor

import cluneal
from cluneal.knowledge.criteria import facts_for
from cluneal.renal import assess_renal_function
from cluneal.titration import _engine

GOAL = 3.0
HEPATIC = ("none",) * 6 + ("mild", "moderate", "severe")


def random_cases(count: int, seed: int) -> list[tuple]:
    """(age, female, weight kg, creatinine mg/dL or None, dialysis, hepatic, cardiac)."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data, not secrets
    cases = []
    for _ in range(count):
        dialysis = rng.random() < 0.03
        scr = None if rng.random() < 0.05 else round(rng.uniform(0.5, 9.0), 2)
        cases.append(
            (
                float(rng.randint(18, 95)),
                rng.random() < 0.5,
                float(rng.randint(40, 150)),
                scr,
                dialysis,
                rng.choice(HEPATIC),
                rng.random() < 0.15,
            )
        )
    return cases


def patient(case: tuple) -> cluneal.Patient:
    age, female, weight, scr, dialysis, hepatic, cardiac = case
    return cluneal.Patient(
        age=age,
        sex="female" if female else "male",
        weight=cluneal.Q_(weight, "kg"),
        serum_creatinine=None if scr is None else cluneal.Q_(scr, "mg/dL"),
        on_dialysis=dialysis,
        hepatic_impairment=hepatic,
        conditions=["cardiac_disease"] if cardiac else [],
    )


def sdk(drug: str, p: cluneal.Patient):
    try:
        s = cluneal.titration_schedule(drug, p)
    except cluneal.ContraindicatedError:
        return None
    steps = [(st.day, st.dose_mg, st.doses_per_day) for st in s.steps]
    supplements = [
        (i.from_day, None if i.dose is None else i.dose.m) for i in s.supplemental_instructions
    ]
    return steps, s.max_daily_dose_mg, sorted({a.rule_id for a in s.alerts}), supplements


def check_same(drug: str, cases: list[tuple], patients: list[cluneal.Patient]) -> None:
    """The floor and the package agree on every patient (else the ratio means nothing)."""
    for case, p in zip(cases, patients, strict=True):
        got, ref = sdk(drug, p), _floor.schedule(drug, *case)
        same = (got is None and ref is None) or (
            got is not None
            and ref is not None
            and got[0] == ref[0]
            and math.isclose(got[1], ref[1])
            and got[2] == ref[2]
            and got[3] == ref[3]
        )
        if not same:
            msg = f"{drug}: the floor differs for {case}:\n  package {got}\n  floor   {ref}"
            raise SystemExit(msg)


def median_per_call(run, calls: int, repeat: int) -> float:
    # CPU time of this process: other processes sharing the cores do not count.
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        times.append((time.process_time() - t0) / calls)
    return statistics.median(times)


def breakdown(patients: list[cluneal.Patient], repeat: int) -> None:
    """Where a warm schedule's time goes: the renal assessment, facts, screening, the engine."""
    kb = cluneal.knowledge_base()
    drugs = tuple(cluneal.Drug)
    inputs = [_engine.prepare(p, kb) for p in patients]
    screened = [{d: _engine.screened_for(i, d) for d in drugs} for i in inputs]
    calls = len(patients) * len(drugs)

    def renal() -> None:
        for p in patients:
            for _ in drugs:
                assess_renal_function(p, knowledge=kb)

    def facts() -> None:
        for p, i in zip(patients, inputs, strict=True):
            for _ in drugs:
                facts_for(p, kb, i.renal.band.value, age_years=i.age)

    def screening() -> None:
        for i in inputs:
            for d in drugs:
                _engine.screened_for(i, d)

    def engine() -> None:
        for i, s in zip(inputs, screened, strict=True):
            for d in drugs:
                with contextlib.suppress(cluneal.ContraindicatedError):
                    _engine.schedule_for(i, d, s[d])

    parts = [
        ("renal assessment (assess_renal_function)", renal),
        ("patient facts (facts_for)", facts),
        ("screening (memoised without co-medications)", screening),
        ("the titration engine (schedule_for)", engine),
    ]
    print("of which, per warm schedule (all six drugs):")
    for name, run in parts:
        print(f"  {name:<44}{median_per_call(run, calls, repeat) * 1e6:8.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    # A fresh set of random patients for every timed pass (set 0 warms up): no cache of
    # the package's makes a patient it has already seen look cheap.
    sets = [random_cases(args.patients, args.seed + k) for k in range(args.repeat + 1)]
    people = [[patient(c) for c in cases] for cases in sets]
    n = args.patients
    print(f"titration_schedule vs the plain-float floor: {n} random patients per pass,")
    print(f"a fresh set each pass (seeds {args.seed}..{args.seed + args.repeat}),")
    print(f"median of {args.repeat} passes, us per schedule; goal: geometric mean <= {GOAL:g}x")
    print(f"{'drug':<14}{'package':>9}{'cold':>9}{'floor':>9}{'warm x':>9}{'cold x':>9}")
    warm_ratios, cold_ratios = [], []
    for drug in _floor.DRUGS:
        for cases, patients in zip(sets[:2], people[:2], strict=True):
            check_same(drug, cases, patients)

        def run_sdk(patients: list[cluneal.Patient], drug: str = drug) -> None:
            for p in patients:
                with contextlib.suppress(cluneal.ContraindicatedError):
                    cluneal.titration_schedule(drug, p)

        def run_cold(patients: list[cluneal.Patient], drug: str = drug) -> None:
            for p in patients:
                _engine.clear_memos()
                with contextlib.suppress(cluneal.ContraindicatedError):
                    cluneal.titration_schedule(drug, p)

        def run_floor(cases: list[tuple], drug: str = drug) -> None:
            for case in cases:
                _floor.schedule(drug, *case)

        run_sdk(people[0])  # warm: the compiled tables in place, the memos as a service has them
        # Interleaved, so that both sides of each ratio see the same machine load.
        # The cold runs come last: they empty the memos the warm runs rely on.
        warms, floors, colds, cold_floors = [], [], [], []
        for cases, patients in zip(sets[1:], people[1:], strict=True):
            floors.append(median_per_call(lambda c=cases: run_floor(c), n, 1))
            warms.append(median_per_call(lambda p=patients: run_sdk(p), n, 1))
        for cases, patients in list(zip(sets[1:], people[1:], strict=True))[
            : max(3, args.repeat // 3)
        ]:
            cold_floors.append(median_per_call(lambda c=cases: run_floor(c), n, 1))
            colds.append(median_per_call(lambda p=patients: run_cold(p), n, 1))
        warm, cold, floor = (statistics.median(t) for t in (warms, colds, floors))
        warm_x = statistics.median(w / f for w, f in zip(warms, floors, strict=True))
        cold_x = statistics.median(c / f for c, f in zip(colds, cold_floors, strict=True))
        warm_ratios.append(warm_x)
        cold_ratios.append(cold_x)
        print(
            f"{drug:<14}{warm * 1e6:9.1f}{cold * 1e6:9.1f}{floor * 1e6:9.1f}"
            f"{warm_x:8.1f}x{cold_x:8.1f}x"
        )
    breakdown(people[1], args.repeat)
    gm_warm = math.exp(statistics.mean(math.log(r) for r in warm_ratios))
    gm_cold = math.exp(statistics.mean(math.log(r) for r in cold_ratios))
    verdict = "meets" if gm_warm <= GOAL else "MISSES"
    print(
        f"geometric mean: warm {gm_warm:.2f}x, cold {gm_cold:.2f}x "
        f"({verdict} the goal <= {GOAL:g}x warm)"
    )


if __name__ == "__main__":
    main()
