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
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from cluneal.errors import ClunealError

__all__ = ["FrozenModel", "coerce_model"]

# The presentation modules, by name: each defines ``render(model) -> str | None``.
_PRESENTERS: Final = MappingProxyType({"html": "cluneal.display", "text": "cluneal.report"})


def _present(model: object, kind: Literal["html", "text"]) -> str | None:
    rendered: str | None = importlib.import_module(_PRESENTERS[kind]).render(model)
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
    )

    def _repr_html_(self) -> str | None:
        # None tells Jupyter to fall back to the plain repr.
        return _present(self, "html")

    def __str__(self) -> str:
        text = _present(self, "text")
        return super().__str__() if text is None else text


M = TypeVar("M", bound=FrozenModel)


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
