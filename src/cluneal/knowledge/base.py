"""The knowledge base as one frozen value: every data file read and validated once.

:func:`knowledge_base` returns the built-in one. Every rule-applying public
function takes ``knowledge=`` (default: this built-in base) and every result
reports the ``version`` it used. A caller (or a test) makes a variant with
:meth:`KnowledgeBase.replace`, which checks the whole base again: a variant
that cites an unknown source or repeats a rule id is refused at construction,
never at the first patient that happens to reach it.

Example:
    >>> from cluneal import knowledge_base
    >>> kb = knowledge_base()
    >>> kb.version == knowledge_base().version, kb is knowledge_base()
    (True, True)
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel

from cluneal._checks import KnowledgeMarker, knowledge_argument
from cluneal.drug import Drug
from cluneal.errors import InvalidArgumentError, KnowledgeBaseError, UnknownTermError
from cluneal.evidence import Citation, all_citations
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.codes import CodeTables, code_tables, parse_code_tables
from cluneal.knowledge.complementary import (
    ComplementaryTable,
    complementary_table,
    parse_complementary,
)
from cluneal.knowledge.diagnosis import DiagnosisTable, diagnosis_table, parse_diagnosis_table
from cluneal.knowledge.drugs import (
    DoseAlertRule,
    KnowledgeRule,
    Monograph,
    all_monographs,
    monograph_text,
    parse_monograph,
    parse_titration_rules,
    rule_text,
    titration_rules,
)
from cluneal.knowledge.interventions import (
    InterventionEvidence,
    intervention_evidence,
    parse_intervention_evidence,
)
from cluneal.knowledge.medications import Catalogue, medication_catalogue, parse_medications
from cluneal.knowledge.outcomes import (
    OutcomeParameters,
    outcome_parameters,
    parse_outcome_parameters,
)
from cluneal.knowledge.parameters import (
    ClinicalParameters,
    States,
    clinical_parameters,
    parse_parameters,
)
from cluneal.knowledge.pathway import PathwayTable, parse_pathway_table, pathway_table
from cluneal.knowledge.pharmacotherapy import (
    PharmacotherapyTable,
    parse_pharmacotherapy,
    pharmacotherapy_table,
)
from cluneal.knowledge.renal import RenalTable, parse_renal, renal_table
from cluneal.knowledge.safety_rules import (
    PER_ALERT,
    SafetyRule,
    parse_safety_rules,
    safety_rules,
)
from cluneal.knowledge.texts import knowledge_base_values, render
from cluneal.vocabulary import Condition, HepaticImpairment, Intervention, PathwayStep, RenalBand

if TYPE_CHECKING:
    from cluneal.protocol import LocalProtocol

__all__ = ["KnowledgeBase", "knowledge_base", "resolved"]

# Fields whose value names citation ids, in any table of any file.
_CITATION_FIELDS = frozenset({"citation", "citations", "sources"})
_CITATION_SUFFIXES = ("_citation", "_citations")


@dataclass(frozen=True, slots=True, eq=False)
class KnowledgeBase(KnowledgeMarker):
    """Every table of the knowledge base, validated and cross-checked (frozen).

    Construct it through :func:`knowledge_base` (the built-in base) or
    :meth:`replace` (a variant). Construction runs the checks that span files:
    every citation id resolves in ``citations``, every rule id is unique across
    the whole base, and every message template formats. Before them it fills
    the texts that name another file's values (:mod:`cluneal.knowledge.texts`:
    an alert's older-adult age, a monograph's cap), so a variant's texts say
    its own numbers.

    Attributes:
        version: The version every result reports.
        citations: Every citation and package decision, by id.
        parameters: The clinical parameters the rules act on (ages, thresholds, durations).
        medications: The medication catalogue: generic name to classes.
        renal: The renal bands, weight bases and renal alerts (``renal.toml``).
        titration_rules: The general titration rules, by id (``titration.toml``).
        monographs: One monograph per drug (``monographs/*.toml``).
        safety_rules: Contraindications, interactions and Beers rules (``safety.toml``).
        diagnosis: The diagnostic triad, red flags and classification (``diagnosis.toml``).
        pathway: The treatment pathway (``pathway.toml``).
        pharmacotherapy: First- and second-line choice (``pharmacotherapy.toml``).
        complementary: Complementary measures and their interactions (``complementary.toml``).
        interventions: The evidence behind each intervention (``interventions.toml``).
        codes: LOINC, SNOMED CT, ICD-10-CM and RxNorm codes (``codes.toml``).
        outcomes: The case-series counts the pathway simulation draws from (``outcomes.toml``).
        protocol: The local protocol applied (:meth:`with_protocol`), or ``None``.

    Example:
        >>> from cluneal import knowledge_base
        >>> kb = knowledge_base()
        >>> kb.parameters.older_adult.age_years
        65.0
        >>> older = kb.replace(version="test", parameters=kb.parameters.model_copy(
        ...     update={"older_adult": kb.parameters.older_adult.model_copy(
        ...         update={"age_years": 70.0})}))
        >>> older.version, older.parameters.older_adult.age_years
        ('test', 70.0)
    """

    version: str
    citations: Mapping[str, Citation]
    parameters: ClinicalParameters
    medications: Catalogue
    renal: RenalTable
    titration_rules: Mapping[str, KnowledgeRule]
    monographs: Mapping[Drug, Monograph]
    safety_rules: tuple[SafetyRule, ...]
    diagnosis: DiagnosisTable
    pathway: PathwayTable
    pharmacotherapy: PharmacotherapyTable
    complementary: ComplementaryTable
    interventions: Mapping[Intervention, InterventionEvidence]
    codes: CodeTables
    outcomes: OutcomeParameters
    protocol: LocalProtocol | None = None

    def __post_init__(self) -> None:
        for name, table in _rendered(self).items():
            object.__setattr__(self, name, table)
        _check(self)

    @classmethod
    def from_documents(
        cls, documents: Mapping[str, Mapping[str, Any]], *, version: str = KNOWLEDGE_BASE_VERSION
    ) -> KnowledgeBase:
        """Build a knowledge base from parsed data files; a file not given is the built-in one.

        The keys are the files' paths inside ``cluneal/knowledge`` (``"renal.toml"``,
        ``"monographs/tramadol.toml"``); each value is validated by the same
        loader as the built-in file, then the whole base is checked.

        Args:
            documents: Parsed TOML by file path.
            version: The version the results will report.

        Returns:
            The knowledge base.

        Raises:
            KnowledgeBaseError: A document is malformed, or the base is inconsistent.

        Example:
            >>> from cluneal import KnowledgeBase
            >>> from cluneal.knowledge import read_toml
            >>> raw = read_toml("pathway.toml")
            >>> raw["parameters"]["lasting_relief_weeks"] = 8.0
            >>> kb = KnowledgeBase.from_documents({"pathway.toml": raw}, version="8-weeks")
            >>> kb.pathway.parameters.lasting_relief_weeks, kb.version
            (8.0, '8-weeks')
        """
        unknown = sorted(set(documents) - set(_PARSERS) - {_monograph_path(d) for d in Drug})
        if unknown:
            raise KnowledgeBaseError(unknown[0], "not a file of the knowledge base")
        built = knowledge_base()
        changes: dict[str, Any] = {"version": version}
        for path, raw in documents.items():
            if path in _PARSERS:
                field, parse = _PARSERS[path]
                changes[field] = parse(raw)
        drugs = {d: documents[_monograph_path(d)] for d in Drug if _monograph_path(d) in documents}
        if drugs:
            monographs = dict(built.monographs)
            monographs.update({d: parse_monograph(d, raw) for d, raw in drugs.items()})
            changes["monographs"] = MappingProxyType(monographs)
        return built.replace(**changes)

    def replace(self, **changes: Any) -> KnowledgeBase:
        """Return a copy with some tables replaced, checked again as a whole.

        Args:
            **changes: Field names and their new values.

        Returns:
            The new knowledge base.

        Raises:
            KnowledgeBaseError: The result cites an unknown source, repeats a
                rule id or has a template that does not format.
            UnknownTermError: An unknown field name.

        Example:
            >>> from cluneal import knowledge_base
            >>> knowledge_base().replace(version="clinic-7").version
            'clinic-7'
        """
        fields = sorted(f.name for f in dataclasses.fields(self) if f.init)
        for name in changes:
            if name not in fields:
                raise UnknownTermError("KnowledgeBase.replace", name, fields)
        return dataclasses.replace(self, **changes)

    def with_protocol(self, protocol: LocalProtocol) -> KnowledgeBase:
        """Return a new knowledge base with a clinic's local protocol applied.

        A protocol may only make the package more conservative
        (decision_local_protocol_conservative): anything that would loosen a
        rule of this base raises :class:`~cluneal.errors.LocalProtocolError`
        naming the field, the value and the built-in limit. The new base's
        ``version`` is ``"<this version>+<name>@<version>"`` and its
        :attr:`protocol_sha256` the hash of the protocol's content.

        Args:
            protocol: A :class:`~cluneal.LocalProtocol`.

        Returns:
            The new knowledge base; this one is unchanged.

        Raises:
            LocalProtocolError: The protocol would loosen a rule, or this base
                already carries a protocol.

        Example:
            >>> from cluneal import LocalProtocol, knowledge_base
            >>> kb = knowledge_base().with_protocol(
            ...     LocalProtocol(name="clinic", version="3", block_threshold_percent=70))
            >>> kb.version.endswith("+clinic@3"), kb.diagnosis.default_block_threshold_percent
            (True, 70.0)
        """
        # Checked by its one method: cluneal.protocol imports this module.
        apply = getattr(protocol, "apply_to", None)
        if not callable(apply) or not isinstance(protocol, BaseModel):
            expected = "a LocalProtocol (LocalProtocol(...), .model_validate or .from_toml)"
            raise InvalidArgumentError("protocol", protocol, expected)
        result: KnowledgeBase = apply(self)
        return result

    @property
    def protocol_sha256(self) -> str | None:
        """The sha256 of the local protocol's canonical JSON, or ``None`` without one."""
        return None if self.protocol is None else self.protocol.sha256


@cache
def knowledge_base() -> KnowledgeBase:
    """Return the built-in knowledge base (read, validated and checked once).

    Returns:
        The frozen knowledge base every public function uses by default.

    Raises:
        KnowledgeBaseError: A data file is missing, malformed or inconsistent.

    Example:
        >>> from cluneal import knowledge_base
        >>> knowledge_base().version
        '2026.12.0'
    """
    return KnowledgeBase(
        version=KNOWLEDGE_BASE_VERSION,
        citations=all_citations(),
        parameters=clinical_parameters(),
        medications=medication_catalogue(),
        renal=renal_table(),
        titration_rules=titration_rules(),
        monographs=all_monographs(),
        safety_rules=safety_rules(),
        diagnosis=diagnosis_table(),
        pathway=pathway_table(),
        pharmacotherapy=pharmacotherapy_table(),
        complementary=complementary_table(),
        interventions=intervention_evidence(),
        codes=code_tables(),
        outcomes=outcome_parameters(),
    )


def resolved(knowledge: KnowledgeBase | None) -> KnowledgeBase:
    """The knowledge base a rule applies: the one given, or the built-in one.

    Args:
        knowledge: A ``knowledge=`` argument.

    Returns:
        The knowledge base.

    Raises:
        InvalidArgumentError: Neither a knowledge base nor ``None``.

    Example:
        >>> resolved(None) is knowledge_base()
        True
    """
    given = knowledge_argument(knowledge)
    return knowledge_base() if given is None else given


def _monograph_path(drug: Drug) -> str:
    return f"monographs/{drug.value}.toml"


# The one validator of each data file (citation files and decisions are read as a registry).
_PARSERS: Mapping[str, tuple[str, Callable[[Mapping[str, Any]], object]]] = MappingProxyType(
    {
        "parameters.toml": ("parameters", parse_parameters),
        "medications.toml": ("medications", parse_medications),
        "renal.toml": ("renal", parse_renal),
        "titration.toml": ("titration_rules", parse_titration_rules),
        "safety.toml": ("safety_rules", parse_safety_rules),
        "diagnosis.toml": ("diagnosis", parse_diagnosis_table),
        "pathway.toml": ("pathway", parse_pathway_table),
        "pharmacotherapy.toml": ("pharmacotherapy", parse_pharmacotherapy),
        "complementary.toml": ("complementary", parse_complementary),
        "interventions.toml": ("interventions", parse_intervention_evidence),
        "codes.toml": ("codes", parse_code_tables),
        "outcomes.toml": ("outcomes", parse_outcome_parameters),
    }
)


def _sections(kb: KnowledgeBase) -> Iterator[tuple[str, object]]:
    yield "parameters", kb.parameters
    yield "renal.toml", kb.renal
    yield "titration.toml", tuple(kb.titration_rules.values())
    for drug, mono in kb.monographs.items():
        yield f"monographs/{drug.value}.toml", mono
    yield "safety.toml", kb.safety_rules
    yield "diagnosis.toml", kb.diagnosis
    yield "pathway.toml", kb.pathway
    yield "pharmacotherapy.toml", kb.pharmacotherapy
    yield "complementary.toml", kb.complementary
    yield "interventions.toml", tuple(kb.interventions.values())
    yield "codes.toml", kb.codes
    yield "outcomes.toml", kb.outcomes


def _walk(value: object) -> Iterator[BaseModel]:
    """Every model inside a value (models, tuples, mappings), depth first, fields in order.

    A loop over a stack, not nested generators (the base holds ~1,000 models), and into
    a model's fields only those whose annotation can hold a model (:func:`_nested`).
    """
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, BaseModel):
            yield item
            push([getattr(item, name) for name in _nested(type(item))])
        elif isinstance(item, tuple | list):
            push(item[::-1])
        elif isinstance(item, Mapping):
            push(list(item.values())[::-1])


@cache
def _nested(model: type[BaseModel]) -> tuple[str, ...]:
    """A model class's fields that can hold a model, last first (the walk's stack order)."""
    names = [n for n, f in model.model_fields.items() if _can_hold_model(f.annotation)]
    return tuple(reversed(names))


def _can_hold_model(annotation: object) -> bool:
    """Whether a field of this annotation can hold a model (``True`` when unsure)."""
    if annotation is Any or annotation is object:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return _can_hold_model(get_args(annotation)[0])
    if origin is not None:
        return any(_can_hold_model(a) for a in get_args(annotation) if a is not Ellipsis)
    if isinstance(annotation, type):
        return issubclass(annotation, BaseModel)
    return annotation is not None


_TEMPLATE_FIELDS = ("message", "text", "action", "rationale")
# Values that hold no model (most fields): skipped before the slower abstract-class checks.
_SCALARS = (str, int, float, type(None))


@cache
def _layout(model: type[BaseModel]) -> tuple[tuple[str, ...], bool, tuple[str, ...]]:
    """Per model class: its citation fields, whether it has a rule id, its template fields."""
    names = tuple(model.model_fields)
    cited = tuple(n for n in names if n in _CITATION_FIELDS or n.endswith(_CITATION_SUFFIXES))
    templates = tuple(n for n in _TEMPLATE_FIELDS if n in names)
    return cited, "rule_id" in names, templates


def _cited(model: BaseModel, fields: tuple[str, ...]) -> Iterator[str]:
    for name in fields:
        value = getattr(model, name)
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, str))


def _rendered(kb: KnowledgeBase) -> dict[str, Any]:
    """The tables whose texts name other files' values, filled from this base (knowledge.texts).

    Each rule keeps its texts as read, so a variant of the base fills them again; a
    table whose texts come out the same is left as it is.
    """
    values = knowledge_base_values(kb, lambda: _rule_models(kb))

    def each(rules: tuple[Any, ...], source: str, later: frozenset[str] = frozenset()) -> Any:
        done = tuple(render(r, values, later=later, source=source) for r in rules)
        return None if all(n is o for n, o in zip(done, rules, strict=True)) else done

    changes: dict[str, Any] = {}
    if (rules := each(kb.safety_rules, "safety.toml", PER_ALERT)) is not None:
        changes["safety_rules"] = rules
    if (skips := each(kb.pharmacotherapy.skips, "pharmacotherapy.toml")) is not None:
        changes["pharmacotherapy"] = kb.pharmacotherapy.model_copy(update={"skips": skips})
    if (steps := each(kb.pathway.transitions, "pathway.toml")) is not None:
        changes["pathway"] = kb.pathway.model_copy(update={"transitions": steps})
    alerts = {}
    for name in ("obesity_no_height", "low_creatinine_older_adult"):
        alert = getattr(kb.renal, name)
        below = alert.below_mg_dl
        umol = None if below is None else below * kb.parameters.creatinine.umol_l_per_mg_dl
        new = render(alert, {**values, "below_umol_l": umol}, source="renal.toml")
        if new is not alert:
            alerts[name] = new
    if alerts:
        changes["renal"] = kb.renal.model_copy(update=alerts)
    return changes


def _rule_models(kb: KnowledgeBase) -> Iterator[BaseModel]:
    """Every model of the base, those the texts name first (monographs' rules, landmarks)."""
    for mono in kb.monographs.values():
        yield from mono.rules()
    yield from kb.diagnosis.landmark
    for _, section in _sections(kb):
        yield from _walk(section)


def _check(kb: KnowledgeBase) -> None:
    if not kb.version:
        raise KnowledgeBaseError("version", "the version must not be empty")
    if set(kb.monographs) != set(Drug):
        raise KnowledgeBaseError("monographs", "every drug needs exactly one monograph")
    _check_states(kb.parameters)
    _check_partner_names(kb)
    _check_procedures(kb.outcomes)
    _check_rule_texts(kb)
    seen: dict[str, str] = {}
    for source, section in _sections(kb):
        for model in _walk(section):
            cited_fields, has_rule_id, template_fields = _layout(type(model))
            rule_id = model.rule_id if has_rule_id else None  # type: ignore[attr-defined]
            for cited in _cited(model, cited_fields):
                if cited not in kb.citations:
                    where = rule_id or type(model).__name__
                    unknown = UnknownTermError("citation", cited, sorted(kb.citations))
                    raise KnowledgeBaseError(source, f"{where!r}: {unknown}")
            if isinstance(rule_id, str):
                if rule_id in seen and seen[rule_id] != f"{source}:{id(model)}":
                    raise KnowledgeBaseError(source, f"duplicate rule id {rule_id!r}")
                seen[rule_id] = f"{source}:{id(model)}"
            for name in template_fields:
                template = getattr(model, name)
                if isinstance(template, str):
                    _check_template(source, model, template)


def _check_rule_texts(kb: KnowledgeBase) -> None:
    """Every monograph and titration rule text, summary and dialysis note fills in (real names)."""
    sources: list[tuple[str, KnowledgeRule]] = [
        ("titration.toml", rule) for rule in kb.titration_rules.values()
    ]
    for drug, mono in kb.monographs.items():
        sources.extend((_monograph_path(drug), rule) for rule in mono.rules())
    for source, rule in sources:
        templates = [rule.text]
        if isinstance(rule, DoseAlertRule) and rule.action is not None:
            templates.append(rule.action)
        for template in templates:
            try:
                rule_text(rule, kb, template)
            except (KeyError, IndexError, ValueError, AttributeError) as exc:
                detail = f"{rule.rule_id!r}: template {template!r} does not fill in ({exc!r})"
                raise KnowledgeBaseError(source, detail) from exc
    for drug, mono in kb.monographs.items():
        for name in ("summary", "dialysis_note"):
            template = getattr(mono, name)
            try:
                monograph_text(template, kb)
            except (KeyError, IndexError, ValueError, AttributeError) as exc:
                detail = f"{name}: template {template!r} does not fill in ({exc!r})"
                raise KnowledgeBaseError(_monograph_path(drug), detail) from exc


def _check_template(source: str, model: BaseModel, template: str) -> None:
    try:
        list(string.Formatter().parse(template))
    except ValueError as exc:
        where = getattr(model, "rule_id", None) or type(model).__name__
        raise KnowledgeBaseError(source, f"{where!r}: template {template!r}: {exc}") from exc


def _check_partner_names(kb: KnowledgeBase) -> None:
    for rule in kb.safety_rules:
        names = (*getattr(rule, "partner_names", ()), *getattr(rule, "except_names", ()))
        unknown = [n for n in names if n not in kb.medications]
        if unknown:
            raise KnowledgeBaseError(
                "safety.toml",
                f"{rule.rule_id!r}: partner_names and except_names must be in the medication "
                f"catalogue: {unknown}",
            )


def _check_states(parameters: ClinicalParameters) -> None:
    vocabularies: dict[str, frozenset[str]] = {
        "bands": frozenset(RenalBand),
        "impairment": frozenset(HepaticImpairment),
        "conditions": frozenset(Condition),
    }
    for name in ("renal_restricted", "hepatic_significant", "hepatic_start_low"):
        states: States = getattr(parameters, name)
        for field, allowed in vocabularies.items():
            unknown = sorted(set(getattr(states, field)) - allowed)
            if unknown:
                raise KnowledgeBaseError("parameters.toml", f"{name}.{field}: unknown {unknown}")


def _check_procedures(outcomes: OutcomeParameters) -> None:
    steps = frozenset(PathwayStep)
    for count in (*outcomes.response, *outcomes.relapse):
        if count.procedure not in steps:
            unknown = UnknownTermError("procedure", count.procedure, sorted(steps))
            raise KnowledgeBaseError("outcomes.toml", f"{count.rule_id!r}: {unknown}")
