"""FHIR R4 input: a cluneal Patient from a patient's FHIR record.

The codes come from the knowledge base (``knowledge/codes.toml``); this module
only applies them:

* ``Patient``: ``birthDate`` (age in completed years on ``as_of``) and ``gender``;
* the latest final ``Observation`` (status final, amended or corrected) of serum
  creatinine (LOINC 2160-0 in mg/dL, 14682-9 in µmol/L), weight (29463-7) and
  height (8302-2), its ``valueQuantity`` read through the package's one strict
  unit parser;
* final ``Observation`` resources of HLA-B*15:02 presence (LOINC 57979-7):
  positive or negative from the LOINC answer codes or the words the tables
  list; one positive result makes the patient a carrier, whatever other
  results say; any other value leaves the status unknown;
* active, confirmed ``Condition`` resources (SNOMED CT or ICD-10-CM);
* active ``MedicationRequest`` and ``MedicationStatement`` resources (RxNorm or
  names), and those stopped within the washout window as recent medications;
* active ``AllergyIntolerance`` resources (RxNorm or names).

Nothing unknown passes silently: a medication whose code the tables do not know
keeps its name (from ``text`` or a display) or, without one, becomes
``"unrecognised rxnorm 12345"``, so the safety screen reports it as not screened.
A resource cluneal cannot read raises :class:`UnreadableResourceError` naming it.

Example:
    >>> import datetime as dt
    >>> from cluneal.fhir import patient_from_fhir
    >>> record = [
    ...     {"resourceType": "Patient", "id": "p1", "birthDate": "1950-06-01", "gender": "female"},
    ...     {"resourceType": "Observation", "status": "final",
    ...      "code": {"coding": [{"system": "http://loinc.org", "code": "14682-9"}]},
    ...      "effectiveDateTime": "2026-10-01",
    ...      "valueQuantity": {"value": 97, "unit": "µmol/L",
    ...                        "system": "http://unitsofmeasure.org", "code": "umol/L"}},
    ... ]
    >>> p = patient_from_fhir(record, as_of=dt.date(2026, 11, 1))
    >>> p.age, p.sex.value, round(p.creatinine_mg_dl, 2)
    (<Quantity(76, 'year')>, 'female', 1.1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from cluneal._checks import json_data, knowledge_argument
from cluneal.errors import ClunealError, show
from cluneal.fhir._json import (
    UnreadableResourceError,
    code_in,
    codings,
    date_of,
    iter_resources,
    label,
    text_of,
)
from cluneal.knowledge.base import resolved
from cluneal.knowledge.medications import normalise_name
from cluneal.patient import Condition, Patient
from cluneal.units import parse_quantity, quantity_to_json

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase

__all__ = ["UnreadableResourceError", "medication_names", "patient_from_fhir", "read_patient"]

_FINAL: Final = frozenset({"final", "amended", "corrected"})
_ACTIVE_CLINICAL: Final = frozenset({"active", "recurrence", "relapse"})
_EXCLUDED_VERIFICATION: Final = frozenset(
    {"unconfirmed", "provisional", "differential", "refuted", "entered-in-error"}
)
_STOPPED: Final = frozenset({"completed", "stopped"})


def _status_code(concept: object) -> str | None:
    # clinicalStatus / verificationStatus: a CodeableConcept with one code.
    if not isinstance(concept, Mapping):
        return None
    items = concept.get("coding")
    for coding in items if isinstance(items, list) else []:
        if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return None


def _age(patient: Mapping[str, Any], where: str, as_of: dt.date) -> int:
    born = date_of(patient.get("birthDate"), where, "birthDate")
    # A partial birth date reads as its first day: the oldest the patient can
    # be, the more cautious reading for the age rules.
    years = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    if years < 0:
        raise UnreadableResourceError(where, f"birthDate {born.isoformat()} is after {as_of}")
    return years


def _when(resource: Mapping[str, Any], where: str) -> dt.date | None:
    for key in ("effectiveDateTime", "issued", "effectiveInstant"):
        if key in resource:
            return date_of(resource[key], where, key)
    period = resource.get("effectivePeriod")
    if isinstance(period, Mapping):
        for key in ("end", "start"):
            if key in period:
                return date_of(period[key], where, f"effectivePeriod.{key}")
    return None


def _observations(
    resources: list[tuple[str, Mapping[str, Any]]], kb: KnowledgeBase
) -> dict[str, object]:
    tables = kb.codes
    latest: dict[str, tuple[dt.date, int, object]] = {}
    for order, (where, obs) in enumerate(resources):
        if not code_in(obs.get("status"), _FINAL):
            continue
        entry = next(
            (
                found
                for system, code in codings(obs.get("code"), where, "code")
                if (found := tables.observation(system, code)) is not None
            ),
            None,
        )
        if entry is None or "valueQuantity" not in obs:
            continue  # not one cluneal reads, or no value (dataAbsentReason)
        try:
            quantity = parse_quantity(obs["valueQuantity"], entry.field)
        except ClunealError as exc:
            raise UnreadableResourceError(where, f"valueQuantity: {exc}") from None
        unit = quantity_to_json(quantity)["unit"]
        if unit not in entry.units:
            raise UnreadableResourceError(
                where,
                f"valueQuantity: LOINC {entry.loinc} ({entry.display}) is reported in "
                f"{' or '.join(entry.units)}; got {unit}",
            )
        when = _when(obs, where) or dt.date.min
        if entry.field not in latest or (when, order) >= latest[entry.field][:2]:
            latest[entry.field] = (when, order, quantity)
    return {name: item[2] for name, item in latest.items()}


def _hla_value(obs: Mapping[str, Any], where: str, kb: KnowledgeBase) -> bool | None:
    tables = kb.codes
    if isinstance(obs.get("valueBoolean"), bool):
        return bool(obs["valueBoolean"])
    if isinstance(obs.get("valueString"), str):
        return tables.hla_b_1502_word(obs["valueString"])
    concept = obs.get("valueCodeableConcept")
    answers = {
        tables.hla_b_1502_answer(system, code)
        for system, code in codings(concept, where, "valueCodeableConcept")
    } - {None}
    if not answers:
        answers = {tables.hla_b_1502_word(t) for t in text_of(concept)} - {None}
    # Codings that contradict each other say nothing for sure: unknown.
    return answers.pop() if len(answers) == 1 else None


def _hla_b_1502(resources: list[tuple[str, Mapping[str, Any]]], kb: KnowledgeBase) -> bool | None:
    loinc = kb.codes.hla_b_1502.loinc
    results: set[bool] = set()
    for where, obs in resources:
        if not code_in(obs.get("status"), _FINAL):
            continue
        coded = codings(obs.get("code"), where, "code")
        if (kb.codes.systems.loinc, loinc) not in coded:
            continue
        value = _hla_value(obs, where, kb)
        if value is not None:
            results.add(value)
    # A genotype does not change: one positive result stands against any negative.
    if True in results:
        return True
    return False if results else None


def _conditions(
    resources: list[tuple[str, Mapping[str, Any]]], kb: KnowledgeBase
) -> tuple[set[Condition], bool]:
    tables = kb.codes
    found: set[Condition] = set()
    dialysis = False
    for where, condition in resources:
        clinical = _status_code(condition.get("clinicalStatus"))
        verification = _status_code(condition.get("verificationStatus"))
        # No clinicalStatus is not "active"; no verificationStatus is read as
        # confirmed, the more cautious reading for the safety screen.
        if clinical not in _ACTIVE_CLINICAL or verification in _EXCLUDED_VERIFICATION:
            continue
        for system, code in codings(condition.get("code"), where, "code"):
            meaning = tables.condition(system, code)
            if meaning == "on_dialysis":
                dialysis = True
            elif isinstance(meaning, Condition):
                found.add(meaning)
    return found, dialysis


def medication_names(
    concept: object, where: str, element: str, *, knowledge: KnowledgeBase | None = None
) -> list[str]:
    """Return the generic names a medication CodeableConcept stands for.

    RxNorm codes the tables know give their name; otherwise the concept's text
    or a display that names a known medication; otherwise the first text given,
    as the package spells an unknown name; otherwise the unknown code itself.
    The result is never empty, so an unknown medication is reported, never lost.

    Args:
        concept: ``medicationCodeableConcept`` (or ``AllergyIntolerance.code``).
        where: The resource, for messages.
        element: The element, for messages.
        knowledge: The knowledge base whose codes and medication catalogue are read
            (default: the built-in one).

    Returns:
        One or more lower-case names.

    Raises:
        UnreadableResourceError: The concept is not a CodeableConcept or has no
            code, display or text at all.

    Example:
        >>> from cluneal.fhir.read import medication_names
        >>> medication_names({"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
        ...                               "code": "25480"}]}, "MedicationRequest/1", "medication")
        ['gabapentin']
        >>> medication_names({"text": "Vitamin D3 1000 IU"}, "MedicationRequest/2", "medication")
        ['vitamin d3 1000 iu']
    """
    kb = resolved(knowledge)
    tables = kb.codes
    pairs = codings(concept, where, element)
    names = [n for s, c in pairs if (n := tables.medication_name(s, c)) is not None]
    if names:
        return sorted(set(names))
    texts = [" ".join(t.split()).casefold() for t in text_of(concept)]
    texts = [t[:80] for t in texts if t]
    for text in texts:
        if normalise_name(text) in kb.medications:
            return [text]
        words = text.replace(",", " ").split()
        for size in (2, 1):  # "methylene blue", then single words
            for start in range(len(words) - size + 1):
                candidate = " ".join(words[start : start + size])
                if normalise_name(candidate) in kb.medications:
                    return [candidate]
    if texts:
        return [texts[0]]
    codes = [f"{system} {code}" for system, code in pairs if isinstance(code, str)]
    if codes:
        system, _, code = codes[0].rpartition(" ")
        short = "rxnorm" if system == tables.systems.rxnorm else "code"
        return [f"unrecognised {short} {code}"[:80]]
    raise UnreadableResourceError(where, f"{element}: no code, display or text")


def _medication_concept(resource: Mapping[str, Any], where: str) -> object:
    if "medicationCodeableConcept" in resource:
        return resource["medicationCodeableConcept"]
    reference = resource.get("medicationReference")
    if isinstance(reference, Mapping) and isinstance(reference.get("display"), str):
        return {"text": reference["display"]}
    raise UnreadableResourceError(
        where, "no medicationCodeableConcept (a medicationReference needs a display)"
    )


def _stopped_on(resource: Mapping[str, Any], where: str) -> dt.date | None:
    period = resource.get("effectivePeriod")
    if isinstance(period, Mapping) and "end" in period:
        return date_of(period["end"], where, "effectivePeriod.end")
    validity = resource.get("dispenseRequest", {})
    period = validity.get("validityPeriod") if isinstance(validity, Mapping) else None
    if isinstance(period, Mapping) and "end" in period:
        return date_of(period["end"], where, "dispenseRequest.validityPeriod.end")
    return None


def _medications(
    resources: list[tuple[str, Mapping[str, Any]]], as_of: dt.date, kb: KnowledgeBase
) -> tuple[set[str], set[str]]:
    window = dt.timedelta(days=kb.codes.recent_medication_days)
    current: set[str] = set()
    recent: set[str] = set()
    for where, resource in resources:
        status = resource.get("status")
        if status == "active":
            current.update(
                medication_names(
                    _medication_concept(resource, where), where, "medication", knowledge=kb
                )
            )
        elif code_in(status, _STOPPED):
            stopped = _stopped_on(resource, where)
            if stopped is not None and as_of - window <= stopped <= as_of:
                names = medication_names(
                    _medication_concept(resource, where), where, "medication", knowledge=kb
                )
                recent.update(names)
    return current, recent - current


def _allergies(
    resources: list[tuple[str, Mapping[str, Any]]], kb: KnowledgeBase
) -> tuple[set[str], set[Condition]]:
    class_conditions = kb.codes.allergy_class_conditions
    names: set[str] = set()
    conditions: set[Condition] = set()
    for where, allergy in resources:
        clinical = _status_code(allergy.get("clinicalStatus"))
        verification = _status_code(allergy.get("verificationStatus"))
        if clinical not in {None, "active"} or verification in {"refuted", "entered-in-error"}:
            continue
        for name in medication_names(allergy.get("code"), where, "code", knowledge=kb):
            names.add(name)
            classes = kb.medications.get(normalise_name(name), frozenset())
            conditions.update(c for k, c in class_conditions.items() if k in classes)
    return names, conditions


def _the_patient(resources: list[tuple[str, Mapping[str, Any]]]) -> tuple[str, Mapping[str, Any]]:
    patients = [(w, r) for w, r in resources if r.get("resourceType") == "Patient"]
    ids = {str(r.get("id")) for _, r in patients}
    if not patients:
        msg = "resources: no Patient resource; cluneal needs its birthDate and gender"
        raise ClunealError(msg)
    if len(ids) > 1:
        msg = f"resources: {len(ids)} different Patient resources; expected one patient's record"
        raise ClunealError(msg)
    return patients[0]


def patient_from_fhir(
    resources: object, *, as_of: object = None, knowledge: KnowledgeBase | None = None
) -> Patient:
    """Build a :class:`~cluneal.Patient` from a patient's FHIR R4 record.

    Args:
        resources: FHIR R4 JSON: a Bundle (searchset, collection, ...), one
            resource, or an iterable of resources and Bundles.
        as_of: The day the age is computed on (default: today) and the end of
            the recent-medication window.
        knowledge: The knowledge base whose code tables, medication catalogue and
            recent-medication window are read (default: the built-in one, see
            :func:`~cluneal.knowledge_base`).

    Returns:
        The patient, every quantity in the unit the record used.

    Raises:
        UnreadableResourceError: A resource cannot be read (it is named).
        ClunealError: No Patient, several patients, or a gender other than
            female or male (the renal equations need one of the two).
        ValidationError: The record gives a value cluneal refuses (an age under
            18, a weight outside the plausible range).

    References:
        loinc, loinc_hla_b_1502, snomed_ct_checked, snomed_ct, icd10cm, cpic_drug_table,
        rxnorm_omop_checked, rxnorm

    Example:
        >>> import datetime as dt
        >>> from cluneal.fhir import patient_from_fhir
        >>> bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        ...     {"resource": {"resourceType": "Patient", "birthDate": "1960", "gender": "male"}},
        ...     {"resource": {"resourceType": "MedicationStatement", "status": "active",
        ...                   "subject": {"reference": "Patient/1"},
        ...                   "medicationCodeableConcept": {"coding": [{
        ...                       "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
        ...                       "code": "36437"}]}}}]}
        >>> patient = patient_from_fhir(bundle, as_of=dt.date(2026, 11, 1))
        >>> patient.age.magnitude, patient.medications
        (66, ('sertraline',))
    """
    json_data(resources, "resources")
    knowledge_argument(knowledge)
    today = as_of if as_of is not None else dt.datetime.now(dt.UTC).date()
    # Typed `object`: a caller outside mypy may pass anything and must get a ClunealError.
    if not isinstance(today, dt.date):
        msg = f"as_of: got {type(as_of).__name__}; expected a datetime.date or None"
        raise ClunealError(msg)
    return read_patient(iter_resources(resources), today, knowledge=knowledge)


def read_patient(
    found: list[Mapping[str, Any]], today: dt.date, *, knowledge: KnowledgeBase | None = None
) -> Patient:
    """:func:`patient_from_fhir` of resources already checked as JSON data and flattened.

    For callers that read one record several ways (the CDS Hooks service checks
    it once, then reads the patient, the exam and the history from it).

    Args:
        found: The resources, as :func:`cluneal.fhir._json.iter_resources` returns them.
        today: The day the age is computed on.
        knowledge: The knowledge base to read the codes with (default: the built-in one).

    Returns:
        The patient (see :func:`patient_from_fhir`).
    """
    kb = resolved(knowledge)
    by_type: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for index, resource in enumerate(found):
        by_type.setdefault(str(resource["resourceType"]), []).append(
            (label(resource, index), resource)
        )
    where, patient = _the_patient(by_type.get("Patient", []))
    gender = patient.get("gender")
    if not code_in(gender, {"female", "male"}):
        raise UnreadableResourceError(
            where,
            f"gender: got {show(gender)}; cluneal's renal equations need 'female' or 'male'",
        )
    observed = _observations(by_type.get("Observation", []), kb)
    hla_b_1502 = _hla_b_1502(by_type.get("Observation", []), kb)
    conditions, dialysis = _conditions(by_type.get("Condition", []), kb)
    medications = by_type.get("MedicationRequest", []) + by_type.get("MedicationStatement", [])
    current, recent = _medications(medications, today, kb)
    allergies, allergy_conditions = _allergies(by_type.get("AllergyIntolerance", []), kb)
    fields: dict[str, object] = {
        "age": _age(patient, where, today),
        "sex": gender,
        **observed,
        "on_dialysis": dialysis,
        "hla_b_1502": hla_b_1502,
        "conditions": sorted(conditions | allergy_conditions),
        "medications": sorted(current),
        "recent_medications": sorted(recent),
        "allergies": sorted(allergies),
    }
    return Patient.model_validate(fields)
