"""Issue 15: no output and no docs page names a document outside the repository.

The package's own clinical decisions are published on the Clinical decisions
page and cited by id; nothing a user reads points at "clinical.md" (an
internal working file), in text, HTML, JSON, FHIR, the CLI or the docs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cluneal import (
    CareHistory,
    Findings,
    InterventionOutcome,
    Patient,
    assess_renal_function,
    care_plan,
    titration_schedule,
)
from cluneal.case import case_json_schema
from cluneal.display import renal_html
from cluneal.drug import Drug
from cluneal.evidence import all_citations
from cluneal.fhir import exam_questionnaire
from cluneal.fhir import export as fhir
from cluneal.report import format_renal

if TYPE_CHECKING:
    from cluneal.plan import CarePlan

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = "clinical.md"
TRIAD: dict[str, Any] = {
    "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
    "block": {"branches": ["superior"], "relief_percent": 80, "relief_duration": "2 weeks"},
}
PATIENTS: list[dict[str, Any]] = [
    {"age": 30, "sex": "female", "weight": "62 kg", "serum_creatinine": "0.8 mg/dL"},
    {
        "age": 72,
        "sex": "male",
        "weight": "70 kg",
        "serum_creatinine": "1.9 mg/dL",
        "medications": ["warfarin", "sertraline"],
    },
    {
        "age": 80,
        "sex": "female",
        "weight": "50 kg",
        "serum_creatinine": "3.5 mg/dL",
        "hepatic_impairment": "moderate",
        "conditions": ["falls_history"],
    },
    {
        "age": 60,
        "sex": "male",
        "weight": "80 kg",
        "serum_creatinine": "6 mg/dL",
        "on_dialysis": True,
    },
    {"age": 70, "sex": "male"},
]


def _plans() -> list[CarePlan]:
    findings = Findings.model_validate(TRIAD)
    failed = CareHistory(
        outcomes=(
            InterventionOutcome(
                intervention="radiofrequency_ablation", relief_percent=10, relief_duration="4 weeks"
            ),
        )
    )
    return [
        care_plan(Patient.model_validate(p), findings, history)
        for p in PATIENTS
        for history in (None, failed)
    ]


def _outputs() -> list[str]:
    texts: list[str] = []
    for plan in _plans():
        texts += [str(plan), plan._repr_html_() or "", plan.model_dump_json()]
        texts.append(json.dumps(fhir.bundle(plan)))
        for schedule in plan.medications:
            texts += [str(schedule), schedule._repr_html_() or "", schedule.model_dump_json()]
            texts.append(json.dumps(fhir.medication_request(schedule)))
    for data in PATIENTS:
        patient = Patient.model_validate(data)
        renal = assess_renal_function(patient)
        texts += [renal_html(renal, patient), format_renal(renal, patient), renal.model_dump_json()]
        for drug in Drug:
            try:
                schedule = titration_schedule(drug, patient)
            except ValueError:
                continue  # contraindicated or no achievable dose: its alerts are in the plans
            texts += [str(schedule), schedule._repr_html_() or "", schedule.model_dump_json()]
    texts.append(json.dumps(fhir.plan_definition()))
    texts.append(json.dumps(exam_questionnaire()))
    texts.append(json.dumps(case_json_schema()))
    texts += [json.dumps(c.model_dump(mode="json")) for c in all_citations().values()]
    return texts


def test_no_output_names_a_file_outside_the_repository() -> None:
    offending = [text for text in _outputs() if FORBIDDEN in text]
    assert offending == [], offending[0][:2000] if offending else ""


@pytest.mark.parametrize(
    "command",
    [
        ["demo"],
        ["plan", str(ROOT / "examples" / "case.json")],
        ["plan", str(ROOT / "examples" / "case.json"), "--json"],
        ["schedule", "gabapentin", "--age", "80", "--sex", "female"],
        ["schema"],
    ],
)
def test_no_cli_output_names_it(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cluneal", *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert FORBIDDEN not in result.stdout + result.stderr


def test_no_docs_page_or_docstring_names_it() -> None:
    sources = [
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("docs/*.py"),
        *ROOT.glob("src/**/*.py"),
        *ROOT.glob("src/**/*.toml"),
        ROOT / "README.md",
    ]
    named = [
        str(path.relative_to(ROOT))
        for path in sources
        if "_build" not in path.parts and FORBIDDEN in path.read_text(encoding="utf-8")
    ]
    assert named == []
