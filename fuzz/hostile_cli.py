"""Hostile command lines: every invocation of ``cluneal`` exits 0 or 2, never with a traceback.

Hypothesis builds argument vectors (known commands with hostile option values,
unknown commands, stray options, text with lone surrogates and control
characters) and case files (hostile JSON documents, random bytes, files over
1 MB, directories, FIFOs, device files, missing paths) and standard input.
Each runs through :func:`cluneal.cli.main` in this process, with its output
captured; a few also run as real subprocesses (``python -m cluneal``).

* **accepted**: exit status 0;
* **refused**: exit status 2 with ``cluneal: error:`` on stderr;
* **unexpected**: an exception out of ``main``, another status, a refusal
  without the error line, or ``Traceback`` anywhere in the output.

``python fuzz/hostile_cli.py --examples 10000`` runs it (``nox -s fuzz``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hostile_harness
from hypothesis import strategies as st

from cluneal.cli import main

_HOSTILE_TEXT = [
    "",
    "-",
    "--",
    "-x",
    "--json",
    "--help",
    "--version",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "-5",
    "70",
    "70 kg",
    "154 lb",
    "900 kg",
    "70 furlongs",
    "1.1 mg/dL",
    "97 umol/L",
    "1e999 mg/dL",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-03-02",
    "\ud800",
    "\udcff",
    "a\x00b",
    "\x1b[31m",
    "female",
    "male",
    "gabapentin",
    "tramadol",
    "aspirin",
    "none",
    "severe",
    "pregnancy",
    "sertraline",
    "phenelzine",
    "start_low",
    "ideal",
    "positive",
    "12 weeks",
    "x" * 5000,
]

_TEXT = st.one_of(
    st.sampled_from(_HOSTILE_TEXT),
    st.text(max_size=12),
    st.text(st.characters(codec=None, categories=None, exclude_characters="\x00"), max_size=8),
)

_SCHEDULE_OPTIONS = [
    "--age",
    "--sex",
    "--weight",
    "--height",
    "--creatinine",
    "--hepatic",
    "--condition",
    "--medication",
    "--hla-b-1502",
    "--target",
    "--start-date",
    "--protocol",
    "--weight-basis",
]

_JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.sampled_from(_HOSTILE_TEXT),
        st.text(max_size=8),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "patient",
                    "findings",
                    "history",
                    "start_date",
                    "age",
                    "sex",
                    "weight",
                    "value",
                    "unit",
                    "medications",
                    "pain",
                    "block",
                    "outcomes",
                    "x",
                ]
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=10,
)


def _case_documents() -> st.SearchStrategy[bytes]:
    patient = st.fixed_dictionaries(
        {"age": st.one_of(st.integers(10, 130), _JSON_VALUES), "sex": _TEXT},
        optional={
            "weight": st.one_of(st.sampled_from(_HOSTILE_TEXT), _JSON_VALUES),
            "serum_creatinine": st.one_of(st.sampled_from(_HOSTILE_TEXT), _JSON_VALUES),
            "medications": st.one_of(st.lists(_TEXT, max_size=2), _JSON_VALUES),
        },
    )
    case = st.fixed_dictionaries(
        {"patient": st.one_of(patient, patient, _JSON_VALUES)},
        optional={
            "findings": _JSON_VALUES,
            "history": _JSON_VALUES,
            "start_date": st.one_of(st.sampled_from(_HOSTILE_TEXT), _JSON_VALUES),
        },
    )

    def encode(value: object) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")

    return st.one_of(
        st.builds(encode, case),
        st.builds(encode, _JSON_VALUES),
        st.binary(max_size=64),
        st.sampled_from(
            [
                b"",
                b"{",
                b"[" * 100_000,
                b'{"patient": {"age": 1e999, "sex": "male"}}',
                b'{"patient": {"age": NaN, "sex": "male"}}',
                b'{"patient": {"age": 70, "sex": "male"}, "start_date": "9999-12-31"}',
                b'{"patient": {"age": 70, "sex": "male\\ud800"}}',
                b"\xff\xfe{}",
            ]
        ),
    )


@dataclass
class Report(hostile_harness.Report):
    """Counts of one run, with how many ran as real processes."""

    subprocesses: int = 0

    def extra(self) -> dict[str, object]:
        """How many of the invocations ran as real processes."""
        return {"of_which_subprocesses": self.subprocesses}


class Workspace:
    """Hostile files on disk for the case argument."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.big = root / "big.json"
        with self.big.open("wb") as out:
            out.write(b'{"patient": {"age": 50, "sex": "male"}, "x": "')
            out.write(b"a" * 1_100_000)
            out.write(b'"}')
        self.directory = root / "folder"
        self.directory.mkdir()
        self.fifo = root / "fifo"
        if hasattr(os, "mkfifo"):
            os.mkfifo(self.fifo)
        self.loop = root / "loop"
        self.loop.symlink_to(self.loop)
        self.counter = 0

    def special_paths(self) -> list[str]:
        """Paths that are not regular case files."""
        return [
            "/dev/zero",
            "/dev/null",
            "/dev/urandom",
            str(self.big),
            str(self.directory),
            str(self.fifo),
            str(self.loop),
            str(self.root / "missing.json"),
            "",
            "a\x00b",
            "\udcff.json",
        ]

    def write(self, content: bytes) -> str:
        """A new case file with this content."""
        self.counter += 1
        path = self.root / f"case{self.counter}.json"
        path.write_bytes(content)
        return str(path)


def _argv(workspace: Workspace) -> st.SearchStrategy[tuple[list[str], bytes | None]]:
    @st.composite
    def build(draw: Any) -> tuple[list[str], bytes | None]:
        command = draw(st.sampled_from(["plan", "plan", "schedule", "schedule", "demo", "schema"]))
        stdin: bytes | None = None
        argv: list[str]
        if command == "plan":
            where = draw(st.sampled_from(["file", "file", "special", "stdin"]))
            if where == "file":
                target = workspace.write(draw(_case_documents()))
            elif where == "special":
                target = draw(st.sampled_from(workspace.special_paths()))
            else:
                target = "-"
                stdin = draw(_case_documents())
            argv = ["plan", target]
            if draw(st.booleans()):
                argv.append("--json")
            if draw(st.booleans()):
                argv += ["--block-threshold", draw(_TEXT)]
            if draw(st.booleans()):
                argv += ["--lasting-relief", draw(_TEXT)]
        elif command == "schedule":
            argv = ["schedule", draw(st.one_of(st.sampled_from(["gabapentin", "tramadol"]), _TEXT))]
            argv += ["--age", draw(st.one_of(st.sampled_from(["70", "45"]), _TEXT))]
            argv += ["--sex", draw(st.one_of(st.sampled_from(["female", "male"]), _TEXT))]
            for option in draw(st.lists(st.sampled_from(_SCHEDULE_OPTIONS), max_size=4)):
                argv += [option, draw(_TEXT)]
            for flag in draw(st.lists(st.sampled_from(["--json", "--dialysis"]), max_size=2)):
                argv.append(flag)
        elif command == "schema":
            argv = ["schema", *draw(st.lists(st.sampled_from(["--output", "-x"]), max_size=1))]
        else:
            argv = ["demo"]
        if draw(st.integers(0, 9)) == 0:
            argv = draw(st.lists(_TEXT, max_size=4))
        if draw(st.integers(0, 9)) == 0:
            argv.insert(draw(st.integers(0, len(argv))), draw(_TEXT))
        return argv, stdin

    return build()


def _starts_a_server(argv: list[str]) -> bool:
    # `cluneal serve` would run until stopped: its own harness is the service's.
    return "serve" in argv


def run_in_process(report: Report, argv: list[str], stdin: bytes | None) -> None:
    """One invocation through main(argv), output captured."""
    if _starts_a_server(argv):
        return
    report.tried += 1
    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
    saved = sys.stdin
    sys.stdin = fake_stdin
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status: object = main(argv)
    except BaseException as exc:
        _unexpected(report, f"{type(exc).__name__} out of main", argv, repr(exc))
        return
    finally:
        sys.stdin = saved
    _classify(report, status, out.getvalue(), err.getvalue(), argv)


def run_subprocess(report: Report, argv: list[str], stdin: bytes | None) -> None:
    """One invocation as a real process, as a user runs it."""
    if _starts_a_server(argv):
        return
    report.tried += 1
    report.subprocesses += 1
    args = [os.fsencode(a) if max(a or "a") >= "\udc80" else a for a in argv]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cluneal", *args],
            input=stdin or b"",
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (ValueError, UnicodeEncodeError) as exc:
        # The OS cannot carry this argument (a NUL byte, a surrogate): not cluneal's input.
        report.tried -= 1
        report.subprocesses -= 1
        del exc
        return
    _classify(
        report,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        argv,
    )


def _classify(report: Report, status: object, out: str, err: str, argv: list[str]) -> None:
    if "Traceback" in out or "Traceback" in err:
        _unexpected(report, "traceback in output", argv, err[-300:])
    elif status == 0:
        report.accepted += 1
    elif status == 2 and ("cluneal: error:" in err or "usage:" in out + err):
        report.refused += 1
    else:
        _unexpected(report, f"status {status!r}", argv, err[-300:])


def _unexpected(report: Report, kind: str, argv: list[str], detail: str) -> None:
    report.unexpected[kind] += 1
    report.examples.setdefault(kind, f"{ascii(argv)[:300]}: {ascii(detail)[:300]}")


def run(examples: int, *, run_seed: int | None = None, subprocesses: int = 5) -> Report:
    """Run ``examples`` invocations (the first ``subprocesses`` of them as real processes)."""
    report = Report()
    with tempfile.TemporaryDirectory(prefix="cluneal-fuzz-") as folder:
        workspace = Workspace(Path(folder))
        # The first few as real processes, then the rest in process (fast).
        plan = [("subprocess", max(0, subprocesses)), ("in-process", examples)]
        for mode, count in plan:
            if count > 0:
                _explore(report, workspace, mode, count, run_seed)
    return report


def _explore(
    report: Report, workspace: Workspace, mode: str, count: int, run_seed: int | None
) -> None:
    invoke = run_subprocess if mode == "subprocess" else run_in_process
    hostile_harness.explore(
        _argv(workspace), lambda case: invoke(report, case[0], case[1]), count, run_seed
    )


def main_fuzz(argv: list[str] | None = None) -> int:
    """Run the harness from the command line; exit 1 when anything unexpected happened."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="in-process invocations")
    parser.add_argument("--subprocesses", type=int, default=20, help="real-process invocations")
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed (default: derandomised)"
    )
    args = parser.parse_args(argv)
    return run(args.examples, run_seed=args.seed, subprocesses=args.subprocesses).finish()


if __name__ == "__main__":
    sys.exit(main_fuzz())
