"""The plain-float floor: the titration and care-plan rules again, in floats and tuples.

What ``titration_schedule`` decides for the six drugs, written as plain Python
with no pydantic, no Pint, no knowledge-base objects and no memoisation: every
call recomputes Cockcroft-Gault and CKD-EPI 2021, the band (Part 0.2 with the
boundary rule), the renal alerts, the screening alerts of the rules that can
fire for the benchmark's patients, the protocol (Part 0.4), the caps (Part
0.3), the regimen and the composed steps (Part 0.9: doses per day that never
fall, the largest equal-dose totals within the largest single dose, held
steps, day 0) and, on haemodialysis, the post-session supplements (the label
row each step's maintenance dose reaches). The monograph values are
transcribed below as constants (the achievable doses of each drug's
strengths are data, listed once at import, as a pharmacy list would be).

The benchmarks check that this floor and the package give the same steps,
caps, alert rule ids and supplements on every benchmark patient before timing anything: a
transcription error fails the run, so the comparison is of the same work.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right

_EPS = 1e-9
OLDER = 65.0

# --- renal function -----------------------------------------------------------------


def crcl(age: float, female: bool, weight: float | None, scr: float | None) -> float | None:  # noqa: FBT001
    """Cockcroft-Gault, actual weight (the benchmark's patients have no height)."""
    if weight is None or scr is None:
        return None
    value = (140.0 - age) * weight / (72.0 * scr)
    return round(value * 0.85 if female else value, 10)


def egfr(age: float, female: bool, scr: float | None) -> float | None:  # noqa: FBT001
    """CKD-EPI 2021 (information only, as in the package's renal assessment)."""
    if scr is None:
        return None
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr / kappa
    value = 142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age
    return value * 1.012 if female else value


def gfr_category(value: float | None, dialysis: bool) -> str | None:  # noqa: FBT001
    if dialysis:
        return "G5D"
    if value is None:
        return None
    for name, lower in (("G1", 90.0), ("G2", 60.0), ("G3a", 45.0), ("G3b", 30.0), ("G4", 15.0)):
        if value >= lower:
            return name
    return "G5"


def band(clearance: float | None, dialysis: bool) -> int:  # noqa: FBT001
    """0 normal, 1 moderate, 2 severe, 3 end stage (unknown and dialysis: 3)."""
    if dialysis or clearance is None:
        return 3
    if clearance >= 60.0:
        return 0
    if clearance > 30.0:
        return 1
    return 2 if clearance > 15.0 else 3


def renal(age, female, weight, scr, dialysis):
    """(CrCl, band, known, eGFR, category, renal alert ids) in floats."""
    clearance = None if dialysis else crcl(age, female, weight, scr)
    known = dialysis or clearance is not None
    e = None if dialysis else egfr(age, female, scr)
    alerts = []
    if weight is not None and weight > 120.0 and not dialysis:
        alerts.append("renal.alert.obesity_height_unknown")
    if scr is not None and scr < 0.7 and age >= OLDER and not dialysis:
        alerts.append("renal.alert.low_creatinine_older_adult")
    return clearance, band(clearance, dialysis), known, e, gfr_category(e, dialysis), alerts


# --- the monographs, transcribed ------------------------------------------------------
# Protocol: (start doses, start interval, increment, interval, above, larger increment,
#            target, ramp dose, starts once daily)
# Units: (mg, scored: may be halved).
# Band: (cap, max doses, min doses or None, largest single dose or None, scale below or None)
# Cap: (max mg/day, max doses or None, largest single dose or None, criterion)

GABAPENTIN = {
    "renal": True,
    "units": tuple((mg, False) for mg in (100.0, 300.0, 400.0, 600.0, 800.0)),
    "solution_grain": 5.0,
    "standard": ((300.0, 600.0, 900.0), 1, 300.0, 7, None, None, 1800.0, 300.0, False),
    "start_low": ((100.0,), 1, 100.0, 3, None, None, 900.0, None, True),
    "splits": ((None, 3, 3),),
    "single": None,
    "caps": ((3600.0, None, None, "always"),),
    "bands": (
        (3600.0, 3, None, 1200.0, None),
        (1400.0, 2, None, 700.0, None),
        (700.0, 1, None, 700.0, None),
        (300.0, 1, None, 300.0, 15.0),
    ),
    "dose_alert": None,
    # Post-haemodialysis supplements: (maintenance from mg/day, supplement mg), ascending.
    "dialysis_rows": (
        (100.0, 125.0),
        (125.0, 150.0),
        (150.0, 200.0),
        (200.0, 250.0),
        (300.0, 350.0),
    ),
}
PREGABALIN = {
    "renal": True,
    "units": tuple((mg, False) for mg in (25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 225.0, 300.0)),
    "solution_grain": None,
    "standard": ((150.0,), 1, 150.0, 7, None, None, 300.0, None, False),
    "start_low": ((25.0,), 1, 25.0, 3, None, None, 150.0, None, True),
    "splits": ((None, 2, 3),),
    "single": None,
    "caps": ((600.0, None, None, "always"),),
    "bands": (
        (600.0, 3, None, 300.0, None),
        (300.0, 3, None, 150.0, None),
        (150.0, 2, 1, 150.0, None),
        (75.0, 1, 1, 75.0, None),
    ),
    "dose_alert": None,
    "dialysis_rows": ((25.0, 25.0), (50.0, 50.0), (51.0, 75.0), (75.0, 100.0)),
}
TRAMADOL = {
    "renal": True,
    # 50 mg scored: whole tablets and halves.
    "units": ((50.0, True),),
    "solution_grain": None,
    "standard": ((25.0,), 1, 25.0, 3, 100.0, 50.0, 200.0, 25.0, False),
    "start_low": ((25.0,), 1, 25.0, 7, 100.0, 50.0, 200.0, 25.0, False),
    "splits": ((None, 4, 4),),
    "single": 100.0,
    "caps": (
        (400.0, None, None, "always"),
        (300.0, None, None, "age_over_75"),
        (200.0, 2, None, "renal_restricted"),
        (100.0, 2, 50.0, "hepatic_significant"),
    ),
    "bands": None,
    "dose_alert": None,
    "dialysis_rows": (),
}
CARBAMAZEPINE = {
    "renal": False,
    "units": ((100.0, False), (200.0, False)),
    "solution_grain": None,
    "standard": ((200.0,), 1, 200.0, 7, None, None, 600.0, None, False),
    "start_low": ((100.0,), 1, 100.0, 7, None, None, 600.0, None, True),
    "splits": ((800.0, 2, 2), (None, 3, 3)),
    "single": None,
    "caps": ((1200.0, None, None, "always"),),
    "bands": None,
    "dose_alert": None,
    "dialysis_rows": (),
}
NORTRIPTYLINE = {
    "renal": False,
    "units": tuple((mg, False) for mg in (10.0, 25.0, 50.0, 75.0)),
    "solution_grain": None,
    "standard": ((25.0,), 1, 25.0, 7, None, None, 75.0, None, False),
    "start_low": ((10.0,), 1, 10.0, 7, None, None, 75.0, None, False),
    "splits": ((None, 1, 1),),
    "single": None,
    "caps": (
        (150.0, None, None, "always"),
        (50.0, None, None, "older_adult"),
        (100.0, None, None, "cardiac"),
    ),
    "bands": None,
    "dose_alert": 100.0,
    "dialysis_rows": (),
}
NALTREXONE = {
    "renal": False,
    "compounded": 0.5,
    "units": (),
    "solution_grain": None,
    "standard": ((1.5,), 1, 1.5, 7, None, None, 4.5, None, False),
    "start_low": ((1.5,), 1, 1.5, 7, None, None, 4.5, None, False),
    "splits": ((None, 1, 1),),
    "single": None,
    "caps": ((4.5, None, None, "always"),),
    "bands": None,
    "dose_alert": None,
    "dialysis_rows": (),
}
DRUGS = {
    "gabapentin": GABAPENTIN,
    "pregabalin": PREGABALIN,
    "tramadol": TRAMADOL,
    "carbamazepine": CARBAMAZEPINE,
    "nortriptyline": NORTRIPTYLINE,
    "naltrexone": NALTREXONE,
}


def _achievable(spec: dict, ceiling: float) -> tuple[float, ...]:
    """Every single dose of at most four units (halves of scored tablets count as units)."""
    if spec.get("compounded"):
        step = spec["compounded"]
        return tuple(step * k for k in range(1, round(ceiling / step) + 1))
    amounts = {mg for mg, _ in spec["units"]} | {mg / 2 for mg, scored in spec["units"] if scored}
    made: set[float] = set()
    for n in range(1, 5):
        for combo in itertools.combinations_with_replacement(sorted(amounts), n):
            total = sum(combo)
            if total <= ceiling + _EPS:
                made.add(round(total, 6))
    return tuple(sorted(made))


for _spec in DRUGS.values():
    _spec["doses"] = _achievable(_spec, _spec["caps"][0][0])
    grain = _spec["solution_grain"]
    _spec["solution_doses"] = (
        None
        if grain is None
        else tuple(grain * k for k in range(1, round(_spec["caps"][0][0] / grain) + 1))
    )


def _round_down(doses: tuple[float, ...], mg: float) -> float:
    i = bisect_right(doses, mg + _EPS)
    return 0.0 if i == 0 else doses[i - 1]


# --- screening: the rules of safety.toml that fire for the benchmark's patients ---------


def screening(drug: str, age: float, hepatic: str) -> tuple[bool, list[str]]:
    """(refused, alert rule ids) for a patient with no co-medication or other condition."""
    older = age >= OLDER
    liver = hepatic != "none"
    ids: list[str] = []
    if drug == "carbamazepine":
        ids += ["alert.carbamazepine.hla_b_1502_unknown", "alert.carbamazepine.monitoring"]
        if liver:
            ids.append("alert.carbamazepine.hepatic")
    elif drug == "naltrexone":
        if hepatic == "severe":
            return True, ["contraindication.naltrexone.liver_failure"]
        if hepatic in {"mild", "moderate"}:
            ids.append("alert.naltrexone.hepatic")
    elif drug == "nortriptyline":
        if age > 40.0:
            ids.append("alert.nortriptyline.ecg_over_40")
        if liver:
            ids.append("alert.nortriptyline.hepatic")
        if older:
            ids.append("beers.nortriptyline.anticholinergic")
    if older and drug in {"carbamazepine", "tramadol", "nortriptyline"}:
        ids.append("beers.hyponatraemia")
    return False, ids


# --- the schedule -----------------------------------------------------------------------


def _raw(proto, goal: float) -> list[tuple[int, float]]:
    starts, start_interval, inc, interval, above, larger, _, _, _ = proto
    out, day, current = [], 0, 0.0
    for value in starts:
        current = min(value, goal)
        out.append((day, current))
        if current >= goal - _EPS:
            return out
        day += start_interval
    day -= start_interval
    while current < goal - _EPS:
        step = larger if above is not None and current >= above - _EPS else inc
        current = min(current + step, goal)
        day += interval
        out.append((day, current))
    return out


def _options(current, low, high, want, ramp, starts_once):  # noqa: PLR0917
    if current is not None and current >= low:
        return tuple(range(current, max(high, current) + 1))
    counts = tuple(range(low, high + 1))
    if ramp is not None:
        k = max(current or 1, min(math.floor(want / ramp + _EPS), low))
        return (k,) if k < low else counts
    if starts_once:
        return (*counts, current or 1)
    return counts


def schedule(  # noqa: PLR0912, PLR0915, PLR0917 - the floor is one plain function
    drug: str,
    age: float,
    female: bool,  # noqa: FBT001
    weight: float | None,
    scr: float | None,
    dialysis: bool,  # noqa: FBT001
    hepatic: str,
    cardiac: bool,  # noqa: FBT001
):
    """One schedule in floats, or None if refused.

    Returns (steps, cap mg/day, sorted alert ids, post-dialysis supplements).
    """
    spec = DRUGS[drug]
    refused, alerts = screening(drug, age, hepatic)
    if refused:
        return None
    clearance, band_index, known, _egfr, _category, renal_alerts = renal(
        age, female, weight, scr, dialysis
    )
    cleared = spec["renal"]
    if cleared:
        alerts += renal_alerts
    if not cleared and not known:
        band_index = 0
    if cleared and not known:
        alerts.append("titration.renal.unknown")
    older = age >= OLDER
    hepatic_start_low = hepatic != "none"
    start_low = older or band_index > 0 or hepatic_start_low
    proto = spec["start_low" if start_low else "standard"]
    facts = {
        "always": True,
        "older_adult": older,
        "age_over_75": age > 75.0,
        "renal_restricted": band_index >= 2,
        "hepatic_significant": hepatic in {"moderate", "severe"},
        "cardiac": cardiac,
    }
    cap, max_doses, single = math.inf, None, spec["single"]
    for mg, doses, largest, when in spec["caps"]:
        if facts[when]:
            cap = min(cap, mg)
            if doses is not None:
                max_doses = doses if max_doses is None else min(max_doses, doses)
            if largest is not None:
                single = largest if single is None else min(single, largest)
    band_row = None if spec["bands"] is None else spec["bands"][band_index]
    scale = 1.0
    if band_row is not None:
        b_cap, b_doses, _, b_single, below = band_row
        cap = min(cap, b_cap)
        max_doses = b_doses if max_doses is None else min(max_doses, b_doses)
        if b_single is not None:
            single = b_single if single is None else min(single, b_single)
        if below is not None and known and not dialysis and clearance is not None:
            scale = min(1.0, clearance / below)
    goal = min(proto[6], cap)
    doses = spec["doses"]
    if scale < 1.0 and spec["solution_doses"] is not None:
        doses = spec["solution_doses"]
    ramp = None if proto[7] is None else proto[7] * scale
    steps: list[tuple[int, float, int]] = []
    current, previous = None, 0.0
    for day, unscaled in _raw(proto, goal):
        want = unscaled * scale
        low, high = next(
            (lo, hi)
            for upto, lo, hi in spec["splits"]
            if upto is None or want <= upto * scale + _EPS
        )
        if max_doses is not None:
            high = min(high, max_doses)
        if band_row is not None and band_row[2] is not None:
            low = band_row[2]
        low = min(low, high)
        best = (0.0, 0, 0.0)
        for count in _options(current, low, high, want, ramp, proto[8]):
            per = want / count if single is None else min(want / count, single)
            dose = _round_down(doses, per)
            if dose * count > best[2] + _EPS:
                best = (dose, count, dose * count)
        if not steps and best[2] <= _EPS:
            smallest = doses[0]
            if smallest > min(cap * scale, single or cap * scale) + _EPS:
                return None
            best = (smallest, 1, smallest)
        if best[2] <= previous + _EPS:
            continue
        steps.append((day, best[0], best[1]))
        current, previous = best[1], best[2]
    final = steps[-1][1] * steps[-1][2]
    if spec["dose_alert"] is not None and final > spec["dose_alert"] + _EPS:
        alerts.append("nortriptyline.dose.plasma_level")
    return steps, cap * scale, sorted(set(alerts)), _supplements(spec, steps) if dialysis else []


def _supplements(
    spec: dict, steps: list[tuple[int, float, int]]
) -> list[tuple[int | None, float | None]]:
    """Post-haemodialysis supplements: (from day, dose) per label row reached, or the note."""
    rows = spec["dialysis_rows"]
    if not rows:
        return [(None, None)]  # the monograph's note on dialysis, no dose
    grid = spec["solution_doses"] or spec["doses"]
    out: list[tuple[int | None, float | None]] = []
    current = None
    for day, dose, count in steps:
        daily = dose * count
        row = rows[0]  # below the first row, the first row applies
        for candidate in rows:
            if candidate[0] <= daily + _EPS:
                row = candidate
        if row is current:
            continue
        current = row
        made = _round_down(grid, row[1])
        out.append((day, made if made > 0 else None))
    return out
