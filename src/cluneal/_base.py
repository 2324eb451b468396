"""The base of every cluneal model: frozen, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenModel"]


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
