"""The six drugs cluneal knows, as a closed vocabulary."""

from __future__ import annotations

from cluneal._vocabulary import Term

__all__ = ["Drug"]


class Drug(Term):
    """A drug cluneal can schedule and screen. The values are lower-case names.

    None of the six is labelled for cluneal neuralgia: every use is off-label
    (extrapolated from neuropathic-pain trials). Low-dose naltrexone is compounded.

    Example:
        >>> Drug("gabapentin") is Drug.GABAPENTIN
        True
    """

    NORTRIPTYLINE = "nortriptyline"
    CARBAMAZEPINE = "carbamazepine"
    GABAPENTIN = "gabapentin"
    PREGABALIN = "pregabalin"
    NALTREXONE = "naltrexone"
    TRAMADOL = "tramadol"
