"""Numbers and citations as people read them (presentation helpers).

Numbers are written the way a clinician writes them: "14.9 mg/day",
"34.8 mL/min", "1200 mg/day", never "14.9222" or "34.7953216374". Only what
people read is rounded; JSON keeps full precision.

Every citation becomes a link: the source's own address when the knowledge
base has one (or one built from its DOI, PMID or PMC id), otherwise its entry
on the published references or clinical-decisions page of the docs.

Example:
    >>> clinical_number(14.9222), clinical_number(34.7953216374), clinical_number(1200.0)
    ('14.9', '34.8', '1200')
    >>> citation_url("inker_2021")
    'https://doi.org/10.1056/NEJMoa2102953'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from cluneal._numbers import clinical_number
from cluneal._unit_table import display_unit as _display
from cluneal.errors import UnknownTermError
from cluneal.evidence import citation
from cluneal.renal import WeightBasis
from cluneal.units import quantity_to_json

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cluneal.patient import Patient
    from cluneal.plan import CarePlan
    from cluneal.renal import RenalAssessment
    from cluneal.titration import Adjustment
    from cluneal.units import Quantity

__all__ = [
    "CRCL_FORMULA",
    "DECISION_PREFIX",
    "DOCS_URL",
    "EGFR_FORMULA",
    "NO_ACTION",
    "citation_label",
    "citation_url",
    "clinical_number",
    "group_adjustments",
    "mg",
    "mg_per_day",
    "plan_citations",
    "quantity_text",
    "renal_citations",
    "renal_inputs",
]

DOCS_URL: Final = "https://cluneal.readthedocs.io/en/latest"
"""Where the docs are published (the ``Documentation`` URL of pyproject.toml)."""

DECISION_PREFIX: Final = "decision_"
"""Citation ids of the package's own clinical decisions start with this."""

# The marker the titration rules append to an unverified rule's text; the
# renderings say "unverified" from the ``verified`` flag instead.
_UNVERIFIED_SUFFIX: Final = " [unverified: general knowledge]"


def mg(value: float, *, down: bool = False) -> str:
    """Write a dose in mg.

    Example:
        >>> mg(37.5)
        '37.5 mg'
    """
    return f"{clinical_number(value, down=down)} mg"


def mg_per_day(value: float, *, down: bool = False) -> str:
    """Write a daily dose in mg/day.

    Example:
        >>> mg_per_day(14.9222, down=True)
        '14.9 mg/day'
    """
    return f"{clinical_number(value, down=down)} mg/day"


def _identifier_url(identifier: str) -> str | None:
    kind, _, rest = identifier.partition(":")
    lowered = kind.lower()
    if lowered == "doi" and rest:
        return f"https://doi.org/{rest}"
    if lowered == "pmid" and rest:
        return f"https://pubmed.ncbi.nlm.nih.gov/{rest}/"
    if identifier.upper().startswith("PMC"):
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{identifier.upper()}/"
    if identifier.upper().startswith("NCT"):
        return f"https://clinicaltrials.gov/study/{identifier.upper()}"
    return None


def citation_url(citation_id: str) -> str:
    """Return where a citation can be read.

    The package's own decisions link to the Clinical decisions page; a source
    with an address (or a DOI, PMID, PMC or trial id) links there; any other
    source links to its entry on the References page of the docs.

    Args:
        citation_id: A citation id.

    Returns:
        An absolute ``https`` URL.

    Example:
        >>> citation_url("gill_2022")
        'https://pubmed.ncbi.nlm.nih.gov/35901475/'
        >>> citation_url("devine_1974")
        'https://cluneal.readthedocs.io/en/latest/references.html#devine-1974'
    """
    anchor = citation_id.replace("_", "-")
    if citation_id.startswith(DECISION_PREFIX):
        return f"{DOCS_URL}/decisions.html#{anchor}"
    try:
        source = citation(citation_id)
    except UnknownTermError:
        return f"{DOCS_URL}/references.html#{anchor}"
    if source.url:
        return source.url
    if source.identifier:
        built = _identifier_url(source.identifier)
        if built is not None:
            return built
    return f"{DOCS_URL}/references.html#{anchor}"


def citation_label(citation_id: str) -> str:
    """Return the short readable name of a citation: its title, else its id.

    Example:
        >>> citation_label("beers_2023").startswith("American Geriatrics Society")
        True
    """
    try:
        return citation(citation_id).title
    except UnknownTermError:
        return citation_id


def quantity_text(quantity: Quantity) -> str:
    """Write a quantity in the unit it was given, at clinical precision.

    Example:
        >>> from cluneal.units import Q_
        >>> quantity_text(Q_(97.0, "umol/L")), quantity_text(Q_(154.0, "lb"))
        ('97 µmol/L', '154 lb')
    """
    code = quantity_to_json(quantity)["unit"]
    return f"{clinical_number(float(quantity.magnitude))} {_display(code)}"


NO_ACTION: Final = "none stated by the rule: weigh the alert with the whole clinical picture."
"""The action line of an alert whose rule states no action."""

CRCL_FORMULA: Final = (
    "CrCl (mL/min) = (140 − age in years) × weight (kg) / (72 × serum creatinine (mg/dL)),"
    " × 0.85 if female"
)
"""The Cockcroft–Gault equation as published (cockcroft_gault_1976), in words."""

EGFR_FORMULA: Final = (
    "eGFR (mL/min/1.73 m²) = 142 × min(SCr/κ, 1)^α × max(SCr/κ, 1)^−1.200 × 0.9938^age"
    " × 1.012 if female; κ = 0.7 (female) or 0.9 (male), α = −0.241 (female) or −0.302 (male)"
)
"""The race-free CKD-EPI 2021 creatinine equation as published (inker_2021), in words."""


def renal_inputs(patient: Patient) -> list[tuple[str, str, str]]:
    """The inputs of the renal equations: (name, as given, as used by the equations).

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=78, sex="female", weight="154 lb", serum_creatinine="97 umol/L")
        >>> renal_inputs(p)[2:]
        [('Weight', '154 lb', '69.9 kg'), ('Serum creatinine', '97 µmol/L', '1.1 mg/dL')]
    """
    rows = [
        ("Age", f"{clinical_number(patient.age_years)} years", ""),
        ("Sex", patient.sex.value, ""),
    ]
    weight, creatinine, height = patient.weight_kg, patient.creatinine_mg_dl, patient.height_cm
    rows.append(
        ("Weight", "not recorded", "")
        if patient.weight is None or weight is None
        else ("Weight", quantity_text(patient.weight), f"{clinical_number(weight)} kg")
    )
    rows.append(
        ("Serum creatinine", "not recorded", "")
        if patient.serum_creatinine is None or creatinine is None
        else (
            "Serum creatinine",
            quantity_text(patient.serum_creatinine),
            f"{clinical_number(creatinine)} mg/dL",
        )
    )
    if patient.height is not None and height is not None:
        rows.append(("Height", quantity_text(patient.height), f"{clinical_number(height)} cm"))
    if patient.on_dialysis:
        rows.append(("Haemodialysis", "yes", ""))
    return rows


def renal_citations(renal: RenalAssessment) -> tuple[str, ...]:
    """The evidence behind a renal assessment: the equations, the staging and the band rule."""
    cites = ["cockcroft_gault_1976"]
    if renal.weight_basis not in {None, WeightBasis.ACTUAL}:
        cites.append("devine_1974")
    if renal.egfr is not None:
        cites += ["inker_2021", "kdigo_2012"]
    cites.append(renal.citation)
    return tuple(dict.fromkeys(cites))


def _head_and_tail(reason: str) -> tuple[str, str]:
    # Split "what changed: why" at the first ": " outside brackets.
    depth = 0
    for i, char in enumerate(reason):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and reason.startswith(": ", i):
            return reason[:i], reason[i + 2 :]
    return reason, ""


def group_adjustments(adjustments: Iterable[Adjustment]) -> list[tuple[str, list[Adjustment]]]:
    """Group adjustments that make the same change for several reasons.

    An older patient with reduced kidney function gets the start-low protocol
    for two reasons; the change is written once, followed by both reasons.

    Returns:
        ``(text, adjustments)`` pairs in the order of first appearance.

    Example:
        >>> from cluneal.titration import Adjustment
        >>> a = Adjustment(rule_id="r1", reason="Protocol changed (x: y): age 70", citation="c")
        >>> b = Adjustment(rule_id="r2", reason="Protocol changed (x: y): renal band", citation="c")
        >>> [(text, len(group)) for text, group in group_adjustments([a, b])]
        [('Protocol changed (x: y): age 70; renal band', 2)]
    """
    groups: dict[str, list[tuple[str, Adjustment]]] = {}
    for adjustment in adjustments:
        head, tail = _head_and_tail(adjustment.reason.removesuffix(_UNVERIFIED_SUFFIX))
        groups.setdefault(head, []).append((tail, adjustment))
    out = []
    for head, members in groups.items():
        tails = [tail for tail, _ in members if tail]
        text = f"{head}: {'; '.join(tails)}" if tails else head
        out.append((text, [adjustment for _, adjustment in members]))
    return out


def plan_citations(plan: CarePlan) -> list[str]:
    """Every citation a care plan rests on, in the order of the page (repeats allowed)."""
    cites = list(plan.assessment.citations) + list(plan.recommendation.citations)
    for schedule in plan.medications:
        cites += renal_citations(schedule.renal)
        cites += [a.citation for a in schedule.adjustments]
        cites += [i.citation for i in schedule.supplemental_instructions]
    for choice in plan.drug_choices:
        cites += choice.citations
    for measure in plan.complementary:
        cites += measure.citations
    cites += [a.citation for a in plan.alerts]
    return cites
