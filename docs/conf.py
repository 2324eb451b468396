"""Sphinx configuration for the cluneal docs (MyST markdown, furo, doctests)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import cluneal

DOCS = pathlib.Path(__file__).parent
sys.path.insert(0, str(DOCS))

project = "cluneal"
author = "The cluneal developers"
copyright = "2026, the cluneal developers"
release = cluneal.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_inventories", "generated", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The inventories are shipped with the docs (see _inventories/make_inventories.py)
# so the build never needs the network; the links still point upstream.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(DOCS / "_inventories" / "python.inv")),
    "pint": ("https://pint.readthedocs.io/en/stable", str(DOCS / "_inventories" / "pint.inv")),
    "pydantic": ("https://docs.pydantic.dev/latest", str(DOCS / "_inventories" / "pydantic.inv")),
}

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"exclude-members": "model_config, model_fields, model_computed_fields"}
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# The docs' own examples ({doctest} blocks) run here. Docstring examples run
# under pytest (--doctest-modules), each in its own module's namespace, which
# is where they belong: the API reference shows every module's docstrings, and
# one shared namespace here would give two modules' same-named functions one name.
doctest_test_doctest_blocks = ""
doctest_global_setup = f"""
import pathlib
EXAMPLES = pathlib.Path({str(DOCS.parent / "examples")!r})
import importlib
import cluneal
from cluneal import *
for _name in ("units", "evidence", "patient", "renal", "alerts", "errors", "diagnosis",
              "interventions", "titration", "safety", "pathway", "pathway_diagram", "plan",
              "complementary", "report", "drug", "case", "display", "dataframe", "plotting"):
    try:
        _module = importlib.import_module("cluneal." + _name)
    except ImportError:
        continue
    globals().update({{n: getattr(_module, n) for n in getattr(_module, "__all__", ())}})
"""

html_theme = "furo"
html_title = f"cluneal {release}"
html_static_path: list[str] = []  # no custom assets


# Pages generated from the knowledge base, so the docs can never disagree with it.
def _run_generator(script: str, function: str, outdir: pathlib.Path) -> None:
    path = DOCS / script
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a broken checkout
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    getattr(module, function)(outdir)


_run_generator("_pathway_pages.py", "write_pathway_pages", DOCS / "generated")
_run_generator("_reference_pages.py", "write_reference_pages", DOCS)
_run_generator("_plot_pages.py", "write_plot", DOCS / "generated")
_run_generator("_simulation_pages.py", "write_simulation_pages", DOCS / "generated")
_run_generator("_architecture.py", "write_architecture", DOCS / "generated")
if (DOCS / "_drug_pages.py").exists():
    _run_generator("_drug_pages.py", "write_drug_pages", DOCS / "drugs" / "generated")
if (DOCS / "_code_tables.py").exists():
    _run_generator("_code_tables.py", "write_code_tables", DOCS / "generated")
