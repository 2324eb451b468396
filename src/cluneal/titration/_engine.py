"""The titration engine: one schedule from a compiled knowledge base and a patient's facts.

The public entry is :func:`cluneal.titration.titration_schedule`. Its work is
split so that a care plan pays for the patient once, not once per drug:

* :func:`prepare` computes what every drug's schedule reads about the
  patient: the renal assessment, the age and the criteria facts (plain values);
* :func:`schedule_for` builds one drug's schedule from those, the drug's
  screening alerts and the compiled tables (:mod:`cluneal.titration._tables`).

The rules, in order (decision_start_low, decision_lowest_cap_wins,
decision_renal_band_boundaries, decision_doses_per_day_never_fall and
after): protocol, caps, renal band and scaling, target, composed steps
(memoised: they depend on the knowledge base and a few scalars, never on the
patient directly), then the adjustments and alerts that explain them.
Results are built from values already checked; the schedule's invariants
(:func:`~cluneal.titration._models.check_invariants`) run once per step plan,
which every schedule sharing it reuses.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._base import trusted
from cluneal._lazy_text import Deferred
from cluneal._numbers import clinical_number
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.errors import ContraindicatedError, ExcludedDrugError
from cluneal.knowledge.criteria import Facts, PatientFacts, facts_for, matches
from cluneal.knowledge.drugs import ProtocolName
from cluneal.renal import age_in_years, assess
from cluneal.safety import screen
from cluneal.titration import _text
from cluneal.titration._models import SupplementalInstruction, TitrationSchedule, TitrationStep
from cluneal.titration._steps import compose_plan, plan_steps
from cluneal.titration._supplements import supplements
from cluneal.titration._tables import DrugTable, Tables, built, rule_adjustment, tables
from cluneal.vocabulary import RenalBand, WeightBasis

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from cluneal._compose import ComposedStep
    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.drugs import CapRule, KnowledgeRule, Protocol, RenalBandRule
    from cluneal.knowledge.monograph import Solution
    from cluneal.knowledge.titration_rules import TriggerRule
    from cluneal.patient import Patient
    from cluneal.renal import RenalAssessment
    from cluneal.titration._models import Adjustment

__all__ = ["PatientInputs", "clear_memos", "prepare", "schedule_for", "screened_for"]

_EPS: Final = 1e-9
# A schedule is built with every field given (its ``model_fields_set``).
_SCHEDULE_FIELDS: Final = frozenset(TitrationSchedule.model_fields)


class PatientInputs:
    """What every drug's schedule reads about one patient, computed once.

    A plain class with slots (one per schedule or care plan: built cheaply).

    Attributes:
        tables: The compiled knowledge base.
        patient: The patient (validated).
        renal: The renal assessment (done once).
        age: The age in years.
        crcl: The CrCl in mL/min, or ``None``.
        default_basis: The caller left the weight basis to the package default.
        facts: The patient's facts in the knowledge base, with the assessment's
            renal band (:func:`~cluneal.knowledge.criteria.facts_for`).
    """

    __slots__ = ("age", "crcl", "default_basis", "facts", "patient", "renal", "tables")

    def __init__(  # noqa: PLR0917 - the inputs, in order
        self,
        tables: Tables,
        patient: Patient,
        renal: RenalAssessment,
        age: float,
        crcl: float | None,
        default_basis: bool,  # noqa: FBT001 - a value, as the others
        facts: PatientFacts,
    ) -> None:
        self.tables = tables
        self.patient = patient
        self.renal = renal
        self.age = age
        self.crcl = crcl
        self.default_basis = default_basis
        self.facts = facts

    def facts_normal(self) -> PatientFacts:
        """The facts with the normal band: a drug not renally cleared, renal function unknown."""
        knowledge = self.tables.knowledge
        return facts_for(self.patient, knowledge, RenalBand.NORMAL.value, age_years=self.age)


def prepare(
    patient: Patient,
    knowledge: KnowledgeBase,
    *,
    weight_basis: WeightBasis | None = None,
    renal: RenalAssessment | None = None,
) -> PatientInputs:
    """Compute a patient's inputs to the engine once (renal assessment and facts).

    Args:
        patient: A validated patient.
        knowledge: The knowledge base (:func:`~cluneal.knowledge.base.resolved`).
        weight_basis: The parsed weight basis (``None``: the package default).
        renal: The renal assessment, when the caller has done it with the same
            patient, weight basis and knowledge base.

    Returns:
        The inputs :func:`schedule_for` takes.
    """
    compiled = tables(knowledge)
    if renal is None:
        renal = assess(patient, weight_basis, knowledge.renal, knowledge)
    age = age_in_years(patient)
    facts = facts_for(patient, knowledge, renal.band.value, age_years=age)
    return PatientInputs(
        compiled, patient, renal, age, renal.crcl_ml_min, weight_basis is None, facts
    )


def _alert(  # noqa: PLR0917 - one alert, every part named
    severity: Severity,
    drug: str,
    message: str,
    rule: KnowledgeRule,
    action: str | None,
    citation: str | None = None,
) -> SafetyAlert:
    return trusted(
        SafetyAlert,
        severity=severity,
        drugs=(drug,),
        message=message,
        rule_id=rule.rule_id,
        citation=rule.citation if citation is None else citation,
        action=action,
    )


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
        alert = _alert(
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


_WHERE: Final = "\x00"  # where the CrCl goes in a band's words (never in a template)


@lru_cache(maxsize=256)
def _renal_words(  # noqa: PLR0917 - private, memoised on exactly these arguments
    compiled: Tables,
    table: DrugTable,
    band: RenalBand | None,
    known: bool,  # noqa: FBT001 - a cache key, not a flag argument
    missing: tuple[str, ...],
    on_dialysis: bool,  # noqa: FBT001 - a cache key, not a flag argument
) -> tuple[tuple[Adjustment, ...], tuple[SafetyAlert, ...], tuple[str, str] | None]:
    """The renal adjustments and alerts that do not quote the CrCl, and the band's words around it.

    Returns:
        The adjustments and alerts, and ``(before, after)`` when the band's
        adjustment quotes the patient's CrCl (it goes between them).
    """
    rules = compiled.rules
    drug = table.name
    band_rule = None if band is None else table.bands[band]
    adjustments: list[Adjustment] = []
    alerts: list[SafetyAlert] = []
    if table.renally_cleared and not known:
        rule = rules["titration.renal.unknown"]
        named = ", ".join(missing) or "serum_creatinine"
        adjustments.append(rule_adjustment(rule, _text.RENAL_UNKNOWN.format(missing=named)))
        alerts.append(
            _alert(
                Severity.MAJOR,
                drug,
                _text.RENAL_UNKNOWN_ALERT.format(missing=named, drug=drug),
                rule,
                _text.RENAL_UNKNOWN_ACTION,
            )
        )
    if on_dialysis:
        adjustments.append(
            rule_adjustment(
                rules["titration.renal.dialysis"],
                _text.DIALYSIS.format(drug=drug),
                citation=table.mono.citation,
            )
        )
    around = None
    if band_rule is not None and band_rule.band is not RenalBand.NORMAL:
        if on_dialysis:
            where = _text.WHERE_DIALYSIS
        elif known:
            where = _WHERE
        else:
            where = _text.WHERE_UNKNOWN
        words = _text.RENAL_BAND.format(
            band=band_rule.band.value,
            where=where,
            cap=band_rule.cap_mg_day,
            count=band_rule.max_doses_per_day,
            normal=table.bands[RenalBand.NORMAL].cap_mg_day,
            text=table.texts[band_rule.rule_id],
        )
        if where is _WHERE:
            before, after = words.split(_WHERE)
            around = (before, after)
        else:
            adjustments.append(rule_adjustment(band_rule, words))
    return tuple(adjustments), tuple(alerts), around


def _renal_adjustments(
    table: DrugTable,
    inputs: PatientInputs,
    band_rule: RenalBandRule | None,
    adjustments: list[Adjustment],
    alerts: list[SafetyAlert],
) -> None:
    renal = inputs.renal
    # Keyed on the band (a rule model would be hashed field by field on every call).
    band = None if band_rule is None else band_rule.band
    fixed, more, around = _renal_words(
        inputs.tables, table, band, renal.known, renal.missing, renal.on_dialysis
    )
    adjustments.extend(fixed)
    alerts.extend(more)
    crcl = inputs.crcl
    if around is not None and band_rule is not None and crcl is not None:
        where = _text.WHERE_CRCL.format(crcl=crcl)
        adjustments.append(rule_adjustment(band_rule, f"{around[0]}{where}{around[1]}"))


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


def _no_dose(table: DrugTable, compiled: Tables, permitted: float) -> ContraindicatedError:
    rule = compiled.rules["titration.no_achievable_dose"]
    message = _text.NO_DOSE.format(drug=table.name, cap=clinical_number(permitted, down=True))
    return ContraindicatedError(
        table.name,
        (_alert(Severity.CONTRAINDICATED, table.name, message, rule, _text.NO_DOSE_ACTION),),
    )


class _Choice:
    """What a schedule decides from the drug, band, facts and request alone (memoised).

    The protocol, the caps and the limits on doses, with the adjustments and
    alerts that explain them: nothing here reads the patient's CrCl, and the
    age only through which of the tables' ``age_bounds`` it is above. When a
    start-low reason quotes the age (``words is None``), the words are filled
    in per age (:func:`_age_words`).
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
) -> _Choice:
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
    return _Choice(
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
def _age_words(
    compiled: Tables, choice: _Choice, age: float
) -> tuple[tuple[Adjustment, ...], tuple[SafetyAlert, ...]]:
    """A choice's start-low words for one age (memoised: ages repeat, words are pure)."""
    return _start_low_words(
        compiled, choice.table, choice.fired, choice.band, choice.requested, age
    )


def _single_dose_adjustment(table: DrugTable, mg: float, rule: KnowledgeRule) -> Adjustment:
    """The largest single dose's adjustment: the same words for every schedule (memoised)."""
    key = (table, rule.rule_id, mg)
    found = _STATIC.get(key)
    if found is None:
        text = _text.SINGLE_DOSE.format(mg=mg, text=table.texts[rule.rule_id])
        found = _STATIC[key] = rule_adjustment(rule, text, citation=table.mono.citation)
    return found


def _solution_adjustment(table: DrugTable, solution: Solution) -> Adjustment:
    """The oral solution's adjustment: the same words for every schedule (memoised)."""
    key = (table, solution.rule_id, 0.0)
    found = _STATIC.get(key)
    if found is None:
        text = _text.SOLUTION.format(mg_per_ml=solution.mg_per_ml)
        found = _STATIC[key] = rule_adjustment(solution, text)
    return found


# Adjustments that depend only on a compiled drug table (a few per drug; the key holds it).
_STATIC: dict[tuple[DrugTable, str, float], Adjustment] = {}


def _first_smallest_words(dose: float, permitted: float) -> str:
    return _text.FIRST_SMALLEST.format(dose=dose, cap=clinical_number(permitted, down=True))


def _rounded_down_words(goal: float, final: float) -> str:
    return _text.ROUNDED_DOWN.format(goal=clinical_number(goal, down=True), final=final)


def _scaled_words(below: float, crcl: float, scale: float, cap_mg: float) -> str:
    return _text.SCALED.format(
        below=below,
        crcl=crcl,
        scale=scale,
        cap=cap_mg,
        scaled=clinical_number(cap_mg * scale, down=True),
    )


def _now(render: Callable[..., str], *args: float) -> str:
    return render(*args)


def _deferred(render: Callable[..., str], *args: float) -> Deferred:
    return Deferred(render, *args)


class _Plan:
    """A choice's steps with what explains them (memoised when no CrCl scales them).

    Attributes:
        steps: The steps.
        permitted: The cap after any CrCl scaling (mg/day).
        target: The target after capping and scaling (mg/day).
        after: The adjustments reported after the caps (the largest single
            dose, a smallest first dose, rounding, the oral solution, a local
            protocol's strengths).
        alerts: A local protocol's first-dose alert and the dose alerts.
        supplements: Post-haemodialysis instructions.
    """

    __slots__ = ("after", "alerts", "permitted", "steps", "supplements", "target")

    def __init__(
        self,
        *,
        steps: tuple[TitrationStep, ...],
        permitted: float,
        target: float,
        after: tuple[Adjustment, ...],
        alerts: tuple[SafetyAlert, ...],
        supplements: tuple[SupplementalInstruction, ...],
    ) -> None:
        self.steps = steps
        self.permitted = permitted
        self.target = target
        self.after = after
        self.alerts = alerts
        self.supplements = supplements


def _plan(  # noqa: PLR0917 - private, every argument is needed
    compiled: Tables,
    choice: _Choice,
    scale: float,
    day0: dt.date | None,
    on_dialysis: bool,  # noqa: FBT001 - a cache key, not a flag argument
    compose: Callable[..., tuple[tuple[TitrationStep, ...], bool, tuple[ComposedStep, ...]]],
) -> _Plan | float:
    """The plan, or the permitted daily dose when no dose the strengths make is within it."""
    table = choice.table
    band_rule = choice.band_rule
    solution = table.mono.solution
    use_solution = scale < 1.0 and solution is not None and choice.band in solution.bands
    single = choice.single
    cap_mg = choice.cap_mg
    goal = choice.goal
    steps, used_solution, composed = compose(
        table,
        choice.proto.name,
        goal,
        cap_mg,
        None if band_rule is None else band_rule.band,
        choice.max_doses,
        None if single is None else single[0],
        choice.spaced,
        scale,
        use_solution,
        day0,
    )
    permitted = cap_mg * scale
    if not steps:
        return permitted
    after: list[Adjustment] = []
    alerts: list[SafetyAlert] = []
    if single is not None and any(
        c.intended_mg_day / c.doses_per_day > single[0] + _EPS for c in composed
    ):
        after.append(_single_dose_adjustment(table, single[0], single[1]))
    first = composed[0]
    # Scaled by a patient's CrCl, a plan is built for one schedule: the words that
    # format its numbers for people are rendered only if read.
    words = _deferred if scale < 1.0 else _now
    if first.smallest:
        after.append(
            rule_adjustment(
                compiled.rules["titration.first_step.smallest_dose"],
                words(_first_smallest_words, first.dose_mg, permitted),
            )
        )
    final = steps[-1].daily_dose_mg
    if final < goal * scale - _EPS:
        after.append(
            rule_adjustment(
                compiled.rules["titration.rounding.down"],
                words(_rounded_down_words, goal * scale, final),
            )
        )
    if used_solution and solution is not None:
        after.append(_solution_adjustment(table, solution))
    local = compiled.protocol
    if table.stocked is not None:
        after.append(table.stocked)
        if first.smallest and local is not None:
            limits_rules = protocol_limits()
            alerts.append(
                trusted(
                    SafetyAlert,
                    severity=Severity.MODERATE,
                    drugs=(table.name,),
                    message=_text.STOCKED_FIRST.format(
                        dose=first.dose_mg,
                        protocol=local.label,
                        intended=clinical_number(first.intended_mg_day, down=True),
                    ),
                    rule_id=limits_rules.rules.first_dose,
                    citation=limits_rules.citation,
                    action=_text.STOCKED_FIRST_ACTION,
                )
            )
    alerts.extend(
        _alert(
            rule.severity,
            table.name,
            table.texts[rule.rule_id],
            rule,
            table.actions[rule.rule_id],
        )
        for rule in table.mono.dose_alerts
        if final > rule.above_mg_day + _EPS
    )
    return _Plan(
        steps=steps,
        permitted=permitted,
        target=goal * scale,
        after=tuple(after),
        alerts=tuple(alerts),
        supplements=supplements(table, on_dialysis, steps, permitted, compiled.rules),
    )


# The memos of choices and plans: pure functions of their keys (plain values and
# the compiled tables, held by the key), bounded (emptied when full). A service or
# a cohort sees few distinct keys, so most schedules reuse both.
_MEMO_BOUND: Final = 4096
_CHOICES: dict[tuple[object, ...], _Choice] = {}
_PLANS: dict[tuple[object, ...], _Plan | float] = {}


def clear_memos() -> None:
    """Empty the engine's memos (screening, choices, plans, words, step plans).

    For tests and the benchmark's cold runs: every schedule after it is
    composed from the compiled tables again.
    """
    _CHOICES.clear()
    _PLANS.clear()
    _STATIC.clear()
    _SCREENED.clear()
    _age_words.cache_clear()
    _renal_words.cache_clear()
    plan_steps.cache_clear()


def screened_for(inputs: PatientInputs, drug: Drug) -> tuple[SafetyAlert, ...]:
    """The drug's screening alerts for the patient (``safety.screen`` of the drug alone).

    With no co-medication, screening one drug reads only the facts' atoms, which
    of the safety rules' age bounds the age is above, and whether the patient's
    allergies name the drug: its alerts are memoised on those. With
    co-medications it is screened afresh.

    Args:
        inputs: From :func:`prepare`.
        drug: The drug.

    Returns:
        The alerts, unsorted, as ``screen((drug,), ...)`` returns them.
    """
    patient = inputs.patient
    compiled = inputs.tables
    facts = inputs.facts
    if patient.medications or patient.recent_medications:
        return screen((drug,), patient, inputs.age, knowledge=compiled.knowledge, facts=facts)
    key = (
        compiled,
        drug,
        facts.atoms,
        bisect_left(compiled.screening_age_bounds, facts.age_years),
        drug in patient.allergies,
    )
    found = _SCREENED.get(key)
    if found is None:
        found = screen((drug,), patient, inputs.age, knowledge=compiled.knowledge, facts=facts)
        if len(_SCREENED) >= _MEMO_BOUND:
            _SCREENED.clear()
        _SCREENED[key] = found
    return found


_SCREENED: dict[tuple[object, ...], tuple[SafetyAlert, ...]] = {}


def _choice_for(  # noqa: PLR0917 - private, every argument is needed
    compiled: Tables,
    table: DrugTable,
    band: RenalBand,
    facts: PatientFacts,
    requested: ProtocolName | None,
    target_mg_day: float | None,
) -> _Choice:
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
        if len(_CHOICES) >= _MEMO_BOUND:
            _CHOICES.clear()
        _CHOICES[key] = choice
    return choice


def _plan_for(
    compiled: Tables,
    choice: _Choice,
    scale: float,
    day0: dt.date | None,
    on_dialysis: bool,  # noqa: FBT001 - a key, not a flag argument
) -> _Plan | float:
    if scale < 1.0:
        # Scaled by the patient's own CrCl: a continuous value, never found again.
        return _plan(compiled, choice, scale, day0, on_dialysis, compose_plan)
    key = (choice, day0, on_dialysis)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _plan(compiled, choice, scale, day0, on_dialysis, plan_steps)
        if len(_PLANS) >= _MEMO_BOUND:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


def schedule_for(
    inputs: PatientInputs,
    drug: Drug,
    screened: tuple[SafetyAlert, ...],
    *,
    target_mg_day: float | None = None,
    protocol: ProtocolName | None = None,
    day0: dt.date | None = None,
) -> TitrationSchedule:
    """Build one drug's schedule from a patient's prepared inputs.

    The seam a care plan uses: :func:`prepare` once per patient, then this
    once per drug, with that drug's screening alerts.

    Args:
        inputs: From :func:`prepare` (the knowledge base is the one prepared with).
        drug: The drug.
        screened: The alerts of ``screen((drug,), patient)`` for this patient.
        target_mg_day: The daily dose to reach, or ``None`` for the protocol's.
        protocol: The protocol asked for, or ``None`` to choose by the rules.
        day0: The calendar date of day 0, or ``None``.

    Returns:
        The schedule.

    Raises:
        ExcludedDrugError: The local protocol excludes the drug.
        ContraindicatedError: A screening alert is a contraindication, or no
            dose the strengths make is within the cap.
    """
    compiled = inputs.tables
    local = compiled.protocol
    if local is not None and drug in local.excluded_drugs:
        raise ExcludedDrugError(drug.value, compiled.version)
    refused = [a for a in screened if a.severity is Severity.CONTRAINDICATED]
    if refused:
        raise ContraindicatedError(drug.value, sort_alerts(refused))
    table = compiled.drugs[drug]
    renal = inputs.renal
    # Unknown renal function restricts only renally cleared drugs
    # (decision_unknown_renal_function); for the others it neither triggers
    # start low nor a cap.
    if table.renally_cleared or renal.known:
        band, facts = renal.band, inputs.facts
    else:
        band, facts = RenalBand.NORMAL, inputs.facts_normal()
    choice = _choice_for(compiled, table, band, facts, protocol, target_mg_day)
    band_rule = choice.band_rule
    # Below the band's threshold (gabapentin's end-stage band): doses in proportion to CrCl.
    crcl = inputs.crcl
    below = None if band_rule is None else band_rule.scale_below_ml_min
    scaled = (
        below is not None
        and crcl is not None
        and renal.known
        and not renal.on_dialysis
        and crcl < below
    )
    scale = crcl / below if scaled and crcl is not None and below is not None else 1.0
    plan = _plan_for(compiled, choice, scale, day0, renal.on_dialysis)
    if not isinstance(plan, _Plan):
        raise _no_dose(table, compiled, plan)
    start_low, words_alerts = (
        choice.words if choice.words is not None else _age_words(compiled, choice, facts.age_years)
    )

    adjustments: list[Adjustment] = []
    alerts: list[SafetyAlert] = [*screened, *words_alerts, *plan.alerts]
    if table.renally_cleared:
        # What may make the clearance estimate mislead, where it sets the dose.
        alerts.extend(renal.alerts)
        if inputs.default_basis and renal.weight_basis is WeightBasis.ADJUSTED:
            adjustments.append(compiled.obesity)
    adjustments.extend(start_low)
    _renal_adjustments(table, inputs, band_rule, adjustments, alerts)
    adjustments.extend(choice.caps)
    if scale < 1.0 and crcl is not None and below is not None:
        adjustments.append(
            rule_adjustment(
                compiled.rules["titration.renal.scaled"],
                Deferred(_scaled_words, below, crcl, scale, choice.cap_mg),
                citation=table.mono.citation,
            )
        )
    adjustments.extend(choice.capped)
    adjustments.extend(plan.after)
    return built(
        TitrationSchedule,
        {
            "drug": drug,
            "protocol": choice.proto.name,
            "steps": plan.steps,
            "max_daily_dose_mg": plan.permitted,
            "max_daily_dose_rule": choice.cap_rule.rule_id,
            "target_daily_dose_mg": plan.target,
            "adjustments": tuple(adjustments),
            "alerts": sort_alerts(alerts),
            "renal": renal,
            "supplemental_instructions": plan.supplements,
            "monitoring": table.monitoring,
            "start_date": day0,
            "knowledge_base_version": compiled.version,
            "protocol_sha256": compiled.protocol_sha256,
        },
        _SCHEDULE_FIELDS,
    )
