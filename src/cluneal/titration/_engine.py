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

from cluneal._base import assembled
from cluneal._lazy_text import Deferred
from cluneal._numbers import clinical_number
from cluneal._renal_assess import assess
from cluneal._renal_weight import age_in_years
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.errors import ContraindicatedError, ExcludedDrugError
from cluneal.knowledge.criteria import PatientFacts, facts_for
from cluneal.safety import screen
from cluneal.titration import _choice, _plan, _text
from cluneal.titration._choice import MEMO_BOUND, age_words, choice_for
from cluneal.titration._models import TitrationSchedule
from cluneal.titration._plan import Plan, plan_for
from cluneal.titration._tables import (
    DrugTable,
    Tables,
    rule_adjustment,
    rule_alert,
    tables,
)
from cluneal.vocabulary import RenalBand, WeightBasis

if TYPE_CHECKING:
    import datetime as dt

    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.drugs import ProtocolName, RenalBandRule
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
            rule_alert(
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


def _no_dose(table: DrugTable, compiled: Tables, permitted: float) -> ContraindicatedError:
    rule = compiled.rules["titration.no_achievable_dose"]
    message = _text.NO_DOSE.format(drug=table.name, cap=clinical_number(permitted, down=True))
    return ContraindicatedError(
        table.name,
        (rule_alert(Severity.CONTRAINDICATED, table.name, message, rule, _text.NO_DOSE_ACTION),),
    )


def _scaled_words(below: float, crcl: float, scale: float, cap_mg: float) -> str:
    return _text.SCALED.format(
        below=below,
        crcl=crcl,
        scale=scale,
        cap=cap_mg,
        scaled=clinical_number(cap_mg * scale, down=True),
    )


def clear_memos() -> None:
    """Empty the engine's memos (screening, choices, plans, words, step plans).

    For tests and the benchmark's cold runs: every schedule after it is
    composed from the compiled tables again.
    """
    _choice.clear()
    _plan.clear()
    _SCREENED.clear()
    _renal_words.cache_clear()


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
        if len(_SCREENED) >= MEMO_BOUND:
            _SCREENED.clear()
        _SCREENED[key] = found
    return found


_SCREENED: dict[tuple[object, ...], tuple[SafetyAlert, ...]] = {}


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
    choice = choice_for(compiled, table, band, facts, protocol, target_mg_day)
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
    plan = plan_for(compiled, choice, scale, day0, renal.on_dialysis)
    if not isinstance(plan, Plan):
        raise _no_dose(table, compiled, plan)
    start_low, words_alerts = (
        choice.words if choice.words is not None else age_words(compiled, choice, facts.age_years)
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
    return assembled(
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
