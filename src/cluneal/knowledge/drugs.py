"""Drug monographs: strengths, protocols, caps and renal bands, as validated data.

Each of the six drugs has a file ``knowledge/monographs/<drug>.toml``; the
rules that hold for every drug (start low, rounding, unknown renal function)
are in ``knowledge/titration.toml``. They are read once, validated into frozen
models and checked for unique rule ids and resolvable citations; any problem
raises :class:`~cluneal.errors.KnowledgeBaseError` when first loaded.

Example:
    >>> from cluneal import Drug
    >>> m = monograph(Drug.GABAPENTIN)
    >>> [s.mg for s in m.strengths]
    [100.0, 300.0, 400.0, 600.0, 800.0]
    >>> m.band(RenalBand.MODERATE).cap_mg_day
    1400.0
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal._vocabulary import Term
from cluneal.alerts import Severity
from cluneal.drug import Drug
from cluneal.errors import KnowledgeBaseError, UnknownTermError
from cluneal.evidence import SourceMark, citation
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.vocabulary import RenalBand

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CapRule",
    "Compounded",
    "DialysisSupplement",
    "DoseAlertRule",
    "DoseSplit",
    "KnowledgeRule",
    "Monograph",
    "Protocol",
    "ProtocolName",
    "RenalBandRule",
    "SingleDoseRule",
    "Solution",
    "Strength",
    "Timing",
    "TriggerRule",
    "all_monographs",
    "check_citations",
    "monograph",
    "parse_drug",
    "parse_monograph",
    "parse_titration_rules",
    "titration_rule",
    "titration_rules",
]

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]
PositiveMg = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ProtocolName(Term):
    """The two titration protocols (decision_default_protocols).

    Example:
        >>> ProtocolName("start_low").value
        'start_low'
    """

    STANDARD = "standard"
    """The label's start (or the package default where there is no label)."""
    START_LOW = "start_low"
    """For older adults, reduced renal function or hepatic impairment."""


class Timing(Term):
    """When in the day the doses of a step are taken.

    Example:
        >>> Timing.EVERY_12_H.value
        'every 12 h'
    """

    BEDTIME = "bedtime"
    MORNING = "morning"
    TWICE_DAILY = "twice daily"
    EVERY_12_H = "every 12 h"
    THREE_TIMES_DAILY = "three times daily"
    FOUR_TIMES_DAILY = "four times daily"


class KnowledgeRule(FrozenModel):
    """A rule of the knowledge base: a stable id, its text and its source.

    Attributes:
        rule_id: The stable id results refer to.
        citation: A citation id that resolves with :func:`cluneal.citation`.
        mark: How the rule was checked (``GK`` rules are reported as unverified), or
            ``decision`` for a package decision.
        text: What the rule says.

    Example:
        >>> titration_rule("titration.rounding.down").mark.label
        'package decision'
    """

    rule_id: RuleId
    citation: Annotated[str, Field(min_length=1)]
    mark: SourceMark
    text: Annotated[str, Field(min_length=1)]

    @property
    def verified(self) -> bool:
        """``False`` for general-knowledge (GK) rules, which results mark as unverified."""
        return self.mark.verified


class TriggerRule(KnowledgeRule):
    """A general rule that fires for some patients (the start-low triggers).

    Attributes:
        when: The patients it fires for (:class:`~cluneal.knowledge.criteria.Criteria`).
        reason: Why it fired, as a template over ``age``, ``older_adult_age`` and ``band``.
    """

    when: Criteria
    reason: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _template(self) -> TriggerRule:
        try:
            self.reason.format(age=1.0, older_adult_age=1.0, band="x")
        except (KeyError, IndexError, ValueError) as exc:
            msg = f"reason template {self.reason!r}: {exc}"
            raise ValueError(msg) from exc
        return self


class Strength(FrozenModel):
    """A marketed strength.

    Attributes:
        mg: Milligrams per unit.
        form: ``"capsule"``, ``"tablet"``, ``"scored tablet"``, ...
        scored: Whether a unit may be halved.
    """

    mg: PositiveMg
    form: Annotated[str, Field(min_length=1)]
    scored: bool = False


class Solution(KnowledgeRule):
    """An oral solution usable in some renal bands (gabapentin 50 mg/mL).

    Attributes:
        mg_per_ml: Concentration.
        measure_ml: The smallest volume step a dose is measured in.
        bands: The renal bands in which the solution is offered.
    """

    mg_per_ml: PositiveMg
    measure_ml: PositiveMg
    bands: tuple[RenalBand, ...]


class Compounded(KnowledgeRule):
    """A compounded preparation made in any multiple of a step (low-dose naltrexone).

    Attributes:
        step_mg: Doses are multiples of this.
        form: How the dose is dispensed.
    """

    step_mg: PositiveMg
    form: Annotated[str, Field(min_length=1)]


class Protocol(KnowledgeRule):
    """A titration protocol (decision_default_protocols).

    Attributes:
        name: Standard or start low.
        start_mg_day: Daily doses of the first steps (gabapentin's label: 300, 600, 900).
        start_interval_days: Days between those first steps.
        increment_mg_day: Daily increase per step.
        interval_days: Days between increases.
        increment_above_mg_day: From this daily dose on, increase by ``increment_above``.
        increment_above: The larger increase (tramadol: +50 mg/day above 100 mg/day).
        target_mg_day: The default target.
        once_daily_timing: When a single daily dose is taken.
        ramp_dose_mg: The label climbs one dose a day at a time by this dose
            until the regimen's count (gabapentin 300 mg once, twice, three
            times; tramadol 25 mg once to four times a day).
        starts_once_daily: May begin with one dose a day and move up to the
            regimen's count as soon as equal doses can make the total (start low).
    """

    name: ProtocolName
    start_mg_day: Annotated[tuple[PositiveMg, ...], Field(min_length=1)]
    start_interval_days: Annotated[int, Field(ge=1)] = 1
    increment_mg_day: PositiveMg
    interval_days: Annotated[int, Field(ge=1)]
    increment_above_mg_day: PositiveMg | None = None
    increment_above: PositiveMg | None = None
    target_mg_day: PositiveMg
    once_daily_timing: Literal[Timing.BEDTIME, Timing.MORNING]
    ramp_dose_mg: PositiveMg | None = None
    starts_once_daily: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        if (self.increment_above_mg_day is None) != (self.increment_above is None):
            msg = "increment_above_mg_day and increment_above go together"
            raise ValueError(msg)
        if list(self.start_mg_day) != sorted(self.start_mg_day):
            msg = "start_mg_day must not decrease"
            raise ValueError(msg)
        return self


class DoseSplit(FrozenModel):
    """The drug's regimen counts (doses a day), up to an intended daily dose.

    The lower count is used until a total can only be made with a higher one
    (decision_doses_per_day_never_fall); the renal band and the caps may
    lower both.

    Attributes:
        upto_mg_day: Applies to intended daily doses up to this (``None``: any).
        min_doses: The regimen's lower count.
        max_doses: The regimen's higher count.
    """

    upto_mg_day: PositiveMg | None = None
    min_doses: Annotated[int, Field(ge=1, le=6)]
    max_doses: Annotated[int, Field(ge=1, le=6)]

    @model_validator(mode="after")
    def _consistent(self) -> DoseSplit:
        if self.min_doses > self.max_doses:
            msg = "min_doses exceeds max_doses"
            raise ValueError(msg)
        return self


class CapRule(KnowledgeRule):
    """A maximum daily dose (decision_lowest_cap_wins).

    Attributes:
        when: When it applies (:class:`~cluneal.knowledge.criteria.Criteria`; none: always).
        max_mg_day: The cap.
        max_doses_per_day: A limit on doses per day that comes with it (tramadol q12h).
        max_single_dose_mg: A largest single dose that comes with it (tramadol
            under the hepatic cap: 50 mg).
    """

    when: Criteria = Criteria()
    max_mg_day: PositiveMg
    max_doses_per_day: Annotated[int, Field(ge=1)] | None = None
    max_single_dose_mg: PositiveMg | None = None


class SingleDoseRule(KnowledgeRule):
    """The drug's largest single dose, whatever the count (decision_largest_single_dose).

    Attributes:
        max_mg: The largest single dose.
    """

    max_mg: PositiveMg


class RenalBandRule(KnowledgeRule):
    """One row of a label's renal table (decision_renal_band_boundaries).

    Attributes:
        band: The band.
        columns_mg_day: The label's daily-dose columns; the last is the band's cap.
        max_doses_per_day: Doses per day the band allows (its higher count).
        min_doses_per_day: The band's lower count, when it is below the drug's
            (pregabalin: once or twice daily at CrCl 15-30).
        max_single_dose_mg: The largest single dose in the band (gabapentin:
            the label Table 1 column tops; pregabalin: the band's daily maximum
            over its lowest count).
        regimen: The label's regimen, in words.
        scale_below_ml_min: Below this CrCl, doses are scaled by CrCl / value.
    """

    band: RenalBand
    columns_mg_day: Annotated[tuple[PositiveMg, ...], Field(min_length=1)]
    max_doses_per_day: Annotated[int, Field(ge=1)]
    min_doses_per_day: Annotated[int, Field(ge=1)] | None = None
    max_single_dose_mg: PositiveMg | None = None
    regimen: str
    scale_below_ml_min: PositiveMg | None = None

    @property
    def cap_mg_day(self) -> float:
        """The band's maximum daily dose."""
        return max(self.columns_mg_day)


class DialysisSupplement(KnowledgeRule):
    """A post-haemodialysis supplement, by the maintenance dose it goes with.

    Attributes:
        maintenance_from_mg_day: Applies from this maintenance daily dose on.
        supplement_mg: The supplement scheduled.
        alternative_mg: The label's other value, when it gives two.
    """

    maintenance_from_mg_day: PositiveMg
    supplement_mg: PositiveMg
    alternative_mg: PositiveMg | None = None


class DoseAlertRule(KnowledgeRule):
    """An alert that a schedule carries when its target exceeds a daily dose.

    Attributes:
        above_mg_day: The threshold.
        severity: The alert's severity.
        action: What to do.
    """

    above_mg_day: PositiveMg
    severity: Severity
    action: str | None = None


class Monograph(FrozenModel):
    """Everything the titration engine knows about one drug.

    Attributes:
        drug: The drug.
        title: Display name.
        renally_cleared: Whether unknown renal function forces the most restrictive band.
        max_units_per_dose: Most capsules/tablets in one dose.
        citation: The monograph's main source.
        mark: Its source mark.
        summary: A short description.
        dialysis_note: What haemodialysis means for this drug.
        strengths: Marketed strengths.
        solution: An oral solution, where one is used.
        compounded: A compounded preparation, where one is used.
        protocols: Standard and start-low protocols.
        dose_splits: Regimen counts (doses per day) by intended daily dose.
        max_single_dose: The drug's largest single dose, when the label gives one.
        caps: Maximum daily doses.
        renal_bands: The label's renal table, if it has one.
        dialysis_supplements: Post-haemodialysis supplements.
        dose_alerts: Alerts by daily dose.
        monitoring: Monitoring advice.

    Example:
        >>> monograph("tramadol").cap_rules[-1].rule_id
        'tramadol.cap.hepatic'
    """

    drug: Drug
    title: str
    renally_cleared: bool
    max_units_per_dose: Annotated[int, Field(ge=1)]
    citation: str
    mark: SourceMark
    summary: str
    dialysis_note: str
    strengths: tuple[Strength, ...] = ()
    solution: Solution | None = None
    compounded: Compounded | None = None
    protocols: Annotated[tuple[Protocol, ...], Field(min_length=2, max_length=2)]
    dose_splits: Annotated[tuple[DoseSplit, ...], Field(min_length=1)]
    max_single_dose: SingleDoseRule | None = None
    caps: Annotated[tuple[CapRule, ...], Field(min_length=1)]
    renal_bands: tuple[RenalBandRule, ...] = ()
    dialysis_supplements: tuple[DialysisSupplement, ...] = ()
    dose_alerts: tuple[DoseAlertRule, ...] = ()
    monitoring: tuple[KnowledgeRule, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Monograph:
        if not self.strengths and self.compounded is None:
            msg = "a drug needs strengths or a compounded preparation"
            raise ValueError(msg)
        if {p.name for p in self.protocols} != set(ProtocolName):
            msg = "needs exactly one standard and one start_low protocol"
            raise ValueError(msg)
        if not self.caps[0].when.always:
            msg = "the first cap must be the adult cap (no 'when')"
            raise ValueError(msg)
        if self.renal_bands and {b.band for b in self.renal_bands} != set(RenalBand):
            msg = "renal_bands must cover every band exactly once"
            raise ValueError(msg)
        if self.dose_splits[-1].upto_mg_day is not None:
            msg = "the last dose_split must have no upper limit"
            raise ValueError(msg)
        return self

    def protocol(self, name: ProtocolName) -> Protocol:
        """Return the protocol of that name."""
        return next(p for p in self.protocols if p.name is name)

    def band(self, band: RenalBand) -> RenalBandRule:
        """Return the renal band rule.

        Raises:
            KeyError: The drug has no renal table.
        """
        for rule in self.renal_bands:
            if rule.band is band:
                return rule
        raise KeyError(band)

    def dialysis_supplement_for(self, maintenance_mg_day: float) -> DialysisSupplement | None:
        """The label row for a maintenance dose: the largest maintenance dose not above it.

        Below the first row, the first row (the smallest supplement) applies.
        (decision_dialysis_supplements_follow_maintenance)

        Args:
            maintenance_mg_day: The current maintenance daily dose.

        Returns:
            The row, or ``None`` when the drug has no supplement.

        Example:
            >>> monograph("gabapentin").dialysis_supplement_for(250).supplement_mg
            250.0
        """
        rows = sorted(self.dialysis_supplements, key=lambda r: r.maintenance_from_mg_day)
        if not rows:
            return None
        found = rows[0]
        for row in rows:
            if row.maintenance_from_mg_day <= maintenance_mg_day + 1e-9:
                found = row
        return found

    @property
    def cap_rules(self) -> tuple[CapRule, ...]:
        """The caps, adult cap first."""
        return self.caps

    def rules(self) -> tuple[KnowledgeRule, ...]:
        """Every rule in the monograph (for the id and citation checks)."""
        extra = tuple(
            r for r in (self.solution, self.compounded, self.max_single_dose) if r is not None
        )
        return (
            *extra,
            *self.protocols,
            *self.caps,
            *self.renal_bands,
            *self.dialysis_supplements,
            *self.dose_alerts,
            *self.monitoring,
        )


class _TitrationRules(FrozenModel):
    # A rule with "when" is a trigger; the others are named by the engine.
    rule: tuple[TriggerRule | KnowledgeRule, ...]


def check_citations(source: str, rules: tuple[KnowledgeRule, ...]) -> None:
    """Check that every rule's citation resolves.

    Args:
        source: The file, for the error message.
        rules: The rules.

    Raises:
        KnowledgeBaseError: A citation id is unknown.
    """
    for rule in rules:
        try:
            citation(rule.citation)
        except UnknownTermError as exc:
            raise KnowledgeBaseError(source, f"rule {rule.rule_id!r}: {exc}") from exc


@cache
def titration_rules() -> Mapping[str, KnowledgeRule]:
    """Return the general titration rules by id (read once, validated).

    Returns:
        A read-only mapping from rule id to rule.

    Raises:
        KnowledgeBaseError: The file is missing, malformed or cites an unknown source.

    Example:
        >>> "titration.renal.unknown" in titration_rules()
        True
    """
    return parse_titration_rules(read_toml("titration.toml"))


def parse_titration_rules(raw: Mapping[str, object]) -> Mapping[str, KnowledgeRule]:
    """Validate the parsed ``titration.toml`` (what :func:`titration_rules` reads).

    Args:
        raw: The parsed TOML.

    Returns:
        A read-only mapping from rule id to rule.

    Raises:
        KnowledgeBaseError: Malformed, an unknown citation or a duplicate rule id.
    """
    try:
        table = _TitrationRules.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError("titration.toml", str(exc)) from exc
    check_citations("titration.toml", table.rule)
    out: dict[str, KnowledgeRule] = {}
    for rule in table.rule:
        if rule.rule_id in out:
            raise KnowledgeBaseError("titration.toml", f"duplicate rule id {rule.rule_id!r}")
        out[rule.rule_id] = rule
    return MappingProxyType(out)


def titration_rule(rule_id: str) -> KnowledgeRule:
    """Return one general titration rule.

    Args:
        rule_id: Its id.

    Returns:
        The rule.

    Raises:
        UnknownTermError: No such rule.

    Example:
        >>> titration_rule("titration.renal.dialysis").citation
        'decision_dialysis_lowest_band'
    """
    table = titration_rules()
    try:
        return table[rule_id]
    except KeyError:
        raise UnknownTermError("rule_id", rule_id, sorted(table)) from None


@cache
def all_monographs() -> Mapping[Drug, Monograph]:
    """Return the six monographs, read once and validated.

    Returns:
        A read-only mapping from drug to monograph.

    Raises:
        KnowledgeBaseError: A file is missing or invalid, a citation does not
            resolve, or a rule id is used twice.

    Example:
        >>> len(all_monographs())
        6
    """
    out: dict[Drug, Monograph] = {}
    seen: set[str] = set(titration_rules())
    for drug in Drug:
        mono = parse_monograph(drug, read_toml(f"monographs/{drug.value}.toml"))
        source = f"monographs/{drug.value}.toml"
        for rule in mono.rules():
            if rule.rule_id in seen:
                raise KnowledgeBaseError(source, f"duplicate rule id {rule.rule_id!r}")
            seen.add(rule.rule_id)
        out[drug] = mono
    return MappingProxyType(out)


def parse_monograph(drug: Drug, raw: Mapping[str, object]) -> Monograph:
    """Validate one parsed monograph file (what :func:`all_monographs` reads).

    Args:
        drug: The drug the file must describe.
        raw: The parsed TOML.

    Returns:
        The monograph.

    Raises:
        KnowledgeBaseError: Malformed, about another drug, or citing an unknown source.
    """
    source = f"monographs/{drug.value}.toml"
    try:
        mono = Monograph.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError(source, str(exc)) from exc
    if mono.drug is not drug:
        raise KnowledgeBaseError(source, f"describes {mono.drug.value!r}, not {drug.value!r}")
    check_citations(source, mono.rules())
    try:
        citation(mono.citation)
    except UnknownTermError as exc:
        raise KnowledgeBaseError(source, str(exc)) from exc
    return mono


def monograph(drug: Drug | str) -> Monograph:
    """Return one drug's monograph.

    Args:
        drug: A :class:`~cluneal.Drug` or its lower-case name.

    Returns:
        The monograph.

    Raises:
        UnknownTermError: Not one of the six drugs.

    References:
        gabapentin_label, pregabalin_label, tramadol_label, carbamazepine_label,
        nortriptyline_label, bruun_plesner_2020

    Example:
        >>> monograph("nortriptyline").protocol(ProtocolName.START_LOW).start_mg_day
        (10.0,)
    """
    return all_monographs()[parse_drug(drug)]


def parse_drug(drug: object, field: str = "drug") -> Drug:
    """Turn a caller's value into a :class:`~cluneal.Drug`.

    Args:
        drug: A :class:`~cluneal.Drug` or its lower-case name (case and spaces ignored).
        field: The argument name, for the error.

    Returns:
        The drug.

    Raises:
        UnknownTermError: Anything else.

    Example:
        >>> parse_drug(" Gabapentin ")
        <Drug.GABAPENTIN: 'gabapentin'>
    """
    if isinstance(drug, Drug):
        return drug
    if isinstance(drug, str):
        try:
            return Drug(drug.strip().casefold())
        except ValueError:
            pass
    raise UnknownTermError(field, drug, [d.value for d in Drug])
