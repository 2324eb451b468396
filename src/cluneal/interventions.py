"""Interventions: the procedures for cluneal neuralgia and the evidence behind each.

Each procedure is a frozen model; together they form :data:`Procedure`, a
discriminated union on the field ``kind`` whose values are the
:class:`Intervention` values, so a JSON record validates to the right class.
Each procedure carries the evidence for its kind (the published series), framed
as the sources report it, from ``knowledge/interventions.toml``.

Example:
    >>> from cluneal.interventions import parse_procedure
    >>> rfa = parse_procedure({
    ...     "kind": "radiofrequency_ablation", "technique": "conventional",
    ...     "guidance": "fluoroscopy", "target_branches": ["superior"],
    ... })
    >>> type(rfa).__name__, rfa.motor_testing
    ('RadiofrequencyAblation', True)
    >>> rfa.evidence.level.value
    'case_series'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final, Literal, TypeAlias

from pydantic import Field, TypeAdapter

from cluneal._base import FrozenModel
from cluneal.knowledge.base import resolved
from cluneal.knowledge.interventions import InterventionEvidence
from cluneal.vocabulary import (
    BranchSet,
    Corticosteroid,
    Flag,
    Guidance,
    Intervention,
    LocalAnaesthetic,
    NerveBranch,
    PnsMode,
    RadiofrequencyTechnique,
    Side,
    SurgicalTechnique,
)

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase

__all__ = [
    "Corticosteroid",
    "Guidance",
    "Intervention",
    "InterventionEvidence",
    "LocalAnaesthetic",
    "NerveBlock",
    "NerveBranch",
    "PeripheralNerveStimulation",
    "PnsMode",
    "Procedure",
    "RadiofrequencyAblation",
    "RadiofrequencyTechnique",
    "Side",
    "SurgicalDecompression",
    "SurgicalTechnique",
    "evidence_for",
    "parse_procedure",
]

_INTERVENTION_ADAPTER: Final = TypeAdapter(Intervention)


def evidence_for(
    intervention: Intervention | str, *, knowledge: KnowledgeBase | None = None
) -> InterventionEvidence:
    """Return the evidence behind an intervention.

    Args:
        intervention: An :class:`Intervention` or its value.
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        Summary, key figures, caveats, evidence level and citations.

    Raises:
        ValidationError: ``intervention`` is not an intervention.

    References:
        kuniya_2014, scn_rfa_series, mas_dalessandro_2025, mcn_surgery_2023, gill_2022

    Example:
        >>> evidence_for(Intervention.PERIPHERAL_NERVE_STIMULATION).key_figures[0][:40]
        "Mas D'Alessandro 2025 (temporary SPRINT "
    """
    table = resolved(knowledge).interventions
    return table[_INTERVENTION_ADAPTER.validate_python(intervention)]


class _ProcedureBase(FrozenModel):
    """What every procedure has: target branches and laterality."""

    target_branches: Annotated[BranchSet, Field(min_length=1)]
    side: Side | None = None

    @property
    def intervention(self) -> Intervention:
        """The :class:`Intervention` this procedure is."""
        return Intervention(getattr(self, "kind"))  # noqa: B009 - every subclass defines kind

    @property
    def evidence(self) -> InterventionEvidence:
        """The evidence for this kind of procedure (see :func:`evidence_for`)."""
        return evidence_for(self.intervention)


class NerveBlock(_ProcedureBase):
    """A cluneal nerve block: local anaesthetic, with or without a corticosteroid.

    Attributes:
        kind: Always ``"nerve_block"``.
        guidance: Landmark, ultrasound, fluoroscopy or CT.
        local_anaesthetic: The local anaesthetic.
        corticosteroid: The corticosteroid added, or ``None``.
        target_branches: The branch or branches blocked.
        side: Laterality, when recorded.

    Example:
        >>> b = NerveBlock(guidance="ultrasound", local_anaesthetic="lidocaine",
        ...                corticosteroid="dexamethasone", target_branches={"superior"})
        >>> b.intervention, b.evidence.citations[0]
        (<Intervention.NERVE_BLOCK: 'nerve_block'>, 'kuniya_2014')
    """

    kind: Literal["nerve_block"] = "nerve_block"
    guidance: Guidance
    local_anaesthetic: LocalAnaesthetic
    corticosteroid: Corticosteroid | None = None


class RadiofrequencyAblation(_ProcedureBase):
    """Radiofrequency ablation of a cluneal nerve branch.

    Attributes:
        kind: Always ``"radiofrequency_ablation"``.
        technique: Conventional, pulsed or cooled.
        guidance: Landmark, ultrasound, fluoroscopy or CT.
        sensory_stimulation_confirmation: Placement confirmed by sensory stimulation.
        motor_testing: Motor testing done to exclude a distal motor response.
        target_branches: The branch or branches treated.
        side: Laterality, when recorded.

    Example:
        >>> r = RadiofrequencyAblation(technique="cooled", guidance="fluoroscopy",
        ...                            target_branches={"middle"})
        >>> r.sensory_stimulation_confirmation, r.motor_testing
        (True, True)
    """

    kind: Literal["radiofrequency_ablation"] = "radiofrequency_ablation"
    technique: RadiofrequencyTechnique
    guidance: Guidance
    # Both checks were part of the technique in the SCN RFA series (scn_rfa_series).
    sensory_stimulation_confirmation: Flag = True
    motor_testing: Flag = True


class PeripheralNerveStimulation(_ProcedureBase):
    """Peripheral nerve stimulation of a cluneal nerve branch.

    Attributes:
        kind: Always ``"peripheral_nerve_stimulation"``.
        mode: Temporary percutaneous lead or implanted system.
        guidance: Landmark, ultrasound, fluoroscopy or CT.
        target_branches: The branch or branches stimulated.
        side: Laterality, when recorded.

    Example:
        >>> p = PeripheralNerveStimulation(mode="temporary_percutaneous",
        ...                                guidance="ultrasound", target_branches={"superior"})
        >>> p.evidence.level.value
        'case_series'
    """

    kind: Literal["peripheral_nerve_stimulation"] = "peripheral_nerve_stimulation"
    mode: PnsMode
    guidance: Guidance


class SurgicalDecompression(_ProcedureBase):
    """Open surgery on a cluneal nerve branch: neurolysis or neurectomy.

    Attributes:
        kind: Always ``"surgical_decompression"``.
        technique: Neurolysis or neurectomy.
        target_branches: The branch or branches operated on.
        side: Laterality, when recorded.

    Example:
        >>> s = SurgicalDecompression(technique="neurolysis", target_branches={"middle"})
        >>> "18.8%" in s.evidence.key_figures[-1]
        True
    """

    kind: Literal["surgical_decompression"] = "surgical_decompression"
    technique: SurgicalTechnique


Procedure: TypeAlias = Annotated[
    NerveBlock | RadiofrequencyAblation | PeripheralNerveStimulation | SurgicalDecompression,
    Field(discriminator="kind"),
]
"""Any procedure, told apart by its ``kind`` (an :class:`Intervention` value)."""

_PROCEDURE_ADAPTER: Final[TypeAdapter[Procedure]] = TypeAdapter(Procedure)


def parse_procedure(data: object) -> Procedure:
    """Validate a procedure record into the right procedure model.

    Args:
        data: A mapping with a ``kind`` key (or a procedure model), or JSON
            text (``str`` or ``bytes``) of one.

    Returns:
        A :class:`NerveBlock`, :class:`RadiofrequencyAblation`,
        :class:`PeripheralNerveStimulation` or :class:`SurgicalDecompression`.

    Raises:
        ValidationError: Missing or unknown ``kind``, or invalid fields; the
            error names the field.

    Example:
        >>> parse_procedure('{"kind": "surgical_decompression", "technique": "neurectomy",'
        ...                 ' "target_branches": ["superior"]}').technique
        <SurgicalTechnique.NEURECTOMY: 'neurectomy'>
        >>> parse_procedure({"kind": "acupuncture"})
        Traceback (most recent call last):
        pydantic_core._pydantic_core.ValidationError: 1 validation error for ...
    """
    if isinstance(data, str | bytes | bytearray):
        return _PROCEDURE_ADAPTER.validate_json(data)
    return _PROCEDURE_ADAPTER.validate_python(data)
