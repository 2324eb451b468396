"""Importing cluneal stays light: no optional extra is imported."""

from __future__ import annotations

import subprocess
import sys

# numpy is not listed: Pint imports it itself when it is installed.
OPTIONAL = ("fhir", "pandas", "matplotlib", "fastapi", "nbclient")


def test_import_loads_no_optional_extra() -> None:
    """Principle 5: optional extras are lazy; `import cluneal` never pulls them in."""
    code = f"import sys, cluneal; print(','.join(m for m in {OPTIONAL!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_public_names_exist() -> None:
    """API.md names used by outside checks are importable from the top level."""
    import cluneal

    for name in (
        "ureg",
        "Q_",
        "ClunealError",
        "ContraindicatedError",
        "Patient",
        "Condition",
        "creatinine_clearance",
        "egfr",
        "Drug",
        "Severity",
        "SafetyAlert",
    ):
        assert hasattr(cluneal, name), name
    assert set(cluneal.__all__) <= set(dir(cluneal))


def test_no_submodule_shadows_a_public_name() -> None:
    """Importing every submodule must not replace a public function with a module."""
    import importlib
    import pkgutil
    import types

    import cluneal

    for info in pkgutil.walk_packages(cluneal.__path__, "cluneal."):
        if info.name.startswith(("cluneal.export", "cluneal.fhir")):
            continue  # optional extras have their own tests
        importlib.import_module(info.name)
    for name in cluneal.__all__:
        assert not isinstance(getattr(cluneal, name), types.ModuleType), name
    assert callable(cluneal.care_plan)
