"""The TextMate grammar of editors/vscode, tokenized by VS Code's own engine.

Node runs editors/vscode/test/tokenize.js (vscode-textmate with vscode-oniguruma, installed
by `npm ci` in that folder) on the reference spec, on every shipped spec and on a file with
every construct of the language (tests/editors/constructs.pvspec). The tests name the scope
each construct must get, so a grammar change that colours one wrongly fails here, and they
hold every token of pvgen's own scanner (`pvgen.lalr`, which types a word as a keyword or a
name by the parser's state) against the scope the grammar gives it: a keyword where the
parser reads a keyword, a plain name where it reads a name (`table table { ... }` declares a
table named `table`), a doc comment only where the parser takes one.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, run_cli
from lark import Lark, Token

from pvgen.lalr import Driver, driver_tables
from pvgen.syntax import GRAMMAR

EDITOR = ROOT / "editors" / "vscode"
TOKENIZER = EDITOR / "test" / "tokenize.js"
CONSTRUCTS = Path(__file__).resolve().parent / "editors" / "constructs.pvspec"
SHIPPED = sorted(
    [*SPECS.glob("*.pvspec"), *(SPECS / "linux").glob("*.pvspec"), *CONSTRUCTS.parent.glob("*")]
)

# The scope each word of the language gets where the parser reads it as a keyword. The
# test below checks that these are exactly the keywords of pvgen's grammar.
KEYWORD_SCOPES = {
    "abi": "storage.type.abi.pvspec",
    "target": "storage.type.target.pvspec",
    "include": "keyword.control.import.include.pvspec",
    "typedef": "storage.type.typedef.pvspec",
    "struct": "storage.type.struct.pvspec",
    "opaque": "storage.type.opaque.pvspec",
    "enum": "storage.type.enum.pvspec",
    "table": "storage.type.table.pvspec",
    "backend": "storage.type.backend.pvspec",
    "default": "storage.modifier.default.pvspec",
    "defined": "keyword.other.defined.pvspec",
    "if": "keyword.control.conditional.if.pvspec",
    "const": "storage.modifier.const.pvspec",
    **{
        word: "storage.type.builtin.pvspec"
        for word in ("unsigned", "signed", "short", "long", "int", "char", "void")
    },
}


@dataclass(frozen=True)
class TmToken:
    line: int  # from 1
    start: int  # characters from 0
    end: int
    text: str
    scopes: tuple[str, ...]

    @property
    def scope(self) -> str:
        """The innermost scope: the one a theme colours by."""
        return self.scopes[-1]


Tokens = dict[str, list[TmToken]]


def tokenize(paths: list[Path]) -> Tokens:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the grammar is tokenized by VS Code's engine in node")
    modules = EDITOR / "test" / "node_modules" / "vscode-textmate"
    assert modules.is_dir(), "run 'npm ci' in editors/vscode/test (.ci/run and make test do)"
    proc = subprocess.run(
        ["node", str(TOKENIZER), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    return {
        f["path"]: [TmToken(t[0], t[1], t[2], t[3], tuple(t[4])) for t in f["tokens"]]
        for f in document["files"]
    }


@pytest.fixture(scope="module")
def shipped() -> Tokens:
    return tokenize(SHIPPED)


def token_at(tokens: list[TmToken], line: int, column: int) -> TmToken:
    for token in tokens:
        if token.line == line and token.start <= column < token.end:
            return token
    raise AssertionError(f"no token at {line}:{column}")


def find(path: Path, tokens: Tokens, line_with: str, word: str, nth: int = 0) -> TmToken:
    """The token at the `nth` occurrence of `word` on the first line holding `line_with`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, text in enumerate(lines, 1) if line_with in text)
    # A word stands alone (`4` is not the 4 of `X86_64`); other text is found anywhere.
    edge = r"(?<![A-Za-z0-9_])" if word[:1].isalnum() or word[:1] == "_" else ""
    tail = r"(?![A-Za-z0-9_])" if word[-1:].isalnum() or word[-1:] == "_" else ""
    found = list(re.finditer(edge + re.escape(word) + tail, lines[number - 1]))
    token = token_at(tokens[str(path)], number, found[nth].start())
    return token


# ---- the scopes of each construct --------------------------------------------------------


# (the first line holding this, the word, its occurrence on the line, its innermost scope)
CONSTRUCT_CASES = [
    # comments: a doc comment is told from an ordinary one
    ("// Every construct", "//", 0, "punctuation.definition.comment.pvspec"),
    ("// Every construct", " Every", 0, "comment.line.double-slash.pvspec"),
    ("/* A block comment", "/*", 0, "punctuation.definition.comment.begin.pvspec"),
    ("   over two lines. */", "over", 0, "comment.block.pvspec"),
    ("//// Four slashes", " Four", 0, "comment.line.double-slash.pvspec"),
    ("/// A spec that uses", " A spec", 0, "comment.line.documentation.pvspec"),
    ("/// Doc comments may hold", "`code`", 0, "markup.inline.raw.pvspec"),
    ("/// Inside a settings block", " Inside", 0, "comment.line.double-slash.pvspec"),
    ("/// Between annotations and", " Between", 0, "comment.line.double-slash.pvspec"),
    ("/// Inside a parameter list", " Inside", 0, "comment.line.double-slash.pvspec"),
    ("/// Inside a backend block", " Inside", 0, "comment.line.double-slash.pvspec"),
    ("/// Starts a batch.", " Starts", 0, "comment.line.documentation.pvspec"),
    ("/// Nothing is batched.", " Nothing", 0, "comment.line.documentation.pvspec"),
    # declarations and their names
    ("abi constructs {", "abi", 0, "storage.type.abi.pvspec"),
    ("abi constructs {", "constructs", 0, "entity.name.namespace.abi.pvspec"),
    ("    version 3;", "version", 0, "support.type.property-name.setting.pvspec"),
    ("    stability stable;", "stable", 0, "variable.other.constant.pvspec"),
    ("patch_template opaque", "opaque", 0, "entity.name.type.table.pvspec"),
    ("target i386 {", "target", 0, "storage.type.target.pvspec"),
    ("target i386 {", "i386", 0, "entity.name.namespace.target.pvspec"),
    ("target i386 {", "LEVELS", 0, "variable.other.constant.define.pvspec"),
    ("target i386 {", "X86_32", 0, "variable.other.constant.pvspec"),
    ('include "included', "include", 0, "keyword.control.import.include.pvspec"),
    ('include "included', "included.pvspec", 0, "string.quoted.double.pvspec"),
    ("typedef u64 pteval_t", "typedef", 0, "storage.type.typedef.pvspec"),
    ("typedef u64 pteval_t", "u64", 0, "support.type.builtin.pvspec"),
    ("typedef u64 pteval_t", "pteval_t", 0, "entity.name.type.typedef.pvspec"),
    ("typedef const char *const label_t", "const", 1, "storage.modifier.const.pvspec"),
    ("typedef const char *const label_t", "*", 0, "storage.modifier.pointer.pvspec"),
    ("opaque struct mm_struct", "opaque", 0, "storage.type.opaque.pvspec"),
    ("opaque struct mm_struct", "struct", 0, "storage.type.struct.pvspec"),
    ("opaque struct mm_struct", "mm_struct", 0, "entity.name.type.opaque.pvspec"),
    ("struct desc_ptr {", "struct", 0, "storage.type.struct.pvspec"),
    ("struct desc_ptr {", "desc_ptr", 0, "entity.name.type.struct.pvspec"),
    ("unsigned long int address", "int", 0, "storage.type.builtin.pvspec"),
    ("unsigned long int address", "address", 0, "variable.other.member.pvspec"),
    ("enum lazy_mode : s32", "enum", 0, "storage.type.enum.pvspec"),
    ("enum lazy_mode : s32", "lazy_mode", 0, "entity.name.type.enum.pvspec"),
    ("enum lazy_mode : s32", "s32", 0, "support.type.builtin.pvspec"),
    ("LAZY_NONE = 0,", "LAZY_NONE", 0, "variable.other.enummember.pvspec"),
    ("table pv_irq_ops {", "table", 0, "storage.type.table.pvspec"),
    ("table pv_irq_ops {", "pv_irq_ops", 0, "entity.name.type.table.pvspec"),
    ("unsigned long save_fl();", "save_fl", 0, "entity.name.function.hook.pvspec"),
    ("void swapgs(enum lazy_mode mode", "lazy_mode", 0, "entity.name.type.pvspec"),
    ("void swapgs(enum lazy_mode mode", "mode", 0, "variable.parameter.pvspec"),
    ("void swapgs(enum lazy_mode mode", "desc_ptr", 0, "entity.name.type.pvspec"),
    ("label_t name(mm_struct *mm)", "label_t", 0, "entity.name.type.pvspec"),
    ("label_t name(mm_struct *mm)", "mm_struct", 0, "entity.name.type.pvspec"),
    ("pteval_t value", "value", 0, "variable.parameter.pvspec"),
    ("backend native default;", "backend", 0, "storage.type.backend.pvspec"),
    ("backend native default;", "native", 0, "entity.name.namespace.backend.pvspec"),
    ("backend native default;", "default", 0, "storage.modifier.default.pvspec"),
    ("@fallback(native) pv_irq_ops: *;", "pv_irq_ops", 0, "entity.name.type.table.pvspec"),
    ("@fallback(native) pv_irq_ops: *;", "*", 0, "keyword.operator.wildcard.pvspec"),
    ("pv_irq_ops: include, lazy.enter", "enter", 0, "variable.other.member.pvspec"),
    ("pv_irq_ops: include, lazy.enter", ".", 0, "punctuation.accessor.pvspec"),
    # keywords used as names
    ("table table {", "table", 1, "entity.name.type.table.pvspec"),
    ("table opaque {", "opaque", 0, "entity.name.type.table.pvspec"),
    ("    u8 target;", "target", 0, "variable.other.member.pvspec"),
    ("void include(signed char abi", "include", 0, "entity.name.function.hook.pvspec"),
    ("void include(signed char abi", "abi", 0, "variable.parameter.pvspec"),
    ("short int opaque, long long table", "opaque", 0, "variable.parameter.pvspec"),
    ("short int opaque, long long table", "table", 0, "variable.parameter.pvspec"),
    ("const unsigned int *backend;", "backend", 0, "variable.other.member.pvspec"),
    ("    table lazy;", "table", 0, "entity.name.type.pvspec"),
    ("    table lazy;", "lazy", 0, "variable.other.member.pvspec"),
    ("    opaque: flush;", "opaque", 0, "entity.name.type.table.pvspec"),
    ("pv_irq_ops: include, lazy.enter", "include", 0, "variable.other.member.pvspec"),
    # annotations and their arguments
    ("@packed @shared", "@", 0, "punctuation.definition.annotation.pvspec"),
    ("@packed @shared", "shared", 0, "storage.type.annotation.pvspec"),
    ("@hot(callsites = 1463)", "callsites", 0, "variable.parameter.annotation.pvspec"),
    ("@hot(callsites = 1463)", "=", 0, "keyword.operator.assignment.pvspec"),
    ("@allow(PV117", "PV117", 0, "constant.other.rule-code.pvspec"),
    ("use = pv_irq_ops.include", "pv_irq_ops", 0, "entity.name.type.table.pvspec"),
    ("use = pv_irq_ops.include", "include", 0, "variable.other.member.pvspec"),
    ("@renamed_from(irq_off)", "irq_off", 0, "variable.other.pvspec"),
    ("@callconv(fastcall)", "fastcall", 0, "variable.other.pvspec"),
    ("@must_patch(pv_irq_ops.save_fl)", "save_fl", 0, "variable.other.member.pvspec"),
    # conditions
    ("@if(X86_64 || LEVELS >= 3) typedef", "if", 0, "keyword.control.conditional.if.pvspec"),
    ("@if(X86_64 || LEVELS >= 3) typedef", "X86_64", 0, "variable.other.constant.define.pvspec"),
    ("@if(X86_64 || LEVELS >= 3) typedef", "||", 0, "keyword.operator.logical.pvspec"),
    ("@if(X86_64 || LEVELS >= 3) typedef", ">=", 0, "keyword.operator.comparison.pvspec"),
    ("@if(X86_64 || LEVELS >= 3) typedef", "typedef", 0, "storage.type.typedef.pvspec"),
    ("@if(!(X86_64 || LEVELS >= 3))", "!", 0, "keyword.operator.logical.not.pvspec"),
    ("@if(!(X86_64 || LEVELS >= 3))", "(", 1, "punctuation.section.parens.begin.pvspec"),
    ("@if(defined(X86_64)) LAZY_CPU", "defined", 0, "keyword.other.defined.pvspec"),
    ("@if(defined(X86_64)) LAZY_CPU", "LAZY_CPU", 0, "variable.other.enummember.pvspec"),
    ("LEVELS != 2 && LEVELS > 1", "!=", 0, "keyword.operator.comparison.pvspec"),
    ("LEVELS != 2 && LEVELS > 1", "&&", 0, "keyword.operator.logical.pvspec"),
    # strings and their escapes
    ('@patch(native = "pushf', "pushf", 0, "string.quoted.double.pvspec"),
    ('@patch(native = "pushf', "\\t", 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', '\\"', 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', "\\\\", 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', "\\x41", 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', "\\n", 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', "\\0", 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', "\\'", 0, "constant.character.escape.pvspec"),
    ('@patch(native = "pushf', "clobbers", 0, "variable.parameter.annotation.pvspec"),
    # numbers in every form the grammar accepts
    ("target i386 {", "0x2", 0, "constant.numeric.integer.hexadecimal.pvspec"),
    ("target i386 {", "-8", 0, "constant.numeric.integer.decimal.pvspec"),
    ("target i386 {", "0XfF", 0, "constant.numeric.integer.hexadecimal.pvspec"),
    ("defines X86_64, LEVELS = 4", "-0x10", 0, "constant.numeric.integer.hexadecimal.pvspec"),
    ("defines X86_64, LEVELS = 4", "255", 0, "constant.numeric.integer.decimal.pvspec"),
    ("LAZY_MMU = 0x1,", "0x1", 0, "constant.numeric.integer.hexadecimal.pvspec"),
    ("LAZY_CPU = -2,", "-2", 0, "constant.numeric.integer.decimal.pvspec"),
    ("@since(2)", "2", 0, "constant.numeric.integer.decimal.pvspec"),
    ("OFFSET < 0 &&", "0", 0, "constant.numeric.integer.decimal.pvspec"),
]


@pytest.mark.parametrize(
    "line_with, word, nth, scope", CONSTRUCT_CASES, ids=[f"{c[0]}|{c[1]}" for c in CONSTRUCT_CASES]
)
def test_construct_scope(shipped: Tokens, line_with: str, word: str, nth: int, scope: str) -> None:
    token = find(CONSTRUCTS, shipped, line_with, word, nth)
    assert token.scope == scope, token
    if scope.startswith(("comment.", "string.")):
        assert word in token.text, token
    else:
        assert token.text == word, f"{word!r} is split or merged: {token}"


def test_the_constructs_file_is_a_spec_pvgen_accepts() -> None:
    """The scopes above are those of real pvspec: the file parses and resolves."""
    result = run_cli("check", "--no-rules", str(CONSTRUCTS))
    assert result.status == 0, result.err


REFERENCE_CASES = [
    ("abi paravirt {", "paravirt", "entity.name.namespace.abi.pvspec"),
    (
        "/// Paravirtualization hook tables",
        " Paravirtualization",
        "comment.line.documentation.pvspec",
    ),
    ("// Reference spec:", " Reference", "comment.line.double-slash.pvspec"),
    ("table pv_cpu_ops {", "pv_cpu_ops", "entity.name.type.table.pvspec"),
    ("unsigned long get_debugreg(int regno);", "get_debugreg", "entity.name.function.hook.pvspec"),
    ("unsigned long get_debugreg(int regno);", "regno", "variable.parameter.pvspec"),
    ('@low_level @patch(native = "clts")', "patch", "storage.type.annotation.pvspec"),
    ('@low_level @patch(native = "clts")', "clts", "string.quoted.double.pvspec"),
    (
        "defines X86_64, X86_LOCAL_APIC, PAGETABLE_LEVELS = 4;",
        "4",
        "constant.numeric.integer.decimal.pvspec",
    ),
    ("@if(X86_64) @low_level", "X86_64", "variable.other.constant.define.pvspec"),
    ("backend xen {", "xen", "entity.name.namespace.backend.pvspec"),
]


@pytest.mark.parametrize(
    "line_with, word, scope", REFERENCE_CASES, ids=[c[1] for c in REFERENCE_CASES]
)
def test_reference_spec_scope(shipped: Tokens, line_with: str, word: str, scope: str) -> None:
    token = find(SPECS / "paravirt.pvspec", shipped, line_with, word)
    assert token.scope == scope, token


# ---- against pvgen's own lexer ---------------------------------------------------------------


@dataclass(frozen=True)
class LarkToken:
    type: str
    value: str
    line: int
    column: int  # from 0


def lark_keywords() -> dict[str, str]:
    """The keywords of pvgen's grammar: terminal name -> word."""
    parser = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr")
    return {
        t.name: t.pattern.value
        for t in parser.terminals
        if t.pattern.type == "str" and t.pattern.value.isalpha()
    }


def lark_tokens(path: Path) -> list[LarkToken]:
    """Every token pvgen's parser reads in `path`, comments included, each typed as its
    scanner (`pvgen.lalr`) typed it where it stands: `table` a keyword or a name, `///` a doc
    comment or a plain one, as the parser's state decides."""
    found: list[Token] = []

    def keep(token: Token) -> Token:
        found.append(token)
        return token

    parser = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", maybe_placeholders=True)
    ignored = set(parser.lexer_conf.ignore)
    watched = {t.name for t in parser.terminals if t.name not in ignored or "COMMENT" in t.name}
    tables = driver_tables(parser, sorted(watched))
    Driver(tables, object(), dict.fromkeys(watched, keep)).parse(path.read_text(encoding="utf-8"))
    return [LarkToken(t.type, str(t), t.line or 0, (t.column or 1) - 1) for t in found]


def test_the_keywords_are_those_of_the_grammar() -> None:
    assert sorted(lark_keywords().values()) == sorted(KEYWORD_SCOPES)


def test_constructs_file_uses_every_keyword_as_keyword_and_as_name() -> None:
    tokens = lark_tokens(CONSTRUCTS)
    keywords = set(lark_keywords())
    assert {t.type for t in tokens} >= keywords
    as_names = {t.value for t in tokens if t.type == "NAME" and t.value in KEYWORD_SCOPES}
    assert as_names >= {"table", "target", "opaque", "include", "abi", "backend"}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_token_agrees_with_pvgens_lexer(shipped: Tokens, path: Path) -> None:
    """Each keyword the parser reads gets its keyword scope; each name, even one spelt like
    a keyword, gets no keyword scope; comments, doc comments, strings and integers are
    scoped as such exactly where the parser reads them so."""
    keywords = lark_keywords()
    tm = shipped[str(path)]
    checked = 0
    for lt in lark_tokens(path):
        token = token_at(tm, lt.line, lt.column)
        where = f"{path.name}:{lt.line}:{lt.column + 1} {lt.type} {lt.value!r}: {token.scopes}"
        if lt.type in keywords:
            assert token.scope == KEYWORD_SCOPES[lt.value], where
            assert token.text == lt.value, where
        elif lt.type == "NAME":
            assert token.scope not in KEYWORD_SCOPES.values(), where
            assert not token.scope.startswith(("comment.", "string.", "constant.num")), where
            assert token.text == lt.value, where
        elif lt.type == "DOC_COMMENT":
            assert "comment.line.documentation.pvspec" in token.scopes, where
        elif lt.type == "LINE_COMMENT":
            assert "comment.line.double-slash.pvspec" in token.scopes, where
            assert "comment.line.documentation.pvspec" not in token.scopes, where
        elif lt.type == "BLOCK_COMMENT":
            assert "comment.block.pvspec" in token.scopes, where
        elif lt.type == "STRING":
            assert "string.quoted.double.pvspec" in token.scopes, where
        elif lt.type == "INT":
            assert token.scope.startswith("constant.numeric.integer."), where
            assert token.text == lt.value, where
        else:
            continue
        checked += 1
    assert checked > 0


# ---- what the grammar marks as wrong -----------------------------------------------------------


def test_invalid_forms_are_marked(tmp_path: Path) -> None:
    spec = tmp_path / "bad.pvspec"
    spec.write_text(
        "target t { defines A = 010; }\n"
        'table x { @patch(native = "a\\qb") void f(); }\n'
        'include "open;\n'
        "table z { void h(); }\n",
        encoding="utf-8",
    )
    tokens = tokenize([spec])[str(spec)]
    assert token_at(tokens, 1, 23).scope == "invalid.illegal.numeric.leading-zero.pvspec"
    assert token_at(tokens, 2, 29).scope == "invalid.illegal.unknown-escape.pvspec"
    # An unclosed string ends with its line, as pvgen's lexer reads strings.
    assert token_at(tokens, 4, 0).scope == "storage.type.table.pvspec"
