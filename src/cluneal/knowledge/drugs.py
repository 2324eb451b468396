"""Drug monographs: read once, validated and checked (``knowledge/monographs/*.toml``).

Each of the six drugs has a file ``knowledge/monographs/<drug>.toml``, validated
into a :class:`~cluneal.knowledge.monograph.Monograph` and checked for unique
rule ids and resolvable citations; any problem raises
:class:`~cluneal.errors.KnowledgeBaseError` when first loaded. The models live
in :mod:`cluneal.knowledge.monograph`, the rules that hold for every drug in
:mod:`cluneal.knowledge.titration_rules`, the rule base in
:mod:`cluneal.knowledge.rule`; their names are importable from here too.

Example:
    >>> from cluneal.vocabulary import Drug, RenalBand
    >>> m = monograph(Drug.GABAPENTIN)
    >>> [s.mg for s in m.strengths]
    [100.0, 300.0, 400.0, 600.0, 800.0]
    >>> m.band(RenalBand.MODERATE).cap_mg_day
    1400.0
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydantic import ValidationError

from cluneal.errors import KnowledgeBaseError, UnknownTermError
from cluneal.evidence import citation
from cluneal.knowledge import read_toml
from cluneal.knowledge.monograph import (
    CapRule,
    Compounded,
    DialysisSupplement,
    DoseAlertRule,
    DoseSplit,
    Monograph,
    Protocol,
    ProtocolName,
    RenalBandRule,
    SingleDoseRule,
    Solution,
    Strength,
    Timing,
    monograph_text,
    rule_text,
)
from cluneal.knowledge.rule import KnowledgeRule, check_citations
from cluneal.knowledge.titration_rules import (
    TriggerRule,
    parse_titration_rules,
    titration_rule,
    titration_rules,
)
from cluneal.vocabulary import Drug

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
    "monograph_text",
    "parse_drug",
    "parse_monograph",
    "parse_titration_rules",
    "rule_text",
    "titration_rule",
    "titration_rules",
]


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
        # A dictionary lookup, not the enum's constructor: this runs on every schedule.
        found = _BY_NAME.get(drug) or _BY_NAME.get(drug.strip().casefold())
        if found is not None:
            return found
    raise UnknownTermError(field, drug, [d.value for d in Drug])


_BY_NAME: Mapping[str, Drug] = MappingProxyType({d.value: d for d in Drug})
