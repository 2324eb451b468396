"""FHIR R4 export of cluneal results (optional extra ``cluneal[fhir]`` for validation).

A thin public face of :mod:`cluneal.export.fhir`: ``import cluneal.fhir`` gives
:func:`medication_request`, :func:`detected_issue`, :func:`plan_definition`,
:func:`bundle` and :func:`validate`. Importing it never imports fhir.resources;
only :func:`validate` does, when called.

Example:
    >>> import cluneal
    >>> import cluneal.fhir
    >>> s = cluneal.titration_schedule("naltrexone", cluneal.Patient(age=40, sex="female"))
    >>> cluneal.fhir.medication_request(s)["medicationCodeableConcept"]["text"]
    'naltrexone'
"""

from __future__ import annotations

from cluneal.export.fhir import (
    bundle,
    detected_issue,
    medication_request,
    plan_definition,
    validate,
)

__all__ = ["bundle", "detected_issue", "medication_request", "plan_definition", "validate"]
