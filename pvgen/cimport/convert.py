"""Spec writing: the declarations of a C header to the text of a first .pvspec.

Takes: a `Header` and its `Scan` (for comments and blank lines), the struct
patterns, the ABI name, and the parsed further headers whose inline functions
are the kernel's call wrappers (for the signatures of callee-save thunks).
Hands on: `Imported`, the spec text in the canonical layout (it has been parsed
again by the formatter) and the notes for stderr, each with its header line.
Everything pvgen could not carry over is a `TODO(pvgen import)` comment at the
place it belongs, so that nothing is silently lost. Every slot of a table is
kept, so the imported layout and patch IDs are the header's: a callee-save
thunk whose signature no wrapper gives is a placeholder hook marked TODO.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .. import conditions as cond
from ..layout import BUILTIN_TYPES, canonical_c_type
from ..names import PY_STDLIB_MODULES, problem_with
from .cparse import (
    CEnum,
    CInline,
    CMember,
    CParam,
    CStruct,
    CType,
    CTypedef,
    Header,
    matching,
    split_at,
    type_of,
)
from .scan import KNOWN_DEFINED, KNOWN_UNDEFINED, CComment, Frame, HeaderError, Scan, Token

TODO = "TODO(pvgen import):"
# Defines that only one width has, so the two default targets do not both get them.
WIDE_DEFINES = frozenset({"X86_64", "64BIT"})
NARROW_DEFINES = frozenset({"X86_32", "X86_PAE"})
# Spellings of the C library and the kernel's exported types, as pvgen builtins.
TYPE_ALIASES = {
    "size_t": "unsigned long",
    "ssize_t": "long",
    "uintptr_t": "unsigned long",
    "intptr_t": "long",
    "_Bool": "bool",
    **{f"uint{n}_t": f"u{n}" for n in (8, 16, 32, 64)},
    **{f"int{n}_t": f"s{n}" for n in (8, 16, 32, 64)},
    **{f"__u{n}": f"u{n}" for n in (8, 16, 32, 64)},
    **{f"__s{n}": f"s{n}" for n in (8, 16, 32, 64)},
}


@dataclass
class Imported:
    text: str
    notes: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Need:
    """A type name the tables use and the header may or may not define."""

    by_value: bool = False
    line: int = 0


def write_spec(
    header: Header,
    scanned: Scan,
    name: str,
    patterns: Sequence[str],
    abi: str | None,
    wrappers: Sequence[tuple[str, Header]] = (),
) -> Imported:
    """`wrappers`: (name as shown, parsed header) of each further header given."""
    return _Writer(header, scanned, name, patterns, abi, wrappers).run()


class _Writer:
    def __init__(
        self,
        header: Header,
        scanned: Scan,
        name: str,
        patterns: Sequence[str],
        abi: str | None,
        wrappers: Sequence[tuple[str, Header]],
    ) -> None:
        self.header = header
        # Where callee-save call wrappers are looked for: this header, then the others.
        self.wrapper_names = [shown for shown, _ in wrappers]
        self.wrappers = [(name, header.inlines)] + [(n, h.inlines) for n, h in wrappers]
        self.callee_slots = 0
        self.callee_placeholders = 0
        self.scanned = scanned
        self.name = name.replace("\\", "/").rsplit("/", 1)[-1]  # the spec names the file only
        self.patterns = patterns
        self.abi = abi or _abi_name(re.sub(r"\.[^.]*$", "", self.name))
        self.notes: list[tuple[int, str]] = list(scanned.notes) + list(header.notes)
        self.comments = sorted(scanned.comments, key=lambda c: c.line)
        self.comment_lines = [c.line for c in self.comments]
        self.token_lines = [t.line for t in scanned.tokens]
        self.structs = {s.name: s for s in header.structs if not s.is_union}
        self.enums = {e.name: e for e in header.enums}
        self.typedefs: dict[str, list[CTypedef]] = {}
        for typedef in header.typedefs:
            self.typedefs.setdefault(typedef.name, []).append(typedef)
        self.tables: list[CStruct] = []
        self.common: set[Frame] = set()
        self.needs: dict[tuple[str | None, str], _Need] = {}
        self.conditions_seen: set[str] = set()
        # Names compared with numbers, and the largest number each is compared with.
        self.compared: dict[str, int] = {}

    # -- the whole spec
    def run(self) -> Imported:
        self.tables = self.choose_tables()
        self.common = set.intersection(*(set(t.first.frames) for t in self.tables))
        for frame in sorted(self.common, key=lambda f: f.line):
            folded = _simplify(frame.condition) if frame.condition is not None else True
            if folded is not True or not frame.understood:
                self.notes.append(
                    (frame.line, f"'#{frame.text}' encloses every table; not carried into the spec")
                )
        body: list[str] = []
        for table in self.tables:
            body += self.table(table)
        types = self.types()
        out = self.preamble() + types + body + ["", "/// Bare hardware.", "backend native default;"]
        lines = [wrapped for line in out for wrapped in _wrap_comment(line)]
        if self.header.skipped:
            what = "other top-level declarations (prototypes, variables, function bodies)"
            self.notes.append((0, f"skipped {self.header.skipped} {what}"))
        self.note_callee_slots()
        # Notes in header order; the ones about the whole header (line 0) last.
        notes = sorted(self.notes, key=lambda n: (n[0] == 0, n[0]))
        return Imported("\n".join(lines) + "\n", notes)

    def choose_tables(self) -> list[CStruct]:
        structs = list(self.structs.values())
        is_table = {
            s.name for s in structs if any(m.kind in ("hook", "callee_save") for m in s.members)
        }
        if self.patterns:
            chosen = {
                s.name
                for s in structs
                if any(fnmatch.fnmatchcase(s.name, p) for p in self.patterns)
            }
            if not chosen:
                raise HeaderError(
                    f"{self.name}",
                    f"no struct matches {', '.join(self.patterns)}; structs in the header: "
                    + (", ".join(sorted(self.structs)) or "none"),
                )
        else:
            chosen = set(is_table)
        # Hook tables embedded by value in a chosen table are its sub-tables; without
        # patterns, a struct that embeds tables (the kernel's patch template) is one too.
        tableish = is_table | chosen
        changed = True
        while changed:
            changed = False
            for s in structs:
                embeds = {self.embedded(m) for m in s.members} - {None}
                if s.name in chosen:
                    grown = {e for e in embeds if e in tableish and e not in chosen}
                elif not self.patterns and embeds & chosen:
                    grown = {s.name}
                else:
                    continue
                chosen |= {e for e in grown if e is not None}
                changed = changed or bool(grown)
        tables = [s for s in structs if s.name in chosen]
        if not tables:
            later = (
                "; the first HEADER must be the one with the tables (the others are read"
                " for call wrappers only)"
                if self.wrapper_names
                else ""
            )
            raise HeaderError(
                f"{self.name}",
                "no hook tables found: no struct has a function-pointer member"
                f" (name structs with --struct to import them anyway){later}",
            )
        return tables

    def embedded(self, member: CMember) -> str | None:
        t = member.type
        if member.kind == "data" and t is not None and t.tag == "struct" and not t.pointers:
            return t.base
        return None

    def preamble(self) -> list[str]:
        return [
            f"// Imported by pvgen from {self.name}; review every TODO(pvgen import) before relying on it.",
            "",
            f"/// The hook tables of {self.name}.",
            f"abi {self.abi} {{",
            "    version 1;",
            "}",
            "",
            f"// {TODO} name the configurations the interface is built for, with the defines"
            " of each. Both targets below turn on every define the @if conditions test (a"
            " 32-bit or 64-bit one only on its width; a compared one at the largest value"
            " it is compared with), so that every member is declared somewhere.",
            "/// A 32-bit build.",
            self.target("ilp32", exclude=WIDE_DEFINES),
            "/// A 64-bit build.",
            self.target("lp64", exclude=NARROW_DEFINES),
        ]

    def target(self, name: str, exclude: frozenset[str]) -> str:
        defines = [
            f"{n} = {self.compared[n]}" if n in self.compared else n
            for n in sorted(self.conditions_seen - exclude)
        ]
        listed = f" defines {', '.join(defines)};" if defines else ""
        return f"target {name} {{ data_model {name};{listed} }}"

    # -- conditions
    def condition(self, token: Token) -> tuple[str | None, str | None, bool]:
        """(@if text or None, TODO text or None, whether the declaration exists at all)."""
        parts: list[cond.Cond] = []
        unknown = []
        for frame in token.frames:
            if frame in self.common:
                continue
            if not frame.understood:
                unknown.append(frame)
            elif frame.condition is not None:
                parts.append(frame.condition)
        joined = cond.conjoin(*parts)
        simplified = _simplify(joined) if joined is not None else True
        if simplified is False:
            return None, None, False
        todo = None
        if unknown:
            texts = ", ".join(f"'#{f.text}' (line {f.line})" for f in unknown)
            todo = (
                f"{TODO} declared under {texts}, which pvgen cannot express; kept unconditionally"
            )
            self.notes.append((token.line, f"condition not understood: {texts}"))
        if simplified is True:
            return None, todo, True
        for n in cond.names(simplified):
            self.conditions_seen.add(n.name)
        self.note_comparisons(simplified)
        return f"@if({cond.render(simplified)})", todo, True

    def note_comparisons(self, c: cond.Cond) -> None:
        if isinstance(c, cond.Not):
            self.note_comparisons(c.operand)
        elif isinstance(c, cond.And | cond.Or):
            for operand in c.operands:
                self.note_comparisons(operand)
        elif isinstance(c, cond.Compare):
            for name, other in ((c.left, c.right), (c.right, c.left)):
                if isinstance(name, cond.Name) and isinstance(other, cond.Int):
                    self.compared[name.name] = max(self.compared.get(name.name, 0), other.value)

    # -- comments
    def docs_before(self, line: int, after_line: int | None = None) -> tuple[list[str], list[str]]:
        """Comments between `after_line` (default: the last line of code before `line`)
        and `line`: (doc lines, plain comment lines).

        A comment block directly above (no blank line between) documents what follows;
        one separated by a blank line is kept as a plain comment.
        """
        if after_line is None:
            after_line = self.previous_code_line(line)
        doc: list[str] = []
        plain: list[str] = []
        for comment in self.on_lines(after_line + 1, line):
            if comment.end_line > line or comment.after_code:
                continue
            adjacent = not any(
                n in self.scanned.blank_lines for n in range(comment.end_line + 1, line)
            )
            lines = comment.text.split("\n")
            if adjacent:
                doc += lines
            else:
                plain += lines
        return _tidy(doc), _tidy(plain)

    def on_lines(self, first: int, last: int) -> list[CComment]:
        start = bisect.bisect_left(self.comment_lines, first)
        end = bisect.bisect_right(self.comment_lines, last)
        return self.comments[start:end]

    def trailing(self, line: int) -> list[str]:
        """Comments after code on `line`."""
        return _tidy(_split_lines(c for c in self.on_lines(line, line) if c.after_code))

    def inside(self, first: int, last: int) -> list[str]:
        """Comments after code on the lines of a declaration that spans `first` to `last`."""
        return _tidy(_split_lines(c for c in self.on_lines(first, last - 1) if c.after_code))

    def previous_code_line(self, line: int) -> int:
        """The last line before `line` that has C code (0 when there is none)."""
        index = bisect.bisect_left(self.token_lines, line)
        return self.token_lines[index - 1] if index else 0

    # -- tables
    def table(self, table: CStruct) -> list[str]:
        lines = [""]
        doc, _ = self.docs_before(table.first.line)
        doc += self.trailing(table.open_brace.line)
        iftext, todo, exists = self.condition(table.first)
        if not exists:
            self.notes.append(
                (
                    table.first.line,
                    f"skipped struct '{table.name}': its condition never holds in kernel C",
                )
            )
            return []
        if todo:
            lines.append(f"// {todo}")
        lines += [f"/// {d}".rstrip() for d in doc]
        if iftext:
            lines.append(iftext)
        lines.append(f"table {table.name} {{")
        previous = table.open_brace.line
        for member in table.members:
            lines += self.member(table, member, previous)
            previous = member.last.line
        leftover = self.docs_before(table.close_brace.line, previous)
        lines += [f"    // {c}".rstrip() for c in leftover[0] + leftover[1]]
        lines.append("}")
        return lines

    def member(self, table: CStruct, member: CMember, previous: int) -> list[str]:
        doc, plain = self.docs_before(member.first.line, previous)
        doc += self.inside(member.first.line, member.last.line) + self.trailing(member.last.line)
        lines = [f"    // {c}".rstrip() for c in plain]
        where = f"{table.name}.{member.name}" if member.name else table.name
        iftext, todo, exists = self.condition(member.first)
        if not exists:
            self.notes.append(
                (member.first.line, f"skipped {where}: its condition never holds in kernel C")
            )
            return lines
        if todo:
            lines.append(f"    // {todo}")
        for attribute in member.dropped:
            self.notes.append(
                (member.first.line, f"{where}: dropped '{attribute}', which pvgen does not model")
            )
        annotations = [iftext] if iftext else []
        declaration, todo = self.declaration(table, member, annotations, where)
        if declaration is None:
            return lines + [f"    // {c}".rstrip() for c in doc] + [f"    // {todo}"]
        if todo:
            lines.append(f"    // {todo}")
        lines += [f"    /// {d}".rstrip() for d in doc]
        if annotations:
            lines.append("    " + " ".join(annotations))
        lines.append("    " + declaration)
        return lines

    def declaration(
        self, table: CStruct, member: CMember, annotations: list[str], where: str
    ) -> tuple[str | None, str]:
        """The member's spec line and a TODO to put above it (or ""); or None and the
        TODO that stands in for it."""
        line = member.first.line
        name = self.safe_name(member.name, line, where)
        if member.kind == "unsupported":
            self.notes.append((line, f"{where}: not imported: {member.reason}"))
            return None, f"{TODO} not imported ({member.reason}): {member.source}"
        if member.kind == "hook":
            assert member.type is not None
            if member.callconv:
                annotations.append(f"@callconv({member.callconv})")
            return self.hook_text(member.type, name, member.params, line, where), ""
        if member.kind == "callee_save":
            # The slot is kept whatever is known of the signature: a thunk is one pointer
            # either way, so the table's layout and patch IDs stay the header's.
            annotations.append("@callee_save")
            self.callee_slots += 1
            recovered, why = self.recover_callee_save(table, member)
            if recovered is not None:
                returns, params, source = recovered
                self.notes.append((line, f"{where}: callee-save signature recovered from {source}"))
                return self.hook_text(returns, name, params, line, where), ""
            self.callee_placeholders += 1
            placeholder = f"void {name}()"
            self.notes.append(
                (
                    line,
                    f"{where}: callee-save thunk, and {why}; kept its slot with the"
                    f" placeholder '{placeholder}'",
                )
            )
            return f"{placeholder};", (
                f"{TODO} '{member.name}' is a callee-save thunk ({member.source}) and {why}."
                f" '{placeholder}' below is a placeholder that keeps its slot (a thunk is one"
                " pointer either way): give its return type and parameters"
                + (
                    ""
                    if self.wrapper_names
                    else f", or import again with the header of the kernel's call wrappers"
                    f" after this one ('pvgen import {self.name} paravirt.h')"
                )
                + "."
            )
        assert member.type is not None
        inner = self.embedded(member)
        if inner in {t.name for t in self.tables}:
            return f"{inner} {name};", ""
        return f"{self.type_text(member.type, line)}{name};", ""

    def hook_text(
        self, returns: CType, name: str, params: Sequence[CParam], line: int, where: str
    ) -> str:
        texts = []
        for index, param in enumerate(params, start=1):
            pname = param.name
            if pname is None:
                pname = f"arg{index}"
                self.notes.append(
                    (line, f"{where}: parameter {index} has no name; called it '{pname}'")
                )
            pname = self.safe_name(pname, line, where)
            texts.append(f"{self.type_text(param.type, line)}{pname}")
        return f"{self.type_text(returns, line)}{name}({', '.join(texts)});"

    def safe_name(self, name: str, line: int, where: str) -> str:
        fixed = name
        while problem_with(fixed) is not None:
            fixed = (
                fixed.lstrip("_") if fixed.startswith("_") and fixed.lstrip("_") else fixed + "_"
            )
        if fixed != name:
            self.notes.append(
                (line, f"{where}: renamed '{name}' to '{fixed}': {problem_with(name)}")
            )
        return fixed

    # -- callee-save thunks
    def recover_callee_save(
        self, table: CStruct, member: CMember
    ) -> tuple[tuple[CType, tuple[CParam, ...], str] | None, str]:
        """The thunk's signature from the kernel's call wrappers (return type, parameters,
        which wrapper), or None and why not, as words that follow "and" in a TODO."""
        holders = {table.name} | {
            m.name for s in self.tables for m in s.members if self.embedded(m) == table.name
        }
        found: list[tuple[CType, tuple[CParam, ...], str]] = []
        untraced: list[str] = []
        in_asm: list[str] = []
        for shown, inlines in self.wrappers:
            for inline in inlines:
                if not self.may_exist(inline.first):
                    continue
                if _asm_names(inline, member.name, holders):
                    in_asm.append(f"{inline.name}() at {_base(shown)}:{inline.first.line}")
                for call in _callee_calls(inline):
                    values = _callee_values(call, member.name, holders)
                    if values is None:
                        continue
                    returns, passed = values
                    where = f"{inline.name}() at {_base(shown)}:{inline.first.line}"
                    params = _passed_params(inline, passed)
                    if returns is None or params is None:
                        untraced.append(where)
                    else:
                        found.append((returns, params, where))
        signatures = {(r, tuple(p.type for p in ps)) for r, ps, _ in found}
        if len(signatures) == 1:
            return found[0], ""
        if len(signatures) > 1:
            wheres = sorted({w for _, _, w in found})
            return None, f"its call wrappers give different signatures ({', '.join(wheres)})"
        if untraced:
            return None, (
                f"its call wrapper ({', '.join(untraced)}) passes values pvgen cannot trace to"
                " the wrapper's parameters"
            )
        if in_asm:
            return None, (
                f"the kernel calls it from inline assembly only ({', '.join(in_asm)}),"
                " which does not give its signature"
            )
        if self.wrapper_names:
            files = ", ".join(_base(n) for n, _ in self.wrappers)
            return None, f"no PVOP_*CALLEE* call wrapper in {files} calls it"
        return None, "the header does not give its C signature"

    def may_exist(self, token: Token) -> bool:
        """Whether code at `token` is compiled as C at all (not under `#ifdef __ASSEMBLY__`)."""
        parts = [f.condition for f in token.frames if f.understood and f.condition is not None]
        joined = cond.conjoin(*parts)
        return joined is None or _simplify(joined) is not False

    def note_callee_slots(self) -> None:
        if not self.callee_slots:
            return
        recovered = self.callee_slots - self.callee_placeholders
        read = ", ".join(_base(n) for n, _ in self.wrappers)
        message = (
            f"{self.callee_slots} callee-save slots: {recovered} signatures recovered from"
            f" the call wrappers in {read}"
        )
        if self.callee_placeholders:
            message += f", {self.callee_placeholders} kept as placeholders marked TODO"
            if not self.wrapper_names:
                message += (
                    "; name the header of the kernel's call wrappers after this one to read"
                    f" theirs ('pvgen import {self.name} paravirt.h')"
                )
        self.notes.append((0, message))

    # -- types
    def type_text(self, ctype: CType, line: int) -> str:
        """The type as spec text, ready to be followed by a name: `const char *`, `u32 `."""
        const = "const " if ctype.const else ""
        stars = "".join("*const " if c else "*" for c in ctype.pointers)
        base = self.type_name(ctype, line)
        return f"{const}{base} {stars}"

    def type_name(self, ctype: CType, line: int) -> str:
        if ctype.is_c_words:
            canonical = canonical_c_type(" ".join(ctype.words))
            return canonical if canonical is not None else " ".join(ctype.words)
        base = ctype.base
        if ctype.tag is None and base in TYPE_ALIASES:
            return TYPE_ALIASES[base]
        if ctype.tag is None and base in BUILTIN_TYPES:
            return base
        key = (ctype.tag, base)
        need = self.needs.setdefault(key, _Need(line=line))
        need.by_value = need.by_value or not ctype.pointers
        spelled = self.type_spelling(ctype.tag, base)
        if ctype.tag == "enum" and base not in self.enums:
            return spelled  # declared as a typedef below, since its values are unknown
        return f"{ctype.tag} {spelled}" if ctype.tag in ("struct", "enum") else spelled

    def type_spelling(self, tag: str | None, base: str) -> str:
        return base.lstrip("_") if problem_with(base) and base.lstrip("_") else base

    def types(self) -> list[str]:
        lines: list[str] = []
        done: set[tuple[str | None, str]] = set()
        while len(done) < len(self.needs):
            for key in list(self.needs):
                if key in done:
                    continue
                done.add(key)
                lines += self.one_type(key, self.needs[key])
        return lines

    def one_type(self, key: tuple[str | None, str], need: _Need) -> list[str]:
        tag, base = key
        name = self.type_spelling(tag, base)
        if name != base:
            self.notes.append((need.line, f"type '{base}' renamed '{name}': {problem_with(base)}"))
        lines = [""]
        if (
            tag in (None, "struct")
            and base in self.structs
            and base not in {t.name for t in self.tables}
        ):
            return lines + self.struct_type(self.structs[base], name)
        if tag in (None, "enum") and base in self.enums:
            return lines + self.enum_type(self.enums[base], name)
        if tag is None and base in self.typedefs:
            # One typedef per configuration branch (`#ifdef X86_PAE ... #else ...`).
            for typedef in self.typedefs[base]:
                line = typedef.first.line
                doc, _ = self.docs_before(line)
                iftext, todo, exists = self.condition(typedef.first)
                if not exists:
                    continue
                lines += [f"// {todo}"] if todo else []
                lines += [f"/// {d}".rstrip() for d in doc]
                lines += [iftext] if iftext else []
                lines.append(f"typedef {self.type_text(typedef.type, line)}{name};")
            return lines
        where = f"{self.name}:{need.line}" if need.line else self.name
        if tag == "union":
            self.notes.append((need.line, f"union '{base}' cannot be expressed; declared opaque"))
        if tag == "enum":
            self.notes.append(
                (
                    need.line,
                    f"enum '{base}' is not defined in the header; declared as a u32 typedef",
                )
            )
            return lines + [
                f"// {TODO} enum '{base}' is used at {where} but not defined here: declare it as"
                f" 'enum {name} : u32 {{ ... }}' with its values, and write 'enum {name}' where"
                " it is used.",
                f"typedef u32 {name};",
            ]
        if need.by_value and tag is None:
            self.notes.append(
                (need.line, f"type '{base}' is not defined in the header; guessed one machine word")
            )
            return lines + [
                f"// {TODO} '{base}' is used by value at {where} but not defined here; one"
                " machine word is a guess: give its real definition.",
                f"typedef unsigned long {name};",
            ]
        if need.by_value:
            self.notes.append(
                (
                    need.line,
                    f"struct '{base}' is used by value but not defined in the header; declared opaque",
                )
            )
            return lines + [
                f"// {TODO} struct '{base}' is used by value at {where} but not defined here; give its fields.",
                f"opaque struct {name};",
            ]
        return lines + [
            f"// {TODO} '{base}' is used only behind pointers and not defined here; opaque is"
            " enough for pvgen, but say what it is.",
            f"opaque struct {name};",
        ]

    def struct_type(self, struct: CStruct, name: str) -> list[str]:
        doc, _ = self.docs_before(struct.first.line)
        iftext, todo, _ = self.condition(struct.first)
        fields = []
        for member in struct.members:
            if member.kind != "data" or member.type is None:
                self.notes.append(
                    (
                        member.first.line,
                        f"struct '{struct.name}': member cannot be expressed; declared opaque",
                    )
                )
                return [
                    f"// {TODO} struct '{struct.name}' has members pvgen cannot express;"
                    " declared opaque.",
                    f"opaque struct {name};",
                ]
            fields += [f"    /// {d}".rstrip() for d in self.trailing(member.last.line)]
            field_name = self.safe_name(member.name, member.first.line, struct.name)
            fields.append(f"    {self.type_text(member.type, member.first.line)}{field_name};")
        head = [f"// {todo}"] if todo else []
        head += [f"/// {d}".rstrip() for d in doc]
        head += [iftext] if iftext else []
        return head + [f"struct {name} {{", *fields, "}"]

    def enum_type(self, enum: CEnum, name: str) -> list[str]:
        doc, _ = self.docs_before(enum.first.line)
        iftext, todo, _ = self.condition(enum.first)
        values = []
        next_value = 0
        for value_name, literal, token in enum.values:
            if literal is not None:
                try:
                    next_value = int(literal.rstrip("uUlL"), 0)
                except ValueError:
                    values.append(
                        f"    // {TODO} {value_name} = {literal} is an expression pvgen cannot evaluate"
                    )
                    self.notes.append(
                        (token.line, f"enum '{enum.name}': value of {value_name} not understood")
                    )
                    continue
            values += [f"    /// {d}".rstrip() for d in self.trailing(token.line)]
            values.append(
                f"    {self.safe_name(value_name, token.line, enum.name)} = {next_value},"
            )
            next_value += 1
        underlying = (
            "s32" if any(v.strip().startswith("-") or "= -" in v for v in values) else "u32"
        )
        head = [f"// {todo}"] if todo else []
        head += [f"/// {d}".rstrip() for d in doc]
        head += [iftext] if iftext else []
        return head + [f"enum {name} : {underlying} {{", *values, "}"]


# ---- helpers -----------------------------------------------------------------------------


def _identifier(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", text) or "imported"
    return "abi_" + name if name[0].isdigit() else name


def _abi_name(stem: str) -> str:
    """The ABI's name from the header's file name: `types.h` gives `types_abi`, since an ABI
    named like a keyword or a standard-library module (the generated Python package's name)
    is refused."""
    name = _identifier(stem)
    return f"{name}_abi" if problem_with(name) or name in PY_STDLIB_MODULES else name


def _wrap_comment(line: str, width: int = 100) -> list[str]:
    """A `//` comment line longer than `width`, as several."""
    stripped = line.lstrip()
    if len(line) <= width or not stripped.startswith("//") or stripped.startswith("///"):
        return [line]
    indent = line[: len(line) - len(stripped)] + "// "
    return textwrap.wrap(stripped[3:], width, initial_indent=indent, subsequent_indent=indent)


def _split_lines(comments: Iterable[CComment]) -> list[str]:
    return [line for c in comments for line in c.text.split("\n")]


def _tidy(lines: Iterable[str]) -> list[str]:
    out = [line.rstrip() for line in lines]
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def _simplify(c: cond.Cond) -> cond.Cond | bool:
    """Fold the macros whose value kernel C fixes (__ASSEMBLY__, __KERNEL__)."""
    if isinstance(c, cond.Name):
        if c.name in KNOWN_UNDEFINED:
            return False
        if c.name in KNOWN_DEFINED:
            return True
        return c
    if isinstance(c, cond.Int):
        return c.value != 0
    if isinstance(c, cond.Not):
        inner = _simplify(c.operand)
        return (not inner) if isinstance(inner, bool) else cond.Not(inner)
    if isinstance(c, cond.And | cond.Or):
        is_and = isinstance(c, cond.And)
        kept: list[cond.Cond] = []
        for operand in c.operands:
            value = _simplify(operand)
            if isinstance(value, bool):
                if value != is_and:
                    return value  # False in an And, True in an Or decides it
                continue
            kept.append(value)
        if not kept:
            return is_and
        if len(kept) == 1:
            return kept[0]
        return cond.And(tuple(kept)) if is_and else cond.Or(tuple(kept))
    return c


# The kernel's callee-save call macros: PVOP_CALLEE1(ret, op, arg), PVOP_VCALLEE0(op),
# PVOP_ALT_CALLEE0(ret, op, alternative, feature); the digit counts the arguments.
_CALLEE_MACRO = re.compile(r"PVOP_(?:ALT_)?(V?)CALLEE(\d)")


def _callee_calls(inline: CInline) -> Iterable[tuple[bool, int, list[list[Token]]]]:
    """(returns nothing, argument count, macro arguments) of each callee-save call."""
    body = inline.body
    for i, token in enumerate(body[:-1]):
        found = _CALLEE_MACRO.fullmatch(token.text) if token.kind == "ident" else None
        if found and body[i + 1].text == "(":
            end = matching(body, i + 1)
            yield found.group(1) == "V", int(found.group(2)), split_at(body[i + 2 : end], ",")


def _asm_names(inline: CInline, member: str, holders: set[str]) -> bool:
    """Whether the inline function calls the hook from inline assembly, as kernels before
    2.6.32 do the interrupt-flag hooks: `asm(... : paravirt_type(pv_irq_ops.save_fl), ...)`."""
    body = inline.body
    for i, token in enumerate(body[:-1]):
        if token.text == "paravirt_type" and body[i + 1].text == "(":
            path = _member_path(body[i + 2 : matching(body, i + 1)])
            if path is not None and path[-1] == member and path[-2] in holders:
                return True
    return False


def _callee_values(
    call: tuple[bool, int, list[list[Token]]], member: str, holders: set[str]
) -> tuple[CType | None, list[list[Token]]] | None:
    """The return type and the argument values of a call of `member`, or None when the call
    is to another hook.

    The op is the first argument written as a member path (`irq.save_fl`,
    `pv_irq_ops.save_fl`, `pv_ops.mmu.pte_val`); a bare word before it (the ops array, in
    kernels that name it) is passed over. The values follow the op, as many as the macro's
    digit says; an alternative and a feature may come after them.
    """
    voided, count, args = call
    first = 0 if voided else 1
    for index in range(first, len(args)):
        path = _member_path(args[index])
        if path is None:
            continue
        if path[-1] != member or path[-2] not in holders:
            return None
        values = args[index + 1 : index + 1 + count]
        if len(values) != count:
            return None
        returns = CType(("void",)) if voided else type_of(args[0])
        return returns, values
    return None


def _member_path(tokens: Sequence[Token]) -> list[str] | None:
    """`a.b` or `a.b.c` as its names; None for anything else."""
    names = [t.text for t in tokens[::2] if t.kind == "ident"]
    dots = [t for t in tokens[1::2] if t.text == "."]
    if len(tokens) < 3 or len(tokens) % 2 == 0:
        return None
    if len(names) != (len(tokens) + 1) // 2 or len(dots) != len(tokens) // 2:
        return None
    return names


def _passed_params(inline: CInline, values: Sequence[Sequence[Token]]) -> tuple[CParam, ...] | None:
    """The wrapper's parameters that the values pass, in order, each once.

    A value names one parameter, perhaps through a member or a cast (`pte.pte`,
    `(u64)val >> 32`: i386 splits a 64-bit value into two words). A value naming none
    (a local, a constant) or two cannot be traced.
    """
    if inline.params is None:
        return None
    by_name = {p.name: p for p in inline.params if p.name}
    passed: list[CParam] = []
    for value in values:
        named = {
            t.text
            for k, t in enumerate(value)
            if t.kind == "ident"
            and t.text in by_name
            and not (k and value[k - 1].text in (".", "->"))
        }
        if len(named) != 1:
            return None
        param = by_name[named.pop()]
        if param not in passed:
            passed.append(param)
    return tuple(passed)


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1]


__all__ = ["Imported", "write_spec", "CComment"]
