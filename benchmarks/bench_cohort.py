"""Cohort throughput: cluneal.cohort.care_plans vs the scalar loop, on the same rows, in one run.

Reports (never asserts on time):

1. a synthetic cohort of numeric columns (age, weight, height, creatinine, flags,
   findings) through ``cohort.care_plans`` as a pyarrow Table, rows/s, including
   building the output; the scalar loop (``care_plan`` per row) on the first rows
   of the same frame, rows/s, and the ratio;
2. the same with quantity text in the input (``"72.4 kg"``, ``"97 umol/L"``);
3. peak memory (maximum resident set size, from ``/usr/bin/time -v``) of
   ``cluneal cohort`` on a Parquet file of the same rows.

Goals (issue 13): 1,000,000 numeric rows in <= 5 s on one core; with quantity
strings <= 15 s; ``cluneal cohort`` on 1,000,000 rows under 1 GB.
``python benchmarks/bench_cohort.py --rows 1000000 --scalar-rows 2000``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import cluneal
from cluneal import cohort


def make_cohort(rows: int, seed: int = 2026) -> pa.Table:
    rng = np.random.default_rng(seed)

    def nulls(p: float) -> np.ndarray:
        return rng.random(rows) < p

    age = rng.integers(18, 96, rows).astype(np.float64)
    weight = np.round(rng.normal(78, 18, rows).clip(35, 220), 1)
    height = np.round(rng.normal(170, 10, rows).clip(145, 205), 1)
    scr = np.round(rng.lognormal(0.0, 0.45, rows).clip(0.3, 12), 2)
    sites = np.array(["iliac_crest", "caudal_to_psis", "other", "none"], dtype=object)
    return pa.table(
        {
            "patient_id": pa.array(np.arange(rows)),
            "age": pa.array(age),
            "sex": pa.array(np.where(rng.random(rows) < 0.55, "female", "male")),
            "weight_kg": pa.array(weight, mask=nulls(0.03)),
            "height_cm": pa.array(height, mask=nulls(0.3)),
            "serum_creatinine_mg_dl": pa.array(scr, mask=nulls(0.1)),
            "on_dialysis": pa.array(rng.random(rows) < 0.01),
            "hepatic_impairment": pa.array(
                np.where(rng.random(rows) < 0.93, "none", "mild").astype(object)
            ),
            "low_back_pain": pa.array(rng.random(rows) < 0.9),
            "deep_aching_poorly_localized": pa.array(rng.random(rows) < 0.75),
            "tender_point_site": pa.array(sites[rng.integers(0, 4, rows)], mask=nulls(0.2)),
            "tender_point_reproduces_pain": pa.array(rng.random(rows) < 0.7),
            "block_relief_percent": pa.array(
                (rng.integers(0, 11, rows) * 10).astype(np.float64), mask=nulls(0.6)
            ),
            "block_relief_days": pa.array(
                rng.choice([1.0, 14.0, 60.0, 120.0], rows), mask=nulls(0.7)
            ),
        }
    )


def with_quantity_text(table: pa.Table) -> pa.Table:
    """The same rows with weight and creatinine as quantity text."""
    weight = [None if w is None else f"{w} kg" for w in table["weight_kg"].to_pylist()]
    umol = [
        None if s is None else f"{round(s * 88.4)} umol/L"
        for s in table["serum_creatinine_mg_dl"].to_pylist()
    ]
    table = table.set_column(
        table.column_names.index("weight_kg"), "weight_kg", pa.array(weight, pa.string())
    )
    table = table.drop_columns(["serum_creatinine_mg_dl"])
    return table.append_column("serum_creatinine_umol_l", pa.array(umol, pa.string()))


def scalar_rows_per_s(table: pa.Table, rows: int) -> float:
    """``care_plan`` per row, on the first rows of the table, as a user's loop would."""
    from cluneal.cohort._input import (
        FINDINGS_COLUMNS,
        PATIENT_COLUMNS,
        findings_input,
        patient_input,
        read_columns,
    )

    _, columns = read_columns(table.slice(0, rows), {**PATIENT_COLUMNS, **FINDINGS_COLUMNS})
    kb = cluneal.knowledge_base()
    start = time.perf_counter()
    for i in range(columns.rows):
        with contextlib.suppress(cluneal.ClunealError, ValueError):
            cluneal.care_plan(patient_input(columns, i), findings_input(columns, i), knowledge=kb)
    return columns.rows / (time.perf_counter() - start)


def timed(label: str, table: pa.Table, scalar_rows: int) -> None:
    start = time.perf_counter()
    out = cohort.care_plans(table)
    elapsed = time.perf_counter() - start
    rate = table.num_rows / elapsed
    scalar = scalar_rows_per_s(table, scalar_rows)
    errors = out.num_rows - out["error"].null_count
    print(
        f"{label}: {table.num_rows:,} rows in {elapsed:.2f} s = {rate:,.0f} rows/s "
        f"({errors:,} error rows); scalar loop {scalar:,.0f} rows/s on the first "
        f"{scalar_rows:,} rows; ratio {rate / scalar:.0f}x"
    )


def peak_memory(table: pa.Table) -> None:
    time_binary = shutil.which("time") or "/usr/bin/time"
    if not os.path.exists(time_binary):
        print("cluneal cohort peak memory: /usr/bin/time not found, not measured")
        return
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "cohort.parquet")
        pq.write_table(table, source)
        command = [
            time_binary,
            "-v",
            sys.executable,
            "-m",
            "cluneal",
            "cohort",
            source,
            os.path.join(folder, "plans.parquet"),
            "--quiet",
        ]
        start = time.perf_counter()
        # Our own interpreter on a file we just wrote.
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        elapsed = time.perf_counter() - start
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if done.returncode != 0 or found is None:
            print(f"cluneal cohort failed: {done.stderr.strip()[-300:]}")
            return
        print(
            f"cluneal cohort on {table.num_rows:,} rows of Parquet: {elapsed:.1f} s, "
            f"peak memory {int(found.group(1)) / 1024:,.0f} MB (maximum resident set size)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scalar-rows", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=1, help="ignored (bench_titration's)")
    args = parser.parse_args()
    table = make_cohort(args.rows)
    cohort.care_plans(table.slice(0, 1000))  # warm: knowledge base loaded, caches primed
    timed("care_plans, numeric columns", table, args.scalar_rows)
    timed("care_plans, quantity text", with_quantity_text(table), args.scalar_rows)
    peak_memory(table)


if __name__ == "__main__":
    main()
