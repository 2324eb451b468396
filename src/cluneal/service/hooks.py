"""Answer CDS Hooks requests from FHIR data: pure functions, no web framework, no I/O.

:func:`answer` takes a checked request and the FHIR data of each prefetch key
(sent by the EHR or fetched by :mod:`cluneal.service.fetch`) and returns the
CDS Hooks response. Structurally broken FHIR is a malformed request (400);
FHIR that is well formed but that cluneal cannot use for this patient (an
implausible weight, a gender the renal equations cannot use) becomes a warning
card that says so, because the clinician, not the EHR's error log, needs to see
it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from cluneal._checks import json_data
from cluneal.diagnosis import Findings
from cluneal.drug import Drug
from cluneal.errors import ClunealError, ContraindicatedError
from cluneal.fhir import findings_from_fhir, medication_request
from cluneal.fhir._json import code_in, iter_resources
from cluneal.fhir.exam import QUESTIONNAIRE_URL, read_history
from cluneal.fhir.read import medication_names, read_patient
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.pathway import PathwayStep
from cluneal.patient import Patient
from cluneal.plan import SAFETY_STATEMENT, care_plan
from cluneal.service._errors import BadRequestError, DataUnavailableError
from cluneal.service.cards import (
    DOCS_URL,
    CardContext,
    alert_card,
    cap_citation,
    card,
    drug_choices_table,
    drug_link,
    first_sentence,
    schedule_summary,
    schedule_table,
    sort_cards,
    source,
    suggestion,
)
from cluneal.titration import titration_schedule
from cluneal.units import parse_quantity

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from cluneal.service.discovery import Service
    from cluneal.titration import TitrationSchedule

__all__ = ["answer", "check_request"]

_FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_VERB: Final = {
    PathwayStep.INITIAL_EVALUATION: "Complete the triad exam",
    PathwayStep.DIAGNOSTIC_BLOCK: "Offer a diagnostic cluneal nerve block",
    PathwayStep.REASSESS_DIAGNOSIS: "Reassess the diagnosis",
    PathwayStep.MAINTAIN: "Maintain the current plan",
    PathwayStep.RADIOFREQUENCY_ABLATION: "Consider radiofrequency ablation",
    PathwayStep.PERIPHERAL_NERVE_STIMULATION: "Consider peripheral nerve stimulation",
    PathwayStep.SURGICAL_DECOMPRESSION: "Consider surgical decompression",
}
_PERIOD_PER_DAY: Final = {"h": 24.0, "d": 1.0, "wk": 1 / 7}
# Elements of the clinician's draft that a replacement keeps: whose order it is.
_KEPT: Final = (
    "identifier",
    "status",
    "intent",
    "priority",
    "subject",
    "encounter",
    "authoredOn",
    "requester",
    "reasonCode",
    "reasonReference",
    "basedOn",
    "groupIdentifier",
)


def check_request(service: Service, request: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """Check the parts of a request every hook needs; return the patient id and the context.

    Raises:
        BadRequestError: The wrong hook, no hookInstance, or no usable patientId.
    """
    if request.get("hook") != service.hook:
        msg = f"hook: got {request.get('hook')!r:.60}; {service.id} answers {service.hook!r}"
        raise BadRequestError(msg)
    instance = request.get("hookInstance")
    if not isinstance(instance, str) or not instance.strip():
        msg = "hookInstance: a non-empty string is required"
        raise BadRequestError(msg)
    context = request.get("context")
    if not isinstance(context, dict):
        msg = "context: a JSON object is required"
        raise BadRequestError(msg)
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not _FHIR_ID.fullmatch(patient_id):
        msg = "context.patientId: a FHIR id (letters, digits, '-', '.'; at most 64) is required"
        raise BadRequestError(msg)
    return patient_id, context


def _resources(data: Mapping[str, object], fetched: bool) -> list[Mapping[str, Any]]:  # noqa: FBT001
    found: list[Mapping[str, Any]] = []
    for key, value in data.items():
        if value is None:
            continue  # the EHR says there is nothing to send for this key
        try:
            found.extend(
                r for r in iter_resources(value) if r.get("resourceType") != "OperationOutcome"
            )
        except ClunealError as exc:
            error = DataUnavailableError if fetched else BadRequestError
            msg = f"prefetch.{key}: {exc}"
            raise error(msg) from None
    return found


def _check_patient(resources: list[Mapping[str, Any]], patient_id: str) -> None:
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not patients:
        msg = "no Patient resource was sent or could be fetched (prefetch.patient)"
        raise DataUnavailableError(msg)
    for patient in patients:
        if patient.get("id") is not None and patient.get("id") != patient_id:
            msg = (
                f"prefetch: Patient/{patient.get('id')!s:.64} is not the patient of "
                f"context.patientId {patient_id!r}"
            )
            raise BadRequestError(msg)


def _findings(resources: list[Mapping[str, Any]]) -> Findings:
    responses = [
        r
        for r in resources
        if r.get("resourceType") == "QuestionnaireResponse"
        and str(r.get("questionnaire", "")).partition("|")[0] == QUESTIONNAIRE_URL
        and code_in(r.get("status"), {"completed", "amended"})
    ]
    if not responses:
        return Findings()
    latest = max(enumerate(responses), key=lambda t: (str(t[1].get("authored", "")), t[0]))[1]
    return findings_from_fhir(latest)


def _unusable_card(ctx: CardContext, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or exc.title}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        )
    else:
        problems = " ".join(str(exc).split())
    return card(
        ctx,
        "unusable-record",
        summary="Check the record: cluneal could not assess this patient",
        indicator="warning",
        detail=(
            "cluneal read the patient's FHIR record but cannot use it as it is, so it gives "
            f"no recommendation and no dosing:\n\n{problems}\n\nCorrect the record and reopen "
            "the chart."
        ),
        source=source("decision_units_and_plausible_ranges", f"{DOCS_URL}/cds-hooks.html"),
    )


def _pathway_card(ctx: CardContext, plan: Any, exam_found: bool) -> dict[str, Any]:  # noqa: FBT001
    rec = plan.recommendation
    verb = _VERB[rec.step]
    summary = f"Urgent: {verb.lower()}" if rec.urgent else verb
    summary += f" (diagnosis {plan.assessment.classification.value})"
    lines = [rec.rationale]
    lines.extend(f"- Alternative: {a.description}" for a in rec.alternative_options)
    lines.append(f"**Evidence:** {rec.evidence_level.label}. {rec.evidence_note}")
    lines.append(
        f"**Diagnosis:** {plan.assessment.classification.value}. {plan.assessment.next_action}"
    )
    if not exam_found:
        lines.append(
            "No triad exam was found in the record: record it with the cluneal triad-exam "
            f"Questionnaire ({QUESTIONNAIRE_URL})."
        )
    pathway_url = f"{DOCS_URL}/pathway.html"
    return card(
        ctx,
        f"pathway:{rec.transition}",
        summary=summary,
        indicator="critical" if rec.urgent else "info",
        detail="\n\n".join(lines),
        source=source(
            rec.citations[0] if rec.citations else "decision_pathway_next_step", pathway_url
        ),
        links=[{"label": "The cluneal pathway", "url": pathway_url, "type": "absolute"}],
    )


def _medication_cards(ctx: CardContext, plan: Any, patient_id: str) -> list[dict[str, Any]]:
    choices = drug_choices_table(plan)
    cards = []
    for schedule in plan.medications:
        drug = schedule.drug.value
        draft = medication_request(schedule, patient_reference=f"Patient/{patient_id}")
        cards.append(
            card(
                ctx,
                f"medication:{drug}",
                summary=schedule_summary(schedule),
                indicator="info",
                detail=(
                    f"{plan.medication_rationale}\n\n{schedule_table(schedule)}\n\n"
                    f"**Drugs screened:**\n\n{choices}"
                ),
                source=source(
                    cap_citation(schedule, f"{drug}_label"),
                    drug_link(drug)["url"],
                    schedule.max_daily_dose_rule,
                ),
                links=[drug_link(drug)],
                suggestions=[
                    suggestion(
                        ctx,
                        f"create:{drug}",
                        f"Add a draft order: {drug} titration (for review)",
                        {
                            "type": "create",
                            "description": f"Draft MedicationRequest: {drug} titration",
                            "resource": draft,
                        },
                    )
                ],
            )
        )
    if not plan.medications:
        cards.append(
            card(
                ctx,
                "medication:none",
                summary="Start no drug now: no first-line drug can be proposed",
                indicator="info",
                detail=f"{plan.medication_rationale}\n\n**Drugs screened:**\n\n{choices}",
                source=source("decision_screen_every_listed_drug", f"{DOCS_URL}/care-plan.html"),
                links=[
                    {
                        "label": "How cluneal chooses a drug",
                        "url": f"{DOCS_URL}/care-plan.html",
                        "type": "absolute",
                    }
                ],
            )
        )
    return cards


def _patient_view(
    ctx: CardContext, resources: list[Mapping[str, Any]], patient_id: str, today: dt.date
) -> list[dict[str, Any]]:
    try:
        # One JSON check for the three readers (each public reader checks its own input).
        json_data(resources, "resources")
        patient = read_patient(resources, today)
        findings = _findings(resources)
        history = read_history(resources)
        plan = care_plan(patient, findings, history)
    except (ClunealError, ValidationError) as exc:
        return [_unusable_card(ctx, exc)]
    cards = [_pathway_card(ctx, plan, exam_found=findings != Findings())]
    cards.extend(_medication_cards(ctx, plan, patient_id))
    cards.extend(alert_card(ctx, a) for a in plan.alerts)
    return cards


# --- order-select and order-sign ----------------------------------------------------------


def _draft_orders(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    draft = context.get("draftOrders")
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        msg = "context.draftOrders: a FHIR Bundle is required"
        raise BadRequestError(msg)
    try:
        return [r for r in iter_resources(draft) if r.get("resourceType") == "MedicationRequest"]
    except ClunealError as exc:
        msg = f"context.draftOrders: {exc}"
        raise BadRequestError(msg) from None


def _selected(
    orders: list[Mapping[str, Any]], context: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    selections = context.get("selections")
    if selections is None:
        return orders
    if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
        msg = "context.selections: a list of references is required"
        raise BadRequestError(msg)
    return [o for o in orders if f"MedicationRequest/{o.get('id')}" in set(selections)]


def _order_names(order: Mapping[str, Any], where: str) -> list[str]:
    concept = order.get("medicationCodeableConcept")
    if concept is None and isinstance(order.get("medicationReference"), dict):
        display = order["medicationReference"].get("display")
        concept = {"text": display} if isinstance(display, str) else None
    if concept is None:
        return []
    return medication_names(concept, where, "medicationCodeableConcept")


def _daily_mg(order: Mapping[str, Any]) -> float | None:
    """The largest daily dose (mg) any dosage instruction of a draft asks for, if stated."""
    dosages = order.get("dosageInstruction")
    best: float | None = None
    for dosage in dosages if isinstance(dosages, list) else []:
        try:
            dose = parse_quantity(dosage["doseAndRate"][0]["doseQuantity"], "dose")
            repeat = dosage["timing"]["repeat"]
            per_day = _PERIOD_PER_DAY[repeat.get("periodUnit", "d")]
            frequency = float(repeat.get("frequency", 1))
            period = float(repeat.get("period", 1))
            daily = float(dose.m_as("mg")) * frequency * per_day / period
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError):
            continue  # a dose cluneal cannot read is not compared (the card says so)
        best = daily if best is None else max(best, daily)
    return best


def _replacement(order: Mapping[str, Any], schedule: TitrationSchedule, patient_ref: str) -> Any:
    proposal = medication_request(schedule, patient_reference=patient_ref)
    kept = {key: order[key] for key in _KEPT if key in order}
    kept.setdefault("status", "draft")
    kept.setdefault("intent", "order")
    return {**proposal, "id": order["id"], **kept}


def _order_cards(
    ctx: CardContext,
    order: Mapping[str, Any],
    drug: Drug,
    patient: Patient,
    patient_ref: str,
) -> list[dict[str, Any]]:
    order_id = order.get("id") if isinstance(order.get("id"), str) else None
    scope = order_id or drug.value
    link = drug_link(drug)
    try:
        schedule = titration_schedule(drug, patient)
    except ContraindicatedError as exc:
        first = exc.alerts[0] if exc.alerts else None
        reasons = "\n".join(f"- {a.message} (rule `{a.rule_id}`)" for a in exc.alerts)
        actions = []
        if order_id:
            actions.append(
                suggestion(
                    ctx,
                    f"delete:{scope}",
                    f"Remove the draft {drug.value} order",
                    {
                        "type": "delete",
                        "description": f"Remove the draft {drug.value} order",
                        "resourceId": f"MedicationRequest/{order_id}",
                    },
                )
            )
        lead = first_sentence(first.message) if first else "contraindicated"
        return [
            card(
                ctx,
                f"contraindicated:{scope}",
                summary=f"Do not order {drug.value}: {lead}",
                indicator="critical",
                detail=f"{drug.value.capitalize()} is contraindicated here:\n\n{reasons}",
                source=source(
                    first.citation if first else f"{drug.value}_label",
                    link["url"],
                    first.rule_id if first else None,
                ),
                links=[link],
                suggestions=actions,
            )
        ]
    cap = schedule.max_daily_dose_mg
    replace: list[dict[str, Any]] = []
    if order_id:
        replace.append(
            suggestion(
                ctx,
                f"update:{scope}",
                f"Replace the draft with cluneal's {drug.value} titration (same intent)",
                {
                    "type": "update",
                    "description": f"Replace the draft with cluneal's {drug.value} titration",
                    "resource": _replacement(order, schedule, patient_ref),
                },
            )
        )
    cite = source(
        cap_citation(schedule, f"{drug.value}_label"), link["url"], schedule.max_daily_dose_rule
    )
    asked = _daily_mg(order)
    cards = []
    if asked is not None and asked > cap + 1e-9:
        cards.append(
            card(
                ctx,
                f"cap:{scope}",
                summary=f"Reduce {drug.value}: the draft's {asked:g} mg/day exceeds this patient's "
                f"cap of {cap:g} mg/day",
                indicator="critical",
                detail=(
                    f"The draft order asks for up to {asked:g} mg/day. For this patient the "
                    f"maximum is {cap:g} mg/day (rule `{schedule.max_daily_dose_rule}`).\n\n"
                    f"{schedule_table(schedule)}"
                ),
                source=cite,
                links=[link],
                suggestions=replace,
            )
        )
    else:
        stated = (
            f"The draft asks for up to {asked:g} mg/day, within the cap."
            if asked is not None
            else "The draft's daily dose could not be read: check it against the cap."
        )
        cards.append(
            card(
                ctx,
                f"titration:{scope}",
                summary=schedule_summary(schedule),
                indicator="info",
                detail=f"{stated}\n\n{schedule_table(schedule)}",
                source=cite,
                links=[link],
                suggestions=replace,
            )
        )
    cards.extend(alert_card(ctx, a, scope=scope) for a in schedule.alerts)
    return cards


def _order_hook(
    ctx: CardContext,
    resources: list[Mapping[str, Any]],
    context: Mapping[str, Any],
    patient_id: str,
    today: dt.date,
    *,
    selected_only: bool,
) -> list[dict[str, Any]]:
    everything = _draft_orders(context)
    chosen = _selected(everything, context) if selected_only else everything
    try:
        json_data(resources, "resources")
        base = read_patient(resources, today)
        named = {id(o): _order_names(o, f"MedicationRequest/{o.get('id')}") for o in everything}
    except (ClunealError, ValidationError) as exc:
        return [_unusable_card(ctx, exc)]
    drugs = {d.value: d for d in Drug}
    cards: list[dict[str, Any]] = []
    for order in chosen:
        drug = next((drugs[n] for n in named[id(order)] if n in drugs), None)
        if drug is None:
            continue
        # The other draft orders are about to be co-medications: screen them too.
        others = {n for o in everything if o is not order for n in named[id(o)]}
        patient = Patient.model_validate(
            {
                **base.model_dump(),
                "medications": sorted((set(base.medications) | others) - {drug.value}),
            }
        )
        cards.extend(_order_cards(ctx, order, drug, patient, f"Patient/{patient_id}"))
    return cards


def answer(
    service: Service,
    request: Mapping[str, Any],
    data: Mapping[str, object],
    *,
    today: dt.date,
    fetched: bool = False,
) -> dict[str, Any]:
    """Answer a checked request from the FHIR data of its prefetch keys.

    Args:
        service: The service called.
        request: The request (checked by :func:`check_request`).
        data: Prefetch key → FHIR JSON (a resource, a Bundle, or ``None`` for no data).
        today: The day ages are computed on.
        fetched: Whether some data was fetched from the FHIR server (unreadable
            fetched data is a 412, unreadable sent data a 400).

    Returns:
        The CDS Hooks response: ``cards``, most urgent first, and an extension
        with the knowledge-base version and the safety statement.

    Raises:
        BadRequestError: The request is malformed.
        DataUnavailableError: The patient is missing from the data.
    """
    patient_id, context = check_request(service, request)
    ctx = CardContext(service.id, str(request["hookInstance"]), patient_id)
    resources = _resources(data, fetched)
    _check_patient(resources, patient_id)
    if service.hook == "patient-view":
        cards = _patient_view(ctx, resources, patient_id, today)
    else:
        cards = _order_hook(
            ctx,
            resources,
            context,
            patient_id,
            today,
            selected_only=service.hook == "order-select",
        )
    return {
        "cards": sort_cards(cards),
        "extension": {
            "cluneal": {
                "knowledgeBaseVersion": KNOWLEDGE_BASE_VERSION,
                "safetyStatement": SAFETY_STATEMENT,
            }
        },
    }
