"""Issue 15: calculator-style output a clinician trusts.

Renal working shown (inputs, formula, result, interpretation), every citation
a link, each alert once with an action line, one line per adjustment, numbers
at clinical precision while JSON keeps full precision.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from cluneal import Findings, Patient, assess_renal_function, care_plan, titration_schedule
from cluneal._format import citation_url, clinical_number, group_adjustments
from cluneal.display import plan_html, renal_html, schedule_html
from cluneal.evidence import all_citations
from cluneal.report import format_plan, format_renal, format_schedule
from cluneal.titration import Adjustment

TRIAD_1_2: dict[str, Any] = {
    "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
    "block": {"branches": ["superior"], "relief_percent": 80, "relief_duration": "2 weeks"},
}

# A 72-year-old woman, 150 lb, creatinine 133 µmol/L, on warfarin and sertraline:
# CrCl (140 - 72) x 68.04 kg / (72 x 1.5045 mg/dL) x 0.85 = 36.3 mL/min (Cockcroft-Gault
# 1976; 1 lb = 0.45359237 kg, creatinine 88.4 µmol/L per mg/dL), moderate band.
OLDER = Patient(
    age=72,
    sex="female",
    weight="150 lb",
    serum_creatinine="133 umol/L",
    medications=["warfarin", "sertraline"],
)


def older_plan() -> Any:
    return care_plan(OLDER, Findings.model_validate(TRIAD_1_2))


class _Links(HTMLParser):
    """Record every <code> text and whether it sits inside an <a href>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth_a = 0
        self.in_code = False
        self.codes: list[tuple[str, bool]] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.depth_a += 1
            self.hrefs.append(dict(attrs).get("href") or "")
        elif tag == "code":
            self.in_code = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.depth_a -= 1
        elif tag == "code":
            self.in_code = False

    def handle_data(self, data: str) -> None:
        if self.in_code:
            self.codes.append((data, self.depth_a > 0))


def _links(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    parser.close()
    return parser


def _pages() -> list[str]:
    plan = older_plan()
    return [
        plan_html(plan),
        schedule_html(plan.medications[0]),
        renal_html(plan.medications[0].renal, OLDER),
        plan.assessment._repr_html_() or "",
        plan.recommendation._repr_html_() or "",
    ]


@pytest.mark.parametrize("index", range(5))
def test_every_citation_in_the_html_is_a_link(index: int) -> None:
    page = _pages()[index]
    parsed = _links(page)
    registry = set(all_citations())
    cited = [(text, linked) for text, linked in parsed.codes if text in registry]
    assert cited, "the page cites nothing"
    assert [text for text, linked in cited if not linked] == []
    assert parsed.hrefs and all(href.startswith("https://") for href in parsed.hrefs)


def test_citation_links_point_at_the_source_or_the_docs() -> None:
    # DOI from the registry entry (Inker 2021, NEJM), PMID (Gill 2022), and a
    # source with no address: its entry on the References page.
    assert citation_url("inker_2021") == "https://doi.org/10.1056/NEJMoa2102953"
    assert citation_url("gill_2022") == "https://pubmed.ncbi.nlm.nih.gov/35901475/"
    assert citation_url("devine_1974").endswith("/references.html#devine-1974")
    assert citation_url("bja_education_neuropathic").endswith("/pmc/articles/PMC7807995/")
    assert citation_url("decision_example").endswith("/decisions.html#decision-example")
    assert citation_url("no_such_source").endswith("/references.html#no-such-source")


def test_each_alert_appears_once_on_a_plan_page_with_an_action_line() -> None:
    plan = older_plan()
    assert len(plan.alerts) >= 3  # carbamazepine x warfarin, HLA-B, Beers SIADH, omega-3
    page = plan_html(plan)
    rules = re.findall(r'data-rule="([^"]+)"', page)
    assert sorted(rules) == sorted(a.rule_id for a in plan.alerts)
    assert len(rules) == len(set(rules))
    blocks = re.findall(r'data-rule="[^"]+">(.*?)</div></div>', page)
    assert len(blocks) == len(plan.alerts)
    assert all("<b>Action:</b>" in block for block in blocks)
    text = format_plan(plan)
    for alert in plan.alerts:
        assert text.count(alert.message) == 1, alert.rule_id
    assert text.count("  Action: ") == len(plan.alerts)


def test_the_start_low_change_is_written_once_with_both_reasons() -> None:
    # Age 72 (>= 65, Beers 2023) and a moderate renal band both call for start low.
    schedule = older_plan().medications[0]
    rules = [a.rule_id for a in schedule.adjustments]
    assert "titration.start_low.older_adult" in rules
    assert "titration.start_low.renal" in rules
    for text in (format_schedule(schedule), schedule_html(schedule), format_plan(older_plan())):
        assert text.count("Protocol changed from") == 1
        assert "65 or over; renal band is moderate" in text


def test_group_adjustments_keeps_different_changes_apart() -> None:
    a = Adjustment(rule_id="r1", reason="Cap lowered (x): renal", citation="c")
    b = Adjustment(rule_id="r2", reason="Haemodialysis: dosed in the lowest band", citation="c")
    c = Adjustment(rule_id="r3", reason="no colon here", citation="c", verified=False)
    texts = [text for text, _ in group_adjustments([a, b, c])]
    assert texts == [a.reason, b.reason, c.reason]


def test_renal_html_shows_formula_inputs_result_and_interpretation() -> None:
    renal = assess_renal_function(OLDER)
    page = renal_html(renal, OLDER)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "(140 − age in years) × weight (kg) / (72 × serum creatinine (mg/dL))" in text
    assert "× 0.85 if female" in text and "CKD-EPI 2021" in text
    # Inputs as given and as used: 150 lb = 68.04 kg; 133 µmol/L / 88.4 = 1.5045 mg/dL.
    assert "150 lb" in text and "68 kg" in text
    assert "133 µmol/L" in text and "1.5 mg/dL" in text
    assert "36.3 mL/min" in text  # see OLDER
    assert "moderate" in text and f"{renal.gfr_category.value}" in text  # type: ignore[union-attr]
    assert "KDIGO GFR category" in text
    # The model's own repr reaches the same rendering (without the patient).
    assert "Cockcroft" in (renal._repr_html_() or "")
    assert str(renal).startswith("Renal function")


def test_renal_text_and_unknown_function() -> None:
    text = format_renal(assess_renal_function(OLDER), OLDER)
    assert "Weight: 150 lb (68 kg)" in text
    assert "Serum creatinine: 133 µmol/L (1.5 mg/dL)" in text
    unknown = Patient(age=70, sex="male")
    page = renal_html(assess_renal_function(unknown), unknown)
    assert "unknown" in page and "not recorded" in page and "most restrictive" in page


@pytest.mark.parametrize(
    ("value", "down", "expected"),
    [
        (14.9222, False, "14.9"),  # issue 15: "14.9222 mg/day" -> "14.9 mg/day"
        (34.7953216374, False, "34.8"),  # issue 15: "34.7953216374 mL/min" -> "34.8"
        (1200.0, False, "1200"),
        (112.5, False, "112.5"),  # a real dose is never altered
        (1237.5, False, "1237.5"),
        (0.125, False, "0.125"),
        (247.916666666, True, "247.9"),  # a cap is rounded down, never up
        (14.96, True, "14.9"),
        (14.96, False, "15"),
        (0.0, False, "0"),
        (float("nan"), False, "unknown"),
    ],
)
def test_clinical_number(value: float, down: bool, expected: str) -> None:
    assert clinical_number(value, down=down) == expected


def test_people_read_rounded_numbers_and_json_keeps_full_precision() -> None:
    # Gabapentin below CrCl 15 mL/min: the label reduces the 300 mg/day of the
    # 15 mL/min column in proportion to CrCl. CrCl = (140 - 70) x 60 / (72 x 4)
    # x 0.85 = 12.396 mL/min, so the cap is 300 x 12.396 / 15 = 247.92 mg/day.
    patient = Patient(age=70, sex="female", weight="60 kg", serum_creatinine="4 mg/dL")
    schedule = titration_schedule("gabapentin", patient)
    assert schedule.max_daily_dose_mg == pytest.approx(247.9167, abs=1e-3)
    for text in (format_schedule(schedule), schedule_html(schedule)):
        assert "247.9 mg/day" in text
        assert "247.91" not in text and "12.396" not in text
    assert "CrCl 12.4 mL/min" in format_schedule(schedule)
    dumped = json.loads(schedule.model_dump_json())
    assert dumped["max_daily_dose"]["value"] == pytest.approx(247.916666, abs=1e-5)
    assert dumped["renal"]["crcl"]["value"] == pytest.approx(12.3958, abs=1e-4)


def test_a_schedule_shows_its_renal_working() -> None:
    schedule = titration_schedule("gabapentin", OLDER)
    page = schedule_html(schedule)
    folded = page[page.index("<details") : page.index("</details>")]
    assert "<summary>" in folded and "Cockcroft" in folded and "× 0.85 if female" in folded
    assert "36.3" in folded  # see OLDER
    text = format_schedule(schedule)
    assert "    Working: Cockcroft-Gault: (140 - 72) x 68.0 kg" in text
    # Inside a plan the calculator is above: no second working, no folded copy.
    plan = older_plan()
    assert "<details" not in plan_html(plan)
    assert format_plan(plan).count("Working: Cockcroft-Gault") == 1


def test_evidence_lists_the_package_decisions_apart_from_the_sources() -> None:
    plan = older_plan()
    page = plan_html(plan)
    evidence = page[page.rindex(">Evidence<") :]
    assert evidence.index("Package decisions") < evidence.index("Sources")
    decisions = evidence[: evidence.index("Sources")]
    assert "/decisions.html#decision-" in decisions and "doi.org" not in decisions
    text = format_plan(plan)
    listed = text[text.index("\nEvidence:\n") :].splitlines()[2:]
    kinds = [line.strip().startswith("- decision_") for line in listed]
    assert kinds == sorted(kinds, reverse=True) and any(kinds) and not all(kinds)
