"""A case: everything the care plan needs, as one JSON document.

This is the input format of ``cluneal plan CASE.json``, of services that wrap
cluneal, and of the CDS Hooks example: a patient, the findings so far and the
treatments given after the diagnostic block. ``cluneal schema`` prints its JSON
Schema.

Example:
    >>> case = Case.model_validate({
    ...     "patient": {"age": 52, "sex": "male", "weight": "84 kg"},
    ...     "findings": {"pain": {"low_back_pain": True, "deep_aching_poorly_localized": True}},
    ... })
    >>> case.plan().recommendation.step.value
    'initial_evaluation'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from cluneal._base import FrozenModel
from cluneal._checks import CalendarDate
from cluneal.diagnosis import Findings
from cluneal.pathway import CareHistory
from cluneal.patient import Patient
from cluneal.plan import CarePlan, care_plan

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

__all__ = ["Case", "case_json_schema", "tidy_json_schema"]


class Case(FrozenModel):
    """One patient's case: the input of :func:`cluneal.care_plan` in one document.

    Attributes:
        patient: The patient.
        findings: What has been found so far (nothing known when omitted).
        history: Treatments after the diagnostic block, oldest first.
        start_date: Day 0 of any titration, for calendar dates.

    Example:
        >>> Case(patient=Patient(age=40, sex="female")).findings == Findings()
        True
    """

    patient: Patient
    findings: Findings = Field(default_factory=Findings)
    history: CareHistory = Field(default_factory=CareHistory)
    start_date: CalendarDate | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            patient: Patient | Mapping[str, object],
            findings: Findings | Mapping[str, object] = ...,
            history: CareHistory | Mapping[str, object] = ...,
            start_date: dt.date | str | None = None,
        ) -> None:
            """Validate a case (see the class docstring)."""

    def plan(self, **options: Any) -> CarePlan:
        """Build the care plan of this case.

        Args:
            **options: Passed to :func:`cluneal.care_plan` (``block_threshold``,
                ``lasting_relief``, ``weight_basis``).

        Returns:
            The care plan.
        """
        return care_plan(
            self.patient, self.findings, self.history, start_date=self.start_date, **options
        )


def tidy_json_schema(schema: Any) -> Any:
    r"""Trim model docstrings in a JSON Schema to their summary and attribute text.

    Pydantic copies class docstrings into ``description``; their ``Example:``
    sections are Python, not documentation for a JSON consumer.

    Args:
        schema: A JSON Schema (or any part of one).

    Returns:
        The same structure with trimmed descriptions.

    Example:
        >>> tidy_json_schema({"description": "A thing.\n\nExample:\n    x"})
        {'description': 'A thing.'}
    """
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                out[key] = value.split("\n\nExample:")[0].strip()
            else:
                out[key] = tidy_json_schema(value)
        return out
    if isinstance(schema, list):
        return [tidy_json_schema(item) for item in schema]
    return schema


def case_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a case document (what ``cluneal schema`` prints).

    Returns:
        A JSON Schema (draft 2020-12) as a dict.

    Example:
        >>> sorted(case_json_schema()["properties"])
        ['findings', 'history', 'patient', 'start_date']
    """
    schema: dict[str, Any] = tidy_json_schema(Case.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cluneal case"
    return schema
