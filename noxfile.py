"""The one entry point for checks: ``nox -s tests typing lint docs examples bench fuzz``."""

from __future__ import annotations

import os
import pathlib

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "typing", "lint", "docs", "examples"]

ROOT = pathlib.Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
# Every user-facing extra: the tests, the docs and the examples use them all.
EXTRAS = ".[fhir,dataframe,plot,service,cohort,dask]"


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (with doctests) and enforce 90% branch coverage of src/."""
    session.install(EXTRAS, *_group("test"), *_group("examples"))
    session.run(
        "pytest",
        "--cov=cluneal",
        "--cov-branch",
        "--cov-report=term",
        "--cov-fail-under=90",
        *session.posargs,
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """Random exploration (not run in CI): property tests, then hostile inputs.

    The default test run is derandomised; this session is where new failures are
    found. Add each property failure to its test as an explicit ``@example``.
    Then the hostile-input harnesses: 105,000 calls to the Python API and 10,000
    command lines, reporting tried / refused / accepted / unexpected and failing
    on anything unexpected (docs/reliability.md). ``FUZZ_API_EXAMPLES``,
    ``FUZZ_CLI_EXAMPLES`` and ``FUZZ_SEED`` change the counts and the seed;
    positional arguments go to pytest.
    """
    session.install(EXTRAS, *_group("test"), *_group("fuzz"))
    session.run(
        "pytest",
        "tests/property",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"CLUNEAL_HYPOTHESIS_PROFILE": "fuzz"},
    )
    # The cohort's differential test at scale: 100,000 random rows against the scalar functions.
    session.run(
        "pytest",
        "tests/test_cohort.py",
        "-p",
        "no:cacheprovider",
        "--no-cov",
        env={"CLUNEAL_HYPOTHESIS_PROFILE": "fuzz", "CLUNEAL_COHORT_ROWS": "100000"},
    )
    seed = os.environ.get("FUZZ_SEED")
    seeded = ["--seed", seed] if seed else []
    api = os.environ.get("FUZZ_API_EXAMPLES", "105000")
    session.run("python", "fuzz/hostile.py", "--examples", api, *seeded)
    cli = os.environ.get("FUZZ_CLI_EXAMPLES", "10000")
    session.run("python", "fuzz/hostile_cli.py", "--examples", cli, *seeded)


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check src/, tests/ and this file with mypy --strict; then the docs' examples.

    Every example of the README and the docs must also be clean in pyright and
    in mypy without the pydantic plugin: that is what users' editors run.
    """
    session.install("-e", EXTRAS, *_group("typing"))
    session.run("mypy", "--strict", *session.posargs)
    session.run("python", "tests/examples_typecheck.py")


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff's linter and check formatting."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML docs and run their doctests, warnings as errors."""
    # Every extra: the API reference imports every public module.
    session.install(EXTRAS, *_group("docs"))
    for builder in ("html", "doctest"):
        session.run(
            "sphinx-build",
            "-W",
            "--keep-going",
            "-b",
            builder,
            "docs",
            f"docs/_build/{builder}",
        )


@nox.session
def screenshots(session: nox.Session) -> None:
    """Redraw docs/screenshots/*.png in headless Chromium (not a default session).

    Needs Debian's Chromium (``apt-get install -y chromium``); ``nox -s tests``
    never does. Look at the PNGs before committing them.
    """
    import shutil

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        session.error("Chromium not found: apt-get install -y chromium")
    session.install(".[dataframe,plot]")
    session.run("python", "docs/_screenshots.py", chromium, "docs/screenshots")


@nox.session
def examples(session: nox.Session) -> None:
    """Run every script in examples/ and execute every notebook there."""
    session.install(EXTRAS, *_group("examples"))
    folder = ROOT / "examples"
    scripts = sorted(folder.glob("*.py"))
    if not scripts:
        session.error("examples/ has no scripts")
    for script in scripts:
        session.run("python", str(script))
    # Each notebook runs in memory with nbclient: nothing is written back, and the
    # first failing cell raises CellExecutionError, which fails the session. The
    # kernel is this virtualenv's python3 (ipykernel), not one a user registered.
    execute = (
        "import pathlib, sys\n"
        "import nbformat\n"
        "from nbclient import NotebookClient\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "notebook = nbformat.read(path, as_version=4)\n"
        "NotebookClient(notebook, kernel_name='python3', timeout=600,\n"
        "               resources={'metadata': {'path': str(path.parent)}}).execute()\n"
        "print(f'{path.name}: {len(notebook.cells)} cells executed')\n"
    )
    env = {"JUPYTER_PREFER_ENV_PATH": "1"}
    for notebook in sorted(folder.glob("*.ipynb")):
        session.run("python", "-c", execute, str(notebook), env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Report speed as ratios against baselines and goals (never a pass/fail on time).

    bench_titration.py compares each of the six drugs with a plain-float floor of the same
    rules (benchmarks/_floor.py, not memoised), warm and cold; bench_care_plan.py reports
    care plans/s with and without JSON and import plus the first care plan against pint and
    pydantic (docs/performance.md).

    bench_cohort.py also reports the cohort's rows/s next to the scalar loop's and the
    peak memory of ``cluneal cohort`` on 1,000,000 rows (docs/cohort.md).
    """
    # numpy for the pathway simulation's benchmark (Dask for its Dask figure); pyarrow and
    # narwhals for the cohort's.
    session.install(".[dataframe,cohort,dask]")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """Load the CDS Hooks service: 20,000 patient-view and 20,000 hostile requests, 50 at a time.

    Reports p50/p99 latency and server memory (a report, never a pass/fail on time) and
    fails on any HTTP 5xx; then runs schemathesis with 1,000 requests per operation.
    Options go to the script: ``nox -s load -- --requests 5000``.
    """
    session.install(".[fhir,service]", *_group("load"), *_group("test"))
    session.run("python", str(ROOT / "benchmarks" / "load_cds_hooks.py"), *session.posargs)
    # schemathesis at scale against the OpenAPI: 1,000 generated requests per operation.
    session.run(
        "pytest",
        "tests/test_service_fuzz.py",
        "-k",
        "openapi",
        "-p",
        "no:cacheprovider",
        env={"CLUNEAL_SCHEMATHESIS_EXAMPLES": "1000"},
    )
