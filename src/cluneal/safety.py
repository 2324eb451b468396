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

from functools import cache
from typing import TYPE_CHECKING, Any

from cluneal._checks import collection, knowledge_argument
from cluneal.alerts import SafetyAlert, sort_alerts
from cluneal.drug import Drug
from cluneal.evidence import SourceMark
from cluneal.knowledge.criteria import PatientFacts, matches, patient_facts
from cluneal.knowledge.drugs import parse_drug
from cluneal.knowledge.parameters import clinical_parameters
from cluneal.knowledge.safety_rules import (
    CnsCountRule,
    InteractionRule,
    PatientRule,
    UnscreenedRule,
    safety_rules,
)
from cluneal.patient import Patient, classes_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase

__all__ = ["check_regimen", "parse_drugs", "screen"]

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
    return SafetyAlert(
        severity=rule.severity,
        drugs=involved,
        message=message,
        rule_id=rule.rule_id,
        citation=rule.citation,
        action=rule.action,
    )


def _patient_matches(rule: PatientRule, patient: Patient, facts: PatientFacts) -> bool:
    return matches(rule.when, facts) and (
        not rule.allergy_listed or any(d.value in patient.allergies for d in rule.drugs)
    )


def _partners(
    rule: InteractionRule,
    regimen: tuple[Drug, ...],
    planned: tuple[Drug, ...],
    patient: Patient,
) -> tuple[str, ...]:
    found = {d.value for d in rule.partner_drugs if d in regimen and d is not rule.drug}
    if rule.partner_drugs and rule.include_recent:
        found.update(
            m for m in patient.recent_medications for d in rule.partner_drugs if m == d.value
        )
    if rule.partner_classes or rule.partner_names:
        wanted = frozenset(rule.partner_classes)
        pool = patient.medications + (patient.recent_medications if rule.include_recent else ())
        pool += tuple(d.value for d in planned)
        own = rule.drug.value
        found.update(
            m
            for m in pool
            if m != own
            and (
                m in rule.partner_names
                or (m not in rule.except_names and not wanted.isdisjoint(classes_of(m)))
            )
        )
    return tuple(sorted(found))


# Iterating an Enum class costs microseconds; the tuple is built once.
_ALL_DRUGS: tuple[Drug, ...] = tuple(Drug)


def _cns_active(name: str) -> bool:
    return any(c.is_cns_active for c in classes_of(name))


_AnyRule = PatientRule | InteractionRule | CnsCountRule | UnscreenedRule


@cache
def _relevant(planned: tuple[Drug, ...], knowledge: KnowledgeBase | None) -> tuple[_AnyRule, ...]:
    # The rules that can involve a planned drug, found once per combination
    # (at most 63): screening a schedule then skips most of the rule table.
    names = {d.value for d in planned}
    classes = frozenset(c for d in planned for c in classes_of(d.value))
    out: list[_AnyRule] = []
    for rule in safety_rules() if knowledge is None else knowledge.safety_rules:
        if isinstance(rule, PatientRule):
            keep = any(d in planned for d in rule.drugs)
        elif isinstance(rule, InteractionRule):
            keep = (
                rule.drug in planned
                or any(d.value in names for d in rule.partner_drugs)
                or bool(classes & frozenset(rule.partner_classes))
            )
        else:
            keep = True
        if keep:
            out.append(rule)
    return tuple(out)


def screen(  # noqa: PLR0912 - one dispatch over the four rule kinds
    planned: tuple[Drug, ...],
    patient: Patient,
    age_years: float | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
) -> tuple[SafetyAlert, ...]:
    """Evaluate every safety rule for the planned drugs (unsorted).

    A rule fires only when it involves a planned drug; interactions among the
    patient's other medications alone are not this package's to report.

    Args:
        planned: The drugs being planned, in :class:`~cluneal.Drug` order.
        patient: The patient, with co-medications and conditions.
        age_years: The patient's age, when the caller has it already.
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The alerts, in rule order (use :func:`~cluneal.alerts.sort_alerts`).

    References:
        beers_2023, decision_contraindications_refuse, decision_unrecognized_medication_alert
    """
    knowledge = knowledge_argument(knowledge)
    if not planned:
        return ()
    planned_set = frozenset(planned)
    meds = patient.medications
    on_six = tuple(d for d in _ALL_DRUGS if d.value in meds)
    regimen = tuple(d for d in _ALL_DRUGS if d in planned_set or d in on_six)
    planned_names = frozenset(d.value for d in planned)
    age = patient.age_years if age_years is None else age_years
    params = clinical_parameters() if knowledge is None else knowledge.parameters
    # The patient's facts once; no renal band here (no safety rule asks for one).
    facts = patient_facts(patient, params, age_years=age)
    # Cheap gates first: most patients have few conditions and co-medications,
    # so most rules can be rejected without evaluating their predicates.
    alone = len(regimen) == 1 and not meds and not patient.recent_medications
    cns: list[str] | None = None
    alerts: list[SafetyAlert] = []
    for rule in _relevant(planned, knowledge):
        if isinstance(rule, PatientRule):
            if (rule.when.conditions_any and not patient.conditions) or (
                rule.allergy_listed and not patient.allergies
            ):
                continue
            if _patient_matches(rule, patient, facts):
                alerts.extend(
                    _alert(rule, d.value, (d.value,)) for d in rule.drugs if d in planned_set
                )
        elif isinstance(rule, InteractionRule):
            # A lone planned drug with no co-medication has no partner to interact with.
            if alone or rule.drug not in regimen or not matches(rule.when, facts):
                continue
            partners = _partners(rule, regimen, planned, patient)
            if partners and (rule.drug in planned_set or planned_names & set(partners)):
                alerts.append(
                    _alert(rule, rule.drug.value, (rule.drug.value, *partners), ", ".join(partners))
                )
        elif isinstance(rule, CnsCountRule):
            if not matches(rule.when, facts) or (len(planned) + len(meds) < rule.threshold):
                continue
            if cns is None:
                cns = sorted(
                    {d.value for d in planned if _cns_active(d.value)}
                    | {m for m in meds if _cns_active(m)}
                )
            if len(cns) >= rule.threshold and planned_names & set(cns):
                alerts.append(_alert(rule, cns[0], tuple(cns), ", ".join(cns)))
        elif meds:
            unknown = patient.unrecognized_medications
            if unknown:
                names = tuple(d.value for d in planned)
                alerts.append(
                    _alert(rule, " and ".join(names), (*names, *unknown), ", ".join(unknown))
                )
    return tuple(alerts)


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
    return sort_alerts(screen(chosen, checked, knowledge=knowledge))
