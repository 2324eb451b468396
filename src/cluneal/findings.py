"""The findings: what the clinician has found so far, as input to the diagnosis.

A :class:`Findings` holds the three parts of the diagnostic triad (the pain
pattern, the tender points, the diagnostic block) and the neurological
examination. ``None`` always means *not examined yet*, which is different from
examined and negative: ``tender_points=None`` is unknown, ``tender_points=()``
means the landmarks were palpated and nothing was found. These are data with
no rules in them: :func:`cluneal.diagnosis.assess_diagnosis` judges them.

Example:
    >>> from cluneal.findings import Findings
    >>> f = Findings.model_validate({
    ...     "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    ...     "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
    ... })
    >>> f.block is None, f.tender_points[0].site
    (True, <TenderPointSite.ILIAC_CREST: 'iliac_crest'>)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from cluneal._base import FrozenModel
from cluneal.units import Duration
from cluneal.vocabulary import BranchSet, Flag, Guidance, ReliefPercent, Side, TenderPointSite

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cluneal.units import QuantityInput
    from cluneal.vocabulary import NerveBranch

__all__ = ["BlockResult", "Findings", "NeuroExam", "PainPattern", "TenderPoint"]


class PainPattern(FrozenModel):
    """The pain history (criterion 1).

    Attributes:
        low_back_pain: The patient has low back pain.
        deep_aching_poorly_localized: The pain is deep, aching or poorly localised.
        buttock: The buttock is involved (supports, not required).
        leg: There are leg symptoms (supports, not required; common because the
            SCN arises from T11-L4).

    Example:
        >>> PainPattern(low_back_pain=True, deep_aching_poorly_localized=True, leg=True).buttock
        False
    """

    low_back_pain: Flag
    deep_aching_poorly_localized: Flag
    buttock: Flag = False
    leg: Flag = False

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            low_back_pain: bool,
            deep_aching_poorly_localized: bool,
            buttock: bool = False,
            leg: bool = False,
        ) -> None:
            """Validate the pain history (see the class docstring)."""


class TenderPoint(FrozenModel):
    """One tender point found on palpation (criterion 2).

    Attributes:
        site: Where: ``"iliac_crest"`` (about 70 mm from the midline),
            ``"caudal_to_psis"`` (within 40 mm caudal to the PSIS) or ``"other"``.
        reproduces_pain: Whether pressure on it reproduces the patient's pain.
        side: ``"left"``, ``"right"``, ``"bilateral"`` or ``None`` (not recorded).

    Example:
        >>> TenderPoint(site="caudal_to_psis", reproduces_pain=True, side="left").site
        <TenderPointSite.CAUDAL_TO_PSIS: 'caudal_to_psis'>
    """

    site: TenderPointSite
    reproduces_pain: Flag
    side: Side | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            site: TenderPointSite | str,
            reproduces_pain: bool,
            side: Side | str | None = None,
        ) -> None:
            """Validate a tender point (see the class docstring)."""


class BlockResult(FrozenModel):
    """The result of the diagnostic local-anaesthetic block (criterion 3).

    Attributes:
        branches: The branch or branches blocked (at least one).
        relief_percent: Pain relief, 0-100 %.
        relief_duration: How long the relief lasted (``"2 weeks"``,
            ``{"value": 3, "unit": "d"}`` or a quantity); ``None`` when not yet
            known. A bare number is refused: it has no unit.
        guidance: How the needle was guided, when recorded.
        assessed_after: When relief was measured after the injection (Kiral
            2024 measured at 1 h), when recorded.

    Example:
        >>> b = BlockResult(branches={"superior"}, relief_percent=80, relief_duration="2 weeks")
        >>> b.relief_percent, str(b.relief_duration)
        (80.0, '2.0 week')
    """

    branches: Annotated[BranchSet, Field(min_length=1)]
    relief_percent: ReliefPercent
    relief_duration: Duration | None = None
    guidance: Guidance | None = None
    assessed_after: Duration | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            branches: Iterable[NerveBranch | str],
            relief_percent: float,
            relief_duration: QuantityInput | None = None,
            guidance: Guidance | str | None = None,
            assessed_after: QuantityInput | None = None,
        ) -> None:
            """Validate a block result (see the class docstring)."""


class NeuroExam(FrozenModel):
    """The neurological examination; any ``True`` is a red flag.

    Attributes:
        motor_weakness: Weakness on examination (the cluneal nerves are purely sensory).
        dermatomal_sensory_loss: Sensory loss in a dermatomal pattern.
        straight_leg_raise: A positive straight-leg raise.
        bladder_bowel_dysfunction: Bladder or bowel dysfunction (urgent).

    Example:
        >>> NeuroExam(motor_weakness=False).straight_leg_raise is None
        True
    """

    motor_weakness: Flag | None = None
    dermatomal_sensory_loss: Flag | None = None
    straight_leg_raise: Flag | None = None
    bladder_bowel_dysfunction: Flag | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            motor_weakness: bool | None = None,
            dermatomal_sensory_loss: bool | None = None,
            straight_leg_raise: bool | None = None,
            bladder_bowel_dysfunction: bool | None = None,
        ) -> None:
            """Validate a neurological examination (see the class docstring)."""


class Findings(FrozenModel):
    """What the clinician has found so far; ``None`` means not examined yet.

    Attributes:
        pain: The pain pattern (criterion 1).
        tender_points: Tender points found; ``()`` means examined and none found.
        block: The diagnostic block (criterion 3); ``None`` when not yet done.
        neuro: The neurological examination (red flags).

    Example:
        >>> f = Findings.model_validate_json('{"tender_points": []}')
        >>> f.tender_points, f.pain
        ((), None)
    """

    pain: PainPattern | None = None
    tender_points: tuple[TenderPoint, ...] | None = None
    block: BlockResult | None = None
    neuro: NeuroExam | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            pain: PainPattern | Mapping[str, object] | None = None,
            tender_points: Iterable[TenderPoint | Mapping[str, object]] | None = None,
            block: BlockResult | Mapping[str, object] | None = None,
            neuro: NeuroExam | Mapping[str, object] | None = None,
        ) -> None:
            """Validate findings (see the class docstring)."""
