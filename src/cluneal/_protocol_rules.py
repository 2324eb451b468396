"""How a local protocol is checked against a knowledge base and applied to it.

Private machinery of :mod:`cluneal.protocol` (decision_local_protocol_conservative):
:func:`check_protocol` refuses whatever would loosen a rule of the knowledge
base, :func:`apply_protocol` returns the knowledge base with the protocol's
changes written into its tables, so that the rules read them where they read
everything else:

* stocked strengths and lower caps go into the drug monographs, which the dose
  composer and the titration engine read (a cap is one more cap rule, so the
  lowest that applies still wins and is named);
* the first-line order goes into the pharmacotherapy table;
* the block threshold and the lasting-relief duration replace the defaults of
  the diagnosis and pathway tables;
* exclusions stay on the protocol, which the knowledge base carries: the care
  plan shows an excluded drug as excluded, the titration engine refuses it.
"""

from __future__ import annotations

import math
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar

from pydantic import BaseModel, Field, ValidationError

from cluneal._base import FrozenModel
from cluneal.alerts import SafetyAlert, Severity
from cluneal.errors import KnowledgeBaseError, LocalProtocolError
from cluneal.evidence import SourceMark
from cluneal.knowledge import read_toml
from cluneal.knowledge.drugs import CapRule, Monograph

if TYPE_CHECKING:
    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.protocol import LocalProtocol

__all__ = [
    "ProtocolLimits",
    "apply_protocol",
    "check_protocol",
    "protocol_limits",
    "refuse_looser",
]

_SOURCE: Final = "local_protocol.toml"
_EPS: Final = 1e-9


class _RuleIds(FrozenModel):
    cap: str
    strengths: str
    first_dose: str
    excluded: str
    first_line: str
    block_threshold: str
    lasting_relief: str


class _ExcludedAlert(FrozenModel):
    severity: Severity
    citation: str
    message: str
    action: str

    def alert(self, rule_prefix: str, drug: str, protocol: str) -> SafetyAlert:
        message = self.message.format(drug=drug, protocol=protocol)
        return SafetyAlert(
            severity=self.severity,
            drugs=(drug,),
            message=message[0].upper() + message[1:],
            rule_id=f"{rule_prefix}.{drug}",
            citation=self.citation,
            action=self.action,
        )


class ProtocolLimits(FrozenModel):
    """What a local protocol may change beyond the built-in values (``local_protocol.toml``).

    Attributes:
        rule_id: The rule id of the limits.
        citation: Their citation (decision_local_protocol_conservative).
        lasting_relief_max_weeks: The longest lasting-relief duration a protocol may set.
        rules: The rule ids results carry when a protocol changed something.
        excluded_alert: The alert about a drug the protocol excludes.
    """

    rule_id: str
    citation: str
    lasting_relief_max_weeks: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    rules: _RuleIds
    excluded_alert: _ExcludedAlert


@cache
def protocol_limits() -> ProtocolLimits:
    """Return the limits of ``local_protocol.toml`` (read once, validated).

    Returns:
        The limits.

    Raises:
        KnowledgeBaseError: The file is missing or malformed.

    Example:
        >>> protocol_limits().lasting_relief_max_weeks
        52.0
    """
    raw = read_toml(_SOURCE)
    try:
        return ProtocolLimits.model_validate(
            {**raw["limits"], "rules": raw["rules"], "excluded_alert": raw["excluded_alert"]}
        )
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc


def _mg_list(values: tuple[float, ...] | list[float]) -> str:
    return ", ".join(f"{v:g} mg" for v in values)


def _check_strengths(protocol: LocalProtocol, kb: KnowledgeBase) -> None:
    for drug, stocked in protocol.strengths_mg.items():
        mono = kb.monographs[drug]
        field = f"strengths.{drug.value}"
        if not mono.strengths:
            step = "" if mono.compounded is None else f" in {mono.compounded.step_mg:g} mg steps"
            raise LocalProtocolError(
                field,
                _mg_list(stocked),
                f"no strengths: {drug.value} is compounded to the dose{step}",
            )
        marketed = tuple(s.mg for s in mono.strengths)
        for mg in stocked:
            if not any(math.isclose(mg, m, abs_tol=_EPS) for m in marketed):
                raise LocalProtocolError(
                    field,
                    f"{mg:g} mg",
                    f"a strength {drug.value} is marketed in: {_mg_list(marketed)}",
                )


def _check_caps(protocol: LocalProtocol, kb: KnowledgeBase) -> None:
    for drug, mg in protocol.max_daily_dose_mg.items():
        adult = kb.monographs[drug].caps[0]
        if mg > adult.max_mg_day + _EPS:
            raise LocalProtocolError(
                f"max_daily_dose.{drug.value}",
                f"{mg:g} mg/day",
                f"at most the built-in adult cap {adult.max_mg_day:g} mg/day ({adult.rule_id}): "
                "a protocol may lower a cap, never raise it",
            )


def _check_first_line(protocol: LocalProtocol, kb: KnowledgeBase) -> None:
    selection = kb.pharmacotherapy.selection
    built_in = ", ".join(d.value for d in selection.first_line)
    for drug in protocol.first_line:
        if drug not in selection.first_line:
            raise LocalProtocolError(
                "first_line",
                drug.value,
                f"a built-in first-line drug ({built_in}): {drug.value} is second line, "
                "and a protocol may reorder the first line, not add to it",
            )
        if drug in protocol.excluded_drugs:
            raise LocalProtocolError(
                "first_line", drug.value, "a drug the protocol does not also exclude"
            )


def _check_pathway(protocol: LocalProtocol, kb: KnowledgeBase) -> None:
    threshold = protocol.block_threshold_percent
    built_in = kb.diagnosis.default_block_threshold_percent
    if threshold is not None and threshold < built_in - _EPS:
        raise LocalProtocolError(
            "block_threshold_percent",
            threshold,
            f"at least the built-in {built_in:g}% and at most 100%: a higher threshold asks "
            "more of the block, a lower one would loosen the diagnosis",
        )
    weeks = protocol.lasting_relief_weeks
    if weeks is None:
        return
    shortest = kb.pathway.parameters.lasting_relief_weeks
    longest = protocol_limits().lasting_relief_max_weeks
    if weeks < shortest - _EPS:
        raise LocalProtocolError(
            "lasting_relief",
            f"{weeks:g} weeks",
            f"at least the built-in {shortest:g} weeks: a shorter duration would count brief "
            "relief as lasting and keep repeating blocks at that interval",
        )
    if weeks > longest + _EPS:
        raise LocalProtocolError(
            "lasting_relief",
            f"{weeks:g} weeks",
            f"at most {longest:g} weeks ({protocol_limits().rule_id}): beyond that no case "
            "series follows patients, so treatments that worked would count as failed",
        )


def check_protocol(protocol: LocalProtocol, kb: KnowledgeBase) -> None:
    """Refuse a protocol that would loosen a rule of ``kb``.

    Args:
        protocol: The protocol.
        kb: The knowledge base it is checked against.

    Raises:
        LocalProtocolError: The first field that would loosen a rule, with its
            value and the built-in limit.
    """
    _check_strengths(protocol, kb)
    _check_caps(protocol, kb)
    _check_first_line(protocol, kb)
    _check_pathway(protocol, kb)


M = TypeVar("M", bound=BaseModel)


def _with(model: M, **changes: Any) -> M:
    """A validated copy of a model with some fields changed (never ``model_copy``)."""
    fields = {name: getattr(model, name) for name in type(model).model_fields}
    return type(model)(**{**fields, **changes})


def _monograph(mono: Monograph, protocol: LocalProtocol) -> Monograph:
    rules = protocol_limits().rules
    changes: dict[str, Any] = {}
    drug = mono.drug
    stocked = protocol.strengths_mg.get(drug)
    if stocked is not None:
        changes["strengths"] = tuple(
            s for s in mono.strengths if any(math.isclose(s.mg, mg, abs_tol=_EPS) for mg in stocked)
        )
        # The oral solution is a strength too: listing strengths leaves it out.
        changes["solution"] = None
    cap = protocol.max_daily_dose_mg.get(drug)
    if cap is not None:
        changes["caps"] = (
            *mono.caps,
            CapRule(
                rule_id=f"{rules.cap}.{drug.value}",
                citation=protocol_limits().citation,
                mark=SourceMark.DECISION,
                text=f"local protocol {protocol.label}: at most {cap:g} mg/day",
                max_mg_day=cap,
            ),
        )
    return _with(mono, **changes) if changes else mono


def _pharmacotherapy(kb: KnowledgeBase, protocol: LocalProtocol) -> Any:
    table = kb.pharmacotherapy
    if not protocol.first_line:
        return table
    selection = table.selection
    order: tuple[Drug, ...] = (
        *protocol.first_line,
        *(d for d in selection.first_line if d not in protocol.first_line),
    )
    names = ", ".join(d.value for d in order)
    chosen = _with(
        selection,
        first_line=order,
        text=f"First-line order of the local protocol {protocol.label}: {names}; the first that "
        "may be started is chosen.",
    )
    return _with(table, selection=chosen)


def apply_protocol(protocol: LocalProtocol, kb: KnowledgeBase) -> KnowledgeBase:
    """Return ``kb`` with the protocol applied (its version names the protocol).

    Args:
        protocol: The protocol.
        kb: A knowledge base without a protocol.

    Returns:
        The new knowledge base, version ``"<kb.version>+<name>@<version>"``.

    Raises:
        LocalProtocolError: ``kb`` already has a protocol, or the protocol would
            loosen one of its rules.
    """
    if kb.protocol is not None:
        raise LocalProtocolError(
            "knowledge",
            kb.version,
            "a knowledge base without a local protocol: apply one protocol to the built-in base",
        )
    check_protocol(protocol, kb)
    monographs: dict[Drug, Monograph] = {
        drug: _monograph(mono, protocol) for drug, mono in kb.monographs.items()
    }
    diagnosis = kb.diagnosis
    if protocol.block_threshold_percent is not None:
        diagnosis = _with(
            diagnosis, default_block_threshold_percent=protocol.block_threshold_percent
        )
    pathway = kb.pathway
    weeks = protocol.lasting_relief_weeks
    if weeks is not None:
        pathway = _with(pathway, parameters=_with(pathway.parameters, lasting_relief_weeks=weeks))
    return kb.replace(
        version=f"{kb.version}+{protocol.label}",
        monographs=MappingProxyType(monographs),
        diagnosis=diagnosis,
        pathway=pathway,
        pharmacotherapy=_pharmacotherapy(kb, protocol),
        protocol=protocol,
    )


def refuse_looser(  # noqa: PLR0917 - one check, named parts of its message
    knowledge: KnowledgeBase | None,
    field: str,
    value: object,
    given: float,
    required: float,
    unit: str,
) -> None:
    """Refuse a caller's argument that is looser than the local protocol in use.

    Under a local protocol, the block threshold and the lasting-relief duration
    of the protocol are floors: a caller may ask for more, never for less.

    Args:
        knowledge: The knowledge base in use (``None``: built-in, no protocol).
        field: The argument's name.
        value: The argument as given.
        given: Its value in ``unit``.
        required: The protocol's value in ``unit``.
        unit: ``"%"`` or ``" weeks"``.

    Raises:
        LocalProtocolError: ``given`` is below ``required`` under a protocol.
    """
    protocol = None if knowledge is None else knowledge.protocol
    if protocol is not None and given < required - _EPS:
        raise LocalProtocolError(
            field,
            value,
            f"at least {required:g}{unit}, the value of the local protocol {protocol.label}",
        )
