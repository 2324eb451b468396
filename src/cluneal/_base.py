"""The base of every cluneal model: frozen, strict about unknown keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from cluneal.errors import ClunealError

__all__ = ["FrozenModel", "coerce_model"]


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
