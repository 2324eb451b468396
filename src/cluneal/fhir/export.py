"""FHIR R4 export: schedules, alerts, the pathway and care plans as FHIR JSON.

Every function here is pure: cluneal models in, plain ``dict`` JSON out, no
clock and no I/O. cluneal builds the JSON itself, so exporting needs no extra;
only :func:`validate` needs ``fhir.resources`` (``pip install "cluneal[fhir]"``),
imported when it is first called, and checks a resource against the R4B models
(R4B shares R4's resources; fhir.resources' default models are R5, which reject
R4 JSON).

Mapping (docs/fhir.md has the full table):

* a :class:`~cluneal.titration.TitrationSchedule` is a ``MedicationRequest``
  (status ``draft``, intent ``proposal``), one ``dosageInstruction`` per step;
* a :class:`~cluneal.alerts.SafetyAlert` is a ``DetectedIssue``
  (contraindicated and major → ``high``, moderate → ``moderate``, info → ``low``);
* the pathway (:func:`~cluneal.pathway.pathway_transitions`) is a ``PlanDefinition``;
* a :class:`~cluneal.care_plan.CarePlan` is a ``Bundle`` of type ``collection``
  holding a ``CarePlan``, its ``MedicationRequest`` and its ``DetectedIssue`` resources.

Ids are deterministic: each resource's ``id`` is a UUID version 5 of its own
canonical JSON, and a Bundle entry's ``fullUrl`` is ``urn:uuid:<id>``, so the
same input always exports byte-identical JSON and references can be checked.

One private module per resource builds it (``_medication_request``,
``_detected_issue``, ``_plan_definition``, ``_care_plan``, ``_validation``, on
the shared pieces of ``_resource`` and ``_citations``); this module is where
they are public.

Example:
    >>> from cluneal import Patient, titration_schedule
    >>> from cluneal.fhir import medication_request
    >>> mr = medication_request(titration_schedule("naltrexone", Patient(age=40, sex="female")))
    >>> mr["resourceType"], mr["status"], mr["intent"]
    ('MedicationRequest', 'draft', 'proposal')
"""

from __future__ import annotations

from cluneal.fhir._care_plan import bundle
from cluneal.fhir._detected_issue import SEVERITY_MAP, detected_issue
from cluneal.fhir._medication_request import (
    RXNORM_INGREDIENTS,
    RXNORM_SYSTEM,
    TIMING_TEXT,
    medication_request,
)
from cluneal.fhir._plan_definition import PLAN_DEFINITION_URL, plan_definition
from cluneal.fhir._resource import BASE_URL, RULE_SYSTEM
from cluneal.fhir._validation import validate
from cluneal.units import UCUM_SYSTEM

__all__ = [
    "BASE_URL",
    "PLAN_DEFINITION_URL",
    "RULE_SYSTEM",
    "RXNORM_INGREDIENTS",
    "RXNORM_SYSTEM",
    "SEVERITY_MAP",
    "TIMING_TEXT",
    "UCUM_SYSTEM",
    "bundle",
    "detected_issue",
    "medication_request",
    "plan_definition",
    "validate",
]
