"""Type-check every example of the README and the docs with pyright and mypy (no plugin).

Users copy these examples into an editor: they must be clean there, in pyright
(what VS Code runs) and in mypy without the pydantic plugin. Each Markdown file
becomes one module: its ``python`` blocks as written, and its ``{doctest}``
blocks with the prompts removed. A doctest statement whose expected output is a
traceback shows a refusal on purpose, so it is left out.

``nox -s typing`` runs ``python tests/examples_typecheck.py``; the extraction
itself is tested in ``tests/test_examples_typecheck.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_FENCE = re.compile(r"^```(python|\{doctest\})[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

_MYPY_CONFIG = """\
[mypy]
python_version = 3.11
check_untyped_defs = True
warn_unused_ignores = True
warn_redundant_casts = True
strict_equality = True

[mypy-pandas.*,matplotlib.*,fhir.resources.*,fastapi.*,polars.*,pyarrow.*,dask.*,distributed.*]
ignore_missing_imports = True
"""


# What docs/conf.py's doctest_global_setup puts in every doctest's namespace.
_DOCS_MODULES = (
    "units",
    "evidence",
    "patient",
    "renal",
    "alerts",
    "errors",
    "diagnosis",
    "interventions",
    "titration",
    "safety",
    "pathway",
    "pathway_diagram",
    "plan",
    "complementary",
    "report",
    "drug",
    "case",
)


def docs_header() -> str:
    """Explicit imports of what the doctest setup provides (star imports would clash)."""
    import importlib

    import cluneal

    lines = ["import pathlib", "EXAMPLES = pathlib.Path('examples')", "import cluneal"]
    seen = set(cluneal.__all__)
    lines.append(f"from cluneal import {', '.join(sorted(seen))}")
    for name in _DOCS_MODULES:
        module = importlib.import_module(f"cluneal.{name}")
        names = sorted(set(getattr(module, "__all__", ())) - seen)
        seen.update(names)
        if names:
            lines.append(f"from cluneal.{name} import {', '.join(names)}")
    return "\n".join(lines) + "\n"


def sources() -> list[Path]:
    """The Markdown files whose examples are checked."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def doctest_code(block: str) -> str:
    """The statements of a doctest block, without prompts and without expected output.

    A statement whose expected output starts with ``Traceback`` is dropped.
    """
    statements: list[tuple[list[str], list[str]]] = []
    for line in block.splitlines():
        if line.startswith(">>> ") or line == ">>>":
            statements.append(([line[4:]], []))
        elif (line.startswith("... ") or line == "...") and statements and not statements[-1][1]:
            statements[-1][0].append(line[4:])
        elif statements:
            statements[-1][1].append(line)
    kept = [
        "\n".join(code)
        for code, output in statements
        if not (output and output[0].lstrip().startswith("Traceback"))
    ]
    return "\n".join(kept)


def extract(markdown: str) -> str:
    """The Python code of one Markdown file, block after block."""
    parts = []
    for kind, body in _FENCE.findall(markdown):
        code = body if kind == "python" else doctest_code(body)
        if code.strip():
            parts.append(code.rstrip() + "\n")
    return "\n".join(parts)


def write_modules(folder: Path) -> list[Path]:
    """Write one module per Markdown file that has examples; return their paths."""
    written = []
    for source in sources():
        code = extract(source.read_text(encoding="utf-8"))
        if not code:
            continue
        name = "_".join(source.relative_to(ROOT).with_suffix("").parts).replace("-", "_")
        path = folder / f"example_{name}.py"
        header = f"# Examples of {source.relative_to(ROOT)}\n"
        if source.parent != ROOT:
            header += docs_header()
        path.write_text(header + code, encoding="utf-8")
        written.append(path)
    return written


def main() -> int:
    """Extract the examples and run both type checkers; return their combined status."""
    with tempfile.TemporaryDirectory(prefix="cluneal-examples-") as name:
        folder = Path(name)
        modules = write_modules(folder)
        print(f"{len(modules)} files of examples: {', '.join(m.name for m in modules)}")
        (folder / "mypy.ini").write_text(_MYPY_CONFIG, encoding="utf-8")
        pyright_config = {
            "typeCheckingMode": "standard",
            "pythonVersion": "3.11",
            "reportMissingModuleSource": False,
            # A doctest line shows a value by evaluating it.
            "reportUnusedExpression": False,
            "reportWildcardImportFromLibrary": False,
        }
        (folder / "pyrightconfig.json").write_text(json.dumps(pyright_config), encoding="utf-8")
        files = [str(m) for m in modules]
        mypy = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(folder / "mypy.ini"), *files],
            check=False,
            cwd=folder,
        )
        pyright = subprocess.run(
            [
                "basedpyright",
                "--project",
                str(folder / "pyrightconfig.json"),
                "--pythonpath",
                sys.executable,
                *files,
            ],
            check=False,
            cwd=folder,
        )
    return max(mypy.returncode, pyright.returncode)


if __name__ == "__main__":
    sys.exit(main())
