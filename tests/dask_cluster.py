"""A real Dask cluster for the tests: two single-threaded worker processes on this machine.

The workers are separate processes, so whatever a test sends them (a caller's
knowledge base, a simulation's shared parameters, rows' errors, results)
crosses a pickle, as on a real cluster.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import distributed

if TYPE_CHECKING:
    from collections.abc import Iterator

# distributed has no type hints.
LocalCluster: Any = distributed.LocalCluster
Client: Any = distributed.Client


@contextlib.contextmanager
def two_worker_client() -> Iterator[Any]:
    """A ``distributed.Client`` of a LocalCluster of two worker processes (the default scheduler)."""
    # Any free port for the scheduler's HTTP server: with dashboard_address=None it still
    # takes 8787, and a second cluster on the machine (another test run) made the start fail.
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
