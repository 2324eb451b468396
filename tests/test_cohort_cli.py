"""``cluneal cohort INPUT OUTPUT``: Parquet and CSV, streamed, summary, exit 2 on bad input.

Run in-process through ``cluneal.cli.main`` (and once as a real subprocess, the
way users call it). The values are checked against the scalar reference.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import cluneal
from cluneal.cli import main
from cluneal.cohort import _files
from tests.cohort_reference import (
    care_plan_reference,
    random_records,
    same,
    schedule_reference,
)

if TYPE_CHECKING:
    from pathlib import Path

KB = cluneal.knowledge_base()


def _check(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(rows) == len(expected)
    for index, (row, reference) in enumerate(zip(rows, expected, strict=True)):
        for column, value in reference.items():
            assert same(row[column], value), (index, column, row[column], value)


def test_parquet_care_plans_in_several_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_files, "BATCH_ROWS", 64)  # 300 rows: five batches
    records = random_records(300, seed=11)
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.Table.from_pylist(records), source)
    assert main(["cohort", str(source), str(target)]) == 0
    out = capsys.readouterr().out
    expected = [care_plan_reference(r, KB) for r in records]
    errors = sum(e["error"] is not None for e in expected)
    assert f"rows: 300; errors: {errors}" in out
    normal = sum(e["renal_band"] == "normal" for e in expected)
    assert f"normal {normal}" in out
    assert "by next step:" in out
    assert "cluneal supports clinical decisions; it does not make them." in out
    got = pq.read_table(target)
    assert got.column("patient_id").to_pylist() == [r["patient_id"] for r in records]
    _check(got.to_pylist(), expected)
    assert not (tmp_path / "out.parquet.partial").exists()


def test_csv_schedules_with_a_protocol(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = random_records(120, seed=12, findings=False)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    pa_csv.write_csv(pa.Table.from_pylist(records), source)
    protocol = tmp_path / "clinic.toml"
    protocol.write_text(
        'name = "clinic"\nversion = "1"\n[max_daily_dose]\ngabapentin = "1200 mg/day"\n'
    )
    argv = ["cohort", str(source), str(target), "--drug", "gabapentin"]
    assert main([*argv, "--protocol", str(protocol), "--quiet"]) == 0
    assert "by outcome:" in capsys.readouterr().out
    nulls = pa_csv.ConvertOptions(strings_can_be_null=True)  # an empty cell is null
    got = pa_csv.read_csv(target, convert_options=nulls).to_pylist()
    kb = KB.with_protocol(cluneal.LocalProtocol.from_toml(protocol))
    expected = [schedule_reference(r, "gabapentin", kb) for r in records]
    for row in got:  # CSV has no lists: rule ids are ';'-separated
        ids = row["alert_rule_ids"]
        if row["error"] is None:  # an empty cell: no alerts
            row["alert_rule_ids"] = [] if ids is None else ids.split(";")
    _check(got, expected)


def test_empty_input_gives_an_empty_output_with_every_column(tmp_path: Path) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    schema = pa.schema([("age", pa.float64()), ("sex", pa.string()), ("weight_kg", pa.float64())])
    pq.write_table(schema.empty_table(), source)
    assert main(["cohort", str(source), str(target), "--quiet"]) == 0
    got = pq.read_table(target)
    assert got.num_rows == 0
    assert {"error", "next_step", "alert_rule_ids"} <= set(got.column_names)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cohort", "in.txt", "out.parquet"], "expected a file ending in .parquet"),
        (["cohort", "missing.parquet", "out.parquet"], "cannot read"),
        (["cohort", "in.parquet", "out.json"], "expected a file ending in .parquet"),
        (["cohort", "in.parquet", "out.parquet", "--drug", "aspirin"], "drug"),
        (["cohort", "nocols.parquet", "out.parquet"], "missing column"),
        (["cohort", "broken.parquet", "out.parquet"], "cannot read"),
        (["cohort", "in.parquet", "no-such-dir/out.parquet"], "cannot write"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    pq.write_table(pa.table({"age": [40.0], "sex": ["male"], "weight_kg": [70.0]}), "in.parquet")
    pq.write_table(pa.table({"age": [40.0]}), "nocols.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cluneal: error:")
    assert message in err
    assert not list(tmp_path.glob("*.partial"))


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"age": [40.0], "sex": ["male"], "weight_kg": [70.0]}), source)

    class Terminal:
        def __init__(self, tty: bool) -> None:
            self.text = ""
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

        def flush(self) -> None:
            pass

    for tty, quiet, shown in ((True, False, True), (True, True, False), (False, False, False)):
        stream = Terminal(tty)
        _files.run(
            str(source),
            str(tmp_path / "out.parquet"),
            drug=None,
            knowledge=None,
            quiet=quiet,
            stream=stream,  # type: ignore[arg-type]
        )
        assert ("100%" in stream.text) is shown


def test_console_script_runs_as_a_subprocess(tmp_path: Path) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.csv"
    pq.write_table(pa.table({"age": [40.0], "sex": ["male"], "weight_kg": [70.0]}), source)
    done = subprocess.run(
        [sys.executable, "-m", "cluneal", "cohort", str(source), str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a terminal: no progress bar
    assert "rows: 1; errors: 0" in done.stdout
