"""Each terminology code of codes.toml against what its cited source says (recorded 2026-12-01).

The tables below were written down from the sources themselves, not from codes.toml, so a
code changed in the knowledge base without a source fails here. Sources, as abbreviated
in the RxNorm rows (each row names where its code was read, with the same ingredient name):

- CPIC: the CPIC drug table, cpicpgx/cpic-data db/drug.sql at 3dddcfe (column rxnormId).
- PL: OHDSI/PhenotypeLibrary at 40106e4, inst/cohorts/*.json: concept sets of the OMOP
  vocabulary, concept with vocabulary RxNorm, class Ingredient, standard, valid; the
  concept_code is the RxCUI. A file is named where it is the only one read.
- NLP: ohdsi-studies/NLP-Psychiatry at bf417b6 (BipolarMisclassificationValidation cohorts).
- OX: oxford-pharmacoepi/OmopConceptSetLibrary at 1d59778 (MedicationConceptSets).
- SP: OHDSI/StudyProtocols at 8de0454; SPS: OHDSI/StudyProtocolSandbox at 334a8a3.
- TVC: ohdsi-studies/TicagrelorVsClopidogrel at 41126b1; DWS: ohdsi-studies/DoacsWarfarinSub
  at 3d596c7; C19: ohdsi-studies/Covid19DrugRepurposing at 606e26a (inst/cohorts).

ICD-10-CM titles: the Tabular List XML of the April 1, 2026 release (CDC/NCHS).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

import cluneal
from cluneal.fhir import patient_from_fhir
from cluneal.knowledge import read_toml
from cluneal.knowledge.codes import code_tables, parse_code_tables

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
AS_OF = dt.date(2026, 11, 1)

# name: (RxCUI of the ingredient, where it was read)
RXNORM_READ: dict[str, tuple[str, str]] = {
    "acenocoumarol": ("154", "CPIC, SP, SPS"),
    "amitriptyline": ("704", "CPIC, PL, NLP, OX, SP"),
    "aripiprazole": ("89013", "CPIC, PL, NLP"),
    "aspirin": ("1191", "CPIC, PL, SP, SPS, TVC"),
    "carbamazepine": ("2002", "CPIC, PL, NLP"),
    "carisoprodol": ("2101", "CPIC"),
    "citalopram": ("2556", "CPIC, PL, NLP, OX"),
    "clobazam": ("21241", "CPIC, PL"),
    "clomipramine": ("2597", "CPIC, PL, NLP, OX, SP"),
    "clopidogrel": ("32968", "CPIC, SP, SPS, TVC"),
    "clozapine": ("2626", "CPIC, PL, NLP"),
    "codeine": ("2670", "CPIC, PL"),
    "desipramine": ("3247", "CPIC, PL, NLP, OX, SP"),
    "diazepam": ("3322", "CPIC, PL, NLP"),
    "doxepin": ("3638", "CPIC, PL, NLP, OX, SP"),
    "duloxetine": ("72625", "CPIC, PL, NLP, OX, SP"),
    "escitalopram": ("321988", "CPIC, PL, NLP, OX"),
    "fentanyl": ("4337", "CPIC, PL"),
    "fluoxetine": ("4493", "CPIC, PL, NLP, OX"),
    "fluvoxamine": ("42355", "CPIC, PL, NLP, OX"),
    "haloperidol": ("5093", "CPIC, NLP"),
    "imipramine": ("5691", "CPIC, PL, NLP, OX, SP"),
    "lamotrigine": ("28439", "CPIC, PL, NLP"),
    "methadone": ("6813", "CPIC, PL"),
    "methylene blue": ("6878", "CPIC"),
    "midazolam": ("6960", "CPIC, NLP"),
    "morphine": ("7052", "CPIC, PL"),
    "naloxone": ("7242", "CPIC, PL"),
    "naltrexone": ("7243", "CPIC, PL"),
    "nortriptyline": ("7531", "CPIC, PL, NLP, OX, SP"),
    "olanzapine": ("61381", "CPIC, PL, NLP"),
    "oxazepam": ("7781", "CPIC, PL, NLP"),
    "oxcarbazepine": ("32624", "CPIC, PL, NLP"),
    "oxycodone": ("7804", "CPIC, PL"),
    "paroxetine": ("32937", "CPIC, PL, NLP, OX"),
    "phenytoin": ("8183", "CPIC, PL, SP"),
    "protriptyline": ("8886", "CPIC, PL, NLP, OX, SP"),
    "risperidone": ("35636", "CPIC, PL, NLP"),
    "sertraline": ("36437", "CPIC, PL, NLP, OX"),
    "tramadol": ("10689", "CPIC, PL"),
    "trimipramine": ("10834", "CPIC, PL, NLP, OX, SP"),
    "valproic acid": ("11118", "CPIC"),
    "venlafaxine": ("39786", "CPIC, PL, NLP, OX, SP"),
    "vortioxetine": ("1455099", "CPIC, PL, NLP, OX, SPS"),
    "warfarin": ("11289", "CPIC, PL, SP, SPS, DWS, C19"),
    "alprazolam": ("596", "PL, NLP"),
    "amoxapine": ("722", "PL, NLP, OX, SP"),
    "apixaban": ("1364430", "PL, SP, SPS, DWS, C19"),
    "buprenorphine": ("1819", "PL 1182.json"),
    "chlordiazepoxide": ("2356", "PL, NLP"),
    "chlorpromazine": ("2403", "NLP PLP_tutorial_2018_first_MDD_aged_10_or_older.json"),
    "cilostazol": ("21107", "SP PLP_Live_2018_20_antithrombotics_conservative.json"),
    "clonazepam": ("2598", "PL 1183.json"),
    "clorazepate": ("2353", "PL, NLP"),
    "dabigatran": ("1546356", "SPS Atrial fibrillation general with NOAC.json"),
    "dalteparin": ("67109", "SP PLP_Live_2018_20_antithrombotics_conservative.json"),
    "delavirdine": ("83816", "PL, OX"),
    "desvenlafaxine": ("734064", "PL, NLP, OX"),
    "dihydrocodeine": ("23088", "PL 1182.json"),
    "dipyridamole": ("3521", "SP PLP_Live_2018_20_antithrombotics_conservative.json"),
    "edoxaban": ("1599538", "PL, SP, SPS, DWS, C19"),
    "enoxaparin": ("67108", "SP PLP_Live_2018_20_antithrombotics_conservative.json"),
    "eslicarbazepine": ("1482502", "PL 1183.json"),
    "fondaparinux": ("321208", "SP PLP_Live_2018_20_antithrombotics_conservative.json"),
    "gabapentin": ("25480", "PL, NLP"),
    "heparin": ("5224", "SP PLP_Live_2018_20_antithrombotics_conservative.json"),
    "hydrocodone": ("5489", "PL, SP"),
    "hydromorphone": ("3423", "PL 1106.json"),
    "isocarboxazid": ("6011", "PL, NLP, OX"),
    "lacosamide": ("623400", "PL 1183.json"),
    "levetiracetam": ("114477", "PL, SP"),
    "levomilnacipran": ("1433212", "NLP, SPS"),
    "linezolid": ("190376", "PL, OX, SPS"),
    "lorazepam": ("6470", "PL, NLP"),
    "lurasidone": ("1040028", "NLP PLP_tutorial_2018_first_MDD_aged_10_or_older.json"),
    "meperidine": ("6754", "PL 1106.json"),
    "methylnaltrexone": ("29899", "PL 1392.json"),
    "milnacipran": ("588250", "PL, NLP, OX, SP"),
    "moclobemide": ("30121", "SPS PTD.json"),
    "nalmefene": ("31479", "PL 1331.json"),
    "nefazodone": ("31565", "PL, OX"),
    "oxymorphone": ("7814", "PL 1106.json"),
    "paliperidone": ("679314", "PL, NLP"),
    "pethidine": ("6754", "PL 1106.json, as meperidine (pethidine is its INN)"),
    "phenelzine": ("8123", "PL, NLP, OX"),
    "phenobarbital": ("8134", "PL 1183.json"),
    "prasugrel": ("613391", "SP, SPS, TVC"),
    "pregabalin": ("187832", "PL, NLP"),
    "quetiapine": ("51272", "PL, NLP"),
    "rasagiline": ("134748", "PL 862.json"),
    "rivaroxaban": ("1114195", "PL, SP, SPS, DWS, C19"),
    "selegiline": ("9639", "PL, NLP, OX"),
    "tapentadol": ("787390", "PL 1106.json"),
    "temazepam": ("10355", "NLP Anxiety drugs and Anxiety.json"),
    "ticagrelor": ("1116632", "SP, SPS, TVC"),
    "topiramate": ("38404", "PL 1183.json"),
    "tranylcypromine": ("10734", "PL, NLP, OX"),
    "triazolam": ("10767", "NLP Anxiety drugs and Anxiety.json"),
    "valproate": ("40254", "PL, NLP"),
    "vilazodone": ("1086769", "PL, NLP, OX"),
    "ziprasidone": ("115698", "PL, NLP"),
    "zonisamide": ("39998", "PL 1183.json"),
}

# Codes no source reachable on 2026-12-01 stated: kept, cited to general knowledge (unverified).
RXNORM_UNVERIFIED = {
    "baclofen": "1292",
    "cyclobenzaprine": "21949",
    "eszopiclone": "461016",
    "levorphanol": "6378",
    "methocarbamol": "6845",
    "orphenadrine": "7715",
    "tizanidine": "57258",
    "zaleplon": "74667",
    "zolpidem": "39993",
}

# No ingredient RxCUI found in any source searched: read by name only.
RXNORM_NOT_FOUND = {
    "chlorzoxazone",
    "metaxalone",
    "naloxegol",
    "safinamide",
    "mirogabalin",
    "zopiclone",
}

# Codes issue 14 added, each read in the sources named in RXNORM_READ.
NEW_CODES = {
    "clorazepate": "2353",
    "delavirdine": "83816",
    "eslicarbazepine": "1482502",
    "levomilnacipran": "1433212",
    "methylnaltrexone": "29899",
    "milnacipran": "588250",
    "moclobemide": "30121",
    "nalmefene": "31479",
    "vilazodone": "1086769",
}

# (cluneal condition or flag, ICD-10-CM code, its title in the 2026 Tabular List)
ICD10CM_READ = [
    ("seizure_disorder", "G40", "Epilepsy and recurrent seizures"),
    ("seizure_disorder", "R56", "Convulsions, not elsewhere classified"),
    ("recent_myocardial_infarction", "I21", "Acute myocardial infarction"),
    (
        "recent_myocardial_infarction",
        "I22",
        "Subsequent ST elevation (STEMI) and non-ST elevation (NSTEMI) myocardial infarction",
    ),
    ("cardiac_conduction_disease", "I44", "Atrioventricular and left bundle-branch block"),
    ("cardiac_conduction_disease", "I45", "Other conduction disorders"),
    ("cardiac_arrhythmia", "I47", "Paroxysmal tachycardia"),
    ("cardiac_arrhythmia", "I48", "Atrial fibrillation and flutter"),
    ("cardiac_arrhythmia", "I49", "Other cardiac arrhythmias"),
    ("cardiac_disease", "I20", "Angina pectoris"),
    ("cardiac_disease", "I25", "Chronic ischemic heart disease"),
    ("cardiac_disease", "I42", "Cardiomyopathy"),
    ("cardiac_disease", "I50", "Heart failure"),
    ("narrow_angle_glaucoma", "H40.2", "Primary angle-closure glaucoma"),
    ("urinary_retention", "R33", "Retention of urine"),
    ("pregnancy", "Z33.1", "Pregnant state, incidental"),
    ("pregnancy", "Z34", "Encounter for supervision of normal pregnancy"),
    ("pregnancy", "O09", "Supervision of high risk pregnancy"),
    ("opioid_use_disorder", "F11", "Opioid related disorders"),
    ("respiratory_depression", "J96", "Respiratory failure, not elsewhere classified"),
    ("copd", "J44", "Other chronic obstructive pulmonary disease"),
    (
        "bone_marrow_depression",
        "D61",
        "Other aplastic anemias and other bone marrow failure syndromes",
    ),
    ("bone_marrow_depression", "D70", "Neutropenia"),
    (
        "tricyclic_hypersensitivity",
        "T43.01",
        "Poisoning by, adverse effect of and underdosing of tricyclic antidepressants",
    ),
    ("falls_history", "Z91.81", "History of falling"),
    ("cirrhosis", "K74", "Fibrosis and cirrhosis of liver"),
    ("cirrhosis", "K70.3", "Alcoholic cirrhosis of liver"),
    ("acute_hepatitis", "B15", "Acute hepatitis A"),
    ("acute_hepatitis", "B16", "Acute hepatitis B"),
    ("acute_hepatitis", "B17", "Other acute viral hepatitis"),
    ("acute_hepatitis", "K71.2", "Toxic liver disease with acute hepatitis"),
    ("acute_hepatitis", "K72.0", "Acute and subacute hepatic failure"),
    ("dementia", "F01", "Vascular dementia"),
    ("dementia", "F02", "Dementia in other diseases classified elsewhere"),
    ("dementia", "F03", "Unspecified dementia"),
    ("dementia", "G30", "Alzheimer's disease"),
    ("delirium", "F05", "Delirium due to known physiological condition"),
    ("hyponatraemia", "E87.1", "Hypo-osmolality and hyponatremia"),
    ("on_dialysis", "Z99.2", "Dependence on renal dialysis"),
]

_OMOP = ("PL", "NLP", "OX", "SP", "SPS", "TVC", "DWS", "C19")


def _groups() -> dict[str, dict[str, str]]:
    by_source: dict[str, dict[str, str]] = {}
    for group in code_tables().rxnorm:
        by_source.setdefault(group.citation, {}).update(group.codes)
    return by_source


def test_every_verified_rxnorm_code_is_the_one_its_source_gives() -> None:
    groups = _groups()
    verified = {
        name: (code, source)
        for source, codes in groups.items()
        if cluneal.citation(source).verified
        for name, code in codes.items()
    }
    assert {name: code for name, (code, _) in verified.items()} == {
        name: code for name, (code, _) in RXNORM_READ.items()
    }
    for name, (_, source) in verified.items():
        read_in = RXNORM_READ[name][1]
        if source == "cpic_drug_table":
            assert read_in.startswith("CPIC"), name
        else:
            assert source == "rxnorm_omop_checked", name
            assert any(read_in.startswith(s) or f" {s}" in read_in for s in _OMOP), name


def test_unverified_rxnorm_codes_are_cited_as_unverified() -> None:
    groups = _groups()
    assert groups["rxnorm"] == RXNORM_UNVERIFIED
    assert not cluneal.citation("rxnorm").verified
    assert not set(RXNORM_UNVERIFIED) & set(RXNORM_READ)


def test_names_no_source_gave_a_code_for_stay_without_one() -> None:
    without = {n for g in code_tables().rxnorm for n in g.without_code}
    assert without == RXNORM_NOT_FOUND
    assert all(code_tables().rxnorm_code(n) is None for n in RXNORM_NOT_FOUND)


def test_corrected_codes() -> None:
    """Two general-knowledge codes disagreed with the OMOP vocabulary: fixed (CHANGELOG, Clinical)."""
    tables = code_tables()
    assert tables.rxnorm_code("lacosamide") == "623400"
    assert tables.medication_name(RXNORM, "623404") is None
    assert tables.rxnorm_code("valproate") == "40254"
    assert tables.medication_name(RXNORM, "40254") == "valproate"
    assert tables.medication_name(RXNORM, "11118") == "valproic acid"  # CPIC


def test_every_icd10cm_code_is_in_the_2026_tabular_list() -> None:
    tables = code_tables()
    listed = [
        (entry.condition.value, code) for entry in tables.conditions for code in entry.icd10cm
    ] + [(entry.field, code) for entry in tables.states for code in entry.icd10cm]
    assert listed == [(meaning, code) for meaning, code, _ in ICD10CM_READ]
    assert all(title for _, _, title in ICD10CM_READ)
    assert cluneal.citation("icd10cm").verified


def _statement(code: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": "m1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
    }


def _record(code: str) -> list[dict[str, Any]]:
    person = {"resourceType": "Patient", "id": "p1", "birthDate": "1954-03-10", "gender": "female"}
    return [person, _statement(code)]


def _not_screened(p: cluneal.Patient) -> list[str]:
    alerts = cluneal.check_regimen(["gabapentin"], p)
    return [a.message for a in alerts if a.rule_id == "screening.unrecognized_medication"]


@pytest.mark.parametrize(("name", "code"), sorted(NEW_CODES.items()))
def test_a_statement_with_a_new_code_is_screened(name: str, code: str) -> None:
    """MedicationStatement with only the RxCUI (no display, no text): read as the drug."""
    p = patient_from_fhir(_record(code), as_of=AS_OF)
    assert p.medications == (name,)
    assert _not_screened(p) == []


def test_the_same_statement_was_not_screened_before() -> None:
    """With milnacipran back among the names without a code (the table before this change),
    the same statement is an unknown code, reported as not screened."""
    raw = copy.deepcopy(read_toml("codes.toml"))
    group = next(g for g in raw["rxnorm"] if "milnacipran" in g.get("codes", {}))
    del group["codes"]["milnacipran"]
    without = next(g for g in raw["rxnorm"] if "without_code" in g)["without_code"]
    without["milnacipran"] = "no code (the table before issue 14)"
    kb = cluneal.knowledge_base()
    before = kb.replace(codes=parse_code_tables(raw))
    p = patient_from_fhir(_record("588250"), as_of=AS_OF, knowledge=before)
    assert p.medications == ("unrecognised rxnorm 588250",)
    assert len(_not_screened(p)) == 1
