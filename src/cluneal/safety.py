"""Safety screening: contraindications, interactions and Beers 2023, as alerts.

:func:`check_regimen` screens a combination of the six drugs against each
other, against the patient's co-medications (including those stopped within
14 days where a washout matters) and against the patient's conditions. The
rules are data (``knowledge/safety.toml``); this module only evaluates them.
Findings are values, not exceptions: only
:func:`~cluneal.titration.titration_schedule` refuses a contraindicated drug.

Example:
    >>> from cluneal import Patient
    >>> p = Patient(age=70, sex="female", medications=["sertraline"])
    >>> [a.rule_id for a in check_regimen(["tramadol"], p)][:2]
    ['interaction.tramadol.ssri_snri', 'beers.hyponatraemia']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cluneal._base import trusted
from cluneal._checks import collection, knowledge_argument
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, sort_alerts
from cluneal.drug import Drug
from cluneal.evidence import SourceMark
from cluneal.knowledge.base import resolved
from cluneal.knowledge.criteria import (
    ALLERGY_LISTED,
    PatientFacts,
    RuleIndex,
    facts_for,
    matches,
)
from cluneal.knowledge.drugs import parse_drug
from cluneal.knowledge.safety_rules import (
    CnsCountRule,
    InteractionRule,
    PatientRule,
    UnscreenedRule,
)
from cluneal.patient import Patient

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import MedicationClass

__all__ = ["check_regimen", "parse_drugs", "screen", "screen_each"]

_UNVERIFIED = " [unverified: general knowledge, not yet checked against a source]"


def parse_drugs(drugs: object) -> tuple[Drug, ...]:
    """Turn a caller's collection of drugs into unique :class:`~cluneal.Drug` values.

    Args:
        drugs: Drugs or their names; a single name is accepted as one drug.

    Returns:
        The drugs in the order of :class:`~cluneal.Drug`.

    Raises:
        UnknownTermError: An item is not one of the six drugs.
        InvalidArgumentError: ``drugs`` is not a collection.

    Example:
        >>> parse_drugs(["tramadol", "Gabapentin", "tramadol"])
        (<Drug.GABAPENTIN: 'gabapentin'>, <Drug.TRAMADOL: 'tramadol'>)
    """
    if isinstance(drugs, str | Drug):
        drugs = (drugs,)
    items = collection(drugs, "drugs", what="drug names")
    chosen = {parse_drug(item, "drugs") for item in items}
    return tuple(d for d in Drug if d in chosen)


def _alert(
    rule: PatientRule | InteractionRule | CnsCountRule | UnscreenedRule,
    drug: str,
    involved: tuple[str, ...],
    partners: str = "",
) -> SafetyAlert:
    message = rule.message.format(drug=drug, partners=partners)
    message = message[0].upper() + message[1:]
    if rule.mark is SourceMark.GK:
        message += _UNVERIFIED
    # Every value comes from a validated rule of the knowledge base: no revalidation.
    return trusted(
        SafetyAlert,
        severity=rule.severity,
        drugs=involved,
        message=message,
        rule_id=rule.rule_id,
        citation=rule.citation,
        action=rule.action,
    )


_AnyRule = PatientRule | InteractionRule | CnsCountRule | UnscreenedRule


@dataclass(frozen=True, slots=True)
class _PatientEntry:
    rule: PatientRule
    # The alert for each drug the rule names: the same value for every patient it fires for.
    alerts: Mapping[Drug, SafetyAlert]
    per_drug_allergy: bool


@dataclass(frozen=True, slots=True)
class _Screening:
    """The safety rules of one knowledge base, compiled once (rule order kept)."""

    rules: tuple[_AnyRule, ...]
    # The patient rules, indexed by the facts that trigger them.
    patient_rules: RuleIndex[_PatientEntry]
    catalogue: Mapping[str, frozenset[MedicationClass]]
    # The classes of each of the six drugs, in this base's catalogue.
    drug_classes: Mapping[Drug, frozenset[MedicationClass]]


def _compile(knowledge: KnowledgeBase) -> _Screening:
    rules = knowledge.safety_rules
    catalogue = knowledge.medications
    patient = [
        _PatientEntry(
            rule,
            MappingProxyType({d: _alert(rule, d.value, (d.value,)) for d in rule.drugs}),
            per_drug_allergy=bool(rule.when.allergy_listed),
        )
        for rule in rules
        if isinstance(rule, PatientRule)
    ]
    drug_classes = {d: catalogue.get(d.value, frozenset()) for d in Drug}
    return _Screening(
        rules=tuple(rules),
        patient_rules=RuleIndex((e.rule.when, e) for e in patient),
        catalogue=catalogue,
        drug_classes=MappingProxyType(drug_classes),
    )


@lru_cache(maxsize=64)
def _compiled(knowledge: KnowledgeBase) -> _Screening:
    # Keyed by the knowledge base itself (compared by identity): a variant is compiled once.
    return _compile(knowledge)


# Iterating an Enum class costs microseconds; the tuple is built once.
_ALL_DRUGS: tuple[Drug, ...] = tuple(Drug)


@dataclass(frozen=True, slots=True)
class _CoRules:
    """The rules about co-medication that can involve some planned drugs."""

    # Interactions by the drug they are written for (only those in the regimen can fire).
    interactions: Mapping[Drug, tuple[InteractionRule, ...]]
    cns: tuple[CnsCountRule, ...]
    unscreened: tuple[UnscreenedRule, ...]


@lru_cache(maxsize=256)
def _co_rules(planned: tuple[Drug, ...], knowledge: KnowledgeBase) -> _CoRules:
    """The rules about co-medication that can involve a planned drug (found once per combination).

    Interactions where a planned drug is the rule's drug or a partner (by name or
    class), the CNS count and the unscreened rule; screening skips the rest.
    """
    compiled = _compiled(knowledge)
    names = {d.value for d in planned}
    classes = frozenset(c for d in planned for c in compiled.drug_classes[d])
    interactions: dict[Drug, list[InteractionRule]] = {}
    cns: list[CnsCountRule] = []
    unscreened: list[UnscreenedRule] = []
    for rule in compiled.rules:
        if isinstance(rule, InteractionRule):
            if (
                rule.drug in planned
                or any(d.value in names for d in rule.partner_drugs)
                or bool(classes & frozenset(rule.partner_classes))
            ):
                interactions.setdefault(rule.drug, []).append(rule)
        elif isinstance(rule, CnsCountRule):
            cns.append(rule)
        elif isinstance(rule, UnscreenedRule):
            unscreened.append(rule)
    return _CoRules(
        MappingProxyType({d: tuple(r) for d, r in interactions.items()}),
        tuple(cns),
        tuple(unscreened),
    )


def _patient_alerts(
    drugs: tuple[Drug, ...], patient: Patient, facts: PatientFacts, compiled: _Screening
) -> dict[Drug, list[SafetyAlert]]:
    """The patient rules, evaluated once for all the drugs: each drug's alerts."""
    found: dict[Drug, list[SafetyAlert]] = {d: [] for d in drugs}
    allergies = patient.allergies
    allergic = [d for d in drugs if d in allergies] if allergies else []
    drug_facts = facts.with_atoms((ALLERGY_LISTED,)) if allergic else facts
    for entry in compiled.patient_rules.matching(drug_facts):
        if entry.per_drug_allergy:
            # The allergy fact holds drug by drug.
            for d in allergic:
                alert = entry.alerts.get(d)
                if alert is not None:
                    found[d].append(alert)
        elif drug_facts is facts or matches(entry.rule.when, facts):
            for d, alert in entry.alerts.items():
                listed = found.get(d)
                if listed is not None:
                    listed.append(alert)
    return found


@dataclass(frozen=True, slots=True)
class _Pool:
    """The patient's co-medications with their classes, read once per call."""

    meds: tuple[str, ...]
    recent: tuple[str, ...]
    # Every name screening may meet (co-medications and the six drugs) to its classes.
    classes: Mapping[str, frozenset[MedicationClass]]
    # The CNS-active co-medications (Beers 2023's count).
    cns: frozenset[str]
    # Every class among the current co-medications, and with the recent ones too.
    current_classes: frozenset[MedicationClass]
    all_classes: frozenset[MedicationClass]
    names: frozenset[str]
    # The six drugs among the current co-medications.
    on_six: tuple[Drug, ...]


def _pool(patient: Patient, facts: PatientFacts, compiled: _Screening) -> _Pool:
    classes = {d.value: c for d, c in compiled.drug_classes.items()}
    classes.update(facts.medication_classes)
    meds = patient.medications
    recent = patient.recent_medications
    empty: frozenset[MedicationClass] = frozenset()
    current = frozenset(c for m in meds for c in classes.get(m, empty))
    return _Pool(
        meds=meds,
        recent=recent,
        classes=classes,
        cns=frozenset(m for m in meds if _cns_active(classes.get(m, empty))),
        current_classes=current,
        all_classes=current.union(*(classes.get(m, empty) for m in recent)),
        names=frozenset((*meds, *recent)),
        # The six are str enums: a member is found among names as its value.
        on_six=tuple(d for d in _ALL_DRUGS if d in meds),
    )


@dataclass(frozen=True, slots=True)
class _Regimen:
    planned: frozenset[Drug]
    drugs: tuple[Drug, ...]
    names: frozenset[str]
    classes: frozenset[MedicationClass]
    cns: frozenset[str]


@lru_cache(maxsize=1024)
def _regimen(planned: tuple[Drug, ...], on_six: tuple[Drug, ...], kb: KnowledgeBase) -> _Regimen:
    """The planned drugs with the six the patient takes (at most 63 x 64 combinations)."""
    classes = _compiled(kb).drug_classes
    chosen = frozenset(planned)
    return _Regimen(
        planned=chosen,
        drugs=tuple(d for d in _ALL_DRUGS if d in chosen or d in on_six),
        names=frozenset(d.value for d in planned),
        classes=frozenset(c for d in planned for c in classes[d]),
        cns=frozenset(d.value for d in planned if _cns_active(classes[d])),
    )


@dataclass(frozen=True, slots=True)
class _Present:
    """Everything a partner can be for one regimen: names, and classes with and without recent."""

    names: frozenset[str]
    current: frozenset[MedicationClass]
    with_recent: frozenset[MedicationClass]


def _no_partner(rule: InteractionRule, regimen: tuple[Drug, ...], present: _Present) -> bool:
    """A cheap test that a rule cannot find a partner (``False``: look properly)."""
    if any(d in regimen or d in present.names for d in rule.partner_drugs):
        return False
    classes = present.with_recent if rule.include_recent else present.current
    return classes.isdisjoint(rule.partner_classes) and present.names.isdisjoint(rule.partner_names)


def _partners(
    rule: InteractionRule,
    regimen: tuple[Drug, ...],
    planned: tuple[Drug, ...],
    pool: _Pool,
) -> tuple[str, ...]:
    found = {d.value for d in rule.partner_drugs if d in regimen and d is not rule.drug}
    if rule.partner_drugs and rule.include_recent:
        found.update(m for m in pool.recent for d in rule.partner_drugs if m == d.value)
    if rule.partner_classes or rule.partner_names:
        wanted = frozenset(rule.partner_classes)
        names = pool.meds + (pool.recent if rule.include_recent else ())
        names += tuple(d.value for d in planned)
        own = rule.drug.value
        empty: frozenset[MedicationClass] = frozenset()
        found.update(
            m
            for m in names
            if m != own
            and (
                m in rule.partner_names
                or (
                    m not in rule.except_names and not wanted.isdisjoint(pool.classes.get(m, empty))
                )
            )
        )
    return tuple(sorted(found))


def _co_alerts(
    planned: tuple[Drug, ...],
    facts: PatientFacts,
    kb: KnowledgeBase,
    compiled: _Screening,
    pool: _Pool,
) -> list[SafetyAlert]:
    """The rules about co-medication for the planned drugs (interactions, CNS count, unscreened)."""
    meds = pool.meds
    combination = _regimen(planned, pool.on_six, kb)
    planned_set = combination.planned
    regimen = combination.drugs
    planned_names = combination.names
    planned_classes = combination.classes
    present = _Present(
        names=pool.names | planned_names,
        current=pool.current_classes | planned_classes,
        with_recent=pool.all_classes | planned_classes,
    )
    # A lone planned drug with no co-medication has no partner to interact with.
    alone = len(regimen) == 1 and not meds and not pool.recent
    alerts: list[SafetyAlert] = []
    rules = _co_rules(planned, kb)
    if not alone:
        for drug in regimen:
            for rule in rules.interactions.get(drug, ()):
                if _no_partner(rule, regimen, present) or not matches(rule.when, facts):
                    continue
                partners = _partners(rule, regimen, planned, pool)
                if partners and (drug in planned_set or not planned_names.isdisjoint(partners)):
                    alerts.append(
                        _alert(rule, drug.value, (drug.value, *partners), ", ".join(partners))
                    )
    for count in rules.cns:
        if not matches(count.when, facts) or (len(planned) + len(meds) < count.threshold):
            continue
        cns = sorted(combination.cns | pool.cns)
        if len(cns) >= count.threshold and not planned_names.isdisjoint(cns):
            alerts.append(_alert(count, cns[0], tuple(cns), ", ".join(cns)))
    unknown = facts.unrecognized_medications if meds else ()
    if unknown:
        names = tuple(d.value for d in planned)
        alerts.extend(
            _alert(rule, " and ".join(names), (*names, *unknown), ", ".join(unknown))
            for rule in rules.unscreened
        )
    return alerts


def screen(
    planned: tuple[Drug, ...],
    patient: Patient,
    age_years: float | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
    facts: PatientFacts | None = None,
) -> tuple[SafetyAlert, ...]:
    """Evaluate every safety rule for the planned drugs (unsorted).

    A rule fires only when it involves a planned drug; interactions among the
    patient's other medications alone are not this package's to report.
    Co-medications are classified by the catalogue of ``knowledge``.

    Args:
        planned: The drugs being planned, in :class:`~cluneal.Drug` order.
        patient: The patient, with co-medications and conditions.
        age_years: The patient's age, when the caller has it already.
        knowledge: The knowledge base; ``None`` for the built-in one.
        facts: The patient's facts in ``knowledge``, when the caller has them already.

    Returns:
        The alerts, unsorted (use :func:`~cluneal.alerts.sort_alerts`).

    References:
        beers_2023, decision_contraindications_refuse, decision_unrecognized_medication_alert
    """
    kb = resolved(knowledge)
    if not planned:
        return ()
    if facts is None:
        # No renal band here: no safety rule asks for one.
        facts = facts_for(patient, kb, age_years=age_years)
    compiled = _compiled(kb)
    by_drug = _patient_alerts(planned, patient, facts, compiled)
    alerts = [a for d in planned for a in by_drug[d]]
    if patient.medications or patient.recent_medications or len(planned) > 1:
        alerts.extend(_co_alerts(planned, facts, kb, compiled, _pool(patient, facts, compiled)))
    return tuple(alerts)


def _cns_active(classes: frozenset[MedicationClass]) -> bool:
    return any(c.is_cns_active for c in classes)


def screen_each(
    drugs: tuple[Drug, ...],
    patient: Patient,
    facts: PatientFacts,
    *,
    knowledge: KnowledgeBase | None = None,
) -> Mapping[Drug, tuple[SafetyAlert, ...]]:
    """Screen each drug alone for the patient, in one pass (most serious first, per drug).

    The care plan's one screening: the same alerts as
    ``sort_alerts(screen((drug,), patient))`` for each drug. The patient rules
    are evaluated once for all the drugs; the co-medication pool is read once.

    Args:
        drugs: The drugs.
        patient: The patient.
        facts: The patient's facts in ``knowledge``.
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The sorted alerts of each drug.

    Example:
        >>> from cluneal import Drug, Patient, knowledge_base
        >>> from cluneal.knowledge.criteria import facts_for
        >>> p = Patient(age=70, sex="female", medications=["sertraline"])
        >>> found = screen_each((Drug.TRAMADOL,), p, facts_for(p, knowledge_base()))
        >>> found[Drug.TRAMADOL] == check_regimen(["tramadol"], p)
        True
    """
    kb = resolved(knowledge)
    compiled = _compiled(kb)
    found = _patient_alerts(drugs, patient, facts, compiled)
    if patient.medications or patient.recent_medications:
        pool = _pool(patient, facts, compiled)
        for d in drugs:
            found[d].extend(_co_alerts((d,), facts, kb, compiled, pool))
    return {
        d: sort_alerts(alerts) if len(alerts) > 1 else tuple(alerts) for d, alerts in found.items()
    }


def check_regimen(
    drugs: object,
    patient: Patient | Mapping[str, Any],
    *,
    knowledge: KnowledgeBase | None = None,
) -> tuple[SafetyAlert, ...]:
    """Screen a combination of drugs for a patient.

    Contraindications (decision_contraindications_refuse), interactions among the drugs and
    with the patient's co-medications (MAOI, SSRI/SNRI, opioid, benzodiazepine,
    anticoagulant/antiplatelet, ...), condition alerts, pregnancy (carbamazepine
    contraindicated, the others major), HLA-B*15:02 unknown before
    carbamazepine, and Beers 2023 for patients aged 65 and over (including three
    or more CNS-active drugs, counting the patient's current ones). Co-medications
    the knowledge base cannot classify produce an alert that they were not
    screened: unknown is not safe. Rules marked GK say they are unverified.
    A drug the local protocol of ``knowledge`` excludes gets a major alert
    saying so (``local_protocol.excluded.<drug>``,
    decision_local_protocol_conservative).

    Args:
        drugs: The drugs of the regimen (:class:`~cluneal.Drug` values or names).
        patient: The patient.
        knowledge: The knowledge base to apply; ``None`` for the built-in
            :func:`~cluneal.knowledge_base`.

    Returns:
        The alerts, most serious first, then by rule id (deterministic).

    Raises:
        UnknownTermError: A drug is not one of the six.
        ValidationError: ``patient`` is not a valid :class:`~cluneal.Patient`.

    References:
        beers_2023, tramadol_label, carbamazepine_label, nortriptyline_label,
        naltrexone_label, fda_dsc_2019_gabapentinoids

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=50, sex="male")
        >>> [a.rule_id for a in check_regimen(["tramadol", "naltrexone"], p)]
        ['contraindication.naltrexone.opioid', 'contraindication.tramadol.naltrexone']
    """
    knowledge = knowledge_argument(knowledge)
    chosen = parse_drugs(drugs)
    checked = patient if isinstance(patient, Patient) else Patient.model_validate(patient)
    return sort_alerts(
        [*screen(chosen, checked, knowledge=knowledge), *_excluded(chosen, knowledge)]
    )


def _excluded(drugs: tuple[Drug, ...], knowledge: KnowledgeBase | None) -> list[SafetyAlert]:
    """An alert for each drug the local protocol of ``knowledge`` excludes."""
    protocol = None if knowledge is None else knowledge.protocol
    if protocol is None or not protocol.excluded_drugs:
        return []
    limits = protocol_limits()
    return [
        limits.excluded_alert.alert(limits.rules.excluded, d.value, protocol.label)
        for d in drugs
        if d in protocol.excluded_drugs
    ]
