"""Safety alerts: what cluneal found about a patient, as values, not exceptions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from cluneal._base import FrozenModel
from cluneal.vocabulary import Severity

__all__ = ["SafetyAlert", "Severity", "sort_alerts"]


class SafetyAlert(FrozenModel):
    """One finding about a patient and a regimen, with the rule that produced it.

    Attributes:
        severity: How serious it is.
        drugs: The drugs (and co-medications) it concerns, lower case.
        message: What a clinician should know, in one or two sentences.
        rule_id: The knowledge-base rule that fired.
        citation: The citation id backing the rule (see :mod:`cluneal.evidence`).
        action: What to do about it, where the rule says.

    Example:
        >>> alert = SafetyAlert(
        ...     severity="major",
        ...     drugs=("tramadol", "sertraline"),
        ...     message="Serotonin syndrome and seizure risk.",
        ...     rule_id="interaction.tramadol.ssri_snri",
        ...     citation="ultram_label",
        ... )
        >>> alert.severity
        <Severity.MAJOR: 'major'>
    """

    severity: Severity
    drugs: tuple[str, ...] = ()
    message: Annotated[str, Field(min_length=1)]
    rule_id: Annotated[str, Field(min_length=1)]
    citation: Annotated[str, Field(min_length=1)]
    action: str | None = None

    def __str__(self) -> str:
        drugs = f" ({', '.join(self.drugs)})" if self.drugs else ""
        source = f"[{self.rule_id}; {self.citation}]"
        return f"{self.severity.value.upper()}{drugs}: {self.message} {source}"


def sort_alerts(alerts: tuple[SafetyAlert, ...] | list[SafetyAlert]) -> tuple[SafetyAlert, ...]:
    """Order alerts most serious first, then by rule id, dropping exact repeats.

    Args:
        alerts: Alerts in any order.

    Returns:
        A tuple in a stable, deterministic order.

    Example:
        >>> a = SafetyAlert(severity="info", message="m", rule_id="b", citation="c")
        >>> b = SafetyAlert(severity="major", message="m", rule_id="a", citation="c")
        >>> [x.rule_id for x in sort_alerts([a, b, a])]
        ['a', 'b']
    """
    if len(alerts) < 2:
        return tuple(alerts)
    unique = dict.fromkeys(alerts)
    return tuple(sorted(unique, key=lambda a: (-a.severity.rank, a.rule_id, a.drugs, a.message)))
