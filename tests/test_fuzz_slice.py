"""A derandomised slice of ``nox -s fuzz`` in the default test run (issue 10).

The full runs (100,000 API calls, 10,000 command lines) live in ``nox -s fuzz``;
this slice runs the same harnesses on a few hundred inputs so CI catches a
regression. Same inputs every run: Hypothesis is derandomised.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"


def _load(name: str) -> ModuleType:
    # The harness imports its sibling schema_strategy, as when run as a script.
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    spec = importlib.util.spec_from_file_location(f"cluneal_fuzz_{name}", FUZZ / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_hostile_python_api_slice() -> None:
    """Every target: refused cleanly or accepted soundly; no NaN accepted."""
    hostile = _load("hostile")
    report = hostile.run(len(hostile.TARGETS) * 30)
    assert report.as_dict()["unexpected_kinds"] == {}
    assert report.non_finite_accepted == 0
    assert report.refused > 0 and report.accepted > 0  # both paths were exercised
    assert len(report.per_target) == len(hostile.TARGETS)


def test_hostile_command_line_slice() -> None:
    """Command lines: exit 0 or 2, never a traceback (two of them as real processes)."""
    cli = _load("hostile_cli")
    report = cli.run(300, subprocesses=2)
    assert report.as_dict()["unexpected_kinds"] == {}
    assert report.refused > 0 and report.accepted > 0
    assert report.subprocesses == 2


def test_the_harness_counts_an_unexpected_exception() -> None:
    """The harness would notice a leak: a TypeError is counted as unexpected."""
    hostile = _load("hostile")
    report = hostile.Report()

    def leak() -> object:
        raise TypeError("a Python internal")

    hostile.call(report, "leak", leak)
    hostile.call(report, "nan", lambda: float("nan"))
    assert report.as_dict()["unexpected"] == 2
    assert report.non_finite_accepted == 1
