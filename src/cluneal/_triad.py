"""Judging the diagnostic triad, one criterion at a time (the rules of :mod:`cluneal.diagnosis`).

Each judge reads one part of the findings and the knowledge base's table, says
whether its criterion is met (``None``: not examined yet) and why, and writes
the pertinent positives and negatives and the rules it applied into a
:class:`Notebook`. :func:`cluneal.diagnosis.assess_diagnosis` combines them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from cluneal.vocabulary import NerveBranch

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pint import Unit

    from cluneal.findings import BlockResult, NeuroExam, PainPattern, TenderPoint
    from cluneal.knowledge.diagnosis import (
        CriterionRule,
        DiagnosisReasons,
        DiagnosisTable,
        RedFlagRule,
    )
    from cluneal.units import Quantity
    from cluneal.vocabulary import Side

__all__ = [
    "Notebook",
    "branch_phrase",
    "judge_block",
    "judge_pain",
    "judge_red_flags",
    "judge_tender_points",
    "pain_reason",
]


def branch_phrase(branches: Iterable[NerveBranch]) -> str:
    """The nerve or nerves in words, in the enum's order ("superior and middle cluneal nerves")."""
    names = [b.value for b in NerveBranch if b in set(branches)]
    if len(names) == 1:
        return f"{names[0]} cluneal nerve"
    return f"{' and '.join(names)} cluneal nerves"


def _side_text(side: Side | None) -> str:
    return "" if side is None else f" ({side.value})"


def _duration_text(duration: Quantity) -> str:
    # Every duration unit cluneal accepts (minute ... year) takes a plain "s" plural.
    magnitude = float(duration.magnitude)
    unit = _unit_text(duration.units)
    return f"{magnitude:g} {unit}{'' if magnitude == 1 else 's'}"


@lru_cache(maxsize=32)
def _unit_text(unit: Unit) -> str:
    # Pint's unit formatting is slow and its result fixed: one per unit of the registry.
    return str(unit)


def _percent(value: float) -> str:
    return f"{value:g}%"


class Notebook:
    """Collects the pertinent findings and rules while the criteria are judged."""

    def __init__(self) -> None:
        self.positives: list[str] = []
        self.negatives: list[str] = []
        self.rules: list[str] = []
        self.citations: list[str] = []

    def fire(self, rule_id: str, citations: Iterable[str]) -> None:
        """Record a rule applied and its citations."""
        self.rules.append(rule_id)
        self.citations.extend(citations)


def judge_pain(pain: PainPattern | None, words: DiagnosisReasons, book: Notebook) -> bool | None:
    """Criterion 1: met, not met, or ``None`` when the pain pattern is not recorded."""
    if pain is None:
        return None
    if pain.low_back_pain:
        book.positives.append(words.pain_low_back)
    else:
        book.negatives.append(words.pain_no_low_back)
    if pain.deep_aching_poorly_localized:
        book.positives.append(words.pain_character)
    else:
        book.negatives.append(words.pain_no_character)
    if pain.buttock:
        book.positives.append(words.pain_buttock)
    if pain.leg:
        book.positives.append(words.pain_leg)
    return pain.low_back_pain and pain.deep_aching_poorly_localized


def pain_reason(
    pain: PainPattern | None, *, met: bool | None, rule: CriterionRule, words: DiagnosisReasons
) -> str:
    """Why criterion 1 is met, not met or unknown, in words."""
    if pain is None:
        return rule.unknown_text
    if met:
        areas = [
            area
            for area, flag in (
                (words.pain_support_buttock, pain.buttock),
                (words.pain_support_leg, pain.leg),
            )
            if flag
        ]
        support = words.pain_support.format(areas=" and ".join(areas)) if areas else ""
        return words.pain_met.format(support=support)
    missing = []
    if not pain.low_back_pain:
        missing.append(words.pain_missing_low_back)
    if not pain.deep_aching_poorly_localized:
        missing.append(words.pain_missing_character)
    return words.pain_not_met.format(missing=" and ".join(missing))


def judge_tender_points(
    points: tuple[TenderPoint, ...] | None, table: DiagnosisTable, book: Notebook
) -> tuple[bool | None, str, frozenset[NerveBranch]]:
    """Criterion 2: met or not, why, and the branches whose landmark reproduces the pain."""
    rule = table.criterion[1]
    words = table.reasons
    if points is None:
        return None, rule.unknown_text, frozenset()
    if not points:
        book.negatives.append(words.tender_none)
        return False, words.tender_none_reason, frozenset()
    branches: set[NerveBranch] = set()
    reproducing: list[str] = []
    for point in points:
        mark = table.landmark_for_site(point.site)
        where = words.tender_not_landmark if mark is None else mark.site_text
        side = _side_text(point.side)
        if point.reproduces_pain and mark is not None:
            branches.add(mark.branch)
            text = words.tender_reproducing_nerve.format(side=side, where=where, nerve=mark.nerve)
            reproducing.append(text)
            book.positives.append(text)
        elif point.reproduces_pain:
            book.positives.append(words.tender_reproducing.format(side=side, where=where))
        else:
            book.negatives.append(words.tender_not_reproducing.format(side=side, where=where))
    if branches:
        return True, "; ".join(reproducing), frozenset(branches)
    return False, words.tender_not_met, frozenset()


def judge_block(
    block: BlockResult | None,
    threshold: float,
    rule: CriterionRule,
    words: DiagnosisReasons,
    book: Notebook,
) -> tuple[bool | None, str]:
    """Criterion 3: met when the relief reaches the threshold; why, in words."""
    if block is None:
        return None, rule.unknown_text
    lasting = (
        ""
        if block.relief_duration is None
        else words.block_lasting.format(duration=_duration_text(block.relief_duration))
    )
    what = words.block_what.format(branches=branch_phrase(block.branches))
    relief = _percent(block.relief_percent)
    if block.relief_percent >= threshold:
        text = words.block_met.format(what=what, relief=relief, lasting=lasting)
        book.positives.append(text)
        return True, text + words.block_met_reason.format(threshold=_percent(threshold))
    text = words.block_not_met.format(
        what=what, relief=relief, lasting=lasting, threshold=_percent(threshold)
    )
    book.negatives.append(text)
    return False, text


def judge_red_flags(
    neuro: NeuroExam | None, table: DiagnosisTable, book: Notebook
) -> tuple[tuple[RedFlagRule, ...], tuple[str, ...]]:
    """The red-flag rules whose finding is present, urgent first, and the exams not done."""
    flags: list[RedFlagRule] = []
    unexamined: list[str] = []
    for rule in table.red_flag:
        present = None if neuro is None else getattr(neuro, rule.id.value)
        if present is None:
            unexamined.append(rule.exam)
        elif present:
            flags.append(rule)
            book.positives.append(
                table.reasons.red_flag_present.format(
                    name=rule.name.lower(), points_to=rule.points_to
                )
            )
            book.fire(rule.rule_id, rule.citations)
        else:
            book.negatives.append(rule.absent_text)
    # Urgent flags first, so that a caller showing only the first one shows the emergency.
    flags.sort(key=lambda flag: not flag.urgent)
    return tuple(flags), tuple(unexamined)
