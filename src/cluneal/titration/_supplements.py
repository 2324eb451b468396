"""Post-haemodialysis supplements, as instructions outside the daily steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluneal._base import trusted
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge.titration_rules import DIALYSIS_SESSION, DialysisSessionRule
from cluneal.titration import _text
from cluneal.titration._models import SupplementalInstruction
from cluneal.units import quantity_in

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.drugs import KnowledgeRule
    from cluneal.titration._models import TitrationStep
    from cluneal.titration._tables import DrugTable

__all__ = ["session_hours", "supplements"]


def session_hours(rules: Mapping[str, KnowledgeRule]) -> float:
    """The haemodialysis session's length (``titration.renal.dialysis_session``).

    Raises:
        KnowledgeBaseError: The titration rules do not give it.
    """
    rule = rules.get(DIALYSIS_SESSION)
    if not isinstance(rule, DialysisSessionRule):  # pragma: no cover - refused when loaded
        raise KnowledgeBaseError("titration.toml", f"{DIALYSIS_SESSION!r} must give session_hours")
    return rule.session_hours


def supplements(
    table: DrugTable,
    on_dialysis: bool,  # noqa: FBT001 - the one fact about the patient it reads
    steps: tuple[TitrationStep, ...],
    cap_mg: float,
    rules: Mapping[str, KnowledgeRule],
) -> tuple[SupplementalInstruction, ...]:
    """Post-haemodialysis supplements that follow the maintenance dose, step by step.

    Each step takes the label row with the largest maintenance dose not above
    its daily dose (decision_dialysis_supplements_follow_maintenance); a new
    instruction starts on the day the row changes.
    """
    if not on_dialysis:
        return ()
    mono = table.mono
    if not mono.dialysis_supplements:
        rule = rules["titration.renal.dialysis"]
        return (
            trusted(
                SupplementalInstruction,
                rule_id=rule.rule_id,
                text=table.dialysis_note,
                citation=mono.citation,
                dose=None,
                composition=None,
                from_day=None,
            ),
        )
    form = table.formulary_solution
    hours = session_hours(rules)
    out: list[SupplementalInstruction] = []
    current = None
    for step in steps:
        daily = step.daily_dose_mg
        row = mono.dialysis_supplement_for(daily)
        if row is None or row is current:
            continue
        current = row
        dose = form.round_down(row.supplement_mg)
        if dose <= 0:
            # Never a silent gap: the label's supplement is stated, with who doses it.
            out.append(
                trusted(
                    SupplementalInstruction,
                    rule_id=row.rule_id,
                    text=_text.SUPPLEMENT_UNMADE.format(
                        day=step.day,
                        daily=daily,
                        mg=row.supplement_mg,
                        text=table.texts[row.rule_id],
                    ),
                    citation=row.citation,
                    dose=None,
                    composition=None,
                    from_day=step.day,
                )
            )
            continue
        alternative = (
            _text.SUPPLEMENT_ALTERNATIVE.format(
                mg=row.supplement_mg, alternative=row.alternative_mg
            )
            if row.alternative_mg
            else ""
        )
        composition = form.compose(dose)
        out.append(
            trusted(
                SupplementalInstruction,
                rule_id=row.rule_id,
                text=_text.SUPPLEMENT.format(
                    day=step.day,
                    daily=daily,
                    dose=dose,
                    composition=composition,
                    alternative=alternative,
                    cap=cap_mg,
                    text=table.texts[row.rule_id],
                    hours=hours,
                ),
                citation=row.citation,
                dose=quantity_in(dose, "mg"),
                composition=composition,
                from_day=step.day,
            )
        )
    return tuple(out)
