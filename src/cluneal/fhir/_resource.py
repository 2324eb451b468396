"""The small pieces every exported FHIR resource is built from: ids, codings, quantities.

Ids are deterministic: a resource's ``id`` is a UUID version 5 of its own
canonical JSON under a fixed namespace, so the same input always exports
byte-identical JSON on every machine and release.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

from cluneal._checks import text
from cluneal.errors import InvalidArgumentError
from cluneal.units import UCUM_SYSTEM

__all__ = [
    "BASE_URL",
    "EXT_PROTOCOL_SHA256",
    "RULE_SYSTEM",
    "STEP_SYSTEM",
    "canonical_json",
    "fhir_coding",
    "fhir_number",
    "fhir_quantity",
    "rule_fhir_id",
    "subject_reference",
    "urn_of",
    "with_content_id",
]

BASE_URL: Final = "https://cluneal.readthedocs.io/fhir"
"""Base of cluneal's own identifiers: code systems for rule ids and pathway steps,
extension URLs and the pathway's canonical URL. They name cluneal concepts; no
StructureDefinition or CodeSystem resource is published at these addresses."""

RULE_SYSTEM: Final = f"{BASE_URL}/CodeSystem/rule-id"
"""The code system of cluneal's rule ids (``code`` of a DetectedIssue, ``reason`` of an action)."""

STEP_SYSTEM: Final = f"{BASE_URL}/CodeSystem/pathway-step"
"""The code system of the pathway's steps."""

EXT_PROTOCOL_SHA256: Final = f"{BASE_URL}/StructureDefinition/local-protocol-sha256"
"""The extension that carries a local protocol's sha256."""

# A fixed namespace makes the UUIDs reproducible across machines and releases.
_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, BASE_URL)
_NO_PATIENT: Final = "Patient (no reference supplied)"

_Resource = dict[str, Any]


def fhir_number(value: float) -> int | float:
    # Whole numbers as ints, so JSON reads 300 rather than 300.0.
    return int(value) if float(value).is_integer() else value


def fhir_quantity(value: float, code: str) -> dict[str, Any]:
    return {"value": fhir_number(value), "unit": code, "system": UCUM_SYSTEM, "code": code}


def fhir_coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def subject_reference(patient_reference: object) -> dict[str, str]:
    # Typed `object`: callers outside mypy may pass anything, and must get a ClunealError.
    if patient_reference is None:
        return {"display": _NO_PATIENT}
    reference = text(patient_reference, "patient_reference")
    if not reference.strip():
        expected = "a FHIR reference such as 'Patient/123', or None"
        raise InvalidArgumentError("patient_reference", patient_reference, expected)
    return {"reference": reference}


def rule_fhir_id(rule_id: str) -> str:
    # FHIR ids allow letters, digits, '-' and '.', at most 64 characters.
    return rule_id.replace("_", "-")[:64]


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def with_content_id(resource: _Resource) -> _Resource:
    """Return the resource with ``id`` first after ``resourceType``: a UUID5 of its content."""
    body = {k: v for k, v in resource.items() if k not in {"resourceType", "id"}}
    kind = resource["resourceType"]
    uid = uuid.uuid5(_NAMESPACE, f"{kind}:{canonical_json(body)}")
    return {"resourceType": kind, "id": str(uid), **body}


def urn_of(resource: _Resource) -> str:
    return f"urn:uuid:{resource['id']}"
