"""The fast parser loop (pvgen/lalr.py) against lark's own parser on the same grammar.

For every spec in the repository and for many mutated ones, both must build the same syntax
tree, the same comments and the same closing braces, or both must refuse the text (the
driver refuses with NotParsed, and then `syntax.parse` asks lark for the exact error).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from pvgen import syntax
from pvgen.diagnostics import SpecError
from pvgen.lalr import NotParsed, _first_chars, scan_order
from pvgen.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(
    p
    for p in ROOT.glob("**/*.pvspec")
    if not any(
        part.startswith(".") or part in ("build", "work") for part in p.relative_to(ROOT).parts
    )
)
REFERENCE = (ROOT / "specs" / "paravirt.pvspec").read_text(encoding="utf-8")


def _both(text: str) -> tuple[Any, Any]:
    """(driver's result, lark's result); each is (items, comments, braces) or an error kind.
    Where only the driver accepts the text, its result is marked "corrected": it read a word
    as a name where lark's contextual lexer reads the keyword (see pvgen/lalr.py)."""
    mine, theirs = _parse_both(text)
    if mine != theirs and theirs == "refused" and syntax._driver().corrected:
        return "corrected", theirs
    return mine, theirs


def _parse_both(text: str) -> tuple[Any, Any]:
    builder = syntax._builder()
    source = SourceFile.from_text("t.pvspec", text)
    results = []
    for parse in (syntax._driver().parse, syntax._lark_parser().parse):
        builder.begin(source)
        try:
            items = parse(text)
        except (NotParsed, UnexpectedInput):
            results.append("refused")
        except SpecError as exc:
            results.append(("spec error", str(exc)))
        except RecursionError:
            results.append("too deep")
        else:
            results.append((items, list(builder.comments), list(builder.braces)))
    return results[0], results[1]


def test_the_repository_has_specs_to_compare() -> None:
    assert len(SPECS) > 40  # the shipped, example, test and Linux release specs


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_parses_alike(path: Path) -> None:
    mine, theirs = _both(path.read_text(encoding="utf-8"))
    assert mine == theirs


def test_keywords_as_names_and_doc_comments_out_of_place() -> None:
    text = (
        "abi int { version 1; }\n"
        "target default { data_model lp64; defines include, table = 3; }\n"
        "typedef u32 enum_t;\n"
        "table table { /// doc\n void void_(int include /// a comment here\n, unsigned long default); int const_;"
        " // not a doc here\n}\n"
        "backend backend { table: void_; } /* block\n comment */ // line\n"
        "@if(defined(include) && table >= 3 || !default) typedef u32 x;\n"
    )
    mine, theirs = _both(text)
    assert mine == theirs
    assert mine != "refused"


def test_a_keyword_named_member_after_a_doc_comment_or_an_annotation() -> None:
    """LALR(1) shares the states that read `///` and annotations with the top level, where
    `table` begins a declaration: lark's contextual lexer reads the keyword there and the
    member is refused; the driver reads the name, as the language says it may be."""
    text = (
        "/// The table named table.\ntable table { void f(); }\n"
        "table ops {\n    /// A sub-table.\n    table lazy;\n"
        "    @deprecated(since = 1)\n    table other;\n}\n"
    )
    mine, theirs = _parse_both(text)
    assert theirs == "refused" and mine != "refused"
    assert syntax._driver().corrected == 2
    items = mine[0]
    members = items[1].members
    assert [(m.name, m.type.base) for m in members] == [("lazy", "table"), ("other", "table")]


def test_a_syntax_error_still_gets_larks_message() -> None:
    source = SourceFile.from_text("t.pvspec", "table t { void f(; }\n")
    with pytest.raises(SpecError) as caught:
        syntax.parse(source)
    assert "t.pvspec:1:18: error: unexpected ';'" in str(caught.value)


_TOKEN = re.compile(r"\s+|//[^\n]*|/\*.*?\*/|\"[^\"\n]*\"|\w+|.", re.S)
_PIECES = [";", "{", "}", "(", ")", ",", "*", "@", "=", "==", ".", ":", "!", "&&", "||",
           "int", "const", "struct", "enum", "table", "default", "include", "if", "defined",
           "/// d\n", "// c\n", "/* c */", '"s\\n"', "-1", "0x1f", "name", "\n", " "]  # fmt: skip
_EDIT = st.tuples(
    st.sampled_from(["drop", "insert", "replace", "swap"]),
    st.integers(0, 10_000),
    st.sampled_from(_PIECES),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(_EDIT, min_size=1, max_size=4))
def test_mutated_reference_spec_parses_alike(edits: list[tuple[str, int, str]]) -> None:
    tokens = _TOKEN.findall(REFERENCE)
    for kind, at, piece in edits:
        i = at % len(tokens)
        if kind == "drop":
            del tokens[i]
        elif kind == "insert":
            tokens.insert(i, piece)
        elif kind == "replace":
            tokens[i] = piece
        else:
            j = (i + 1) % len(tokens)
            tokens[i], tokens[j] = tokens[j], tokens[i]
    mine, theirs = _both("".join(tokens))
    assert mine in (theirs, "corrected")


# ---- the shipped tables -------------------------------------------------------------


def test_the_shipped_tables_are_this_grammars() -> None:
    from pvgen import larktables, parsetables
    from pvgen.digest import sha256

    grammar = syntax.GRAMMAR.read_text(encoding="utf-8")
    assert parsetables.GRAMMAR_SHA256 == sha256(grammar.encode()).hexdigest(), "run make tables"
    assert larktables.GRAMMAR_SHA256 == parsetables.GRAMMAR_SHA256, "run make tables"


def _installed_lark_made_the_tables() -> None:
    import lark

    from pvgen import larktables

    if larktables.LARK_VERSION != lark.__version__:
        pytest.skip(
            f"tables made by lark {larktables.LARK_VERSION}, lark {lark.__version__} is"
            " installed: lark's parser is built from the grammar (tested below)"
        )


def test_larks_parser_is_built_from_the_shipped_tables() -> None:
    _installed_lark_made_the_tables()
    assert syntax._shipped_parser({}) is not None


def _fresh_parsers() -> tuple[Any, Any]:
    """Lark's parser built now from the grammar, and a driver of the tables computed from
    it in memory (as for a grammar edited since `make tables`)."""
    from lark import Lark

    from pvgen.lalr import Driver, driver_tables

    builder = syntax._builder()
    callbacks = syntax._lexer_callbacks(builder)
    fresh = Lark(
        syntax.GRAMMAR.read_text(encoding="utf-8"),
        **syntax.LARK_OPTIONS,
        transformer=builder,
        lexer_callbacks=callbacks,
    )
    return fresh, Driver(driver_tables(fresh, sorted(callbacks)), builder, callbacks)


def test_tables_built_from_the_grammar_parse_alike() -> None:
    """The shipped tables against tables lark builds now from the grammar, and against the
    driver's tables computed from those."""
    fresh, driver = _fresh_parsers()
    builder = syntax._builder()
    for path in SPECS:
        text = path.read_text(encoding="utf-8")
        source = SourceFile.from_text("t.pvspec", text)
        try:
            expected = syntax.parse(source)
        except SpecError:
            continue  # the specs of error tests
        for parser in (fresh, driver):
            builder.begin(source)
            assert parser.parse(text) == list(expected.items), path
            assert (tuple(builder.comments), tuple(builder.braces)) == (
                expected.comments,
                expected.closing_braces,
            ), path


def test_a_spec_in_the_grammar_is_checked_without_importing_lark(tmp_path: Path) -> None:
    """Lark is imported only to word a syntax error: a check of a valid spec, with no
    cache, never loads it (its import is a third of a small spec's check)."""
    import subprocess
    import sys

    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from pvgen import api\n"
        "report = api.check([Path(sys.argv[1])])\n"
        "assert report.specs, report\n"
        "print(sorted(m for m in sys.modules if m == 'lark' or m.startswith('lark.')))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PVGEN_NO_CACHE": "1", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", program, str(ROOT / "specs" / "paravirt.pvspec")],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
    broken = tmp_path / "broken.pvspec"
    broken.write_text("table t { void f(; }\n", encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "pvgen", "check", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert failed.returncode == 1
    assert "broken.pvspec:1:18: error: unexpected ';'" in failed.stdout + failed.stderr


def test_nothing_is_read_or_written_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lark's own table cache is a pickle of a predictable name in the shared temporary
    folder, which another local user could plant; pvgen never uses it."""
    import subprocess
    import sys

    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "TMPDIR": str(temp),
        "PVGEN_NO_CACHE": "1",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pvgen", "check", str(ROOT / "specs" / "paravirt.pvspec")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert list(temp.iterdir()) == []


def test_the_scanner_tries_common_tokens_first_where_no_text_can_match_both() -> None:
    """Names, then one-character punctuation, lead the scanner's alternation; a terminal
    only passes one that lark tries earlier when no text can start a match of both."""
    terminals = [
        ("DOC", r"\/\/\/[^\n]*", False),
        ("INT", r"-?[0-9]+", False),
        ("NAME", r"[A-Za-z_]\w*", False),
        ("LINE", r"\/\/[^\n]*", False),
        ("CMP", r"(?:==|!=|<)", False),
        ("COMMA", ",", True),
        ("EQUAL", "=", True),
        ("SLASH", r"\/", True),
    ]
    order = [name for name, _, _ in scan_order(terminals, 0)]
    # NAME's first characters are known ([A-Za-z_]) although `\w` follows; COMMA passes
    # everything; SLASH waits for both comments, EQUAL for CMP (`==`).
    assert order == ["NAME", "COMMA", "DOC", "INT", "LINE", "SLASH", "CMP", "EQUAL"]
    # A case-blind grammar, or a terminal whose first characters are not simple to tell,
    # keeps lark's order.
    assert [n for n, _, _ in scan_order(terminals, re.IGNORECASE)] == [n for n, _, _ in terminals]
    with_class = [("WORD", r"\w+", False), ("COMMA", ",", True)]
    assert [n for n, _, _ in scan_order(with_class, 0)] == ["WORD", "COMMA"]


@pytest.mark.parametrize(
    ("regexp", "first"),
    [
        (r"-?(0[xX][0-9a-f]+|[0-9]+)", "-0123456789"),
        (r"(?:==|!=|<=)", "!<="),
        (r"\/\*[^*]*\*+\/", "/"),
        (r"[ab]*c", "abc"),
        (r"a?", None),  # may match the empty text
        (r"[^x]y", None),
        (r"\w", None),
        (r"(?=a)a", None),
        (r"(?i:a)", None),
    ],
)
def test_first_characters_of_a_terminal(regexp: str, first: str | None) -> None:
    found = _first_chars(regexp, 0)
    assert found == (None if first is None else frozenset(first))
