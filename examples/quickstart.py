"""The README's ten-line example, runnable: one patient, renal function, JSON."""

import cluneal

patient = cluneal.Patient(age=78, sex="female", weight="132 lb", serum_creatinine="115 umol/L")
renal = cluneal.assess_renal_function(patient)  # Cockcroft-Gault, CKD-EPI 2021, band
print(renal.crcl, renal.band.value)  # 33.69 mL/min, "moderate"
print(renal.reason)  # the equation, the weight used, the rule
print(patient.model_dump_json())  # {"value": ..., "unit": "<UCUM>"} quantities

assert renal.band is cluneal.RenalBand.MODERATE
assert cluneal.Patient.model_validate_json(patient.model_dump_json()) == patient
