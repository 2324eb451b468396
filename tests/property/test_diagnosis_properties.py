"""Invariants of assess_diagnosis over any findings (clinical.md Part 0.7)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cluneal.diagnosis import (
    BlockResult,
    DiagnosticAssessment,
    DiagnosticClass,
    Findings,
    NeuroExam,
    PainPattern,
    assess_diagnosis,
)
from tests.property.strategies_findings import block_thresholds, findings


def _with(found: Findings, **changes: object) -> Findings:
    # A changed value is a new, validated model (never model_copy(update=...)).
    return Findings.model_validate({**dict(found), **changes})


@given(findings(), block_thresholds())
def test_any_findings_give_an_assessment(found: Findings, threshold: float) -> None:
    """Any findings yield an assessment with three criteria and a class."""
    a = assess_diagnosis(found, block_threshold=threshold)
    assert len(a.criteria) == 3
    assert a.classification in DiagnosticClass
    assert a.next_action
    assert a.block_threshold == threshold
    assert set(a.citations) >= {"kuniya_2014", "isu_2018", "isu_mcn_criteria"}


@given(findings())
def test_classification_follows_the_criteria(found: Findings) -> None:
    """Part 0.7: unlikely iff any criterion failed; confirmed only with all three met."""
    a = assess_diagnosis(found)
    met = [c.met for c in a.criteria]
    assert (a.classification is DiagnosticClass.UNLIKELY) == (False in met)
    if a.classification is DiagnosticClass.CONFIRMED:
        assert met == [True, True, True]
        assert not a.red_flags


@given(findings(), st.sampled_from(("pain", "tender_points", "block")))
def test_a_failed_criterion_never_raises_the_class(found: Findings, which: str) -> None:
    """Adding a failed criterion never raises the classification (unlikely < ... < confirmed)."""
    failed: dict[str, object] = {
        "pain": PainPattern(low_back_pain=False, deep_aching_poorly_localized=False),
        "tender_points": (),
        "block": BlockResult(branches={"superior"}, relief_percent=0),
    }
    before = assess_diagnosis(found).classification
    after = assess_diagnosis(_with(found, **{which: failed[which]})).classification
    assert after.rank <= before.rank
    assert after is DiagnosticClass.UNLIKELY


@given(findings())
def test_a_red_flag_never_raises_the_class(found: Findings) -> None:
    """Part 0.7: a red flag turns confirmed into probable and never raises a class."""
    before = assess_diagnosis(found).classification
    flagged = _with(found, neuro=NeuroExam(motor_weakness=True))
    after = assess_diagnosis(flagged).classification
    assert after.rank <= before.rank
    assert after is not DiagnosticClass.CONFIRMED


@given(findings())
def test_findings_json_round_trip(found: Findings) -> None:
    """Findings.model_validate_json(f.model_dump_json()) == f."""
    assert Findings.model_validate_json(found.model_dump_json()) == found
    assert Findings.model_validate(found.model_dump()) == found


@given(findings(), block_thresholds())
def test_assessment_json_round_trip(found: Findings, threshold: float) -> None:
    """The assessment survives a JSON round trip unchanged."""
    a = assess_diagnosis(found, block_threshold=threshold)
    assert DiagnosticAssessment.model_validate_json(a.model_dump_json()) == a


@given(findings())
def test_mapping_input_gives_the_same_assessment(found: Findings) -> None:
    """assess_diagnosis accepts the JSON-ready mapping of the findings as well."""
    assert assess_diagnosis(found.model_dump(mode="json")) == assess_diagnosis(found)
