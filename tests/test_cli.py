"""The command line, run in a subprocess as a user would."""

from __future__ import annotations

import subprocess
import sys

import cluneal
from cluneal.cli import main


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cluneal", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_demo_runs_a_case_end_to_end() -> None:
    """README: `cluneal demo` runs a built-in example case."""
    result = _run("demo")
    assert result.returncode == 0, result.stderr
    assert "supports clinical decisions; it does not make them" in result.stdout
    assert "Carbamazepine titration" in result.stdout
    assert "CrCl 42.0 mL/min" in result.stdout  # (140-72) x 68 / (72 x 1.3) x 0.85
    assert "Next step: Radiofrequency ablation" in result.stdout


def test_version() -> None:
    """`--version` prints the package version."""
    result = _run("--version")
    assert result.returncode == 0
    assert cluneal.__version__ in result.stdout


def test_no_command_prints_help_and_exits_2() -> None:
    """No command: usage help and status 2, no traceback."""
    result = _run()
    assert result.returncode == 2
    assert "usage" in result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_command_exits_2_without_traceback() -> None:
    """Bad input exits with status 2 and a message on stderr."""
    result = _run("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_main_in_process() -> None:
    """main() returns the status rather than exiting."""
    assert main(["demo"]) == 0
