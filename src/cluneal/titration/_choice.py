"""A schedule's choice: protocol, caps and limits, from the drug, band and facts alone.

What :func:`choice_for` decides depends on the compiled knowledge base, the drug,
the renal band, the facts' atoms, which of the engine's age bounds the age is
above, the protocol asked for and the target: never on the patient's CrCl. It is
memoised on exactly those (decision_start_low, decision_lowest_cap_wins). The
one start-low reason that quotes the patient's age is filled in per age
(:func:`age_words`).
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal.alerts import SafetyAlert, Severity
from cluneal.knowledge.criteria import Facts, PatientFacts, matches
from cluneal.knowledge.drugs import ProtocolName
from cluneal.titration import _text
from cluneal.titration._tables import DrugTable, Tables, rule_adjustment, rule_alert

if TYPE_CHECKING:
    from cluneal.knowledge.drugs import CapRule, KnowledgeRule, Protocol, RenalBandRule
    from cluneal.knowledge.titration_rules import TriggerRule
    from cluneal.titration._models import Adjustment
    from cluneal.vocabulary import RenalBand

__all__ = ["MEMO_BOUND", "Choice", "age_words", "choice_for", "clear"]

_EPS: Final = 1e-9
MEMO_BOUND: Final = 4096
"""Entries a titration memo holds before it is emptied (bounded memory)."""


def _fired(compiled: Tables, facts: Facts | PatientFacts) -> tuple[TriggerRule, ...]:
    return tuple(rule for rule in compiled.triggers if matches(rule.when, facts))


def _start_low_words(  # noqa: PLR0917 - private, every argument is needed
    compiled: Tables,
    table: DrugTable,
    fired: tuple[TriggerRule, ...],
    band: RenalBand,
    requested: ProtocolName | None,
    age: float,
) -> tuple[tuple[Adjustment, ...], tuple[SafetyAlert, ...]]:
    """The start-low adjustments, or the alert when the caller chose the standard protocol."""
    if not fired or (requested is not None and requested is not ProtocolName.STANDARD):
        return (), ()
    args = {
        "age": age,
        "older_adult_age": compiled.params.older_adult.age_years,
        "band": band.value,
    }
    if requested is ProtocolName.STANDARD:
        why = "; ".join(rule.reason.format(**args) for rule in fired)
        rule = compiled.rules["titration.protocol.caller_standard"]
        alert = rule_alert(
            Severity.MODERATE,
            table.name,
            _text.CALLER_STANDARD.format(why=why),
            rule,
            _text.CALLER_STANDARD_ACTION,
        )
        return (), (alert,)
    adjustments = tuple(
        rule_adjustment(rule, f"{table.protocol_change}{rule.reason.format(**args)}")
        for rule in fired
    )
    return adjustments, ()


def _largest_single_dose(
    table: DrugTable, band_rule: RenalBandRule | None, caps: list[CapRule]
) -> tuple[float, KnowledgeRule] | None:
    """The smallest of the largest single doses that apply, with its rule."""
    found: list[tuple[float, KnowledgeRule]] = [
        (c.max_single_dose_mg, c) for c in caps if c.max_single_dose_mg is not None
    ]
    if band_rule is not None and band_rule.max_single_dose_mg is not None:
        found.append((band_rule.max_single_dose_mg, band_rule))
    single = table.mono.max_single_dose
    if single is not None:
        found.append((single.max_mg, single))
    return min(found, key=lambda item: item[0], default=None)


class Choice:
    """What a schedule decides from the drug, band, facts and request alone (memoised).

    The protocol, the caps and the limits on doses, with the adjustments and
    alerts that explain them: nothing here reads the patient's CrCl, and the
    age only through which of the tables' ``age_bounds`` it is above. When a
    start-low reason quotes the age (``words is None``), the words are filled
    in per age (:func:`age_words`).
    """

    __slots__ = (
        "band",
        "band_rule",
        "cap_mg",
        "cap_rule",
        "capped",
        "caps",
        "fired",
        "goal",
        "max_doses",
        "proto",
        "requested",
        "single",
        "spaced",
        "table",
        "words",
    )

    def __init__(
        self,
        *,
        table: DrugTable,
        band: RenalBand,
        band_rule: RenalBandRule | None,
        proto: Protocol,
        cap_mg: float,
        cap_rule: KnowledgeRule,
        max_doses: int | None,
        spaced: bool,
        single: tuple[float, KnowledgeRule] | None,
        goal: float,
        fired: tuple[TriggerRule, ...],
        requested: ProtocolName | None,
        words: tuple[tuple[Adjustment, ...], tuple[SafetyAlert, ...]] | None,
        caps: tuple[Adjustment, ...],
        capped: tuple[Adjustment, ...],
    ) -> None:
        self.table = table
        self.band = band
        self.band_rule = band_rule
        self.proto = proto
        self.cap_mg = cap_mg
        self.cap_rule = cap_rule
        self.max_doses = max_doses
        self.spaced = spaced
        self.single = single
        self.goal = goal
        self.fired = fired
        self.requested = requested
        self.words = words
        self.caps = caps
        self.capped = capped


def _choose(  # noqa: PLR0917 - one pass over the rules
    compiled: Tables,
    table: DrugTable,
    band: RenalBand,
    facts: Facts | PatientFacts,
    requested: ProtocolName | None,
    target_mg_day: float | None,
) -> Choice:
    band_rule = table.bands.get(band) if table.bands else None
    fired = _fired(compiled, facts)
    if not fired:
        proto = table.standard if requested is None else table.protocol(requested)
    elif requested is None:
        proto = table.start_low
    else:
        proto = table.protocol(requested)
    quotes_age = any(rule.rule_id in compiled.age_quoting for rule in fired)
    words = (
        None
        if quotes_age
        else _start_low_words(compiled, table, fired, band, requested, facts.age_years)
    )

    # Caps: lowest wins; ties go to the rule listed first (adult cap first).
    applicable = [c for c in table.caps if matches(c.when, facts)]
    cap_entry = min(applicable, key=lambda c: c.rule.max_mg_day)
    cap_mg: float = cap_entry.rule.max_mg_day
    cap_rule: KnowledgeRule = cap_entry.rule
    limits = [c.rule.max_doses_per_day for c in applicable if c.rule.max_doses_per_day]
    # No cap limiting doses a day: the protocol's own dose splits decide.
    max_doses = min(limits, default=None)
    if band_rule is not None:
        if band_rule.cap_mg_day < cap_mg:
            cap_mg, cap_rule = band_rule.cap_mg_day, band_rule
        max_doses = (
            band_rule.max_doses_per_day
            if max_doses is None
            else min(max_doses, band_rule.max_doses_per_day)
        )
    caps: list[Adjustment] = []
    for entry in applicable:
        if entry.rule is cap_rule and entry.lowered is not None:
            caps.append(entry.lowered)
        elif entry.doses is not None:
            caps.append(entry.doses)

    wanted = proto.target_mg_day if target_mg_day is None else target_mg_day
    capped = (
        (
            rule_adjustment(
                compiled.rules["titration.target.capped"],
                _text.TARGET_CAPPED.format(
                    who="default target" if target_mg_day is None else "requested target",
                    wanted=wanted,
                    cap=cap_mg,
                    rule_id=cap_rule.rule_id,
                ),
            ),
        )
        if wanted > cap_mg + _EPS
        else ()
    )
    return Choice(
        table=table,
        band=band,
        band_rule=band_rule,
        proto=proto,
        cap_mg=cap_mg,
        cap_rule=cap_rule,
        max_doses=max_doses,
        spaced=bool(limits),
        single=_largest_single_dose(table, band_rule, [c.rule for c in applicable]),
        goal=min(wanted, cap_mg),
        fired=fired,
        requested=requested,
        words=words,
        caps=tuple(caps),
        capped=capped,
    )


@lru_cache(maxsize=1024)
def age_words(
    compiled: Tables, choice: Choice, age: float
) -> tuple[tuple[Adjustment, ...], tuple[SafetyAlert, ...]]:
    """A choice's start-low words for one age (memoised: ages repeat, words are pure)."""
    return _start_low_words(
        compiled, choice.table, choice.fired, choice.band, choice.requested, age
    )


def choice_for(  # noqa: PLR0917 - every argument is part of the key
    compiled: Tables,
    table: DrugTable,
    band: RenalBand,
    facts: PatientFacts,
    requested: ProtocolName | None,
    target_mg_day: float | None,
) -> Choice:
    """The choice for a drug, band and facts (memoised on the facts that decide it)."""
    # Keyed on the facts that decide: the atoms and which age bounds the age is above.
    key = (
        compiled,
        table,
        band,
        facts.atoms,
        bisect_left(compiled.age_bounds, facts.age_years),
        requested,
        target_mg_day,
    )
    choice = _CHOICES.get(key)
    if choice is None:
        choice = _choose(compiled, table, band, facts, requested, target_mg_day)
        if len(_CHOICES) >= MEMO_BOUND:
            _CHOICES.clear()
        _CHOICES[key] = choice
    return choice


_CHOICES: dict[tuple[object, ...], Choice] = {}


def clear() -> None:
    """Empty the memos of choices and start-low words."""
    _CHOICES.clear()
    age_words.cache_clear()
