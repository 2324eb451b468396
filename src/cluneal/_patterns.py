"""Regular expressions for JSON Schema: decimal numbers in a range, unit spellings.

The published schemas say as much as JSON Schema can about what a quantity
field accepts. A text quantity such as ``"154 lb"`` is a ``pattern``; for the
schema to refuse ``"900 kg"`` as the model does, the pattern has to encode the
plausible range of each unit's number, which this module writes: a decimal
number (digits, an optional point and fraction, an optional ``+``; no sign,
no exponent) between two bounds. Patterns use only the regular-expression
syntax common to ECMA-262 (JSON Schema's dialect) and Python's :mod:`re`.

Example:
    >>> import re
    >>> from decimal import Decimal
    >>> p = decimal_range(Decimal("20"), Decimal("400"))
    >>> [bool(re.fullmatch(p, t)) for t in ("19.99", "20", "70.5", "400", "400.0", "400.01")]
    [False, True, True, True, True, False]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["WHITESPACE", "decimal_range", "spelling_pattern"]

WHITESPACE: Final = r"[ \t\n\r\f\v]"
"""The whitespace a quantity text may hold: ASCII only, as the parser reads it."""

_ANY_FRACTION: Final = r"(?:\.[0-9]*)?"


def _digit_class(low: int, high: int) -> str:
    return str(low) if low == high else f"[{low}-{high}]"


def _same_length(low: str, high: str) -> list[str]:
    """Patterns for the digit strings of one length from ``low`` to ``high``."""
    if low == high:
        return [low]
    width = len(low)
    if set(low) == {"0"} and set(high) == {"9"}:
        return [f"[0-9]{{{width}}}"]
    if width == 1:
        return [_digit_class(int(low), int(high))]
    if low[0] == high[0]:
        return [low[0] + rest for rest in _same_length(low[1:], high[1:])]
    rest = width - 1
    out = [low[0] + tail for tail in _same_length(low[1:], "9" * rest)]
    if int(high[0]) - int(low[0]) > 1:
        out.append(_digit_class(int(low[0]) + 1, int(high[0]) - 1) + f"[0-9]{{{rest}}}")
    out += [high[0] + tail for tail in _same_length("0" * rest, high[1:])]
    return out


def _integers(low: int, high: int | None) -> str | None:
    """A pattern for the integers ``low..high`` written without leading zeros."""
    if high is not None and low > high:
        return None
    parts: list[str] = []
    while high is None or len(str(low)) < len(str(high)):
        top = 10 ** len(str(low)) - 1
        parts += _same_length(str(low), str(top))
        low = top + 1
        if high is None:
            # Every longer integer: a non-zero digit and at least as many more.
            parts.append(f"[1-9][0-9]{{{len(str(low)) - 1},}}")
            break
    if high is not None:
        parts += _same_length(str(low), str(high))
    return "(?:" + "|".join(parts) + ")"


def _at_least(digits: str, *, strict: bool) -> str:
    """Fraction digits ``f`` (non-empty) with ``0.f >= 0.digits`` (``>`` when strict)."""
    digits = digits.rstrip("0")
    if not digits:
        return "[0-9]*[1-9][0-9]*" if strict else "[0-9]+"
    head, rest = int(digits[0]), digits[1:]
    options = [f"{head}{_at_least(rest, strict=strict)}" if rest or strict else f"{head}[0-9]*"]
    if head < 9:
        options.insert(0, f"{_digit_class(head + 1, 9)}[0-9]*")
    return "(?:" + "|".join(options) + ")"


def _at_most(digits: str) -> str:
    """Fraction digits ``f`` (possibly empty) with ``0.f <= 0.digits``."""
    digits = digits.rstrip("0")
    if not digits:
        return "0*"
    head, rest = int(digits[0]), digits[1:]
    options = [f"{head}{_at_most(rest)}"]
    if head > 0:
        options.insert(0, f"{_digit_class(0, head - 1)}[0-9]*")
    return "(?:" + "|".join(options) + ")?"


def _split(value: Decimal) -> tuple[int, str]:
    whole = int(value)
    fraction = format(value - whole, "f")
    return whole, fraction.split(".")[1] if "." in fraction else ""


def decimal_range(
    minimum: Decimal, maximum: Decimal | None, *, minimum_inclusive: bool = True
) -> str:
    """A pattern for the decimal numbers between two non-negative bounds.

    The numbers are written as the quantity parser reads them: an optional
    ``+``, digits with optional leading zeros, an optional point and fraction
    (``"70"``, ``"070"``, ``"70."``, ``".5"``, ``"+1.25"``).

    Args:
        minimum: The smallest value (non-negative).
        maximum: The largest value, or ``None`` for no bound.
        minimum_inclusive: Whether ``minimum`` itself matches.

    Returns:
        A pattern (unanchored) that matches exactly those numbers.

    Raises:
        ValueError: A negative minimum, or bounds with the same integer part
            (no kind of quantity needs them).

    Example:
        >>> import re
        >>> from decimal import Decimal
        >>> p = decimal_range(Decimal(0), Decimal(100), minimum_inclusive=False)
        >>> [bool(re.fullmatch(p, t)) for t in ("0", "0.000", ".001", "100", "100.5")]
        [False, False, True, True, False]
    """
    low_whole, low_fraction = _split(minimum)
    if minimum < 0:
        msg = f"negative minimum {minimum}"
        raise ValueError(msg)
    options: list[str] = []
    if maximum is None:
        above = _integers(low_whole + 1, None)
    else:
        high_whole, high_fraction = _split(maximum)
        if high_whole == low_whole:
            msg = f"bounds {minimum} and {maximum} share their integer part"
            raise ValueError(msg)
        above = _integers(low_whole + 1, high_whole - 1)
        # The largest integer part: fraction at most the maximum's.
        options.append(f"0*{high_whole}(?:\\.{_at_most(high_fraction)})?")
    if above is not None:
        options.append(f"0*{above}{_ANY_FRACTION}")
    # The smallest integer part: fraction at least (or above) the minimum's.
    strict = not minimum_inclusive
    low_digits = low_fraction.rstrip("0")
    whole = "0*" if low_whole == 0 else f"0*{low_whole}"
    if not low_digits and not strict:
        if low_whole == 0:
            options.append(f"(?:0+{_ANY_FRACTION}|\\.[0-9]+)")
        else:
            options.append(f"{whole}{_ANY_FRACTION}")
    else:
        options.append(f"{whole}\\.{_at_least(low_digits, strict=strict)}")
    return r"\+?(?:" + "|".join(options) + ")"


def spelling_pattern(spelling: str) -> str:
    """A pattern for one unit spelling as the parser matches it.

    Case does not matter for ASCII letters, µ and μ are the same letter, and
    whitespace may appear anywhere (``"mg / dL"``).

    Args:
        spelling: A spelling from the unit table.

    Returns:
        A pattern (unanchored).

    Example:
        >>> import re
        >>> bool(re.fullmatch(spelling_pattern("mg/dL"), "MG / dl"))
        True
    """
    parts = []
    for char in "".join(spelling.split()):
        if char.isascii() and char.isalpha():
            parts.append(f"[{char.lower()}{char.upper()}]")
        elif char in "µμ":
            parts.append("[µμ]")
        elif char in "[]{}.()/+*?^$|\\":
            parts.append("\\" + char)
        else:
            parts.append(char)
    return f"{WHITESPACE}*".join(parts)
