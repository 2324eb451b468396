"""HTML reprs and plain-text str() of schedules, assessments, recommendations and plans."""

from __future__ import annotations

import html
from functools import cache
from html.parser import HTMLParser
from typing import Any

import pytest

from cluneal import (
    CareHistory,
    Findings,
    InterventionOutcome,
    Patient,
    SafetyAlert,
    care_plan,
    titration_schedule,
)
from cluneal.diagnosis import DiagnosticAssessment, assess_diagnosis
from cluneal.display import assessment_html, plan_html, recommendation_html, schedule_html
from cluneal.pathway import Recommendation, next_step
from cluneal.plan import SAFETY_STATEMENT, CarePlan
from cluneal.report import format_assessment, format_schedule
from cluneal.titration import Adjustment, TitrationSchedule

TRIAD_1_2: dict[str, Any] = {
    "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
}
BLOCK_TEMPORARY: dict[str, Any] = {
    "branches": ["superior"],
    "relief_percent": 80,
    "relief_duration": "2 weeks",
}


@cache
def plan_young() -> CarePlan:
    """30-year-old, tender point on the iliac crest: block next, nortriptyline."""
    patient = Patient(age=30, sex="female", weight="62 kg", serum_creatinine="0.8 mg/dL")
    return care_plan(patient, Findings.model_validate(TRIAD_1_2), start_date="2026-03-02")


@cache
def plan_older() -> CarePlan:
    """72-year-old, CrCl about 35 mL/min, on warfarin: carbamazepine, omega-3 alert."""
    patient = Patient(
        age=72, sex="male", weight="70 kg", serum_creatinine="1.9 mg/dL", medications=["warfarin"]
    )
    findings = Findings.model_validate({**TRIAD_1_2, "block": BLOCK_TEMPORARY})
    return care_plan(patient, findings)


@cache
def plan_maoi() -> CarePlan:
    """On phenelzine, RFA failed: peripheral nerve stimulation, gabapentin."""
    patient = Patient(
        age=55,
        sex="female",
        weight="70 kg",
        serum_creatinine="0.9 mg/dL",
        medications=["phenelzine"],
    )
    findings = Findings.model_validate({**TRIAD_1_2, "block": BLOCK_TEMPORARY})
    history = CareHistory(
        outcomes=(
            InterventionOutcome(
                intervention="radiofrequency_ablation", relief_percent=10, relief_duration="4 weeks"
            ),
        )
    )
    return care_plan(patient, findings, history)


ALL_PLANS = (plan_young, plan_older, plan_maoi)


class _Checker(HTMLParser):
    """Collect tags and attributes, and check that non-void elements are balanced."""

    VOID = frozenset({"br", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    return checker


def _text(page: str) -> str:
    """The text a reader sees, whitespace collapsed."""
    return " ".join(" ".join(_parse(page).text).split())


# --- structure: self-contained, inline styles only ------------------------------------


@pytest.mark.parametrize("make", ALL_PLANS)
def test_html_is_self_contained_and_balanced(make: Any) -> None:
    """Issue 6: inline styles only, no JS, no external assets; well-formed markup."""
    plan = make()
    for page in (
        plan_html(plan),
        schedule_html(plan.medications[0]),
        assessment_html(plan.assessment),
        recommendation_html(plan.recommendation),
    ):
        checker = _parse(page)
        assert page.startswith("<div") and page.endswith("</div>")
        assert checker.tags.isdisjoint({"script", "style", "link", "img", "iframe", "object"})
        # Links are references a reader follows, not assets the page loads.
        assert checker.attributes <= {
            "style",
            "title",
            "data-cluneal",
            "data-severity",
            "data-rule",
            "role",
            "href",
            "target",
            "rel",
        }
        assert "javascript:" not in page.lower()
        assert "url(" not in page


# --- schedules ------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_PLANS)
def test_schedule_html_shows_every_step_and_the_cap(make: Any) -> None:
    """Each step's mg/day, the cap and its rule id are visible."""
    schedule = make().medications[0]
    text = _text(schedule_html(schedule))
    assert f"{schedule.drug.value.capitalize()} titration" in text
    for step in schedule.steps:
        assert f"{step.daily_dose_mg:g} mg/day" in text
        assert f"{step.dose_mg:g} mg" in text
        assert step.composition in text
    assert f"{schedule.max_daily_dose_mg:g} mg/day" in text
    assert schedule.max_daily_dose_rule in text
    for adjustment in schedule.adjustments:
        assert adjustment.rule_id in text


def test_schedule_html_shows_alert_severities_and_rule_ids() -> None:
    """Alerts carry their severity in words, their colour, their rule id and citation."""
    schedule = plan_older().medications[0]
    assert schedule.alerts
    page = schedule_html(schedule)
    text = _text(page)
    for alert in schedule.alerts:
        assert alert.severity.value.upper() in text
        assert alert.rule_id in text
        assert alert.citation in text
        assert f'data-severity="{alert.severity.value}"' in page
    assert "#fff3e0" in page  # the MAJOR palette


def test_schedule_html_dates_renal_band_and_monitoring() -> None:
    """A dated schedule shows its dates; the renal band and CrCl are shown."""
    schedule = plan_young().medications[0]
    text = _text(schedule_html(schedule))
    assert "Date" in text and "2026-03-02" in text
    assert f"CrCl {schedule.renal.crcl_ml_min:.1f} mL/min" in text
    for line in schedule.monitoring:
        assert line in text


def test_schedule_html_supplemental_instructions_and_unknown_renal_function() -> None:
    """The haemodialysis supplement is listed; unknown renal function is said in words."""
    dialysis = titration_schedule(
        "gabapentin",
        Patient(age=60, sex="male", weight="70 kg", serum_creatinine="6 mg/dL", on_dialysis=True),
    )
    assert dialysis.supplemental_instructions
    text = _text(schedule_html(dialysis))
    assert "Separate instructions" in text
    assert dialysis.supplemental_instructions[0].rule_id in text

    unknown = titration_schedule("pregabalin", Patient(age=40, sex="male"))
    text = _text(schedule_html(unknown))
    assert "renal function unknown" in text
    assert "Date" not in text


def test_unverified_adjustment_is_marked() -> None:
    """A general-knowledge rule is marked as unverified."""
    schedule = plan_young().medications[0]
    gk = Adjustment(rule_id="r.gk", reason="general knowledge", citation="c", verified=False)
    changed = TitrationSchedule.model_validate(
        {**schedule.model_dump(), "adjustments": (gk,), "alerts": ()}
    )
    text = _text(schedule_html(changed))
    assert "general knowledge" in text and "(unverified rule)" in text
    assert "No alerts." in text


def test_schedule_repr_html_and_str() -> None:
    """_repr_html_ delegates to schedule_html; str() is the plain-text report."""
    schedule = plan_maoi().medications[0]
    assert schedule._repr_html_() == schedule_html(schedule)
    assert str(schedule) == format_schedule(schedule)
    assert str(schedule).startswith("Gabapentin titration (standard protocol)")


# --- diagnosis ------------------------------------------------------------------------


def test_assessment_html_shows_classification_and_criteria() -> None:
    """Classification and each criterion's status, reason and rule id are visible."""
    assessment = plan_older().assessment
    text = _text(assessment_html(assessment))
    assert "CONFIRMED" in text
    for criterion in assessment.criteria:
        assert criterion.name in text
        assert criterion.reason in text
        assert criterion.rule_id in text
    assert "\u2713 met" in text
    assert "superior cluneal nerve" in text
    assert assessment.next_action in text


def test_assessment_html_unknown_and_not_met() -> None:
    """Unknown and not-met criteria are told apart (None is not False)."""
    text = _text(assessment_html(assess_diagnosis(Findings(tender_points=()))))
    assert "UNLIKELY" in text and "\u2717 not met" in text and "? unknown" in text
    assert "branches: not determined" in text


@pytest.mark.parametrize(
    ("neuro", "urgent"), [("bladder_bowel_dysfunction", True), ("motor_weakness", False)]
)
def test_assessment_html_red_flags(neuro: str, urgent: bool) -> None:
    """Red flags show what they point to; bladder or bowel dysfunction is urgent."""
    assessment = assess_diagnosis(Findings.model_validate({**TRIAD_1_2, "neuro": {neuro: True}}))
    flag = assessment.red_flags[0]
    text = _text(assessment_html(assessment))
    assert ("RED FLAG (URGENT)" in text) is urgent
    assert "RED FLAG" in text and flag.points_to in text and flag.rule_id in text


def test_assessment_repr_html_and_str() -> None:
    """_repr_html_ delegates to assessment_html; str() is format_assessment."""
    assessment: DiagnosticAssessment = plan_young().assessment
    assert assessment._repr_html_() == assessment_html(assessment)
    assert str(assessment) == format_assessment(assessment)
    assert str(assessment).startswith("Diagnosis: PROBABLE")


# --- pathway --------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL_PLANS)
def test_recommendation_html_shows_step_rules_and_citations(make: Any) -> None:
    """The recommended step, the transition, the rules fired and the citations are visible."""
    recommendation = make().recommendation
    text = _text(recommendation_html(recommendation))
    assert recommendation.step.label in text
    assert recommendation.transition in text
    for rule in recommendation.rules_fired:
        assert rule in text
    for cited in recommendation.citations:
        assert cited in text
    assert recommendation.evidence_level.label in text


def test_recommendation_html_citation_tooltip_and_unknown_citation() -> None:
    """A known citation id carries its full reference as a tooltip; an unknown one shows as is."""
    recommendation = plan_maoi().recommendation
    page = recommendation_html(recommendation)
    assert 'title="' in page
    changed = Recommendation.model_validate(
        {
            **recommendation.model_dump(),
            "citations": ("no_such_citation",),
            "urgent": True,
            "follow_up": True,
            "alternative_options": (),
        }
    )
    text = _text(recommendation_html(changed))
    assert "no_such_citation" in text
    assert "URGENT" in text and "FOLLOW UP" in text
    for step in changed.alternatives:
        assert step.label in text


def test_recommendation_html_without_citations_or_alternatives() -> None:
    """Empty citations read 'none'."""
    recommendation = next_step(Findings())
    changed = Recommendation.model_validate(
        {
            **recommendation.model_dump(),
            "citations": (),
            "alternatives": (),
            "alternative_options": (),
        }
    )
    text = _text(recommendation_html(changed))
    assert "Initial evaluation" in text and "No citations." in text
    assert "Alternatives" not in text


def test_recommendation_repr_html() -> None:
    """_repr_html_ delegates to recommendation_html."""
    recommendation = plan_older().recommendation
    assert recommendation._repr_html_() == recommendation_html(recommendation)


# --- care plans -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "step", "drug"),
    [
        (plan_young, "Diagnostic block", "nortriptyline"),
        (plan_older, "Radiofrequency ablation", "carbamazepine"),
        (plan_maoi, "Peripheral nerve stimulation", "gabapentin"),
    ],
)
def test_plan_html_shows_the_whole_plan(make: Any, step: str, drug: str) -> None:
    """Safety statement first, the recommended step, the drug, alerts and the rules applied."""
    plan = make()
    page = plan_html(plan)
    text = _text(page)
    assert text.startswith(SAFETY_STATEMENT)
    assert step in text
    assert f"{drug.capitalize()} titration" in text
    assert plan.assessment.classification.value.upper() in text
    assert plan.medication_rationale in text
    for choice in plan.drug_choices:
        assert choice.drug.value in text
    for alert in plan.alerts:
        assert alert.rule_id in text and alert.severity.value.upper() in text
    for measure in plan.complementary:
        assert measure.name in text
    for rule in plan.trace:
        assert rule in text
    assert plan.knowledge_base_version in text
    assert plan._repr_html_() == page


def test_plan_html_omega_3_alert_for_anticoagulant() -> None:
    """clinical.md D9: omega-3 with an anticoagulant is a moderate alert, shown in the plan."""
    text = _text(plan_html(plan_older()))
    assert "complementary.omega_3.bleeding" in text
    assert "MODERATE" in text
    assert "warfarin" in text


def test_plan_html_patient_details() -> None:
    """Dialysis, hepatic impairment, conditions and recently stopped drugs are listed."""
    patient = Patient(
        age=50,
        sex="male",
        weight="80 kg",
        serum_creatinine="6 mg/dL",
        on_dialysis=True,
        hepatic_impairment="mild",
        conditions=["falls_history"],
        recent_medications=["sertraline"],
    )
    text = _text(plan_html(care_plan(patient, Findings.model_validate(TRIAD_1_2))))
    assert "on haemodialysis" in text and "mild hepatic impairment" in text
    assert "falls history" in text and "Stopped within 14 days sertraline" in text


def test_plan_without_medication() -> None:
    """No medication while an urgent red flag is assessed: no schedule, still the statement."""
    findings = Findings.model_validate({**TRIAD_1_2, "neuro": {"bladder_bowel_dysfunction": True}})
    plan = care_plan(Patient(age=40, sex="female"), findings)
    assert plan.medications == ()
    text = _text(plan_html(plan))
    assert text.startswith(SAFETY_STATEMENT) and "URGENT" in text
    assert " titration (" not in text  # no schedule heading


# --- escaping -------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script>'


def test_hostile_medication_name_is_escaped() -> None:
    """Values come from callers: a medication name like 'a<b' never reaches the markup raw."""
    plan = plan_older()
    # Patient validation refuses '<'; the renderer must not rely on that.
    patient = plan.patient.model_copy(update={"medications": ("a<b", HOSTILE)})
    page = plan_html(plan.model_copy(update={"patient": patient}))
    assert "a<b" not in page
    assert "a&lt;b" in page
    assert "<script" not in page
    assert html.escape(HOSTILE) in page
    assert "a<b" in _text(page)  # and the reader still sees the name as written


def test_valid_but_quoting_medication_name_is_escaped() -> None:
    """A name the validator accepts with a quote is escaped too (attribute-safe)."""
    patient = Patient(age=40, sex="female", medications=["o'brien's (test)"])
    page = plan_html(care_plan(patient, Findings.model_validate(TRIAD_1_2)))
    assert "o'brien" not in page
    assert "o&#x27;brien&#x27;s (test)" in page


def test_hostile_alert_and_step_text_are_escaped() -> None:
    """Every text field of an alert, an adjustment and a step is escaped."""
    schedule = plan_older().medications[0]
    alert = SafetyAlert(
        severity="contraindicated",
        drugs=("x<y",),
        message=HOSTILE,
        rule_id='r"><b>',
        citation="c&d",
        action="<i>act</i>",
    )
    data = schedule.model_dump()
    data["alerts"] = (alert,)
    data["steps"] = tuple({**s, "composition": "<b>2 tabs</b>"} for s in data["steps"])
    data["monitoring"] = ("<u>sodium</u>",)
    page = schedule_html(TitrationSchedule.model_validate(data))
    for raw in ("x<y", HOSTILE, 'r"><b>', "c&d", "<i>", "<b>2 tabs", "<u>"):
        assert raw not in page
    text = _text(page)
    for shown in (
        "CONTRAINDICATED",
        "x<y",
        HOSTILE,
        'r"><b>',
        "c&d",
        "<i>act</i>",
        "<u>sodium</u>",
    ):
        assert shown in text
    assert "#fdecea" in page  # the CONTRAINDICATED palette


def test_hostile_assessment_and_recommendation_text_is_escaped() -> None:
    """Free text in an assessment and a recommendation is escaped."""
    recommendation = plan_young().recommendation
    data = recommendation.model_dump()
    data["rationale"] = HOSTILE
    data["assessment"]["next_action"] = "<em>next</em>"
    changed = Recommendation.model_validate(data)
    for page in (recommendation_html(changed), assessment_html(changed.assessment)):
        assert "<script" not in page and "<em>" not in page
    assert HOSTILE in _text(recommendation_html(changed))
