"""cluneal: a typed, unit-aware, explainable model of cluneal neuralgia care.

cluneal supports clinical decisions; it does not make them. Every output says
which rules fired and which evidence backs them, so that a clinician can audit
it line by line.

Example:
    >>> import cluneal
    >>> p = cluneal.Patient(age=40, sex="male", weight="72 kg", serum_creatinine="1.0 mg/dL")
    >>> cluneal.creatinine_clearance(p)
    <Quantity(100.0, 'milliliter / minute')>
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

from cluneal.alerts import SafetyAlert, Severity
from cluneal.drug import Drug
from cluneal.errors import (
    ClunealError,
    ContraindicatedError,
    InsufficientDataError,
    InvalidQuantityError,
    KnowledgeBaseError,
    MissingExtraError,
    UnknownTermError,
)
from cluneal.evidence import Citation, EvidenceLevel, SourceMark, citation
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.patient import Condition, HepaticImpairment, MedicationClass, Patient, Sex
from cluneal.renal import (
    CreatinineClearanceEstimate,
    GfrCategory,
    RenalAssessment,
    RenalBand,
    WeightBasis,
    assess_renal_function,
    creatinine_clearance,
    egfr,
    egfr_ckd_epi_2021,
    estimate_creatinine_clearance,
    gfr_category,
    ideal_body_weight,
    renal_band,
)
from cluneal.units import Q_, ureg

try:
    __version__ = version("cluneal")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "KNOWLEDGE_BASE_VERSION",
    "Q_",
    "Citation",
    "ClunealError",
    "Condition",
    "ContraindicatedError",
    "CreatinineClearanceEstimate",
    "Drug",
    "EvidenceLevel",
    "GfrCategory",
    "HepaticImpairment",
    "InsufficientDataError",
    "InvalidQuantityError",
    "KnowledgeBaseError",
    "MedicationClass",
    "MissingExtraError",
    "Patient",
    "RenalAssessment",
    "RenalBand",
    "SafetyAlert",
    "Severity",
    "Sex",
    "SourceMark",
    "UnknownTermError",
    "WeightBasis",
    "__version__",
    "assess_renal_function",
    "citation",
    "creatinine_clearance",
    "egfr",
    "egfr_ckd_epi_2021",
    "estimate_creatinine_clearance",
    "gfr_category",
    "ideal_body_weight",
    "renal_band",
    "ureg",
]
