"""``cluneal cohort INPUT OUTPUT``: Parquet or CSV in and out, in record batches.

The input is read one record batch at a time (pyarrow), each batch goes
through :func:`cluneal.cohort.care_plans` or :func:`cluneal.cohort.schedules`
as a pyarrow Table and is written before the next is read, so memory stays
bounded by the batch size, not the file. The output is written to
``OUTPUT.partial`` and renamed when complete: a failed run leaves no
half-written file. CSV quantity columns are read as numbers in the column's
unit (a CSV cell has no type to tell quantity text from a number); in CSV
output, ``alert_rule_ids`` is written as rule ids separated by ``;``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TextIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from cluneal.cohort import _frames
from cluneal.cohort._input import BOOLEAN, FINDINGS_COLUMNS, PATIENT_COLUMNS, QUANTITY
from cluneal.errors import ClunealError, show

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import Drug

__all__ = ["BATCH_ROWS", "Summary", "run"]

BATCH_ROWS: Final = 65_536
"""Rows per record batch: a few tens of MB of working memory, whatever the file's size."""

_FORMATS: Final = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


@dataclass
class Summary:
    """What a run did: rows, errors, and counts by band and by next step (or drug outcome)."""

    rows: int = 0
    errors: int = 0
    by_band: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)
    outcome_name: str = "next step"

    def add(self, table: Any) -> None:
        """Count one output batch."""
        self.rows += table.num_rows
        self.errors += pc.count(table["error"]).as_py()  # non-null messages
        self._count(self.by_band, table["renal_band"])
        if "next_step" in table.column_names:
            self._count(self.by_outcome, table["next_step"])
        else:
            started = pc.if_else(
                pc.fill_null(table["contraindicated"], fill_value=False),
                "contraindicated",
                pc.if_else(pc.is_null(table["error"]), "scheduled", None),
            )
            self._count(self.by_outcome, started)

    @staticmethod
    def _count(counter: Counter[str], column: Any) -> None:
        for item in pc.value_counts(column).to_pylist():
            value = item["values"]
            counter["error" if value is None else str(value)] += item["counts"]

    def lines(self) -> list[str]:
        """The summary, one line per count."""

        def spread(counter: Counter[str]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in sorted(counter.items())) or "none"

        return [
            f"rows: {self.rows:,}; errors: {self.errors:,}",
            f"by band: {spread(self.by_band)}",
            f"by {self.outcome_name}: {spread(self.by_outcome)}",
        ]


def _format(path: str, what: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    kind = _FORMATS.get(suffix)
    if kind is None:
        raise ClunealError(f"{what} {show(path)}: expected a file ending in .parquet, .pq or .csv")
    return kind


def _csv_types(drug: Drug | None) -> dict[str, Any]:
    """Column types for CSV: numbers for quantities, booleans for flags, text for the rest."""
    spec = PATIENT_COLUMNS if drug is not None else {**PATIENT_COLUMNS, **FINDINGS_COLUMNS}
    types: dict[str, Any] = {}
    for name, (kind, _) in spec.items():
        types[name] = (
            pa.float64() if kind == QUANTITY else pa.bool_() if kind == BOOLEAN else pa.string()
        )
    return types


def _batches(path: str, kind: str, drug: Drug | None) -> tuple[Iterator[Any], Any, int | None]:
    """(record batches, schema, row count when known) of the input."""
    try:
        if kind == "parquet":
            source = pq.ParquetFile(path)
            return (
                source.iter_batches(batch_size=BATCH_ROWS),
                source.schema_arrow,
                source.metadata.num_rows,
            )
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=8 << 20),
            # An empty cell is unknown (null), in text columns too.
            convert_options=pa_csv.ConvertOptions(
                column_types=_csv_types(drug), strings_can_be_null=True
            ),
        )
        return iter(reader), reader.schema, None
    except (OSError, pa.ArrowException) as exc:
        raise ClunealError(f"cannot read {show(path)}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _for_csv(table: Any) -> Any:
    """The output with its list column as ';'-separated text (CSV has no lists)."""
    if "alert_rule_ids" not in table.column_names:
        return table
    ids = table["alert_rule_ids"]
    joined = pa.array(
        [None if v is None else ";".join(v) for v in ids.to_pylist()], type=pa.string()
    )
    return table.set_column(table.column_names.index("alert_rule_ids"), "alert_rule_ids", joined)


class _Progress:
    """Rows done, on stderr, redrawn in place (only on a terminal)."""

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total

    def __call__(self, done: int) -> None:
        if self.total:
            filled = done * 25 // self.total
            bar = f"[{'#' * filled}{'.' * (25 - filled)}] {done * 100 // self.total:3d}% "
        else:
            bar = ""
        self.stream.write(f"\rcohort {bar}{done:,} rows")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def run(
    source: str,
    target: str,
    *,
    drug: Drug | None,
    knowledge: KnowledgeBase | None,
    quiet: bool,
    stream: TextIO | None = None,
) -> Summary:
    """Stream INPUT through the cohort functions into OUTPUT.

    Args:
        source: A .parquet/.pq or .csv file.
        target: Where to write (.parquet/.pq or .csv); replaced only when complete.
        drug: Schedules of this drug; ``None`` for care plans.
        knowledge: The knowledge base; ``None`` for the built-in one.
        quiet: No progress bar.
        stream: Where the progress bar goes (default stderr, and only on a terminal).

    Returns:
        The summary.

    Raises:
        ClunealError: A file that cannot be read or written, or a frame-level
            problem (missing column, wrong type), named.
    """
    in_kind, out_kind = _format(source, "input"), _format(target, "output")
    batches, schema, total = _batches(source, in_kind, drug)
    out = sys.stderr if stream is None else stream
    progress = None if quiet or not out.isatty() else _Progress(out, total)
    summary = Summary(outcome_name="next step" if drug is None else "outcome")
    partial = f"{target}.partial"
    writer: Any = None

    def process(table: Any) -> Any:
        if drug is None:
            return _frames.care_plans(table, knowledge=knowledge)
        return _frames.schedules(table, drug, knowledge=knowledge)

    try:
        first = True
        for batch in _read(batches, source):
            result = process(pa.Table.from_batches([batch], schema=batch.schema))
            if writer is None:
                writer = _writer(partial, out_kind, result.schema)
            _write(writer, out_kind, result)
            summary.add(result)
            first = False
            if progress is not None:
                progress(summary.rows)
        if first:  # an empty input still gives a file with every column
            result = process(schema.empty_table())
            writer = _writer(partial, out_kind, result.schema)
            _write(writer, out_kind, result)
        writer.close()
        writer = None
        os.replace(partial, target)
    except (OSError, pa.ArrowException) as exc:
        raise ClunealError(f"cannot write {show(target)}: {_one_line(exc)}") from None
    finally:
        if progress is not None:
            progress.done()
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
        with contextlib.suppress(OSError):
            os.remove(partial)
    return summary


def _read(batches: Iterator[Any], source: str) -> Iterator[Any]:
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as exc:
            raise ClunealError(f"cannot read {show(source)}: {_one_line(exc)}") from None
        yield batch


def _writer(path: str, kind: str, schema: Any) -> Any:
    if kind == "parquet":
        return pq.ParquetWriter(path, schema)
    fields = [pa.field(f.name, pa.string()) if f.name == "alert_rule_ids" else f for f in schema]
    return pa_csv.CSVWriter(path, pa.schema(fields))


def _write(writer: Any, kind: str, table: Any) -> None:
    writer.write_table(_for_csv(table) if kind == "csv" else table)
