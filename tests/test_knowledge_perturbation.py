"""Every number of the knowledge base changes some output: no dead parameter.

Each numeric value of each data file is perturbed, one at a time; the file is
validated again into a knowledge base (``KnowledgeBase.from_documents``), and a
probe set of schedules, regimens and recommendations must change. A value that
only documentation shows is listed in ``knowledge/documentation_only.toml``
with its reason; the citations' years are bibliography. ``PENDING`` names the
values still dead, each with what is to be decided: the test fails when one of
them comes alive (take it off the list) or when any other value is dead.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cluneal import (
    ClunealError,
    Drug,
    KnowledgeBase,
    KnowledgeBaseError,
    LocalProtocol,
    Patient,
    check_regimen,
    knowledge_base,
    next_step,
    simulate,
    titration_schedule,
)
from cluneal.diagnosis import BlockResult, Findings, PainPattern, TenderPoint
from cluneal.fhir import patient_from_fhir
from cluneal.knowledge import read_toml
from cluneal.pathway import CareHistory, InterventionOutcome
from cluneal.units import parse_quantity, quantity_kinds

Path = tuple[str | int, ...]
Probe = Callable[[KnowledgeBase | None], Iterator[str]]

# Dead today, to be used or removed next: (file, dotted path). None is left: the
# monographs' limits bind under a local protocol (the small-stock probe below) or are
# documentation only, and the FHIR reader takes knowledge= (the record probe below).
PENDING: dict[tuple[str, str], str] = {}


def _patients() -> list[Patient]:
    renal = [
        Patient(age=age, sex=sex, weight="70 kg", serum_creatinine=f"{cr} mg/dL")
        for age, sex, cr in itertools.product(
            (40, 68, 72, 78), ("male", "female"), (0.6, 1.0, 1.4, 2.0, 3.0, 5.0, 9.0)
        )
    ]
    # Heights below 152.4 cm (no ideal body weight) and obesity (adjusted weight).
    body = [
        Patient(age=50, sex=sex, weight=f"{w} kg", height=f"{h} cm", serum_creatinine="1.1 mg/dL")
        for (h, w), sex in itertools.product(((150, 60), (165, 95), (185, 160)), ("male", "female"))
    ]
    liver_heart = [
        Patient(age=50, sex="female", weight="70 kg", serum_creatinine="0.9 mg/dL", **extra)
        for extra in (
            {"hepatic_impairment": "mild"},
            {"hepatic_impairment": "moderate"},
            {"hepatic_impairment": "severe"},
            {"conditions": ["cirrhosis"]},
            {"conditions": ["acute_hepatitis"]},
            {"conditions": ["cardiac_disease"]},
        )
    ]
    others = [
        Patient(age=70, sex="female", weight="130 kg", serum_creatinine="0.6 mg/dL"),
        Patient(age=60, sex="male", weight="70 kg", serum_creatinine="8 mg/dL", on_dialysis=True),
        Patient(age=60, sex="male"),
    ]
    return [*renal, *body, *liver_heart, *others]


PATIENTS = _patients()
TARGETS = (None, "75 mg/d", "250 mg/d", "700 mg/d", "1500 mg/d", "3600 mg/d")
ON_DIALYSIS = Patient(
    age=60, sex="female", weight="70 kg", serum_creatinine="8 mg/dL", on_dialysis=True
)
DIALYSIS_TARGETS = (
    "25 mg/d",
    "50 mg/d",
    "100 mg/d",
    "125 mg/d",
    "150 mg/d",
    "200 mg/d",
    "300 mg/d",
)
CO_MEDICATED = [
    Patient(age=age, sex="female", medications=meds)
    for age, meds in itertools.product(
        (35, 45, 70), (["sertraline"], ["lorazepam", "zolpidem"], ["oxycodone", "quetiapine"])
    )
]


# A clinic that stocks only a drug's smallest strength (a local protocol): the limits on
# units per dose bind, which the marketed range of strengths never makes them do.
SMALL_STOCK_PATIENTS = (PATIENTS[0], PATIENTS[28])  # 40 and 72 years, creatinine 0.6


def _small_stock(drug: Drug, kb: KnowledgeBase | None) -> Iterator[str]:
    base = knowledge_base() if kb is None else kb
    strengths = base.monographs[drug].strengths
    if not strengths:
        return  # compounded to the dose: nothing to stock
    smallest = min(s.mg for s in strengths)
    try:
        local = base.with_protocol(
            LocalProtocol(name="probe", version="1", strengths={drug: [f"{smallest} mg"]})
        )
    except ClunealError as exc:
        yield repr(exc)
        return
    for patient, target in itertools.product(SMALL_STOCK_PATIENTS, TARGETS):
        try:
            yield titration_schedule(drug, patient, target, knowledge=local).model_dump_json()
        except ClunealError as exc:
            yield repr(exc)


@functools.cache  # one probe (and so one baseline) per set of drugs
def _schedules(drugs: tuple[Drug, ...]) -> Probe:
    def probe(kb: KnowledgeBase | None) -> Iterator[str]:
        for drug in drugs:
            yield from _small_stock(drug, kb)
        for drug, patient, target in itertools.product(drugs, PATIENTS, TARGETS):
            try:
                yield titration_schedule(drug, patient, target, knowledge=kb).model_dump_json()
            except ClunealError as exc:
                yield repr(exc)
        # Dialysis supplements follow the maintenance dose: walk the label's rows.
        for drug, target in itertools.product(drugs, DIALYSIS_TARGETS):
            try:
                yield titration_schedule(drug, ON_DIALYSIS, target, knowledge=kb).model_dump_json()
            except ClunealError as exc:
                yield repr(exc)
        for patient in CO_MEDICATED:
            yield repr(check_regimen(list(Drug), patient, knowledge=kb))
            for drug in drugs:
                yield repr(check_regimen([drug], patient, knowledge=kb))

    return probe


def _findings(relief: float, weeks: float | None) -> Findings:
    return Findings(
        pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
        tender_points=(
            TenderPoint(site="iliac_crest", reproduces_pain=True),
            TenderPoint(site="caudal_to_psis", reproduces_pain=True),
        ),
        block=BlockResult(
            branches={"superior"},
            relief_percent=relief,
            relief_duration=None if weeks is None else f"{weeks} weeks",
        ),
    )


def _recommendations(kb: KnowledgeBase | None) -> Iterator[str]:
    for relief, weeks, blocks in itertools.product(
        (45, 55, 65, 80), (None, 5, 11, 13, 20), range(4)
    ):
        history = CareHistory(
            outcomes=tuple(
                InterventionOutcome(
                    intervention="nerve_block", relief_percent=80, relief_duration="4 weeks"
                )
                for _ in range(blocks)
            )
        )
        yield next_step(_findings(relief, weeks), history, knowledge=kb).model_dump_json()


def _simulations(kb: KnowledgeBase | None) -> Iterator[str]:
    # Every procedure of outcomes.toml is reached: block indicated, temporary block relief
    # (RFA, then PNS and surgery) and a block whose duration is not known yet. A refusal
    # (a count the simulation cannot use) is an output too.
    tender = (TenderPoint(site="iliac_crest", reproduces_pain=True),)
    pain = PainPattern(low_back_pain=True, deep_aching_poorly_localized=True)
    cohort = [
        Findings(pain=pain, tender_points=tender),
        Findings(
            pain=pain,
            tender_points=tender,
            block=BlockResult(branches={"superior"}, relief_percent=80, relief_duration="2 weeks"),
        ),
        Findings(
            pain=pain,
            tender_points=tender,
            block=BlockResult(branches={"superior"}, relief_percent=80),
        ),
    ]
    patient = Patient(age=60, sex="female")
    try:
        sim = simulate([(patient, f) for f in cohort] * 20, draws=8, seed=11, knowledge=kb)
    except KnowledgeBaseError as exc:
        yield str(exc)
        return
    yield sim.summary().to_json()


def _plausibility(kb: KnowledgeBase | None) -> Iterator[str]:
    # The units layer builds its field types from parameters.toml's ranges and creatinine
    # conversion once, at import (quantity_kinds); this probe builds them from the
    # perturbed file and parses values around every bound, in every accepted unit.
    kinds = quantity_kinds((kb or knowledge_base()).parameters)
    for kind, spec in kinds.items():
        for code, factor in spec.factors.items():
            yield f"{kind.value} {code} {factor!r}"
            bounds = [b for b in spec.bounds_in(code) if b]
            grid = {1.0 / factor, 2.0 / factor}
            grid |= {b * f for b in bounds for f in (0.45, 0.55, 0.95, 1.0, 1.05, 1.95, 2.05)}
            for value in sorted(grid):
                try:
                    parse_quantity({"value": value, "unit": code}, kind.value, spec)
                    yield f"{kind.value} {value!r} {code}: accepted"
                except ClunealError:
                    yield f"{kind.value} {value!r} {code}: refused"


def _fhir_records(kb: KnowledgeBase | None) -> Iterator[str]:
    # codes.toml's recent-medication window: a medication stopped 0 to 40 days before the
    # record is read is recent inside the window and forgotten outside it.
    as_of = dt.date(2026, 11, 1)
    for days in range(41):
        record = [
            {"resourceType": "Patient", "birthDate": "1960-01-01", "gender": "female"},
            {
                "resourceType": "MedicationStatement",
                "status": "completed",
                "subject": {"reference": "Patient/1"},
                "medicationCodeableConcept": {"text": "sertraline"},
                "effectivePeriod": {"end": (as_of - dt.timedelta(days=days)).isoformat()},
            },
        ]
        patient = patient_from_fhir(record, as_of=as_of, knowledge=kb)
        yield f"{days} days: {patient.recent_medications}"


def _probe_for(file: str, path: Path = ()) -> Probe:
    if file == "codes.toml" and path[:1] == ("record",):
        return _fhir_records
    if file == "parameters.toml" and path[:1] in {("plausible",), ("creatinine",)}:
        return _plausibility
    if file.startswith("monographs/"):
        return _schedules((Drug(file.removeprefix("monographs/").removesuffix(".toml")),))
    if file in {"diagnosis.toml", "pathway.toml"}:
        return _recommendations
    if file == "outcomes.toml":
        return _simulations
    return _schedules(tuple(Drug))


def _numbers(node: Any, path: Path = ()) -> Iterator[Path]:
    if isinstance(node, bool):
        return
    if isinstance(node, int | float):
        yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _numbers(value, (*path, index))


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _documentation_only() -> list[tuple[str, str]]:
    return [(v["file"], v["path"]) for v in read_toml("documentation_only.toml")["value"]]


def _is_documentation(file: str, path: Path) -> bool:
    dotted = _dotted(path)
    return any(f == file and fnmatch.fnmatchcase(dotted, p) for f, p in _documentation_only())


FILES = [
    "parameters.toml",
    "renal.toml",
    "titration.toml",
    "safety.toml",
    "diagnosis.toml",
    "pathway.toml",
    "pharmacotherapy.toml",
    "complementary.toml",
    "interventions.toml",
    "medications.toml",
    "codes.toml",
    "outcomes.toml",
    *(f"monographs/{d.value}.toml" for d in Drug),
]


def _set(doc: Any, path: Path, value: float) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _get(doc: Any, path: Path) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _changes_output(file: str, raw: dict[str, Any], path: Path) -> bool | None:
    """Whether some valid perturbation changes the probe; None when every one is refused."""
    value = _get(raw, path)
    tries = (
        [value + 1, value - 1, value * 2, value // 2]
        if isinstance(value, int)
        else [value * 1.1, value * 0.9, value * 2, value * 0.5, value + 1, value - 1]
    )
    probe = _probe_for(file, path)
    valid = False
    for candidate in tries:
        doc = copy.deepcopy(raw)
        _set(doc, path, candidate)
        try:
            kb = KnowledgeBase.from_documents({file: doc})
        except (KnowledgeBaseError, ValueError):
            continue
        valid = True
        # Stop at the first output that differs: most values change the first few.
        if any(a != b for a, b in zip(probe(kb), _baseline(probe), strict=True)):
            return True
    return False if valid else None


_BASELINES: dict[Probe, list[str]] = {}


def _baseline(probe: Probe) -> list[str]:
    if probe not in _BASELINES:
        _BASELINES[probe] = list(probe(None))
    return _BASELINES[probe]


@pytest.mark.parametrize("file", FILES)
def test_every_number_changes_some_output(file: str) -> None:
    """Issue 11: no dead parameter; a value only documentation uses is marked as such."""
    raw = read_toml(file)
    dead = []
    for path in _numbers(raw):
        if _is_documentation(file, path):
            continue
        if _changes_output(file, raw, path) is False:
            dead.append(_dotted(path))
    pending = sorted(p for f, p in PENDING if f == file)
    assert sorted(dead) == pending


def test_documentation_only_entries_name_real_numbers() -> None:
    """Every documentation-only entry matches at least one number of its file."""
    for file, pattern in _documentation_only():
        dotted = [_dotted(p) for p in _numbers(read_toml(file))]
        assert any(fnmatch.fnmatchcase(d, pattern) for d in dotted), (file, pattern)
