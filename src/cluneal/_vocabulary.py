"""The base of every closed vocabulary (drugs, sites, severities): a guarded ``StrEnum``.

Looking up a member by value (``Sex("female")``, and pydantic's validation of
every enum field) goes through :class:`Term`'s metaclass, which refuses
anything but text or a member before Python's own lookup runs. Python's lookup
builds its error message with ``repr(value)``, so a deeply nested list raises
``RecursionError`` and an object with a hostile ``repr`` raises whatever that
``repr`` raises; here they are a plain ``ValueError`` with a bounded rendering
of the value, which pydantic reports as a validation error.

Example:
    >>> class Colour(Term):
    ...     RED = "red"
    >>> Colour("red")
    <Colour.RED: 'red'>
    >>> Colour([[[[[]]]]])
    Traceback (most recent call last):
    ValueError: [[[[...]]]] is not a valid Colour
"""

from __future__ import annotations

from enum import Enum, EnumType, StrEnum
from typing import Any, Final

from cluneal.errors import show

__all__ = ["Term"]

_MAX_TERM: Final = 200


class _GuardedEnumType(EnumType):
    def __call__(cls, value: Any, *args: Any, **kwargs: Any) -> Any:
        # With more arguments this is the functional API creating an enum.
        if not args and not kwargs and cls._member_map_:
            text_or_member = isinstance(value, str | Enum)
            if not text_or_member or (isinstance(value, str) and len(value) > _MAX_TERM):
                msg = f"{show(value)} is not a valid {cls.__qualname__}"
                raise ValueError(msg)
        return super().__call__(value, *args, **kwargs)


class Term(StrEnum, metaclass=_GuardedEnumType):
    """A closed vocabulary whose lookup refuses hostile values cleanly (see the module)."""
