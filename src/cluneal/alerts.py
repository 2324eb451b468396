"""Safety alerts: what cluneal found about a patient, as values, not exceptions."""

from __future__ import annotations

from typing import Annotated, Final

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
    # Sorted (stable: equal keys keep their order), then a repeat dropped when an
    # equal alert came before it in its run of equal keys. The same result as
    # de-duplicating first, without hashing every alert (a frozen model's hash
    # reads all its fields).
    ordered = sorted([(_order(a), i, a) for i, a in enumerate(alerts)])
    kept: list[SafetyAlert] = []
    run_start = 0
    previous = None
    for key, _, alert in ordered:
        if key != previous:
            run_start = len(kept)
            previous = key
        elif any(alert is k or alert == k for k in kept[run_start:]):
            continue
        kept.append(alert)
    return tuple(kept)


_SEVERITY_ORDER: Final = {s: -s.rank for s in Severity}


def _order(alert: SafetyAlert) -> tuple[int, str, tuple[str, ...], str]:
    return (_SEVERITY_ORDER[alert.severity], alert.rule_id, alert.drugs, alert.message)
