"""The six drugs cluneal knows (:class:`cluneal.vocabulary.Drug`, importable here as before)."""

from __future__ import annotations

from cluneal.vocabulary import Drug

__all__ = ["Drug"]
