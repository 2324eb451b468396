"""A safety alert as a FHIR R4 ``DetectedIssue`` (status preliminary)."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from cluneal._checks import collection, instance, text
from cluneal.alerts import SafetyAlert, Severity
from cluneal.fhir._citations import citation_text, fhir_citation_url
from cluneal.fhir._resource import RULE_SYSTEM, fhir_coding, subject_reference, with_content_id

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["SEVERITY_MAP", "detected_issue"]

SEVERITY_MAP: Final[Mapping[Severity, str]] = MappingProxyType(
    {
        Severity.CONTRAINDICATED: "high",
        Severity.MAJOR: "high",
        Severity.MODERATE: "moderate",
        Severity.INFO: "low",
    }
)
"""cluneal severity → FHIR ``DetectedIssue.severity`` (high | moderate | low)."""

_Resource = dict[str, Any]


def detected_issue(
    alert: SafetyAlert,
    *,
    patient_reference: str | None = None,
    implicated: Sequence[str] | str = (),
) -> dict[str, Any]:
    """Export a safety alert as a FHIR R4 ``DetectedIssue``.

    ``severity``: contraindicated and major → ``high``, moderate → ``moderate``,
    info → ``low`` (:data:`SEVERITY_MAP`). ``code`` carries the rule id (cluneal
    code system) and a text naming the drugs; ``detail`` is the message;
    ``mitigation[0].action.text`` the action, when the rule gives one;
    ``evidence`` and ``reference`` point to the citation (an id outside the
    registry is shown as it is). Status
    ``preliminary``: a clinician has not reviewed it yet.

    Args:
        alert: The alert.
        patient_reference: A FHIR reference to the patient, or ``None``.
        implicated: References to the resources the alert concerns
            (e.g. a MedicationRequest's ``urn:uuid:...``); one string is one
            reference, never a sequence of letters.

    Returns:
        The resource, with a deterministic ``id``.

    Raises:
        ClunealError: ``patient_reference`` is not a non-empty string.

    Example:
        >>> from cluneal import SafetyAlert
        >>> from cluneal.fhir import detected_issue
        >>> alert = SafetyAlert(severity="major", drugs=("tramadol", "sertraline"),
        ...                     message="Serotonin syndrome and seizure risk.",
        ...                     rule_id="interaction.tramadol.ssri_snri", citation="tramadol_label")
        >>> issue = detected_issue(alert)
        >>> issue["severity"], issue["code"]["coding"][0]["code"]
        ('high', 'interaction.tramadol.ssri_snri')
    """
    alert = instance(alert, SafetyAlert, "alert")
    references = (
        (implicated,) if isinstance(implicated, str) else collection(implicated, "implicated")
    )
    references = tuple(text(ref, "implicated") for ref in references)
    drugs = " + ".join(alert.drugs)
    issue: _Resource = {
        "resourceType": "DetectedIssue",
        "status": "preliminary",
        "code": {
            "coding": [fhir_coding(RULE_SYSTEM, alert.rule_id)],
            "text": f"Safety alert: {drugs}" if drugs else "Safety alert",
        },
        "severity": SEVERITY_MAP[alert.severity],
        "patient": subject_reference(patient_reference),
    }
    if references:
        issue["implicated"] = [{"reference": ref} for ref in references]
    issue["evidence"] = [{"detail": [{"display": citation_text(alert.citation)}]}]
    issue["detail"] = alert.message
    url = fhir_citation_url(alert.citation)
    if url:
        issue["reference"] = url
    if alert.action:
        issue["mitigation"] = [{"action": {"text": alert.action}}]
    return with_content_id(issue)
