"""API.md: for every public model M and instance m, M.model_validate_json(m.model_dump_json()) == m."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from pydantic import BaseModel

import cluneal
from cluneal.cli import _DEMO_CASE


def _instances() -> dict[str, list[BaseModel]]:
    """Real instances of every public model, harvested from full results."""
    found: dict[str, list[BaseModel]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, BaseModel):
            found.setdefault(type(value).__name__, []).append(value)
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, tuple | list | frozenset):
            for item in value:
                walk(item)

    case = cluneal.Case.model_validate(_DEMO_CASE)
    walk(case)
    walk(case.plan())
    dialysis = cluneal.Patient(age=70, sex="male", weight="80 kg", on_dialysis=True)
    walk(cluneal.titration_schedule("gabapentin", dialysis))
    walk(cluneal.estimate_creatinine_clearance(case.patient))
    walk(cluneal.citation("kuniya_2014"))
    for intervention in cluneal.Intervention:
        walk(cluneal.evidence_for(intervention))
    procedures = [
        {
            "kind": "nerve_block",
            "guidance": "ultrasound",
            "local_anaesthetic": "lidocaine",
            "corticosteroid": "triamcinolone",
            "target_branches": ["superior"],
        },
        {
            "kind": "radiofrequency_ablation",
            "technique": "pulsed",
            "guidance": "fluoroscopy",
            "target_branches": ["middle"],
        },
        {
            "kind": "peripheral_nerve_stimulation",
            "mode": "temporary_percutaneous",
            "guidance": "ultrasound",
            "target_branches": ["superior"],
        },
        {
            "kind": "surgical_decompression",
            "technique": "neurolysis",
            "target_branches": ["superior", "middle"],
        },
    ]
    for data in procedures:
        walk(cluneal.parse_procedure(data))
    history = cluneal.CareHistory(
        outcomes=[
            cluneal.InterventionOutcome(
                intervention="radiofrequency_ablation", relief_percent=20, relief_duration="1 week"
            )
        ]
    )
    walk(cluneal.next_step(case.findings, history))
    walk(cluneal.assess_diagnosis(cluneal.Findings(neuro=cluneal.NeuroExam(motor_weakness=True))))
    walk(history)
    # A local protocol, and a plan and schedule made under it (sha256 and version carried).
    protocol = cluneal.LocalProtocol(
        name="st-elsewhere-pain",
        version="3",
        strengths={"gabapentin": ["300 mg"]},
        max_daily_dose={"gabapentin": "1.2 g/d"},
        excluded_drugs=["tramadol"],
        first_line=["gabapentin"],
        block_threshold_percent=70,
        lasting_relief={"value": 16, "unit": "wk"},
    )
    walk(protocol)
    clinic = cluneal.knowledge_base().with_protocol(protocol)
    walk(case.plan(knowledge=clinic))
    return found


INSTANCES = _instances()
PUBLIC_MODELS = sorted(
    name
    for name in cluneal.__all__
    if inspect.isclass(getattr(cluneal, name)) and issubclass(getattr(cluneal, name), BaseModel)
)


@pytest.mark.parametrize("name", PUBLIC_MODELS)
def test_every_public_model_round_trips(name: str) -> None:
    """Each public model has real instances here, and each survives JSON unchanged."""
    model = getattr(cluneal, name)
    instances = INSTANCES.get(name, [])
    assert instances, f"no instance of {name} was produced"
    for instance in instances:
        assert model.model_validate_json(instance.model_dump_json()) == instance
