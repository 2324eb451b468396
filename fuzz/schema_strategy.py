"""Hypothesis strategies for documents that a published JSON Schema accepts.

Covers what cluneal's schemas use: ``$ref`` into ``$defs``, ``anyOf``/``oneOf``,
``allOf`` of one, ``enum``/``const``, objects (required and optional
properties, ``additionalProperties: false``), arrays, strings (``pattern``,
``maxLength``, ``format: date``), numbers and integers with their bounds,
booleans and null. hypothesis-jsonschema 0.23.1, the current release, fails on
Hypothesis 6.170 (``'many' object has no attribute 'more'``), so the harness
carries this small generator instead; the documents it draws are checked
against the schema with ``jsonschema`` in the CI slice.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import strategies as st

Schema = dict[str, Any]


def from_schema(schema: Schema) -> st.SearchStrategy[Any]:
    """Documents that ``schema`` accepts."""
    return _strategy(schema, schema.get("$defs", {}))


def _strategy(node: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[Any]:  # noqa: PLR0911
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: _strategy(defs[name], defs))
    for key in ("anyOf", "oneOf"):
        if key in node:
            return st.one_of([_strategy(option, defs) for option in node[key]])
    if "allOf" in node and len(node["allOf"]) == 1:
        return _strategy(node["allOf"][0], defs)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    kind = node.get("type")
    if isinstance(kind, list):
        return st.one_of([_strategy({**node, "type": one}, defs) for one in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in {"number", "integer"}:
        return _numbers(node, integer=kind == "integer")
    if kind == "string":
        return _strings(node)
    if kind == "array":
        items = _strategy(node.get("items", {"type": "null"}), defs)
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 3), low + 3)
        if node.get("uniqueItems"):
            return st.lists(items, min_size=low, max_size=high, unique_by=repr)
        return st.lists(items, min_size=low, max_size=high)
    if kind == "object":
        return _objects(node, defs)
    msg = f"schema construct not covered: {sorted(node)}"
    raise ValueError(msg)


def _numbers(node: Schema, *, integer: bool) -> st.SearchStrategy[Any]:
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    exclude_low = "exclusiveMinimum" in node
    exclude_high = "exclusiveMaximum" in node
    whole_low = None if low is None else math.floor(low) + 1 if exclude_low else math.ceil(low)
    whole_high = None if high is None else math.ceil(high) - 1 if exclude_high else math.floor(high)
    whole = st.integers(min_value=whole_low, max_value=whole_high)
    if integer:
        return whole
    reals = st.floats(
        min_value=low,
        max_value=high,
        exclude_min=exclude_low and low is not None,
        exclude_max=exclude_high and high is not None,
        allow_nan=False,
        allow_infinity=False,
    )
    return st.one_of(whole, reals)


def _strings(node: Schema) -> st.SearchStrategy[str]:
    longest = node.get("maxLength", 30)
    if node.get("format") == "date":
        return st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)).map(dt.date.isoformat)
    if "pattern" in node:
        pattern: str = node["pattern"]
        return st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= longest)
    return st.text(min_size=node.get("minLength", 0), max_size=min(longest, 30))


def _objects(node: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties", {})
    required = set(node.get("required", ()))
    return st.fixed_dictionaries(
        {name: _strategy(properties[name], defs) for name in properties if name in required},
        optional={
            name: _strategy(properties[name], defs) for name in properties if name not in required
        },
    )
