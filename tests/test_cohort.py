"""cluneal.cohort: every output value equals the scalar functions' result for the same row.

The reference (tests/cohort_reference.py) calls only the public scalar
functions. The fixed-seed run has 20,000 rows through pandas (care plans) and
the schedules of every drug on slices of them; pyarrow and polars repeat slices
of the same rows; Hypothesis adds derandomised frames with list columns,
integer ages and quantity text. Bigger random runs: ``nox -s fuzz``.
"""

from __future__ import annotations

import os
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cluneal
from cluneal import cohort
from cluneal.cohort import _frames
from cluneal.cohort._rows import schedule_row
from cluneal.drug import Drug
from tests.cohort_reference import (
    CONDITIONS,
    MEDICATIONS,
    PLAN_OUT,
    SCHEDULE_OUT,
    care_plan_reference,
    findings_of,
    patient_of,
    random_records,
    same,
    schedule_reference,
)

KB = cluneal.knowledge_base()
ROWS = int(os.environ.get("CLUNEAL_COHORT_ROWS", "20000"))


def rows_of(native: Any) -> list[dict[str, Any]]:
    """The output rows as Python values, whatever the frame kind."""
    rows: list[dict[str, Any]] = nw.from_native(native, eager_only=True).rows(named=True)
    for row in rows:
        ids = row.get("alert_rule_ids")
        if ids is not None and not isinstance(ids, list):
            row["alert_rule_ids"] = list(ids)
    return rows


def assert_same(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(got) == len(expected)
    for index, (row, reference) in enumerate(zip(got, expected, strict=True)):
        for column, value in reference.items():
            assert same(row[column], value), (index, column, row[column], value)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return random_records(ROWS, seed=20261201)


@pytest.fixture(scope="module")
def plan_reference(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [care_plan_reference(r, KB) for r in records]


def test_care_plans_equal_scalar_on_fixed_seed_rows_pandas(
    records: list[dict[str, Any]], plan_reference: list[dict[str, Any]]
) -> None:
    frame = pd.DataFrame(records)
    out = cohort.care_plans(frame)
    assert list(out["patient_id"]) == [r["patient_id"] for r in records]
    assert_same(rows_of(out), plan_reference)
    # The run covers what it claims to: errors, every band, drugs and none.
    errors = sum(r["error"] is not None for r in plan_reference)
    assert 0 < errors < len(records) // 2
    assert {r["renal_band"] for r in plan_reference} >= {b.value for b in cluneal.RenalBand}
    assert {r["drug"] for r in plan_reference} >= {"nortriptyline", "carbamazepine", None}


@pytest.mark.parametrize("drug", list(Drug))
def test_schedules_equal_scalar_on_fixed_seed_rows(
    records: list[dict[str, Any]], drug: Drug
) -> None:
    part = records[: ROWS // 4]
    expected = [schedule_reference(r, drug.value, KB) for r in part]
    assert_same(rows_of(cohort.schedules(pd.DataFrame(part), drug)), expected)
    if drug in {Drug.CARBAMAZEPINE, Drug.NORTRIPTYLINE, Drug.TRAMADOL, Drug.NALTREXONE}:
        assert any(r["contraindicated"] for r in expected)


@pytest.mark.parametrize("kind", ["pyarrow", "polars"])
def test_care_plans_equal_scalar_through_pyarrow_and_polars(
    records: list[dict[str, Any]], plan_reference: list[dict[str, Any]], kind: str
) -> None:
    part = records[: ROWS // 4]
    frame: Any = pa.Table.from_pylist(part) if kind == "pyarrow" else pl.DataFrame(part)
    out = cohort.care_plans(frame)
    assert type(out) is type(frame)
    assert_same(rows_of(out), plan_reference[: len(part)])


# Hypothesis: list columns, integer ages, quantity text, nulls anywhere.
_record = st.fixed_dictionaries(
    {
        "age": st.one_of(st.none(), st.integers(10, 130)),
        "sex": st.sampled_from(["female", "male", "x"]),
        "weight_kg": st.one_of(
            st.none(),
            st.sampled_from(["70 kg", "154 lb", "70", "300 lb", "15 kg"]),
        ),
        "height_cm": st.one_of(st.none(), st.floats(120, 210).map(lambda v: round(v, 1))),
        "serum_creatinine_umol_l": st.one_of(st.none(), st.integers(5, 2500).map(float)),
        "on_dialysis": st.one_of(st.none(), st.booleans()),
        "hepatic_impairment": st.one_of(st.none(), st.sampled_from(["none", "mild", "severe"])),
        "conditions": st.one_of(st.none(), st.lists(st.sampled_from(CONDITIONS), max_size=3)),
        "medications": st.one_of(
            st.none(), st.lists(st.sampled_from([*MEDICATIONS, "Not A Drug!"]), max_size=3)
        ),
        "hla_b_1502": st.one_of(st.none(), st.booleans()),
        "low_back_pain": st.one_of(st.none(), st.booleans()),
        "deep_aching_poorly_localized": st.one_of(st.none(), st.booleans()),
        "tender_point_site": st.one_of(
            st.none(), st.sampled_from(["iliac_crest", "caudal_to_psis", "other", "none", "knee"])
        ),
        "tender_point_reproduces_pain": st.one_of(st.none(), st.booleans()),
        "block_relief_percent": st.one_of(st.none(), st.integers(-5, 105)),
        "block_relief_days": st.one_of(st.none(), st.integers(0, 200)),
    }
)

_SCHEMA: dict[str, Any] = {
    "age": pl.Int64,
    "sex": pl.String,
    "weight_kg": pl.String,
    "height_cm": pl.Float64,
    "serum_creatinine_umol_l": pl.Float64,
    "on_dialysis": pl.Boolean,
    "hepatic_impairment": pl.String,
    "conditions": pl.List(pl.String),
    "medications": pl.List(pl.String),
    "hla_b_1502": pl.Boolean,
    "low_back_pain": pl.Boolean,
    "deep_aching_poorly_localized": pl.Boolean,
    "tender_point_site": pl.String,
    "tender_point_reproduces_pain": pl.Boolean,
    "block_relief_percent": pl.Int64,
    "block_relief_days": pl.Int64,
}


@given(st.lists(_record, min_size=1, max_size=12), st.sampled_from(list(Drug)))
def test_hypothesis_frames_equal_scalar(records: list[dict[str, Any]], drug: Drug) -> None:
    frame = pl.DataFrame(records, schema=_SCHEMA)
    assert_same(rows_of(cohort.care_plans(frame)), [care_plan_reference(r, KB) for r in records])
    expected = [schedule_reference(r, drug.value, KB) for r in records]
    assert_same(rows_of(cohort.schedules(frame, drug)), expected)


# Edge cases --------------------------------------------------------------------------------


def _three_kinds(data: dict[str, list[Any]]) -> list[Any]:
    return [pd.DataFrame(data), pa.table(data), pl.DataFrame(data)]


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_empty_frame_gives_empty_frame_with_the_output_columns(kind: int) -> None:
    frame = _three_kinds(
        {
            "age": pa.array([], pa.float64()),
            "sex": pa.array([], pa.string()),
            "weight_kg": pa.array([], pa.float64()),
        }
    )[0 if kind == 0 else kind]
    if kind == 0:
        frame = pd.DataFrame(
            {
                "age": pd.Series([], dtype=float),
                "sex": pd.Series([], dtype=str),
                "weight_kg": pd.Series([], dtype=float),
            }
        )
    for out, names in (
        (cohort.care_plans(frame), PLAN_OUT),
        (cohort.schedules(frame, "gabapentin"), SCHEDULE_OUT),
    ):
        columns = list(nw.from_native(out, eager_only=True).columns)
        assert columns == ["age", "sex", "weight_kg", *names]
        assert len(out) == 0


def test_only_bad_rows_are_all_reported_in_order() -> None:
    records: list[dict[str, Any]] = [
        {"patient_id": "child", "age": 12.0, "sex": "female", "weight_kg": 40.0},
        {"patient_id": "nosex", "age": 40.0, "sex": None, "weight_kg": 70.0},
        {"patient_id": "feather", "age": 40.0, "sex": "male", "weight_kg": 2.0},
        {"patient_id": "noage", "age": None, "sex": "male", "weight_kg": 70.0},
    ]
    for frame in (pd.DataFrame(records), pa.Table.from_pylist(records), pl.DataFrame(records)):
        rows = rows_of(cohort.schedules(frame, "pregabalin"))
        assert [r["patient_id"] for r in rows] == ["child", "nosex", "feather", "noage"]
        assert all(r["error"] for r in rows)
        assert "at least 18 years" in rows[0]["error"]
        assert "sex" in rows[1]["error"]
        assert "weight" in rows[2]["error"]
        assert all(same(r["renal_band"], None) and same(r["steps"], None) for r in rows)
        assert_same(rows, [schedule_reference(r, "pregabalin", KB) for r in records])


def test_missing_optional_columns_are_unknown_not_normal() -> None:
    # Only the three required columns: creatinine unknown -> most restrictive band.
    frame = pl.DataFrame({"age": [45, 70], "sex": ["female", "male"], "weight_kg": [70.0, 80.0]})
    rows = rows_of(cohort.schedules(frame, "gabapentin"))
    assert [r["renal_band"] for r in rows] == ["end_stage", "end_stage"]
    assert all(r["crcl_ml_min"] is None for r in rows)
    assert "titration.renal.unknown" in rows[0]["alert_rule_ids"]
    plans = rows_of(cohort.care_plans(frame))
    # Findings all unknown: the pathway starts with the evaluation.
    assert {r["next_step"] for r in plans} == {"initial_evaluation"}


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("age", [True, False]),
        ("weight_kg", [True, False]),
        ("sex", [1, 2]),
        ("on_dialysis", [1.0, 0.0]),
        ("conditions", [1, 2]),
        ("block_relief_percent", [True, False]),
    ],
)
def test_wrong_column_types_name_the_column(column: str, values: list[Any]) -> None:
    data: dict[str, list[Any]] = {
        "age": [40, 50],
        "sex": ["female", "male"],
        "weight_kg": [60.0, 70.0],
    }
    data[column] = values
    for frame in (pa.table(data), pl.DataFrame(data)):
        with pytest.raises(cluneal.ClunealError, match=f"column '{column}'"):
            cohort.care_plans(frame)


def test_missing_required_column_and_non_frames_are_refused() -> None:
    with pytest.raises(cluneal.ClunealError, match="'weight_kg'"):
        cohort.care_plans(pl.DataFrame({"age": [40], "sex": ["male"]}))
    with pytest.raises(cluneal.ClunealError, match="expected a pandas DataFrame"):
        cohort.care_plans([{"age": 40}])
    with pytest.raises(cluneal.ClunealError, match="drug"):
        cohort.schedules(
            pl.DataFrame({"age": [40], "sex": ["male"], "weight_kg": [70.0]}), "aspirin"
        )
    with pytest.raises(cluneal.ClunealError, match="knowledge"):
        cohort.care_plans(pl.DataFrame({"age": [40]}), knowledge="builtin")  # type: ignore[arg-type]


def test_output_column_clash_is_refused() -> None:
    frame = pl.DataFrame({"age": [40], "sex": ["male"], "weight_kg": [70.0], "error": ["x"]})
    with pytest.raises(cluneal.ClunealError, match="'error'"):
        cohort.schedules(frame, "gabapentin")


def test_both_creatinine_columns_on_one_row_is_that_rows_error() -> None:
    frame = pd.DataFrame(
        {
            "age": [40.0, 40.0],
            "sex": ["male", "male"],
            "weight_kg": [70.0, 70.0],
            "serum_creatinine_mg_dl": [1.0, None],
            "serum_creatinine_umol_l": [88.4, 88.4],
        }
    )
    rows = rows_of(cohort.schedules(frame, "gabapentin"))
    assert "both given" in rows[0]["error"]
    assert same(rows[1]["error"], None)
    # 88.4 umol/L is 1.0 mg/dL: CG (140-40) x 70 / 72 = 97.2 mL/min.
    assert rows[1]["crcl_ml_min"] == pytest.approx(97.22, abs=0.01)


def test_pandas_index_and_other_columns_are_carried_through() -> None:
    frame = pd.DataFrame(
        {"mrn": ["x", "y"], "age": [40, 80], "sex": ["male", "female"], "weight_kg": [70.0, 50.0]},
        index=[7, 3],
    )
    out = cohort.schedules(frame, "naltrexone")
    assert list(out.index) == [7, 3]
    assert list(out["mrn"]) == ["x", "y"]
    assert isinstance(out["alert_rule_ids"].iloc[0], list)


def test_numeric_rows_share_one_scalar_call_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = schedule_row

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_frames, "schedule_row", counting)
    rng = np.random.default_rng(3)
    n = 2000
    frame = pl.DataFrame(
        {
            "age": rng.integers(41, 60, n),  # every age group the same (safety.toml: over 40)
            "sex": ["female"] * n,
            "weight_kg": rng.uniform(60, 80, n),
            "serum_creatinine_mg_dl": rng.uniform(0.7, 0.9, n),
        }
    )
    rows = rows_of(cohort.schedules(frame, "pregabalin"))
    assert len(calls) == 1  # every row: normal band, same age groups, same key
    assert len({r["crcl_ml_min"] for r in rows}) > 1000  # each row keeps its own clearance


def test_progress_bar_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pl.DataFrame({"age": [40, 50], "sex": ["male", "female"], "weight_kg": [70.0, 60.0]})
    cohort.schedules(frame, "gabapentin", progress=True)
    err = capsys.readouterr().err
    assert "100%" in err


# explain, steps, alerts ----------------------------------------------------------------------


def test_explain_returns_the_scalar_result_of_the_row(records: list[dict[str, Any]]) -> None:
    part = records[:200]
    frame = pl.DataFrame(part)
    good = next(i for i, r in enumerate(part) if care_plan_reference(r, KB)["error"] is None)
    plan = cohort.explain(frame, good)
    assert isinstance(plan, cluneal.CarePlan)
    expected = care_plan_reference(part[good], KB)
    assert plan.recommendation.step.value == expected["next_step"]
    assert [a.rule_id for a in plan.alerts] == expected["alert_rule_ids"]
    schedule = cohort.explain(pd.DataFrame(part), good, "pregabalin")
    assert isinstance(schedule, cluneal.TitrationSchedule)
    assert (
        schedule.max_daily_dose_mg
        == schedule_reference(part[good], "pregabalin", KB)["max_daily_dose_mg"]
    )
    bad = next(i for i, r in enumerate(part) if care_plan_reference(r, KB)["error"] is not None)
    with pytest.raises((cluneal.ClunealError, ValueError)) as raised:
        cohort.explain(frame, bad)
    assert str(raised.value) == care_plan_reference(part[bad], KB)["error"]
    for row in (-1, 200, True, "3"):
        with pytest.raises(cluneal.ClunealError, match="row"):
            cohort.explain(frame, row)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["pandas", "pyarrow", "polars"])
def test_steps_and_alerts_tables_list_every_step_and_alert_in_row_order(
    records: list[dict[str, Any]], kind: str
) -> None:
    part = records[:300]
    frame: Any = {
        "pandas": pd.DataFrame,
        "pyarrow": pa.Table.from_pylist,
        "polars": pl.DataFrame,
    }[kind](part)
    for drug in (None, "gabapentin", "carbamazepine"):
        long_steps = rows_of(cohort.steps(frame, drug))
        long_alerts = rows_of(cohort.alerts(frame, drug))
        want_steps: list[tuple[Any, ...]] = []
        want_alerts: list[tuple[Any, ...]] = []
        for index, record in enumerate(part):
            try:
                if drug is None:
                    plan = cluneal.care_plan(patient_of(record), findings_of(record), knowledge=KB)
                    schedules = plan.medications
                    found = plan.alerts
                else:
                    schedule = cluneal.titration_schedule(drug, patient_of(record), knowledge=KB)
                    schedules, found = (schedule,), schedule.alerts
            except cluneal.ContraindicatedError as exc:
                schedules, found = (), exc.alerts
            except (cluneal.ClunealError, ValueError):
                continue
            want_steps.extend(
                (index, s.day, s.dose_mg, s.doses_per_day, s.daily_dose_mg)
                for sch in schedules
                for s in sch.steps
            )
            want_alerts.extend(
                (index, a.rule_id, a.severity.value, ", ".join(a.drugs) or None) for a in found
            )
        got_steps = [
            (r["row"], r["day"], r["dose_mg"], r["doses_per_day"], r["daily_dose_mg"])
            for r in long_steps
        ]
        got_alerts = [(r["row"], r["rule_id"], r["severity"], r["drug"]) for r in long_alerts]
        assert got_steps == want_steps
        assert [tuple(None if same(v, None) else v for v in a) for a in got_alerts] == want_alerts
        assert want_steps and want_alerts


def test_long_tables_of_an_empty_frame_are_empty() -> None:
    frame = pl.DataFrame(
        {"age": [], "sex": [], "weight_kg": []},
        schema={"age": pl.Float64, "sex": pl.String, "weight_kg": pl.Float64},
    )
    assert rows_of(cohort.steps(frame, "gabapentin")) == []
    assert rows_of(cohort.alerts(frame)) == []


def test_the_package_attribute_and_block_branches() -> None:
    assert cluneal.cohort.care_plans is cohort.care_plans
    records: list[dict[str, Any]] = [
        {
            "age": 40.0,
            "sex": "female",
            "weight_kg": 60.0,
            "low_back_pain": True,
            "deep_aching_poorly_localized": True,
            "tender_point_site": "iliac_crest",
            "tender_point_reproduces_pain": True,
            "block_relief_percent": 80.0,
            "block_branches": branches,
        }
        for branches in ("superior", "middle", None, "superior;middle")
    ]
    rows = rows_of(cohort.care_plans(pl.DataFrame(records)))
    for record, row in zip(records, rows, strict=True):
        findings = findings_of(record)
        if record["block_branches"] is not None:
            findings["block"]["branches"] = record["block_branches"].split(";")
        plan = cluneal.care_plan(patient_of(record), findings, knowledge=KB)
        assert row["classification"] == plan.assessment.classification.value
        assert row["next_step"] == plan.recommendation.step.value
