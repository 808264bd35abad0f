"""`@record` (pvgen/records.py) behaves as the frozen dataclass it replaces: the same
equality, hash and repr, frozen, and slotted records pickle their fields, subclasses
included."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from functools import cached_property

import pytest

from pvgen import model, syntax
from pvgen.records import _init, record
from pvgen.source import SourceFile


@record
class Point:
    x: int
    y: int
    label: str = field(default="", compare=False)
    note: str = field(default="", repr=False)


@dataclass(frozen=True)
class DataPoint:
    x: int
    y: int
    label: str = field(default="", compare=False)
    note: str = field(default="", repr=False)


@record(slots=True, eq=False, kw_only=True)
class Base:
    name: str
    size: int = 0


@record(eq=False, kw_only=True)
class Derived(Base):
    extra: tuple[int, ...] = ()

    @cached_property
    def total(self) -> int:
        return self.size + sum(self.extra)


@record(slots=True)
class Pair:
    left: object
    right: object


def test_equality_hash_and_repr_are_a_dataclasses() -> None:
    values = [(1, 2, "a", "n"), (1, 2, "b", "n"), (1, 3, "a", "n"), (1, 2, "a", "m")]
    for a in values:
        for b in values:
            assert (Point(*a) == Point(*b)) == (DataPoint(*a) == DataPoint(*b)), (a, b)
            if Point(*a) == Point(*b):
                assert hash(Point(*a)) == hash(Point(*b))
        assert repr(Point(*a)) == repr(DataPoint(*a)).replace("DataPoint", "Point")
    assert Point(1, 2) != DataPoint(1, 2)  # another class is never equal
    assert Point(1, 2).__eq__(DataPoint(1, 2)) is NotImplemented


def test_records_are_frozen_and_work_with_dataclass_helpers() -> None:
    point = Point(1, 2, "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 3  # type: ignore[misc]
    assert dataclasses.replace(point, y=5) == Point(1, 5)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "label", "note"]
    assert dataclasses.astuple(point) == (1, 2, "a", "")


def test_identity_records_compare_by_identity() -> None:
    one, other = Base(name="a"), Base(name="a")
    assert one != other and one == one
    assert len({one, other}) == 2


def test_slotted_records_and_their_subclasses_pickle_their_own_fields() -> None:
    """Each class's state methods serve its own objects: a base class pickled first must
    not make a subclass lose its fields, nor the other way round."""
    base = Base(name="a", size=1)
    derived = Derived(name="b", size=2, extra=(3, 4))
    assert derived.total == 9  # a cached property: kept in the instance's dictionary
    for order in ([base, derived], [derived, base]):
        again = pickle.loads(pickle.dumps(order))
        for before, after in zip(order, again, strict=True):
            assert type(after) is type(before)
            assert dataclasses.astuple(after) == dataclasses.astuple(before)
    nested = Pair(Pair(1, "x"), (Pair(None, 2.5),))
    assert pickle.loads(pickle.dumps(nested)) == nested
    assert not hasattr(base, "__dict__")  # slotted: no dictionary per object


def test_a_parsed_spec_survives_pickling() -> None:
    """The records of a real syntax tree come back equal field by field."""
    text = (
        "abi demo { version 1; }\ntarget x86_64 { data_model lp64; }\n"
        "typedef u32 word_t;\ntable ops { word_t f(word_t a, const void *b); }\n"
        "backend native default;\n"
    )
    tree = syntax.parse(SourceFile.from_text("demo.pvspec", text))
    again = pickle.loads(pickle.dumps(tree))
    # A SourceFile is itself (compared by identity); what it holds comes back.
    assert again.source.text == tree.source.text
    assert (again.items, again.comments, again.closing_braces) == (
        tree.items,
        tree.comments,
        tree.closing_braces,
    )
    hook = next(i for i in tree.items if isinstance(i, syntax.TableDecl)).members[0]
    assert repr(hook).startswith(f"{type(hook).__name__}(span=Span(line=4")


SLOTTED = [
    cls
    for module in (model, syntax)
    for cls in vars(module).values()
    if isinstance(cls, type)
    and cls.__module__ == module.__name__
    and dataclasses.is_dataclass(cls)
    and "__slots__" in cls.__dict__
]


def test_the_model_and_the_trees_have_slotted_records() -> None:
    names = {cls.__name__ for cls in SLOTTED}
    assert {"Hook", "Param", "Override", "HookSlot", "TypeRef", "TypeExpr"} <= names


@pytest.mark.parametrize("cls", SLOTTED, ids=lambda cls: cls.__name__)
def test_a_slotted_records_init_takes_what_the_dataclass_declares(cls: type) -> None:
    """Each field once, in order (those taken by position first, as dataclasses order them),
    with its default, keyword-only where declared so; or the dataclass's own `__init__`."""
    init = _init(cls)
    fields = sorted((f for f in dataclasses.fields(cls) if f.init), key=lambda f: f.kw_only is True)
    if init is None:
        assert any(f.default_factory is not dataclasses.MISSING for f in fields)
        return
    params = list(inspect.signature(init).parameters.values())[1:]
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        keyword_only = inspect.Parameter.KEYWORD_ONLY
        assert (p.kind == keyword_only) == (f.kw_only is True), f.name
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == expected, f.name


@dataclass(frozen=True, slots=True)
class PlainTriple:
    a: int
    b: tuple[int, ...] = ()
    c: str | None = None


@record(slots=True)
class Triple:
    a: int
    b: tuple[int, ...] = ()
    c: str | None = None


@record(slots=True, eq=False, kw_only=True)
class Located(Base):
    flag: bool = False
    where: str


@record(slots=True)
class Made:
    items: list[int] = field(default_factory=list)


def test_a_slotted_record_is_built_like_the_dataclass() -> None:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = [
        ((1,), {}),
        ((1, (2, 3)), {"c": "x"}),
        ((), {"a": 5, "c": None}),
    ]
    for args, kwargs in calls:
        plain, made = PlainTriple(*args, **kwargs), Triple(*args, **kwargs)  # type: ignore[arg-type]
        assert dataclasses.astuple(made) == dataclasses.astuple(plain)
        assert made == Triple(*args, **kwargs)  # type: ignore[arg-type]
        assert pickle.loads(pickle.dumps(made)) == made
    refused: list[tuple[tuple[object, ...], dict[str, object]]] = [
        ((), {}),
        ((1, 2, 3, 4), {}),
        ((1,), {"a": 2}),
        ((1,), {"d": 0}),
    ]
    for args, kwargs in refused:
        with pytest.raises(TypeError):
            PlainTriple(*args, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Triple(*args, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Triple(1).a = 2  # type: ignore[misc]


def test_a_derived_slotted_record_takes_every_field_by_keyword() -> None:
    located = Located(name="x", where="here")
    assert dataclasses.astuple(located) == ("x", 0, False, "here")
    assert dataclasses.replace(located, size=8).size == 8
    with pytest.raises(TypeError):
        Located("x", "here")  # type: ignore[misc]
    with pytest.raises(TypeError):
        Located(name="x")  # type: ignore[call-arg]


def test_a_default_factory_keeps_the_dataclasses_init() -> None:
    one, other = Made(), Made()
    assert one.items == [] and one.items is not other.items
