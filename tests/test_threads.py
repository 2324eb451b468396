"""Pure functions are safe from many threads: same answer, no shared-state races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cluneal import Case
from cluneal.cli import _DEMO_CASE


def test_care_plans_from_many_threads_match_a_sequential_run() -> None:
    """Principle 1: no globals that change; the same answer every time, from any thread."""
    case = Case.model_validate(_DEMO_CASE)
    expected = case.plan().model_dump_json()
    barrier = threading.Barrier(8)

    def work(_: int) -> str:
        barrier.wait()
        return case.plan().model_dump_json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [expected] * 8
