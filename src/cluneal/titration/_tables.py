"""The knowledge base compiled for the titration engine: plain tables, built once.

:func:`tables` turns one knowledge base into
frozen plain values the engine reads on every call: each drug's protocols,
caps (with their criteria), renal bands by band, formularies, and the
adjustments whose text does not depend on the patient, already built. It is
memoised on the knowledge base itself (a frozen value, hashed by identity),
so a base is compiled once, on its first schedule, and stays picklable.

Nothing here decides anything about a patient: that is
:mod:`cluneal.titration._engine`.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from cluneal._base import assembled, trusted
from cluneal._compose import Formulary, formulary_of
from cluneal._lazy_text import Deferred
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, Severity
from cluneal.evidence import SourceMark
from cluneal.knowledge.criteria import Criteria  # noqa: TC001 - a dataclass field type
from cluneal.knowledge.drugs import (
    CapRule,
    KnowledgeRule,
    Monograph,
    Protocol,
    ProtocolName,
    RenalBandRule,
    TriggerRule,
    monograph_text,
    rule_text,
)
from cluneal.titration import _text
from cluneal.titration._models import Adjustment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.parameters import ClinicalParameters
    from cluneal.protocol import LocalProtocol
    from cluneal.vocabulary import RenalBand

__all__ = [
    "CapEntry",
    "DrugTable",
    "Tables",
    "rule_adjustment",
    "rule_alert",
    "tables",
]


_ADJUSTMENT_FIELDS: Final = frozenset(Adjustment.model_fields)


def _unverified(reason: str | Deferred) -> str:
    return f"{reason}{_text.UNVERIFIED}"


def rule_adjustment(
    rule: KnowledgeRule, reason: str | Deferred, citation: str | None = None
) -> Adjustment:
    """An adjustment from a rule, built from trusted values (no validation).

    ``citation`` names the adjusted drug's own label instead of the rule's; a
    general-knowledge (GK) rule is marked unverified, in its text too. The
    reason may be a :class:`~cluneal._lazy_text.Deferred` (rendered when read).
    """
    verified = rule.mark is not SourceMark.GK
    if not verified:
        reason = (
            Deferred(_unverified, reason) if isinstance(reason, Deferred) else _unverified(reason)
        )
    return assembled(
        Adjustment,
        {
            "rule_id": rule.rule_id,
            "reason": reason,
            "citation": rule.citation if citation is None else citation,
            "verified": verified,
        },
        _ADJUSTMENT_FIELDS,
    )


def rule_alert(  # noqa: PLR0917 - one alert, every part named
    severity: Severity,
    drug: str,
    message: str,
    rule: KnowledgeRule,
    action: str | None,
    citation: str | None = None,
) -> SafetyAlert:
    """An alert about one drug from a rule, built from trusted values (no validation)."""
    return trusted(
        SafetyAlert,
        severity=severity,
        drugs=(drug,),
        message=message,
        rule_id=rule.rule_id,
        citation=rule.citation if citation is None else citation,
        action=action,
    )


@dataclass(frozen=True, slots=True, eq=False)
class CapEntry:
    """One cap of a drug, with the adjustments it makes ready to use.

    Attributes:
        rule: The cap rule.
        when: Its criteria.
        lowered: The adjustment when this cap is the one that applies (lowest
            wins), or ``None`` for the adult cap.
        doses: The adjustment when it only limits doses a day, or ``None``.
    """

    rule: CapRule
    when: Criteria
    lowered: Adjustment | None
    doses: Adjustment | None


@dataclass(frozen=True, slots=True, eq=False)
class DrugTable:
    """One drug's monograph as plain values (see :func:`tables`).

    Hashed by identity: the memoised step plans key on it. ``texts`` holds
    every rule's text by rule id, its placeholders filled in; ``actions`` the
    dose alerts' actions; ``dialysis_note`` the monograph's, filled in too.
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
    texts: Mapping[str, str]
    actions: Mapping[str, str | None]
    dialysis_note: str

    def protocol(self, name: ProtocolName) -> Protocol:
        """The protocol of that name."""
        return self.standard if name is ProtocolName.STANDARD else self.start_low


@dataclass(frozen=True, slots=True, eq=False)
class Tables:
    """A knowledge base compiled for the titration engine.

    Attributes:
        knowledge: The knowledge base.
        version: The version schedules report.
        protocol_sha256: The local protocol's hash, or ``None``.
        protocol: The local protocol, or ``None``.
        drugs: One :class:`DrugTable` per drug.
        rules: The general titration rules, by id.
        triggers: The start-low triggers, in file order.
        params: The clinical parameters.
        obesity: The adjustment for adjusted body weight by default.
        age_bounds: Every ``age_over_years`` of the criteria the engine matches
            (start-low triggers, caps), ascending: beyond the facts' atoms, an
            age matters to the decisions only through which of these it is above.
        age_quoting: The start-low triggers whose reason quotes the patient's age.
        screening_age_bounds: Every ``age_over_years`` of the safety rules' criteria,
            ascending: what screening reads of an age beyond the atoms.
    """

    knowledge: KnowledgeBase
    version: str
    protocol_sha256: str | None
    protocol: LocalProtocol | None
    drugs: Mapping[Drug, DrugTable]
    rules: Mapping[str, KnowledgeRule]
    triggers: tuple[TriggerRule, ...]
    params: ClinicalParameters
    obesity: Adjustment
    age_bounds: tuple[float, ...]
    age_quoting: frozenset[str]
    screening_age_bounds: tuple[float, ...]


def _quotes_age(template: str) -> bool:
    """Whether a reason template has an ``{age}`` field."""
    return any(field == "age" for _, field, _, _ in string.Formatter().parse(template))


def _age_bounds(criteria: list[Criteria]) -> tuple[float, ...]:
    return tuple(sorted({c.age_over_years for c in criteria if c.age_over_years is not None}))


def _cap_entry(cap: CapRule, adult: CapRule, text: str) -> CapEntry:
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
        lowered = rule_adjustment(cap, f"{reason}: {text}")
    only_doses = rule_adjustment(cap, f"{doses[0].upper()}{doses[1:]}: {text}") if doses else None
    return CapEntry(cap, cap.when, lowered, only_doses)


def _stocked(mono: Monograph, protocol: LocalProtocol | None) -> Adjustment | None:
    if protocol is None or mono.drug not in protocol.strengths:
        return None
    limits = protocol_limits()
    made = ", ".join(f"{s.mg:g} mg {s.form}" for s in mono.strengths)
    return trusted(
        Adjustment,
        rule_id=limits.rules.strengths,
        reason=_text.STOCKED.format(protocol=protocol.label, made=made),
        citation=limits.citation,
        verified=True,
    )


def _drug_table(mono: Monograph, knowledge: KnowledgeBase) -> DrugTable:
    protocol = knowledge.protocol
    # Every text with its placeholders filled in, once (knowledge.monograph.rule_text).
    texts = MappingProxyType({r.rule_id: rule_text(r, knowledge) for r in mono.rules()})
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
        caps=tuple(_cap_entry(c, adult, texts[c.rule_id]) for c in mono.caps),
        bands=bands,
        standard=standard,
        start_low=start_low,
        protocol_change=_text.PROTOCOL_CHANGED.format(
            standard=_text.describe_protocol(standard, texts[standard.rule_id]),
            start_low=_text.describe_protocol(start_low, texts[start_low.rule_id]),
        ),
        formulary=plain,
        formulary_solution=plain
        if mono.solution is None
        else formulary_of(mono, with_solution=True),
        monitoring=tuple(texts[m.rule_id] for m in mono.monitoring),
        texts=texts,
        actions=MappingProxyType(
            {
                r.rule_id: None if r.action is None else rule_text(r, knowledge, r.action)
                for r in mono.dose_alerts
            }
        ),
        stocked=_stocked(mono, protocol),
        dialysis_note=monograph_text(mono.dialysis_note, knowledge),
    )


@lru_cache(maxsize=32)
def tables(knowledge: KnowledgeBase) -> Tables:
    """Compile a knowledge base for the titration engine (once per base).

    Args:
        knowledge: The knowledge base.

    Returns:
        The compiled tables.
    """
    monographs, rules, params = (
        knowledge.monographs,
        knowledge.titration_rules,
        knowledge.parameters,
    )
    obesity, protocol = knowledge.renal.obesity, knowledge.protocol
    drugs = {d: _drug_table(m, knowledge) for d, m in monographs.items()}
    triggers = tuple(r for r in rules.values() if isinstance(r, TriggerRule))
    matched = [t.when for t in triggers] + [c.when for t in drugs.values() for c in t.caps]
    return Tables(
        knowledge=knowledge,
        version=knowledge.version,
        protocol_sha256=knowledge.protocol_sha256,
        protocol=protocol,
        drugs=MappingProxyType(drugs),
        rules=rules,
        triggers=triggers,
        params=params,
        age_bounds=_age_bounds(matched),
        age_quoting=frozenset(t.rule_id for t in triggers if _quotes_age(t.reason)),
        screening_age_bounds=_age_bounds([r.when for r in knowledge.safety_rules]),
        obesity=trusted(
            Adjustment,
            rule_id=obesity.rule_id,
            reason=_text.OBESITY.format(percent=obesity.adjusted_above_ibw_ratio * 100),
            citation=obesity.citation,
            verified=True,
        ),
    )
