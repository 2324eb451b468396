"""Benchmark: titration_schedule against a plain-float version of the same rules.

Run: python benchmarks/bench_titration.py [--repeat N]

The float version below re-implements, for gabapentin and tramadol, what
titration_schedule decides (Cockcroft-Gault, the Part 0.2 bands with the
boundary rule, the Part 0.3 caps, the Part 0.4 protocols and the Part 0.9
regimens: doses per day that never fall, the largest equal-dose totals within
the largest single dose, held steps, day 0) with floats, tuples and no validation. Both
run on the same patients in one process; the script prints the ratio. It never
fails on a time: the goal (<= 5x) is reported, not asserted.
"""

from __future__ import annotations

import argparse
import math
import time

import cluneal
from cluneal.renal import assess_renal_function

# --- the float reference ---------------------------------------------------------

_GABA_BANDS = (  # lower bound, inclusive, cap, doses per day, largest single dose
    (60.0, True, 3600.0, 3, 1200.0),
    (30.0, False, 1400.0, 2, 700.0),
    (15.0, False, 700.0, 1, 700.0),
    (0.0, True, 300.0, 1, 300.0),
)


# The float reference takes plain positional values on purpose: it is the baseline.
def _crcl(age: float, female: bool, weight: float | None, scr: float | None) -> float | None:  # noqa: FBT001
    if weight is None or scr is None:
        return None
    value = (140.0 - age) * weight / (72.0 * scr)
    # Rounded to 10 decimals as cluneal.renal does, so that 30.000000000000004 is 30.
    return round(value * 0.85 if female else value, 10)


def _band(crcl: float | None, dialysis: bool) -> int:  # noqa: FBT001
    if dialysis or crcl is None:
        return 3
    for i, (lower, inclusive, *_) in enumerate(_GABA_BANDS):
        if crcl > lower or (inclusive and crcl == lower):
            return i
    return 3


def _options(current, want, count, ramp, starts_once):
    if current is not None and current >= count:
        return (current,)
    if ramp:
        k = max(current or 1, min(math.floor(want / ramp + 1e-9), count))
        return (k,)
    if starts_once:
        return (count, current or 1)
    return (count,)


def _compose(raw, grain, count, largest, ramp, starts_once, cap):  # noqa: PLR0917
    """Part 0.9 in floats: every strength combination is a multiple of ``grain``."""
    steps, current, previous = [], None, 0.0
    for day, want in raw:
        best = (0.0, 0, 0.0)
        for c in _options(current, want, count, ramp, starts_once):
            dose = math.floor(min(want / c, largest) / grain + 1e-9) * grain
            if dose * c > best[2] + 1e-9:
                best = (dose, c, dose * c)
        if not steps and best[2] <= 1e-9:
            if grain > min(cap, largest) + 1e-9:
                return []
            best = (grain, 1, grain)
        if best[2] > previous + 1e-9:
            steps.append((day, best[0], best[1], best[2]))
            current, previous = best[1], best[2]
    return steps


def float_gabapentin(age, female, weight, scr, dialysis):
    crcl = _crcl(age, female, weight, scr)
    band = _band(crcl, dialysis)
    cap, count, largest = _GABA_BANDS[band][2:]
    start_low = age >= 65 or band > 0
    if start_low:
        starts, inc, interval, target = (100.0,), 100.0, 3, 900.0
    else:
        starts, inc, interval, target = (300.0, 600.0, 900.0), 300.0, 7, 1800.0
    scale = crcl / 15.0 if (band == 3 and crcl is not None and not dialysis and crcl < 15) else 1.0
    goal = min(target, cap)
    raw, day, current = [], 0, 0.0
    for s in starts:
        current = min(s, goal)
        raw.append((day, current))
        if current >= goal:
            break
        day += 1
    else:
        day -= 1
    while current < goal - 1e-9:
        current = min(current + inc, goal)
        day += interval
        raw.append((day, current))
    # Below 15 mL/min the 50 mg/mL solution (0.1 mL = 5 mg) makes any multiple of 5 mg.
    grain = 5.0 if scale < 1.0 else 100.0
    raw = [(d, w * scale) for d, w in raw]
    ramp = None if start_low else 300.0
    steps = _compose(raw, grain, count, largest, ramp, start_low, cap * scale)
    return steps, cap * scale


def float_tramadol(age, female, weight, scr, dialysis, hepatic):  # noqa: PLR0917
    crcl = _crcl(age, female, weight, scr)
    band = _band(crcl, dialysis)
    caps = [400.0]
    max_doses, largest = 4, 100.0
    if age > 75:
        caps.append(300.0)
    if band >= 2:
        caps.append(200.0)
        max_doses = 2
    if hepatic:
        caps.append(100.0)
        max_doses, largest = 2, 50.0
    cap = min(caps)
    start_low = age >= 65 or band > 0 or hepatic
    interval = 7 if start_low else 3
    goal = min(200.0, cap)
    raw, day, current = [(0, 25.0)], 0, 25.0
    while current < goal - 1e-9:
        current = min(current + (50.0 if current >= 100.0 else 25.0), goal)
        day += interval
        raw.append((day, current))
    return _compose(raw, 25.0, max_doses, largest, 25.0, False, cap), cap  # noqa: FBT003


# --- the run --------------------------------------------------------------------


def _cases():
    out = [
        (float(age), female, 72.0, scr, False, False)
        for age in (45, 68, 78, 85)
        for scr in (0.9, 1.2, 2.4, 4.8, 9.0)
        for female in (False, True)
    ]
    out.append((70.0, False, 72.0, None, True, False))
    out.append((60.0, True, 60.0, 1.0, False, True))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    cases = _cases()
    patients = [
        cluneal.Patient(
            age=age,
            sex="female" if female else "male",
            weight=cluneal.Q_(weight, "kg"),
            serum_creatinine=None if scr is None else cluneal.Q_(scr, "mg/dL"),
            on_dialysis=dialysis,
            hepatic_impairment="moderate" if hepatic else "none",
        )
        for age, female, weight, scr, dialysis, hepatic in cases
    ]
    from cluneal.titration import titration_schedule

    # Same answers first: the comparison is only fair if both do the same work.
    for case, patient in zip(cases, patients, strict=True):
        age, female, weight, scr, dialysis, hepatic = case
        for drug, ref in (
            ("gabapentin", float_gabapentin(age, female, weight, scr, dialysis)),
            ("tramadol", float_tramadol(age, female, weight, scr, dialysis, hepatic)),
        ):
            s = titration_schedule(drug, patient)
            got = [(st.day, st.dose_mg, st.doses_per_day, st.daily_dose_mg) for st in s.steps]
            assert got == [(d, dose, c, round(t, 9)) for d, dose, c, t in ref[0]], (
                drug,
                case,
                got,
                ref,
            )
            assert math.isclose(s.max_daily_dose_mg, ref[1]), (drug, case)

    def run_sdk() -> None:
        for p in patients:
            titration_schedule("gabapentin", p)
            titration_schedule("tramadol", p)

    from cluneal.titration import _plan_steps

    def run_sdk_cold() -> None:
        # The step plan is memoised (a pure function of knowledge-base data):
        # clearing it before every call measures the worst case, a first call.
        for p in patients:
            _plan_steps.cache_clear()
            titration_schedule("gabapentin", p)
            _plan_steps.cache_clear()
            titration_schedule("tramadol", p)

    def run_renal() -> None:
        for p in patients:
            assess_renal_function(p)
            assess_renal_function(p)

    def run_float() -> None:
        for age, female, weight, scr, dialysis, hepatic in cases:
            float_gabapentin(age, female, weight, scr, dialysis)
            float_tramadol(age, female, weight, scr, dialysis, hepatic)

    def best(fn) -> float:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) / (2 * len(cases))

    sdk, renal, flt = best(run_sdk), best(run_renal), best(run_float)
    cold = best(run_sdk_cold)
    print(f"schedules per run: {2 * len(cases)} (gabapentin and tramadol, {len(cases)} patients)")
    print(f"titration_schedule: {sdk * 1e6:8.1f} us per schedule")
    print(f"  of which assess_renal_function (foundation): {renal * 1e6:8.1f} us")
    print(f"plain-float rules:  {flt * 1e6:8.1f} us per schedule")
    print(f"ratio (goal <= 5x): {sdk / flt:8.1f}x")
    print(f"ratio without the renal assessment: {(sdk - renal) / flt:8.1f}x")
    print(f"cold (step-plan cache cleared before each call): {cold * 1e6:8.1f} us per schedule,")
    print(f"  ratio {cold / flt:8.1f}x")


if __name__ == "__main__":
    main()
