"""FHIR R4 for cluneal: results out, a patient's record in (extra ``cluneal[fhir]`` validates).

Out (:mod:`cluneal.fhir.export`): :func:`medication_request`,
:func:`detected_issue`, :func:`plan_definition`, :func:`bundle` and
:func:`validate`. In (:mod:`cluneal.fhir.read`, :mod:`cluneal.fhir.exam`):
:func:`patient_from_fhir`, :func:`exam_questionnaire`,
:func:`findings_from_fhir` and :func:`history_from_fhir`. The terminology codes
are data in the knowledge base (``knowledge/codes.toml``). Importing this
package never imports fhir.resources; only :func:`validate` does, when called.

Example:
    >>> import cluneal
    >>> import cluneal.fhir
    >>> s = cluneal.titration_schedule("naltrexone", cluneal.Patient(age=40, sex="female"))
    >>> cluneal.fhir.medication_request(s)["medicationCodeableConcept"]["text"]
    'naltrexone'
"""

from __future__ import annotations

from cluneal.fhir._json import UnreadableResourceError
from cluneal.fhir.exam import (
    exam_questionnaire,
    findings_from_fhir,
    history_from_fhir,
)
from cluneal.fhir.export import (
    bundle,
    detected_issue,
    medication_request,
    plan_definition,
    validate,
)
from cluneal.fhir.read import patient_from_fhir

__all__ = [
    "UnreadableResourceError",
    "bundle",
    "detected_issue",
    "exam_questionnaire",
    "findings_from_fhir",
    "history_from_fhir",
    "medication_request",
    "patient_from_fhir",
    "plan_definition",
    "validate",
]
