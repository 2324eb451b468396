"""Numbers as a clinician writes them, for every text people read.

Used by the rules for the numbers inside their explanations and by the
presentation layer for everything it shows; JSON keeps full precision.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final

__all__ = ["clinical_number"]

_SIGNIFICANT: Final = 3


def clinical_number(value: float, *, down: bool = False) -> str:
    """Write a number as a clinician does: three significant figures, at least one decimal kept.

    The integer part is never rounded (1237.5 stays 1237.5, 1200 stays 1200);
    below 100 the value keeps three significant figures (14.9, 4.5, 0.125), and
    trailing zeros are dropped. ``down=True`` rounds towards zero, for a
    maximum: a cap is never shown above its true value.

    Args:
        value: The number.
        down: Round down instead of to the nearest (for caps and maxima).

    Returns:
        The text ("unknown" for NaN or infinity).

    Example:
        >>> [clinical_number(v) for v in (42.0, 112.5, 0.125, 4.5, 29.96)]
        ['42', '112.5', '0.125', '4.5', '30']
        >>> clinical_number(14.96, down=True), clinical_number(14.96)
        ('14.9', '15')
    """
    if not math.isfinite(value):
        return "unknown"
    if value == 0:
        return "0"
    decimals = max(1, _SIGNIFICANT - 1 - math.floor(math.log10(abs(value))))
    exact = Decimal(repr(value))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), ROUND_FLOOR if down else ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text
