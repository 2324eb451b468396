"""A drug's monograph as validated data: strengths, protocols, caps and renal bands.

The models of ``knowledge/monographs/<drug>.toml`` (read by
:mod:`cluneal.knowledge.drugs`): what the titration engine knows about one
drug, each rule with its id and citation.

Example:
    >>> from cluneal.knowledge.drugs import monograph
    >>> m = monograph("gabapentin")
    >>> [s.mg for s in m.strengths]
    [100.0, 300.0, 400.0, 600.0, 800.0]
    >>> m.band(RenalBand.MODERATE).cap_mg_day
    1400.0
"""

from collections.abc import Iterator
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Self

from pydantic import Field, model_validator

from cluneal._base import FrozenModel
from cluneal._vocabulary import Term
from cluneal.evidence import SourceMark
from cluneal.knowledge.criteria import Criteria
from cluneal.knowledge.rule import KnowledgeRule, RuleIndex
from cluneal.knowledge.titration_rules import DIALYSIS_SESSION, DialysisSessionRule
from cluneal.vocabulary import Drug, RenalBand, Severity

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase

__all__ = [
    "MAX_DOSES_PER_DAY",
    "CapRule",
    "Compounded",
    "DialysisSupplement",
    "DoseAlertRule",
    "DoseSplit",
    "DosesPerDay",
    "Monograph",
    "PositiveMg",
    "Protocol",
    "ProtocolName",
    "RenalBandRule",
    "SingleDoseRule",
    "Solution",
    "Strength",
    "Timing",
    "monograph_text",
    "rule_text",
]

# Doses a day spread over 24 hours: arithmetic, not a clinical number.
_HOURS_A_DAY: Final = 24

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


MAX_DOSES_PER_DAY: Final = 4
"""The most doses a day a step can have: the most a :class:`Timing` names ("four times daily").

A structural bound of the data model, not a clinical number: each drug's
counts are its monograph's data (``dose_splits``, the renal bands' and caps'
``max_doses_per_day``, with their rule ids and citations), and a monograph
asking for more than the timings can say is refused when it is read, rather
than scheduled under a wrong timing.
"""

DosesPerDay = Annotated[int, Field(ge=1, le=MAX_DOSES_PER_DAY)]
"""A number of doses a day (1 to :data:`MAX_DOSES_PER_DAY`)."""


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
    def _consistent(self) -> Self:
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
    min_doses: DosesPerDay
    max_doses: DosesPerDay

    @model_validator(mode="after")
    def _consistent(self) -> Self:
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
    max_doses_per_day: DosesPerDay | None = None
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
    max_doses_per_day: DosesPerDay
    min_doses_per_day: DosesPerDay | None = None
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
        >>> from cluneal.knowledge.drugs import monograph
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
    def _consistent(self) -> Self:
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
            >>> from cluneal.knowledge.drugs import monograph
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


def knowledge_values(knowledge: "KnowledgeBase") -> dict[str, Any]:
    """The values every text may name: parameters, band bounds, the dialysis session."""
    parameters = knowledge.parameters
    values: dict[str, Any] = {
        "older_adult_age": parameters.older_adult.age_years,
        "age_over_75": parameters.age_over_75.age_above_years,
    }
    for band in knowledge.renal.bands:
        values[f"crcl_{band.band.value}_lower"] = band.lower_ml_min
    session = knowledge.titration_rules.get(DIALYSIS_SESSION)
    if isinstance(session, DialysisSessionRule):
        values["session_hours"] = session.session_hours
    # Any monograph or titration rule by id ({rules[<rule id>].<field>}).
    values["rules"] = RuleIndex(lambda: _drug_rules(knowledge))
    return values


def _drug_rules(knowledge: "KnowledgeBase") -> Iterator[KnowledgeRule]:
    for mono in knowledge.monographs.values():
        yield from mono.rules()
    yield from knowledge.titration_rules.values()


def _times(count: int, once: Timing) -> str:
    """How often a day, in words ("at bedtime", "twice daily"; counts up to MAX_DOSES_PER_DAY)."""
    return _ONCE_WORDS[once] if count == 1 else _TIMES_WORDS[count]


_ONCE_WORDS: Final = MappingProxyType(
    {Timing.BEDTIME: "at bedtime", Timing.MORNING: "each morning"}
)
_TIMES_WORDS: Final = MappingProxyType(
    {
        2: Timing.TWICE_DAILY.value,
        3: Timing.THREE_TIMES_DAILY.value,
        4: Timing.FOUR_TIMES_DAILY.value,
    }
)


def _owner(rule: KnowledgeRule, knowledge: "KnowledgeBase") -> Monograph | None:
    """The monograph a rule belongs to, by rule id (``None`` outside the monographs)."""
    # A monograph's rule ids start with its drug's name ("pregabalin.protocol.standard").
    head = rule.rule_id.partition(".")[0]
    for mono in knowledge.monographs.values():
        if mono.drug.value == head and any(r.rule_id == rule.rule_id for r in mono.rules()):
            return mono
    return None


def _monograph_values(rule: KnowledgeRule, mono: Monograph) -> dict[str, Any]:
    """What a monograph rule's text may name from the rest of its monograph.

    A protocol's first dose and how often it is taken: one dose a day when the
    protocol starts once daily or climbs one dose at a time (``ramp_dose_mg``),
    otherwise the lower count of the drug's dose split for the first daily dose
    (decision_doses_per_day_never_fall). A renal band's lower count: its own, or
    the drug's, never above the band's higher count. The drug's caps by the
    last part of their rule ids (``{caps[older_adult]:g}``).
    """
    values: dict[str, Any] = {
        "caps": {c.rule_id.rpartition(".")[2]: c.max_mg_day for c in mono.caps},
    }
    if isinstance(rule, Protocol):
        first = rule.start_mg_day[0]
        if rule.starts_once_daily or rule.ramp_dose_mg is not None:
            count = 1
        else:
            split = next(
                s for s in mono.dose_splits if s.upto_mg_day is None or first <= s.upto_mg_day
            )
            count = split.min_doses
        values["start_dose_mg"] = first / count
        values["start_times"] = _times(count, rule.once_daily_timing)
    if isinstance(rule, RenalBandRule):
        lower = rule.min_doses_per_day or mono.dose_splits[0].min_doses
        values["lower_doses_per_day"] = min(lower, rule.max_doses_per_day)
    return values


def monograph_text(text: str, knowledge: "KnowledgeBase") -> str:
    """A monograph's own text (``summary``, ``dialysis_note``) with its placeholders filled in.

    The names are those every rule text may use (see :func:`rule_text`): the
    clinical parameters, the renal bands' CrCl bounds and ``session_hours``.

    Args:
        text: The template.
        knowledge: The knowledge base in use.

    Returns:
        The text.

    Raises:
        KeyError: The template names something that is not there.
        ValueError: The template is malformed.

    Example:
        >>> from cluneal.knowledge.base import knowledge_base
        >>> kb = knowledge_base()
        >>> monograph_text("a supplement after each {session_hours:g} h session", kb)
        'a supplement after each 4 h session'
    """
    return text.format(**knowledge_values(knowledge))


def rule_text(rule: KnowledgeRule, knowledge: "KnowledgeBase", template: str | None = None) -> str:
    """A rule's text with its placeholders filled in.

    A monograph's texts do not restate the numbers the rules act on: they name
    them (``"Older than {age_over_75:g} years: at most {max_mg_day:g} mg/day"``),
    so a changed value changes its explanation too. The names are the rule's own
    fields (and a renal band's ``cap_mg_day``); ``every_hours`` (24 h over the
    rule's ``max_doses_per_day``); for a monograph's rule, ``caps`` (the drug's
    caps by the last part of their rule ids: ``{caps[older_adult]:g}``), a
    protocol's ``start_dose_mg`` and ``start_times`` (its first dose and how
    often it is taken, from its start and the drug's dose split) and a renal
    band's ``lower_doses_per_day``; the clinical parameters'
    ``older_adult_age`` and ``age_over_75``; each renal band's lower CrCl bound
    (``crcl_normal_lower``, ``crcl_moderate_lower``, ``crcl_severe_lower``,
    ``crcl_end_stage_lower``); and the haemodialysis session's ``session_hours``
    (``titration.renal.dialysis_session``); and any monograph or titration rule
    by its id (``{rules[gabapentin.renal.end_stage].scale_below_ml_min:g}``). The
    knowledge base checks every template when it is built.

    Args:
        rule: The rule.
        knowledge: The knowledge base in use.
        template: Another of the rule's texts (a dose alert's ``action``);
            ``None`` for ``rule.text``.

    Returns:
        The text.

    Raises:
        KeyError: The template names something that is not there.
        ValueError: The template is malformed.

    Example:
        >>> from cluneal.knowledge.base import knowledge_base
        >>> kb = knowledge_base()
        >>> rule_text(kb.monographs[Drug.TRAMADOL].caps[1], kb)
        'Older than 75 years: at most 300 mg/day'
        >>> rule_text(kb.monographs[Drug.PREGABALIN].protocols[0], kb)[:26]
        '75 mg twice daily, +150 mg'
    """
    values = knowledge_values(knowledge)
    values.update({name: getattr(rule, name) for name in type(rule).model_fields})
    if isinstance(rule, RenalBandRule):
        values["cap_mg_day"] = rule.cap_mg_day
    count = getattr(rule, "max_doses_per_day", None)
    if isinstance(count, int):
        values["every_hours"] = _HOURS_A_DAY / count
    mono = _owner(rule, knowledge)
    if mono is not None:
        values.update(_monograph_values(rule, mono))
    return (rule.text if template is None else template).format(**values)
