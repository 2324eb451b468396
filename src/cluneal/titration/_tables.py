"""The knowledge base compiled for the titration engine: plain tables, built once.

:func:`tables` turns one knowledge base (or the built-in one, ``None``) into
frozen plain values the engine reads on every call: each drug's protocols,
caps (with their criteria), renal bands by band, formularies, and the
adjustments whose text does not depend on the patient, already built. It is
memoised on the knowledge base itself (a frozen value, hashed by identity),
so a base is compiled once, on its first schedule, and stays picklable.

Nothing here decides anything about a patient: that is
:mod:`cluneal.titration._engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from cluneal._compose import Formulary, formulary_of
from cluneal._protocol_rules import protocol_limits
from cluneal.evidence import SourceMark
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.criteria import Criteria, PatientFacts, matches
from cluneal.knowledge.drugs import (
    CapRule,
    KnowledgeRule,
    Monograph,
    Protocol,
    ProtocolName,
    RenalBandRule,
    TriggerRule,
    all_monographs,
    titration_rules,
)
from cluneal.knowledge.parameters import ClinicalParameters, clinical_parameters
from cluneal.renal import RenalBand
from cluneal.renal import _table as renal_table
from cluneal.titration import _text
from cluneal.titration._models import Adjustment, trusted

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.protocol import LocalProtocol

__all__ = [
    "CapEntry",
    "Condition",
    "DrugTable",
    "Tables",
    "fact_mask",
    "rule_adjustment",
    "tables",
]

# The yes/no facts of :class:`~cluneal.knowledge.criteria.PatientFacts`, one bit each.
_FLAGS: Final = (
    "older_adult",
    "age_over_75",
    "cardiac_disease",
    "renal_restricted",
    "renal_below_normal",
    "hepatic_significant",
    "hepatic_start_low",
)


def fact_mask(facts: PatientFacts) -> int:
    """The patient's yes/no facts as bits (computed once per patient)."""
    mask = 0
    for bit, name in enumerate(_FLAGS):
        if getattr(facts, name):
            mask |= 1 << bit
    return mask


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule's criteria compiled: its yes/no criteria as two bit masks.

    Criteria with other parts (ages, condition lists, HLA) keep the
    :class:`~cluneal.knowledge.criteria.Criteria` and are decided by
    :func:`~cluneal.knowledge.criteria.matches`, the one definition.

    Attributes:
        true_mask: Facts that must hold.
        false_mask: Facts that must not hold.
        rest: The criteria, when they have parts beyond yes/no facts.
    """

    true_mask: int
    false_mask: int
    rest: Criteria | None

    @classmethod
    def of(cls, criteria: Criteria) -> Condition:
        """Compile one rule's criteria."""
        true_mask = false_mask = 0
        for bit, name in enumerate(_FLAGS):
            wanted = getattr(criteria, name)
            if wanted is True:
                true_mask |= 1 << bit
            elif wanted is False:
                false_mask |= 1 << bit
        flags_only = criteria.model_copy(update=dict.fromkeys(_FLAGS)) == Criteria()
        return cls(true_mask, false_mask, None if flags_only else criteria)

    def holds(self, mask: int, facts: PatientFacts) -> bool:
        """Whether the criteria hold for a patient's facts and their mask."""
        if mask & self.true_mask != self.true_mask or mask & self.false_mask:
            return False
        return self.rest is None or matches(self.rest, facts)


def rule_adjustment(rule: KnowledgeRule, reason: str, citation: str | None = None) -> Adjustment:
    """An adjustment from a rule, built from trusted values (no validation).

    ``citation`` names the adjusted drug's own label instead of the rule's; a
    general-knowledge (GK) rule is marked unverified, in its text too.
    """
    verified = rule.mark is not SourceMark.GK
    return trusted(
        Adjustment,
        {
            "rule_id": rule.rule_id,
            "reason": reason if verified else reason + _text.UNVERIFIED,
            "citation": rule.citation if citation is None else citation,
            "verified": verified,
        },
    )


@dataclass(frozen=True, slots=True, eq=False)
class CapEntry:
    """One cap of a drug, with the adjustments it makes ready to use.

    Attributes:
        rule: The cap rule.
        when: Its criteria, compiled.
        lowered: The adjustment when this cap is the one that applies (lowest
            wins), or ``None`` for the adult cap.
        doses: The adjustment when it only limits doses a day, or ``None``.
    """

    rule: CapRule
    when: Condition
    lowered: Adjustment | None
    doses: Adjustment | None


@dataclass(frozen=True, slots=True, eq=False)
class DrugTable:
    """One drug's monograph as plain values (see :func:`tables`).

    Hashed by identity: the memoised step plans key on it.
    """

    mono: Monograph
    drug: Drug
    name: str
    renally_cleared: bool
    caps: tuple[CapEntry, ...]
    bands: Mapping[RenalBand, RenalBandRule]
    standard: Protocol
    start_low: Protocol
    protocol_change: str
    formulary: Formulary
    formulary_solution: Formulary
    monitoring: tuple[str, ...]
    stocked: Adjustment | None

    def protocol(self, name: ProtocolName) -> Protocol:
        """The protocol of that name."""
        return self.standard if name is ProtocolName.STANDARD else self.start_low


@dataclass(frozen=True, slots=True, eq=False)
class Tables:
    """A knowledge base compiled for the titration engine.

    Attributes:
        knowledge: The knowledge base (``None``: the built-in one).
        version: The version schedules report.
        protocol_sha256: The local protocol's hash, or ``None``.
        protocol: The local protocol, or ``None``.
        drugs: One :class:`DrugTable` per drug.
        rules: The general titration rules, by id.
        triggers: The start-low triggers, in file order.
        params: The clinical parameters.
        obesity: The adjustment for adjusted body weight by default.
    """

    knowledge: KnowledgeBase | None
    version: str
    protocol_sha256: str | None
    protocol: LocalProtocol | None
    drugs: Mapping[Drug, DrugTable]
    rules: Mapping[str, KnowledgeRule]
    triggers: tuple[tuple[TriggerRule, Condition], ...]
    params: ClinicalParameters
    obesity: Adjustment


def _cap_entry(cap: CapRule, adult: CapRule) -> CapEntry:
    doses = (
        _text.DOSES_A_DAY.format(
            count=cap.max_doses_per_day, hours=_text.HOURS_A_DAY / cap.max_doses_per_day
        )
        if cap.max_doses_per_day is not None
        else ""
    )
    lowered = None
    if cap is not adult:
        reason = _text.CAP_LOWERED.format(adult=adult.max_mg_day, cap=cap.max_mg_day)
        if doses:
            reason += f" and {doses}"
        lowered = rule_adjustment(cap, f"{reason}: {cap.text}")
    only_doses = (
        rule_adjustment(cap, f"{doses[0].upper()}{doses[1:]}: {cap.text}") if doses else None
    )
    return CapEntry(cap, Condition.of(cap.when), lowered, only_doses)


def _stocked(mono: Monograph, protocol: LocalProtocol | None) -> Adjustment | None:
    if protocol is None or mono.drug not in protocol.strengths:
        return None
    limits = protocol_limits()
    made = ", ".join(f"{s.mg:g} mg {s.form}" for s in mono.strengths)
    return trusted(
        Adjustment,
        {
            "rule_id": limits.rules.strengths,
            "reason": _text.STOCKED.format(protocol=protocol.label, made=made),
            "citation": limits.citation,
            "verified": True,
        },
    )


def _drug_table(mono: Monograph, protocol: LocalProtocol | None) -> DrugTable:
    adult = mono.caps[0]
    standard = mono.protocol(ProtocolName.STANDARD)
    start_low = mono.protocol(ProtocolName.START_LOW)
    bands = MappingProxyType({b.band: b for b in mono.renal_bands})
    plain = formulary_of(mono, with_solution=False)
    return DrugTable(
        mono=mono,
        drug=mono.drug,
        name=mono.drug.value,
        renally_cleared=mono.renally_cleared,
        caps=tuple(_cap_entry(c, adult) for c in mono.caps),
        bands=bands,
        standard=standard,
        start_low=start_low,
        protocol_change=_text.PROTOCOL_CHANGED.format(
            standard=_text.describe_protocol(standard), start_low=_text.describe_protocol(start_low)
        ),
        formulary=plain,
        formulary_solution=plain
        if mono.solution is None
        else formulary_of(mono, with_solution=True),
        monitoring=tuple(m.text for m in mono.monitoring),
        stocked=_stocked(mono, protocol),
    )


@lru_cache(maxsize=32)
def tables(knowledge: KnowledgeBase | None) -> Tables:
    """Compile a knowledge base for the titration engine (once per base).

    Args:
        knowledge: The knowledge base, or ``None`` for the built-in one.

    Returns:
        The compiled tables.
    """
    if knowledge is None:
        monographs, rules = all_monographs(), titration_rules()
        params, obesity = clinical_parameters(), renal_table().obesity
        version, sha, protocol = KNOWLEDGE_BASE_VERSION, None, None
    else:
        monographs, rules = knowledge.monographs, knowledge.titration_rules
        params, obesity = knowledge.parameters, knowledge.renal.obesity
        version, sha, protocol = knowledge.version, knowledge.protocol_sha256, knowledge.protocol
    return Tables(
        knowledge=knowledge,
        version=version,
        protocol_sha256=sha,
        protocol=protocol,
        drugs=MappingProxyType({d: _drug_table(m, protocol) for d, m in monographs.items()}),
        rules=rules,
        triggers=tuple(
            (r, Condition.of(r.when)) for r in rules.values() if isinstance(r, TriggerRule)
        ),
        params=params,
        obesity=trusted(
            Adjustment,
            {
                "rule_id": obesity.rule_id,
                "reason": _text.OBESITY.format(percent=obesity.adjusted_above_ibw_ratio * 100),
                "citation": obesity.citation,
                "verified": True,
            },
        ),
    )
