"""The shared vocabulary: the closed sets of terms and the field types every layer uses.

Each vocabulary is a :class:`~cluneal._vocabulary.Term` (a guarded
``StrEnum``), serialised by its value and shown to users. They sit at the
bottom of the package, next to the errors and the units, so that the inputs,
the knowledge base's loaders, the rules and the presentation all speak the
same words without importing one another. The modules that used to define
them (``diagnosis``, ``patient``, ``drug``, ``alerts``, ``renal``,
``interventions``, ``pathway``) still export them under the same names.

Example:
    >>> from cluneal.vocabulary import Drug, NerveBranch
    >>> Drug("gabapentin") is Drug.GABAPENTIN, NerveBranch("middle").nerve
    (True, 'middle cluneal nerve')
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, PlainSerializer, Strict

from cluneal._vocabulary import Term

__all__ = [
    "BranchSet",
    "Condition",
    "Corticosteroid",
    "CriterionId",
    "DiagnosticClass",
    "Drug",
    "Flag",
    "GfrCategory",
    "Guidance",
    "HepaticImpairment",
    "Intervention",
    "Kind",
    "LocalAnaesthetic",
    "MedicationClass",
    "NerveBranch",
    "OutcomeClass",
    "PathwayStep",
    "PnsMode",
    "RadiofrequencyTechnique",
    "RedFlagKind",
    "ReliefPercent",
    "RenalBand",
    "Severity",
    "Sex",
    "Side",
    "SurgicalTechnique",
    "TenderPointSite",
    "Term",
    "WeightBasis",
]


# --- The findings and the diagnosis ---------------------------------------------------


class NerveBranch(Term):
    """The cluneal nerve branches the package models.

    Example:
        >>> NerveBranch("middle").nerve
        'middle cluneal nerve'
    """

    SUPERIOR = "superior"
    """Superior cluneal nerve (SCN): posterior iliac crest (landmark ``dx.branch.superior``)."""
    MIDDLE = "middle"
    """Middle cluneal nerve (MCN): caudal to the PSIS, on the LPSL (``dx.branch.middle``)."""

    @property
    def nerve(self) -> str:
        """The nerve's name in words."""
        return f"{self.value} cluneal nerve"


class TenderPointSite(Term):
    """Where a tender point was found (criterion 2 of decision_diagnostic_classification).

    The distances are the knowledge base's landmarks (``diagnosis.toml``).

    Example:
        >>> TenderPointSite.CAUDAL_TO_PSIS.value
        'caudal_to_psis'
        >>> from cluneal import knowledge_base
        >>> knowledge_base().diagnosis.landmark_for_site(TenderPointSite.ILIAC_CREST).site_text
        'on the posterior iliac crest about 70 mm from the midline'
    """

    ILIAC_CREST = "iliac_crest"
    """Posterior iliac crest: the superior branch (landmark ``dx.branch.superior``)."""
    CAUDAL_TO_PSIS = "caudal_to_psis"
    """Caudal to the PSIS, on the LPSL: the middle branch (landmark ``dx.branch.middle``)."""
    OTHER = "other"
    """Anywhere else: not a cluneal landmark."""


class Side(Term):
    """Laterality of a finding or a procedure."""

    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"


class Guidance(Term):
    """How a needle was guided (all four occur in the published series)."""

    LANDMARK = "landmark"
    """Palpation only (Kuniya 2014)."""
    ULTRASOUND = "ultrasound"
    """Ultrasound (Kiral 2024)."""
    FLUOROSCOPY = "fluoroscopy"
    """Fluoroscopy (Gautam 2022; the RFA series)."""
    CT = "ct"
    """Computed tomography."""


class CriterionId(Term):
    """The three diagnostic criteria, in order."""

    PAIN_PATTERN = "pain_pattern"
    TENDER_POINT = "tender_point"
    BLOCK_RESPONSE = "block_response"


class RedFlagKind(Term):
    """Findings that point away from cluneal neuralgia (one per :class:`NeuroExam` field)."""

    MOTOR_WEAKNESS = "motor_weakness"
    DERMATOMAL_SENSORY_LOSS = "dermatomal_sensory_loss"
    STRAIGHT_LEG_RAISE = "straight_leg_raise"
    BLADDER_BOWEL_DYSFUNCTION = "bladder_bowel_dysfunction"


class DiagnosticClass(Term):
    """How likely cluneal neuralgia is (decision_diagnostic_classification).

    Members compare by :attr:`rank`, not by text.

    Example:
        >>> DiagnosticClass.PROBABLE.rank > DiagnosticClass.POSSIBLE.rank
        True
    """

    CONFIRMED = "confirmed"
    """All three criteria met and no red flag."""
    PROBABLE = "probable"
    """Criteria 1 and 2 met and no block yet, or all three met with a red flag."""
    POSSIBLE = "possible"
    """No criterion failed, but neither of the above (this includes nothing known)."""
    UNLIKELY = "unlikely"
    """Any criterion failed."""

    @property
    def rank(self) -> int:
        """0 for unlikely up to 3 for confirmed: higher is more certain."""
        return _CLASS_ORDER.index(self)


_CLASS_ORDER: Final = (
    DiagnosticClass.UNLIKELY,
    DiagnosticClass.POSSIBLE,
    DiagnosticClass.PROBABLE,
    DiagnosticClass.CONFIRMED,
)


# --- The patient ----------------------------------------------------------------------


class Sex(Term):
    """Sex as used by the renal equations (Cockcroft-Gault, CKD-EPI 2021)."""

    FEMALE = "female"
    MALE = "male"


class HepaticImpairment(Term):
    """Degree of hepatic impairment (Child-Pugh A/B/C correspond to mild/moderate/severe)."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Condition(Term):
    """Conditions the contraindication and alert rules of the knowledge base look for.

    Example:
        >>> Condition("falls_history") is Condition.FALLS_HISTORY
        True
    """

    SEIZURE_DISORDER = "seizure_disorder"
    RECENT_MYOCARDIAL_INFARCTION = "recent_myocardial_infarction"
    CARDIAC_CONDUCTION_DISEASE = "cardiac_conduction_disease"
    CARDIAC_ARRHYTHMIA = "cardiac_arrhythmia"
    CARDIAC_DISEASE = "cardiac_disease"
    NARROW_ANGLE_GLAUCOMA = "narrow_angle_glaucoma"
    URINARY_RETENTION = "urinary_retention"
    PREGNANCY = "pregnancy"
    OPIOID_USE_DISORDER = "opioid_use_disorder"
    RESPIRATORY_DEPRESSION = "respiratory_depression"
    COPD = "copd"
    BONE_MARROW_DEPRESSION = "bone_marrow_depression"
    TRICYCLIC_HYPERSENSITIVITY = "tricyclic_hypersensitivity"
    FALLS_HISTORY = "falls_history"
    CIRRHOSIS = "cirrhosis"
    ACUTE_HEPATITIS = "acute_hepatitis"
    DEMENTIA = "dementia"
    DELIRIUM = "delirium"
    HYPONATRAEMIA = "hyponatraemia"

    @property
    def is_cardiac(self) -> bool:
        """Whether the condition counts as cardiac disease for the nortriptyline cap."""
        return self in _CARDIAC


_CARDIAC = frozenset(
    {
        Condition.RECENT_MYOCARDIAL_INFARCTION,
        Condition.CARDIAC_CONDUCTION_DISEASE,
        Condition.CARDIAC_ARRHYTHMIA,
        Condition.CARDIAC_DISEASE,
    }
)


class MedicationClass(Term):
    """Co-medication classes the safety rules use.

    Example:
        >>> from cluneal.patient import classes_of
        >>> classes_of("phenelzine")
        frozenset({<MedicationClass.MAOI: 'maoi'>})
    """

    MAOI = "maoi"
    SSRI = "ssri"
    SNRI = "snri"
    TCA = "tca"
    OPIOID = "opioid"
    BENZODIAZEPINE = "benzodiazepine"
    Z_DRUG = "z_drug"
    ANTIPSYCHOTIC = "antipsychotic"
    ANTIEPILEPTIC = "antiepileptic"
    GABAPENTINOID = "gabapentinoid"
    MUSCLE_RELAXANT = "muscle_relaxant"
    ANTICOAGULANT = "anticoagulant"
    ANTIPLATELET = "antiplatelet"
    OPIOID_ANTAGONIST = "opioid_antagonist"
    NEFAZODONE = "nefazodone"
    NNRTI_CYP3A4 = "nnrti_cyp3a4"

    @property
    def is_cns_active(self) -> bool:
        """Whether the class counts towards Beers 2023's "three or more CNS-active drugs"."""
        return self in _CNS_ACTIVE


_CNS_ACTIVE = frozenset(
    {
        MedicationClass.SSRI,
        MedicationClass.SNRI,
        MedicationClass.TCA,
        MedicationClass.OPIOID,
        MedicationClass.BENZODIAZEPINE,
        MedicationClass.Z_DRUG,
        MedicationClass.ANTIPSYCHOTIC,
        MedicationClass.ANTIEPILEPTIC,
        MedicationClass.GABAPENTINOID,
        MedicationClass.MUSCLE_RELAXANT,
    }
)


# --- Drugs and alerts -----------------------------------------------------------------


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


class Severity(Term):
    """How serious an alert is, most serious first.

    Order: ``CONTRAINDICATED`` > ``MAJOR`` > ``MODERATE`` > ``INFO``.
    Compare with :attr:`rank`.

    Example:
        >>> Severity.MAJOR.rank > Severity.MODERATE.rank
        True
    """

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    INFO = "info"

    @property
    def rank(self) -> int:
        """A number that orders severities: higher is more serious."""
        return _RANK[self]


_RANK = {Severity.CONTRAINDICATED: 3, Severity.MAJOR: 2, Severity.MODERATE: 1, Severity.INFO: 0}


# --- Renal function -------------------------------------------------------------------


class WeightBasis(Term):
    """Which body weight Cockcroft-Gault uses (decision_obesity_weight_basis).

    Passing none (``weight_basis=None``) asks for the package default: actual
    weight, or adjusted weight when height is known and actual weight is above
    the obesity rule's share of ideal (``renal.weight_basis.obesity``). The
    constants are the knowledge base's (``renal.toml``).

    Example:
        >>> from cluneal import knowledge_base
        >>> knowledge_base().renal.obesity.text[:48]
        'Actual weight above 130% of ideal body weight: a'
    """

    ACTUAL = "actual"
    """Total body weight, as in the original paper."""
    IDEAL = "ideal"
    """Devine ideal body weight (``renal.ibw.devine``; needs a height of at least its minimum)."""
    ADJUSTED = "adjusted"
    """IBW plus a share of the excess weight (``renal.weight_basis.obesity``), used in obesity."""


class RenalBand(Term):
    """The renal dosing band, from Cockcroft-Gault CrCl (decision_renal_band_boundaries).

    The bands' CrCl bounds are the knowledge base's (``renal.band.*`` in ``renal.toml``).

    Example:
        >>> from cluneal import Q_, knowledge_base
        >>> from cluneal.renal import renal_band
        >>> renal_band(Q_(30, "mL/min"))
        <RenalBand.SEVERE: 'severe'>
        >>> knowledge_base().renal.bands[1].text
        '30 < CrCl < 60 mL/min (exactly 30 counts as the next band)'
    """

    NORMAL = "normal"
    """CrCl from the normal band's lower bound up (``renal.band.normal``)."""
    MODERATE = "moderate"
    """CrCl between the moderate and the normal bands' lower bounds (``renal.band.moderate``)."""
    SEVERE = "severe"
    """CrCl between the severe and the moderate bands' lower bounds (``renal.band.severe``)."""
    END_STAGE = "end_stage"
    """CrCl at or below the severe band's lower bound, haemodialysis, or renal function unknown."""

    @property
    def severity(self) -> int:
        """0 for normal up to 3 for end-stage: higher is more restrictive."""
        return _BAND_ORDER.index(self)


_BAND_ORDER: Final = (RenalBand.NORMAL, RenalBand.MODERATE, RenalBand.SEVERE, RenalBand.END_STAGE)


class GfrCategory(Term):
    """KDIGO GFR categories (unchanged in 2021), from eGFR in mL/min/1.73 m²."""

    G1 = "G1"
    G2 = "G2"
    G3A = "G3a"
    G3B = "G3b"
    G4 = "G4"
    G5 = "G5"
    G5D = "G5D"
    """Kidney failure treated by dialysis (KDIGO): no eGFR or CrCl is derived."""


# --- Interventions and the pathway ----------------------------------------------------


class Intervention(Term):
    """The interventional treatments of cluneal neuralgia.

    Example:
        >>> from cluneal.interventions import evidence_for
        >>> evidence_for(Intervention("nerve_block")).level.label
        'prospective cohort'
    """

    NERVE_BLOCK = "nerve_block"
    RADIOFREQUENCY_ABLATION = "radiofrequency_ablation"
    PERIPHERAL_NERVE_STIMULATION = "peripheral_nerve_stimulation"
    SURGICAL_DECOMPRESSION = "surgical_decompression"


class LocalAnaesthetic(Term):
    """Local anaesthetics used for cluneal nerve blocks."""

    LIDOCAINE = "lidocaine"
    BUPIVACAINE = "bupivacaine"
    LEVOBUPIVACAINE = "levobupivacaine"
    ROPIVACAINE = "ropivacaine"
    MEPIVACAINE = "mepivacaine"


class Corticosteroid(Term):
    """Corticosteroids sometimes added to a block's injectate."""

    DEXAMETHASONE = "dexamethasone"
    TRIAMCINOLONE = "triamcinolone"
    METHYLPREDNISOLONE = "methylprednisolone"
    BETAMETHASONE = "betamethasone"


class RadiofrequencyTechnique(Term):
    """Radiofrequency techniques reported for the cluneal nerves."""

    CONVENTIONAL = "conventional"
    """Continuous thermal RF (the SCN series; MCN thermocoagulation)."""
    PULSED = "pulsed"
    """Pulsed RF (non-ablative)."""
    COOLED = "cooled"
    """Cooled RF (first MCN case: Zheng & Lamer 2019)."""


class PnsMode(Term):
    """How a peripheral nerve stimulator is placed."""

    TEMPORARY_PERCUTANEOUS = "temporary_percutaneous"
    """A temporary percutaneous lead (the SPRINT series)."""
    IMPLANTED = "implanted"
    """A permanently implanted system."""


class SurgicalTechnique(Term):
    """Open surgical options."""

    NEUROLYSIS = "neurolysis"
    """Decompression, keeping the nerve."""
    NEURECTOMY = "neurectomy"
    """Division of the nerve."""


class PathwayStep(Term):
    """A step of the treatment pathway (decision_pathway_next_step)."""

    INITIAL_EVALUATION = "initial_evaluation"
    DIAGNOSTIC_BLOCK = "diagnostic_block"
    REASSESS_DIAGNOSIS = "reassess_diagnosis"
    MAINTAIN = "maintain"
    RADIOFREQUENCY_ABLATION = "radiofrequency_ablation"
    PERIPHERAL_NERVE_STIMULATION = "peripheral_nerve_stimulation"
    SURGICAL_DECOMPRESSION = "surgical_decompression"

    @property
    def label(self) -> str:
        """The step's name as a clinician reads it."""
        return self.value.replace("_", " ").capitalize()


class OutcomeClass(Term):
    """How a treatment went, judged against the thresholds."""

    LASTING = "lasting"
    """Relief at or above the threshold, lasting at least the lasting-relief duration."""
    TEMPORARY = "temporary"
    """Relief at or above the threshold, but shorter than the lasting-relief duration."""
    DURATION_UNKNOWN = "duration_unknown"
    """Relief at or above the threshold; how long it lasts is not known yet."""
    FAILED = "failed"
    """Relief below the threshold."""


# --- Quantities -----------------------------------------------------------------------


class Kind(Term):
    """The kinds of quantity cluneal accepts, each with its own units and range."""

    AGE = "age"
    BODY_WEIGHT = "body_weight"
    HEIGHT = "height"
    SERUM_CREATININE = "serum_creatinine"
    DOSE = "dose"
    DAILY_DOSE = "daily_dose"
    CLEARANCE = "clearance"
    GFR = "gfr"
    DURATION = "duration"


# --- Field types ----------------------------------------------------------------------


# A clinical flag must be a real boolean: "yes", "no", 1 or 0 are refused.
Flag = Annotated[bool, Strict()]


def _branches_json(branches: frozenset[NerveBranch]) -> list[str]:
    # Sets have no order: JSON lists them in the enum's order so output is stable.
    return [b.value for b in NerveBranch if b in branches]


BranchSet = Annotated[frozenset[NerveBranch], PlainSerializer(_branches_json, when_used="json")]
"""A set of :class:`NerveBranch`, written to JSON as a list in a fixed order."""


ReliefPercent = Annotated[float, Strict(), Field(ge=0.0, le=100.0, allow_inf_nan=False)]
"""Pain relief in percent, 0-100 inclusive; a number (not text, not a boolean)."""
