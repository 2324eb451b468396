"""Local protocols: a clinic's own formulary and thresholds, checked against the labels.

A :class:`LocalProtocol` holds what one clinic changes: the strengths its
pharmacy stocks, lower maximum daily doses, drugs it excludes, its first-line
order, a higher block-positive threshold and a longer lasting-relief duration.
:meth:`KnowledgeBase.with_protocol <cluneal.knowledge.base.KnowledgeBase.with_protocol>`
applies it and returns a new knowledge base; every rule-applying function then
takes that base as ``knowledge=``.

A protocol may only make the package more conservative
(decision_local_protocol_conservative). Anything that would loosen a rule is
refused with a :class:`~cluneal.errors.LocalProtocolError` naming the field,
the value and the built-in limit:

* a strength the drug is not marketed in, or any strength of a compounded drug;
* a maximum daily dose above the built-in adult cap;
* a drug, or a field, the knowledge base does not know;
* a second-line drug in the first line, or a drug both excluded and first line;
* a block threshold below the built-in default (``default_block_threshold_percent``
  of ``diagnosis.toml``) or above 100%;
* a lasting-relief duration shorter than the built-in default (``lasting_relief_weeks``
  of ``pathway.toml``) or longer than the limit of ``local_protocol.toml``
  (``lasting_relief_max_weeks``, rule ``local_protocol.limits``).

Every result made with the protocol reports the knowledge base version
``"<built-in version>+<name>@<version>"`` and the protocol's
:attr:`~LocalProtocol.sha256`, the hash of its canonical JSON, so an audit can
tell exactly which rules produced a plan.

Example:
    >>> from cluneal import LocalProtocol, knowledge_base
    >>> clinic = LocalProtocol(name="st-elsewhere-pain", version="3",
    ...                        max_daily_dose={"gabapentin": "1200 mg/day"})
    >>> kb = knowledge_base().with_protocol(clinic)
    >>> kb.version == f"{knowledge_base().version}+st-elsewhere-pain@3"
    True
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import Field, ValidationError, field_validator, model_validator

from cluneal._base import FrozenModel
from cluneal._protocol_rules import apply_protocol, check_protocol
from cluneal.drug import Drug
from cluneal.errors import ClunealError, LocalProtocolError
from cluneal.knowledge.base import knowledge_base
from cluneal.knowledge.drugs import parse_drug
from cluneal.units import DailyDose, Dose, Duration, Kind, magnitude_in

if TYPE_CHECKING:
    import os

    from cluneal.knowledge.base import KnowledgeBase

__all__ = ["LocalProtocol"]

_MAX_FILE_BYTES: Final = 1_000_000
_NAME: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_VERSION: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
_DRUG_FIELDS: Final = ("strengths", "max_daily_dose")


def _drug_key(value: object, field: str) -> Drug:
    try:
        return parse_drug(value, field)
    except ClunealError as exc:
        allowed = ", ".join(repr(d.value) for d in Drug)
        raise LocalProtocolError(field, value, f"one of {allowed}") from exc


def _drug_list(value: object, field: str) -> tuple[Drug, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise LocalProtocolError(field, value, "a list of drug names")
    drugs = tuple(_drug_key(item, f"{field}[{i}]") for i, item in enumerate(value))
    repeated = sorted({d.value for d in drugs if drugs.count(d) > 1})
    if repeated:
        raise LocalProtocolError(field, value, f"each drug once (repeated: {', '.join(repeated)})")
    return drugs


class LocalProtocol(FrozenModel):
    """A clinic's own protocol: stocked strengths, lower caps, exclusions and thresholds.

    Every field but ``name`` and ``version`` is optional; an absent field keeps
    the built-in rule. Quantities take every input form of the package
    (``"300 mg"``, a quantity, ``{"value": 300, "unit": "mg"}``). Construction
    checks the protocol against the built-in knowledge base and refuses
    anything that would loosen a rule (decision_local_protocol_conservative).

    Attributes:
        name: The protocol's name (letters, digits, ``.``, ``_``, ``-``).
        version: The protocol's version (same characters; a TOML integer is read as text).
        strengths: Per drug, the marketed strengths the pharmacy stocks; schedules
            are then made of these only (a drug's oral solution counts as not
            stocked once its strengths are listed).
        max_daily_dose: Per drug, a maximum daily dose at or below the built-in adult cap.
        excluded_drugs: Drugs the clinic does not use: never scheduled, shown as
            excluded by the protocol.
        first_line: The clinic's first-line order: these first-line drugs come
            first, in this order; the other first-line drugs follow in the
            built-in order.
        block_threshold_percent: Relief (%) from which a block is positive: at
            least the built-in default (``default_block_threshold_percent``), at most 100%.
        lasting_relief: Relief lasting at least this long is lasting: at least
            the built-in default (``lasting_relief_weeks``), at most
            ``lasting_relief_max_weeks`` of ``local_protocol.toml``.

    Example:
        >>> p = LocalProtocol(name="st-elsewhere-pain", version="3",
        ...                   strengths={"gabapentin": ["300 mg"]}, block_threshold_percent=70)
        >>> p.strengths_mg[Drug.GABAPENTIN], p.block_threshold_percent
        ((300.0,), 70.0)
        >>> LocalProtocol(name="x", version="1", max_daily_dose={"pregabalin": "900 mg/d"})
        Traceback (most recent call last):
        cluneal.errors.LocalProtocolError: local protocol: max_daily_dose.pregabalin: got ...
    """

    name: Annotated[str, Field(pattern=_NAME)]
    version: Annotated[str, Field(pattern=_VERSION)]
    strengths: dict[Drug, Annotated[tuple[Dose, ...], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    max_daily_dose: dict[Drug, DailyDose] = Field(default_factory=dict)
    excluded_drugs: tuple[Drug, ...] = ()
    first_line: tuple[Drug, ...] = ()
    block_threshold_percent: Annotated[float, Field(allow_inf_nan=False)] | None = None
    lasting_relief: Duration | None = None

    def __init__(self, /, **data: Any) -> None:
        # Keyword construction reports a refusal as LocalProtocolError (a
        # ClunealError), like the loaders; model_validate keeps pydantic's error.
        try:
            super().__init__(**data)
        except ValidationError as exc:
            error = _protocol_error(exc)
        else:
            return
        # Raised outside the except block: the refusal is often the very error
        # pydantic holds in its context, and chaining the two would make a
        # cycle that traceback-pickling (tblib, which Dask installs) cannot walk.
        raise error

    def __hash__(self) -> int:
        return hash(self.sha256)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            data["version"] = str(version)  # TOML: version = 3
        for field in _DRUG_FIELDS:
            table = data.get(field)
            if table is None:
                continue
            if not isinstance(table, dict):
                raise LocalProtocolError(field, table, "a table of drug names")
            data[field] = {
                _drug_key(key, f"{field}.{key}"): (
                    [value] if field == "strengths" and isinstance(value, str) else value
                )
                for key, value in table.items()
            }
        return data

    @field_validator("excluded_drugs", "first_line", mode="before")
    @classmethod
    def _drugs(cls, value: Any, info: Any) -> tuple[Drug, ...]:
        return _drug_list(value, info.field_name)

    @field_validator("block_threshold_percent", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LocalProtocolError("block_threshold_percent", value, "a number of percent")
        # The range first: comparisons are exact for any int (isfinite would overflow)
        # and false for NaN.
        if not 0 < value <= 100 or not math.isfinite(value):
            raise LocalProtocolError(
                "block_threshold_percent", value, "a percentage above 0 and at most 100"
            )
        return value

    @model_validator(mode="after")
    def _against_builtin(self) -> LocalProtocol:
        for drug, strengths in self.strengths.items():
            mgs = [magnitude_in(s, Kind.DOSE) for s in strengths]
            if len(set(mgs)) != len(mgs):
                raise LocalProtocolError(
                    f"strengths.{drug.value}", [str(s) for s in strengths], "each strength once"
                )
        check_protocol(self, knowledge_base())
        return self

    @property
    def strengths_mg(self) -> dict[Drug, tuple[float, ...]]:
        """The stocked strengths per drug in mg, ascending."""
        return {
            drug: tuple(sorted(magnitude_in(s, Kind.DOSE) for s in strengths))
            for drug, strengths in self.strengths.items()
        }

    @property
    def max_daily_dose_mg(self) -> dict[Drug, float]:
        """The maximum daily doses per drug in mg/day."""
        return {d: magnitude_in(q, Kind.DAILY_DOSE) for d, q in self.max_daily_dose.items()}

    @property
    def lasting_relief_weeks(self) -> float | None:
        """The lasting-relief duration in weeks, when the protocol sets one."""
        if self.lasting_relief is None:
            return None
        return magnitude_in(self.lasting_relief, Kind.DURATION) / 7.0

    @property
    def label(self) -> str:
        """``"<name>@<version>"``, the suffix the knowledge base version carries."""
        return f"{self.name}@{self.version}"

    def canonical_json(self) -> str:
        """The protocol's content as canonical JSON: what :attr:`sha256` hashes.

        Quantities are in fixed units (mg, mg/day, days), strengths and
        exclusions sorted, the first-line order kept, keys sorted, no spaces;
        so the same protocol written in other units or another key order has
        the same hash.

        Returns:
            The JSON text.

        Example:
            >>> LocalProtocol(name="a", version="1").canonical_json()
            '{"block_threshold_percent":null,"excluded_drugs":[],...,"version":"1"}'
        """
        lasting = self.lasting_relief
        content = {
            "name": self.name,
            "version": self.version,
            "strengths_mg": {
                d.value: [_clean(mg) for mg in mgs] for d, mgs in self.strengths_mg.items()
            },
            "max_daily_dose_mg_per_day": {
                d.value: _clean(mg) for d, mg in self.max_daily_dose_mg.items()
            },
            "excluded_drugs": sorted(d.value for d in self.excluded_drugs),
            "first_line": [d.value for d in self.first_line],
            "block_threshold_percent": (
                None
                if self.block_threshold_percent is None
                else _clean(self.block_threshold_percent)
            ),
            "lasting_relief_days": (
                None if lasting is None else _clean(magnitude_in(lasting, Kind.DURATION))
            ),
        }
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @cached_property
    def sha256(self) -> str:
        """``"sha256:<hex>"`` of :meth:`canonical_json`: the protocol's audit identity.

        Example:
            >>> LocalProtocol(name="a", version="1").sha256.startswith("sha256:")
            True
        """
        digest = hashlib.sha256(self.canonical_json().encode("ascii")).hexdigest()
        return f"sha256:{digest}"

    def apply_to(self, knowledge: KnowledgeBase) -> KnowledgeBase:
        """Return ``knowledge`` with this protocol applied (see ``KnowledgeBase.with_protocol``).

        Args:
            knowledge: A knowledge base without a local protocol.

        Returns:
            The new knowledge base.

        Raises:
            LocalProtocolError: The protocol would loosen one of that base's
                rules, or the base already has a protocol.

        Example:
            >>> from cluneal import knowledge_base
            >>> p = LocalProtocol(name="clinic", version="2", excluded_drugs=["tramadol"])
            >>> p.apply_to(knowledge_base()).protocol is p
            True
        """
        return apply_protocol(self, knowledge)

    @classmethod
    def from_mapping(cls, data: object) -> LocalProtocol:
        """Build a protocol from a mapping (parsed TOML or JSON).

        Args:
            data: The mapping.

        Returns:
            The protocol.

        Raises:
            LocalProtocolError: Not a mapping, an unknown field or drug, or a
                value that would loosen a rule.

        Example:
            >>> LocalProtocol.from_mapping({"name": "c", "version": 1}).label
            'c@1'
        """
        if not isinstance(data, dict):
            raise LocalProtocolError("protocol", type(data).__name__, "a table of fields")
        return cls(**{str(k): v for k, v in data.items()})

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> LocalProtocol:
        r"""Read a protocol from a TOML file.

        Args:
            path: The file.

        Returns:
            The protocol.

        Raises:
            LocalProtocolError: The file cannot be read, is not TOML, or holds
                an invalid or loosening protocol.

        Example:
            >>> import pathlib, tempfile
            >>> f = pathlib.Path(tempfile.mkdtemp()) / "clinic.toml"
            >>> _ = f.write_text('name = "clinic"\nversion = "1"\nblock_threshold_percent = 70\n')
            >>> LocalProtocol.from_toml(f).block_threshold_percent
            70.0
        """
        try:
            data = tomllib.loads(_read(path))
        except tomllib.TOMLDecodeError as exc:
            raise _not_valid(path, "TOML", str(exc)) from None
        return cls.from_mapping(data)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> LocalProtocol:
        """Read a protocol from a JSON file (an object with the same fields as the TOML).

        Args:
            path: The file.

        Returns:
            The protocol.

        Raises:
            LocalProtocolError: The file cannot be read, is not JSON, or holds
                an invalid or loosening protocol.

        Example:
            >>> import pathlib, tempfile
            >>> f = pathlib.Path(tempfile.mkdtemp()) / "clinic.json"
            >>> _ = f.write_text('{"name": "c", "version": "1", "excluded_drugs": ["tramadol"]}')
            >>> LocalProtocol.from_json(f).excluded_drugs
            (<Drug.TRAMADOL: 'tramadol'>,)
        """
        try:
            data = json.loads(_read(path))
        except json.JSONDecodeError as exc:
            raise _not_valid(path, "JSON", exc.msg) from None
        return cls.from_mapping(data)


def _clean(value: float) -> float:
    # Unit conversions leave noise in the last bits (1.2 g/d -> 1200.0000000000002 mg/d).
    return round(float(value), 6) + 0.0


def _not_valid(path: str | os.PathLike[str], language: str, detail: str) -> LocalProtocolError:
    return LocalProtocolError("file", str(path), f"valid {language} ({detail})")


def _read(path: str | os.PathLike[str]) -> str:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise LocalProtocolError("file", str(path), f"a readable file ({exc.strerror})") from None
    if len(raw) > _MAX_FILE_BYTES:
        raise LocalProtocolError("file", str(path), f"at most {_MAX_FILE_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LocalProtocolError("file", str(path), "UTF-8 text") from None


_FIELDS: Final = (
    "name, version, strengths, max_daily_dose, excluded_drugs, first_line, "
    "block_threshold_percent, lasting_relief"
)


def _protocol_error(exc: ValidationError) -> LocalProtocolError:
    """One line from pydantic's error: the protocol's own error when there is one."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, LocalProtocolError):
        return cause
    field = ".".join(str(p) for p in first["loc"]) or "protocol"
    if first["type"] == "extra_forbidden":
        return LocalProtocolError(field, first["input"], f"one of the fields {_FIELDS}")
    if first["type"] == "missing":
        return LocalProtocolError(field, None, "a value (name and version are required)")
    expected = getattr(cause, "expected", None) or first["msg"]
    return LocalProtocolError(field, first["input"], expected)
