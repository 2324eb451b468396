"""Texts that name the knowledge base's numbers instead of restating them (issue 11).

An alert's message, an action or a rule's text that states a number a rule acts
on names it as a placeholder, so a clinician who changes a threshold changes
what the texts say too. A loader fills a rule's own values when it reads its
file (:func:`fill`: ``"Weight above {above_kg:g} kg"``); a value of another
file (an age of ``parameters.toml``, a monograph's cap) stays a placeholder
until the whole knowledge base is built, which fills it from its own tables
(:func:`render`). Names filled per alert (``{drug}``, ``{partners}``) stay for
the screening. Both steps refuse a name that does not fill in, and a loader
refuses a text that writes one of its rule's own values as a literal number
(:func:`restated`).

Example:
    >>> fill("Weight above {above_kg:g} kg ({drug})", {"above_kg": 120.0}, later={"drug"},
    ...      source="renal.toml", where="obesity_no_height.message")
    'Weight above 120 kg ({drug})'
"""

import re
import string
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeGuard

from pydantic import BaseModel

from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge.monograph import knowledge_values
from cluneal.knowledge.rule import RuleIndex

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase

__all__ = [
    "BASE_NAMES",
    "fill",
    "knowledge_base_values",
    "literal_numbers",
    "names",
    "own_values",
    "render",
    "restated",
]

BASE_NAMES: Final = frozenset(
    {
        "older_adult_age",
        "age_over_75",
        "crcl_normal_lower",
        "crcl_moderate_lower",
        "crcl_severe_lower",
        "crcl_end_stage_lower",
        "session_hours",
        "creatinine_umol_l_per_mg_dl",
        "rules",
    }
)
"""What a text may name from the whole knowledge base: the clinical parameters'
ages, the renal bands' lower CrCl bounds, the dialysis session's length, the
creatinine conversion and any rule by its id
(``{rules[nortriptyline.cap.cardiac].max_mg_day:g}``)."""

# A number written in a text: not part of a word or a name (CYP2D6, HLA-B*15:02, G5D).
_NUMBER: Final = re.compile(r"(?<![\w.*:])(?<![A-Za-z]-)\d+(?:\.\d+)?(?!\w|:\d)")


def names(template: str) -> set[str]:
    """The top-level names a template's placeholders use.

    Raises:
        ValueError: The template is malformed.

    Example:
        >>> sorted(names("{rules[a.b].max_mg_day:g} mg with {partners}"))
        ['partners', 'rules']
    """
    found = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            found.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    return found


def literal_numbers(template: str) -> tuple[str, ...]:
    """The numbers a template writes outside its placeholders.

    Example:
        >>> literal_numbers("{x:g} mg, HLA-B*15:02, CYP2D6, omega-3, 1.5-4.5 mg, 14-day")
        ('1.5', '4.5', '14')
    """
    literal = "".join(text for text, _, _, _ in string.Formatter().parse(template))
    return tuple(_NUMBER.findall(literal))


def restated(template: str, values: Iterable[object]) -> tuple[str, ...]:
    """The literal numbers of a template that equal one of the given values.

    Example:
        >>> restated("older than 40 years, ECG", [40])
        ('40',)
    """
    numbers = {float(v) for v in values if _is_number(v)}
    return tuple(n for n in literal_numbers(template) if float(n) in numbers)


def own_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A data file row's own numbers, its criteria's (``when``) included, by name.

    Example:
        >>> own_values({"above_kg": 120.0, "when": {"age_over_years": 40, "older_adult": True}})
        {'above_kg': 120.0, 'age_over_years': 40}
    """
    own = {k: v for k, v in row.items() if _is_number(v)}
    when = row.get("when")
    if isinstance(when, Mapping):
        own.update((k, v) for k, v in when.items() if _is_number(v))
    return own


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Later:
    """A name left as a placeholder: it formats back to itself (with its path and spec)."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def __getitem__(self, key: object) -> "_Later":
        return _Later(f"{self._path}[{key}]")

    def __getattr__(self, name: str) -> "_Later":
        if name.startswith("__"):
            raise AttributeError(name)
        return _Later(f"{self._path}.{name}")

    def __format__(self, spec: str) -> str:
        return "{" + self._path + (":" + spec if spec else "") + "}"


def fill(
    template: str,
    values: Mapping[str, Any],
    *,
    later: Collection[str] = (),
    source: str,
    where: str,
) -> str:
    """Fill a template's placeholders; the names in ``later`` stay placeholders.

    Args:
        template: The text as written in the data file.
        values: The values it may name.
        later: Names filled afterwards (by the knowledge base, or per alert).
        source: The data file, for the error.
        where: The rule and field, for the error.

    Returns:
        The text, with only the ``later`` names left.

    Raises:
        KnowledgeBaseError: The template is malformed or names something else.

    Example:
        >>> fill("below {x:g} ({rules[r].y:g})", {"x": 0.7}, later=BASE_NAMES,
        ...      source="f.toml", where="r.message")
        'below 0.7 ({rules[r].y:g})'
    """
    arguments = {name: _Later(name) for name in later}
    arguments.update(values)
    try:
        return template.format(**arguments)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
        detail = f"{where}: template {template!r} does not fill in ({exc!r})"
        raise KnowledgeBaseError(source, detail) from exc


def checked(
    template: str,
    own: Mapping[str, Any],
    *,
    more: Mapping[str, Any] | None = None,
    later: Collection[str],
    source: str,
    where: str,
) -> str:
    """:func:`fill` with the rule's own values (and ``more``), refusing a text that restates one.

    Raises:
        KnowledgeBaseError: The template does not fill in, or writes one of ``own``'s
            values as a literal number instead of naming it.

    Example:
        >>> checked("older than {age_over_years:g} years", {"age_over_years": 40}, later=(),
        ...         source="safety.toml", where="r.message")
        'older than 40 years'
        >>> try:
        ...     checked("older than 40 years", {"age_over_years": 40}, later=(),
        ...             source="safety.toml", where="r.message")
        ... except KnowledgeBaseError as exc:
        ...     print(str(exc).split(", a value")[0])
        knowledge base safety.toml: r.message: template 'older than 40 years' states 40
    """
    repeated = restated(template, own.values())
    if repeated:
        detail = (
            f"{where}: template {template!r} states {', '.join(repeated)}, a value of its rule: "
            "name it as a placeholder"
        )
        raise KnowledgeBaseError(source, detail)
    values = own if more is None else {**more, **own}
    return fill(template, values, later=later, source=source, where=where)


def knowledge_base_values(
    knowledge: "KnowledgeBase", models: Callable[[], Iterable[BaseModel]]
) -> dict[str, Any]:
    """The values of :data:`BASE_NAMES` in a knowledge base.

    Args:
        knowledge: The knowledge base being built.
        models: Every model of the base (for ``rules``), the likeliest first; read
            only as far as the texts' lookups need.

    Returns:
        The values by name.
    """
    values = knowledge_values(knowledge)
    values["creatinine_umol_l_per_mg_dl"] = knowledge.parameters.creatinine.umol_l_per_mg_dl
    values["rules"] = RuleIndex(models)
    return values


def render(
    model: BaseModel,
    values: Mapping[str, Any],
    *,
    later: Collection[str] = (),
    source: str,
) -> BaseModel:
    """A copy of a rule with its texts filled from the knowledge base (the same rule if unchanged).

    The rule's private ``_templates`` holds each text that names the knowledge base's
    values: ``{field: (template as read, text last filled in or None)}``. A text
    replaced in a copy of the rule (``model_copy``) is taken as its new template.

    Args:
        model: The rule.
        values: :func:`knowledge_base_values`, with the rule's own derived values.
        later: Names filled per alert (``drug``, ``partners``).
        source: The data file, for the error.

    Returns:
        The rule with each templated field filled (its templates kept).

    Raises:
        KnowledgeBaseError: A template names something the knowledge base does not hold.
    """
    templates: dict[str, tuple[str, str | None]] = getattr(model, "_templates", {})
    if not templates:
        return model
    where = getattr(model, "rule_id", None) or type(model).__name__
    kept: dict[str, tuple[str, str | None]] = {}
    update: dict[str, str] = {}
    for field, (template, filled) in templates.items():
        current = getattr(model, field)
        if current not in (template, filled):
            # Replaced in a copy of the rule: the new text is what to fill.
            if not names(current) & BASE_NAMES:
                continue
            template = current  # noqa: PLW2901 - the copy's text is the template now
        text = fill(template, values, later=later, source=source, where=f"{where}.{field}")
        kept[field] = (template, text)
        update[field] = text
    if kept == templates and all(getattr(model, f) == t for f, t in update.items()):
        return model
    copy = model.model_copy(update=update)
    copy._templates = kept  # type: ignore[attr-defined]
    return copy
