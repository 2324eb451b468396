"""Small, strict readers of FHIR JSON shared by the FHIR input modules.

Every reader names the resource it read from, so a bad record yields a
``ClunealError`` that says which resource and which element, never a
``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeGuard

from cluneal.errors import ClunealError, show

__all__ = [
    "UnreadableResourceError",
    "code_in",
    "codings",
    "date_of",
    "iter_resources",
    "label",
    "text_of",
]

_DATE: Final = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DATETIME: Final = re.compile(r"([0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)(?:T.*)?")
_MAX_RESOURCES: Final = 10_000
_MAX_DEPTH: Final = 8  # Bundles inside Bundles: deeper is not a record, it is an attack


class UnreadableResourceError(ClunealError):
    """A FHIR resource cluneal cannot read: it names the resource and the element.

    Attributes:
        resource: ``"Observation/abc"`` (or ``"resource #3"`` without an id).
        problem: What is wrong.

    Example:
        >>> from cluneal.fhir import UnreadableResourceError
        >>> str(UnreadableResourceError("Patient/1", "birthDate: got 'soon'"))
        "Patient/1: birthDate: got 'soon'"
    """

    def __init__(self, resource: str, problem: str) -> None:
        self.resource = resource
        self.problem = problem
        super().__init__(f"{resource}: {problem}")


def label(resource: Mapping[str, Any], index: int) -> str:
    """Name a resource for messages: ``Type/id``, or ``Type #index`` without an id."""
    kind = resource.get("resourceType")
    kind = kind if isinstance(kind, str) else "resource"
    ident = resource.get("id")
    return f"{kind}/{ident}" if isinstance(ident, str) and ident else f"{kind} #{index}"


def code_in(value: object, allowed: Iterable[str]) -> TypeGuard[str]:
    """Whether a JSON value is one of the allowed codes (a list or an object never is)."""
    return isinstance(value, str) and value in allowed


def _flatten(item: object, index: int, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    if not isinstance(item, Mapping):
        raise UnreadableResourceError(
            f"resource #{index}", f"got {type(item).__name__}; expected a FHIR resource object"
        )
    kind = item.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise UnreadableResourceError(f"resource #{index}", "resourceType is missing")
    if kind != "Bundle":
        yield item
        return
    if depth >= _MAX_DEPTH:
        raise UnreadableResourceError(label(item, index), f"Bundles nested over {_MAX_DEPTH} deep")
    entries = item.get("entry", [])
    if not isinstance(entries, list):
        raise UnreadableResourceError(label(item, index), "entry: expected a list")
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise UnreadableResourceError(label(item, index), f"entry[{position}]: not an object")
        resource = entry.get("resource")
        if resource is None:
            continue  # a search Bundle may carry entries without a resource
        yield from _flatten(resource, index, depth + 1)


def iter_resources(resources: object) -> list[Mapping[str, Any]]:
    """Flatten a Bundle, a resource, or an iterable of them into a list of resources.

    Args:
        resources: FHIR JSON.

    Returns:
        The resources, Bundles unpacked (recursively), in order.

    Raises:
        UnreadableResourceError: An item is not a resource object.
        ClunealError: The input is neither a resource nor an iterable of them.
    """
    if isinstance(resources, Mapping):
        items: list[object] = [resources]
    elif isinstance(resources, Iterable) and not isinstance(resources, str | bytes):
        try:
            items = list(resources)
        except Exception:
            items = [resources]  # refused below as "not a resource object"
    else:
        msg = (
            f"resources: got {type(resources).__name__}; expected FHIR R4 JSON: a Bundle "
            "or an iterable of resources"
        )
        raise ClunealError(msg)
    found = [r for i, item in enumerate(items) for r in _flatten(item, i)]
    if len(found) > _MAX_RESOURCES:
        msg = f"resources: {len(found)} resources; at most {_MAX_RESOURCES} are read"
        raise ClunealError(msg)
    return found


def codings(concept: object, where: str, element: str) -> list[tuple[object, object]]:
    """Return the ``(system, code)`` pairs of a CodeableConcept.

    Raises:
        UnreadableResourceError: The element is not a CodeableConcept.
    """
    if concept is None:
        return []
    if not isinstance(concept, Mapping):
        raise UnreadableResourceError(where, f"{element}: expected a CodeableConcept")
    items = concept.get("coding", [])
    if not isinstance(items, list) or not all(isinstance(c, Mapping) for c in items):
        raise UnreadableResourceError(where, f"{element}.coding: expected a list of Codings")
    return [(c.get("system"), c.get("code")) for c in items]


def text_of(concept: object) -> list[str]:
    """Return the human-readable names of a CodeableConcept: ``text`` then each display."""
    if not isinstance(concept, Mapping):
        return []
    names = [concept["text"]] if isinstance(concept.get("text"), str) else []
    items = concept.get("coding", [])
    names.extend(
        coding["display"]
        for coding in (items if isinstance(items, list) else [])
        if isinstance(coding, Mapping) and isinstance(coding.get("display"), str)
    )
    return names


def date_of(value: object, where: str, element: str) -> dt.date:
    """Read a FHIR date or dateTime (year, year-month or full date) as its earliest day.

    A partial date is read as its first day (``"1950"`` is 1 January 1950); the
    time of day and the zone are ignored: cluneal works in days.

    Raises:
        UnreadableResourceError: Not a FHIR date or dateTime.
    """
    match = _DATETIME.fullmatch(value) if isinstance(value, str) else None
    date_part = _DATE.fullmatch(match.group(1)) if match else None
    if date_part is None:
        raise UnreadableResourceError(where, f"{element}: got {show(value)}; expected a FHIR date")
    year, month, day = (int(part) if part else 1 for part in date_part.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise UnreadableResourceError(
            where, f"{element}: got {show(value)}; not a calendar date"
        ) from None
