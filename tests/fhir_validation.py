"""Two independent FHIR R4 validators for the tests: fhir.resources (R4B) and fhirkit.

fhir.resources' R4B models are what ``cluneal.fhir.validate`` uses; fhirkit
(PyPI ``fhirkit-rs``) is a separate implementation generated from the official
R4 (4.0.1) specification, so a resource both accept is not valid only by one
library's reading.
"""

from __future__ import annotations

from typing import Any

import fhirkit

import cluneal.fhir


def fhirkit_errors(resource: dict[str, Any]) -> list[str]:
    """Errors fhirkit reports for a resource (warnings are not errors)."""
    return [str(i) for i in fhirkit.validate(resource) if i.severity == "error"]


def assert_valid_fhir(resource: dict[str, Any]) -> None:
    """Fail unless both validators accept the resource (a Bundle with every entry)."""
    cluneal.fhir.validate(resource)
    assert fhirkit_errors(resource) == []
