"""Test-wide settings."""

from __future__ import annotations

from hypothesis import settings

# Speed is measured by the benchmarks, never by a test: Hypothesis's per-example
# deadline would turn a busy CI machine into a flaky failure, so it is off.
settings.register_profile("cluneal", deadline=None, print_blob=True)
settings.load_profile("cluneal")
