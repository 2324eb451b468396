"""Safety rules as validated data: contraindications, interactions, Beers 2023.

The rules live in ``knowledge/safety.toml`` (decision_contraindications_refuse; labels, Beers 2023).
They are read once, validated into frozen models (a discriminated union on
``kind``) and checked for unique rule ids, resolvable citations and message
templates that format; any problem raises
:class:`~cluneal.errors.KnowledgeBaseError`.

Example:
    >>> rules = safety_rules()
    >>> next(r for r in rules if r.rule_id == "interaction.tramadol.tca").severity
    <Severity.MAJOR: 'major'>
"""

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, PrivateAttr, TypeAdapter, ValidationError, model_validator

from cluneal._base import FrozenModel

# Pydantic resolves these annotations at runtime: they cannot move under TYPE_CHECKING.
from cluneal.alerts import Severity
from cluneal.drug import Drug
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.knowledge.drugs import KnowledgeRule, check_citations, titration_rules
from cluneal.knowledge.texts import BASE_NAMES, checked, names, own_values
from cluneal.vocabulary import MedicationClass

__all__ = [
    "CnsCountRule",
    "InteractionRule",
    "PatientRule",
    "SafetyRule",
    "UnscreenedRule",
    "parse_safety_rules",
    "safety_rules",
]


class _AlertRule(KnowledgeRule):
    """The fields every safety rule shares: it produces one kind of alert."""

    text: str = ""
    severity: Severity
    message: Annotated[str, Field(min_length=1)]
    action: str | None = None
    # The patients it concerns, in the one condition language (none: every patient).
    when: Criteria = Criteria()

    # The texts naming values of other files, as read: the knowledge base fills them.
    _templates: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _template(self) -> Self:
        for field in ("message", "action"):
            text = getattr(self, field)
            if text is None:
                continue
            try:
                unknown = names(text) - PER_ALERT - BASE_NAMES
            except ValueError as exc:
                msg = f"{field} template {text!r}: {exc}"
                raise ValueError(msg) from exc
            if unknown:
                msg = f"{field} template {text!r}: unknown placeholders {sorted(unknown)}"
                raise ValueError(msg)
            if names(text) & BASE_NAMES:
                self._templates[field] = (text, None)
        return self


class PatientRule(_AlertRule):
    """An alert about a drug for a patient with given features.

    Every criterion of ``when`` must hold (:class:`~cluneal.knowledge.criteria.Criteria`);
    a rule without criteria always fires for each of its drugs. ``allergy_listed``
    holds drug by drug: the alert names each drug the patient's allergies list.

    Attributes:
        drugs: The drugs it concerns.
    """

    kind: Literal["patient"]
    drugs: Annotated[tuple[Drug, ...], Field(min_length=1)]


class InteractionRule(_AlertRule):
    """An alert about a drug combined with another of the six or a co-medication.

    Attributes:
        drug: The drug the rule is written for.
        partner_drugs: Partners among the six.
        partner_classes: Partner classes of co-medication.
        partner_names: Partner co-medications by generic name (each known to the
            medication catalogue), where a class would be too broad
            (carbamazepine with apixaban or rivaroxaban).
        except_names: Members of ``partner_classes`` left to a rule of their own.
        include_recent: Also count medications stopped within 14 days.
    """

    kind: Literal["interaction"]
    drug: Drug
    partner_drugs: tuple[Drug, ...] = ()
    partner_classes: tuple[MedicationClass, ...] = ()
    partner_names: tuple[str, ...] = ()
    except_names: tuple[str, ...] = ()
    include_recent: bool = False

    @model_validator(mode="after")
    def _has_partner(self) -> Self:
        if not self.partner_drugs and not self.partner_classes and not self.partner_names:
            msg = "an interaction needs partner_drugs, partner_classes or partner_names"
            raise ValueError(msg)
        # That each name is in the medication catalogue is checked with the whole
        # knowledge base (cluneal.knowledge.base), against its own catalogue.
        return self


class CnsCountRule(_AlertRule):
    """Beers 2023: this many or more CNS-active drugs.

    Attributes:
        threshold: The number of CNS-active drugs from which it fires.
    """

    kind: Literal["cns_count"]
    threshold: Annotated[int, Field(ge=2)]


class UnscreenedRule(_AlertRule):
    """Co-medications the knowledge base cannot classify were not screened."""

    kind: Literal["unscreened"]


PER_ALERT: Final = frozenset({"drug", "partners"})
"""The names a safety rule's message is filled with per alert (by the screening)."""

SafetyRule = Annotated[
    PatientRule | InteractionRule | CnsCountRule | UnscreenedRule, Field(discriminator="kind")
]
"""One safety rule (a discriminated union on ``kind``)."""


class _SafetyFile(FrozenModel):
    rule: tuple[SafetyRule, ...]


_ADAPTER = TypeAdapter(_SafetyFile)


def _filled(raw: Mapping[str, object], source: str) -> Mapping[str, object]:
    """The file with each rule's texts filled from the rule's own numbers (``{age_over_years:g}``).

    Names of other files' values (:data:`~cluneal.knowledge.texts.BASE_NAMES`) and the
    per-alert ``{drug}`` and ``{partners}`` stay for later.
    """
    rows = raw.get("rule")
    if not isinstance(rows, list):
        return raw  # the model reports what is wrong
    return {**raw, "rule": [_filled_rule(row, source) for row in rows]}


def _filled_rule(row: Any, source: str) -> Any:
    if not isinstance(row, dict):
        return row
    own = own_values(row)
    out = dict(row)
    for field in ("message", "action"):
        if isinstance(row.get(field), str):
            where = f"{row.get('rule_id')}.{field}"
            later = PER_ALERT | BASE_NAMES
            out[field] = checked(row[field], own, later=later, source=source, where=where)
    return out


@cache
def safety_rules() -> tuple[PatientRule | InteractionRule | CnsCountRule | UnscreenedRule, ...]:
    """Return every safety rule, read once and validated.

    Returns:
        The rules in file order, as read: a text that names another file's value
        (a monograph's cap) is filled in ``knowledge_base().safety_rules``.

    Raises:
        KnowledgeBaseError: The file is malformed, a citation does not resolve,
            a rule id is used twice or a message template does not format.

    References:
        beers_2023, decision_contraindications_refuse

    Example:
        >>> len({r.rule_id for r in safety_rules()}) == len(safety_rules())
        True
    """
    return parse_safety_rules(read_toml("safety.toml"))


def parse_safety_rules(
    raw: Mapping[str, object],
) -> tuple[PatientRule | InteractionRule | CnsCountRule | UnscreenedRule, ...]:
    """Validate the parsed ``safety.toml`` (what :func:`safety_rules` reads).

    Args:
        raw: The parsed TOML.

    Returns:
        The rules in file order.

    Raises:
        KnowledgeBaseError: Malformed, an unknown citation, a duplicate rule id,
            a message template that does not format, or a text that writes one of
            its rule's numbers literally instead of naming it (``{age_over_years:g}``).
    """
    source = "safety.toml"
    try:
        table = _ADAPTER.validate_python(_filled(raw, source))
    except ValidationError as exc:
        raise KnowledgeBaseError(source, str(exc)) from exc
    check_citations(source, table.rule)
    seen: set[str] = set(titration_rules())
    for rule in table.rule:
        if rule.rule_id in seen:
            raise KnowledgeBaseError(source, f"duplicate rule id {rule.rule_id!r}")
        seen.add(rule.rule_id)
    return table.rule
