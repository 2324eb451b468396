"""Issue 10: the same input gives the same bytes in every process; errors cross processes.

Sets have no order and Python salts string hashes per process (PYTHONHASHSEED),
so any set written in iteration order would make JSON, text, HTML or FHIR differ
between two runs of the same case. Multiprocessing and Dask pickle errors.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import typing
from typing import Any

import pytest

import cluneal
from cluneal import errors
from cluneal._base import FrozenModel

# Both nerve branches, two tender points, co-medications and a history: every
# set-valued field of a plan holds more than one member.
_SCRIPT = r"""
import hashlib, json, cluneal, cluneal.fhir
from cluneal.display import plan_html
case = cluneal.Case.model_validate({
    "patient": {"age": 72, "sex": "female", "weight": "68 kg", "height": "163 cm",
                "serum_creatinine": "1.3 mg/dL",
                "medications": ["sertraline", "apixaban", "oxycodone", "vitamin d"],
                "conditions": ["falls_history", "urinary_retention"]},
    "findings": {
        "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
        "tender_points": [{"site": "iliac_crest", "reproduces_pain": True},
                          {"site": "caudal_to_psis", "reproduces_pain": True}],
        "block": {"branches": ["superior", "middle"], "relief_percent": 80,
                  "relief_duration": "3 weeks"}},
    "history": {"outcomes": [{"intervention": "nerve_block", "relief_percent": 70,
                              "relief_duration": "4 weeks"}]},
    "start_date": "2026-03-02",
})
plan = case.plan()
parts = [plan.model_dump_json(), str(plan), plan_html(plan),
         json.dumps(cluneal.fhir.bundle(plan), sort_keys=False)]
print("\n".join(hashlib.sha256(p.encode()).hexdigest() for p in parts))
"""


def _digests(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    return done.stdout.split()


def test_plan_bytes_do_not_depend_on_the_hash_seed() -> None:
    """JSON, text, HTML and FHIR of one case are byte-identical across hash seeds.

    Seeds 1 and 3 ordered the two nerve branches differently before sets were
    serialised sorted (the JSON digests differed), so this pair can fail.
    """
    first, second, third = _digests("1"), _digests("3"), _digests("2024")
    assert len(first) == 4
    assert first == second == third


def _models() -> list[type[FrozenModel]]:
    found: list[type[FrozenModel]] = []
    pending = list(FrozenModel.__subclasses__())
    while pending:
        model = pending.pop()
        found.append(model)
        pending.extend(model.__subclasses__())
    return found


def test_every_set_field_serialises_in_a_fixed_order() -> None:
    """A set-valued field of any model has a JSON serialiser that orders it."""
    import cluneal.case
    import cluneal.plan

    assert cluneal.case.Case is not None and cluneal.plan.CarePlan is not None
    unordered = []
    for model in _models():
        for name, info in model.model_fields.items():
            origin = typing.get_origin(info.annotation)
            is_set = origin in {set, frozenset} or info.annotation in {set, frozenset}
            ordered = any(type(m).__name__ == "PlainSerializer" for m in info.metadata)
            if is_set and not ordered:
                unordered.append(f"{model.__name__}.{name}")
    assert unordered == []


def _error_instances() -> list[errors.ClunealError]:
    alert = cluneal.check_regimen(["tramadol", "naltrexone"], cluneal.Patient(age=50, sex="male"))
    return [
        errors.ClunealError("plain message"),
        errors.InvalidArgumentError("day", -1, "a whole number at least 0"),
        errors.InvalidQuantityError("weight", 70, "a body weight"),
        errors.UnknownTermError("drug", "aspirin", ["gabapentin", "pregabalin"]),
        errors.InsufficientDataError("Cockcroft-Gault", ["weight", "serum_creatinine"]),
        errors.ContraindicatedError("naltrexone", alert),
        errors.KnowledgeBaseError("citations.toml", "duplicate id 'x'"),
        errors.MissingExtraError("fhir", "FHIR validation"),
        errors.LocalProtocolError("block_threshold_percent", 40, "at least the built-in 50%"),
        errors.ExcludedDrugError("tramadol", "2026.12.0+clinic@3"),
    ]


def test_the_list_above_covers_every_error_class() -> None:
    """Each class in cluneal.errors.__all__ appears in the pickling test."""
    classes = {
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), BaseException)
    }
    assert classes == {type(e) for e in _error_instances()}


@pytest.mark.parametrize("error", _error_instances(), ids=lambda e: type(e).__name__)
def test_errors_pickle_with_their_attributes(error: errors.ClunealError) -> None:
    """Every error class survives pickle (multiprocessing, Dask) with message and attributes."""
    copy: Any = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
