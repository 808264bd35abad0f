"""`@record` (pvgen/records.py) behaves as the frozen dataclass it replaces: the same
equality, hash and repr, frozen, and slotted records pickle their fields, subclasses
included."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from functools import cached_property

import pytest

from pvgen import syntax
from pvgen.records import record
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
