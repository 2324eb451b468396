"""Loader for ``medications.toml``: the medication catalogue, generic name to classes.

The safety rules classify a patient's co-medications with it (an SSRI, an
opioid, an MAOI ...). The rules read the catalogue of the knowledge base they
are given; :func:`medication_catalogue` is the built-in one.

Example:
    >>> from cluneal.knowledge.medications import medication_catalogue
    >>> sorted(c.value for c in medication_catalogue()["pregabalin"])
    ['antiepileptic', 'gabapentinoid']
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.vocabulary import MedicationClass

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Catalogue", "medication_catalogue", "normalise_name", "parse_medications"]

Catalogue = MappingProxyType[str, frozenset[MedicationClass]]
"""Generic name (lower case, single spaces) to the classes the knowledge base assigns."""

_SOURCE = "medications.toml"


@cache
def medication_catalogue() -> Catalogue:
    """Return the built-in medication catalogue (read once, validated).

    Returns:
        Generic name to classes.

    Raises:
        KnowledgeBaseError: The file is missing or malformed.
    """
    return parse_medications(read_toml(_SOURCE))


def parse_medications(raw: Mapping[str, Any]) -> Catalogue:
    """Validate the parsed ``medications.toml`` (what :func:`medication_catalogue` reads).

    Args:
        raw: The parsed TOML: ``[classes]`` of class name to generic names.

    Returns:
        Generic name to classes.

    Raises:
        KnowledgeBaseError: An unknown class, or a malformed file.

    Example:
        >>> parse_medications({"classes": {"ssri": ["Sertraline"]}})["sertraline"]
        frozenset({<MedicationClass.SSRI: 'ssri'>})
    """
    try:
        members: dict[str, set[MedicationClass]] = {}
        for cls_name, names in raw["classes"].items():
            cls = MedicationClass(cls_name)
            for name in names:
                members.setdefault(normalise_name(name), set()).add(cls)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc
    return MappingProxyType({name: frozenset(c) for name, c in members.items()})


def normalise_name(name: str) -> str:
    """A generic name as the catalogue keys it: single spaces, case folded.

    Example:
        >>> normalise_name("  Vitamin   D ")
        'vitamin d'
    """
    return " ".join(name.split()).casefold()
