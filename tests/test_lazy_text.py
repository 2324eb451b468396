"""Text rendered on read (``cluneal._lazy_text``) is the eager string to every reader."""

from __future__ import annotations

import copy
import json
import operator
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cluneal._base import FrozenModel, trusted
from cluneal._lazy_text import Deferred, TextOnRead


class Note(FrozenModel):
    """A model with text-on-read fields, one of them optional."""

    text: TextOnRead
    count: int = 0
    detail: TextOnRead = ""


class EagerNote(FrozenModel):
    """The same fields as plain strings."""

    text: str
    count: int = 0
    detail: str = ""


class LongNote(Note):
    """A subclass: it inherits the rendering attributes, and no default for ``text``."""

    extra: str = "x"


def _calls() -> tuple[list[int], Deferred]:
    calls: list[int] = []

    def render(n: int) -> str:
        calls.append(n)
        return f"{n} doses a day"

    return calls, Deferred(render, 3)


def test_a_deferred_text_renders_once_and_equals_its_string() -> None:
    calls, text = _calls()
    assert calls == []
    assert text == "3 doses a day"
    assert operator.eq("3 doses a day", text)  # str.__eq__ defers to Deferred
    assert text != "4 doses a day"
    assert hash(text) == hash("3 doses a day")
    assert repr(text) == "'3 doses a day'"
    assert str(text) == "3 doses a day"
    assert calls == [3]
    assert text.__eq__(3) is NotImplemented


def test_a_deferred_text_pickles_and_copies_as_its_string() -> None:
    _, text = _calls()
    assert pickle.loads(pickle.dumps(text)) == "3 doses a day"
    assert type(pickle.loads(pickle.dumps(text))) is str
    copied: object = copy.deepcopy(text)
    assert type(copied) is str


def test_nothing_is_rendered_until_a_field_is_read_then_once() -> None:
    calls, text = _calls()
    note = trusted(Note, text=text)
    assert calls == []
    assert note.text == "3 doses a day"
    assert type(note.text) is str
    assert note.text == "3 doses a day"
    assert calls == [3]


def test_a_lazy_model_equals_serialises_and_hashes_as_the_eager_one() -> None:
    _, text = _calls()
    lazy = trusted(Note, text=text, count=2)
    eager = Note(text="3 doses a day", count=2)
    assert lazy == eager
    assert eager == lazy
    assert hash(lazy) == hash(eager)
    assert repr(lazy) == repr(eager)
    assert lazy.model_dump() == eager.model_dump()
    assert type(lazy.model_dump()["text"]) is str
    assert lazy.model_dump_json() == eager.model_dump_json()
    assert dict(lazy) == dict(eager)
    assert type(dict(trusted(Note, text=Deferred(str, 5)))["text"]) is str
    assert Note.model_validate_json(lazy.model_dump_json()) == lazy


def test_a_lazy_model_pickles_and_copies_to_an_equal_one() -> None:
    _, text = _calls()
    lazy = trusted(Note, text=text)
    again = pickle.loads(pickle.dumps(lazy))
    assert again == lazy
    assert type(again.__dict__["text"]) is str
    assert copy.deepcopy(lazy) == lazy
    assert lazy.model_copy() == lazy


def test_validation_and_the_json_schema_are_those_of_a_plain_string() -> None:
    assert Note(text="a").text == "a"
    with pytest.raises(ValidationError, match="text"):
        Note(text=3)
    with pytest.raises(ValidationError, match="text"):
        Note()  # type: ignore[call-arg]
    for mode in ("validation", "serialization"):
        schema = Note.model_json_schema(mode=mode)
        eager = EagerNote.model_json_schema(mode=mode)
        assert schema["properties"] == eager["properties"]
        assert schema.get("required") == eager.get("required")


def test_a_frozen_model_with_text_on_read_stays_frozen() -> None:
    note = Note(text="a")
    with pytest.raises(ValidationError, match="frozen"):
        note.text = "b"  # type: ignore[misc]
    assert note.text == "a"


def test_a_subclass_inherits_the_fields_without_a_default() -> None:
    assert LongNote.model_fields["text"].is_required()
    with pytest.raises(ValidationError, match="text"):
        LongNote()  # type: ignore[call-arg]
    long_note = trusted(LongNote, text=Deferred("{}!".format, "b"))
    assert long_note.text == "b!"
    assert long_note.model_dump_json() == '{"text":"b!","count":0,"detail":"","extra":"x"}'


def test_many_threads_read_the_same_text() -> None:
    note = trusted(Note, text=Deferred(" ".join, ["a"] * 1000))
    with ThreadPoolExecutor(8) as pool:
        seen = set(pool.map(lambda _: note.text, range(200)))
    assert seen == {" ".join(["a"] * 1000)}


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.text(max_size=12), max_size=6),
    count=st.integers(min_value=-5, max_value=5),
)
def test_any_rendered_text_round_trips_like_the_eager_string(words: list[str], count: int) -> None:
    """Whatever the text (quotes, unicode, empty), lazy and eager agree in every form."""
    eager_text = "; ".join(words)
    lazy = trusted(Note, text=Deferred("; ".join, tuple(words)), count=count)
    eager = EagerNote(text=eager_text, count=count)
    assert json.loads(lazy.model_dump_json()) == json.loads(eager.model_dump_json())
    assert lazy.model_dump() == eager.model_dump()
    assert lazy == Note(text=eager_text, count=count)
    assert lazy.text == eager_text


def test_every_text_on_read_field_of_the_package_renders_on_read() -> None:
    """No model of the package holds a deferred text it would hand out unrendered."""
    import cluneal
    from cluneal._lazy_text import TEXT_ON_READ, _Rendered

    for name in cluneal.__all__:
        getattr(cluneal, name)  # import every public module's models

    def subclasses(klass: type[FrozenModel]) -> list[type[FrozenModel]]:
        found = []
        for sub in klass.__subclasses__():
            found.extend([sub, *subclasses(sub)])
        return found

    checked = 0
    for model in subclasses(FrozenModel):
        for field_name, field in model.__pydantic_fields__.items():
            if TEXT_ON_READ in field.metadata:
                owner = next(k for k in model.__mro__ if field_name in k.__dict__)
                assert isinstance(owner.__dict__[field_name], _Rendered), (model, field_name)
                checked += 1
    assert checked >= 2  # at least this module's Note (text, detail)


def test_setting_past_pydantic_stores_the_value_as_an_instance_attribute_would() -> None:
    """object.__setattr__ (what pydantic itself uses when building) still writes the field."""
    note = trusted(Note, text=Deferred(str, 1))
    object.__setattr__(note, "text", "two")
    assert note.text == "two"
    assert note.model_dump_json() == '{"text":"two","count":0,"detail":""}'


def test_installing_twice_keeps_one_rendering_attribute() -> None:
    from cluneal._lazy_text import install_text_fields

    first = Note.__dict__["text"]
    install_text_fields(Note)
    install_text_fields(LongNote)
    assert Note.__dict__["text"] is first
    assert "text" not in LongNote.__dict__
