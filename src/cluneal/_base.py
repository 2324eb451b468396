"""The base of every cluneal model: frozen, strict about unknown keys.

It also holds the one hook through which a model reaches the presentation
layer: ``str(model)`` and Jupyter's ``_repr_html_`` look the model's class up
in :mod:`cluneal.report` and :mod:`cluneal.display`, which are imported by
name on first use. No domain module imports the presentation layer, so imports
keep pointing one way (domain -> presentation), and ``import cluneal`` stays
light.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from cluneal._lazy_text import Deferred, install_text_fields
from cluneal.errors import ClunealError

if TYPE_CHECKING:
    from types import ModuleType

    from pydantic.main import TupleGenerator

__all__ = ["FrozenModel", "assembled", "coerce_model", "presenter", "trusted", "trusted_update"]

# The presentation modules, by name. ``html`` and ``text`` define ``render(model) -> str | None``;
# ``dataframe`` and ``plot`` are the optional extras' modules that models' methods reach.
Presentation = Literal["html", "text", "dataframe", "plot"]
_PRESENTERS: Final = MappingProxyType(
    {
        "html": "cluneal.display",
        "text": "cluneal.report",
        "dataframe": "cluneal.dataframe",
        "plot": "cluneal.plotting",
    }
)


def presenter(kind: Presentation) -> ModuleType:
    """The presentation module of a kind, imported by name on first use (the one hook).

    Args:
        kind: ``"html"``, ``"text"``, ``"dataframe"`` or ``"plot"``.

    Returns:
        The module.
    """
    return importlib.import_module(_PRESENTERS[kind])


def _present(model: object, kind: Literal["html", "text"]) -> str | None:
    rendered: str | None = presenter(kind).render(model)
    return rendered


class FrozenModel(BaseModel):
    """An immutable pydantic model that refuses unknown fields.

    A changed value is a new model built with validation (``Model(**fields)``),
    never ``model_copy(update=...)``, which skips validation.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=False,
        str_strip_whitespace=False,
        use_enum_values=False,
        ser_json_inf_nan="strings",
        revalidate_instances="never",
        # Schemas are built on first use, not at import: a result built from
        # trusted values, or a model a program never validates, costs nothing.
        defer_build=True,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Fields typed TextOnRead may hold text rendered when read (cluneal._lazy_text).
        install_text_fields(cls)

    def __iter__(self) -> TupleGenerator:
        # dict(model) gives the rendered text of a text-on-read field, as reading it does.
        for name, value in super().__iter__():
            yield name, (str(value) if value.__class__ is Deferred else value)

    def _repr_html_(self) -> str | None:
        # None tells Jupyter to fall back to the plain repr.
        return _present(self, "html")

    def __str__(self) -> str:
        text = _present(self, "text")
        return super().__str__() if text is None else text


M = TypeVar("M", bound=FrozenModel)

_set = object.__setattr__
_REQUIRED: Final = object()


class _Layout:
    """A model class's fields in order, as a dict to copy (required ones marked), once."""

    __slots__ = ("fields", "required", "template")

    def __init__(self, model: type[BaseModel]) -> None:
        fields = model.__pydantic_fields__
        self.template = {
            name: field.default
            if not field.is_required() and field.default_factory is None
            else _REQUIRED
            for name, field in fields.items()
        }
        self.required = frozenset(n for n, v in self.template.items() if v is _REQUIRED)
        self.fields = frozenset(fields)


_LAYOUTS: dict[type[BaseModel], _Layout] = {}


def _layout(model: type[BaseModel]) -> _Layout:
    layout = _LAYOUTS.get(model)
    if layout is None:
        layout = _LAYOUTS[model] = _Layout(model)
    return layout


def assembled(model: type[M], values: dict[str, Any], fields_set: Iterable[str]) -> M:
    """A model from a complete dict of trusted values in field order, taken as its fields.

    What :func:`trusted` and :func:`trusted_update` build; for the engine's
    hottest results (every field given, so the fields given are known in
    advance) it is called directly: no keyword dict to check and copy.

    Args:
        model: The model class (no private attributes, no post-init hook).
        values: Every field, in the model's order (the dict becomes the instance's).
        fields_set: The fields given explicitly (``model_fields_set``).

    Returns:
        The instance.

    Example:
        >>> from cluneal.alerts import SafetyAlert, Severity
        >>> values = {"severity": Severity.INFO, "message": "m", "rule_id": "r",
        ...           "citation": "c", "drugs": (), "action": None}
        >>> assembled(SafetyAlert, values, ("severity", "message", "rule_id", "citation")) == (
        ...     SafetyAlert(severity="info", message="m", rule_id="r", citation="c"))
        True
    """
    instance = model.__new__(model)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", set(fields_set))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def trusted(model: type[M], /, **values: Any) -> M:
    """Build a model from values that are already valid, without validating them again.

    For the engine's results, made of validated knowledge-base values and of
    models already checked: the cost of a result is then that of a dict.
    Faster than ``model_construct`` (no aliases to resolve); a model with
    private attributes or a ``model_post_init`` must not be built so. A field
    typed :data:`~cluneal._lazy_text.TextOnRead` may be given a
    :class:`~cluneal._lazy_text.Deferred`, rendered when read or serialised.

    Args:
        model: The model class (no private attributes, no post-init hook).
        **values: Every required field, and the optional ones that differ
            from their default (immutable defaults only).

    Returns:
        The instance.

    Raises:
        TypeError: A field name the model does not have, or a required one missing.

    Example:
        >>> from cluneal.alerts import SafetyAlert
        >>> from cluneal.alerts import Severity
        >>> a = trusted(SafetyAlert, severity=Severity.INFO, message="m", rule_id="r", citation="c")
        >>> a == SafetyAlert(severity="info", message="m", rule_id="r", citation="c")
        True
    """
    layout = _layout(model)
    if not (layout.required <= values.keys() <= layout.fields):
        missing = sorted(layout.required - values.keys())
        unknown = sorted(values.keys() - layout.fields)
        msg = f"{model.__name__}: required fields missing {missing}, unknown fields {unknown}"
        raise TypeError(msg)
    # A copy of the ordered defaults, updated in place: fields keep their order.
    ordered = layout.template.copy()
    ordered.update(values)
    return assembled(model, ordered, values)


def trusted_update(instance: M, /, **changes: Any) -> M:
    """A copy of a model with some fields replaced by values that are already valid.

    For the engine's results that share most of their values with a memoised
    one (built by :func:`trusted`): the copy costs a dict copy, whatever the
    number of fields. The same restrictions as :func:`trusted` apply.

    Args:
        instance: The model to copy (it is not changed).
        **changes: Field names and their new values.

    Returns:
        The new instance.

    Raises:
        TypeError: A field name the model does not have.

    Example:
        >>> from cluneal.alerts import SafetyAlert
        >>> from cluneal.alerts import Severity
        >>> a = trusted(SafetyAlert, severity=Severity.INFO, message="m", rule_id="r", citation="c")
        >>> trusted_update(a, message="n") == SafetyAlert(
        ...     severity="info", message="n", rule_id="r", citation="c")
        True
    """
    model = instance.__class__
    layout = _layout(model)
    if not changes.keys() <= layout.fields:
        msg = f"{model.__name__}: unknown fields {sorted(changes.keys() - layout.fields)}"
        raise TypeError(msg)
    values = instance.__dict__.copy()
    values.update(changes)
    return assembled(model, values, instance.__pydantic_fields_set__.union(changes))


def coerce_model(value: object, model: type[M], name: str) -> M:
    """Accept a model instance or its JSON-style mapping; refuse anything else clearly.

    Args:
        value: What the caller passed.
        model: The model expected.
        name: The argument name, for the error.

    Returns:
        The instance (validated when it came as a mapping).

    Raises:
        ClunealError: Neither an instance nor a mapping.
        ValidationError: A mapping that is not a valid instance.
    """
    if isinstance(value, model):
        return value
    if isinstance(value, Mapping):
        return model.model_validate(value)
    msg = f"{name}: got {type(value).__name__}; expected a {model.__name__} or a mapping"
    raise ClunealError(msg)
