"""pvgen's indented JSON writer gives exactly the text of `json.dumps(indent=2, sort_keys=True)`."""

from __future__ import annotations

import enum
import json

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from pvgen.dump import pretty_json


def standard(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner) | st.tuples(inner, inner),
    max_leaves=40,
)


@given(values)
def test_any_value_is_written_as_the_standard_library_writes_it(value: object) -> None:
    assert pretty_json(value) == standard(value)


def test_keys_that_are_not_strings_and_subclasses_of_int() -> None:
    class Level(enum.IntEnum):
        TWO = 2

    # (Keys of one dict are of one type: sorting mixed keys fails in both writers.)
    value = {2: [Level.TWO], 1: {None: "x"}, 3: {True: "\u2028\x00\ud800", False: [[], {}]}}
    assert pretty_json(value) == standard(value)


def test_every_committed_dump_is_reproduced() -> None:
    for path in [
        *ROOT.joinpath("generated").rglob("abi.json"),
        *ROOT.joinpath("specs").rglob("*.json"),
    ]:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert pretty_json(data) + "\n" == path.read_text(encoding="utf-8"), path
