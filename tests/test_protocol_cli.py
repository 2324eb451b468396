"""Local protocols on the command line and in the FHIR export.

`cluneal plan CASE --protocol clinic.toml` and `cluneal schedule DRUG ... --protocol
clinic.toml` apply a clinic's protocol; a protocol file with an error exits 2 with one line
naming the field, the value and the limit (API.md: Command line; decision_local_protocol_conservative).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cluneal import LocalProtocol, knowledge_base
from cluneal.case import Case
from cluneal.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "local_protocol.toml"
CASE = ROOT / "examples" / "case.json"
PATIENT = ["--age", "50", "--sex", "male", "--weight", "80 kg", "--creatinine", "1.0 mg/dL"]


def _one_line_error(err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cluneal: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


def test_plan_with_the_example_protocol_as_a_user_runs_it() -> None:
    """A subprocess, as a user runs it: the plan names the protocol's version and hash, uses
    its 70% threshold (Kiral 2024) and 16 weeks, and proposes its first-line drug."""
    result = subprocess.run(
        [sys.executable, "-m", "cluneal", "plan", str(CASE), "--protocol", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    protocol = LocalProtocol.from_toml(EXAMPLE)
    version = f"{knowledge_base().version}+st-elsewhere-pain@3"
    assert f"Knowledge base {version} (local protocol {protocol.sha256})" in result.stdout
    assert "(threshold 70%)" in result.stdout
    assert "Pregabalin titration" in result.stdout
    assert "Maximum daily dose: 300 mg/day [local_protocol.cap.pregabalin]" in result.stdout


def test_plan_json_carries_version_and_hash(capsys: pytest.CaptureFixture[str]) -> None:
    """`plan --json --protocol`: the machine output carries the version and the sha256."""
    assert main(["plan", str(CASE), "--json", "--protocol", str(EXAMPLE)]) == 0
    plan = json.loads(capsys.readouterr().out)
    protocol = LocalProtocol.from_toml(EXAMPLE)
    assert plan["knowledge_base_version"].endswith("+st-elsewhere-pain@3")
    assert plan["protocol_sha256"] == protocol.sha256
    assert plan["medications"][0]["protocol_sha256"] == protocol.sha256
    statuses = {c["drug"]: c["status"] for c in plan["drug_choices"]}
    assert statuses["tramadol"] == "excluded_by_protocol"
    expected = Case.model_validate_json(CASE.read_text()).plan(
        knowledge=knowledge_base().with_protocol(protocol)
    )
    assert plan == json.loads(expected.model_dump_json())


def test_schedule_with_a_protocol_uses_stocked_strengths(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`schedule gabapentin --protocol`: only the stocked 300 mg capsules, the protocol's cap;
    a JSON protocol file (by its .json name) works the same."""
    assert main(["schedule", "gabapentin", *PATIENT, "--json", "--protocol", str(EXAMPLE)]) == 0
    schedule = json.loads(capsys.readouterr().out)
    assert schedule["max_daily_dose"] == {"value": 1200, "unit": "mg/d"}
    assert schedule["max_daily_dose_rule"] == "local_protocol.cap.gabapentin"
    assert {s["composition"] for s in schedule["steps"]} == {"1 x 300 mg capsule"}
    as_json = tmp_path / "clinic.json"
    as_json.write_text(LocalProtocol.from_toml(EXAMPLE).model_dump_json(), encoding="utf-8")
    assert main(["schedule", "gabapentin", *PATIENT, "--json", "--protocol", str(as_json)]) == 0
    assert json.loads(capsys.readouterr().out) == schedule
    assert main(["schedule", "gabapentin", *PATIENT, "--protocol", str(EXAMPLE)]) == 0
    text = capsys.readouterr().out
    assert "Knowledge base 2026" in text
    assert "+st-elsewhere-pain@3 (local protocol sha256:" in text


def test_the_titration_protocol_keeps_its_words(capsys: pytest.CaptureFixture[str]) -> None:
    """`--titration start_low` names the titration protocol; the old `--protocol start_low`
    still means it (a local protocol is a file)."""
    for option in ("--titration", "--protocol"):
        assert main(["schedule", "nortriptyline", *PATIENT, "--json", option, "start_low"]) == 0
        assert json.loads(capsys.readouterr().out)["protocol"] == "start_low"


def test_an_excluded_drug_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`schedule tramadol` under a protocol that excludes it: status 2, one line."""
    assert main(["schedule", "tramadol", *PATIENT, "--protocol", str(EXAMPLE)]) == 2
    _one_line_error(capsys.readouterr().err, "tramadol is excluded", "st-elsewhere-pain@3")


BAD_FILES = [
    # (TOML body after name and version, the field, the value, the limit)
    ('[max_daily_dose]\ngabapentin = "4000 mg/day"\n', "max_daily_dose.gabapentin", "4000", "3600"),
    ('[strengths]\ngabapentin = ["250 mg"]\n', "strengths.gabapentin", "250 mg", "300 mg"),
    ('[strengths]\naspirin = ["300 mg"]\n', "strengths.aspirin", "aspirin", "gabapentin"),
    ("max_dose = 3\n", "max_dose", "3", "max_daily_dose"),
    ("block_threshold_percent = 40\n", "block_threshold_percent", "40", "built-in 50%"),
    ('lasting_relief = "4 weeks"\n', "lasting_relief", "4 weeks", "built-in 12 weeks"),
    ('first_line = ["tramadol"]\n', "first_line", "tramadol", "second line"),
]


@pytest.mark.parametrize(("body", "field", "value", "limit"), BAD_FILES)
@pytest.mark.parametrize("command", ["plan", "schedule"])
def test_a_protocol_file_with_an_error_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
    body: str,
    field: str,
    value: str,
    limit: str,
) -> None:
    """Each refusal through the CLI: status 2, one line naming the field, the value and the limit."""
    path = tmp_path / "clinic.toml"
    path.write_text(f'name = "clinic"\nversion = "1"\n{body}', encoding="utf-8")
    args = ["plan", str(CASE)] if command == "plan" else ["schedule", "gabapentin", *PATIENT]
    assert main([*args, "--protocol", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_line_error(captured.err, f"local protocol: {field}: got", value, limit)


def test_a_missing_or_broken_protocol_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file that is missing or not TOML: status 2, one line."""
    assert main(["plan", str(CASE), "--protocol", str(tmp_path / "none.toml")]) == 2
    _one_line_error(capsys.readouterr().err, "local protocol: file", "none.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n", encoding="utf-8")
    assert main(["plan", str(CASE), "--protocol", str(broken)]) == 2
    _one_line_error(capsys.readouterr().err, "valid TOML")


def test_a_looser_threshold_on_the_command_line_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--block-threshold 50` under a 70% protocol is refused: one line, status 2."""
    args = ["plan", str(CASE), "--protocol", str(EXAMPLE), "--block-threshold", "50"]
    assert main(args) == 2
    _one_line_error(capsys.readouterr().err, "block_threshold", "70%", "st-elsewhere-pain@3")


# --- FHIR -------------------------------------------------------------------------------


def test_fhir_plan_definition_and_bundle_carry_the_protocol() -> None:
    """The PlanDefinition's version names the protocol; it and the CarePlan carry its sha256;
    the description states its thresholds; both validate as R4."""
    pytest.importorskip("fhir.resources")
    from cluneal.fhir import bundle, plan_definition
    from cluneal.fhir.export import validate

    protocol = LocalProtocol.from_toml(EXAMPLE)
    kb = knowledge_base().with_protocol(protocol)
    definition = plan_definition(knowledge=kb)
    validate(definition)
    assert definition["version"] == kb.version
    assert definition["extension"][0]["valueString"] == protocol.sha256
    assert "positive from 70% relief" in definition["description"]
    assert "lasting from 16 weeks" in definition["description"]
    assert plan_definition()["version"] == knowledge_base().version
    assert "extension" not in plan_definition()
    plan = Case.model_validate_json(CASE.read_text()).plan(knowledge=kb)
    exported = bundle(plan)
    validate(exported)
    care = exported["entry"][0]["resource"]
    assert care["instantiatesCanonical"][0].endswith(f"|{kb.version}")
    assert care["extension"][0]["valueString"] == protocol.sha256
    request = exported["entry"][1]["resource"]
    assert {"url": care["extension"][0]["url"], "valueString": protocol.sha256} in request[
        "extension"
    ]
