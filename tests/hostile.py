"""Hostile and malformed CDS Hooks requests, generated deterministically from a seed.

Used by the bounded slice in ``tests/test_service_fuzz.py`` and by the 20,000-request
run of ``nox -s load``. Every request must get an answer below 500.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.fhir_records import draft, order_request, patient_view

# The fuzz harnesses' own module: one implementation of "every place in a document".
_FUZZ = str(Path(__file__).resolve().parents[1] / "fuzz")
if _FUZZ not in sys.path:
    sys.path.insert(0, _FUZZ)
from json_places import json_places  # noqa: E402

if TYPE_CHECKING:
    import random

PATHS = (
    "/cds-services/cluneal-patient-view",
    "/cds-services/cluneal-order-select",
    "/cds-services/cluneal-order-sign",
    "/cds-services/cluneal-patient-view/feedback",
    "/cds-services/../../etc/passwd",
    "/cds-services/%00",
    "/cds-services",
)

_NASTY: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    1e308,
    -1e-308,
    2**70,
    "",
    " ",
    "\x00",
    "💥" * 50,
    "A" * 5000,
    "../../etc/passwd",
    "Patient/../../x",
    "{{context.patientId}}",
    "1954-02-30",
    "9999-99-99",
    "NaN",
    [],
    [None],
    [[[[[]]]]],
    {},
    {"resourceType": "Bundle"},
    {"resourceType": "Bundle", "entry": "x"},
    {"resourceType": "Bundle", "entry": [{"resource": None}, {"resource": 1}]},
    {"resourceType": "Patient", "id": "demo", "gender": ["female"], "birthDate": 1954},
    {"resourceType": "Observation", "status": ["final"], "code": {"coding": [{"code": {}}]}},
    {"value": 1, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "[lb_av]"},
    {"value": "1", "code": "kg"},
)


def _set(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


def _delete(document: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return {}
    target = document
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return document


def _nested(depth: int) -> Any:
    value: Any = {"resourceType": "Patient", "id": "demo"}
    for _ in range(depth):
        value = {"resourceType": "Bundle", "entry": [{"resource": value}]}
    return value


def _base(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(3)
    if kind == 0:
        return patient_view()
    orders = [draft("gaba", "25480", rng.choice([100, 1200, 5000]), rng.choice([1, 3, 24]))]
    hook = "order-select" if kind == 1 else "order-sign"
    return order_request(hook, orders, selections=["MedicationRequest/gaba"])


def hostile_request(rng: random.Random) -> tuple[str, bytes]:
    """One hostile request: a path and the raw body."""
    path = rng.choice(PATHS[:3]) if rng.random() < 0.85 else rng.choice(PATHS)
    request: Any = _base(rng)
    roll = rng.random()
    if roll < 0.05:
        return path, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if roll < 0.10:
        text = json.dumps(request)
        return path, text[: rng.randrange(len(text))].encode()
    if roll < 0.15:
        request["prefetch"]["patient"] = _nested(rng.choice([3, 9, 50, 200]))
        return path, json.dumps(request).encode()
    for _ in range(rng.randrange(1, 6)):
        paths = json_places(request)
        target = rng.choice(paths)
        if rng.random() < 0.3 and target:
            request = _delete(request, target)
        else:
            request = _set(request, target, copy.deepcopy(rng.choice(_NASTY)))
    try:
        return path, json.dumps(request).encode()
    except (TypeError, ValueError):  # pragma: no cover - every value above serialises
        return path, b"{}"
