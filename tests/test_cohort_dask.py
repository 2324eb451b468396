"""Dask: a lazy Dask DataFrame out, computed on a real two-process LocalCluster.

The workers are separate processes, so the knowledge base (a caller's own, with
a local protocol), the rows' errors and the results all cross a pickle. Small
on purpose: 240 rows in four partitions.
"""

from __future__ import annotations

from typing import Any

import dask.dataframe as _dd
import pandas as pd
import pytest

import cluneal
from cluneal import cohort
from tests.cohort_reference import (
    care_plan_reference,
    random_records,
    same,
    schedule_reference,
)

# dask has no type hints.
dd: Any = _dd
KB = cluneal.knowledge_base()
FLAGS = (
    "on_dialysis",
    "hla_b_1502",
    "low_back_pain",
    "deep_aching_poorly_localized",
    "tender_point_reproduces_pain",
)


def pandas_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """pandas' nullable booleans: Dask turns object columns into text (dataframe.convert-string)."""
    frame = pd.DataFrame(records)
    for column in FLAGS:
        if column in frame:
            frame[column] = frame[column].astype("boolean")
    return frame


@pytest.fixture
def client(dask_client: Any) -> Any:
    """The session's two-worker cluster (tests/conftest.py)."""
    return dask_client


def _check(got: pd.DataFrame, expected: list[dict[str, Any]]) -> None:
    assert len(got) == len(expected)
    for index, (row, reference) in enumerate(zip(got.to_dict("records"), expected, strict=True)):
        for column, value in reference.items():
            assert same(row[column], value), (index, column, row[column], value)


def test_care_plans_on_a_two_worker_cluster(client: Any) -> None:
    records = random_records(240, seed=7)
    frame = dd.from_pandas(pandas_frame(records), npartitions=4)
    lazy = cohort.care_plans(frame)
    assert isinstance(lazy, dd.DataFrame)
    assert "next_step" in lazy.columns  # known before computing (meta)
    got = lazy.compute()
    assert list(got["patient_id"]) == [r["patient_id"] for r in records]
    assert got["error"].notna().any()  # error rows came back from the workers too
    _check(got, [care_plan_reference(r, KB) for r in records])
    assert len(client.scheduler_info()["workers"]) == 2


def test_schedules_with_a_local_protocol_on_the_cluster(client: Any) -> None:
    protocol = cluneal.LocalProtocol(
        name="st-elsewhere-pain", version="3", max_daily_dose={"gabapentin": "1200 mg/day"}
    )
    kb = KB.with_protocol(protocol)
    records = random_records(120, seed=8, findings=False)
    frame = dd.from_pandas(pandas_frame(records), npartitions=3)
    got = cohort.schedules(frame, "gabapentin", knowledge=kb).compute()
    expected = [schedule_reference(r, "gabapentin", kb) for r in records]
    _check(got, expected)
    assert got["max_daily_dose_mg"].max() <= 1200


def test_wrong_column_type_is_refused_before_computing() -> None:
    frame = dd.from_pandas(
        pd.DataFrame({"age": [True], "sex": ["male"], "weight_kg": [70.0]}), npartitions=1
    )
    with pytest.raises(cluneal.ClunealError, match="column 'age'"):
        cohort.care_plans(frame)
