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

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cluneal.alerts import SafetyAlert

__all__ = [
    "ClunealError",
    "ContraindicatedError",
    "InsufficientDataError",
    "InvalidQuantityError",
    "KnowledgeBaseError",
    "MissingExtraError",
    "UnknownTermError",
]

_MAX_SHOWN = 80


def _show(value: object) -> str:
    """Return a short, safe ``repr`` of a caller's value for an error message."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        # Hostile inputs can be megabytes long: never echo them whole.
        text = f"{text[:_MAX_SHOWN]}... ({len(text)} characters)"
    return text


class ClunealError(ValueError):
    """Base class of every error cluneal raises on purpose.

    Example:
        >>> import cluneal
        >>> issubclass(cluneal.ClunealError, ValueError)
        True
    """


class InvalidQuantityError(ClunealError):
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

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: got {_show(value)}; expected {expected}")


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
        super().__init__(f"{field}: got {_show(value)}; expected one of {choices}")


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

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.extra, self.feature))
