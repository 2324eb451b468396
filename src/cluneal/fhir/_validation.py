"""Validation of exported resources against fhir.resources' R4B models (extra ``cluneal[fhir]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cluneal.errors import ClunealError, MissingExtraError, show

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

__all__ = ["validate"]


def _r4b() -> ModuleType:
    try:
        from fhir.resources import R4B
    except ImportError as exc:
        raise MissingExtraError("fhir", "FHIR validation") from exc
    return R4B


def validate(resource: Mapping[str, Any]) -> None:
    """Validate a resource against fhir.resources' R4B models (needs ``cluneal[fhir]``).

    R4B carries R4's resource definitions; the package's default (R5) models
    would reject R4 JSON. A Bundle is validated with every entry.

    Args:
        resource: A resource as JSON (a mapping with ``resourceType``).

    Raises:
        MissingExtraError: fhir.resources is not installed.
        ClunealError: ``resourceType`` is missing or not an R4B resource.
        ValidationError: The resource does not conform (pydantic's error, a
            :class:`ValueError`, raised by fhir.resources).

    Example:
        >>> from cluneal import Patient, titration_schedule
        >>> from cluneal.fhir import medication_request, validate
        >>> s = titration_schedule("pregabalin", Patient(age=40, sex="male"))
        >>> validate(medication_request(s))
    """
    models = _r4b()
    kind = resource.get("resourceType")
    try:
        model = models.get_fhir_model_class(kind) if isinstance(kind, str) else None
    except ValueError:
        model = None
    if model is None:
        msg = f"resourceType: got {show(kind)}; expected the name of a FHIR R4B resource"
        raise ClunealError(msg)
    model.model_validate(dict(resource))
