"""Units: the registry, strict parsing, conversions, JSON and hostile inputs (clinical.md 0.1)."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import pint
import pytest
from pydantic import BaseModel, ValidationError

import cluneal
from cluneal import Q_, knowledge_base, ureg
from cluneal.errors import InvalidQuantityError, KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.parameters import parse_parameters
from cluneal.units import (
    CREATININE_UMOL_L_PER_MG_DL,
    KINDS,
    BodyWeight,
    Kind,
    magnitude_in,
    parse_quantity,
    quantity_json_schema,
    quantity_kinds,
    quantity_to_json,
)


def test_one_registry_owned_by_the_package() -> None:
    """`cluneal.ureg` is the package's own registry and `Q_` its quantity class."""
    assert isinstance(ureg, pint.UnitRegistry)
    assert ureg is not pint.get_application_registry()  # type: ignore[no-untyped-call]
    assert cluneal.Q_ is ureg.Quantity
    assert isinstance(Q_(1, "mg"), ureg.Quantity)


# The registry written as Pint's definitions text (https://pint.readthedocs.io, "Defining
# units"): SI prefixes; the international inch (2.54 cm) and avoirdupois pound
# (0.45359237 kg), both exact by definition; UCUM's Julian year "a" (365.25 d) and its
# month "mo" (a twelfth of it); eGFR's standard body-surface area of 1.73 m².
_DEFINITIONS_TEXT = """
micro- = 1e-6 = µ- = μ- = u-
milli- = 1e-3 = m-
centi- = 1e-2 = c-
deci- = 1e-1 = d-
kilo- = 1e3 = k-
meter = [length] = m = metre
gram = [mass] = g
second = [time] = s = sec
mole = [substance] = mol
liter = decimeter ** 3 = l = L = litre
inch = 2.54 * centimeter = in
pound = 0.45359237 * kilogram = lb
minute = 60 * second = min
hour = 60 * minute = h = hr
day = 24 * hour = d
week = 7 * day = wk
year = 365.25 * day = a = yr
month = year / 12 = mo
standard_body_surface_area = 1.73 * meter ** 2 = BSA_1_73
"""


def _definition(value: object) -> tuple[object, ...]:
    # What a prefix or unit definition says (not where Pint's text parser read it).
    fields = ("name", "value", "defined_symbol", "aliases", "reference")
    scale = getattr(getattr(value, "converter", None), "scale", None)
    return (type(value).__name__, scale, *(repr(getattr(value, f, None)) for f in fields))


def test_the_registry_is_its_definitions_text() -> None:
    """The registry, built from Pint's definition objects, equals the same units read as text."""
    from cluneal._unit_table import UNIT_TABLE

    text: pint.UnitRegistry[Any] = pint.UnitRegistry(
        None, cache_folder=None, on_redefinition="raise"
    )
    text.load_definitions(_DEFINITIONS_TEXT.strip().splitlines())
    text._build_cache()
    assert {k: _definition(v) for k, v in text._prefixes.items()} == {
        k: _definition(v) for k, v in ureg._prefixes.items()
    }
    ours = {k: _definition(v) for k, v in ureg._units.items() if k in text._units}
    assert ours == {k: _definition(v) for k, v in text._units.items()}
    assert sorted(ureg._dimensions) == sorted(text._dimensions)
    assert ureg._base_units == text._base_units
    names = [e.pint_name for e in UNIT_TABLE]
    for name in names:
        assert str(ureg.Unit(name).dimensionality) == str(text.Unit(name).dimensionality)
        ours_compatible = ureg.get_compatible_units(ureg.Unit(name)._units)
        assert sorted(map(str, ours_compatible)) == sorted(
            map(str, text.get_compatible_units(text.Unit(name)._units))
        )
        for other in names:
            if ureg.Unit(name).dimensionality == ureg.Unit(other).dimensionality:
                assert ureg.Quantity(1.7, name).m_as(other) == text.Quantity(1.7, name).m_as(other)


def test_each_table_unit_is_what_pint_parses() -> None:
    """The table's units, built from their exponents, equal Pint's parse of their names."""
    from cluneal._unit_table import UNIT_TABLE, UNITS_BY_UCUM

    for entry in UNIT_TABLE:
        built, parsed = UNITS_BY_UCUM[entry.ucum], ureg.Unit(entry.pint_name)
        assert built == parsed, entry.ucum
        assert repr(built._units) == repr(parsed._units)
        assert str(built) == str(parsed)
        assert f"{built:~}" == f"{parsed:~}"
        assert hash(built._units) == hash(parsed._units)


@pytest.mark.parametrize(
    ("text", "field", "canonical"),
    [
        # clinical.md 0.1: weight in kg or lb; 1 lb = 0.45359237 kg.
        ("154 lb", "weight", 154 * 0.45359237),
        ("70 kg", "weight", 70.0),
        ("70000 g", "weight", 70.0),
        ({"value": 150, "unit": "[lb_av]"}, "weight", 150 * 0.45359237),
        # clinical.md C3: 1 mg/dL = 88.4 umol/L.
        ("88.4 umol/L", "serum_creatinine", 1.0),
        ("88.4 µmol/L", "serum_creatinine", 1.0),
        ("88.4 μmol/L", "serum_creatinine", 1.0),
        ("0.0884 mmol/L", "serum_creatinine", 1.0),
        ("11 mg/L", "serum_creatinine", 1.1),
        ("1.1 mg/dL", "serum_creatinine", 1.1),
        ("1.1 mg/dl", "serum_creatinine", 1.1),
        # clinical.md 0.1: height in cm, m or in.
        ("1.75 m", "height", 175.0),
        ("70 in", "height", 177.8),
        ("1750 mm", "height", 175.0),
        # doses in mg; g and ug convert.
        ("0.3 g", "dose", 300.0),
        ("25 mg", "dose", 25.0),
        ("500 ug", "dose", 0.5),
        ("500 mcg", "dose", 0.5),
        ("1.2 g/day", "daily_dose", 1200.0),
        ("900 mg/d", "daily_dose", 900.0),
        # durations in hours, days, weeks, months.
        ("2 weeks", "duration", 14.0),
        ("48 h", "duration", 2.0),
        ("1 month", "duration", 365.25 / 12),
        ("12 wk", "duration", 84.0),
        ("70 years", "age", 70.0),
        (70, "age", 70.0),
        ({"value": 840, "unit": "mo"}, "age", 70.0),
    ],
)
def test_unit_equivalences(text: object, field: str, canonical: float) -> None:
    """Accepted spellings convert to the canonical unit of their kind."""
    quantity = parse_quantity(text, field)
    kind = {
        "weight": Kind.BODY_WEIGHT,
        "serum_creatinine": Kind.SERUM_CREATININE,
        "height": Kind.HEIGHT,
        "dose": Kind.DOSE,
        "daily_dose": Kind.DAILY_DOSE,
        "duration": Kind.DURATION,
        "age": Kind.AGE,
    }[field]
    assert magnitude_in(quantity, kind) == pytest.approx(canonical, rel=1e-12)


def test_creatinine_constant() -> None:
    """clinical.md C3: 1 mg/dL = 88.4 umol/L."""
    assert CREATININE_UMOL_L_PER_MG_DL == 88.4
    mg = magnitude_in(parse_quantity("97 umol/L", "serum_creatinine"), Kind.SERUM_CREATININE)
    assert mg == pytest.approx(97 / 88.4)


def test_pint_quantities_of_our_registry_keep_their_unit() -> None:
    """A quantity input keeps the caller's unit, in a new object."""
    given = Q_(154, "lb")
    parsed = parse_quantity(given, "weight")
    assert parsed == given
    assert parsed is not given
    assert str(parsed.units) == "pound"


def test_quantity_from_arithmetic_is_converted() -> None:
    """A unit outside the table but of the right dimension is converted, not refused."""
    parsed = parse_quantity(Q_(70, "kg") * Q_(2, "mg") / Q_(2, "mg"), "weight")
    assert magnitude_in(parsed, Kind.BODY_WEIGHT) == pytest.approx(70.0)
    parsed = parse_quantity(Q_(3, "dg"), "dose")
    assert magnitude_in(parsed, Kind.DOSE) == pytest.approx(300.0)


def test_quantity_from_another_registry_is_accepted() -> None:
    """A notebook's own pint.UnitRegistry() quantity converts, never a cross-registry error."""
    other: pint.UnitRegistry[Any] = pint.UnitRegistry()
    weight = parse_quantity(other.Quantity(150, "pound"), "weight")
    assert isinstance(weight, ureg.Quantity)
    assert magnitude_in(weight, Kind.BODY_WEIGHT) == pytest.approx(68.0388555)
    creat = parse_quantity(other.Quantity(97, "micromole / liter"), "serum_creatinine")
    assert magnitude_in(creat, Kind.SERUM_CREATININE) == pytest.approx(97 / 88.4)
    patient = cluneal.Patient(age=50, sex="male", weight=other.Quantity(80, "kg"))
    assert patient.weight_kg == pytest.approx(80.0)
    # The result works with our registry's arithmetic.
    assert (weight + Q_(1, "kg")).check("[mass]")


def test_foreign_quantity_of_wrong_dimension_is_refused() -> None:
    """Another registry's metre is not a weight."""
    other: pint.UnitRegistry[Any] = pint.UnitRegistry()
    with pytest.raises(InvalidQuantityError, match="weight"):
        parse_quantity(other.Quantity(1, "meter"), "weight")


HOSTILE: list[tuple[str, object]] = [
    ("bare number", 70),
    ("bare float", 70.5),
    ("bare number text", "70"),
    ("bool", True),
    ("None", None),
    ("list", [70, "kg"]),
    ("wrong dimension", "70 mg"),
    ("wrong dimension quantity", Q_(70, "mL/min")),
    ("nan text", "nan kg"),
    ("nan quantity", Q_(math.nan, "kg")),
    ("nan mapping", {"value": math.nan, "unit": "kg"}),
    ("inf mapping", {"value": math.inf, "unit": "kg"}),
    ("inf quantity", Q_(math.inf, "kg")),
    ("negative", "-70 kg"),
    ("zero", "0 kg"),
    ("below range", "19.9 kg"),
    ("above range", "401 kg"),
    ("arithmetic", "2*35 kg"),
    ("sum", "70 kg + 1 lb"),
    ("expression unit", "70 kg**2/kg"),
    ("code", "__import__('os') kg"),
    ("two numbers", "70 80 kg"),
    ("unknown unit", "70 stone"),
    ("very long", "7" * 100_000 + " kg"),
    ("long unit", "70 " + "k" * 70),
    ("mapping missing unit", {"value": 70}),
    ("mapping missing value", {"unit": "kg"}),
    ("mapping extra key", {"value": 70, "unit": "kg", "note": "x"}),
    ("mapping string value", {"value": "70", "unit": "kg"}),
    ("mapping bool value", {"value": True, "unit": "kg"}),
    ("mapping unit not text", {"value": 70, "unit": 1}),
    ("mapping long unit", {"value": 70, "unit": "k" * 100}),
    ("mapping bad unit", {"value": 70, "unit": "kg*2"}),
    ("empty", ""),
    ("spaces", "   "),
    ("hex", "0x46 kg"),
    ("underscore", "7_0 kg"),
    ("unicode digits", "٧٠ kg"),
    ("huge exponent", "1e999 kg"),
]


@pytest.mark.parametrize(("label", "value"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_weight_inputs_are_refused(label: str, value: object) -> None:
    """Principle 3: bad input gets a ClunealError naming the field; nothing else escapes."""
    with pytest.raises(InvalidQuantityError) as info:
        parse_quantity(value, "weight")
    assert info.value.field == "weight", label
    assert str(info.value).startswith("weight: got ")
    assert "expected" in str(info.value)
    assert len(str(info.value)) < 400  # hostile inputs are never echoed whole


@pytest.mark.parametrize("text", ["7" * 100_000 + " kg", "70 " + "k" * 10_000, " " * 65])
def test_long_text_is_refused_before_any_parsing(text: str) -> None:
    """Refused quickly by construction, not by a timed test: text over 64 characters is
    rejected on its length, before the regular expression or the unit table see it."""
    with pytest.raises(InvalidQuantityError, match="at most 64 characters"):
        parse_quantity(text, "weight")


@pytest.mark.parametrize("value", [17, "17 years", {"value": 200, "unit": "mo"}, 121, "0 years"])
def test_under_18_and_implausible_ages_are_refused(value: object) -> None:
    """clinical.md 0.1: age 18-120 years; under 18 refused with a clear message."""
    with pytest.raises(InvalidQuantityError, match="age"):
        parse_quantity(value, "age")


def test_under_18_message_says_adults_only() -> None:
    """clinical.md 0.1: the package is for adults."""
    with pytest.raises(InvalidQuantityError, match="adults"):
        parse_quantity(16, "age")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("serum_creatinine", "0.09 mg/dL"),
        ("serum_creatinine", "25.1 mg/dL"),
        ("serum_creatinine", "2300 umol/L"),
        ("height", "99 cm"),
        ("height", "251 cm"),
        ("dose", "0 mg"),
        ("dose", "-1 mg"),
        ("duration", "-1 d"),
        ("daily_dose", "300 mg"),
        ("dose", "300 mg/d"),
    ],
)
def test_ranges_and_dimensions_per_kind(field: str, value: object) -> None:
    """clinical.md 0.1 ranges: outside them is an error, never a clamp."""
    with pytest.raises(InvalidQuantityError, match=field):
        parse_quantity(value, field)


def test_unknown_field_needs_a_kind() -> None:
    """A programming error (unknown field without a kind) is a TypeError for the developer."""
    with pytest.raises(TypeError):
        parse_quantity("1 mg", "no_such_field")
    assert parse_quantity("1 mg", "anything", Kind.DOSE) == Q_(1, "mg")


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (Q_(25, "mg"), {"value": 25, "unit": "mg"}),
        (Q_(900, "mg/d"), {"value": 900, "unit": "mg/d"}),
        (Q_(154, "lb"), {"value": 154, "unit": "[lb_av]"}),
        (Q_(70, "in"), {"value": 70, "unit": "[in_i]"}),
        (Q_(97, "umol/L"), {"value": 97, "unit": "umol/L"}),
        (Q_(1.1, "mg/dL"), {"value": 1.1, "unit": "mg/dL"}),
        (Q_(60, "mL/min"), {"value": 60, "unit": "mL/min"}),
        (Q_(2, "week"), {"value": 2, "unit": "wk"}),
        (Q_(3, "day"), {"value": 3, "unit": "d"}),
        (Q_(70, "year"), {"value": 70, "unit": "a"}),
        (Q_(71, "mL/min/BSA_1_73"), {"value": 71, "unit": "mL/min/{1.73_m2}"}),
    ],
)
def test_json_uses_ucum_codes(quantity: pint.Quantity[Any], expected: dict[str, Any]) -> None:
    """API.md: quantities serialise as {"value", "unit"} with UCUM codes."""
    assert quantity_to_json(quantity) == expected


def test_json_of_unit_outside_table_converts_to_canonical() -> None:
    """A quantity whose unit has no UCUM entry is written in the kind's canonical unit."""
    assert quantity_to_json(Q_(3, "dg"), Kind.DOSE) == {"value": pytest.approx(300.0), "unit": "mg"}
    with pytest.raises(InvalidQuantityError):
        quantity_to_json(Q_(3, "dg"))


class _Holder(BaseModel):
    weight: BodyWeight


def test_model_field_json_round_trip_and_schema() -> None:
    """A dimension-typed field writes UCUM JSON, reads it back equal, and documents it."""
    holder = _Holder(weight="154 lb")
    text = holder.model_dump_json()
    assert json.loads(text) == {"weight": {"value": 154.0, "unit": "[lb_av]"}}
    assert _Holder.model_validate_json(text) == holder
    assert holder.model_dump()["weight"] == Q_(154, "lb")
    schema = _Holder.model_json_schema()
    options = schema["properties"]["weight"]["anyOf"]
    # One object form per unit, each with the plausible range in that unit
    # (20-400 kg, decision_units_and_plausible_ranges; 1 lb = 0.45359237 kg exactly).
    assert [o["properties"]["value"] for o in options[:2]] == [
        {"type": "number", "minimum": 20, "maximum": 400},
        {"type": "number", "minimum": 44.092453, "maximum": 881.849048},
    ]
    assert options[3]["type"] == "string"
    out = _Holder.model_json_schema(mode="serialization")["properties"]["weight"]
    assert out["type"] == "object"
    assert out["properties"]["unit"]["enum"] == ["kg", "[lb_av]", "g"]
    with pytest.raises(ValidationError, match="weight"):
        _Holder(weight=70)


def test_age_schema_allows_bare_number() -> None:
    """API.md: age alone takes a bare number (years)."""
    schema = quantity_json_schema(KINDS[Kind.AGE])
    assert {
        "title": "AgeNumber",
        "type": "number",
        "minimum": 18,
        "maximum": 120,
        "description": "A bare number of years",
    } in schema["anyOf"]


def test_registry_is_safe_from_many_threads() -> None:
    """Pint issue 2039: first use from several threads at once must not fail."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(200):
                q = parse_quantity("154 lb", "weight")
                assert magnitude_in(q, Kind.BODY_WEIGHT) == pytest.approx(69.853, rel=1e-4)
                _ = (q + Q_(1, "kg")).to("kg")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_fast_quantity_equals_pint_construction() -> None:
    """quantity_in bypasses Pint's constructor; it must build the same quantity for every unit."""
    from cluneal._unit_table import UNITS_BY_UCUM as _UNITS_BY_UCUM
    from cluneal.units import quantity_in

    for code, unit in _UNITS_BY_UCUM.items():
        fast = quantity_in(2.5, code)
        slow = Q_(2.5, unit)
        assert fast == slow, code
        assert type(fast) is type(slow)
        assert fast.units == slow.units
        assert str(fast) == str(slow)
        assert (fast + slow).magnitude == pytest.approx(5.0)
        assert fast.to(unit).magnitude == pytest.approx(2.5)
        assert hash(fast) == hash(slow)
    with pytest.raises(InvalidQuantityError):
        quantity_in(1.0, "furlong")


# decision_units_and_plausible_ranges (clinical.md 0.1): serum creatinine 0.1-25 mg/dL, and
# 1 mg/dL = 88.4 umol/L (C3), so the range is 8.84-2210 umol/L and 0.00884-2.21 mmol/L.
@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("0.1 mg/dL", True),
        ("8.84 umol/L", True),  # exactly 0.1 mg/dL: refused before (float rounding)
        ("8.84 µmol/L", True),
        ("0.00884 mmol/L", True),
        ("1 mg/L", True),
        ("8.83 umol/L", False),
        ("0.099 mg/dL", False),
        ("25 mg/dL", True),
        ("2210 umol/L", True),
        ("2210.01 umol/L", False),
        ("2.21 mmol/L", True),
        ("2.2101 mmol/L", False),
    ],
)
def test_creatinine_bounds_hold_in_every_unit(text: str, accepted: bool) -> None:
    """A value equal to a bound in another unit is at the bound: compared in the caller's unit
    against the bound converted exactly, never after rounding the caller's value."""
    if accepted:
        assert parse_quantity(text, "serum_creatinine").magnitude == float(
            text.split(maxsplit=1)[0]
        )
        assert cluneal.Patient(age=50, sex="male", serum_creatinine=text).serum_creatinine
    else:
        with pytest.raises(InvalidQuantityError, match=r"between 0\.1 and 25 mg/dL"):
            parse_quantity(text, "serum_creatinine")


@pytest.mark.parametrize(
    ("text", "field", "accepted"),
    [
        # clinical.md 0.1: weight 20-400 kg (1 lb = 0.45359237 kg), height 100-250 cm.
        ("20 kg", "weight", True),
        ("20000 g", "weight", True),
        ("19.999 kg", "weight", False),
        ("400 kg", "weight", True),
        ("400000 g", "weight", True),
        ("400001 g", "weight", False),
        ("1 m", "height", True),
        ("1000 mm", "height", True),
        ("2.5 m", "height", True),
        ("2.5001 m", "height", False),
        # age 18-120 years (216-1440 months)
        ("216 months", "age", True),
        ("215 months", "age", False),
        ("1440 months", "age", True),
    ],
)
def test_bounds_hold_in_every_unit(text: str, field: str, accepted: bool) -> None:
    """Every range of decision_units_and_plausible_ranges holds exactly in every unit."""
    if accepted:
        parse_quantity(text, field)
    else:
        with pytest.raises(InvalidQuantityError):
            parse_quantity(text, field)


def test_the_schema_bound_is_the_parsers_bound() -> None:
    """The JSON Schema's bound in umol/L is 8.84, the value the parser accepts."""
    schema = quantity_json_schema(KINDS[Kind.SERUM_CREATININE])
    by_title = {option.get("title"): option for option in schema["anyOf"]}
    value = by_title["SerumCreatinineInMicromolePerLiter"]["properties"]["value"]
    assert value == {"type": "number", "minimum": 8.84, "maximum": 2210}


def test_the_ranges_are_the_knowledge_bases() -> None:
    """The ranges and the creatinine factor are read from parameters.toml (with their rule ids);
    quantity_kinds() builds the field types from a set of parameters."""
    parameters = knowledge_base().parameters
    assert parameters.plausible["serum_creatinine"].rule_id == "plausible.serum_creatinine"
    assert quantity_kinds(parameters) == dict(KINDS)
    wider = parameters.plausible["body_weight"].model_copy(update={"maximum": 500.0})
    changed = parameters.model_copy(
        update={"plausible": {**parameters.plausible, "body_weight": wider}}
    )
    kinds = quantity_kinds(changed)
    assert kinds[Kind.BODY_WEIGHT].bounds_in("kg") == (20.0, 500.0)
    parse_quantity("450 kg", "weight", kinds[Kind.BODY_WEIGHT])
    with pytest.raises(InvalidQuantityError, match="between 20 and 400 kg"):
        parse_quantity("450 kg", "weight")  # the built-in field types are unchanged


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"unit": "[lb_av]"}, "expected a range in 'kg'"),
        (None, "found none"),
    ],
)
def test_a_range_in_another_unit_is_refused(change: dict[str, Any] | None, problem: str) -> None:
    """A range must be written in its kind's canonical unit, and every kind needs one."""
    parameters = knowledge_base().parameters
    ranges = dict(parameters.plausible)
    if change is None:
        del ranges["body_weight"]
    else:
        ranges["body_weight"] = ranges["body_weight"].model_copy(update=change)
    with pytest.raises(KnowledgeBaseError, match=problem):
        quantity_kinds(parameters.model_copy(update={"plausible": ranges}))


def test_a_cohort_column_at_a_bound_is_accepted() -> None:
    """The cohort's vectorised check agrees with the scalar parser at a bound in umol/L."""
    pandas = pytest.importorskip("pandas")
    from cluneal.cohort import schedules

    frame = pandas.DataFrame(
        {
            "age": [50, 50],
            "sex": ["male", "male"],
            "weight_kg": [70.0, 70.0],
            "serum_creatinine_umol_l": [8.84, 8.83],
        }
    )
    out = schedules(frame, "gabapentin")
    assert out["error"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"minimum": 400.0, "maximum": 20.0}, "not below maximum"),
        ({"minimum": -1.0}, "plausible"),
    ],
)
def test_a_malformed_range_is_refused_when_loaded(change: dict[str, Any], problem: str) -> None:
    """parameters.toml's ranges are checked when the file is read: a minimum at or above its
    maximum, or a negative minimum, is a KnowledgeBaseError naming parameters.toml."""
    raw = read_toml("parameters.toml")
    raw["plausible"]["body_weight"].update(change)
    with pytest.raises(KnowledgeBaseError, match=problem) as info:
        parse_parameters(raw)
    assert "parameters.toml" in str(info.value)
