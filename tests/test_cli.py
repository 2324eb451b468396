"""The command line, run in a subprocess as a user would (API.md, Command line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import cluneal
from cluneal.cli import main

EXAMPLE_CASE = Path(__file__).resolve().parents[1] / "examples" / "case.json"


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cluneal", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        input=stdin,
    )


def _assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cluneal: error:")
    for word in words:
        assert word in lines[0]


def test_demo_runs_a_case_end_to_end() -> None:
    """README: `cluneal demo` runs a built-in example case end to end."""
    result = _run("demo")
    assert result.returncode == 0, result.stderr
    assert "supports clinical decisions; it does not make them" in result.stdout
    assert "CrCl 42 mL/min" in result.stdout  # (140-72) x 68 / (72 x 1.3) x 0.85 = 41.99
    assert "Next step: Radiofrequency ablation" in result.stdout
    assert "Carbamazepine titration" in result.stdout


def test_version() -> None:
    """`--version` prints the package version."""
    result = _run("--version")
    assert result.returncode == 0
    assert cluneal.__version__ in result.stdout


def test_help_lists_commands_and_examples() -> None:
    """--help is helpful: every command and an example of each."""
    result = _run("--help")
    assert result.returncode == 0
    for word in ("demo", "plan", "schedule", "schema", "examples:", "does not make them"):
        assert word in result.stdout


def test_plan_example_case_is_readable() -> None:
    """`cluneal plan examples/case.json` prints a readable plan."""
    result = _run("plan", str(EXAMPLE_CASE))
    assert result.returncode == 0, result.stderr
    assert "Next step: Radiofrequency ablation" in result.stdout
    assert "Nortriptyline titration" in result.stdout  # 52-year-old: first-line nortriptyline
    assert "complementary.omega_3.bleeding" in result.stdout  # clopidogrel + omega-3


def test_plan_json_validates_against_the_published_schema() -> None:
    """--json output validates against the schema `cluneal schema --output` publishes."""
    plan = _run("plan", str(EXAMPLE_CASE), "--json")
    assert plan.returncode == 0, plan.stderr
    schema = _run("schema", "--output")
    assert schema.returncode == 0
    document: dict[str, Any] = json.loads(plan.stdout)
    jsonschema.validate(document, json.loads(schema.stdout))
    assert document["recommendation"]["step"] == "radiofrequency_ablation"
    assert cluneal.CarePlan.model_validate_json(plan.stdout).recommendation.step.value == (
        "radiofrequency_ablation"
    )


def test_case_files_validate_against_the_case_schema() -> None:
    """`cluneal schema` is the JSON Schema of the case input; the example case conforms."""
    result = _run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "cluneal case"
    jsonschema.validate(json.loads(EXAMPLE_CASE.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"patient": {"age": 50}}, schema)


def test_plan_reads_standard_input() -> None:
    """'-' reads the case from standard input (services pipe JSON)."""
    result = _run("plan", "-", "--json", stdin=EXAMPLE_CASE.read_text())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["knowledge_base_version"] == cluneal.KNOWLEDGE_BASE_VERSION


def test_schedule_command() -> None:
    """`cluneal schedule DRUG --age --sex --weight --creatinine` prints an auditable schedule."""
    result = _run(
        "schedule",
        "gabapentin",
        "--age",
        "78",
        "--sex",
        "female",
        "--weight",
        "60 kg",
        "--creatinine",
        "1.4 mg/dL",
    )
    assert result.returncode == 0, result.stderr
    # (140-78) x 60 x 0.85 / (72 x 1.4) = 31.4 mL/min: moderate band, cap 1400 mg/day
    assert "CrCl 31.4 mL/min" in result.stdout
    assert "1400 mg/day [gabapentin.renal.moderate]" in result.stdout
    as_json = _run(
        "schedule",
        "tramadol",
        "--age",
        "80",
        "--sex",
        "male",
        "--weight",
        "70 kg",
        "--creatinine",
        "1.0 mg/dL",
        "--json",
        "--start-date",
        "2026-12-01",
    )
    assert as_json.returncode == 0, as_json.stderr
    schedule = cluneal.TitrationSchedule.model_validate_json(as_json.stdout)
    assert schedule.max_daily_dose_mg == 300.0  # tramadol > 75 years: 300 mg/day (Part 0.3)
    assert schedule.steps[0].date is not None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("plan", "does-not-exist.json"), ("cannot read", "does-not-exist.json")),
        (
            ("schedule", "gabapentin", "--age", "78", "--sex", "female", "--weight", "60"),
            ("weight",),
        ),
        (("schedule", "aspirin", "--age", "50", "--sex", "male"), ("drug", "aspirin")),
        (("schedule", "gabapentin", "--age", "12", "--sex", "male"), ("age", "adults")),
        (("schedule", "gabapentin", "--age", "x", "--sex", "male"), ("age",)),
        (("schedule", "gabapentin", "--sex", "male"), ("--age",)),
        (
            (
                "schedule",
                "nortriptyline",
                "--age",
                "50",
                "--sex",
                "male",
                "--medication",
                "phenelzine",
            ),
            ("contraindicated", "contraindication.nortriptyline.maoi"),
        ),
        (("frobnicate",), ("invalid choice",)),
    ],
)
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    """API.md: bad input exits with status 2 and a one-line message on stderr, never a traceback."""
    _assert_one_line_error(_run(*args), *words)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{bad", ("Invalid JSON",)),
        ('{"patient": {"age": 10, "sex": "male"}}', ("patient.age", "adults")),
        ('{"patient": {"age": 50, "sex": "male"}, "extra": 1}', ("extra",)),
        ('{"patient": {"age": 50, "sex": "male", "weight": 70}}', ("patient.weight",)),
        ("[]", ("Case",)),
    ],
)
def test_bad_case_files_exit_2(tmp_path: Path, content: str, words: tuple[str, ...]) -> None:
    """Malformed or invalid case files: status 2, one clear line naming the field."""
    case = tmp_path / "case.json"
    case.write_text(content)
    _assert_one_line_error(_run("plan", str(case)), *words)


def test_no_command_prints_help_and_exits_2() -> None:
    """No command: usage help and status 2, no traceback."""
    result = _run()
    assert result.returncode == 2
    assert "usage" in result.stdout
    assert "Traceback" not in result.stderr


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """main() returns the status rather than exiting."""
    assert main(["schema"]) == 0
    assert '"title": "cluneal case"' in capsys.readouterr().out
    assert main(["plan", "missing.json"]) == 2
    assert "cannot read" in capsys.readouterr().err
