"""What every hostile-input harness shares: its counts, its exploration loop, its exit.

``fuzz/hostile.py`` (the Python API) and ``fuzz/hostile_cli.py`` (the command
line) count each input as refused, accepted or unexpected, explore with the
same Hypothesis settings (derandomised unless a seed is given) and end the
same way: the counts as JSON, one example of each unexpected kind, exit 1 when
anything was unexpected.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypothesis import strategies as st

T = TypeVar("T")


@dataclass
class Report:
    """Counts of one run: every input tried ends refused, accepted or unexpected."""

    tried: int = 0
    refused: int = 0
    accepted: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The report as JSON-ready data."""
        return {
            "tried": self.tried,
            "refused": self.refused,
            "accepted": self.accepted,
            "unexpected": sum(self.unexpected.values()),
            **self.extra(),
            "unexpected_kinds": dict(sorted(self.unexpected.items())),
        }

    def extra(self) -> dict[str, object]:
        """A harness's own counts, shown between the totals and the unexpected kinds."""
        return {}

    def finish(self) -> int:
        """Print the counts and one example of each unexpected kind; the exit status."""
        print(json.dumps(self.as_dict(), indent=2))
        for kind, example in sorted(self.examples.items()):
            print(f"  {kind}: {example}")
        return 0 if not self.unexpected else 1


def explore(
    strategy: st.SearchStrategy[T],
    body: Callable[[T], None],
    count: int,
    run_seed: int | None,
) -> None:
    """Run ``body`` on ``count`` generated inputs (derandomised unless ``run_seed`` is given)."""

    @settings(
        max_examples=count,
        database=None,
        derandomize=run_seed is None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def run(case: Any) -> None:
        body(case)

    if run_seed is not None:
        run = seed(run_seed)(run)
    run()
