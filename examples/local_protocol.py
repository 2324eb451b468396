"""A clinic's local protocol: load it, apply it, read which rules produced a result.

Runs from any directory: the protocol file sits next to this script.
"""

from pathlib import Path

import cluneal

HERE = Path(__file__).resolve().parent

# 1. Load the clinic's protocol and apply it to the built-in knowledge base.
protocol = cluneal.LocalProtocol.from_toml(HERE / "local_protocol.toml")
clinic = cluneal.knowledge_base().with_protocol(protocol)
print(clinic.version)  # 2026.12.0+st-elsewhere-pain@3
print(clinic.protocol_sha256)  # sha256:... of the protocol's canonical JSON

# 2. Every rule-applying function takes knowledge=; every result names it.
patient = cluneal.Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
schedule = cluneal.titration_schedule("gabapentin", patient, knowledge=clinic)
print(schedule.max_daily_dose, schedule.max_daily_dose_rule)  # 1200 mg/day, the clinic's cap
print([st.composition for st in schedule.steps])  # 300 mg capsules only: what the pharmacy stocks
print(schedule.knowledge_base_version, schedule.protocol_sha256)

findings = cluneal.Findings(
    pain=cluneal.PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    tender_points=[cluneal.TenderPoint(site="iliac_crest", reproduces_pain=True)],
    block=cluneal.BlockResult(branches={"superior"}, relief_percent=60, relief_duration="2 weeks"),
)
plan = cluneal.care_plan(patient, findings, knowledge=clinic)
print(plan.assessment.classification.value)  # unlikely: 60% is below the clinic's 70%
print({c.drug.value: c.status.value for c in plan.drug_choices})  # tramadol: excluded_by_protocol

# 3. A drug the clinic excludes is never scheduled.
try:
    cluneal.titration_schedule("tramadol", patient, knowledge=clinic)
except cluneal.ExcludedDrugError as exc:
    print(exc)

# 4. A protocol that would loosen a rule is refused, naming the field, value and limit.
try:
    cluneal.LocalProtocol(name="clinic", version="4", max_daily_dose={"pregabalin": "900 mg/day"})
except cluneal.LocalProtocolError as exc:
    print(exc)

assert clinic.version == f"{cluneal.knowledge_base().version}+st-elsewhere-pain@3"
assert schedule.max_daily_dose_rule == "local_protocol.cap.gabapentin"
assert {st.composition for st in schedule.steps} == {"1 x 300 mg capsule"}
assert plan.assessment.classification is cluneal.DiagnosticClass.UNLIKELY
assert cluneal.care_plan(patient, findings).assessment.classification.value == "confirmed"
