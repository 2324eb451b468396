"""Titration schedules for a small cohort: how renal function and age change the plan.

A notebook user prototyping a pathway calls cluneal once per patient; every
schedule explains its cap and adjustments.
"""

import cluneal

cohort = [
    cluneal.Patient(age=45, sex="male", weight="82 kg", serum_creatinine="0.9 mg/dL"),
    cluneal.Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.4 mg/dL"),
    cluneal.Patient(age=66, sex="male", weight="75 kg", on_dialysis=True),
    cluneal.Patient(age=58, sex="female", weight="70 kg"),  # creatinine unknown
]

for patient in cohort:
    schedule = cluneal.titration_schedule("gabapentin", patient)
    final = schedule.steps[-1]
    print(
        f"{patient.age_years:g} y {patient.sex.value}: band {schedule.renal.band.value}, "
        f"cap {schedule.max_daily_dose_mg:g} mg/day ({schedule.max_daily_dose_rule}), "
        f"reaches {final.daily_dose_mg:g} mg/day on day {final.day}"
    )
    for adjustment in schedule.adjustments:
        print(f"    - {adjustment.reason} [{adjustment.rule_id}]")
    # A dose never exceeds its cap.
    assert all(s.daily_dose_mg <= schedule.max_daily_dose_mg for s in schedule.steps)
