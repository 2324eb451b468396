"""The one condition language of the knowledge base: ``Criteria`` and ``matches``.

A rule that applies only to some patients says so with a ``when`` table of
criteria; every criterion given must hold, and an empty table always holds.
Titration caps, safety rules and the first-line choice all use it, so a
patient fact is spelled once: ``older_adult = true`` means the older-adult age
of ``parameters.toml``, whichever rule asks.

The patient's facts are computed once per call (:func:`patient_facts`), as
plain values; :func:`matches` compares them with a rule's criteria.

Example:
    >>> from cluneal import Patient
    >>> from cluneal.knowledge.parameters import clinical_parameters
    >>> facts = patient_facts(Patient(age=70, sex="male"), clinical_parameters())
    >>> matches(Criteria(older_adult=True), facts), matches(Criteria(), facts)
    (True, True)
    >>> matches(Criteria(older_adult=True, cardiac_disease=True), facts)
    False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cluneal._base import FrozenModel
from cluneal.patient import Condition, HepaticImpairment

if TYPE_CHECKING:
    from cluneal.knowledge.parameters import ClinicalParameters, States
    from cluneal.patient import Patient

__all__ = ["Criteria", "PatientFacts", "matches", "patient_facts"]


class Criteria(FrozenModel):
    """Patient facts that must all hold for a rule to apply (none given: always).

    A boolean criterion asks for the fact to be true (``True``) or false
    (``False``); ``None`` leaves it open.

    Attributes:
        older_adult: Age at or above ``parameters.toml``'s older-adult age.
        age_over_75: Age above ``parameters.toml``'s ``age_over_75`` age.
        age_over_years: Age strictly above this many years.
        cardiac_disease: Any cardiac condition.
        renal_restricted: Renal band among ``parameters.toml``'s restricted bands.
        renal_below_normal: Any renal band but normal.
        hepatic_significant: Hepatic state of ``parameters.toml``'s ``hepatic_significant``.
        hepatic_start_low: Hepatic state of ``parameters.toml``'s ``hepatic_start_low``.
        conditions_any: Any of these conditions.
        hepatic_any: Any of these degrees of hepatic impairment.
        hla_b_1502: ``"positive"``, or ``"unknown"`` (not tested).
    """

    older_adult: bool | None = None
    age_over_75: bool | None = None
    age_over_years: float | None = None
    cardiac_disease: bool | None = None
    renal_restricted: bool | None = None
    renal_below_normal: bool | None = None
    hepatic_significant: bool | None = None
    hepatic_start_low: bool | None = None
    conditions_any: tuple[Condition, ...] = ()
    hepatic_any: tuple[HepaticImpairment, ...] = ()
    hla_b_1502: Literal["positive", "unknown"] | None = None

    @property
    def always(self) -> bool:
        """Whether no criterion is given (the rule always applies)."""
        return self == _ALWAYS

    def describe(self) -> str:
        """The criteria in a few words ("always", "older_adult, cardiac_disease")."""
        given = [
            name if value is True else f"{name}={value}"
            for name, value in self
            if value is not None and value != ()
        ]
        return ", ".join(given) or "always"


_ALWAYS = Criteria()


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the criteria ask about one patient, computed once per call (plain values)."""

    age_years: float
    older_adult: bool
    age_over_75: bool
    cardiac_disease: bool
    renal_restricted: bool
    renal_below_normal: bool
    hepatic_significant: bool
    hepatic_start_low: bool
    hepatic: HepaticImpairment
    conditions: frozenset[Condition]
    hla_b_1502: bool | None


def _in_states(patient: Patient, states: States) -> bool:
    return patient.hepatic_impairment.value in states.impairment or any(
        c.value in states.conditions for c in patient.conditions
    )


def patient_facts(
    patient: Patient,
    parameters: ClinicalParameters,
    renal_band: str | None = None,
    *,
    age_years: float | None = None,
) -> PatientFacts:
    """Compute the facts the criteria ask about, once.

    Args:
        patient: The patient.
        parameters: The knowledge base's clinical parameters.
        renal_band: The renal band value the rules use, when known.
        age_years: The patient's age, when the caller has it already.

    Returns:
        The facts.
    """
    age = patient.age_years if age_years is None else age_years
    return PatientFacts(
        age_years=age,
        older_adult=parameters.older_adult.holds(age),
        age_over_75=parameters.age_over_75.holds(age),
        cardiac_disease=patient.has_cardiac_disease,
        renal_restricted=renal_band is not None and renal_band in parameters.renal_restricted.bands,
        renal_below_normal=renal_band is not None and renal_band != "normal",
        hepatic_significant=_in_states(patient, parameters.hepatic_significant),
        hepatic_start_low=_in_states(patient, parameters.hepatic_start_low),
        hepatic=patient.hepatic_impairment,
        conditions=frozenset(patient.conditions),
        hla_b_1502=patient.hla_b_1502,
    )


def _flag(wanted: bool | None, fact: bool) -> bool:  # noqa: FBT001 - a criterion and its fact
    return wanted is None or wanted is fact


def matches(criteria: Criteria, facts: PatientFacts) -> bool:
    """Whether every criterion given holds for the facts.

    Args:
        criteria: A rule's criteria.
        facts: The patient's facts.

    Returns:
        ``True`` when the rule applies.
    """
    if criteria is _ALWAYS:
        return True
    hla = criteria.hla_b_1502
    return (
        _flag(criteria.older_adult, facts.older_adult)
        and _flag(criteria.age_over_75, facts.age_over_75)
        and (criteria.age_over_years is None or facts.age_years > criteria.age_over_years)
        and _flag(criteria.cardiac_disease, facts.cardiac_disease)
        and _flag(criteria.renal_restricted, facts.renal_restricted)
        and _flag(criteria.renal_below_normal, facts.renal_below_normal)
        and _flag(criteria.hepatic_significant, facts.hepatic_significant)
        and _flag(criteria.hepatic_start_low, facts.hepatic_start_low)
        and (
            not criteria.conditions_any or not facts.conditions.isdisjoint(criteria.conditions_any)
        )
        and (not criteria.hepatic_any or facts.hepatic in criteria.hepatic_any)
        and (
            hla is None
            or (hla == "positive" and facts.hla_b_1502 is True)
            or (hla == "unknown" and facts.hla_b_1502 is None)
        )
    )
