"""The patients of a simulation: the findings of each, from pairs or from a cohort frame.

A cohort frame has the columns of API.md "Cohorts", read by the cohort
module's own input parsing. The pathway reads the findings; the patient
columns are checked when present (weight and creatinine, required for dosing,
are not needed here). A bad row is reported by its number, never dropped: the
first is named with its reason, and how many others there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from cluneal._base import coerce_model
from cluneal.errors import ClunealError, InvalidArgumentError, problems
from cluneal.findings import Findings
from cluneal.patient import Patient

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Distinct", "findings_of", "is_dask", "read_rows", "refuse_bad_rows"]

_FRAME_LIBRARIES: Final = frozenset({"pandas", "pyarrow", "polars", "dask", "dask_expr"})
# Bad rows listed by number after the first (the message stays readable).
_LISTED: Final = 10


def _library(value: object) -> str:
    return type(value).__module__.split(".")[0]


def is_dask(value: object) -> bool:
    """Whether ``value`` is a Dask DataFrame (simulated partition by partition)."""
    return _library(value) in {"dask", "dask_expr"}


def _spec() -> dict[str, tuple[str, bool]]:
    from cluneal.cohort._input import FINDINGS_COLUMNS, PATIENT_COLUMNS

    optional = {name: (kind, False) for name, (kind, _) in PATIENT_COLUMNS.items()}
    return {**optional, **FINDINGS_COLUMNS}


def check_columns(frame: Any) -> None:
    """Refuse a frame without the cohort columns, or with a column of the wrong type.

    Raises:
        ClunealError: Not a frame, or a column missing or of the wrong type (named).
    """
    from cluneal.cohort._input import read_columns

    read_columns(frame, _spec())


def read_rows(frame: Any) -> tuple[list[Findings | None], list[tuple[int, str]]]:
    """The findings of each row of an eager frame (``None`` for a bad row), and the bad rows.

    Returns:
        The findings of each row, and (row number in this frame, reason) of each bad row.

    Raises:
        ClunealError: Not a frame, or a column missing or of the wrong type (named).
    """
    from cluneal.cohort._input import findings_input, patient_input, read_columns

    _, columns = read_columns(frame, _spec())
    found: list[Findings | None] = []
    bad: list[tuple[int, str]] = []
    for row in range(columns.rows):
        try:
            Patient.model_validate(patient_input(columns, row))
            found.append(Findings.model_validate(findings_input(columns, row)))
        except (ValidationError, ClunealError) as exc:
            found.append(None)
            reason = "; ".join(problems(exc)) if isinstance(exc, ValidationError) else str(exc)
            bad.append((row, reason))
    return found, bad


def refuse_bad_rows(bad: Sequence[tuple[int, str]], rows: int) -> None:
    """Refuse a cohort with a bad row, naming the first and counting the others.

    Raises:
        InvalidArgumentError: A row is bad, or there is no row.
    """
    if bad:
        row, reason = bad[0]
        expected = f"a valid row ({reason})"
        others = [number for number, _ in bad[1:]]
        if others:
            listed = ", ".join(str(n) for n in others[:_LISTED])
            more = "" if len(others) <= _LISTED else ", ..."
            expected += f"; {len(others)} other row(s) are bad too: {listed}{more}"
        raise InvalidArgumentError(f"row {row}", "its values", expected)
    if rows == 0:
        raise InvalidArgumentError("patients", "an empty frame", "at least one patient")


def findings_of(patients: object) -> list[Findings]:
    """The findings of each patient: an eager cohort frame, or (Patient, Findings) pairs.

    Raises:
        InvalidArgumentError: Not a cohort, a bad pair or row, or no patient.
        ClunealError: A frame's column missing or of the wrong type.
    """
    if _library(patients) in _FRAME_LIBRARIES:
        found, bad = read_rows(patients)
        refuse_bad_rows(bad, len(found))
        return [f for f in found if f is not None]
    if isinstance(patients, str | bytes) or not isinstance(patients, Sequence):
        raise InvalidArgumentError(
            "patients", patients, "a sequence of (Patient, Findings) pairs or a cohort frame"
        )
    pairs: list[Findings] = []
    for i, pair in enumerate(patients):
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidArgumentError(f"patients[{i}]", pair, "a (Patient, Findings) pair")
        coerce_model(pair[0], Patient, f"patients[{i}][0]")
        pairs.append(coerce_model(pair[1], Findings, f"patients[{i}][1]"))
    if not pairs:
        raise InvalidArgumentError("patients", patients, "at least one patient")
    return pairs


class Distinct:
    """The distinct findings of a cohort in order of first appearance, each numbered."""

    def __init__(self) -> None:
        self.number: dict[str, int] = {}
        self.findings: list[Findings] = []

    def add(self, findings: Findings) -> int:
        """The number of these findings (a new one when first seen)."""
        key = findings.model_dump_json()
        found = self.number.get(key)
        if found is None:
            found = self.number[key] = len(self.findings)
            self.findings.append(findings)
        return found

    def add_all(self, findings: Iterable[Findings]) -> list[int]:
        """The number of each of these findings."""
        return [self.add(f) for f in findings]
