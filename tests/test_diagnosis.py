"""Tests of cluneal.diagnosis: the triad, red flags and classification.

Rules and numbers come from clinical.md Part 0.7 (the decisions), Part A1-A2
(landmarks and thresholds) and Part D items 8 and 10.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cluneal import ClunealError
from cluneal.diagnosis import (
    BlockResult,
    CriterionId,
    DiagnosticAssessment,
    DiagnosticClass,
    Findings,
    NerveBranch,
    NeuroExam,
    PainPattern,
    RedFlagKind,
    TenderPoint,
    assess_diagnosis,
    criterion_definitions,
    landmark,
    literature_block_thresholds,
)
from cluneal.evidence import citation
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.units import Q_

SUP = NerveBranch.SUPERIOR
MID = NerveBranch.MIDDLE

PAIN_YES: dict[str, Any] = {"low_back_pain": True, "deep_aching_poorly_localized": True}
PAIN_NO: dict[str, Any] = {"low_back_pain": True, "deep_aching_poorly_localized": False}
CREST: dict[str, Any] = {"site": "iliac_crest", "reproduces_pain": True}
PSIS: dict[str, Any] = {"site": "caudal_to_psis", "reproduces_pain": True}
BLOCK_80: dict[str, Any] = {"branches": ["superior"], "relief_percent": 80}
BLOCK_MIDDLE_80: dict[str, Any] = {
    "branches": ["middle"],
    "relief_percent": 80,
    "relief_duration": "2 weeks",
}
BLOCK_30: dict[str, Any] = {"branches": ["superior"], "relief_percent": 30}
NEURO_CLEAR: dict[str, Any] = {
    "motor_weakness": False,
    "dermatomal_sensory_loss": False,
    "straight_leg_raise": False,
    "bladder_bowel_dysfunction": False,
}


def findings(**parts: Any) -> Findings:
    return Findings.model_validate(parts)


# --- Classification: every path of Part 0.7 ------------------------------------------

# clinical.md Part 0.7: confirmed = all three met and no red flag; probable = 1 and 2
# met and block not yet done, or all three met with a red flag; possible = no criterion
# failed but neither of those (including nothing known); unlikely = any criterion failed.
CLASSIFICATION_CASES = [
    pytest.param({}, DiagnosticClass.POSSIBLE, id="nothing-known"),
    pytest.param({"pain": PAIN_YES}, DiagnosticClass.POSSIBLE, id="only-pain-met"),
    pytest.param({"tender_points": [CREST]}, DiagnosticClass.POSSIBLE, id="only-tender-met"),
    pytest.param(
        {"tender_points": [CREST], "block": BLOCK_80}, DiagnosticClass.POSSIBLE, id="pain-unknown"
    ),
    pytest.param(
        {"pain": PAIN_YES, "block": BLOCK_80}, DiagnosticClass.POSSIBLE, id="tender-unknown"
    ),
    pytest.param(
        {"pain": PAIN_YES, "tender_points": [CREST]},
        DiagnosticClass.PROBABLE,
        id="probable-block-pending",
    ),
    pytest.param(
        {"pain": PAIN_YES, "tender_points": [CREST], "neuro": {"straight_leg_raise": True}},
        DiagnosticClass.PROBABLE,
        id="probable-block-pending-with-red-flag",
    ),
    pytest.param(
        {"pain": PAIN_YES, "tender_points": [CREST], "block": BLOCK_80, "neuro": NEURO_CLEAR},
        DiagnosticClass.CONFIRMED,
        id="confirmed",
    ),
    pytest.param(
        {"pain": PAIN_YES, "tender_points": [CREST], "block": BLOCK_80},
        DiagnosticClass.CONFIRMED,
        id="confirmed-neuro-not-examined",
    ),
    pytest.param(
        {
            "pain": PAIN_YES,
            "tender_points": [CREST],
            "block": BLOCK_80,
            "neuro": {"motor_weakness": True},
        },
        DiagnosticClass.PROBABLE,
        id="probable-all-met-red-flag",
    ),
    pytest.param({"pain": PAIN_NO}, DiagnosticClass.UNLIKELY, id="pain-failed"),
    pytest.param({"tender_points": []}, DiagnosticClass.UNLIKELY, id="tender-failed"),
    pytest.param({"block": BLOCK_30}, DiagnosticClass.UNLIKELY, id="block-failed"),
    pytest.param(
        {"pain": PAIN_YES, "tender_points": [CREST], "block": BLOCK_30},
        DiagnosticClass.UNLIKELY,
        id="block-failed-after-1-and-2",
    ),
    pytest.param(
        {"pain": PAIN_NO, "tender_points": [], "block": BLOCK_30},
        DiagnosticClass.UNLIKELY,
        id="all-failed",
    ),
]


@pytest.mark.parametrize(("parts", "expected"), CLASSIFICATION_CASES)
def test_classification(parts: dict[str, Any], expected: DiagnosticClass) -> None:
    """Part 0.7: "confirmed = all three met and no red flag; probable = criteria 1 and 2 met
    and the block not yet done, or all three met with a red flag; possible = no criterion
    failed but neither of the above; unlikely = any criterion failed"."""
    a = assess_diagnosis(findings(**parts))
    assert a.classification is expected
    assert len(a.criteria) == 3
    assert a.rules_fired[-1].startswith(f"dx.class.{expected.value}")


def test_class_rank_orders_unlikely_to_confirmed() -> None:
    """Ordering used by the property tests: UNLIKELY < POSSIBLE < PROBABLE < CONFIRMED."""
    ranks = [c.rank for c in (DiagnosticClass.UNLIKELY, DiagnosticClass.POSSIBLE)]
    ranks += [c.rank for c in (DiagnosticClass.PROBABLE, DiagnosticClass.CONFIRMED)]
    assert ranks == [0, 1, 2, 3]


# --- Criterion 1: pain pattern ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pain", "met"),
    [
        pytest.param(None, None, id="not-examined"),
        pytest.param(PAIN_YES, True, id="deep-aching-lbp"),
        pytest.param({**PAIN_YES, "buttock": True, "leg": True}, True, id="with-support"),
        pytest.param(PAIN_NO, False, id="not-deep-aching"),
        pytest.param(
            {"low_back_pain": False, "deep_aching_poorly_localized": True, "buttock": True},
            False,
            id="buttock-without-lbp",
        ),
        pytest.param(
            {"low_back_pain": False, "deep_aching_poorly_localized": False}, False, id="neither"
        ),
    ],
)
def test_criterion_1_pain_pattern(pain: dict[str, bool] | None, met: bool | None) -> None:
    """Part 0.7 criterion 1: "low back pain that is deep, aching or poorly localised
    (buttock or leg involvement supports, but is not required)"."""
    c = assess_diagnosis(findings(pain=pain)).criterion(CriterionId.PAIN_PATTERN)
    assert c.met is met
    assert c.reason


def test_buttock_and_leg_are_pertinent_positives() -> None:
    """Part 0.7: buttock or leg involvement supports criterion 1 and is reported."""
    a = assess_diagnosis(findings(pain={**PAIN_YES, "buttock": True, "leg": True}))
    positives = " ".join(a.pertinent_positives)
    assert "buttock" in positives
    assert "leg symptoms" in positives
    assert "buttock and leg involvement" in a.criteria[0].reason


# --- Criterion 2: tender point and branches ----------------------------------------------


@pytest.mark.parametrize(
    ("points", "met", "branches"),
    [
        pytest.param(None, None, frozenset(), id="not-examined"),
        pytest.param([], False, frozenset(), id="examined-none-found"),
        pytest.param([CREST], True, frozenset({SUP}), id="iliac-crest-superior"),
        pytest.param([PSIS], True, frozenset({MID}), id="caudal-to-psis-middle"),
        pytest.param([CREST, PSIS], True, frozenset({SUP, MID}), id="both-branches"),
        pytest.param(
            [{"site": "other", "reproduces_pain": True}], False, frozenset(), id="only-other"
        ),
        pytest.param(
            [{"site": "iliac_crest", "reproduces_pain": False, "side": "left"}],
            False,
            frozenset(),
            id="not-reproducing",
        ),
        pytest.param(
            [{"site": "caudal_to_psis", "reproduces_pain": False}, CREST],
            True,
            frozenset({SUP}),
            id="one-of-two-reproduces",
        ),
    ],
)
def test_criterion_2_tender_point(
    points: list[dict[str, Any]] | None, met: bool | None, branches: frozenset[NerveBranch]
) -> None:
    """Part 0.7 criterion 2: a tender point on the posterior iliac crest about 70 mm from the
    midline (superior) or within 40 mm caudal to the PSIS (middle) "whose pressure reproduces
    the patient's pain"; "Branches: superior from an iliac-crest tender point or block, middle
    from a caudal-to-PSIS one; both possible"."""
    a = assess_diagnosis(findings(tender_points=points))
    assert a.criterion("tender_point").met is met
    assert a.branches == branches


def test_unknown_differs_from_examined_negative() -> None:
    """API.md: None means not examined (unknown); an empty tuple means examined, none found."""
    unknown = assess_diagnosis(findings(tender_points=None))
    negative = assess_diagnosis(findings(tender_points=[]))
    assert unknown.criteria[1].met is None
    assert unknown.classification is DiagnosticClass.POSSIBLE
    assert negative.criteria[1].met is False
    assert negative.classification is DiagnosticClass.UNLIKELY
    assert "no tender point on palpation" in negative.pertinent_negatives


@pytest.mark.parametrize(
    ("block", "branches"),
    [
        pytest.param({"branches": ["superior"], "relief_percent": 80}, {SUP}, id="superior"),
        pytest.param({"branches": ["middle"], "relief_percent": 80}, {MID}, id="middle"),
        pytest.param(
            {"branches": ["superior", "middle"], "relief_percent": 80}, {SUP, MID}, id="both"
        ),
        pytest.param({"branches": ["superior"], "relief_percent": 10}, set(), id="negative"),
    ],
)
def test_branches_from_block(block: dict[str, Any], branches: set[NerveBranch]) -> None:
    """Part 0.7 branches: a positive block of a branch implicates it; a negative block
    implicates nothing (decision documented in assess_diagnosis)."""
    assert assess_diagnosis(findings(block=block)).branches == branches


# --- Criterion 3: block response and the threshold -----------------------------------------


@pytest.mark.parametrize(
    ("relief", "threshold", "met"),
    [
        pytest.param(60, 50, True, id="60-at-50"),
        pytest.param(60, 70, False, id="60-at-kiral-70"),
        pytest.param(70, 70, True, id="70-at-70-inclusive"),
        pytest.param(50, 50, True, id="50-at-50-inclusive"),
        pytest.param(49.9, 50, False, id="49.9-at-50"),
        pytest.param(0, 50, False, id="no-relief"),
        pytest.param(100, 100, True, id="100-at-100"),
        pytest.param(1, 0.5, True, id="tiny-threshold"),
    ],
)
def test_block_threshold(relief: float, threshold: float, met: bool) -> None:
    """Part 0.7 criterion 3: relief >= threshold (default 50%) counts as met; Part A2: Kiral
    2024 used >= 70% at 1 h, Kuniya 2014 and Gautam 2022 >50%."""
    block = {"branches": ["superior"], "relief_percent": relief}
    a = assess_diagnosis(findings(block=block), block_threshold=threshold)
    assert a.criterion(CriterionId.BLOCK_RESPONSE).met is met
    assert a.block_threshold == threshold


def test_block_not_done_is_unknown() -> None:
    """Part 0.7: each criterion is met, not met, or unknown; no block yet is unknown."""
    c = assess_diagnosis(findings(pain=PAIN_YES)).criteria[2]
    assert c.met is None
    assert "no diagnostic block" in c.reason


def test_block_of_other_branch_is_judged_on_relief() -> None:
    """Decision (Part 0.7 silent): a block whose branches match no tender point is judged on
    its relief alone; the mismatch is reported and its branches still count when positive."""
    a = assess_diagnosis(
        findings(
            pain=PAIN_YES,
            tender_points=[CREST],
            block={"branches": ["middle"], "relief_percent": 90, "relief_duration": "3 days"},
        )
    )
    assert a.criteria[2].met is True
    assert a.classification is DiagnosticClass.CONFIRMED
    assert a.branches == {SUP, MID}
    assert "dx.block.branch_mismatch" in a.rules_fired
    assert "does not match" in a.criteria[2].reason
    assert "lasting 3 days" in a.criteria[2].reason


def test_negative_block_suggests_the_unblocked_branch() -> None:
    """Part 0.8 step 3: block below threshold -> "block the other branch if its tender point
    exists"."""
    a = assess_diagnosis(
        findings(
            pain=PAIN_YES,
            tender_points=[CREST, PSIS],
            block={"branches": ["superior"], "relief_percent": 20},
        )
    )
    assert a.classification is DiagnosticClass.UNLIKELY
    assert "diagnostic block of the middle cluneal nerve" in a.next_action
    assert "reassess the diagnosis" in a.next_action


# --- Red flags ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "kind", "points_to", "urgent"),
    [
        ("motor_weakness", RedFlagKind.MOTOR_WEAKNESS, "radiculopathy", False),
        (
            "dermatomal_sensory_loss",
            RedFlagKind.DERMATOMAL_SENSORY_LOSS,
            "radiculopathy",
            False,
        ),
        ("straight_leg_raise", RedFlagKind.STRAIGHT_LEG_RAISE, "radiculopathy", False),
        (
            "bladder_bowel_dysfunction",
            RedFlagKind.BLADDER_BOWEL_DYSFUNCTION,
            "cauda equina",
            True,
        ),
    ],
)
def test_each_red_flag(field: str, kind: RedFlagKind, points_to: str, urgent: bool) -> None:
    """Part 0.7: "Red flags (they point elsewhere, e.g. radiculopathy): motor weakness,
    dermatomal sensory loss, positive straight-leg raise, bladder or bowel dysfunction
    (urgent)"."""
    a = assess_diagnosis(findings(neuro={field: True}))
    (flag,) = a.red_flags
    assert flag.kind is kind
    assert points_to in flag.points_to
    assert flag.urgent is urgent
    assert a.is_urgent is urgent
    assert flag.rule_id in a.rules_fired
    assert flag.citations
    assert all(c in a.citations for c in flag.citations)
    assert flag.action in a.next_action


def test_bladder_bowel_dysfunction_comes_first() -> None:
    """Part 0.7: bladder or bowel dysfunction is urgent: it leads the flags and the action."""
    neuro = {"motor_weakness": True, "bladder_bowel_dysfunction": True}
    a = assess_diagnosis(findings(pain=PAIN_YES, tender_points=[CREST], neuro=neuro))
    assert [f.kind for f in a.red_flags] == [
        RedFlagKind.BLADDER_BOWEL_DYSFUNCTION,
        RedFlagKind.MOTOR_WEAKNESS,
    ]
    assert a.next_action.startswith("URGENT: same-day")


def test_negative_neuro_exam_gives_pertinent_negatives() -> None:
    """Part D10: "Dermatomal sensory changes absent" is a pertinent negative (purely sensory
    nerves, non-dermatomal territory)."""
    a = assess_diagnosis(findings(neuro=NEURO_CLEAR))
    assert a.red_flags == ()
    assert "no dermatomal sensory loss" in a.pertinent_negatives
    assert "negative straight-leg raise" in a.pertinent_negatives
    assert "neurological examination" not in a.next_action


def test_incomplete_neuro_exam_is_asked_for() -> None:
    """Decision: a confirmation without a full neurological examination asks for it."""
    a = assess_diagnosis(
        findings(
            pain=PAIN_YES, tender_points=[CREST], block=BLOCK_80, neuro={"motor_weakness": False}
        )
    )
    assert a.classification is DiagnosticClass.CONFIRMED
    assert "Complete the neurological examination" in a.next_action
    assert "motor strength" not in a.next_action
    assert "Record how long the block's relief lasts" in a.next_action


# --- Next action ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "phrases"),
    [
        pytest.param({}, ["take the pain history", "palpate the posterior iliac crest"], id="none"),
        pytest.param(
            {"pain": PAIN_YES}, ["within 40 mm caudal to the PSIS"], id="tender-points-unknown"
        ),
        pytest.param(
            {"pain": PAIN_YES, "tender_points": [CREST, PSIS]},
            ["image-guided diagnostic block", "superior and middle cluneal nerves", "50%"],
            id="block-both-branches",
        ),
        pytest.param(
            {"pain": PAIN_NO}, ["unlikely", "look for other causes"], id="unlikely-reassess"
        ),
        pytest.param(
            {
                "pain": PAIN_YES,
                "tender_points": [PSIS],
                "block": BLOCK_MIDDLE_80,
                "neuro": NEURO_CLEAR,
            },
            ["confirmed (middle cluneal nerve)"],
            id="confirmed",
        ),
        pytest.param(
            {
                "pain": PAIN_YES,
                "tender_points": [CREST],
                "block": BLOCK_80,
                "neuro": {"dermatomal_sensory_loss": True},
            },
            ["red flags point elsewhere (dermatomal sensory loss)"],
            id="probable-red-flag",
        ),
    ],
)
def test_next_action(parts: dict[str, Any], phrases: list[str]) -> None:
    """API.md: next_action is "text saying what moves the diagnosis forward"; Part 0.8 step 2:
    "diagnostic block (image-guided; local anaesthetic + corticosteroid; the branch or
    branches found)"."""
    action = assess_diagnosis(findings(**parts)).next_action
    for phrase in phrases:
        assert phrase in action


def test_threshold_appears_in_the_block_action() -> None:
    """Part 0.7: the threshold is a parameter, and the action says which one applies."""
    a = assess_diagnosis(findings(pain=PAIN_YES, tender_points=[CREST]), block_threshold=70)
    assert "at least 70% counts as positive" in a.next_action


# --- Reporting -------------------------------------------------------------------------------


def test_assessment_reports_rules_citations_and_version() -> None:
    """STYLE: every result reports its rules, citations and knowledge-base version; the
    citations include Kuniya 2014, Isu 2018 and the MCN criteria."""
    a = assess_diagnosis(findings(pain=PAIN_YES, tender_points=[CREST], block=BLOCK_80))
    assert a.knowledge_base_version == KNOWLEDGE_BASE_VERSION
    assert {"kuniya_2014", "isu_2018", "isu_mcn_criteria"} <= set(a.citations)
    assert a.rules_fired[:3] == (
        "dx.criterion.pain_pattern",
        "dx.criterion.tender_point",
        "dx.criterion.block_response",
    )
    assert "dx.branch.superior" in a.rules_fired
    for c in a.citations:
        citation(c)
    assert a.classification_rule == "All three criteria met and no red flag."


def test_landmarks_carry_the_distances() -> None:
    """Part D10: the tender point carries its distance: about 70 mm from the midline for SCN,
    about 35 mm (<= 40 mm) caudal to the PSIS on the LPSL for MCN."""
    scn, mcn = landmark(SUP), landmark("middle")
    assert scn.from_midline_mm == 70.0
    assert mcn.caudal_to_psis_mm == 35.0
    assert mcn.caudal_to_psis_max_mm == 40.0
    assert "long posterior sacroiliac ligament" in mcn.location


def test_literature_thresholds_and_definitions() -> None:
    """Part A2 table: Kuniya >50%, Kiral >=70% at 1 h, Gautam >50% for >=2 h, Maigne no number."""
    studies = {s.study: s.relief_percent for s in literature_block_thresholds()}
    assert studies == {
        "Kuniya 2014": 50.0,
        "Kiral 2024": 70.0,
        "Gautam 2022": 50.0,
        "Maigne & Doursounian 1997": None,
    }
    assert [n for n, _, _ in criterion_definitions()] == [1, 2, 3]


def test_criterion_lookup_refuses_unknown_id() -> None:
    """No Python internals escape: an unknown criterion id is a ValidationError."""
    with pytest.raises(ValidationError):
        assess_diagnosis(Findings()).criterion("gait")


# --- JSON input and round trips -------------------------------------------------------------


def test_findings_from_json() -> None:
    """API.md: "All of it constructible from JSON with Findings.model_validate"."""
    text = """{
        "pain": {"low_back_pain": true, "deep_aching_poorly_localized": true, "leg": true},
        "tender_points": [{"site": "caudal_to_psis", "reproduces_pain": true, "side": "right"}],
        "block": {"branches": ["middle"], "relief_percent": 75,
                  "relief_duration": {"value": 5, "unit": "d"}, "guidance": "ultrasound",
                  "assessed_after": "1 h"},
        "neuro": {"motor_weakness": false, "bladder_bowel_dysfunction": false}
    }"""
    f = Findings.model_validate_json(text)
    assert f.block is not None
    assert f.block.relief_duration == Q_(5, "day")
    assert assess_diagnosis(f).classification is DiagnosticClass.CONFIRMED


@pytest.mark.parametrize(
    "model",
    [
        PainPattern(low_back_pain=True, deep_aching_poorly_localized=False, leg=True),
        TenderPoint(site="iliac_crest", reproduces_pain=True, side="bilateral"),
        BlockResult(branches={SUP, MID}, relief_percent=55.5, relief_duration=Q_(3, "week")),
        NeuroExam(straight_leg_raise=True),
        Findings(tender_points=()),
        Findings(),
    ],
    ids=type,
)
def test_json_round_trip(model: Any) -> None:
    """API.md: M.model_validate_json(m.model_dump_json()) == m for every public model."""
    assert type(model).model_validate_json(model.model_dump_json()) == model


def test_assessment_round_trip() -> None:
    """API.md round trip, for the assessment with criteria, flags and branches."""
    a = assess_diagnosis(
        findings(
            pain=PAIN_YES,
            tender_points=[CREST, PSIS],
            block=BLOCK_80,
            neuro={"bladder_bowel_dysfunction": True},
        )
    )
    assert DiagnosticAssessment.model_validate_json(a.model_dump_json()) == a
    assert a.model_dump(mode="json")["branches"] == ["superior", "middle"]


def test_assess_accepts_a_mapping() -> None:
    """assess_diagnosis validates a mapping as Findings."""
    a = assess_diagnosis({"pain": PAIN_YES, "tender_points": [CREST]})
    assert a.classification is DiagnosticClass.PROBABLE


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        pytest.param({"block": {**BLOCK_80, "relief_percent": 140}}, "relief_percent", id="140%"),
        pytest.param({"block": {**BLOCK_80, "relief_percent": -1}}, "relief_percent", id="-1%"),
        pytest.param(
            {"block": {**BLOCK_80, "relief_percent": "80"}}, "relief_percent", id="text-percent"
        ),
        pytest.param(
            {"block": {**BLOCK_80, "relief_percent": True}}, "relief_percent", id="bool-percent"
        ),
        pytest.param(
            {"block": {**BLOCK_80, "relief_percent": float("nan")}}, "relief_percent", id="nan"
        ),
        pytest.param(
            {"block": {**BLOCK_80, "relief_duration": "-2 weeks"}},
            "relief_duration",
            id="negative-duration",
        ),
        pytest.param(
            {"block": {**BLOCK_80, "relief_duration": 14}}, "relief_duration", id="bare-number"
        ),
        pytest.param(
            {"block": {**BLOCK_80, "relief_duration": "2 mg"}}, "relief_duration", id="wrong-unit"
        ),
        pytest.param({"block": {**BLOCK_80, "branches": []}}, "branches", id="no-branch"),
        pytest.param({"block": {**BLOCK_80, "branches": ["inferior"]}}, "branches", id="inferior"),
        pytest.param(
            {"tender_points": [{"site": "sacrum", "reproduces_pain": True}]},
            "site",
            id="unknown-site",
        ),
        pytest.param(
            {"tender_points": [{"site": "iliac_crest", "reproduces_pain": "yes"}]},
            "reproduces_pain",
            id="string-boolean",
        ),
        pytest.param(
            {"pain": {"low_back_pain": 1, "deep_aching_poorly_localized": True}},
            "low_back_pain",
            id="int-boolean",
        ),
        pytest.param({"neuro": {"motor_weakness": "no"}}, "motor_weakness", id="neuro-string"),
        pytest.param({"neuro": {"reflexes": True}}, "reflexes", id="extra-field"),
        pytest.param({"tender_points": CREST}, "tender_points", id="not-a-list"),
    ],
)
def test_bad_findings_are_refused(parts: dict[str, Any], field: str) -> None:
    """API.md: bad input "is refused with an error that names the field"; booleans must be
    real booleans (Patient._strict_bool's rule)."""
    with pytest.raises(ValidationError) as info:
        Findings.model_validate(parts)
    assert field in str(info.value)
    with pytest.raises(ValidationError):
        assess_diagnosis(parts)


@pytest.mark.parametrize("threshold", [0, -10, 100.5, 150, float("nan"), float("inf"), True, "50"])
def test_bad_threshold_is_refused(threshold: Any) -> None:
    """Brief: block_threshold must satisfy 0 < t <= 100, refused with a cluneal error naming it."""
    with pytest.raises(ClunealError, match="block_threshold"):
        assess_diagnosis(Findings(), block_threshold=threshold)


def test_models_are_frozen() -> None:
    """STYLE: every model is frozen."""
    f = Findings()
    with pytest.raises(ValidationError):
        f.pain = PainPattern(low_back_pain=True, deep_aching_poorly_localized=True)  # type: ignore[misc]


def test_assessment_refuses_criteria_out_of_order() -> None:
    """An assessment lists the three criteria in order: pain pattern, tender point, block."""
    data = assess_diagnosis(Findings()).model_dump(mode="json")
    data["criteria"] = list(reversed(data["criteria"]))
    with pytest.raises(ValidationError, match="criteria"):
        DiagnosticAssessment.model_validate(data)
