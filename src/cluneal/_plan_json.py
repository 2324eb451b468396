"""A care plan's JSON from its parts, the parts it shares with other plans serialised once.

Most of a plan is memoised and shared with other plans (its assessment, the
recommendation's words, the choices, complementary care, alerts and trace:
values that hold no mutable quantity). :func:`plan_json` asks pydantic for the
plan's JSON part by part (``include``), serialises each shared part once (found
again by the identities of the values it holds) and joins the parts: the bytes
are those pydantic gives for the whole plan. The patient's own parts (the
patient, findings, history, schedule and the lasting-relief quantity) are
serialised every time. A plan whose fields are not the ones listed here, in
their order, or whose recommendation rests on another assessment, is
serialised by pydantic whole.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._memo import BoundedMemo
from cluneal.pathway import Recommendation

if TYPE_CHECKING:
    from cluneal.plan import CarePlan

__all__ = ["json_parts_clear", "parts_in_order", "plan_json"]

# The parts of a plan's JSON, as pydantic serialises the plan with ``include``:
# the patient's own, and those shared with other plans (cached below).
_OWN_HEAD: Final = ("patient", "findings", "history")
_REC_WORDS: Final = (
    "step",
    "rationale",
    "alternatives",
    "alternative_options",
    "citations",
    "rules_fired",
    "transition",
    "evidence_level",
    "evidence_note",
    "urgent",
    "follow_up",
    "target_branches",
)
_REC_OWN: Final = (
    "lasting_relief",
    "block_threshold",
    "knowledge_base_version",
    "protocol_sha256",
)
_SHARED_TAIL: Final = (
    "medication_rationale",
    "drug_choices",
    "complementary",
    "alerts",
    "trace",
    "knowledge_base_version",
    "protocol_sha256",
    "safety_statement",
)
_REC_OPEN: Final = len(b'{"recommendation":{')
# Serialised shared parts, keyed on the identities of the values serialised (the
# entry holds them, so no id in a live key belongs to another object); bounded
# lower than the decision memos, since an entry holds kilobytes of text.
_JSON_PARTS: Final[BoundedMemo[tuple[object, ...], tuple[tuple[object, ...], bytes]]] = BoundedMemo(
    1024
)


@lru_cache(maxsize=4)
def parts_in_order(model: type[CarePlan]) -> bool:
    """Whether the parts above are every field of the plan and its recommendation, in order."""
    plan = (*_OWN_HEAD, "assessment", "recommendation", "medications", *_SHARED_TAIL)
    rec = (*_REC_WORDS, "assessment", *_REC_OWN)
    return tuple(model.model_fields) == plan and tuple(Recommendation.model_fields) == rec


def _shared_json(
    tag: str, values: tuple[object, ...], plan: CarePlan, include: set[str] | dict[str, set[str]]
) -> bytes:
    key = (tag, *map(id, values))
    found = _JSON_PARTS.entries.get(key)
    if found is None:
        serialised = type(plan).__pydantic_serializer__.to_json(plan, include=include)
        found = _JSON_PARTS.put(key, (values, serialised))
    return found[1]


def plan_json(plan: CarePlan) -> str:
    """A plan's JSON from its parts (the same bytes as pydantic's ``to_json`` of the plan).

    Args:
        plan: The plan.

    Returns:
        The JSON text.
    """
    model = type(plan)
    to_json = model.__pydantic_serializer__.to_json
    fields = plan.__dict__
    rec = plan.recommendation
    words = tuple(rec.__dict__[name] for name in _REC_WORDS)
    # The parts must be the models' fields in their order, and the recommendation's
    # assessment the plan's (a plan built otherwise is serialised by pydantic whole).
    if rec.assessment is not plan.assessment or not parts_in_order(model):
        return to_json(plan).decode()
    head = to_json(plan, include=set(_OWN_HEAD))
    assessment = _shared_json("assessment", (plan.assessment,), plan, {"assessment"})
    rec_words = _shared_json("recommendation", words, plan, {"recommendation": set(_REC_WORDS)})
    rec_own = to_json(plan, include={"recommendation": set(_REC_OWN)})
    medications = to_json(plan, include={"medications"})
    tail = _shared_json(
        "tail", tuple(fields[name] for name in _SHARED_TAIL), plan, set(_SHARED_TAIL)
    )
    inner_assessment = assessment[1:-1]
    return b"".join(
        (
            head[:-1],
            b",",
            inner_assessment,
            b',"recommendation":{',
            rec_words[_REC_OPEN:-2],
            b",",
            inner_assessment,
            b",",
            rec_own[_REC_OPEN:-1],
            b",",
            medications[1:-1],
            b",",
            tail[1:],
        )
    ).decode()


def json_parts_clear() -> None:
    """Forget the serialised shared parts (for tests: a cold plan's JSON)."""
    _JSON_PARTS.clear()
