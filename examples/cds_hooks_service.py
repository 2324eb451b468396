"""A CDS Hooks service for cluneal: care-plan cards (patient-view), titration checks (order-select).

Needs the ``service`` extra (FastAPI and httpx): ``pip install "cluneal[service]"``.
cluneal supports clinical decisions; it does not make them: every card says so, and
every suggestion is a draft proposal for a clinician to accept or reject.

Serve it (from the repository root)::

    uvicorn --factory --app-dir examples cds_hooks_service:create_app --port 8000

then ``GET http://localhost:8000/cds-services`` for discovery and
``POST http://localhost:8000/cds-services/cluneal-patient-view`` with a CDS Hooks request.

Run as a script (``python examples/cds_hooks_service.py``) it starts no server: it
checks itself with FastAPI's ``TestClient`` (discovery and one patient-view call),
prints a short summary and exits 0.

Input. CDS Hooks prefetch values are FHIR queries, and cluneal's findings (tender
points, block relief) have no standard FHIR query, so the integration (an EHR
adaptor or SMART app) sends the case in cluneal's own JSON as
``prefetch.clunealCase`` (``context.clunealCase`` is accepted too)::

    {"patient": {...}, "findings": {...}, "history": {"outcomes": [...]}}

``patient``, ``findings`` and ``history`` are the JSON forms of
``cluneal.Patient``, ``cluneal.Findings`` and ``cluneal.CareHistory`` (the
``cluneal schema`` shape). order-select needs only ``patient``. The discovery
document also declares the standard ``patient`` prefetch
(``Patient/{{context.patientId}}``): when sent, its ``id`` must match
``context.patientId``, or the request is refused.

Responses. ``{"cards": [...]}``, most urgent first. Indicators follow the alert
severity: contraindicated and major → ``critical``, moderate → ``warning``,
info → ``info``. Bad requests (invalid JSON, a missing case, a case cluneal
rejects) get HTTP 400 with ``{"error": ..., "message": ...}``, never a traceback.
"""

from __future__ import annotations

import json
import uuid
import warnings
from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

import cluneal
from cluneal import (
    KNOWLEDGE_BASE_VERSION,
    ClunealError,
    ContraindicatedError,
    Drug,
    SafetyAlert,
    Severity,
    TitrationSchedule,
    care_plan,
    titration_schedule,
)
from cluneal.fhir.export import (
    RULE_SYSTEM,
    RXNORM_INGREDIENTS,
    RXNORM_SYSTEM,
    medication_request,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from fastapi.testclient import TestClient

PATIENT_VIEW_ID: Final = "cluneal-patient-view"
ORDER_SELECT_ID: Final = "cluneal-order-select"
SAFETY: Final = "cluneal supports clinical decisions; it does not make them."
MAX_SUMMARY: Final = 139  # CDS Hooks: summary under 140 characters
INDICATOR: Final[Mapping[Severity, str]] = {
    Severity.CONTRAINDICATED: "critical",
    Severity.MAJOR: "critical",
    Severity.MODERATE: "warning",
    Severity.INFO: "info",
}
_ORDER: Final = {"critical": 0, "warning": 1, "info": 2}
_CARD_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://cluneal.readthedocs.io/cds-hooks")
_CASE_SHAPE: Final = (
    "send the case in cluneal's JSON as prefetch.clunealCase = "
    '{"patient": {...}, "findings": {...}, "history": {"outcomes": []}}'
)

SERVICES: Final[list[dict[str, Any]]] = [
    {
        "hook": "patient-view",
        "id": PATIENT_VIEW_ID,
        "title": "cluneal neuralgia care plan",
        "description": (
            "The next step of the cluneal neuralgia pathway, the first-line drug with its "
            "titration schedule (as a draft MedicationRequest) and every safety alert. " + SAFETY
        ),
        "prefetch": {"patient": "Patient/{{context.patientId}}"},
        "usageRequirements": (
            "Requires prefetch.clunealCase: {patient, findings, history} in cluneal's JSON "
            "(see docs/cds-hooks.md); the FHIR patient prefetch is used only to check the "
            "patient id."
        ),
    },
    {
        "hook": "order-select",
        "id": ORDER_SELECT_ID,
        "title": "cluneal titration check",
        "description": (
            "For a selected draft MedicationRequest of nortriptyline, carbamazepine, "
            "gabapentin, pregabalin, naltrexone or tramadol: contraindications, alerts, "
            "the daily cap, and cluneal's titration as a replacement draft. " + SAFETY
        ),
        "prefetch": {"patient": "Patient/{{context.patientId}}"},
        "usageRequirements": (
            "Requires prefetch.clunealCase with at least {patient} in cluneal's JSON; the "
            "drug is read from medicationCodeableConcept (text, display or RxNorm code)."
        ),
    },
]

EXAMPLE_CASE: Final[dict[str, Any]] = {
    "patient": {
        "age": 72,
        "sex": "female",
        "weight": "68 kg",
        "serum_creatinine": "1.3 mg/dL",
        "medications": ["sertraline", "apixaban"],
    },
    "findings": {
        "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
        "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
        "block": {"branches": ["superior"], "relief_percent": 80, "relief_duration": "3 weeks"},
    },
    "history": {"outcomes": []},
}
"""The case of ``cluneal demo``: a 72-year-old woman on sertraline and apixaban."""

EXAMPLE_PATIENT_VIEW_REQUEST: Final[dict[str, Any]] = {
    "hook": "patient-view",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/example", "patientId": "example"},
    "prefetch": {"clunealCase": EXAMPLE_CASE},
}


class BadRequestError(ClunealError):
    """A CDS Hooks request this service cannot use (answered with HTTP 400)."""


# --- request parsing ------------------------------------------------------------


def parse_request(body: bytes, hook: str) -> dict[str, Any]:
    """Parse and check a CDS Hooks request body.

    Args:
        body: The raw request body.
        hook: The hook the service answers (``patient-view`` or ``order-select``).

    Returns:
        The request as a dict, with ``context`` and ``prefetch`` objects.

    Raises:
        BadRequestError: Not JSON, not an object, or the wrong hook, or no
            ``hookInstance``, ``context`` or ``context.patientId``, or a FHIR
            patient prefetch for another patient.
    """
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequestError(f"the request body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequestError("the request body must be a JSON object")
    if data.get("hook") != hook:
        raise BadRequestError(f"hook: got {data.get('hook')!r}; this service answers {hook!r}")
    if not isinstance(data.get("hookInstance"), str) or not data["hookInstance"]:
        raise BadRequestError("hookInstance: a non-empty string is required")
    context = data.get("context")
    if not isinstance(context, dict):
        raise BadRequestError("context: a JSON object is required")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise BadRequestError("context.patientId: a non-empty string is required")
    prefetch = data.get("prefetch")
    if prefetch is None:
        data["prefetch"] = prefetch = {}
    if not isinstance(prefetch, dict):
        raise BadRequestError("prefetch: a JSON object is expected")
    fhir_patient = prefetch.get("patient")
    if isinstance(fhir_patient, dict) and fhir_patient.get("id") not in {None, patient_id}:
        raise BadRequestError(
            f"prefetch.patient.id {fhir_patient.get('id')!r} does not match "
            f"context.patientId {patient_id!r}"
        )
    return data


def case_of(request: Mapping[str, Any], *, need_findings: bool = True) -> dict[str, Any]:
    """Return the cluneal case of a request (``prefetch.clunealCase`` or ``context.clunealCase``).

    Args:
        request: A request checked by :func:`parse_request`.
        need_findings: Whether ``findings`` is required (patient-view) or not (order-select).

    Returns:
        The case mapping.

    Raises:
        BadRequestError: No case, or a case without ``patient`` (or ``findings``).
    """
    case = request["prefetch"].get("clunealCase", request["context"].get("clunealCase"))
    if case is None:
        raise BadRequestError(f"no cluneal case: {_CASE_SHAPE}")
    if not isinstance(case, dict):
        raise BadRequestError(f"clunealCase must be a JSON object: {_CASE_SHAPE}")
    required = ("patient", "findings") if need_findings else ("patient",)
    missing = [key for key in required if key not in case]
    if missing:
        raise BadRequestError(f"clunealCase is missing {', '.join(missing)}: {_CASE_SHAPE}")
    return case


# --- cards ----------------------------------------------------------------------


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1].rstrip() + "…"


def _source(citation_id: str, rule_id: str | None) -> dict[str, Any]:
    source: dict[str, Any] = {"label": f"cluneal {KNOWLEDGE_BASE_VERSION}: {citation_id}"}
    try:
        cited = cluneal.citation(citation_id)
    except ClunealError:
        cited = None
    if cited is not None:
        source["label"] = _summary(f"cluneal: {cited.title} ({cited.year})")
        if cited.url:
            source["url"] = cited.url
    if rule_id:
        source["topic"] = {"system": RULE_SYSTEM, "code": rule_id}
    return source


def _cap_citation(schedule: TitrationSchedule) -> str:
    rule = schedule.max_daily_dose_rule
    return next((a.citation for a in schedule.adjustments if a.rule_id == rule), "cluneal_part0")


def _card(
    instance: str,
    key: str,
    summary: str,
    indicator: str,
    detail: str,
    *,
    source: dict[str, Any],
    suggestions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid5(_CARD_NAMESPACE, f"{instance}:{key}")),
        "summary": _summary(summary),
        "indicator": indicator,
        "detail": f"{detail}\n\n*{SAFETY}*",
        "source": source,
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    return card


def _alert_card(instance: str, alert: SafetyAlert) -> dict[str, Any]:
    drugs = f" ({', '.join(alert.drugs)})" if alert.drugs else ""
    lines = [f"**{alert.severity.value.capitalize()}**{drugs}: {alert.message}"]
    if alert.action:
        lines.append(f"**Action:** {alert.action}")
    lines.append(f"Rule `{alert.rule_id}`, citation `{alert.citation}`.")
    return _card(
        instance,
        f"alert:{alert.rule_id}:{','.join(alert.drugs)}",
        f"{alert.severity.value.capitalize()}: {alert.message}",
        INDICATOR[alert.severity],
        "\n\n".join(lines),
        source=_source(alert.citation, alert.rule_id),
    )


def _schedule_table(schedule: TitrationSchedule) -> str:
    rows = ["| Day | Dose | Doses/day | Daily dose | Timing |", "| --- | --- | --- | --- | --- |"]
    rows.extend(
        f"| {s.day} | {s.dose_mg:g} mg ({s.composition}) | {s.doses_per_day} | "
        f"{s.daily_dose_mg:g} mg/day | {s.timing.value} |"
        for s in schedule.steps
    )
    lines = [
        "\n".join(rows),
        (
            f"Maximum daily dose **{schedule.max_daily_dose_mg:g} mg/day** "
            f"(rule `{schedule.max_daily_dose_rule}`)."
        ),
    ]
    lines.extend(f"- `{a.rule_id}`: {a.reason}" for a in schedule.adjustments)
    lines.extend(f"- `{s.rule_id}`: {s.text}" for s in schedule.supplemental_instructions)
    return "\n\n".join(lines)


def _suggestion(
    instance: str, label: str, action: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    return [
        {
            "label": label,
            "uuid": str(uuid.uuid5(_CARD_NAMESPACE, f"{instance}:suggestion:{key}")),
            "actions": [action],
        }
    ]


def _sorted(cards: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cards": sorted(cards, key=lambda c: _ORDER[c["indicator"]])}


def patient_view(request: Mapping[str, Any]) -> dict[str, Any]:
    """Answer a patient-view request: recommendation, medication and alert cards.

    Args:
        request: A request checked by :func:`parse_request`.

    Returns:
        ``{"cards": [...]}``, most urgent first.

    Raises:
        BadRequestError: No usable case.
        ClunealError: cluneal refused the case.
        ValidationError: The case is not valid cluneal JSON.
    """
    case = case_of(request)
    instance = request["hookInstance"]
    patient_ref = f"Patient/{request['context']['patientId']}"
    plan = care_plan(case["patient"], case["findings"], case.get("history"))
    rec = plan.recommendation
    lines = [rec.rationale]
    lines.extend(f"- Alternative: {a.description}" for a in rec.alternative_options)
    lines.append(f"**Evidence:** {rec.evidence_level.label}. {rec.evidence_note}")
    lines.append(
        f"**Diagnosis:** {plan.assessment.classification.value}. {plan.assessment.next_action}"
    )
    cards = [
        _card(
            instance,
            f"step:{rec.transition}",
            f"Next step: {rec.step.label}{' (URGENT)' if rec.urgent else ''}",
            "critical" if rec.urgent else "info",
            "\n\n".join(lines),
            source=_source(rec.citations[0] if rec.citations else "cluneal_part0", rec.transition),
        )
    ]
    chosen = next((c for c in plan.drug_choices if c.status.value == "chosen"), None)
    for schedule in plan.medications:
        drug = schedule.drug.value
        final = schedule.steps[-1]
        cards.append(
            _card(
                instance,
                f"medication:{drug}",
                f"Proposed: {drug} from {schedule.steps[0].daily_dose_mg:g} to "
                f"{final.daily_dose_mg:g} mg/day (cap {schedule.max_daily_dose_mg:g} mg/day)",
                "info",
                f"{plan.medication_rationale}\n\n{_schedule_table(schedule)}",
                source=_source(
                    chosen.citations[0] if chosen and chosen.citations else "cluneal_part0",
                    schedule.max_daily_dose_rule,
                ),
                suggestions=_suggestion(
                    instance,
                    f"Add a draft {drug} titration order (proposal)",
                    {
                        "type": "create",
                        "description": f"Draft MedicationRequest: {drug} titration by cluneal",
                        "resource": medication_request(schedule, patient_reference=patient_ref),
                    },
                    drug,
                ),
            )
        )
    if not plan.medications:
        why = next((c for c in plan.drug_choices if c.status.value != "second_line"), None)
        cards.append(
            _card(
                instance,
                "medication:none",
                "No first-line medication proposed",
                "info",
                plan.medication_rationale,
                source=_source(
                    why.citations[0] if why and why.citations else "cluneal_part0",
                    why.rule_ids[0] if why and why.rule_ids else None,
                ),
            )
        )
    cards.extend(_alert_card(instance, a) for a in plan.alerts)
    return _sorted(cards)


# --- order-select ---------------------------------------------------------------


def _drug_of(order: Mapping[str, Any]) -> Drug | None:
    concept = order.get("medicationCodeableConcept")
    if not isinstance(concept, dict):
        return None
    names: list[str] = []
    if isinstance(concept.get("text"), str):
        names.append(concept["text"])
    codings = concept.get("coding")
    for coding in codings if isinstance(codings, list) else []:
        if not isinstance(coding, dict):
            continue
        if isinstance(coding.get("display"), str):
            names.append(coding["display"])
        for drug, code in RXNORM_INGREDIENTS.items():
            if coding.get("code") == code and coding.get("system") == RXNORM_SYSTEM:
                return drug
    for name in names:
        words = name.lower().replace(",", " ").split()
        for drug in Drug:
            if drug.value in words:
                return drug
    return None


def _daily_mg(order: Mapping[str, Any]) -> float | None:
    """The largest daily dose (mg) any dosage instruction of a draft asks for, if stated."""
    dosages = order.get("dosageInstruction")
    best: float | None = None
    for dosage in dosages if isinstance(dosages, list) else []:
        try:
            dose = dosage["doseAndRate"][0]["doseQuantity"]
            repeat = dosage["timing"]["repeat"]
            if dose.get("code", dose.get("unit")) != "mg":
                continue
            per = {"d": 1.0, "h": 24.0}[repeat.get("periodUnit", "d")]
            daily = float(dose["value"]) * float(repeat.get("frequency", 1)) * per
            daily /= float(repeat.get("period", 1))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError):
            continue
        best = daily if best is None else max(best, daily)
    return best


def _selected_orders(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    draft = request["context"].get("draftOrders")
    if not isinstance(draft, dict) or not isinstance(draft.get("entry"), list):
        raise BadRequestError("context.draftOrders: a FHIR Bundle with entries is required")
    selections = request["context"].get("selections")
    chosen = set(selections) if isinstance(selections, list) else None
    orders = []
    for entry in draft["entry"]:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "MedicationRequest":
            continue
        if chosen is None or f"MedicationRequest/{resource.get('id')}" in chosen:
            orders.append(resource)
    return orders


def _order_cards(
    instance: str, order: dict[str, Any], drug: Drug, patient: object, patient_ref: str
) -> list[dict[str, Any]]:
    order_id = order.get("id")
    reference = f"MedicationRequest/{order_id}"
    try:
        schedule = titration_schedule(drug, patient)  # type: ignore[arg-type]
    except ContraindicatedError as exc:
        reasons = "\n".join(
            f"- {a.message} (rule `{a.rule_id}`, citation `{a.citation}`)" for a in exc.alerts
        )
        first = exc.alerts[0] if exc.alerts else None
        return [
            _card(
                instance,
                f"contraindicated:{drug.value}:{order_id}",
                f"Do not start {drug.value}: contraindicated for this patient",
                "critical",
                f"cluneal refuses to schedule {drug.value}:\n\n{reasons}",
                source=_source(
                    first.citation if first else "cluneal_part0",
                    first.rule_id if first else None,
                ),
                suggestions=_suggestion(
                    instance,
                    f"Remove the draft {drug.value} order",
                    {
                        "type": "delete",
                        "description": f"Remove the draft {drug.value} order",
                        "resourceId": reference,
                    },
                    f"delete:{order_id}",
                ),
            )
        ]
    proposal = medication_request(schedule, patient_reference=patient_ref)
    if isinstance(order_id, str) and order_id:
        action = {
            "type": "update",
            "description": f"Replace the draft with cluneal's {drug.value} titration",
            "resource": {**proposal, "id": order_id},
        }
    else:
        action = {
            "type": "create",
            "description": f"Add cluneal's {drug.value} titration as a draft",
            "resource": proposal,
        }
    cards = [
        _card(
            instance,
            f"titration:{drug.value}:{order_id}",
            f"cluneal titration for {drug.value}: cap {schedule.max_daily_dose_mg:g} mg/day",
            "info",
            _schedule_table(schedule),
            source=_source(_cap_citation(schedule), schedule.max_daily_dose_rule),
            suggestions=_suggestion(
                instance, f"Use cluneal's {drug.value} titration", action, str(order_id)
            ),
        )
    ]
    asked = _daily_mg(order)
    if asked is not None and asked > schedule.max_daily_dose_mg + 1e-9:
        cards.append(
            _card(
                instance,
                f"cap:{drug.value}:{order_id}",
                f"Draft {drug.value} {asked:g} mg/day exceeds the cap "
                f"{schedule.max_daily_dose_mg:g} mg/day",
                "warning",
                f"The draft order asks for up to {asked:g} mg/day; cluneal's cap for this "
                f"patient is {schedule.max_daily_dose_mg:g} mg/day "
                f"(rule `{schedule.max_daily_dose_rule}`).",
                source=_source(_cap_citation(schedule), schedule.max_daily_dose_rule),
            )
        )
    cards.extend(_alert_card(instance, a) for a in schedule.alerts)
    return cards


def order_select(request: Mapping[str, Any]) -> dict[str, Any]:
    """Answer an order-select request: check each selected draft order of a cluneal drug.

    Args:
        request: A request checked by :func:`parse_request`, with
            ``context.draftOrders`` (a FHIR Bundle) and optionally ``context.selections``.

    Returns:
        ``{"cards": [...]}``, most urgent first; empty when no selected order is one of
        the six drugs.

    Raises:
        BadRequestError: No usable case or no draft orders.
        ClunealError: cluneal refused the patient.
        ValidationError: The patient is not valid cluneal JSON.
    """
    case = case_of(request, need_findings=False)
    patient = cluneal.Patient.model_validate(case["patient"])
    instance = request["hookInstance"]
    patient_ref = f"Patient/{request['context']['patientId']}"
    cards: list[dict[str, Any]] = []
    for order in _selected_orders(request):
        drug = _drug_of(order)
        if drug is not None:
            cards.extend(_order_cards(instance, order, drug, patient, patient_ref))
    return _sorted(cards)


_HANDLERS: Final[dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, Any]]]]] = {
    PATIENT_VIEW_ID: ("patient-view", patient_view),
    ORDER_SELECT_ID: ("order-select", order_select),
}


# --- the app --------------------------------------------------------------------


def _error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


def create_app() -> FastAPI:
    """Build the FastAPI app: ``GET /cds-services`` and ``POST /cds-services/{id}``.

    Returns:
        The app (serve it with ``uvicorn --factory``).
    """
    app = FastAPI(
        title="cluneal CDS Hooks service",
        description=SAFETY,
        version=cluneal.__version__,
    )

    @app.get("/cds-services")
    def discovery() -> dict[str, Any]:
        return {"services": SERVICES}

    @app.post("/cds-services/{service_id}")
    async def call(service_id: str, request: Request) -> JSONResponse:
        handler = _HANDLERS.get(service_id)
        if handler is None:
            known = ", ".join(_HANDLERS)
            return _error(404, "not_found", f"no service {service_id!r}; known: {known}")
        hook, answer = handler
        body = await request.body()
        try:
            return JSONResponse(answer(parse_request(body, hook)))
        except BadRequestError as exc:
            return _error(400, "bad_request", str(exc))
        except ValidationError as exc:
            details = exc.errors(include_url=False, include_context=False, include_input=False)
            problems = "; ".join(
                f"{'.'.join(str(part) for part in d['loc']) or exc.title}: {d['msg']}"
                for d in details
            )
            return _error(400, "invalid_case", f"invalid {exc.title}: {problems}", details=details)
        except ClunealError as exc:
            return _error(400, "invalid_case", " ".join(str(exc).split()))

    return app


def make_test_client() -> TestClient:
    """Return a ``TestClient`` for a new app, to call the service in-process.

    Returns:
        The client.
    """
    with warnings.catch_warnings():
        # starlette 1.x prefers the httpx2 package and warns when it finds httpx,
        # which the `service` extra installs; both work for an in-process client.
        warnings.filterwarnings("ignore", message=r".*httpx2.*")
        from fastapi.testclient import TestClient

    return TestClient(create_app())


def main() -> int:
    """Check the service in-process: discovery and one patient-view call.

    Returns:
        0 when both answer as expected, 1 otherwise.
    """
    client = make_test_client()
    services = client.get("/cds-services").json()["services"]
    print("services:", ", ".join(f"{s['id']} ({s['hook']})" for s in services))
    response = client.post(f"/cds-services/{PATIENT_VIEW_ID}", json=EXAMPLE_PATIENT_VIEW_REQUEST)
    if response.status_code != 200:
        print(f"patient-view failed: HTTP {response.status_code} {response.text}")
        return 1
    cards = response.json()["cards"]
    print(f"patient-view for the demo case: {len(cards)} cards")
    for card in cards:
        print(f"  [{card['indicator']}] {card['summary']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
