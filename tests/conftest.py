"""Test-wide settings: Hypothesis profiles, and one Dask cluster for the whole run.

The default profile, ``cluneal``, is derandomised with a fixed budget and no
example database: every run of ``nox -s tests`` (CI and the README command)
tries exactly the same examples, so the suite cannot flake. Random exploration
belongs to ``nox -s fuzz``, which selects the ``fuzz`` profile through the
``CLUNEAL_HYPOTHESIS_PROFILE`` environment variable; each failure it finds is
added to the test as an explicit ``@example``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from collections.abc import Iterator

# Speed is measured by the benchmarks, never by a test: Hypothesis's per-example
# deadline would turn a busy CI machine into a flaky failure, so it is off.
settings.register_profile(
    "cluneal",
    deadline=None,
    print_blob=True,
    derandomize=True,
    database=None,
    max_examples=100,
)
settings.register_profile(
    "fuzz",
    parent=settings.get_profile("cluneal"),
    derandomize=False,
    max_examples=2000,
)
settings.load_profile(os.environ.get("CLUNEAL_HYPOTHESIS_PROFILE", "cluneal"))


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """A client of a real two-process LocalCluster, started once for every Dask test."""
    from tests.dask_cluster import two_worker_client

    with two_worker_client() as client:
        yield client
