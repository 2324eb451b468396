"""Alert, action and rule texts take their numbers from the rules they belong to (issue 11).

A text of ``renal.toml``, ``safety.toml``, ``pharmacotherapy.toml``, ``pathway.toml``,
``outcomes.toml`` or ``complementary.toml`` that states a
number a rule acts on names it as a placeholder: the loader fills the rule's own
values when it reads the file, the knowledge base fills another file's values (an
age of ``parameters.toml``, a monograph's cap, a landmark's distance, a case series'
count) when it is built. A changed value
therefore changes what the alert says. The numbers still written as literals are
quotes of sources that no rule acts on, listed below with their reasons.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cluneal import (
    KnowledgeBase,
    KnowledgeBaseError,
    Patient,
    assess_renal_function,
    check_regimen,
    knowledge_base,
)
from cluneal.knowledge import read_toml
from cluneal.knowledge.drugs import rule_text
from cluneal.knowledge.safety_rules import parse_safety_rules
from cluneal.knowledge.texts import literal_numbers


def _alert(alerts: Any, rule_id: str) -> Any:
    return next(a for a in alerts if a.rule_id == rule_id)


def _kb(path: str, change: Any, version: str) -> KnowledgeBase:
    raw = copy.deepcopy(read_toml(path))
    change(raw)
    return KnowledgeBase.from_documents({path: raw}, version=version)


# clinical.md Part 0 (renal): "an actual weight above 120 kg gives a moderate alert" and
# "a serum creatinine below 0.7 mg/dL (62 µmol/L) in a patient aged 65 or more".
HEAVY = Patient(age=50, sex="male", weight="130 kg", serum_creatinine="1.0 mg/dL")
OLD_LOW = Patient(age=70, sex="female", weight="60 kg", serum_creatinine="0.6 mg/dL")


def test_the_renal_alerts_say_the_built_in_numbers() -> None:
    """The texts as clinical.md states them (120 kg; 0.7 mg/dL = 62 µmol/L; 65)."""
    heavy = _alert(assess_renal_function(HEAVY).alerts, "renal.alert.obesity_height_unknown")
    assert heavy.message.startswith("Weight above 120 kg with height unknown:")
    low = _alert(assess_renal_function(OLD_LOW).alerts, "renal.alert.low_creatinine_older_adult")
    assert low.message.startswith("Serum creatinine below 0.7 mg/dL (62 umol/L) at 65 or over:")


def test_the_obesity_alert_names_its_threshold() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["obesity_no_height"]["above_kg"] = 110.0

    kb = _kb("renal.toml", change, "heavy-110")
    patient = Patient(age=50, sex="male", weight="115 kg", serum_creatinine="1.0 mg/dL")
    alerts = assess_renal_function(patient, knowledge=kb).alerts
    assert _alert(alerts, "renal.alert.obesity_height_unknown").message.startswith(
        "Weight above 110 kg with height unknown:"
    )


def test_the_low_creatinine_alert_names_its_threshold_age_and_factor() -> None:
    """µmol/L is the mg/dL threshold times parameters.toml's factor (88.4), rounded as today."""

    def threshold(raw: dict[str, Any]) -> None:
        raw["low_creatinine_older_adult"]["below_mg_dl"] = 0.8

    kb = _kb("renal.toml", threshold, "low-0.8")
    patient = Patient(age=70, sex="female", weight="60 kg", serum_creatinine="0.75 mg/dL")
    rule = "renal.alert.low_creatinine_older_adult"
    message = _alert(assess_renal_function(patient, knowledge=kb).alerts, rule).message
    assert message.startswith("Serum creatinine below 0.8 mg/dL (71 umol/L) at 65 or over:")

    def older(raw: dict[str, Any]) -> None:
        raw["older_adult"]["age_years"] = 68.0
        raw["creatinine"]["umol_l_per_mg_dl"] = 90.0

    kb = _kb("parameters.toml", older, "older-68")
    message = _alert(assess_renal_function(OLD_LOW, knowledge=kb).alerts, rule).message
    assert message.startswith("Serum creatinine below 0.7 mg/dL (63 umol/L) at 68 or over:")
    skip = kb.pharmacotherapy.skips[0]
    assert skip.text.startswith("Nortriptyline is not a first choice at 68 or older")


def test_the_renal_texts_name_the_bands_and_weight_rules() -> None:
    def change(raw: dict[str, Any]) -> None:
        raw["band"][1]["lower_ml_min"] = 25.0
        raw["ideal_body_weight"]["min_height_cm"] = 154.94
        raw["obesity"]["adjusted_above_ibw_ratio"] = 1.2

    renal = _kb("renal.toml", change, "bands").renal
    assert renal.bands[1].text.startswith("25 < CrCl < 60 mL/min (exactly 25 counts")
    assert renal.bands[2].text.startswith("15 < CrCl <= 25 mL/min")
    assert renal.ideal_body_weight.text.endswith("over 61 in; not defined below 154.94 cm (61 in)")
    assert renal.obesity.text.startswith("Actual weight above 120% of ideal body weight")


# clinical.md Part B5: "ECG screening before a TCA in patients >40 y; keep <100 mg/day in
# cardiac disease"; Part B4: the label's elderly dose "30-50 mg/day"; Part B6: "Relevance to
# 1.5-4.5 mg LDN is unknown".
def test_the_safety_texts_say_the_built_in_numbers() -> None:
    rules = {r.rule_id: r for r in knowledge_base().safety_rules}
    ecg = rules["alert.nortriptyline.ecg_over_40"].message
    assert ecg == "ECG before starting a tricyclic antidepressant in patients older than 40 years."
    cardiac = rules["alert.nortriptyline.cardiac"].action
    assert cardiac == "ECG first; keep the dose below 100 mg/day or choose another drug."
    beers = rules["beers.nortriptyline.anticholinergic"].action
    assert beers == "Prefer another option; if used, the lowest dose (cap 50 mg/day)."
    assert "relevance to 1.5-4.5 mg is unknown" in rules["alert.naltrexone.cirrhosis"].message


def test_an_age_criterion_fills_its_alert() -> None:
    def change(raw: dict[str, Any]) -> None:
        rule = next(r for r in raw["rule"] if r["rule_id"] == "alert.nortriptyline.ecg_over_40")
        rule["when"]["age_over_years"] = 45

    kb = _kb("safety.toml", change, "ecg-45")
    patient = Patient(age=50, sex="male", weight="70 kg", serum_creatinine="1.0 mg/dL")
    alert = _alert(
        check_regimen(["nortriptyline"], patient, knowledge=kb), "alert.nortriptyline.ecg_over_40"
    )
    assert alert.message.endswith("in patients older than 45 years.")


def test_the_monographs_caps_fill_the_safety_actions() -> None:
    """The nortriptyline caps the actions refer to are the monograph's, wherever they change."""

    def change(raw: dict[str, Any]) -> None:
        caps = {c["rule_id"]: c for c in raw["caps"]}
        caps["nortriptyline.cap.cardiac"]["max_mg_day"] = 75
        caps["nortriptyline.cap.older_adult"]["max_mg_day"] = 40

    kb = _kb("monographs/nortriptyline.toml", change, "caps")
    rules = {r.rule_id: r for r in kb.safety_rules}
    assert "keep the dose below 75 mg/day" in str(rules["alert.nortriptyline.cardiac"].action)
    assert "(cap 40 mg/day)" in str(rules["beers.nortriptyline.anticholinergic"].action)
    old = Patient(age=70, sex="male", weight="70 kg", serum_creatinine="1.0 mg/dL")
    alerts = check_regimen(["nortriptyline"], old, knowledge=kb)
    assert "(cap 40 mg/day)" in str(_alert(alerts, "beers.nortriptyline.anticholinergic").action)
    # A variant of that base fills the texts again from its own values.
    again = kb.replace(version="again", monographs=knowledge_base().monographs)
    rules = {r.rule_id: r for r in again.safety_rules}
    assert "(cap 50 mg/day)" in str(rules["beers.nortriptyline.anticholinergic"].action)


def test_a_text_restating_its_rules_number_is_refused() -> None:
    raw = copy.deepcopy(read_toml("safety.toml"))
    rule = next(r for r in raw["rule"] if r["rule_id"] == "alert.nortriptyline.ecg_over_40")
    rule["message"] = "ECG before a tricyclic in patients older than 40 years."
    with pytest.raises(KnowledgeBaseError, match=r"ecg_over_40\.message.*states 40"):
        parse_safety_rules(raw)
    renal = copy.deepcopy(read_toml("renal.toml"))
    renal["obesity_no_height"]["message"] = "Weight above 120 kg, height unknown."
    with pytest.raises(KnowledgeBaseError, match=r"obesity_height_unknown\.message.*states 120"):
        KnowledgeBase.from_documents({"renal.toml": renal})


@pytest.mark.parametrize(
    ("path", "edit", "match"),
    [
        ("safety.toml", ("alert.nortriptyline.cardiac", "action", "{rules[bogus].x}"), "bogus"),
        ("safety.toml", ("alert.nortriptyline.cardiac", "action", "{bogus_mg:g}"), "bogus_mg"),
        ("renal.toml", ("obesity_no_height", "message", "{bogus_kg:g} kg"), "bogus_kg"),
        ("renal.toml", ("band", "text", "CrCl >= {bogus:g}"), "bogus"),
        ("pharmacotherapy.toml", ("skip", "text", "at {bogus_age:g}"), "bogus_age"),
    ],
)
def test_a_placeholder_that_does_not_resolve_is_refused(
    path: str, edit: tuple[str, str, str], match: str
) -> None:
    raw = copy.deepcopy(read_toml(path))
    where, field, text = edit
    if path == "safety.toml":
        next(r for r in raw["rule"] if r["rule_id"] == where)[field] = text
    elif isinstance(raw[where], list):
        raw[where][0][field] = text
    else:
        raw[where][field] = text
    with pytest.raises(KnowledgeBaseError, match=match):
        KnowledgeBase.from_documents({path: raw}, version="bad")


# Literal numbers left in these files' texts: quotes of a source (or a name) that no rule
# acts on. Any other number in one of these texts must be a placeholder.
_BEERS = (
    "beers.nortriptyline.anticholinergic",
    "beers.gabapentin.opioid",
    "beers.pregabalin.opioid",
    "beers.tramadol.benzodiazepine",
    "beers.cns_active.three_or_more",
    "beers.falls.antiepileptic_opioid_tca",
    "beers.hyponatraemia",
)
_WASHOUT = (
    "the label's 14-day MAOI washout: no rule counts days (Patient.recent_medications is the "
    "caller's list of what was stopped within 14 days)"
)
_SERIES = (
    "a published series quoted as evidence: outcomes.toml may lack or replace a procedure's "
    "count (the simulation then refuses it), so the pathway does not depend on it"
)
QUOTES: dict[str, tuple[tuple[str, ...], str]] = {
    "safety.toml:contraindication.nortriptyline.maoi": (("14", "14"), _WASHOUT),
    "safety.toml:contraindication.carbamazepine.maoi": (("14", "14"), _WASHOUT),
    "safety.toml:contraindication.tramadol.maoi": (("14", "14"), _WASHOUT),
    "safety.toml:contraindication.naltrexone.opioid": (
        ("14", "7", "10"),
        "the recent-medication window (as above) and the label's opioid-free 7-10 days (advice)",
    ),
    "safety.toml:alert.gabapentinoid.respiratory": (("2019",), "the FDA warning's year"),
    "safety.toml:alert.naltrexone.hepatic": (("1610", "200"), "Bertolotti 1997's AUCs, quoted"),
    "safety.toml:alert.naltrexone.cirrhosis": (("1610", "200"), "Bertolotti 1997's AUCs, quoted"),
    **{f"safety.toml:{rule}": (("2023",), "the Beers criteria's edition") for rule in _BEERS},
    "pharmacotherapy.toml:pharm.skip.nortriptyline.older": (
        ("2023",),
        "the Beers criteria's edition",
    ),
    "outcomes.toml:simulation.response.diagnostic_block": (("2014",), "the series' year"),
    "outcomes.toml:simulation.response.radiofrequency_ablation": (
        ("2018", "2021", "36", "92.1", "10", "111.2", "95", "92.3", "36"),
        (
            "the series' years; its relapse count's figures (a count may be replaced on its "
            "own); the analgesia and mean relief it reports, which no count uses"
        ),
    ),
    "outcomes.toml:simulation.response.peripheral_nerve_stimulation": (("2025",), "year"),
    "outcomes.toml:simulation.response.surgical_decompression": (
        ("1997", "1961", "87"),
        "the series' year; another series (Takayama 1961) quoted for comparison",
    ),
    "outcomes.toml:simulation.relapse.radiofrequency_ablation": (
        ("2018", "2021", "51"),
        "the series' years and its size, lost to follow-up included (the response count's)",
    ),
    "outcomes.toml:simulation.relapse.peripheral_nerve_stimulation": (
        ("2025", "6", "2"),
        (
            "the series' year and size (the response count's) and its inconclusive 2-year "
            "follow-up, which no count uses"
        ),
    ),
    "outcomes.toml:simulation.relapse.surgical_decompression": (("2023",), "the series' year"),
    "pathway.toml:pathway.block_indicated": (("2014",), "the series' year (Kuniya 2014)"),
    "pathway.toml:pathway.block_temporary": (("36", "46", "92"), _SERIES),
    "pathway.toml:pathway.rfa_failed": (("5", "6", "50"), _SERIES),
    "pathway.toml:pathway.pns_failed": (("6", "32"), _SERIES),
    "pathway.toml:pathway.surgery_failed": (
        ("1997", "4", "6"),
        (
            "Maigne 1997's finding on its 6 unsatisfactory results, quoted (the simulation's "
            "surgical count is the same series' 13 of 19)"
        ),
    ),
    "complementary.toml:complementary.exercise": (
        ("30",),
        "a suggestion quoted from its source; no rule acts on its minutes",
    ),
    "complementary.toml:complementary.omega_3": (
        ("1000",),
        "a suggestion quoted from its source; no rule acts on its dose",
    ),
}


# The fields of a row that hold text a person reads.
_TEXT_FIELDS = (
    *("text", "message", "action", "suggestion", "evidence_note", "series", "outcome"),
    *("rationale", "condition", "detail", "second_line_text", "off_label_text"),
)


def _rows(path: str) -> list[dict[str, Any]]:
    raw = read_toml(path)
    if path == "pharmacotherapy.toml":
        return [raw["selection"], *raw["skip"], *raw["withhold"], raw["none_available"]]
    if path == "renal.toml":
        return [r for v in raw.values() for r in (v if isinstance(v, list) else [v])]
    if path == "pathway.toml":
        transitions = raw["transition"]
        alternatives = [
            {"rule_id": t["rule_id"], **a} for t in transitions for a in t.get("alternatives", ())
        ]
        return [*transitions, *alternatives, *raw["modifier"]]
    return [
        r
        for key in ("rule", "response", "relapse", "measure", "interaction")
        for r in raw.get(key, ())
    ]


def _number_texts() -> dict[str, tuple[str, ...]]:
    """Every literal number in the texts of these files, by file and rule id."""
    found: dict[str, tuple[str, ...]] = {}
    files = (
        "safety.toml",
        "renal.toml",
        "pharmacotherapy.toml",
        "outcomes.toml",
        "pathway.toml",
        "complementary.toml",
    )
    for path in files:
        for row in _rows(path):
            texts = [row[f] for f in _TEXT_FIELDS if isinstance(row.get(f), str)]
            numbers = tuple(n for t in texts for n in literal_numbers(t))
            if numbers:
                key = f"{path}:{row['rule_id']}"
                found[key] = found.get(key, ()) + numbers
    return found


def test_texts_state_no_number_a_rule_acts_on() -> None:
    """Outside placeholders, these texts' numbers are the quotes listed above."""
    found = _number_texts()
    assert found == {key: numbers for key, (numbers, _) in QUOTES.items()}


def test_the_pathway_and_case_series_texts_name_landmarks_and_counts() -> None:
    """A rationale takes the landmarks (diagnosis.toml); a series' texts take its counts."""
    kb = knowledge_base()
    # clinical.md Part 0.7: about 70 mm from the midline, within 40 mm caudal to the PSIS.
    incomplete = kb.pathway.transition("pathway.incomplete").rationale
    assert "about 70 mm from the midline; within 40 mm caudal to the PSIS" in incomplete

    def landmarks(raw: dict[str, Any]) -> None:
        raw["landmark"][0]["from_midline_mm"] = 75.0
        raw["landmark"][1]["caudal_to_psis_max_mm"] = 45.0

    moved = _kb("diagnosis.toml", landmarks, "landmarks").pathway
    assert "about 75 mm from the midline; within 45 mm caudal to the PSIS" in (
        moved.transition("pathway.incomplete").rationale
    )

    def counts(raw: dict[str, Any]) -> None:
        raw["response"][1]["successes"] = 44
        raw["relapse"][1]["censored"] = 34

    outcomes = _kb("outcomes.toml", counts, "counts")
    rfa = outcomes.outcomes.response_for("radiofrequency_ablation")
    relapse = outcomes.outcomes.relapse_for("radiofrequency_ablation")
    assert rfa is not None
    assert relapse is not None
    assert rfa.series.endswith("(44 analysed of 51)")
    assert rfa.outcome.startswith("all 44 analysed had relief")
    assert "the 7 lost to follow-up" in rfa.outcome
    assert relapse.series.endswith("(44 analysed of 51)")
    assert (
        relapse.outcome
        == "pain returned in 10 at a mean 111.2 days; 34 had ongoing relief at a mean 92.1 days"
    )


def test_the_repeat_block_alternatives_name_the_most_blocks() -> None:
    """ "up to 3 in all" is pathway.toml's max_blocks (Kuniya 2014: up to 3 injections)."""

    def fewer(raw: dict[str, Any]) -> None:
        raw["parameters"]["max_blocks"] = 2

    pathway = _kb("pathway.toml", fewer, "two-blocks").pathway
    for rule in ("pathway.block_temporary", "pathway.repeat_block_temporary"):
        built = knowledge_base().pathway.transition(rule).alternatives[0].text
        assert built.endswith("up to 3 in all")
        assert pathway.transition(rule).alternatives[0].text.endswith("up to 2 in all")


def test_a_text_replaced_in_a_copy_of_a_rule_is_filled_or_kept() -> None:
    """A rule copied with a new text: a template is filled, a plain text is kept as given."""
    kb = knowledge_base()
    rules = list(kb.safety_rules)
    at = next(i for i, r in enumerate(rules) if r.rule_id == "alert.nortriptyline.cardiac")
    new = "at most {rules[nortriptyline.cap.adult].max_mg_day:g} mg/day"
    rules[at] = rules[at].model_copy(update={"action": new})
    filled = kb.replace(version="copied", safety_rules=tuple(rules)).safety_rules[at]
    assert filled.action == "at most 150 mg/day"  # clinical.md Part 0 caps table: nortriptyline
    rules[at] = rules[at].model_copy(update={"action": "Record an ECG."})
    kept = kb.replace(version="plain", safety_rules=tuple(rules)).safety_rules[at]
    assert kept.action == "Record an ECG."


def test_the_scaling_rule_names_gabapentins_threshold() -> None:
    """titration.renal.scaled's "below CrCl 15" is gabapentin's end-stage scale_below_ml_min."""
    kb = knowledge_base()
    scaled = kb.titration_rules["titration.renal.scaled"]
    # clinical.md Part B (gabapentin, note a): "below 15 mL/min, reduce the daily dose in proportion".
    assert rule_text(scaled, kb).startswith("Gabapentin below CrCl 15 mL/min:")

    def lower(raw: dict[str, Any]) -> None:
        band = next(b for b in raw["renal_bands"] if b["band"] == "end_stage")
        band["scale_below_ml_min"] = 12.0

    changed = _kb("monographs/gabapentin.toml", lower, "scale-12")
    text = rule_text(changed.titration_rules["titration.renal.scaled"], changed)
    assert text.startswith("Gabapentin below CrCl 12 mL/min:")
    assert text.endswith("(CrCl/12)")
