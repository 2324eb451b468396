"""Explanation text rendered when it is read, not when the result is built.

The engine writes an explanation for every decision, but a caller often reads
none of them: a service that returns codes and doses, a cohort that keeps the
chosen drug. A field typed :data:`TextOnRead` may therefore hold a
:class:`Deferred` (a renderer and its arguments) in place of the string. To
every reader it is the string:

* reading the attribute renders it once and keeps the result (the model stays
  frozen: the rendered value replaces the deferred one in the instance);
* ``model_dump``, ``model_dump_json``, ``repr``, pickling and ``dict(model)``
  give the rendered string;
* equality and hashing compare the rendered text, so a result built with
  deferred text equals the same result built with the eager string.

Validation is unchanged: JSON input is a plain string, checked as before, and
the JSON Schema is that of ``str``. Only :func:`cluneal._base.trusted` accepts
a :class:`Deferred` (from engine code that already built the arguments from
checked values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import PlainSerializer

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["TEXT_ON_READ", "Deferred", "TextOnRead", "install_text_fields"]


class Deferred:
    """A text not yet rendered: ``render(*args)``, called once, on first use.

    ``render`` must be a pure function of ``args`` returning ``str`` (a
    template's ``format``, a joiner), and ``args`` immutable values: the text
    is the same whenever, and in whichever thread, it is rendered.

    Example:
        >>> text = Deferred("CrCl {crcl:.0f} mL/min".format, crcl=42.4)
        >>> str(text), text == "CrCl 42 mL/min"
        ('CrCl 42 mL/min', True)
    """

    __slots__ = ("_args", "_kwargs", "_render", "_text")

    def __init__(self, render: Callable[..., str], /, *args: Any, **kwargs: Any) -> None:
        self._render = render
        self._args = args
        self._kwargs = kwargs
        self._text: str | None = None

    def __str__(self) -> str:
        text = self._text
        if text is None:
            # Two threads may both render: the result is the same string.
            text = self._text = self._render(*self._args, **self._kwargs)
        return text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str | Deferred):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return repr(str(self))

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        # Pickled (multiprocessing, Dask) and deep-copied as its text.
        return (str, (str(self),))


class _TextOnReadMarker:
    """Marks a field as one that may hold :class:`Deferred` text."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TEXT_ON_READ"


TEXT_ON_READ: Final = _TextOnReadMarker()
"""The marker :func:`install_text_fields` looks for in a field's metadata."""

TextOnRead = Annotated[str, PlainSerializer(str, return_type=str), TEXT_ON_READ]
"""A ``str`` field that may hold :class:`Deferred` text; serialised as its text."""


class _Rendered:
    """The attribute of a text-on-read field: renders a deferred value on first read."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __get__(self, instance: object, owner: type | None = None) -> str:
        if instance is None:
            # pydantic reads class attributes as field defaults: there is none.
            raise AttributeError(self._name)
        fields: dict[str, Any] = instance.__dict__
        value = fields[self._name]
        if value.__class__ is Deferred:
            value = fields[self._name] = str(value)
        text: str = value
        return text

    def __set__(self, instance: object, value: object) -> None:
        # Only object.__setattr__ reaches here (pydantic refuses first on a frozen
        # model): store as an instance attribute would have been stored.
        instance.__dict__[self._name] = value


def install_text_fields(model: type[Any]) -> None:
    """Give each text-on-read field of a model class its rendering attribute.

    Called for every :class:`~cluneal._base.FrozenModel` subclass when pydantic
    has collected its fields; a subclass inherits its parents' attributes.

    Args:
        model: A pydantic model class.

    Example:
        >>> from cluneal._base import FrozenModel, trusted
        >>> class Note(FrozenModel):
        ...     text: TextOnRead
        >>> note = trusted(Note, text=Deferred("{n} doses".format, n=3))
        >>> note.text, note.model_dump_json()
        ('3 doses', '{"text":"3 doses"}')
    """
    for name, field in model.__pydantic_fields__.items():
        if TEXT_ON_READ in field.metadata and not isinstance(
            _own_attribute(model, name), _Rendered
        ):
            setattr(model, name, _Rendered(name))


def _own_attribute(model: type[Any], name: str) -> object:
    for klass in model.__mro__:
        if name in klass.__dict__:
            found: object = klass.__dict__[name]
            return found
    return None
