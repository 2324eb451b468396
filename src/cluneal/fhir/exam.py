"""The triad exam as a FHIR Questionnaire, and Findings and CareHistory from FHIR.

:func:`exam_questionnaire` is an SDC-style R4 ``Questionnaire`` for what the
clinician finds: the pain pattern, the tender points, the diagnostic block and
the neurological exam. :func:`findings_from_fhir` reads its
``QuestionnaireResponse`` into :class:`~cluneal.Findings`: an unanswered
question stays unknown (``None``), never "no". :func:`history_from_fhir` reads
the treatments after the diagnostic block from completed ``Procedure``
resources and the relief ``Observation`` resources that are ``partOf`` them.

Example:
    >>> from cluneal.fhir import exam_questionnaire, findings_from_fhir
    >>> q = exam_questionnaire()
    >>> q["resourceType"], [item["linkId"] for item in q["item"]]
    ('Questionnaire', ['pain', 'tender', 'block', 'neuro'])
    >>> response = {
    ...     "resourceType": "QuestionnaireResponse", "status": "completed",
    ...     "questionnaire": q["url"],
    ...     "item": [{"linkId": "pain", "item": [
    ...         {"linkId": "pain.low-back-pain", "answer": [{"valueBoolean": True}]},
    ...         {"linkId": "pain.deep-aching", "answer": [{"valueBoolean": True}]}]}],
    ... }
    >>> f = findings_from_fhir(response)
    >>> f.pain.low_back_pain, f.tender_points, f.block
    (True, None, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from cluneal._checks import json_data
from cluneal.diagnosis import (
    BlockResult,
    Findings,
    NerveBranch,
    NeuroExam,
    PainPattern,
    Side,
    TenderPoint,
    TenderPointSite,
)
from cluneal.errors import show
from cluneal.fhir._json import (
    UnreadableResourceError,
    code_in,
    codings,
    date_of,
    iter_resources,
    label,
)
from cluneal.interventions import Intervention
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.pathway import CareHistory, InterventionOutcome
from cluneal.units import UCUM_SYSTEM, parse_quantity

if TYPE_CHECKING:
    import datetime as dt

__all__ = [
    "EXAM_SYSTEM",
    "INTERVENTION_SYSTEM",
    "QUESTIONNAIRE_URL",
    "exam_questionnaire",
    "findings_from_fhir",
    "history_from_fhir",
    "read_history",
]

_BASE: Final = "https://cluneal.readthedocs.io/fhir"
QUESTIONNAIRE_URL: Final = f"{_BASE}/Questionnaire/cluneal-triad-exam"
"""The canonical URL of the triad-exam Questionnaire (versioned by the knowledge base)."""
EXAM_SYSTEM: Final = f"{_BASE}/CodeSystem/exam"
"""cluneal's code system for exam items and relief observations."""
INTERVENTION_SYSTEM: Final = f"{_BASE}/CodeSystem/intervention"
"""cluneal's code system for the interventions (codes: :class:`~cluneal.Intervention` values)."""

_EXT: Final = "http://hl7.org/fhir/StructureDefinition"
_ITEM_CONTROL: Final = "http://hl7.org/fhir/questionnaire-item-control"
_DONE: Final = frozenset({"completed", "amended", "in-progress"})


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _question(link: str, text: str, kind: str, **more: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": link,
        "code": [_coding(EXAM_SYSTEM, link, text)],
        "text": text,
        "type": kind,
    }
    item.update(more)
    return item


def _when(question: str, answer: bool) -> list[dict[str, Any]]:  # noqa: FBT001 - FHIR's answerBoolean
    return [{"question": question, "operator": "=", "answerBoolean": answer}]


def _options(values: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"valueCoding": _coding(EXAM_SYSTEM, code, text)} for code, text in values]


_SITES: Final = [
    (TenderPointSite.ILIAC_CREST.value, "Over the iliac crest (superior cluneal nerves)"),
    (TenderPointSite.CAUDAL_TO_PSIS.value, "Caudal to the PSIS (middle cluneal nerves)"),
    (TenderPointSite.OTHER.value, "Elsewhere"),
]
_SIDES: Final = [(s.value, s.value.capitalize()) for s in Side]
_BRANCHES: Final = [(b.value, f"{b.value.capitalize()} cluneal nerves") for b in NerveBranch]
_UNIT_OPTIONS: Final = [
    {"url": f"{_EXT}/questionnaire-unitOption", "valueCoding": {"system": UCUM_SYSTEM, "code": c}}
    for c in ("d", "wk", "mo")
]


def exam_questionnaire() -> dict[str, Any]:
    """Return the triad exam as an SDC-style FHIR R4 ``Questionnaire``.

    Four groups: ``pain`` (the pain pattern), ``tender`` (whether tender points
    were examined, then one repeating ``tender.point`` per point: site, whether
    pressing reproduces the pain, side), ``block`` (whether a diagnostic block
    was done, then the branches, the relief in % and how long it lasted) and
    ``neuro`` (four findings that point elsewhere). Every item carries a code of
    :data:`EXAM_SYSTEM`; the relief percent is bounded 0-100 (``minValue`` and
    ``maxValue``) and the duration offers UCUM ``d``, ``wk`` and ``mo``.

    Returns:
        The Questionnaire (``url`` :data:`QUESTIONNAIRE_URL`, ``version`` the
        knowledge-base version, status ``active``).

    Example:
        >>> from cluneal.fhir import exam_questionnaire
        >>> q = exam_questionnaire()
        >>> q["item"][2]["item"][2]["linkId"], q["item"][2]["item"][2]["type"]
        ('block.relief-percent', 'decimal')
    """
    boolean = "boolean"
    return {
        "resourceType": "Questionnaire",
        "id": "cluneal-triad-exam",
        "url": QUESTIONNAIRE_URL,
        "version": KNOWLEDGE_BASE_VERSION,
        "name": "ClunealTriadExam",
        "title": "Cluneal neuralgia: the diagnostic triad",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "What the clinician finds: pain pattern, tender points over the cluneal nerves, "
            "the diagnostic block and red-flag neurology. Leave a question unanswered when it "
            "was not examined: cluneal reads that as unknown, not as no. cluneal supports "
            "clinical decisions; it does not make them."
        ),
        "item": [
            _question(
                "pain",
                "Pain pattern",
                "group",
                item=[
                    _question("pain.low-back-pain", "Low back pain", boolean),
                    _question("pain.deep-aching", "Deep, aching, poorly localised pain", boolean),
                    _question("pain.buttock", "Pain radiating to the buttock", boolean),
                    _question("pain.leg", "Pain radiating to the leg", boolean),
                ],
            ),
            _question(
                "tender",
                "Tender points",
                "group",
                item=[
                    _question("tender.examined", "Tender points were examined", boolean),
                    _question(
                        "tender.point",
                        "A tender point found",
                        "group",
                        repeats=True,
                        enableWhen=_when("tender.examined", answer=True),
                        item=[
                            _question(
                                "tender.point.site",
                                "Site",
                                "choice",
                                required=True,
                                answerOption=_options(_SITES),
                            ),
                            _question(
                                "tender.point.reproduces-pain",
                                "Pressing it reproduces the patient's pain",
                                boolean,
                                required=True,
                            ),
                            _question(
                                "tender.point.side", "Side", "choice", answerOption=_options(_SIDES)
                            ),
                        ],
                    ),
                ],
            ),
            _question(
                "block",
                "Diagnostic block",
                "group",
                item=[
                    _question("block.done", "A diagnostic nerve block was done", boolean),
                    _question(
                        "block.branches",
                        "Branches blocked",
                        "choice",
                        repeats=True,
                        enableWhen=_when("block.done", answer=True),
                        answerOption=_options(_BRANCHES),
                        extension=[
                            {
                                "url": f"{_EXT}/questionnaire-itemControl",
                                "valueCodeableConcept": {
                                    "coding": [{"system": _ITEM_CONTROL, "code": "check-box"}]
                                },
                            }
                        ],
                    ),
                    _question(
                        "block.relief-percent",
                        "Pain relief after the block (%)",
                        "decimal",
                        enableWhen=_when("block.done", answer=True),
                        extension=[
                            {"url": f"{_EXT}/minValue", "valueDecimal": 0},
                            {"url": f"{_EXT}/maxValue", "valueDecimal": 100},
                        ],
                    ),
                    _question(
                        "block.relief-duration",
                        "How long the relief lasted",
                        "quantity",
                        enableWhen=_when("block.done", answer=True),
                        extension=_UNIT_OPTIONS,
                    ),
                ],
            ),
            _question(
                "neuro",
                "Neurological exam (red flags)",
                "group",
                item=[
                    _question("neuro.motor-weakness", "Motor weakness", boolean),
                    _question("neuro.dermatomal-sensory-loss", "Dermatomal sensory loss", boolean),
                    _question("neuro.straight-leg-raise", "Positive straight-leg raise", boolean),
                    _question("neuro.bladder-bowel", "Bladder or bowel dysfunction", boolean),
                ],
            ),
        ],
    }


def _link_ids(items: list[dict[str, Any]]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for item in items:
        kinds[item["linkId"]] = item["type"]
        kinds.update(_link_ids(item.get("item", [])))
    return kinds


_KINDS: Final = _link_ids(exam_questionnaire()["item"])
_REPEATING: Final = frozenset({"block.branches"})
_MAX_DEPTH: Final = 3  # the questionnaire nests groups three deep
_VALUE_KEY: Final = {
    "boolean": "valueBoolean",
    "choice": "valueCoding",
    "decimal": "valueDecimal",
    "quantity": "valueQuantity",
}


def _answers(
    items: object,
    where: str,
    found: dict[str, list[object]],
    points: list[dict[str, object]],
    depth: int = 0,
) -> None:
    if not isinstance(items, list):
        raise UnreadableResourceError(where, "item: expected a list")
    if depth > _MAX_DEPTH:
        raise UnreadableResourceError(where, "item: nested deeper than the questionnaire")
    for item in items:
        link = item.get("linkId") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or not code_in(link, _KINDS):
            raise UnreadableResourceError(
                where, f"item {show(link)}: not a question of the cluneal triad exam"
            )
        if link == "tender.point":
            point: dict[str, list[object]] = {}
            _answers(item.get("item", []), where, point, points, depth + 1)
            points.append({k: v[0] for k, v in point.items() if v})
            continue
        kind = _KINDS[link]
        if kind == "group":
            _answers(item.get("item", []), where, found, points, depth + 1)
            continue
        answers = item.get("answer", [])
        if not isinstance(answers, list):
            raise UnreadableResourceError(where, f"item {link}: answer must be a list")
        if len(answers) > 1 and link not in _REPEATING:
            raise UnreadableResourceError(where, f"item {link}: expected one answer")
        for answer in answers:
            key = _VALUE_KEY[kind]
            value = answer.get(key) if isinstance(answer, Mapping) else None
            if kind == "decimal" and isinstance(answer, Mapping) and "valueInteger" in answer:
                value = answer["valueInteger"]
            if value is None:
                raise UnreadableResourceError(where, f"item {link}: expected an answer {key}")
            found.setdefault(link, []).append(value)


def _one(found: Mapping[str, list[object]], link: str, where: str) -> object:
    values = found.get(link, [])
    if len(values) > 1:
        raise UnreadableResourceError(where, f"item {link}: expected one answer")
    return values[0] if values else None


def _flag(found: Mapping[str, list[object]], link: str, where: str) -> bool | None:
    value = _one(found, link, where)
    if value is not None and not isinstance(value, bool):
        raise UnreadableResourceError(where, f"item {link}: expected valueBoolean")
    return value


def _code(value: object, link: str, where: str) -> str:
    if not isinstance(value, Mapping) or value.get("system") != EXAM_SYSTEM:
        raise UnreadableResourceError(where, f"item {link}: expected a coding of {EXAM_SYSTEM}")
    return str(value.get("code"))


def _pain(found: Mapping[str, list[object]], where: str) -> PainPattern | None:
    low_back = _flag(found, "pain.low-back-pain", where)
    aching = _flag(found, "pain.deep-aching", where)
    if low_back is None or aching is None:
        return None  # the pattern is judged only when both core questions are answered
    return PainPattern(
        low_back_pain=low_back,
        deep_aching_poorly_localized=aching,
        buttock=bool(_flag(found, "pain.buttock", where)),
        leg=bool(_flag(found, "pain.leg", where)),
    )


def _tender(
    found: Mapping[str, list[object]], points: list[dict[str, object]], where: str
) -> tuple[TenderPoint, ...] | None:
    examined = _flag(found, "tender.examined", where)
    if not examined:
        if points:
            raise UnreadableResourceError(
                where, "tender.point answered while tender.examined is not true"
            )
        return None
    result = []
    for point in points:
        side = point.get("tender.point.side")
        result.append(
            # model_validate: the answers are untyped until the model checks them.
            TenderPoint.model_validate(
                {
                    "site": _code(point.get("tender.point.site"), "tender.point.site", where),
                    "reproduces_pain": point.get("tender.point.reproduces-pain"),
                    "side": None if side is None else _code(side, "tender.point.side", where),
                }
            )
        )
    return tuple(result)


def _block(found: Mapping[str, list[object]], where: str) -> BlockResult | None:
    if not _flag(found, "block.done", where):
        return None
    branches = [_code(b, "block.branches", where) for b in found.get("block.branches", [])]
    relief = _one(found, "block.relief-percent", where)
    if not branches or relief is None:
        raise UnreadableResourceError(
            where, "block.done is true: block.branches and block.relief-percent are required"
        )
    duration = _one(found, "block.relief-duration", where)
    return BlockResult.model_validate(
        {"branches": frozenset(branches), "relief_percent": relief, "relief_duration": duration}
    )


def _neuro(found: Mapping[str, list[object]], where: str) -> NeuroExam | None:
    fields = {
        "motor_weakness": _flag(found, "neuro.motor-weakness", where),
        "dermatomal_sensory_loss": _flag(found, "neuro.dermatomal-sensory-loss", where),
        "straight_leg_raise": _flag(found, "neuro.straight-leg-raise", where),
        "bladder_bowel_dysfunction": _flag(found, "neuro.bladder-bowel", where),
    }
    return None if all(v is None for v in fields.values()) else NeuroExam(**fields)


def findings_from_fhir(questionnaire_response: object) -> Findings:
    """Read a ``QuestionnaireResponse`` to :func:`exam_questionnaire` into Findings.

    An unanswered question is unknown: ``pain`` is known only when both low
    back pain and deep aching pain are answered; ``tender_points`` is ``None``
    unless ``tender.examined`` is true (then an empty tuple means examined and
    none found); ``block`` needs the branches and the relief once
    ``block.done`` is true; ``neuro`` keeps each unanswered finding ``None``.

    Args:
        questionnaire_response: The QuestionnaireResponse as FHIR JSON.

    Returns:
        The findings.

    Raises:
        UnreadableResourceError: Not a QuestionnaireResponse to this
            Questionnaire, an item that is not one of its questions, an answer
            of the wrong type, or an incomplete block.
        ValidationError: An answer cluneal refuses (relief above 100 %).

    References:
        isu_2018, kuniya_2014

    Example:
        >>> from cluneal.fhir import exam_questionnaire, findings_from_fhir
        >>> url = exam_questionnaire()["url"]
        >>> response = {"resourceType": "QuestionnaireResponse", "status": "completed",
        ...             "questionnaire": url, "item": [{"linkId": "tender", "item": [
        ...                 {"linkId": "tender.examined", "answer": [{"valueBoolean": True}]}]}]}
        >>> findings_from_fhir(response).tender_points
        ()
    """
    json_data(questionnaire_response, "questionnaire_response")
    if (
        not isinstance(questionnaire_response, Mapping)
        or questionnaire_response.get("resourceType") != "QuestionnaireResponse"
    ):
        raise UnreadableResourceError(
            "questionnaire_response", "expected a FHIR QuestionnaireResponse object"
        )
    where = label(questionnaire_response, 0)
    canonical = questionnaire_response.get("questionnaire")
    if not isinstance(canonical, str) or canonical.partition("|")[0] != QUESTIONNAIRE_URL:
        raise UnreadableResourceError(
            where, f"questionnaire: got {show(canonical)}; expected {QUESTIONNAIRE_URL}"
        )
    if not code_in(questionnaire_response.get("status"), _DONE):
        raise UnreadableResourceError(
            where,
            f"status: got {show(questionnaire_response.get('status'))}; expected "
            "completed, amended or in-progress",
        )
    found: dict[str, list[object]] = {}
    points: list[dict[str, object]] = []
    _answers(questionnaire_response.get("item", []), where, found, points)
    return Findings(
        pain=_pain(found, where),
        tender_points=_tender(found, points, where),
        block=_block(found, where),
        neuro=_neuro(found, where),
    )


# --- earlier treatments -------------------------------------------------------------


def _performed(procedure: Mapping[str, Any], where: str) -> dt.date:
    if "performedDateTime" in procedure:
        return date_of(procedure["performedDateTime"], where, "performedDateTime")
    period = procedure.get("performedPeriod")
    if isinstance(period, Mapping) and "start" in period:
        return date_of(period["start"], where, "performedPeriod.start")
    raise UnreadableResourceError(where, "performedDateTime or performedPeriod.start is required")


def _relief(observations: list[tuple[str, Mapping[str, Any]]]) -> dict[str, tuple[object, object]]:
    relief: dict[str, tuple[object, object]] = {}
    for where, obs in observations:
        pairs = codings(obs.get("code"), where, "code")
        final = code_in(obs.get("status"), {"final", "amended", "corrected"})
        if (EXAM_SYSTEM, "relief-percent") not in pairs or not final:
            continue
        value = obs.get("valueQuantity")
        if not isinstance(value, Mapping) or value.get("code") != "%":
            raise UnreadableResourceError(where, "valueQuantity: expected a percentage (UCUM %)")
        duration = None
        components = obs.get("component", [])
        for component in components if isinstance(components, list) else []:
            if not isinstance(component, Mapping):
                continue
            if (EXAM_SYSTEM, "relief-duration") in codings(
                component.get("code"), where, "component"
            ):
                duration = parse_quantity(component.get("valueQuantity"), "relief_duration")
        parts = obs.get("partOf", [])
        for part in parts if isinstance(parts, list) else []:
            reference = part.get("reference") if isinstance(part, Mapping) else None
            if isinstance(reference, str) and reference.startswith("Procedure/"):
                relief[reference] = (value.get("value"), duration)
    return relief


def history_from_fhir(resources: object) -> CareHistory:
    """Read the treatments after the diagnostic block from FHIR ``Procedure`` resources.

    A completed Procedure coded in :data:`INTERVENTION_SYSTEM` is one
    treatment; its relief is the final ``Observation`` coded ``relief-percent``
    (UCUM ``%``, with an optional ``relief-duration`` component) whose
    ``partOf`` references it. Treatments are ordered by when they were
    performed. A Procedure without a relief observation has no outcome yet and
    is not counted (the pathway cannot judge a treatment whose result is
    unknown); other Procedures are not cluneal's.

    Args:
        resources: FHIR R4 JSON: a Bundle or an iterable of resources.

    Returns:
        The care history, oldest first.

    Raises:
        UnreadableResourceError: A Procedure or relief Observation cannot be read.

    Example:
        >>> from cluneal.fhir import history_from_fhir
        >>> history_from_fhir([]).outcomes
        ()
    """
    json_data(resources, "resources")
    return read_history(iter_resources(resources))


def read_history(found: list[Mapping[str, Any]]) -> CareHistory:
    """:func:`history_from_fhir` of resources already checked as JSON data and flattened.

    Args:
        found: The resources, as :func:`cluneal.fhir._json.iter_resources` returns them.

    Returns:
        The care history, oldest first.
    """
    observations = [
        (label(r, i), r) for i, r in enumerate(found) if r["resourceType"] == "Observation"
    ]
    relief = _relief(observations)
    done: list[tuple[dt.date, int, InterventionOutcome]] = []
    for index, resource in enumerate(found):
        if resource["resourceType"] != "Procedure" or resource.get("status") != "completed":
            continue
        where = label(resource, index)
        codes = [
            c for s, c in codings(resource.get("code"), where, "code") if s == INTERVENTION_SYSTEM
        ]
        if not codes:
            continue
        try:
            intervention = Intervention(str(codes[0]))
        except ValueError:
            raise UnreadableResourceError(
                where, f"code {show(codes[0])} is not a cluneal intervention"
            ) from None
        outcome = relief.get(f"Procedure/{resource.get('id')}")
        if outcome is None:
            continue
        done.append(
            (
                _performed(resource, where),
                index,
                InterventionOutcome.model_validate(
                    {
                        "intervention": intervention,
                        "relief_percent": outcome[0],
                        "relief_duration": outcome[1],
                    }
                ),
            )
        )
    return CareHistory(outcomes=tuple(o for _, _, o in sorted(done, key=lambda t: t[:2])))
