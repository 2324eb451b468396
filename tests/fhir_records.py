"""FHIR R4 records and CDS Hooks requests for the service tests and the load run.

The demo patient is the one of ``cluneal demo``: a 72-year-old woman, 68 kg,
serum creatinine 1.3 mg/dL (Cockcroft-Gault about 42 mL/min), on sertraline and
apixaban, with the full triad and a temporary block response.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from cluneal.fhir.exam import EXAM_SYSTEM, QUESTIONNAIRE_URL

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
AS_OF = dt.date(2026, 11, 1)


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
    }
    if resources:  # FHIR JSON has no empty arrays: an empty result has no `entry`
        bundle["entry"] = [{"resource": r} for r in resources]
    return bundle


def _observation(oid: str, pid: str, loinc: str, value: float, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": value, "unit": code, "system": UCUM, "code": code},
    }


def medication(mid: str, pid: str, rxcui: str, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
    }


def _answer(link: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link, "answer": [value]}


def exam(pid: str) -> dict[str, Any]:
    """The triad with a temporary block response (80 % for 3 weeks)."""
    code = {"system": EXAM_SYSTEM}
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"exam-{pid}",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "authored": "2026-10-02",
        "item": [
            {
                "linkId": "pain",
                "item": [
                    _answer("pain.low-back-pain", valueBoolean=True),
                    _answer("pain.deep-aching", valueBoolean=True),
                ],
            },
            {
                "linkId": "tender",
                "item": [
                    _answer("tender.examined", valueBoolean=True),
                    {
                        "linkId": "tender.point",
                        "item": [
                            _answer(
                                "tender.point.site", valueCoding={**code, "code": "iliac_crest"}
                            ),
                            _answer("tender.point.reproduces-pain", valueBoolean=True),
                        ],
                    },
                ],
            },
            {
                "linkId": "block",
                "item": [
                    _answer("block.done", valueBoolean=True),
                    _answer("block.branches", valueCoding={**code, "code": "superior"}),
                    _answer("block.relief-percent", valueDecimal=80),
                    _answer(
                        "block.relief-duration",
                        valueQuantity={"value": 3, "unit": "wk", "system": UCUM, "code": "wk"},
                    ),
                ],
            },
        ],
    }


def record(pid: str = "demo") -> dict[str, Any]:
    """Every prefetch key of cluneal-patient-view for the demo patient."""
    return {
        "patient": {
            "resourceType": "Patient",
            "id": pid,
            "birthDate": "1954-03-10",
            "gender": "female",
        },
        "observations": searchset(
            _observation("weight", pid, "29463-7", 68, "kg"),
            _observation("creatinine", pid, "2160-0", 1.3, "mg/dL"),
        ),
        "conditions": searchset(),
        "medicationRequests": searchset(
            medication("sertraline", pid, "36437"), medication("apixaban", pid, "1364430")
        ),
        "medicationStatements": searchset(),
        "allergies": searchset(),
        "exam": searchset(exam(pid)),
        "procedures": searchset(),
        "relief": searchset(),
    }


def patient_view(pid: str = "demo", instance: str = HOOK_INSTANCE) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": instance,
        "context": {"userId": "Practitioner/1", "patientId": pid},
        "prefetch": record(pid),
    }


ORDER_KEYS = (
    "patient",
    "observations",
    "conditions",
    "medicationRequests",
    "medicationStatements",
    "allergies",
)


def draft(oid: str, rxcui: str, dose_mg: float, per_day: int, pid: str = "demo") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": oid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "requester": {"reference": "Practitioner/1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {"doseQuantity": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}
                ],
            }
        ],
    }


def order_request(
    hook: str, orders: list[dict[str, Any]], selections: list[str] | None = None, pid: str = "demo"
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "Practitioner/1",
        "patientId": pid,
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": o} for o in orders],
        },
    }
    if selections is not None:
        context["selections"] = selections
    full = record(pid)
    return {
        "hook": hook,
        "hookInstance": HOOK_INSTANCE,
        "context": context,
        "prefetch": {k: copy.deepcopy(full[k]) for k in ORDER_KEYS},
    }
