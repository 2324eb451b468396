"""The example notebook is committed without outputs and runs end to end (issue 6)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from cluneal.plan import SAFETY_STATEMENT

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "pathway_prototype.ipynb"


def _code_cells(nb: Any) -> list[Any]:
    return [cell for cell in nb["cells"] if cell["cell_type"] == "code"]


def test_notebook_is_committed_with_outputs_cleared() -> None:
    """The committed file carries no outputs and no execution counts; the kernel is python3."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in _code_cells(nb):
        assert cell["outputs"] == []
        assert cell["execution_count"] is None


def test_notebook_executes() -> None:
    """Every cell runs without error; the plan renders as HTML, a plot and a diagram appear."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("pandas")
    pytest.importorskip("matplotlib")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    outputs = [output for cell in _code_cells(nb) for output in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any(SAFETY_STATEMENT in page for page in html)
    assert any('data-cluneal="assessment"' in page for page in html)
    assert any('data-cluneal="recommendation"' in page for page in html)
    assert any("daily_dose_mg" in page for page in html)  # the DataFrame
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    printed = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert "class peripheral_nerve_stimulation current" in printed
    # Executed in memory only: the committed file is untouched.
    test_notebook_is_committed_with_outputs_cleared()
