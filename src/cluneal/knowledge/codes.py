"""Terminology codes: what a LOINC, SNOMED CT, ICD-10-CM or RxNorm code means to cluneal.

The tables live in ``codes.toml`` with their sources; this module loads and
checks them once (every citation resolves, every unit is one cluneal parses,
every medication the catalogue knows has a code or a stated reason for having
none) and answers look-ups. The FHIR reader (:mod:`cluneal.fhir`) applies them;
it holds no code of its own.

Example:
    >>> from cluneal.knowledge.codes import code_tables
    >>> tables = code_tables()
    >>> tables.observation("http://loinc.org", "14682-9").field
    'serum_creatinine'
    >>> tables.medication_name("http://www.nlm.nih.gov/research/umls/rxnorm", "36437")
    'sertraline'
"""

from collections.abc import Mapping
from functools import cache, cached_property
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError, UnknownTermError
from cluneal.evidence import citation
from cluneal.knowledge import read_toml
from cluneal.patient import Condition, MedicationClass, classes_of, is_recognized_medication
from cluneal.units import quantity_in

__all__ = [
    "CodeTables",
    "ConditionCode",
    "GenotypeCode",
    "ObservationCode",
    "RxNormGroup",
    "StateCode",
    "code_tables",
]

_SOURCE = "codes.toml"
_Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.\-]+$")]


class Systems(FrozenModel):
    """The code-system URIs FHIR uses for each terminology."""

    loinc: str
    snomed: str
    icd10cm: str
    rxnorm: str
    ucum: str


class ObservationCode(FrozenModel):
    """A LOINC observation cluneal reads into a Patient field.

    Attributes:
        loinc: The LOINC code.
        display: Its long common name.
        field: The :class:`~cluneal.Patient` field the value goes to.
        units: The UCUM codes accepted for it.
        citation: The source.
    """

    loinc: _Code
    display: str
    field: Literal["serum_creatinine", "weight", "height"]
    units: tuple[str, ...]
    citation: str


class GenotypeCode(FrozenModel):
    """The LOINC observation of a pharmacogenetic status and the answers that mean yes or no.

    Attributes:
        loinc: The LOINC code of the observation (57979-7 for HLA-B*15:02).
        display: Its name.
        positive_answers: LOINC answer codes that mean a carrier.
        negative_answers: LOINC answer codes that mean not a carrier.
        positive_words: Whole values (text, display, valueString) that mean a carrier.
        negative_words: Whole values that mean not a carrier.
        citations: The sources.
    """

    loinc: _Code
    display: str
    positive_answers: tuple[_Code, ...] = Field(min_length=1)
    negative_answers: tuple[_Code, ...] = Field(min_length=1)
    positive_words: tuple[str, ...]
    negative_words: tuple[str, ...]
    citations: tuple[str, ...] = Field(min_length=1)


class ConditionCode(FrozenModel):
    """The SNOMED CT concepts and ICD-10-CM codes of one :class:`~cluneal.Condition`.

    Attributes:
        condition: The condition.
        snomed: SNOMED CT concepts, matched exactly.
        icd10cm: ICD-10-CM codes; a code matches a listed one or any code below it.
        citations: The sources.
        unverified: Codes no source checked (they cite general knowledge).
        note: Why a mapping is what it is, where that needs saying.
    """

    condition: Condition
    snomed: tuple[_Code, ...]
    icd10cm: tuple[_Code, ...] = Field(min_length=1)
    citations: tuple[str, ...]
    unverified: tuple[_Code, ...] = ()
    note: str | None = None


class StateCode(FrozenModel):
    """A coded Condition that sets a Patient flag (dialysis)."""

    field: Literal["on_dialysis"]
    snomed: tuple[_Code, ...]
    icd10cm: tuple[_Code, ...]
    citations: tuple[str, ...]
    unverified: tuple[_Code, ...] = ()
    note: str | None = None


class RxNormGroup(FrozenModel):
    """RxNorm ingredient codes that share a source, and names that have none."""

    citation: str
    codes: dict[str, _Code] = Field(default_factory=dict)
    without_code: dict[str, str] = Field(default_factory=dict)


class _Record(FrozenModel):
    recent_medication_days: Annotated[int, Field(ge=1, le=365)]
    citation: str


class _Allergy(FrozenModel):
    citation: str
    class_conditions: dict[MedicationClass, Condition]


class CodeTables(FrozenModel):
    """All code tables, checked at load (:func:`code_tables`).

    Attributes:
        systems: The code-system URIs.
        recent_medication_days: A medication stopped this many days ago or
            less counts as recent (the MAOI washout).
        observations: LOINC observations read into the Patient.
        hla_b_1502: The HLA-B*15:02 observation and its answers.
        conditions: One entry per :class:`~cluneal.Condition`.
        states: Conditions that set a Patient flag.
        rxnorm: RxNorm ingredient codes by source.
        allergy_class_conditions: A medication class whose allergy also sets a condition.
    """

    systems: Systems
    recent_medication_days: int
    observations: tuple[ObservationCode, ...]
    hla_b_1502: GenotypeCode
    conditions: tuple[ConditionCode, ...]
    states: tuple[StateCode, ...]
    rxnorm: tuple[RxNormGroup, ...]
    allergy_class_conditions: dict[MedicationClass, Condition]

    def observation(self, system: object, code: object) -> ObservationCode | None:
        """Return the observation a LOINC coding stands for, or ``None``.

        Args:
            system: The coding's system.
            code: The coding's code.

        Returns:
            The table entry, or ``None`` for another system or an unknown code.
        """
        if system != self.systems.loinc:
            return None
        return next((o for o in self.observations if o.loinc == code), None)

    def condition(self, system: object, code: object) -> Condition | Literal["on_dialysis"] | None:
        """Return what a SNOMED CT or ICD-10-CM coding means to cluneal, or ``None``.

        Args:
            system: The coding's system.
            code: The coding's code.

        Returns:
            A :class:`~cluneal.Condition`, ``"on_dialysis"``, or ``None`` when
            the code is not one the rules use.

        Example:
            >>> code_tables().condition("http://hl7.org/fhir/sid/icd-10-cm", "G40.909")
            <Condition.SEIZURE_DISORDER: 'seizure_disorder'>
        """
        if not isinstance(code, str):
            return None
        entries: tuple[ConditionCode | StateCode, ...] = (*self.conditions, *self.states)
        for entry in entries:
            meaning = entry.condition if isinstance(entry, ConditionCode) else entry.field
            if system == self.systems.snomed and code in entry.snomed:
                return meaning
            if system == self.systems.icd10cm and any(
                _icd_matches(code, listed) for listed in entry.icd10cm
            ):
                return meaning
        return None

    def hla_b_1502_answer(self, system: object, code: object) -> bool | None:
        """Return what a LOINC answer coding says of HLA-B*15:02: carrier, not, or ``None``.

        Args:
            system: The coding's system.
            code: The coding's code.

        Returns:
            ``True`` (positive), ``False`` (negative), or ``None`` for any other answer.

        Example:
            >>> code_tables().hla_b_1502_answer("http://loinc.org", "LA6577-6")
            False
        """
        hla = self.hla_b_1502
        if system != self.systems.loinc:
            return None
        if code in hla.positive_answers:
            return True
        return False if code in hla.negative_answers else None

    def hla_b_1502_word(self, value: str) -> bool | None:
        """Return what a whole text value says of HLA-B*15:02 (case and spacing ignored).

        Args:
            value: A text, display or valueString.

        Returns:
            ``True`` (positive), ``False`` (negative), or ``None`` for anything else.

        Example:
            >>> code_tables().hla_b_1502_word(" Not  detected ")
            False
        """
        word = " ".join(value.split()).casefold()
        if word in self.hla_b_1502.positive_words:
            return True
        return False if word in self.hla_b_1502.negative_words else None

    def medication_name(self, system: object, code: object) -> str | None:
        """Return the generic name of an RxNorm ingredient code, or ``None`` when unknown.

        Args:
            system: The coding's system.
            code: The coding's code.

        Returns:
            The name as the medication catalogue spells it.
        """
        if system != self.systems.rxnorm:
            return None
        return self._names_by_rxnorm.get(code) if isinstance(code, str) else None

    @cached_property
    def _names_by_rxnorm(self) -> Mapping[str, str]:
        names: dict[str, str] = {}
        for group in self.rxnorm:
            for name, code in group.codes.items():
                names.setdefault(code, name)
        return MappingProxyType(names)

    def rxnorm_code(self, name: str) -> str | None:
        """Return the RxNorm ingredient code of a medication name, or ``None``.

        Args:
            name: A generic name, lower case.

        Returns:
            The RxCUI, or ``None`` when the table gives none.

        Example:
            >>> code_tables().rxnorm_code("gabapentin")
            '25480'
        """
        return next((g.codes[name] for g in self.rxnorm if name in g.codes), None)


def _icd_matches(code: str, listed: str) -> bool:
    code = code.strip().upper()
    return code == listed or (code.startswith(listed) and len(code) > len(listed))


def _check_hla(tables: CodeTables) -> None:
    hla = tables.hla_b_1502
    if any(o.loinc == hla.loinc for o in tables.observations):
        msg = f"LOINC {hla.loinc} is both a quantity observation and the HLA-B*15:02 genotype"
        raise ValueError(msg)
    words = [" ".join(w.split()).casefold() for w in (*hla.positive_words, *hla.negative_words)]
    answers = (*hla.positive_answers, *hla.negative_answers)
    if len(set(words)) != len(words) or len(set(answers)) != len(answers):
        msg = "an HLA-B*15:02 answer means both positive and negative, or is listed twice"
        raise ValueError(msg)
    if words != [*hla.positive_words, *hla.negative_words]:
        msg = "HLA-B*15:02 words are written lower case, single-spaced"
        raise ValueError(msg)


def _check_unverified(tables: CodeTables) -> None:
    entries: tuple[ConditionCode | StateCode, ...] = (*tables.conditions, *tables.states)
    for entry in entries:
        stray = set(entry.unverified) - {*entry.snomed, *entry.icd10cm}
        if stray:
            msg = f"unverified codes {sorted(stray)} are not codes of the entry"
            raise ValueError(msg)
        if entry.unverified and not any(not citation(c).verified for c in entry.citations):
            msg = f"unverified codes {list(entry.unverified)} need an unverified source cited"
            raise ValueError(msg)


def _check(tables: CodeTables) -> None:
    ids = [o.citation for o in tables.observations] + [g.citation for g in tables.rxnorm]
    ids += [c for entry in tables.conditions for c in entry.citations]
    ids += list(tables.hla_b_1502.citations)
    ids += [c for entry in tables.states for c in entry.citations]
    for cid in ids:
        citation(cid)
    _check_hla(tables)
    for obs in tables.observations:
        for unit in obs.units:
            quantity_in(1.0, unit)  # raises for a unit cluneal cannot parse
    _check_unverified(tables)
    listed = [c.condition for c in tables.conditions]
    missing = sorted(set(Condition) - set(listed))
    if missing or len(listed) != len(set(listed)):
        msg = f"every Condition needs exactly one entry; missing {missing}"
        raise ValueError(msg)
    seen: set[str] = set()
    for group in tables.rxnorm:
        for name in (*group.codes, *group.without_code):
            if name in seen:
                msg = f"medication {name!r} is listed twice"
                raise ValueError(msg)
            if not is_recognized_medication(name):
                msg = f"medication {name!r} is not in the medication catalogue"
                raise ValueError(msg)
            seen.add(name)
    for cls in tables.allergy_class_conditions:
        if not any(cls in classes_of(name) for name in seen):
            msg = f"allergy class {cls.value!r} has no member"
            raise ValueError(msg)


@cache
def code_tables() -> CodeTables:
    """Load and check ``codes.toml`` (once; the result is frozen).

    Returns:
        The tables.

    Raises:
        KnowledgeBaseError: The file is malformed, a citation does not resolve,
            a unit is not one cluneal parses, a Condition has no entry, or a
            medication is listed twice or is not in the catalogue.

    Example:
        >>> code_tables().systems.loinc
        'http://loinc.org'
    """
    return parse_code_tables(read_toml(_SOURCE))


def parse_code_tables(raw: Mapping[str, Any]) -> CodeTables:
    """Validate the parsed ``codes.toml`` (what :func:`code_tables` reads).

    Args:
        raw: The parsed TOML.

    Returns:
        The tables.

    Raises:
        KnowledgeBaseError: Malformed or inconsistent (see :func:`code_tables`).
    """
    try:
        tables = CodeTables(
            systems=raw["systems"],
            recent_medication_days=_Record.model_validate(raw["record"]).recent_medication_days,
            observations=raw["observation"],
            hla_b_1502=raw["hla_b_1502"],
            conditions=raw["condition"],
            states=raw.get("state", ()),
            rxnorm=raw["rxnorm"],
            allergy_class_conditions=_Allergy.model_validate(raw["allergy"]).class_conditions,
        )
        citation(raw["record"]["citation"])
        citation(raw["allergy"]["citation"])
        _check(tables)
    except (KeyError, ValueError, ValidationError, UnknownTermError) as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc
    return tables
