"""sort_alerts: most serious first, then rule id, drugs and message; exact repeats dropped once.

The order and the repeats it drops are those of de-duplicating first (the first
of equal alerts kept) and then sorting stably, whatever the mix of repeats and
alerts that share a sort key but differ elsewhere (citation, action).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cluneal.alerts import SafetyAlert, Severity, sort_alerts

_alerts = st.builds(
    SafetyAlert,
    severity=st.sampled_from(list(Severity)),
    drugs=st.sampled_from([(), ("tramadol",), ("tramadol", "sertraline")]),
    message=st.sampled_from(["m", "n"]),
    rule_id=st.sampled_from(["a", "b"]),
    citation=st.sampled_from(["c", "d"]),
    action=st.sampled_from([None, "x"]),
)


def _reference(alerts: list[SafetyAlert]) -> tuple[SafetyAlert, ...]:
    unique = dict.fromkeys(alerts)
    return tuple(sorted(unique, key=lambda a: (-a.severity.rank, a.rule_id, a.drugs, a.message)))


@settings(max_examples=300)
@given(base=st.lists(_alerts, max_size=8), picks=st.lists(st.integers(0, 20), max_size=8))
def test_the_order_and_the_repeats_dropped_are_those_of_dedup_then_sort(
    base: list[SafetyAlert], picks: list[int]
) -> None:
    """Repeats (the same object or an equal one) mixed in anywhere: the reference's answer."""
    alerts = list(base)
    for p in picks:
        if base:
            alerts.insert(p % (len(alerts) + 1), base[p % len(base)])
    got = sort_alerts(alerts)
    want = _reference(alerts)
    assert got == want
    assert all(g is w for g, w in zip(got, want, strict=True))


def test_equal_keys_keep_their_first_order_and_differing_alerts_stay() -> None:
    """Same severity, rule, drugs and message but another citation: both kept, in order."""
    first = SafetyAlert(severity="major", message="m", rule_id="r", citation="c1")
    second = SafetyAlert(severity="major", message="m", rule_id="r", citation="c2")
    again = SafetyAlert(severity="major", message="m", rule_id="r", citation="c1")
    info = SafetyAlert(severity="info", message="m", rule_id="a", citation="c")
    assert sort_alerts([info, first, second, again]) == (first, second, info)
    assert sort_alerts([second, info, first]) == (second, first, info)
