"""`escape.c_comment` returns text as it is when nothing in it needs escaping: the text it
passes through that way must be text that the full escaping leaves unchanged too, and
whatever path it takes, nothing that could end or confuse a C comment comes out."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pvgen import escape

# The characters the escaping acts on, their neighbours, and plain ones; then any text.
TRICKY = [*"ab /*?\\\"=()!<>-'\t\n\r", "\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u2028"]
TEXT = st.text(alphabet=st.sampled_from([*TRICKY, "é", "\u200b"]), max_size=16) | st.text(
    max_size=24
)
UNSAFE = re.compile(f"[\\x00-\\x1f{escape._OTHER_UNSAFE}]")


def full_escaping(text: str) -> str:
    """What `c_comment` does to text that its shortcut does not take: each substitution."""
    text = escape._UNSAFE_CHAR.sub(escape._c_comment_char, text)
    text = text.replace("*/", "*\\/").replace("/*", "/\\*")
    return escape._TRIGRAPH.sub("?\\\\?", text)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_c_comment_is_the_full_escaping(text: str) -> None:
    assert escape.c_comment(text) == full_escaping(text)


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_nothing_that_ends_or_confuses_a_comment_comes_out(text: str) -> None:
    out = escape.c_comment(text)
    assert "*/" not in out and "/*" not in out
    assert UNSAFE.search(out) is None
    assert re.search(r"\?\?[=/'()!<>-]", out) is None


def test_text_with_something_to_escape_is_escaped() -> None:
    for text in ("a */ b", "a /* b", "a ??/ b", "tab\there", "bidi \u202e", "cr\r", "\x7f"):
        assert escape.c_comment(text) != text, text
    plain = "Hook 7 of table 3: saves the flags (and returns them)."
    assert escape.c_comment(plain) == plain
