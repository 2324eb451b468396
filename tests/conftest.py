"""Test-wide settings: Hypothesis profiles.

The default profile, ``cluneal``, is derandomised with a fixed budget and no
example database: every run of ``nox -s tests`` (CI and the README command)
tries exactly the same examples, so the suite cannot flake. Random exploration
belongs to ``nox -s fuzz``, which selects the ``fuzz`` profile through the
``CLUNEAL_HYPOTHESIS_PROFILE`` environment variable; each failure it finds is
added to the test as an explicit ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import settings

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
