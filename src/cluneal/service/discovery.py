"""The services cluneal offers and the FHIR data each one asks the EHR for (prefetch).

Every prefetch template is a standard FHIR R4 read or search, so an EHR can
satisfy it without knowing anything about cluneal; a request that omits a key
makes the service fetch it from ``fhirServer`` itself.

Example:
    >>> from cluneal.service.discovery import SERVICES, discovery
    >>> [s["id"] for s in discovery()["services"]]
    ['cluneal-patient-view', 'cluneal-order-select', 'cluneal-order-sign']
    >>> SERVICES["cluneal-patient-view"].prefetch["patient"]
    'Patient/{{context.patientId}}'
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from cluneal.fhir.exam import EXAM_SYSTEM, INTERVENTION_SYSTEM, QUESTIONNAIRE_URL
from cluneal.knowledge.codes import code_tables
from cluneal.plan import SAFETY_STATEMENT

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "ORDER_SELECT_ID",
    "ORDER_SIGN_ID",
    "PATIENT_VIEW_ID",
    "SERVICES",
    "Service",
    "discovery",
]

PATIENT_VIEW_ID: Final = "cluneal-patient-view"
ORDER_SELECT_ID: Final = "cluneal-order-select"
ORDER_SIGN_ID: Final = "cluneal-order-sign"

_PATIENT: Final = "{{context.patientId}}"


def _observation_codes() -> str:
    tables = code_tables()
    codes = [o.loinc for o in tables.observations] + [tables.hla_b_1502.loinc]
    return ",".join(f"{tables.systems.loinc}|{code}" for code in codes)


def _record_prefetch() -> dict[str, str]:
    """What every service needs to build the Patient (docs/cds-hooks.md, "Prefetch")."""
    return {
        "patient": f"Patient/{_PATIENT}",
        "observations": f"Observation?patient={_PATIENT}&code={_observation_codes()}&_sort=-date",
        "conditions": f"Condition?patient={_PATIENT}",
        "medicationRequests": f"MedicationRequest?patient={_PATIENT}",
        "medicationStatements": f"MedicationStatement?patient={_PATIENT}",
        "allergies": f"AllergyIntolerance?patient={_PATIENT}",
    }


def _pathway_prefetch() -> dict[str, str]:
    """What patient-view adds: the triad exam and the treatments so far."""
    return {
        "exam": (
            f"QuestionnaireResponse?subject={_PATIENT}&questionnaire={QUESTIONNAIRE_URL}"
            "&_sort=-authored"
        ),
        "procedures": f"Procedure?patient={_PATIENT}&code={INTERVENTION_SYSTEM}|",
        "relief": f"Observation?patient={_PATIENT}&code={EXAM_SYSTEM}|relief-percent",
    }


@dataclass(frozen=True, slots=True)
class Service:
    """One CDS service: its hook, texts and prefetch templates."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]
    usage: str

    def to_json(self) -> dict[str, Any]:
        """The service's entry in the discovery document."""
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": self.usage,
        }


_ORDER_TEXT: Final = (
    "For each draft MedicationRequest of nortriptyline, carbamazepine, gabapentin, "
    "pregabalin, naltrexone or tramadol: a refusal when contraindicated, a critical card "
    "when the draft exceeds the patient's daily cap, cluneal's titration as a replacement "
    "that keeps the order's intent, and every safety alert. "
)
_USAGE: Final = (
    "Send the prefetch (standard FHIR R4 reads and searches), or a fhirServer with "
    "fhirAuthorization so the service can fetch what is missing. Medications, conditions "
    "and observations are read with LOINC, SNOMED CT, ICD-10-CM and RxNorm codes; see "
    "https://cluneal.readthedocs.io/en/latest/cds-hooks.html."
)

SERVICES: Final[Mapping[str, Service]] = MappingProxyType(
    {
        PATIENT_VIEW_ID: Service(
            id=PATIENT_VIEW_ID,
            hook="patient-view",
            title="cluneal neuralgia care plan",
            description=(
                "The next step of the cluneal neuralgia pathway, the screened drug choices, "
                "the first-line drug's titration as a draft order, and every safety alert. "
                + SAFETY_STATEMENT
            ),
            prefetch=MappingProxyType({**_record_prefetch(), **_pathway_prefetch()}),
            usage=_USAGE,
        ),
        ORDER_SELECT_ID: Service(
            id=ORDER_SELECT_ID,
            hook="order-select",
            title="cluneal titration check",
            description=_ORDER_TEXT + SAFETY_STATEMENT,
            prefetch=MappingProxyType(_record_prefetch()),
            usage=_USAGE,
        ),
        ORDER_SIGN_ID: Service(
            id=ORDER_SIGN_ID,
            hook="order-sign",
            title="cluneal titration check before signing",
            description=_ORDER_TEXT + SAFETY_STATEMENT,
            prefetch=MappingProxyType(_record_prefetch()),
            usage=_USAGE,
        ),
    }
)
"""The services by id."""


def discovery() -> dict[str, Any]:
    """The discovery document (``GET /cds-services``)."""
    return {"services": [s.to_json() for s in SERVICES.values()]}
