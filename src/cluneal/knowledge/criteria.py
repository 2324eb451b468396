"""The one condition language of the knowledge base: ``Criteria`` and ``matches``.

A rule that applies only to some patients says so with a ``when`` table of
criteria; every criterion given must hold, and an empty table always holds.
Titration caps, safety rules, the withholding rules, the first-line choice and
its alternatives all use it, so a fact is spelled once: ``older_adult = true``
means the older-adult age of ``parameters.toml``, whichever rule asks.

The facts of one call are computed once (:func:`facts_for` or
:func:`patient_facts`), as plain values: a set of named facts that hold (the
*atoms*, such as ``"older_adult"`` or ``"condition:copd"``) and the age.
A criteria table is compiled once, when it is built, into the atoms it needs,
the atoms it forbids and the groups of which one must hold, so that
:func:`matches` is two set comparisons.

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

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, PrivateAttr

from cluneal._base import FrozenModel
from cluneal._memo import BoundedMemo
from cluneal.vocabulary import Condition, HepaticImpairment

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.parameters import ClinicalParameters, States
    from cluneal.patient import Patient
    from cluneal.vocabulary import MedicationClass

__all__ = [
    "Criteria",
    "Facts",
    "PatientFacts",
    "RuleIndex",
    "age_bounds",
    "facts_for",
    "matches",
    "patient_facts",
]

# The yes/no criteria: each names the atom it asks about.
_FLAGS: Final = (
    "older_adult",
    "age_over_75",
    "cardiac_disease",
    "renal_restricted",
    "renal_below_normal",
    "hepatic_significant",
    "hepatic_start_low",
    "allergy_listed",
    "urgent_red_flag",
    "diagnosis_unlikely",
    "red_flag",
    "criterion_failed",
    "criterion_unknown",
    "block_done",
    "block_positive",
    "blocks_left",
    "other_branch_tender",
    "triad_failed",
    "triad_met",
    "pain_and_tender_met",
)
ALLERGY_LISTED: Final = "allergy_listed"
"""The atom that holds while screening a drug the patient's allergies name."""
URGENT_RED_FLAG: Final = "urgent_red_flag"
"""The atom that holds while the assessment has an urgent red flag."""
DIAGNOSIS_UNLIKELY: Final = "diagnosis_unlikely"
"""The atom that holds while the diagnosis is unlikely."""


def _condition(value: str) -> str:
    return f"condition:{value}"


def _hepatic(value: str) -> str:
    return f"hepatic:{value}"


class Criteria(FrozenModel):
    """Facts that must all hold for a rule to apply (none given: always).

    A yes/no criterion asks for the fact to be true (``True``) or false
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
        allergy_listed: The patient's allergies name the drug the rule is applied to.
        urgent_red_flag: The diagnostic assessment has an urgent red flag.
        diagnosis_unlikely: The diagnostic assessment finds the diagnosis unlikely.
        red_flag: The assessment has a red flag (urgent or not).
        criterion_failed: The pain pattern or the tender point was examined and not met.
        criterion_unknown: The pain pattern or the tender point was not examined.
        block_done: A diagnostic block was done.
        block_positive: The diagnostic block was positive.
        blocks_left: Fewer blocks given than ``pathway.toml``'s ``max_blocks``.
        other_branch_tender: A branch whose tender point reproduces the pain was not blocked.
        triad_failed: A criterion of the triad was examined and not met.
        triad_met: All three criteria of the triad are met.
        pain_and_tender_met: Criteria 1 and 2 (pain pattern, tender point) are met.
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
    allergy_listed: bool | None = None
    urgent_red_flag: bool | None = None
    diagnosis_unlikely: bool | None = None
    red_flag: bool | None = None
    criterion_failed: bool | None = None
    criterion_unknown: bool | None = None
    block_done: bool | None = None
    block_positive: bool | None = None
    blocks_left: bool | None = None
    other_branch_tender: bool | None = None
    triad_failed: bool | None = None
    triad_met: bool | None = None
    pain_and_tender_met: bool | None = None
    conditions_any: tuple[Condition, ...] = ()
    hepatic_any: tuple[HepaticImpairment, ...] = ()
    hla_b_1502: Literal["positive", "unknown"] | None = None

    # Compiled once at construction: (atoms required, atoms forbidden, groups of
    # which one atom must hold, age strictly above); None when nothing is given.
    _compiled: tuple[frozenset[str], frozenset[str], tuple[frozenset[str], ...], float | None] | (
        None
    ) = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:  # noqa: D102 - pydantic hook
        required = {name for name in _FLAGS if getattr(self, name) is True}
        forbidden = {name for name in _FLAGS if getattr(self, name) is False}
        groups: list[frozenset[str]] = []
        if self.conditions_any:
            groups.append(frozenset(_condition(c.value) for c in self.conditions_any))
        if self.hepatic_any:
            groups.append(frozenset(_hepatic(h.value) for h in self.hepatic_any))
        if self.hla_b_1502 is not None:
            required.add(f"hla_b_1502:{self.hla_b_1502}")
        if required or forbidden or groups or self.age_over_years is not None:
            self._compiled = (
                frozenset(required),
                frozenset(forbidden),
                tuple(groups),
                self.age_over_years,
            )

    @property
    def always(self) -> bool:
        """Whether no criterion is given (the rule always applies)."""
        return self._compiled is None

    @property
    def triggers(self) -> frozenset[str] | None:
        """Facts of which one must hold for the criteria to hold (``None``: no such set).

        What an index of rules by trigger reads (:class:`RuleIndex`).
        """
        compiled = self._compiled
        if compiled is None:
            return None
        required, _, groups, _ = compiled
        if required:
            return frozenset((min(required),))
        if groups:
            return min(groups, key=len)
        return None

    def describe(self) -> str:
        """The criteria in a few words ("always", "older_adult, cardiac_disease")."""
        given = [
            name if value is True else f"{name}={value}"
            for name, value in self
            if value is not None and value != ()
        ]
        return ", ".join(given) or "always"


@dataclass(frozen=True, slots=True)
class Facts:
    """Facts of a call that concern no patient (an assessment's, a pathway's).

    Attributes:
        atoms: The named facts that hold (``"block_positive"``, ...).
        age_years: No age: a criterion on age never holds.

    Example:
        >>> done = Facts(frozenset({"block_done"}))
        >>> matches(Criteria(block_done=True, block_positive=False), done)
        True
    """

    atoms: frozenset[str]
    age_years: float = math.nan

    def with_atoms(self, atoms: Iterable[str]) -> Facts:
        """The same facts with more atoms holding."""
        more = frozenset(atoms)
        return self if more <= self.atoms else Facts(self.atoms | more, self.age_years)


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the criteria ask about one patient, computed once per call (plain values).

    The yes/no facts are also in ``atoms``, the set :func:`matches` reads;
    the medication classes come from the catalogue of the knowledge base the
    facts were computed with.
    """

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
    atoms: frozenset[str] = frozenset()
    medications: tuple[str, ...] = ()
    medication_classes: Mapping[str, frozenset[MedicationClass]] = dataclasses.field(
        default_factory=dict
    )
    unrecognized_medications: tuple[str, ...] = ()

    def with_atoms(self, atoms: Iterable[str]) -> PatientFacts:
        """The same facts with more atoms holding (an assessment's, a drug's allergy)."""
        more = frozenset(atoms)
        if more <= self.atoms:
            return self
        return self._replaced(atoms=self.atoms | more)

    def with_renal_band(self, renal_band: str, parameters: ClinicalParameters) -> PatientFacts:
        """The same facts for a renal band (those of :func:`patient_facts` with that band).

        For facts computed without a band, once the renal assessment has one:
        the other facts are not computed again.

        Args:
            renal_band: The renal band value the rules use.
            parameters: The clinical parameters the facts were computed with.

        Returns:
            The facts with the band's atoms.
        """
        # Memoised on the identities of these facts and parameters (the entry holds
        # both, so an id is never matched to another object) and the band.
        key = (id(self), renal_band, id(parameters))
        entry = _BANDED.entries.get(key)
        if entry is not None and entry[0] is self and entry[1] is parameters:
            return entry[2]
        restricted, below_normal = _renal_flags(renal_band, parameters)
        atoms = self.atoms - _RENAL_ATOMS
        if restricted:
            atoms |= {"renal_restricted"}
        if below_normal:
            atoms |= {"renal_below_normal"}
        banded = self._replaced(
            renal_restricted=restricted, renal_below_normal=below_normal, atoms=atoms
        )
        _BANDED.put(key, (self, parameters, banded))
        return banded

    def _replaced(self, **changes: Any) -> PatientFacts:
        # dataclasses.replace, without its per-field introspection (a hot path).
        values = {name: getattr(self, name) for name in _FACT_FIELDS}
        values.update(changes)
        return PatientFacts(**values)

    def classes_of(self, medication: str) -> frozenset[MedicationClass]:
        """The classes of one of the patient's medications, in the catalogue used."""
        return self.medication_classes.get(medication, frozenset())


_CONDITION_ATOMS: Final = MappingProxyType({c: _condition(c.value) for c in Condition})
_HEPATIC_ATOMS: Final = MappingProxyType({h: _hepatic(h.value) for h in HepaticImpairment})


_FACT_FIELDS: Final = tuple(field.name for field in dataclasses.fields(PatientFacts))
_RENAL_ATOMS: Final = frozenset({"renal_restricted", "renal_below_normal"})


def _renal_flags(renal_band: str | None, parameters: ClinicalParameters) -> tuple[bool, bool]:
    """Whether the band is a restricted one, and whether it is below normal."""
    if renal_band is None:
        return False, False
    return renal_band in parameters.renal_restricted.bands, renal_band != "normal"


def _in_states(hepatic: str, conditions: tuple[Condition, ...], states: States) -> bool:
    return hepatic in states.impairment or any(c in states.conditions for c in conditions)


def patient_facts(
    patient: Patient,
    parameters: ClinicalParameters,
    renal_band: str | None = None,
    *,
    age_years: float | None = None,
    medications: Mapping[str, frozenset[MedicationClass]] | None = None,
) -> PatientFacts:
    """Compute the facts the criteria ask about, once.

    Args:
        patient: The patient.
        parameters: The knowledge base's clinical parameters.
        renal_band: The renal band value the rules use, when known.
        age_years: The patient's age, when the caller has it already.
        medications: The knowledge base's medication catalogue (generic name to
            classes); ``None`` leaves the medication facts empty.

    Returns:
        The facts.
    """
    age = patient.age_years if age_years is None else age_years
    restricted, below_normal = _renal_flags(renal_band, parameters)
    conditions = patient.conditions
    hepatic = patient.hepatic_impairment
    hla = patient.hla_b_1502
    cardiac = patient.has_cardiac_disease
    flags = (
        ("older_adult", parameters.older_adult.holds(age)),
        ("age_over_75", parameters.age_over_75.holds(age)),
        ("cardiac_disease", cardiac),
        ("renal_restricted", restricted),
        ("renal_below_normal", below_normal),
        ("hepatic_significant", _in_states(hepatic, conditions, parameters.hepatic_significant)),
        ("hepatic_start_low", _in_states(hepatic, conditions, parameters.hepatic_start_low)),
    )
    atoms = [_CONDITION_ATOMS[c] for c in conditions]
    atoms.append(_HEPATIC_ATOMS[hepatic])
    if hla is None:
        atoms.append("hla_b_1502:unknown")
    elif hla:
        atoms.append("hla_b_1502:positive")
    atoms.extend(name for name, holds in flags if holds)
    classes: Mapping[str, frozenset[MedicationClass]] = _NO_CLASSES
    unknown: tuple[str, ...] = ()
    if medications is not None and (patient.medications or patient.recent_medications):
        names = (*patient.medications, *patient.recent_medications)
        classes = {m: medications[m] for m in names if m in medications}
        unknown = tuple(m for m in patient.medications if m not in medications)
    return PatientFacts(
        age_years=age,
        older_adult=flags[0][1],
        age_over_75=flags[1][1],
        cardiac_disease=cardiac,
        renal_restricted=flags[3][1],
        renal_below_normal=flags[4][1],
        hepatic_significant=flags[5][1],
        hepatic_start_low=flags[6][1],
        hepatic=hepatic,
        conditions=frozenset(conditions),
        hla_b_1502=hla,
        atoms=frozenset(atoms),
        medications=patient.medications,
        medication_classes=classes,
        unrecognized_medications=unknown,
    )


_NO_CLASSES: Final[Mapping[str, frozenset[MedicationClass]]] = MappingProxyType({})


def facts_for(
    patient: Patient,
    knowledge: KnowledgeBase,
    renal_band: str | None = None,
    *,
    age_years: float | None = None,
) -> PatientFacts:
    """The patient's facts as one knowledge base sees them (its ages, its catalogue).

    Args:
        patient: The patient.
        knowledge: The knowledge base.
        renal_band: The renal band value the rules use, when known.
        age_years: The patient's age, when the caller has it already.

    Returns:
        The facts.

    Example:
        >>> from cluneal import Patient, knowledge_base
        >>> f = facts_for(Patient(age=50, sex="male", medications=["sertraline"]),
        ...               knowledge_base())
        >>> sorted(c.value for c in f.classes_of("sertraline"))
        ['ssri']
    """
    age = patient.age_years if age_years is None else age_years
    # Memoised on the plain values the facts depend on (never on the patient object);
    # the entry holds its knowledge base, so an id is never matched to another one.
    key = (
        id(knowledge),
        renal_band,
        age,
        age.__class__,
        patient.conditions,
        patient.hepatic_impairment,
        patient.hla_b_1502,
        patient.medications,
        patient.recent_medications,
    )
    entry = _FACTS_MEMO.entries.get(key)
    if entry is not None and entry[0] is knowledge:
        return entry[1]
    facts = patient_facts(
        patient,
        knowledge.parameters,
        renal_band,
        age_years=age,
        medications=knowledge.medications,
    )
    _FACTS_MEMO.put(key, (knowledge, facts))
    return facts


# facts_for's memo: a pure function's results, bounded (the oldest entry out first).
_FACTS_MEMO: Final[BoundedMemo[tuple[object, ...], tuple[KnowledgeBase, PatientFacts]]] = (
    BoundedMemo(4096)
)
# PatientFacts.with_renal_band's memo, as bounded.
_BANDED: Final[
    BoundedMemo[tuple[int, str, int], tuple[PatientFacts, ClinicalParameters, PatientFacts]]
] = BoundedMemo(4096)


def matches(criteria: Criteria, facts: PatientFacts | Facts) -> bool:
    """Whether every criterion given holds for the facts.

    Args:
        criteria: A rule's criteria.
        facts: The facts (a patient's, with any more atoms of the call).

    Returns:
        ``True`` when the rule applies.
    """
    # Read from the private slot directly: pydantic's attribute hook is slow on a hot path.
    compiled = criteria.__pydantic_private__["_compiled"]  # type: ignore[index]
    if compiled is None:
        return True
    required, forbidden, groups, age_over = compiled
    atoms = facts.atoms
    if not (required <= atoms and forbidden.isdisjoint(atoms)):
        return False
    for group in groups:
        if group.isdisjoint(atoms):
            return False
    return age_over is None or facts.age_years > age_over


def age_bounds(knowledge: KnowledgeBase) -> tuple[float, ...]:
    """Every ``age_over_years`` that a criteria table of the knowledge base gives, ascending.

    Beyond the atoms, a patient's age matters to the criteria only through
    which of these bounds it is above: a memo of rule outcomes may key on that
    instead of the age itself. Every table of the base is searched, so a rule
    added anywhere is counted.

    Args:
        knowledge: The knowledge base.

    Returns:
        The bounds, each once.

    Example:
        >>> from cluneal import knowledge_base
        >>> age_bounds(knowledge_base())
        (40.0,)
    """
    found = _AGE_BOUNDS.entries.get(id(knowledge))
    if found is not None and found[0] is knowledge:
        return found[1]
    result = tuple(sorted(_collect_age_bounds(knowledge)))
    _AGE_BOUNDS.put(id(knowledge), (knowledge, result))
    return result


# An entry per knowledge base (holding it, so an id is never matched to another base).
_AGE_BOUNDS: Final[BoundedMemo[int, tuple[KnowledgeBase, tuple[float, ...]]]] = BoundedMemo(32)
# Values that hold no criteria, skipped without a look (most of a base's values).
_LEAVES: Final = (str, bytes, int, float, type(None), Enum)


def _collect_age_bounds(root: object) -> set[float]:
    """Every ``age_over_years`` below ``root``: one loop over a stack of containers."""
    bounds: set[float] = set()
    seen: set[int] = set()
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, Criteria):
            if value.age_over_years is not None:
                bounds.add(value.age_over_years)
            continue
        if isinstance(value, BaseModel):
            children: Iterable[object] = value.__dict__.values()
        elif isinstance(value, Mapping):
            children = value.values()
        elif isinstance(value, tuple | list | set | frozenset):
            children = value
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            children = [getattr(value, f.name) for f in dataclasses.fields(value)]
        else:
            continue
        for child in children:
            if isinstance(child, _LEAVES) or id(child) in seen:
                continue
            seen.add(id(child))
            stack.append(child)
    return bounds


T = TypeVar("T")


class RuleIndex(Generic[T]):
    """Rules indexed by the facts that trigger them, so a call reads only its candidates.

    Built once per knowledge base from ``(criteria, rule)`` pairs; :meth:`matching`
    returns, in the original order, the rules whose criteria hold, having
    evaluated only those with a trigger among the facts (and those without
    triggers).

    Example:
        >>> index = RuleIndex([(Criteria(older_adult=True), "beers"), (Criteria(), "all")])
        >>> index.matching(Facts(frozenset())), index.matching(Facts(frozenset({"older_adult"})))
        (['all'], ['beers', 'all'])
    """

    __slots__ = ("_always", "_by_atom", "_rules")

    def __init__(self, rules: Iterable[tuple[Criteria, T]]) -> None:
        self._rules = tuple(rules)
        by_atom: dict[str, list[int]] = {}
        always: list[int] = []
        for position, (criteria, _) in enumerate(self._rules):
            triggers = criteria.triggers
            if triggers is None:
                always.append(position)
            else:
                for atom in triggers:
                    by_atom.setdefault(atom, []).append(position)
        self._by_atom = {atom: tuple(p) for atom, p in by_atom.items()}
        self._always = tuple(always)

    def matching(self, facts: PatientFacts | Facts) -> list[T]:
        """The rules whose criteria hold for the facts, in their original order."""
        positions = set(self._always)
        by_atom = self._by_atom
        for atom in facts.atoms:
            found = by_atom.get(atom)
            if found is not None:
                positions.update(found)
        rules = self._rules
        return [rules[p][1] for p in sorted(positions) if matches(rules[p][0], facts)]
