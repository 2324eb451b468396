"""Benchmark: care_plan plans/s on one core, with and without JSON, and the import cost.

Run: python benchmarks/bench_care_plan.py [--plans N] [--repeat R] [--imports K] [--seed S]

* care_plan on random patients and findings (seeded; a fresh set for every
  timed pass, so no cache sees a plan twice): plans/s on one core, warm
  (median of ``R`` passes), then again with ``model_dump_json()`` of each plan;
  the goal is at least 20,000 plans/s without serialisation.
* The plain-float floor of the same decisions (``_floor.py`` and below): the
  triad's classification, the first-line choice (skips, screening of every
  listed drug, the chosen drug's schedule) on the same inputs, checked to
  agree with the package before timing. It does not write the pathway step,
  complementary care or any text, so the ratio overstates the package's cost.
* Import plus the first care_plan, in fresh interpreters (median of ``K``),
  against importing pint and pydantic alone; the goal is at most 1.2x.

It never fails on a time: each goal is reported as met or missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _floor
import bench_titration

import cluneal

PLANS_GOAL = 20_000
IMPORT_GOAL = 1.2
FIRST_LINE = ("nortriptyline", "carbamazepine", "gabapentin", "pregabalin")
ALL = (*FIRST_LINE, "tramadol", "naltrexone")
BLOCK_THRESHOLD = 50.0


def random_inputs(count: int, seed: int) -> list[tuple[tuple, dict]]:
    """(patient case, findings) pairs: the triad known or partly known, no red flag."""
    rng = random.Random(seed + 1)  # noqa: S311 - seeded test data, not secrets
    cases = bench_titration.random_cases(count, seed)
    out = []
    for case in cases:
        pain = {
            "low_back_pain": rng.random() < 0.9,
            "deep_aching_poorly_localized": rng.random() < 0.85,
        }
        tender = [{"site": "iliac_crest", "reproduces_pain": rng.random() < 0.85}]
        findings: dict = {"pain": pain, "tender_points": tender}
        if rng.random() < 0.7:
            findings["block"] = {
                "branches": ["superior"],
                "relief_percent": rng.choice((30, 45, 50, 60, 80, 95)),
                "relief_duration": f"{rng.choice((1, 4, 8, 16))} weeks",
            }
        findings["neuro"] = {
            "motor_weakness": False,
            "dermatomal_sensory_loss": False,
            "straight_leg_raise": False,
            "bladder_bowel_dysfunction": False,
        }
        out.append((case, findings))
    return out


def floor_plan(case: tuple, findings: dict):
    """The floor's decisions: (classification, chosen drug, its steps, screened drugs)."""
    age, _female, _weight, _scr, _dialysis, hepatic, cardiac = case
    pain = findings["pain"]
    c1 = pain["low_back_pain"] and pain["deep_aching_poorly_localized"]
    c2 = any(t["reproduces_pain"] for t in findings["tender_points"])
    block = findings.get("block")
    c3 = None if block is None else block["relief_percent"] >= BLOCK_THRESHOLD
    if not c1 or not c2 or c3 is False:
        classification = "unlikely"
    elif c3:
        classification = "confirmed"
    else:
        classification = "probable"
    # Every listed drug is screened for the patient (the floor's alerts).
    screened = {drug: _floor.screening(drug, age, hepatic) for drug in ALL}
    chosen, steps = None, None
    if classification != "unlikely":
        for drug in FIRST_LINE:
            if drug == "nortriptyline" and (age >= _floor.OLDER or cardiac):
                continue
            if screened[drug][0]:
                continue
            result = _floor.schedule(drug, *case)
            if result is not None:
                chosen, steps = drug, result[0]
                break
    return classification, chosen, steps, len(screened)


def sdk_plan(patient: cluneal.Patient, findings: cluneal.Findings):
    plan = cluneal.care_plan(patient, findings)
    med = plan.medications[0] if plan.medications else None
    steps = None if med is None else [(s.day, s.dose_mg, s.doses_per_day) for s in med.steps]
    return (
        plan.assessment.classification.value,
        None if med is None else med.drug.value,
        steps,
        len(plan.drug_choices),
    )


def median_rate(run, count: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return count / statistics.median(times)


def _fresh(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` (interpreter start excluded)."""
    timed = f"import time\nt0 = time.perf_counter()\n{code}\nprint(time.perf_counter() - t0)\n"
    out = subprocess.run(  # noqa: S603 - this interpreter, the script's own code
        [sys.executable, "-c", timed], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


FIRST_PLAN = (
    "import cluneal\n"
    "cluneal.care_plan(cluneal.Patient(age=50, sex='female', weight='70 kg',"
    " serum_creatinine='1 mg/dL'), {'pain': {'low_back_pain': True,"
    " 'deep_aching_poorly_localized': True}, 'tender_points': [{'site': 'iliac_crest',"
    " 'reproduces_pain': True}]})"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--imports", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    # A fresh set of patients and findings for every timed pass (set 0 warms up): no
    # cache of the package's makes a plan it has already made look cheap. Each pass
    # times care_plan, care_plan with JSON and the floor on sets none has seen.
    sets = []
    for k in range(3 * args.repeat + 1):
        inputs = random_inputs(args.plans, args.seed + k)
        patients = [bench_titration.patient(case) for case, _ in inputs]
        findings = [cluneal.Findings.model_validate(f) for _, f in inputs]
        sets.append((inputs, list(zip(patients, findings, strict=True))))
    for inputs, pairs in sets[:2]:
        for (case, raw), (p, f) in zip(inputs, pairs, strict=True):
            got, ref = sdk_plan(p, f), floor_plan(case, raw)
            if got != ref:
                msg = f"care_plan: the floor differs for {case} {raw}:\n  {got}\n  {ref}"
                raise SystemExit(msg)
    n = args.plans

    def plans(pairs: list[tuple[cluneal.Patient, cluneal.Findings]]) -> None:
        for p, f in pairs:
            cluneal.care_plan(p, f)

    def plans_json(pairs: list[tuple[cluneal.Patient, cluneal.Findings]]) -> None:
        for p, f in pairs:
            cluneal.care_plan(p, f).model_dump_json()

    def floor(inputs: list[tuple[tuple, dict]]) -> None:
        for case, raw in inputs:
            floor_plan(case, raw)

    plans(sets[0][1])  # warm: the knowledge base compiled, the memos as a service has them
    # Interleaved, so that each figure of a pass sees the same machine load.
    rates, rates_json, rates_floor = [], [], []
    for r in range(args.repeat):
        first, second, third = sets[1 + 3 * r : 4 + 3 * r]
        rates.append(median_rate(lambda s=first[1]: plans(s), n, 1))
        rates_json.append(median_rate(lambda s=second[1]: plans_json(s), n, 1))
        rates_floor.append(median_rate(lambda s=third[0]: floor(s), n, 1))
    rate, rate_json, rate_floor = (statistics.median(r) for r in (rates, rates_json, rates_floor))
    verdict = "meets" if rate >= PLANS_GOAL else "MISSES"
    print(f"care_plan on {n} random patients and findings per pass, a fresh set each pass")
    print(
        f"(seeds {args.seed}..{args.seed + 3 * args.repeat}), one core, "
        f"median of {args.repeat} passes:"
    )
    print(f"  care_plan:              {rate:10,.0f} plans/s ({verdict} the goal >= {PLANS_GOAL:,})")
    print(f"  with model_dump_json(): {rate_json:10,.0f} plans/s")
    print(
        f"  plain-float floor:      {rate_floor:10,.0f} plans/s ({rate_floor / rate:.1f}x faster)"
    )

    base = statistics.median(_fresh("import pint, pydantic") for _ in range(args.imports))
    first = statistics.median(_fresh(FIRST_PLAN) for _ in range(args.imports))
    bare = statistics.median(_fresh("import cluneal") for _ in range(args.imports))
    ratio = first / base
    verdict = "meets" if ratio <= IMPORT_GOAL else "MISSES"
    print(f"import, fresh interpreters, median of {args.imports}:")
    print(f"  import pint, pydantic:              {base * 1e3:7.1f} ms")
    print(f"  import cluneal:                     {bare * 1e3:7.1f} ms ({bare / base:.2f}x)")
    print(
        f"  import cluneal + first care_plan:   {first * 1e3:7.1f} ms ({ratio:.2f}x; "
        f"{verdict} the goal <= {IMPORT_GOAL:g}x)"
    )


if __name__ == "__main__":
    main()
