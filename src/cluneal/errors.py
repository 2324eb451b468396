"""The exception tree: every error cluneal raises on purpose lives here.

Every class derives from :class:`ClunealError`, itself a :class:`ValueError`, so
``except ValueError`` keeps working for callers who do not know the package.
Each error keeps its inputs as attributes and builds its message from them, so
a service can show the message and a program can act on the attributes.

Pydantic's :class:`~pydantic.ValidationError` (also a :class:`ValueError`) is
the other error a caller can see: model construction raises it, with the
:class:`ClunealError` message of the failing field inside.
"""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cluneal.alerts import SafetyAlert

__all__ = [
    "ClunealError",
    "ContraindicatedError",
    "ExcludedDrugError",
    "InsufficientDataError",
    "InvalidArgumentError",
    "InvalidQuantityError",
    "KnowledgeBaseError",
    "LocalProtocolError",
    "MissingExtraError",
    "UnknownTermError",
    "problems",
    "show",
]

_MAX_SHOWN = 80


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` with small limits: depth, length and digits are all bounded."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = _MAX_SHOWN
        self.maxother = _MAX_SHOWN
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        # repr() of an int beyond ~4300 digits raises ValueError (CVE-2020-10735).
        if x.bit_length() > 128:
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x: object, level: int) -> str:
        # A caller's object may have a repr that is huge, recursive or raises.
        try:
            text = repr(x)
        except Exception:
            return f"<{type(x).__name__} object>"
        if len(text) > self.maxother:
            text = f"{text[: self.maxother]}..."
        return text


_REPR = _BoundedRepr()


def show(value: object) -> str:
    """Return a short, safe rendering of a caller's value for an error message.

    Never raises and never returns more than a few hundred characters, whatever
    the value: deep nesting, megabyte strings, integers of a million digits and
    objects whose ``repr`` raises are all shown in bounded form. Lone surrogates
    and control characters come out escaped, as ``repr`` writes them.

    Args:
        value: Anything a caller passed.

    Returns:
        A bounded ``repr``-style text.

    Example:
        >>> show("x" * 1000)
        "'xxxxxxxx...xxxxxxxx' (1000 characters)"
        >>> show([[[[[1]]]]])
        '[[[[...]]]]'
    """
    try:
        text = _REPR.repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    if isinstance(value, str | bytes) and len(value) > _MAX_SHOWN:
        text = f"{text} ({len(value)} characters)"
    if len(text) > 4 * _MAX_SHOWN:
        text = f"{text[: 4 * _MAX_SHOWN]}..."
    return text


def _restore(cls: type[ClunealError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Rebuild a pickled error without calling its ``__init__`` (see ``__reduce__``)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ClunealError(ValueError):
    """Base class of every error cluneal raises on purpose.

    Every subclass pickles with its attributes (multiprocessing and Dask send
    errors between processes), whatever its constructor's signature.

    Example:
        >>> import cluneal, pickle
        >>> issubclass(cluneal.ClunealError, ValueError)
        True
        >>> err = pickle.loads(pickle.dumps(UnknownTermError("drug", "aspirin", ["gabapentin"])))
        >>> err.field, err.value, err.allowed
        ('drug', 'aspirin', ('gabapentin',))
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class InvalidArgumentError(ClunealError):
    """An argument or field has the wrong type or a value outside its range.

    Attributes:
        field: The name of the argument or field.
        value: The value received (as given).
        expected: What it accepts, in words.

    Example:
        >>> str(InvalidArgumentError("block_threshold", float("nan"), "a finite number"))
        'block_threshold: got nan; expected a finite number'
    """

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: got {show(value)}; expected {expected}")


class InvalidQuantityError(InvalidArgumentError):
    """A quantity input was missing its unit, of the wrong kind, or implausible.

    Attributes:
        field: The name of the field or argument that received the value.
        value: The value received (as given).
        expected: What the field accepts, in words.

    Example:
        >>> from cluneal.units import parse_quantity
        >>> parse_quantity(70, "weight")
        Traceback (most recent call last):
        cluneal.errors.InvalidQuantityError: weight: got 70; expected ...
    """


class UnknownTermError(ClunealError):
    """A value is not one of a closed vocabulary (a drug, a site, a severity).

    Attributes:
        field: The name of the field or argument.
        value: The value received.
        allowed: The accepted values.

    Example:
        >>> err = UnknownTermError("drug", "aspirin", ["gabapentin", "pregabalin"])
        >>> str(err)
        "drug: got 'aspirin'; expected one of 'gabapentin', 'pregabalin'"
    """

    def __init__(self, field: str, value: object, allowed: Sequence[str]) -> None:
        self.field = field
        self.value = value
        self.allowed = tuple(allowed)
        choices = ", ".join(repr(a) for a in self.allowed)
        super().__init__(f"{field}: got {show(value)}; expected one of {choices}")


class InsufficientDataError(ClunealError):
    """A calculation needs a value the caller has not supplied.

    Attributes:
        calculation: What was being computed.
        missing: The names of the fields it needs.

    Example:
        >>> str(InsufficientDataError("Cockcroft-Gault", ["weight"]))
        'Cockcroft-Gault needs weight, which is missing'
    """

    def __init__(self, calculation: str, missing: Sequence[str]) -> None:
        self.calculation = calculation
        self.missing = tuple(missing)
        names = " and ".join(self.missing)
        verb = "is" if len(self.missing) == 1 else "are"
        super().__init__(f"{calculation} needs {names}, which {verb} missing")


class ContraindicatedError(ClunealError):
    """A drug must not be started for this patient; ``alerts`` say why.

    Attributes:
        drug: The drug that was refused.
        alerts: The contraindicating :class:`~cluneal.SafetyAlert` values.

    Example:
        >>> err = ContraindicatedError("tramadol", ())
        >>> err.drug, err.alerts
        ('tramadol', ())
    """

    def __init__(self, drug: str, alerts: Sequence[SafetyAlert]) -> None:
        self.drug = str(drug)
        self.alerts: tuple[SafetyAlert, ...] = tuple(alerts)
        reasons = "; ".join(f"{a.message} [{a.rule_id}]" for a in self.alerts)
        super().__init__(
            f"{self.drug} is contraindicated for this patient: {reasons or 'see alerts'}"
        )


class KnowledgeBaseError(ClunealError):
    """The packaged knowledge base failed its own validation when loaded.

    Attributes:
        source: The file or table that failed.
        problem: What is wrong with it.

    Example:
        >>> str(KnowledgeBaseError("citations.toml", "duplicate id 'x'"))
        "knowledge base citations.toml: duplicate id 'x'"
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"knowledge base {source}: {problem}")


class LocalProtocolError(ClunealError):
    """A local protocol would loosen a rule, or is not a valid protocol.

    A local protocol may only make the package more conservative: the message
    names the field, the value given and the built-in limit it would cross.

    Attributes:
        field: The protocol field (``max_daily_dose.gabapentin``).
        value: The value given.
        limit: The built-in limit or what the field accepts, in words.

    Example:
        >>> err = LocalProtocolError("excluded_drugs", "aspirin", "a drug of the knowledge base")
        >>> str(err)
        "local protocol: excluded_drugs: got 'aspirin'; expected a drug of the knowledge base"
    """

    def __init__(self, field: str, value: object, limit: str) -> None:
        self.field = field
        self.value = value
        self.limit = limit
        super().__init__(f"local protocol: {field}: got {show(value)}; expected {limit}")


class ExcludedDrugError(ClunealError):
    """A drug the local protocol in use excludes was asked for.

    Attributes:
        drug: The drug.
        knowledge_base_version: The knowledge base (and its protocol) that excludes it.

    Example:
        >>> str(ExcludedDrugError("tramadol", "2026.12.0+clinic@3"))
        'tramadol is excluded by the local protocol of knowledge base 2026.12.0+clinic@3'
    """

    def __init__(self, drug: str, knowledge_base_version: str) -> None:
        self.drug = str(drug)
        self.knowledge_base_version = knowledge_base_version
        super().__init__(
            f"{self.drug} is excluded by the local protocol of knowledge base "
            f"{knowledge_base_version}"
        )


class MissingExtraError(ClunealError, ImportError):
    """An optional feature was used without its extra installed.

    Attributes:
        extra: The name of the extra (``pip install "cluneal[<extra>]"``).
        feature: What needed it.

    Example:
        >>> str(MissingExtraError("fhir", "FHIR export"))
        'FHIR export needs the optional extra: pip install "cluneal[fhir]"'
    """

    def __init__(self, extra: str, feature: str) -> None:
        self.extra = extra
        self.feature = feature
        ClunealError.__init__(
            self, f'{feature} needs the optional extra: pip install "cluneal[{extra}]"'
        )


_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def problems(error: BaseException) -> tuple[str, ...]:
    """Say what is wrong, one clean sentence per problem, for people to read.

    A pydantic ``ValidationError`` gives one line per failing field: the field
    path written once (``patient.weight``, or the model's name for the
    document as a whole), then the package's own message
    without pydantic's ``"Value error, "`` prefix, or pydantic's message with
    the value that was refused. Any other error is one line.

    Args:
        error: The error raised.

    Returns:
        The problems, one line each.

    Example:
        >>> from cluneal import Patient
        >>> try:
        ...     Patient(age=-5, sex="female")
        ... except ValueError as exc:
        ...     print(problems(exc)[0])
        age: got -5; expected an age between 18 and 120 years
    """
    if not isinstance(error, ValidationError):
        return (" ".join(str(error).split()),)
    lines = []
    for detail in error.errors(include_url=False, include_context=False):
        loc = [str(part) for part in detail["loc"]]
        message = detail["msg"]
        own = message.startswith(_PYDANTIC_PREFIXES)
        for prefix in _PYDANTIC_PREFIXES:
            message = message.removeprefix(prefix)
        if loc and message.startswith(f"{loc[-1]}: "):
            message = message[len(loc[-1]) + 2 :]  # the path already names the field
        if not own and loc:
            message = f"{message}; got {show(detail['input'])}"
        text = " ".join(message.split())
        lines.append(f"{'.'.join(loc) if loc else error.title}: {text}")
    return tuple(lines)
