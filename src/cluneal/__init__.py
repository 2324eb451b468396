"""cluneal: a typed, unit-aware, explainable model of cluneal neuralgia care.

cluneal supports clinical decisions; it does not make them. Every output says
which rules fired and which evidence backs them, so that a clinician can audit
it line by line.

The public names below load on first use (PEP 562), so ``import cluneal`` stays
light: a service that needs only the renal equations never builds the drug
knowledge base, and no optional extra is ever imported here.

Example:
    >>> import cluneal
    >>> p = cluneal.Patient(age=40, sex="male", weight="72 kg", serum_creatinine="1.0 mg/dL")
    >>> cluneal.creatinine_clearance(p)
    <Quantity(100.0, 'milliliter / minute')>
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cluneal.alerts import (
        SafetyAlert,
    )
    from cluneal.case import (
        Case,
    )
    from cluneal.complementary import (
        ComplementaryMeasure,
        complementary_care,
    )
    from cluneal.diagnosis import (
        Criterion,
        DiagnosticAssessment,
        RedFlag,
        assess_diagnosis,
    )
    from cluneal.errors import (
        ClunealError,
        ContraindicatedError,
        ExcludedDrugError,
        InsufficientDataError,
        InvalidArgumentError,
        InvalidQuantityError,
        KnowledgeBaseError,
        LocalProtocolError,
        MissingExtraError,
        UnknownTermError,
    )
    from cluneal.evidence import (
        Citation,
        EvidenceLevel,
        SourceMark,
        citation,
    )
    from cluneal.findings import (
        BlockResult,
        Findings,
        NeuroExam,
        PainPattern,
        TenderPoint,
    )
    from cluneal.history import (
        CareHistory,
        InterventionOutcome,
    )
    from cluneal.interventions import (
        InterventionEvidence,
        NerveBlock,
        PeripheralNerveStimulation,
        Procedure,
        RadiofrequencyAblation,
        SurgicalDecompression,
        evidence_for,
        parse_procedure,
    )
    from cluneal.knowledge import (
        KNOWLEDGE_BASE_VERSION,
    )
    from cluneal.knowledge.base import (
        KnowledgeBase,
        knowledge_base,
    )
    from cluneal.pathway import (
        Alternative,
        Recommendation,
        next_step,
    )
    from cluneal.pathway_diagram import (
        pathway_dot,
        pathway_mermaid,
        pathway_svg,
    )
    from cluneal.patient import (
        Patient,
    )
    from cluneal.plan import (
        SAFETY_STATEMENT,
        CarePlan,
        ChoiceStatus,
        DrugChoice,
        care_plan,
    )
    from cluneal.protocol import (
        LocalProtocol,
    )
    from cluneal.renal import (
        CreatinineClearanceEstimate,
        RenalAssessment,
        assess_renal_function,
        creatinine_clearance,
        egfr,
        egfr_ckd_epi_2021,
        estimate_creatinine_clearance,
        gfr_category,
        ideal_body_weight,
        renal_band,
    )
    from cluneal.safety import (
        check_regimen,
    )
    from cluneal.simulation import (
        Simulation,
        simulate,
    )
    from cluneal.titration import (
        Adjustment,
        SupplementalInstruction,
        TitrationSchedule,
        TitrationStep,
        titration_schedule,
    )
    from cluneal.units import (
        Q_,
        ureg,
    )
    from cluneal.vocabulary import (
        Condition,
        CriterionId,
        DiagnosticClass,
        Drug,
        GfrCategory,
        Guidance,
        HepaticImpairment,
        Intervention,
        MedicationClass,
        NerveBranch,
        OutcomeClass,
        PathwayStep,
        RedFlagKind,
        RenalBand,
        Severity,
        Sex,
        Side,
        TenderPointSite,
        WeightBasis,
    )

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "SafetyAlert": "cluneal.alerts",
    "Severity": "cluneal.vocabulary",
    "Drug": "cluneal.vocabulary",
    "ClunealError": "cluneal.errors",
    "ContraindicatedError": "cluneal.errors",
    "ExcludedDrugError": "cluneal.errors",
    "LocalProtocolError": "cluneal.errors",
    "InsufficientDataError": "cluneal.errors",
    "InvalidArgumentError": "cluneal.errors",
    "InvalidQuantityError": "cluneal.errors",
    "KnowledgeBaseError": "cluneal.errors",
    "MissingExtraError": "cluneal.errors",
    "UnknownTermError": "cluneal.errors",
    "Citation": "cluneal.evidence",
    "EvidenceLevel": "cluneal.evidence",
    "SourceMark": "cluneal.evidence",
    "citation": "cluneal.evidence",
    "KNOWLEDGE_BASE_VERSION": "cluneal.knowledge",
    "KnowledgeBase": "cluneal.knowledge.base",
    "knowledge_base": "cluneal.knowledge.base",
    "LocalProtocol": "cluneal.protocol",
    "Condition": "cluneal.vocabulary",
    "HepaticImpairment": "cluneal.vocabulary",
    "MedicationClass": "cluneal.vocabulary",
    "Patient": "cluneal.patient",
    "Sex": "cluneal.vocabulary",
    "CreatinineClearanceEstimate": "cluneal.renal",
    "GfrCategory": "cluneal.vocabulary",
    "RenalAssessment": "cluneal.renal",
    "RenalBand": "cluneal.vocabulary",
    "WeightBasis": "cluneal.vocabulary",
    "assess_renal_function": "cluneal.renal",
    "creatinine_clearance": "cluneal.renal",
    "egfr": "cluneal.renal",
    "egfr_ckd_epi_2021": "cluneal.renal",
    "estimate_creatinine_clearance": "cluneal.renal",
    "gfr_category": "cluneal.renal",
    "ideal_body_weight": "cluneal.renal",
    "renal_band": "cluneal.renal",
    "Q_": "cluneal.units",
    "ureg": "cluneal.units",
    "BlockResult": "cluneal.findings",
    "Criterion": "cluneal.diagnosis",
    "CriterionId": "cluneal.vocabulary",
    "DiagnosticAssessment": "cluneal.diagnosis",
    "DiagnosticClass": "cluneal.vocabulary",
    "Findings": "cluneal.findings",
    "Guidance": "cluneal.vocabulary",
    "NerveBranch": "cluneal.vocabulary",
    "NeuroExam": "cluneal.findings",
    "PainPattern": "cluneal.findings",
    "RedFlag": "cluneal.diagnosis",
    "RedFlagKind": "cluneal.vocabulary",
    "Side": "cluneal.vocabulary",
    "TenderPoint": "cluneal.findings",
    "TenderPointSite": "cluneal.vocabulary",
    "assess_diagnosis": "cluneal.diagnosis",
    "Intervention": "cluneal.vocabulary",
    "InterventionEvidence": "cluneal.interventions",
    "NerveBlock": "cluneal.interventions",
    "PeripheralNerveStimulation": "cluneal.interventions",
    "Procedure": "cluneal.interventions",
    "RadiofrequencyAblation": "cluneal.interventions",
    "SurgicalDecompression": "cluneal.interventions",
    "evidence_for": "cluneal.interventions",
    "parse_procedure": "cluneal.interventions",
    "Alternative": "cluneal.pathway",
    "CareHistory": "cluneal.history",
    "InterventionOutcome": "cluneal.history",
    "OutcomeClass": "cluneal.vocabulary",
    "PathwayStep": "cluneal.vocabulary",
    "Recommendation": "cluneal.pathway",
    "next_step": "cluneal.pathway",
    "pathway_dot": "cluneal.pathway_diagram",
    "pathway_mermaid": "cluneal.pathway_diagram",
    "pathway_svg": "cluneal.pathway_diagram",
    "Adjustment": "cluneal.titration",
    "SupplementalInstruction": "cluneal.titration",
    "TitrationSchedule": "cluneal.titration",
    "TitrationStep": "cluneal.titration",
    "titration_schedule": "cluneal.titration",
    "check_regimen": "cluneal.safety",
    "CarePlan": "cluneal.plan",
    "ChoiceStatus": "cluneal.plan",
    "DrugChoice": "cluneal.plan",
    "SAFETY_STATEMENT": "cluneal.plan",
    "care_plan": "cluneal.plan",
    "ComplementaryMeasure": "cluneal.complementary",
    "complementary_care": "cluneal.complementary",
    "Case": "cluneal.case",
    "Simulation": "cluneal.simulation",
    "simulate": "cluneal.simulation",
}

__all__ = [
    "KNOWLEDGE_BASE_VERSION",
    "Q_",
    "SAFETY_STATEMENT",
    "Adjustment",
    "Alternative",
    "BlockResult",
    "CareHistory",
    "CarePlan",
    "Case",
    "ChoiceStatus",
    "Citation",
    "ClunealError",
    "ComplementaryMeasure",
    "Condition",
    "ContraindicatedError",
    "CreatinineClearanceEstimate",
    "Criterion",
    "CriterionId",
    "DiagnosticAssessment",
    "DiagnosticClass",
    "Drug",
    "DrugChoice",
    "EvidenceLevel",
    "ExcludedDrugError",
    "Findings",
    "GfrCategory",
    "Guidance",
    "HepaticImpairment",
    "InsufficientDataError",
    "Intervention",
    "InterventionEvidence",
    "InterventionOutcome",
    "InvalidArgumentError",
    "InvalidQuantityError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "LocalProtocol",
    "LocalProtocolError",
    "MedicationClass",
    "MissingExtraError",
    "NerveBlock",
    "NerveBranch",
    "NeuroExam",
    "OutcomeClass",
    "PainPattern",
    "PathwayStep",
    "Patient",
    "PeripheralNerveStimulation",
    "Procedure",
    "RadiofrequencyAblation",
    "Recommendation",
    "RedFlag",
    "RedFlagKind",
    "RenalAssessment",
    "RenalBand",
    "SafetyAlert",
    "Severity",
    "Sex",
    "Side",
    "Simulation",
    "SourceMark",
    "SupplementalInstruction",
    "SurgicalDecompression",
    "TenderPoint",
    "TenderPointSite",
    "TitrationSchedule",
    "TitrationStep",
    "UnknownTermError",
    "WeightBasis",
    "__version__",
    "assess_diagnosis",
    "assess_renal_function",
    "care_plan",
    "check_regimen",
    "citation",
    "complementary_care",
    "creatinine_clearance",
    "egfr",
    "egfr_ckd_epi_2021",
    "estimate_creatinine_clearance",
    "evidence_for",
    "gfr_category",
    "ideal_body_weight",
    "knowledge_base",
    "next_step",
    "parse_procedure",
    "pathway_dot",
    "pathway_mermaid",
    "pathway_svg",
    "renal_band",
    "simulate",
    "titration_schedule",
    "ureg",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("cluneal")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    if name == "cohort":  # the optional extra's module, imported when first used
        return importlib.import_module("cluneal.cohort")
    module_name = _EXPORTS.get(name)
    if module_name is None:
        msg = f"module 'cluneal' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module_name), name)
    # Bound once: later reads are plain attribute lookups (``cluneal.titration_schedule``
    # in a loop would otherwise import-resolve on every call).
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
