"""Every place in a JSON structure: where the hostile harnesses put a hostile value.

Shared by ``fuzz/hostile.py`` (FHIR documents) and ``tests/hostile.py`` (CDS
Hooks requests).
"""

from __future__ import annotations

from typing import Any


def json_places(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON structure where a value sits, the root (``()``) first.

    >>> json_places({"a": [1, {"b": 2}]})
    [(), ('a',), ('a', 0), ('a', 1), ('a', 1, 'b')]
    """
    found: list[tuple[Any, ...]] = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += json_places(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += json_places(item, (*prefix, index))
    return found
