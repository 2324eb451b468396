"""The README's ten-line example, runnable: a patient, findings, a care plan."""

import cluneal

patient = cluneal.Patient(age=78, sex="female", weight="132 lb", serum_creatinine="115 umol/L")
findings = cluneal.Findings(
    pain=cluneal.PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    tender_points=[cluneal.TenderPoint(site="iliac_crest", reproduces_pain=True)],
)
plan = cluneal.care_plan(patient, findings)
print(plan.recommendation.step.value)  # diagnostic_block
print([(s.day, s.daily_dose_mg) for s in plan.medications[0].steps])  # carbamazepine, start low
print(plan)  # assessment, next step, schedule, alerts: every line with its rule and citation

assert plan.recommendation.step is cluneal.PathwayStep.DIAGNOSTIC_BLOCK
assert plan.medications[0].drug is cluneal.Drug.CARBAMAZEPINE  # 78: no nortriptyline (Beers)
assert cluneal.CarePlan.model_validate_json(plan.model_dump_json()) == plan
