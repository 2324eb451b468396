"""The words of the titration engine: every explanation as a template and its arguments.

Each template names its arguments; every number in them comes from the
knowledge base or the patient, never from this module (a number here is
arithmetic or formatting only). The engine fills them in
(:mod:`cluneal.titration._engine`); the compiled tables fill those that do
not depend on the patient once per knowledge base
(:mod:`cluneal.titration._tables`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from cluneal.knowledge.drugs import Protocol

__all__ = ["describe_protocol"]

HOURS_A_DAY: Final = 24
UNVERIFIED: Final = " [unverified: general knowledge]"

# Protocol choice (decision_start_low).
PROTOCOL_CHANGED: Final = "Protocol changed from {standard} to {start_low}: "
CALLER_STANDARD: Final = "The standard protocol was requested although start low applies ({why})."
CALLER_STANDARD_ACTION: Final = "Consider the start-low protocol."

# Caps (decision_lowest_cap_wins).
# Doses spread over the day: every 24/count hours.
DOSES_A_DAY: Final = "at most {count} doses a day (every {hours:g} h)"
CAP_LOWERED: Final = "Maximum daily dose lowered from {adult:g} mg/day (adult) to {cap:g} mg/day"
TARGET_CAPPED: Final = (
    "The {who} {wanted:g} mg/day was lowered to the cap {cap:g} mg/day ({rule_id})"
)
SCALED: Final = (
    "Every daily dose multiplied by CrCl/{below:g} = {crcl:.1f}/{below:g} = {scale:.3f}; "
    "the band's cap {cap:g} mg/day becomes {scaled} mg/day"
)
SINGLE_DOSE: Final = "No single dose above {mg:g} mg: {text}"

# Renal function (decision_unknown_renal_function, decision_dialysis_lowest_band).
OBESITY: Final = (
    "Creatinine clearance uses adjusted body weight by default: actual weight is above "
    "{percent:g}% of ideal body weight"
)
RENAL_UNKNOWN: Final = (
    "Scheduled for the most restrictive renal band because renal function is unknown "
    "(missing: {missing}); it was not assumed normal"
)
RENAL_UNKNOWN_ALERT: Final = (
    "Renal function unknown (missing: {missing}): {drug} is renally cleared and was scheduled "
    "for the most restrictive band."
)
RENAL_UNKNOWN_ACTION: Final = (
    "Measure a serum creatinine (and weight) and recalculate the schedule."
)
DIALYSIS: Final = "Haemodialysis: {drug} dosed in the lowest renal band"
RENAL_BAND: Final = (
    "Renal band {band} ({where}): at most {cap:g} mg/day in at most {count} dose(s) a day, "
    "instead of {normal:g} mg/day ({text})"
)
WHERE_DIALYSIS: Final = "haemodialysis"
WHERE_CRCL: Final = "CrCl {crcl:.1f} mL/min"
WHERE_UNKNOWN: Final = "renal function unknown"

# Steps (decision_round_down_marketed_strengths, decision_first_step_day_0).
STEP_START: Final = "Start: {text}"
STEP_INCREASE: Final = "Increase to {intended} mg/day"
STEP_SMALLEST: Final = (
    "; {intended} mg/day rounds down to nothing, so day 0 uses the smallest dose the strengths "
    "make, {dose:g} mg (within the cap)"
)
STEP_ROUNDED: Final = (
    "; rounded down to {daily:g} mg/day, the largest total {count} equal dose(s) of marketed "
    "strengths make"
)
STEP_HELD: Final = (
    " (dose held on day {days}: equal doses could not make a larger total, and fewer, larger "
    "doses are never used)"
)
FIRST_SMALLEST: Final = (
    "The intended first dose rounds down to nothing: day 0 is the smallest dose the strengths "
    "make, {dose:g} mg, within the cap {cap} mg/day"
)
ROUNDED_DOWN: Final = (
    "Target {goal} mg/day rounded down to {final:g} mg/day: the nearest daily dose the "
    "marketed strengths make"
)
SOLUTION: Final = "Doses below what capsules can make: use the {mg_per_ml:g} mg/mL oral solution"
NO_DOSE: Final = (
    "Not even the smallest dose of {drug} that its strengths can make is within the permitted "
    "{cap} mg/day."
)
NO_DOSE_ACTION: Final = "Seek specialist dosing, or choose another drug."

# Local protocols (decision_local_protocol_conservative).
STOCKED: Final = "Doses made only of the strengths the local protocol {protocol} stocks: {made}"
STOCKED_FIRST: Final = (
    "The first dose, {dose:g} mg, is the smallest the strengths stocked by the local protocol "
    "{protocol} make; the intended start was {intended} mg/day."
)
STOCKED_FIRST_ACTION: Final = (
    "Consider a smaller marketed strength, or review the start for this patient."
)

# Post-haemodialysis supplements (decision_dialysis_supplements_follow_maintenance).
SUPPLEMENT: Final = (
    "From day {day} (maintenance {daily:g} mg/day): after each {hours:g}-hour haemodialysis "
    "session, give a supplemental dose of {dose:g} mg ({composition}){alternative}. A separate "
    "instruction, not counted against the maximum daily dose of {cap:g} mg/day. {text}."
)
SUPPLEMENT_ALTERNATIVE: Final = " (label: {mg:g} or {alternative:g} mg)"
SUPPLEMENT_UNMADE: Final = (
    "From day {day} (maintenance {daily:g} mg/day): the label's supplemental dose after each "
    "haemodialysis session ({mg:g} mg) cannot be made from the available strengths: ask a "
    "pharmacist or specialist to dose it. {text}."
)


def describe_protocol(proto: Protocol, text: str) -> str:
    """A protocol in words: its name and its text ("start low (100 mg at bedtime, ...)")."""
    return f"{proto.name.value.replace('_', ' ')} ({text})"
