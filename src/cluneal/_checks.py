"""The boundary: one set of argument checks for every public function and method.

A public entry point checks its arguments here, first, before any arithmetic or
lookup, so that bad input fails with a :class:`~cluneal.ClunealError` naming
the argument, never with a ``TypeError``, ``OverflowError`` or
``UnicodeEncodeError`` from deep inside. Models use the same checks through
:func:`clean_text`.

The rules, once:

* a number is an ``int`` or ``float`` (or any real number type), never a
  ``bool``, finite, within the float range, then within its own range;
* text has no lone surrogate (it cannot be written as UTF-8, so it would break
  JSON and FHIR output) and no control character (it would corrupt a line of a
  report or a FHIR narrative), and has a bounded length;
* a calendar date lies between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`, so
  that date arithmetic over a schedule can never leave Python's date range;
* a collection argument is a real collection, never a string read letter by letter.

Example:
    >>> from cluneal._checks import number
    >>> number(70, "block_threshold", minimum=0, maximum=100)
    70.0
    >>> number(10**400, "block_threshold")
    Traceback (most recent call last):
    cluneal.errors.InvalidArgumentError: block_threshold: got <int of 1329 bits>; expected ...
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Annotated, Any, Final, TypeVar

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

from cluneal.errors import InvalidArgumentError, UnknownTermError

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "MAX_TEXT",
    "CalendarDate",
    "KnowledgeMarker",
    "calendar_date",
    "choice",
    "clean_text",
    "collection",
    "flag",
    "instance",
    "json_data",
    "knowledge_argument",
    "number",
    "text",
]

EARLIEST_DATE: Final = dt.date(1900, 1, 1)
"""The earliest calendar date accepted as an input (a day 0, a date of birth)."""

LATEST_DATE: Final = dt.date(2999, 12, 31)
"""The latest calendar date accepted as an input: far from ``date.max``, so any
schedule or pathway built from it stays inside the calendar."""

MAX_TEXT: Final = 1000
"""The longest free text accepted by default (a name, a reference, a note)."""

# C0 and C1 controls and DEL, except none: a single-line field takes no tab or
# newline either. Lone surrogates are U+D800-U+DFFF.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

E = TypeVar("E", bound=Enum)
T = TypeVar("T")


def number(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    minimum_inclusive: bool = True,
    integer: bool = False,
) -> float:
    """Check a numeric argument and return it as a float.

    Args:
        value: What the caller passed.
        name: The argument name, for the error.
        minimum: The smallest value accepted (``None``: no bound).
        maximum: The largest value accepted (``None``: no bound).
        minimum_inclusive: Whether ``minimum`` itself is accepted.
        integer: Require a whole number.

    Returns:
        The value as a finite float.

    Raises:
        InvalidArgumentError: Not a real number, a bool, not finite, beyond the
            float range, or outside ``[minimum, maximum]``.

    Example:
        >>> number(float("nan"), "relief_percent")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: relief_percent: got nan; expected a finite number
    """
    expected = _number_expectation(minimum, maximum, minimum_inclusive=minimum_inclusive)
    if integer:
        expected = expected.replace("a finite number", "a whole number")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(name, value, expected)
    try:
        result = float(value)
    except (OverflowError, ValueError, TypeError):
        raise InvalidArgumentError(name, value, expected) from None
    if not math.isfinite(result):
        raise InvalidArgumentError(name, value, expected)
    if integer and not result.is_integer():
        raise InvalidArgumentError(name, value, expected)
    too_low = minimum is not None and (
        result < minimum or (not minimum_inclusive and result == minimum)
    )
    if too_low or (maximum is not None and result > maximum):
        raise InvalidArgumentError(name, value, expected)
    return result


def _number_expectation(
    minimum: float | None, maximum: float | None, *, minimum_inclusive: bool
) -> str:
    if minimum is None and maximum is None:
        return "a finite number"
    if maximum is None:
        op = "at least" if minimum_inclusive else "greater than"
        return f"a finite number {op} {minimum:g}"
    if minimum is None:
        return f"a finite number of at most {maximum:g}"
    if not minimum_inclusive:
        return f"a finite number greater than {minimum:g} and at most {maximum:g}"
    return f"a finite number between {minimum:g} and {maximum:g}"


def clean_text(value: str, name: str, *, max_length: int = MAX_TEXT) -> str:
    r"""Refuse text that cannot reach JSON, FHIR or a report line intact.

    Args:
        value: A string.
        name: The field or argument name, for the error.
        max_length: The longest text accepted.

    Returns:
        The same string.

    Raises:
        InvalidArgumentError: Too long, or holds a lone surrogate or a control character.

    Example:
        >>> clean_text("Patient/1", "patient_reference")
        'Patient/1'
        >>> clean_text("a\ud800b", "name")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: name: got 'a\ud800b'; expected text without ...
    """
    if len(value) > max_length:
        raise InvalidArgumentError(name, value, f"text of at most {max_length} characters")
    if _UNSAFE.search(value):
        raise InvalidArgumentError(
            name, value, "text without control characters or lone surrogates"
        )
    return value


def text(value: object, name: str, *, max_length: int = MAX_TEXT) -> str:
    """Check a text argument: a ``str``, clean (see :func:`clean_text`).

    Args:
        value: What the caller passed.
        name: The argument name, for the error.
        max_length: The longest text accepted.

    Returns:
        The string.

    Raises:
        InvalidArgumentError: Not a string, or not clean.

    Example:
        >>> text(5, "patient_reference")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: patient_reference: got 5; expected text
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(name, value, "text")
    return clean_text(value, name, max_length=max_length)


def _in_calendar(value: object, info: ValidationInfo) -> object:
    # None passes through to the field's own "| None" (or its refusal).
    return None if value is None else calendar_date(value, info.field_name or "date")


CalendarDate = Annotated[
    dt.date,
    BeforeValidator(_in_calendar),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": r"^(?:19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$",
            "description": "A calendar date, YYYY-MM-DD, from 1900-01-01 to 2999-12-31.",
        }
    ),
]
"""A model date field: a ``date`` or ``"YYYY-MM-DD"`` from :data:`EARLIEST_DATE` to
:data:`LATEST_DATE` (no timestamps, no other ISO forms)."""


def flag(value: object, name: str) -> bool:
    """Check a boolean argument: ``True`` or ``False`` only (``"no"`` and ``0`` are refused).

    Args:
        value: What the caller passed.
        name: The argument name, for the error.

    Returns:
        The bool.

    Raises:
        InvalidArgumentError: Anything but a bool.

    Example:
        >>> flag(True, "progress")
        True
    """
    if not isinstance(value, bool):
        raise InvalidArgumentError(name, value, "true or false")
    return value


def calendar_date(value: object, name: str) -> dt.date | None:
    """Check a calendar date argument: a ``date`` or ``"YYYY-MM-DD"``, or ``None``.

    A ``datetime`` stands for its date.

    Args:
        value: What the caller passed.
        name: The argument name, for the error.

    Returns:
        The date, or ``None``.

    Raises:
        InvalidArgumentError: Not a date, or outside :data:`EARLIEST_DATE` to
            :data:`LATEST_DATE`.

    Example:
        >>> calendar_date("2026-03-02", "start_date")
        datetime.date(2026, 3, 2)
        >>> calendar_date("9999-12-31", "start_date")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: start_date: got '9999-12-31'; expected a calendar ...
    """
    if value is None:
        return None
    expected = (
        f"a calendar date (datetime.date or 'YYYY-MM-DD') from {EARLIEST_DATE.isoformat()}"
        f" to {LATEST_DATE.isoformat()}"
    )
    day: dt.date
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidArgumentError(name, value, expected) from None
    elif isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        raise InvalidArgumentError(name, value, expected)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise InvalidArgumentError(name, value, expected)
    return day


def choice(value: object, enum: type[E], name: str) -> E:
    """Check a vocabulary argument: a member of ``enum`` or its value.

    Args:
        value: What the caller passed.
        enum: The vocabulary.
        name: The argument name, for the error.

    Returns:
        The member.

    Raises:
        UnknownTermError: Anything else.

    Example:
        >>> from cluneal.patient import Sex
        >>> choice("female", Sex, "sex")
        <Sex.FEMALE: 'female'>
    """
    if isinstance(value, enum):
        return value
    allowed = [str(member.value) for member in enum]
    if isinstance(value, str):
        for member in enum:
            if member.value == value:
                return member
    raise UnknownTermError(name, value, allowed)


def collection(value: object, name: str, *, what: str = "items") -> tuple[Any, ...]:
    """Check a collection argument: a list, tuple, set or other iterable, never text.

    A string is refused rather than read letter by letter, and so is a mapping
    (its keys would be read silently).

    Args:
        value: What the caller passed.
        name: The argument name, for the error.
        what: What the items are, for the error.

    Returns:
        The items, as a tuple.

    Raises:
        InvalidArgumentError: Text, bytes, a mapping or not iterable.

    Example:
        >>> collection("gabapentin", "drugs")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: drugs: got 'gabapentin'; expected a list of items
    """
    expected = f"a list of {what}"
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidArgumentError(name, value, expected)
    try:
        return tuple(value)
    except Exception:
        raise InvalidArgumentError(name, value, expected) from None


def instance(value: object, cls: type[T], name: str) -> T:
    """Check that an argument is an instance of a cluneal type (a result, a model).

    Args:
        value: What the caller passed.
        cls: The type expected.
        name: The argument name, for the error.

    Returns:
        The value.

    Raises:
        InvalidArgumentError: Anything else.

    Example:
        >>> from cluneal import Patient
        >>> instance(None, Patient, "patient")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: patient: got None; expected a Patient
    """
    if not isinstance(value, cls):
        raise InvalidArgumentError(name, value, f"a {cls.__name__}")
    return value


_MAX_JSON_DEPTH: Final = 64
_MAX_JSON_ITEMS: Final = 1_000_000


def json_data(value: object, name: str) -> object:
    """Check that an argument is JSON data: what a JSON parser could have produced.

    Mappings with text keys, lists and tuples, text, booleans, ``None``, integers
    within the float range and finite floats; at most 64 levels deep. Anything
    else (a Pint quantity, a date, an object) is refused before the reader
    compares or hashes it.

    Args:
        value: What the caller passed (a FHIR resource, a Bundle, a list of them).
        name: The argument name, for the error.

    Returns:
        The value.

    Raises:
        InvalidArgumentError: Not JSON data, or nested too deeply.

    Example:
        >>> json_data({"resourceType": "Patient", "id": "1"}, "resources")
        {'resourceType': 'Patient', 'id': '1'}
        >>> json_data({"value": float("nan")}, "resources")
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: resources: got nan; expected JSON data ...
    """
    expected = (
        "JSON data (objects, arrays, text, finite numbers, true, false, null),"
        f" at most {_MAX_JSON_DEPTH} levels deep"
    )
    pending: list[tuple[object, int]] = [(value, 0)]
    seen = 0
    while pending:
        item, depth = pending.pop()
        seen += 1
        if depth > _MAX_JSON_DEPTH or seen > _MAX_JSON_ITEMS:
            raise InvalidArgumentError(name, value, expected)
        if item is None or isinstance(item, str | bool):
            continue
        if isinstance(item, int | float):
            try:
                number(item, name)  # finite, within the float range
            except InvalidArgumentError:
                raise InvalidArgumentError(name, item, expected) from None
            continue
        if isinstance(item, Mapping):
            if not all(isinstance(key, str) for key in item):
                raise InvalidArgumentError(name, item, expected)
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            pending.extend((child, depth + 1) for child in item)
        else:
            raise InvalidArgumentError(name, item, expected)
    return value


class KnowledgeMarker:
    """The base of :class:`~cluneal.KnowledgeBase`: rules check ``knowledge=`` against it.

    The rules cannot import the knowledge base, which imports them.
    """

    __slots__ = ()


K = TypeVar("K", bound=KnowledgeMarker)


def knowledge_argument(value: K | None) -> K | None:
    """Check a ``knowledge=`` argument: a knowledge base or ``None`` (the built-in one).

    Args:
        value: What the caller passed.

    Returns:
        The value.

    Raises:
        InvalidArgumentError: Anything else (a mapping, a protocol, a version string).

    Example:
        >>> knowledge_argument({"version": "1"})
        Traceback (most recent call last):
        cluneal.errors.InvalidArgumentError: knowledge: got {'version': '1'}; expected a ...
    """
    given: object = value  # callers outside mypy may pass anything
    if given is None or isinstance(given, KnowledgeMarker):
        return value
    expected = "a KnowledgeBase (cluneal.knowledge_base() or .with_protocol(...)), or None"
    raise InvalidArgumentError("knowledge", value, expected)
