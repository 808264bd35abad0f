"""Resolve: parsed spec files to the `Abi` model.

Takes: a `LoadedSpec` (the root file and its includes, parsed).
Hands on: a frozen `model.Abi`, with names resolved, annotations validated,
conditions checked against the targets' defines, and per target its
`TargetFacts`: the declarations present, every struct and table laid out, the
aggregate of the top-level tables and each slot's offset in it, the patch
template (the tables `patch_template` lists) and each hook's patch ID in it,
and the layouts that hold only under GNU C. All errors found are reported together
in one `SpecError`, sorted by location.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from . import annotations as ann
from . import conditions as cond
from . import model as m
from . import syntax as syn
from .diagnostics import Collector, Related, did_you_mean, with_article
from .digest import sha256
from .gennames import check_generated_names
from .layout import (
    BUILTIN_TYPES,
    DATA_MODELS,
    INTEGER_TYPES,
    DataModel,
    canonical_c_type,
    lay_out_record,
)
from .loader import LoadedSpec
from .names import problem_with
from .source import SourceFile, Span

T = TypeVar("T")

ABI_SETTINGS = ("version", "stability", "budget", "low_level_budget", "patch_template")
TARGET_SETTINGS = ("data_model", "defines")
CALLING_CONVENTIONS = ("fastcall", "asmlinkage")

TYPE_KINDS = {
    syn.TypedefDecl: ann.TYPEDEF,
    syn.StructDecl: ann.STRUCT,
    syn.OpaqueDecl: ann.OPAQUE,
    syn.EnumDecl: ann.ENUM,
    syn.TableDecl: ann.TABLE,
}


def resolve(loaded: LoadedSpec) -> m.Abi:
    """The model of `loaded`. The resolver lets go of the syntax trees as the model takes
    what they said: for a caller that keeps no reference to `loaded` (as `api` does not),
    each table's and each backend's declaration is freed as soon as its model is made, so
    that the model is built in the memory the trees held, and all of them are gone before
    the per-target layouts are computed."""
    resolver = _Resolver(loaded)
    del loaded
    return resolver.run()


@dataclass
class _Named:
    """A declaration in the one namespace of types and tables: where it is (not the
    declaration itself, which goes once the model holds it), under what, and its kind."""

    span: Span
    condition: cond.Cond | None
    kind: str


def _taken(decls: list[Any], kind: type[T]) -> Iterator[T]:
    """Each of `decls` that is a `kind`, its place in the list emptied as it is handed out:
    once the caller has turned it into model, nothing holds its syntax tree."""
    for i, decl in enumerate(decls):
        if isinstance(decl, kind):
            decls[i] = None
            yield decl
            del decl


class _Resolver:
    def __init__(self, loaded: LoadedSpec) -> None:
        self.loaded: LoadedSpec | None = loaded
        self.errors = Collector()
        self.namespace: dict[str, list[_Named]] = {}
        self.targets: list[m.Target] = []
        self.known_defines: set[str] = set()
        # Type expressions resolved without error, by what they say: a spec writes the same
        # few types thousands of times, and each resolves alike once every name is declared.
        self.type_refs: dict[tuple[str | None, str, bool, tuple[bool, ...]], m.TypeRef] = {}

    # ---- driver ---------------------------------------------------------------

    def run(self) -> m.Abi:
        assert self.loaded is not None  # a resolver runs once
        files = self.loaded.files
        root = files[-1].source
        sources = tuple(
            m.SpecSource(f.source.relative, sha256(f.source.text.encode()).hexdigest())
            for f in files
        )
        items: list[Any] = [i for f in files for i in f.items if not isinstance(i, syn.IncludeDecl)]
        # From here on the declarations are the resolver's alone (see `resolve`): each table's
        # and backend's goes as soon as the model holds it, so that the model is built in
        # the memory its syntax tree held.
        self.loaded = None
        del files
        abi_decl = self.find_abi(items, root)
        self.targets = [self.target(t) for t in items if isinstance(t, syn.TargetDecl)]
        self.check_unique(((t.name, t.span) for t in self.targets), "target")
        self.known_defines = {d for t in self.targets for d in t.defines}
        if not self.targets:
            self.errors.error(
                abi_decl.span if abi_decl else None,
                "no 'target' declared; add one such as 'target x86_64 { data_model lp64; }'",
            )

        type_decls = [i for i in items if isinstance(i, tuple(TYPE_KINDS))]
        backend_decls = [i for i in items if isinstance(i, syn.BackendDecl)]
        del items
        for decl in type_decls:
            self.declare(decl)
        types = [t for t in (self.type_decl(d) for d in type_decls) if t is not None]
        tables = [self.table(d) for d in _taken(type_decls, syn.TableDecl)]
        self.tables_by_name = {t.name: t for t in tables}
        self.check_enumerators(types)
        self.check_embedding(tables)
        # Paths through sub-tables are only walked once embedding is known to be acyclic.
        self.errors.raise_if_any()
        # Every table's walk, once: what backends name by path, and the aggregate's slots.
        self.walks = {t.name: tuple(m.slots_under(t, self.tables_by_name)) for t in tables}
        self.path_order = {
            slot.path: i
            for i, slot in enumerate(slot for t in tables for slot in self.walks[t.name])
        }
        # Each path as its slot spells it: a backend's override shares that string rather
        # than keeping its own (a large spec overrides hundreds of thousands of slots), so
        # that looking an override's path up among the slots' finds the very same object.
        self.slot_path = {path: path for path in self.path_order}
        self.embedded = {mb.table for t in tables for mb in t.members if isinstance(mb, m.SubTable)}
        self.default_backend = next((b.name for b in backend_decls if b.default), None)
        backends = [self.backend(b) for b in _taken(backend_decls, syn.BackendDecl)]
        self.check_unique(((b.name, b.span) for b in backends), "backend")
        self.check_defaults(backends)
        del self.path_order, self.slot_path  # what only the backends looked paths up in

        assert abi_decl is not None  # find_abi reported its absence
        settings = self.abi_settings(abi_decl)
        abi_annotations = ann.read_annotations(abi_decl.annotations, ann.ABI, self.errors)
        template = self.patch_template(abi_decl)
        self.errors.raise_if_any()
        # From here on only the model is read.
        del type_decls, backend_decls
        self.namespace.clear()
        layouts = _Layouts(self, types, tables, template)
        facts = layouts.compute()
        self.errors.raise_if_any()
        abi = m.Abi(
            name=abi_decl.name,
            version=settings["version"],
            stability=settings["stability"],
            budget=settings.get("budget"),
            low_level_budget=settings.get("low_level_budget"),
            doc=abi_decl.doc,
            targets=tuple(self.targets),
            types=tuple(types),
            tables=tuple(tables),
            backends=tuple(backends),
            patch_template=template,
            slots=layouts.slots,
            facts=facts,
            sources=sources,
            allows=self.allows(abi_annotations),
            span=abi_decl.span,
        )
        check_generated_names(abi, self.errors)
        self.errors.raise_if_any()
        return abi

    # ---- abi and targets --------------------------------------------------------

    def find_abi(self, items: Sequence[Any], root: SourceFile) -> syn.AbiDecl | None:
        found = [i for i in items if isinstance(i, syn.AbiDecl)]
        if not found:
            self.errors.error(
                Span.point(root),
                "no 'abi' declaration; a spec starts with 'abi NAME { version N; }'",
            )
            self.errors.raise_if_any()
        for dup in found[1:]:
            self.errors.error(
                dup.span,
                f"a second 'abi' declaration ('{dup.name}'); one spec declares one ABI",
                related=[Related(found[0].span, f"'{found[0].name}' is declared here")],
            )
        self.check_name(found[0].name, found[0].span, "ABI")
        return found[0]

    def settings(
        self, settings: Sequence[syn.Setting], valid: Sequence[str], what: str
    ) -> dict[str, syn.Setting]:
        seen: dict[str, syn.Setting] = {}
        for s in settings:
            if s.key not in valid:
                self.errors.error(
                    s.span, f"unknown {what} setting '{s.key}'" + did_you_mean(s.key, valid)
                )
            elif s.key in seen:
                self.errors.error(
                    s.span,
                    f"'{s.key}' is set twice",
                    related=[Related(seen[s.key].span, "first set here")],
                )
            else:
                seen[s.key] = s
        return seen

    def single_value(self, s: syn.Setting, kind: str) -> Any:
        """The one value of a setting: an integer (kind 'int') or a bare name ('name')."""
        if len(s.values) != 1:
            self.errors.error(s.span, f"'{s.key}' takes one value")
            return None
        v = s.values[0]
        if kind == "int" and v.name is None and isinstance(v.value, int):
            if v.value < 1:
                self.errors.error(v.span, f"'{s.key}' must be at least 1")
                return None
            return v.value
        if kind == "name" and v.name is not None and v.value is None:
            return v.name
        self.errors.error(v.span, f"'{s.key}' takes {'an integer' if kind == 'int' else 'a name'}")
        return None

    def abi_settings(self, decl: syn.AbiDecl | None) -> dict[str, Any]:
        out: dict[str, Any] = {"version": 1, "stability": m.Stability.STABLE}
        if decl is None:
            return out
        given = self.settings(decl.settings, ABI_SETTINGS, "abi")
        if "version" not in given:
            self.errors.error(decl.span, f"abi '{decl.name}' has no 'version'; add 'version 1;'")
        for key in ("version", "budget", "low_level_budget"):
            if key in given:
                value = self.single_value(given[key], "int")
                if value is not None:
                    out[key] = value
        if "stability" in given:
            name = self.single_value(given["stability"], "name")
            choices = [s.value for s in m.Stability]
            if name is not None and name not in choices:
                self.errors.error(
                    given["stability"].values[0].span,
                    f"unknown stability '{name}'" + did_you_mean(name, choices),
                )
            elif name is not None:
                out["stability"] = m.Stability(name)
        return out

    def patch_template(self, decl: syn.AbiDecl) -> tuple[str, ...] | None:
        """The tables the abi's `patch_template` setting lists, checked: each a top-level
        table, named once. None when the setting is absent."""
        setting = next((s for s in decl.settings if s.key == "patch_template"), None)
        if setting is None:
            return None
        if not setting.values:
            self.errors.error(
                setting.span, "'patch_template' needs the names of the tables that form it"
            )
        names: dict[str, Span] = {}
        for v in setting.values:
            if v.name is None or v.value is not None:
                self.errors.error(v.span, "'patch_template' takes table names")
            elif v.name not in self.tables_by_name:
                self.errors.error(
                    v.span,
                    f"unknown table '{v.name}'" + did_you_mean(v.name, self.tables_by_name),
                )
            elif v.name in self.embedded:
                self.errors.error(
                    v.span,
                    f"table '{v.name}' is embedded in another table; the patch template holds"
                    " top-level tables",
                )
            elif v.name in names:
                self.errors.error(
                    v.span,
                    f"table '{v.name}' is listed twice in 'patch_template'",
                    related=[Related(names[v.name], "first listed here")],
                )
            else:
                names[v.name] = v.span
        return tuple(names)

    def target(self, decl: syn.TargetDecl) -> m.Target:
        self.check_name(decl.name, decl.span, "target")
        given = self.settings(decl.settings, TARGET_SETTINGS, "target")
        ann.read_annotations(decl.annotations, ann.TARGET, self.errors)  # none apply: reports them
        data_model = "lp64"
        if "data_model" not in given:
            self.errors.error(
                decl.span,
                f"target '{decl.name}' has no 'data_model'; add 'data_model ilp32;' or 'data_model lp64;'",
            )
        else:
            name = self.single_value(given["data_model"], "name")
            if name is not None and name not in DATA_MODELS:
                self.errors.error(
                    given["data_model"].values[0].span,
                    f"unknown data model '{name}'" + did_you_mean(name, DATA_MODELS),
                )
            elif name is not None:
                data_model = name
        defines: dict[str, bool | int] = {}
        for v in given["defines"].values if "defines" in given else ():
            if v.name is None:
                self.errors.error(v.span, "a define is a NAME or NAME = INTEGER")
            elif v.name in defines:
                self.errors.error(v.span, f"'{v.name}' is defined twice for target '{decl.name}'")
            else:
                assert not isinstance(v.value, str)  # the grammar allows NAME = integer only
                defines[v.name] = True if v.value is None else v.value
        return m.Target(decl.name, data_model, defines, decl.doc, decl.span)

    # ---- names ------------------------------------------------------------------

    def check_name(self, name: str, span: Span, what: str) -> None:
        problem = problem_with(name)
        if problem:
            self.errors.error(
                span, f"{problem} and cannot name {with_article(what)}; generated code would break"
            )

    def check_unique(self, named: Iterable[tuple[str, Span]], what: str) -> None:
        seen: dict[str, Span] = {}
        for name, span in named:
            if name in seen:
                self.errors.error(
                    span,
                    f"duplicate {what} '{name}'",
                    related=[Related(seen[name], "first declared here")],
                )
            else:
                seen[name] = span

    def check_condition(self, condition: cond.Cond | None) -> None:
        if condition is None:
            return
        for name in cond.names(condition):
            if name.name not in self.known_defines:
                self.errors.error(
                    name.span,
                    f"'{name.name}' is not defined by any target"
                    + did_you_mean(name.name, self.known_defines),
                    hint="conditions test the 'defines' of the targets",
                )

    def both_hold(self, a: cond.Cond | None, b: cond.Cond | None) -> str | None:
        """Why two declarations of one name clash: None if no declared target has both.

        A name may be declared more than once when no target sees two of the
        declarations; the targets are the configurations a spec is built for.
        """
        if a is None and b is None:
            return ""
        clashing = [t.name for t in self.targets if t.holds(a) and t.holds(b)]
        if not clashing:
            return None
        names = ", ".join(f"'{n}'" for n in clashing)
        return f" (both declared for target{'s' if len(clashing) > 1 else ''} {names})"

    def check_overlaps(
        self, entries: Sequence[tuple[str, Span, cond.Cond | None]], what: str
    ) -> None:
        """Names may repeat only where no target sees both declarations."""
        if len({name for name, _, _ in entries}) == len(entries):
            return  # no name repeats, the common case
        by_name: dict[str, list[tuple[Span, cond.Cond | None]]] = {}
        for name, span, condition in entries:
            earlier = by_name.setdefault(name, [])
            for other_span, other in earlier:
                clash = self.both_hold(condition, other)
                if clash is not None:
                    self.errors.error(
                        span,
                        f"duplicate {what} '{name}'{clash}",
                        related=[Related(other_span, "first declared here")],
                    )
                    break
            earlier.append((span, condition))

    def declare(self, decl: Any) -> None:
        kind = TYPE_KINDS[type(decl)]
        condition = _condition_of(decl)
        what = "table" if kind == ann.TABLE else "type"
        if decl.name in BUILTIN_TYPES:
            self.errors.error(
                decl.span, f"'{decl.name}' is a builtin type and cannot be redeclared"
            )
        else:
            self.check_name(decl.name, decl.span, what)
        entries = self.namespace.setdefault(decl.name, [])
        first_table = next((e for e in entries if e.kind == ann.TABLE), None)
        if kind == ann.TABLE and first_table is not None:
            # Generated code has one struct and one class per table, so a table has one
            # declaration; what differs between targets is said on its members.
            self.errors.error(
                decl.span,
                f"table '{decl.name}' is declared twice; declare it once and put @if on the"
                " members that differ between targets",
                related=[Related(first_table.span, "first declared here")],
            )
            entries.append(_Named(decl.span, condition, kind))
            return
        for other in entries:
            clash = self.both_hold(condition, other.condition)
            if clash is not None:
                self.errors.error(
                    decl.span,
                    f"duplicate declaration of '{decl.name}'{clash}",
                    related=[Related(other.span, "first declared here")],
                )
                break
        entries.append(_Named(decl.span, condition, kind))

    def check_enumerators(self, types: Sequence[m.TypeDecl]) -> None:
        """Enumerators share C's one namespace of ordinary identifiers, across enums."""
        entries = [
            (v.name, v.span, cond.conjoin(t.condition, v.condition))
            for t in types
            if isinstance(t, m.Enum)
            for v in t.values
        ]
        self.check_overlaps(entries, "enumerator")
        for name, span, _ in entries:
            if name in self.namespace:
                self.errors.error(
                    span,
                    f"enumerator '{name}' has the name of a type or table",
                    related=[Related(self.namespace[name][0].span, "declared here")],
                )

    def check_embedding(self, tables: Sequence[m.Table]) -> None:
        """A table may not embed itself, directly or through other tables."""
        state: dict[str, int] = {}  # 1: being visited, 2: done

        def visit(table: m.Table, chain: list[str]) -> None:
            state[table.name] = 1
            for member in table.members:
                if not isinstance(member, m.SubTable):
                    continue
                sub = self.tables_by_name.get(member.table)
                if sub is None:
                    continue
                if state.get(sub.name) == 1:
                    loop = " -> ".join([*chain[chain.index(sub.name) :], sub.name])
                    self.errors.error(member.span, f"table '{sub.name}' embeds itself ({loop})")
                elif sub.name not in state:
                    visit(sub, [*chain, sub.name])
            state[table.name] = 2

        for table in tables:
            if table.name not in state:
                visit(table, [table.name])

    # ---- types ------------------------------------------------------------------

    def type_ref(self, expr: syn.TypeExpr) -> m.TypeRef | None:
        key = (expr.keyword, expr.base, expr.const, expr.pointers)
        found = self.type_refs.get(key)
        if found is None:
            found = self.new_type_ref(expr)
            if found is not None:
                self.type_refs[key] = found
        return found

    def new_type_ref(self, expr: syn.TypeExpr) -> m.TypeRef | None:
        if expr.keyword == "c":
            name = canonical_c_type(expr.base)
            if name is None:
                self.errors.error(expr.span, f"'{expr.base}' is not a valid C type")
                return None
            return m.TypeRef(name, True, expr.const, expr.pointers)
        if expr.keyword is None and expr.base in BUILTIN_TYPES:
            return m.TypeRef(expr.base, True, expr.const, expr.pointers)
        entries = self.namespace.get(expr.base)
        if entries is None:
            what = expr.keyword or "type"
            choices = list(self.namespace) + sorted(BUILTIN_TYPES)
            self.errors.error(
                expr.span, f"unknown {what} '{expr.base}'" + did_you_mean(expr.base, choices)
            )
            return None
        if expr.keyword is not None:
            wanted = {"struct": (ann.STRUCT, ann.OPAQUE), "enum": (ann.ENUM,)}[expr.keyword]
            for entry in entries:
                if entry.kind not in wanted:
                    self.errors.error(
                        expr.span,
                        f"'{expr.base}' is {with_article(entry.kind)}, not {with_article(expr.keyword)}",
                        related=[Related(entry.span, "declared here")],
                    )
                    return None
        return m.TypeRef(expr.base, False, expr.const, expr.pointers)

    def element(self, decl: syn.Declaration, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Common fields of model elements, and the annotation values for the rest."""
        values = ann.read_annotations(decl.annotations, kind, self.errors)
        condition = values.get("if")
        self.check_condition(condition)
        common = {
            "name": decl.name,
            "doc": decl.doc,
            "condition": condition,
            "since": values.get("since", 1),
            "allows": self.allows(values),
            "span": decl.span,
        }
        return common, values

    def allows(self, values: dict[str, Any]) -> tuple[m.Allow, ...]:
        if "allow" not in values:
            return ()
        return tuple(m.Allow(a["code"], a["reason"], span) for a, span in values["allow"])

    def type_decl(self, decl: Any) -> m.TypeDecl | None:
        kind = TYPE_KINDS[type(decl)]
        if kind == ann.TABLE:
            return None
        common, values = self.element(decl, kind)
        if isinstance(decl, syn.TypedefDecl):
            assert decl.type is not None
            target = self.type_ref(decl.type)
            return m.Typedef(**common, target=target or _VOID)
        if isinstance(decl, syn.OpaqueDecl):
            return m.Opaque(**common)
        if isinstance(decl, syn.StructDecl):
            fields = tuple(self.field(f) for f in decl.fields)
            self.check_overlaps([(f.name, f.span, f.condition) for f in fields], "field")
            if not decl.fields:
                self.errors.error(decl.span, f"struct '{decl.name}' has no fields")
            return m.Struct(
                **common,
                fields=fields,
                packed=bool(values.get("packed")),
                shared=bool(values.get("shared")),
            )
        return self.enum(decl, common)

    def field(self, decl: syn.FieldDecl) -> m.Field:
        common, _ = self.element(decl, ann.FIELD)
        self.check_name(decl.name, decl.span, "field")
        assert decl.type is not None
        return m.Field(**common, type=self.type_ref(decl.type) or _VOID)

    def enum(self, decl: syn.EnumDecl, common: dict[str, Any]) -> m.Enum:
        assert decl.underlying is not None
        underlying = self.type_ref(decl.underlying)
        if underlying is not None and (
            not underlying.builtin
            or underlying.name not in INTEGER_TYPES
            or underlying.pointers
            or underlying.const
        ):
            self.errors.error(
                decl.underlying.span,
                f"the type of enum '{decl.name}' must be a builtin integer type such as 'u32'",
            )
            underlying = None
        values = []
        next_value = 0
        for e in decl.enumerators:
            e_common, _ = self.element(e, ann.ENUMERATOR)
            self.check_name(e.name, e.span, "enumerator")
            value = next_value if e.value is None else e.value
            if underlying is not None:
                for model in {DATA_MODELS[t.data_model] for t in self.targets} or {
                    DATA_MODELS["lp64"]
                }:
                    low, high = model.integer_range(underlying.name)
                    if not low <= value <= high:
                        self.errors.error(
                            e.span,
                            f"value {value} of '{e.name}' does not fit in '{underlying.name}'"
                            f" ({low}..{high} on {model.name})",
                        )
                        break
            values.append(m.Enumerator(**e_common, value=value))
            next_value = value + 1
        self.check_overlaps([(v.name, v.span, v.condition) for v in values], "enumerator")
        if not values:
            self.errors.error(decl.span, f"enum '{decl.name}' has no values")
        return m.Enum(
            **common, underlying=underlying or m.TypeRef("u32", True), values=tuple(values)
        )

    # ---- tables -----------------------------------------------------------------

    def table(self, decl: syn.TableDecl) -> m.Table:
        common, values = self.element(decl, ann.TABLE)
        members = tuple(self.member(md) for md in decl.members)
        self.check_overlaps([(mb.name, mb.span, mb.condition) for mb in members], "member")
        deprecated = self.deprecation(values.get("deprecated"), decl)
        return m.Table(
            **common,
            members=members,
            budget=values.get("budget"),
            renamed_from=values.get("renamed_from"),
            deprecated=deprecated,
        )

    def callconv(self, value: str | None, decl: syn.Declaration) -> str | None:
        if value is None or value in CALLING_CONVENTIONS:
            return value
        span = next(a.span for a in decl.annotations if a.name == "callconv")
        self.errors.error(
            span,
            f"unknown calling convention '{value}'" + did_you_mean(value, CALLING_CONVENTIONS),
        )
        return None

    def deprecation(
        self, value: dict[str, Any] | None, decl: syn.Declaration
    ) -> m.Deprecation | None:
        if value is None:
            return None
        span = next(a.span for a in decl.annotations if a.name == "deprecated")
        return m.Deprecation(value.get("since"), value.get("use"), value.get("reason"), span)

    def member(self, decl: syn.MemberDecl) -> m.TableMember:
        assert decl.type is not None
        is_hook = decl.params is not None
        named = self.namespace.get(decl.type.base, [])
        is_sub = (
            not is_hook
            and decl.type.keyword is None
            and named
            and all(n.kind == ann.TABLE for n in named)
        )
        kind = ann.HOOK if is_hook else ann.SUBTABLE if is_sub else ann.DATA
        common, values = self.element(decl, kind)
        self.check_name(decl.name, decl.span, kind)
        shared: dict[str, Any] = {
            **common,
            "renamed_from": values.get("renamed_from"),
            "deprecated": self.deprecation(values.get("deprecated"), decl),
        }
        if is_sub:
            if decl.type.pointers or decl.type.const:
                self.errors.error(
                    decl.type.span, "a sub-table is embedded by value: no 'const', no '*'"
                )
            return m.SubTable(**shared, table=decl.type.base)
        type_ = self.type_ref(decl.type) or _VOID
        if not is_hook:
            return m.DataMember(**shared, type=type_)
        assert decl.params is not None
        hot = values.get("hot")
        patch = values.get("patch")
        return m.Hook(
            **shared,
            returns=type_,
            params=self.params(decl),
            callee_save=bool(values.get("callee_save")),
            callconv=self.callconv(values.get("callconv"), decl),
            hot=hot is not None,
            callsites=hot.get("callsites") if isinstance(hot, dict) else None,
            patch=m.Patch(patch["native"], patch.get("clobbers")) if patch else None,
            batched=bool(values.get("batched")),
            low_level=bool(values.get("low_level")),
            nullable=bool(values.get("nullable")),
            no_native=(values.get("no_native") or {}).get("reason"),
            backend_specific=(values.get("backend_specific") or {}).get("reason"),
        )

    def params(self, decl: syn.MemberDecl) -> tuple[m.Param, ...]:
        assert decl.params is not None
        raw = decl.params
        if len(raw) == 1 and raw[0].name is None and _is_plain_void(raw[0].type):
            return ()  # `f(void)`, the C spelling of no parameters
        out = []
        for index, p in enumerate(raw, 1):
            if _is_plain_void(p.type):
                if len(raw) > 1:
                    self.errors.error(p.type.span, "'void' must be the only parameter")
                else:
                    self.errors.error(p.span, f"parameter '{p.name}' cannot have type 'void'")
                continue
            if p.name is None:
                self.errors.error(
                    p.span,
                    f"parameter {index} of '{decl.name}' needs a name; generated code refers to it",
                )
                continue
            if problem_with(p.name):
                self.check_name(p.name, _span(p), "parameter")
            type_ = self.type_ref(p.type)
            if type_ is not None:
                out.append(m.Param(p.name, type_, p.span))
        if len({p.name for p in out}) < len(out):
            self.check_unique(((p.name, p.span) for p in out), "parameter")
        return tuple(out)

    # ---- backends ---------------------------------------------------------------

    def backend(self, decl: syn.BackendDecl) -> m.Backend:
        values = ann.read_annotations(decl.annotations, ann.BACKEND, self.errors)
        self.check_name(decl.name, decl.span, "backend")
        condition = values.get("if")
        self.check_condition(condition)
        known = all(n.name in self.known_defines for n in cond.names(condition))
        if condition is not None and known and not any(t.holds(condition) for t in self.targets):
            self.errors.error(
                decl.span,
                f"backend '{decl.name}' runs on no declared target: no target's defines"
                f" satisfy '{cond.render(condition)}'",
            )
        overall = self.fallback(decl, values, _annotation_span(decl.annotations, decl.span))
        if not decl.default and not decl.entries:
            self.errors.error(
                decl.span,
                f"backend '{decl.name}' lists no members; give '{{ table: member, ...; }}' "
                "or mark it 'default'",
            )
        by_name = self.tables_by_name
        slot_path = self.slot_path
        overrides: dict[str, m.Override] = {}
        seen_tables: dict[str, Span] = {}
        fallbacks: dict[str, bool] = {}  # top-level table -> whether unlisted members are NULL
        for entry in decl.entries:
            entry_values = ann.read_annotations(entry.annotations, ann.BACKEND_ENTRY, self.errors)
            if "fallback" in entry_values:
                span = _annotation_span(entry.annotations, entry.table_span)
                fallbacks[entry.table] = self.fallback(decl, entry_values, span)
            table = by_name.get(entry.table)
            if table is None:
                self.errors.error(
                    entry.table_span,
                    f"unknown table '{entry.table}'" + did_you_mean(entry.table, by_name),
                )
                continue
            if entry.table in self.embedded:
                self.errors.error(
                    entry.table_span,
                    f"table '{entry.table}' is only embedded in other tables; name its members"
                    " through them, such as 'pv_mmu_ops: lazy_mode.enter'",
                )
                continue
            if entry.table in seen_tables:
                self.errors.error(
                    entry.table_span,
                    f"table '{entry.table}' is listed twice in backend '{decl.name}'",
                    related=[Related(seen_tables[entry.table], "first listed here")],
                )
                continue
            seen_tables[entry.table] = entry.table_span
            if entry.members is None:
                for slot in self.walks[table.name]:
                    overrides[slot.path] = m.Override(slot.path, entry.span, whole=True)
                continue
            members = table.members_by_name
            prefix = f"{table.name}."
            for mp in entry.members:
                if len(mp.parts) == 1:  # the common case, a member of the table itself
                    member = members.get(mp.parts[0], (None,))[0]
                    if member is not None and not isinstance(member, m.SubTable):
                        path = prefix + mp.parts[0]
                        path = slot_path.get(path, path)
                        if path in overrides:
                            self.errors.error(
                                mp.span, f"'{path}' is listed twice in backend '{decl.name}'"
                            )
                        overrides[path] = m.Override(path, mp.span)
                        continue
                for path in self.member_path(table, mp, by_name):
                    path = slot_path.get(path, path)
                    if path in overrides:
                        self.errors.error(
                            mp.span, f"'{path}' is listed twice in backend '{decl.name}'"
                        )
                    overrides[path] = m.Override(path, mp.span)
        order = self.path_order
        ordered = sorted(overrides.values(), key=lambda o: order.get(o.path, len(order)))
        null_fallback = frozenset(
            t.name
            for t in self.tables_by_name.values()
            if t.name not in self.embedded and fallbacks.get(t.name, overall)
        )
        return m.Backend(
            name=decl.name,
            default=decl.default,
            overrides=tuple(ordered),
            doc=decl.doc,
            condition=condition,
            null_fallback=null_fallback,
            must_patch=self.must_patch(decl, values, overrides),
            allows=self.allows(values),
            span=decl.span,
        )

    def fallback(self, decl: syn.BackendDecl, values: dict[str, Any], span: Span) -> bool:
        """Whether `@fallback(...)` among `values` leaves unlisted members NULL."""
        source = values.get("fallback")
        if source is None:
            return False
        if decl.default:
            self.errors.error(
                span, f"'{decl.name}' is the default backend: it has no fallback to choose"
            )
            return False
        choices = ["none", *([self.default_backend] if self.default_backend else [])]
        if source not in choices:
            self.errors.error(
                span,
                f"unknown fallback '{source}'" + did_you_mean(source, choices),
                hint="'@fallback(none)' leaves unlisted members NULL; "
                + (
                    f"'@fallback({self.default_backend})' takes them from the default backend"
                    if self.default_backend
                    else "no default backend is declared"
                ),
            )
            return False
        return bool(source == "none")

    def must_patch(
        self, decl: syn.BackendDecl, values: dict[str, Any], overrides: dict[str, m.Override]
    ) -> tuple[m.Override, ...]:
        found: list[m.Override] = []
        for path, span in values.get("must_patch", ()):
            if path not in overrides:
                # A typo gets a suggestion; a member the backend does not list gets none.
                known = path in self.path_order
                self.errors.error(
                    span,
                    f"backend '{decl.name}' does not list '{path}', so it has no slot of its"
                    " own to patch" + ("" if known else did_you_mean(path, overrides)),
                    hint="list the hook in the backend's block, by table",
                )
                continue
            if path in {o.path for o in found}:
                self.errors.error(span, f"'{path}' is marked @must_patch twice")
                continue
            found.append(m.Override(path, span))
        return tuple(found)

    def member_path(
        self, table: m.Table, mp: syn.MemberPath, by_name: dict[str, m.Table]
    ) -> list[str]:
        current = table
        for depth, part in enumerate(mp.parts):
            members = current.members_by_name
            member = members.get(part, (None,))[0]
            if member is None:
                self.errors.error(
                    mp.span,
                    f"table '{current.name}' has no member '{part}'" + did_you_mean(part, members),
                )
                return []
            last = depth == len(mp.parts) - 1
            if isinstance(member, m.SubTable):
                sub = by_name.get(member.table)
                if sub is None:
                    return []
                if last:  # naming a sub-table means all its members
                    prefix = f"{table.name}.{'.'.join(mp.parts)}."
                    return [prefix + ".".join(slot.names) for slot in self.walks[sub.name]]
                current = sub
            elif not last:
                self.errors.error(mp.span, f"'{part}' in table '{current.name}' is not a sub-table")
                return []
        return [f"{table.name}.{'.'.join(mp.parts)}"]

    def check_defaults(self, backends: Sequence[m.Backend]) -> None:
        defaults = [b for b in backends if b.default]
        for extra in defaults[1:]:
            self.errors.error(
                extra.span,
                f"a second default backend '{extra.name}'; only one backend is the fallback",
                related=[Related(defaults[0].span, f"'{defaults[0].name}' is the default")],
            )


class _Layouts:
    """Per-target checks of every use of a type, and the layout of every record."""

    def __init__(
        self,
        resolver: _Resolver,
        types: Sequence[m.TypeDecl],
        tables: Sequence[m.Table],
        template: Sequence[str] | None,
    ) -> None:
        self.r = resolver
        self.types = types
        self.tables = tables
        self.tables_by_name = {t.name: t for t in tables}
        self.top_level = [t for t in tables if t.name not in resolver.embedded]
        # The tables of the patch template, in its order: the aggregate's unless listed.
        self.template = (
            self.top_level if template is None else [self.tables_by_name[n] for n in template]
        )
        # The aggregate's slots, walked once, by top-level table; each target's facts keep
        # those present there.
        self.slots_by_top = [(top, resolver.walks[top.name]) for top in self.top_level]
        self.slots = tuple(slot for _, under in self.slots_by_top for slot in under)
        # Reported problems, keyed by (span, message), with the targets they concern.
        self.problems: dict[tuple[Span, str], list[str]] = {}

    def compute(self) -> dict[str, m.TargetFacts]:
        facts = {t.name: self.target_facts(t) for t in self.r.targets}
        for (span, message), targets in self.problems.items():
            names = ", ".join(f"'{t}'" for t in targets)
            plural = "s" if len(targets) > 1 else ""
            self.r.errors.error(span, message.replace("{targets}", f"target{plural} {names}"))
        return facts

    def problem(self, span: Span, message: str, target: m.Target) -> None:
        self.problems.setdefault((span, message), []).append(target.name)

    def present(self, target: m.Target) -> m.PresentDecls:
        """The first declaration of each name that holds on `target` (types first)."""
        found: dict[str, m.TypeDecl | m.Table] = {}
        for decl in [*self.types, *self.tables]:
            if decl.name not in found and target.holds(decl.condition):
                found[decl.name] = decl
        return m.PresentDecls(found)

    def target_facts(self, target: m.Target) -> m.TargetFacts:
        data_model = DATA_MODELS[target.data_model]
        state = _TargetState(self, target, data_model, self.present(target))
        for t in self.types:
            if target.holds(t.condition):
                state.value_type(t.name, t.span, for_layout=True)
        for table in self.tables:
            if target.holds(table.condition):
                state.record(table.name)
        layout = m.TargetLayout(
            target=target.name,
            pointer_size=data_model.pointer_size,
            types=dict(sorted(state.sizes.items())),
            records=dict(sorted(state.records.items())),
        )
        return self.aggregate_facts(target, layout, state)

    def aggregate_facts(
        self, target: m.Target, layout: m.TargetLayout, state: _TargetState
    ) -> m.TargetFacts:
        """The aggregate of the top-level tables present and where each slot lies in it; the
        patch template and each hook's patch ID: its byte offset in the template divided by
        the pointer size, as the kernel's `PARAVIRT_PATCH(x)` computes it."""
        gnu_only = frozenset(state.gnu_only)
        aggregate, aggregate_exact = self.lay_out_tables(self.top_level, target, layout, gnu_only)
        template, template_exact = self.lay_out_tables(self.template, target, layout, gnu_only)
        slots: list[m.HookSlot | m.DataSlot] = []
        slot_offsets: dict[str, int] = {}
        patch_ids: dict[str, int] = {}
        holds, records, pointer_size = target.holds, layout.records, layout.pointer_size
        for top, under in self.slots_by_top:
            start = aggregate.offsets.get(top.name)
            if start is None:  # the table is absent here
                continue
            base = template.offsets.get(top.name)
            for slot in under:
                if not holds(slot.condition):
                    continue
                offset = _offset_in(slot, records)
                if offset is None:  # a record that failed to lay out, reported already
                    continue
                slots.append(slot)
                slot_offsets[slot.path] = start + offset
                if base is not None and isinstance(slot, m.HookSlot):
                    patch_ids[slot.path] = (base + offset) // pointer_size
        return m.TargetFacts(
            target=target,
            layout=layout,
            present=state.present,
            gnu_only=gnu_only,
            aggregate=aggregate,
            aggregate_exact=aggregate_exact,
            slots=tuple(slots),
            slot_offsets=slot_offsets,
            patch_template=template,
            patch_template_exact=template_exact,
            patch_ids=patch_ids,
        )

    @staticmethod
    def lay_out_tables(
        tables: Sequence[m.Table],
        target: m.Target,
        layout: m.TargetLayout,
        gnu_only: frozenset[str],
    ) -> tuple[m.RecordLayout, bool]:
        """A struct of those of `tables` present on `target`, each a member named after it;
        and whether every C compiler lays it out so (some table, none in `gnu_only`)."""
        records = layout.records
        present = [t for t in tables if target.holds(t.condition) and t.name in records]
        size, align, offsets = lay_out_record(
            (t.name, records[t.name].size, records[t.name].align) for t in present
        )
        exact = bool(present) and not any(t.name in gnu_only for t in present)
        return m.RecordLayout(size, align, offsets), exact


class _TargetState:
    def __init__(
        self,
        owner: _Layouts,
        target: m.Target,
        data_model: DataModel,
        present: m.PresentDecls,
    ) -> None:
        self.owner = owner
        self.target = target
        self.data_model = data_model
        self.pointer = (data_model.pointer_size, data_model.pointer_size)  # (size, align)
        self.present = present
        self.sizes: dict[str, tuple[int, int]] = {}
        self.records: dict[str, m.RecordLayout] = {}
        # Records whose layout is the model's only under GNU C (see `TargetFacts`).
        self.gnu_only: set[str] = set()
        self.in_progress: set[str] = set()
        # Types already reported as containing themselves: not reported again.
        self.cyclic: set[str] = set()

    def variant(self, name: str, span: Span) -> m.TypeDecl | m.Table | None:
        decl = self.present.get(name)
        if decl is None:
            self.owner.problem(span, f"type '{name}' is not declared for {{targets}}", self.target)
        return decl

    def value_type(
        self, name: str, span: Span, *, for_layout: bool = False
    ) -> tuple[int, int] | None:
        """(size, align) of a declared type used by value, reporting misuse at `span`."""
        if name in self.sizes:
            return self.sizes[name]
        decl = self.variant(name, span)
        if decl is None:
            return None
        if isinstance(decl, m.Opaque):
            if not for_layout:
                self.owner.problem(
                    span,
                    f"opaque struct '{name}' is used by value; it may only appear behind a pointer",
                    self.target,
                )
            return None
        if name in self.cyclic:
            return None
        if name in self.in_progress:
            self.owner.problem(span, f"'{name}' contains itself by value", self.target)
            self.cyclic.update(self.in_progress)
            return None
        self.in_progress.add(name)
        try:
            if isinstance(decl, m.Typedef):
                hidden = self.present.behind(decl.target)
                if isinstance(hidden, m.Opaque):
                    if not for_layout:
                        self.owner.problem(
                            span,
                            f"'{name}' names opaque struct '{hidden.name}' and is used by value;"
                            " it may only appear behind a pointer",
                            self.target,
                        )
                    return None
                size = self.ref(decl.target, decl.span)
            elif isinstance(decl, m.Enum):
                size = self.data_model.integer(decl.underlying.name)
            elif isinstance(decl, m.Table):
                self.owner.problem(
                    span, f"table '{name}' can only be embedded in another table", self.target
                )
                return None
            else:
                record = self.record(decl.name)
                size = None if record is None else (record.size, record.align)
        finally:
            self.in_progress.discard(name)
        if size is not None:
            self.sizes[name] = size
        return size

    def ref(self, ref: m.TypeRef, span: Span) -> tuple[int, int] | None:
        if ref.pointers:
            if not ref.builtin:
                decl = self.variant(ref.name, span)
                if isinstance(decl, m.Table):
                    self.owner.problem(
                        span,
                        f"table '{ref.name}' can only be embedded in another table",
                        self.target,
                    )
            size = self.data_model.pointer_size
            return size, size
        if ref.builtin:
            if ref.name == "void":
                self.owner.problem(span, "'void' cannot be used by value here", self.target)
                return None
            return self.data_model.integer(ref.name)
        return self.value_type(ref.name, span)

    def check_use(self, ref: m.TypeRef, span: Span) -> None:
        """Report a misuse of `ref` where its size is not needed (in a hook's prototype).
        A builtin type, by value or behind pointers, is never one there but 'void' by value."""
        if not ref.builtin or (ref.name == "void" and not ref.pointers):
            self.ref(ref, span)

    def record(self, name: str) -> m.RecordLayout | None:
        if name in self.records:
            return self.records[name]
        present = self.present.get(name)
        if not isinstance(present, (m.Struct, m.Table)):
            return None
        entries: list[tuple[str, int, int]] = []
        held: list[str] = []  # the records held by value, laid out before this one
        ok = True
        if isinstance(present, m.Struct):
            for f in present.fields:
                if self.target.holds(f.condition):
                    placed = self.ref(f.type, f.span)
                    ok = ok and placed is not None
                    if placed is not None:
                        entries.append((f.name, *placed))
                    held += self.record_held(f.type)
            packed = present.packed
        else:
            packed = False
            self.in_progress.add(name)
            for mb in present.members:
                if not self.target.holds(mb.condition):
                    continue
                placed = self.member_size(mb)
                ok = ok and placed is not None
                if placed is not None:
                    entries.append((mb.name, *placed))
                if isinstance(mb, m.SubTable):
                    held.append(mb.table)
                elif isinstance(mb, m.DataMember):
                    held += self.record_held(mb.type)
            self.in_progress.discard(name)
        if not ok:
            return None
        size, align, offsets = lay_out_record(entries, packed=packed)
        layout = m.RecordLayout(size, align, offsets)
        self.records[name] = layout
        # The model gives an empty record size 0, as GNU C does; ISO C and C++ give the
        # generated placeholder member a byte, and so a different layout to every record
        # that holds the empty one by value.
        if not entries or any(r in self.gnu_only for r in held):
            self.gnu_only.add(name)
        return layout

    def record_held(self, ref: m.TypeRef) -> list[str]:
        """The struct a by-value use of `ref` holds, through typedefs: [] or [its name]."""
        behind = self.present.behind(ref)
        return [behind.name] if isinstance(behind, m.Struct) else []

    def member_size(self, mb: m.TableMember) -> tuple[int, int] | None:
        if isinstance(mb, m.Hook):
            if not mb.returns.is_void:
                self.check_use(mb.returns, mb.span)
            for p in mb.params:
                self.check_use(p.type, p.span)
            return self.pointer  # a function pointer
        if isinstance(mb, m.DataMember):
            return self.ref(mb.type, mb.span)
        if mb.table in self.in_progress:
            self.owner.problem(mb.span, f"table '{mb.table}' embeds itself", self.target)
            return None
        if self.variant(mb.table, mb.span) is None:
            return None
        record = self.record(mb.table)
        return None if record is None else (record.size, record.align)


# ---- helpers ---------------------------------------------------------------------


_VOID = m.TypeRef("void", True)


def _condition_of(decl: syn.Declaration) -> cond.Cond | None:
    for a in decl.annotations:
        if a.name == "if":
            return a.condition
    return None


def _is_plain_void(t: syn.TypeExpr) -> bool:
    return t.keyword == "c" and t.base == "void" and not t.pointers


def _span(p: syn.ParamDecl) -> Span:
    return Span(
        p.span.file,
        p.span.end_line,
        p.span.end_column - len(p.name or ""),
        p.span.end_line,
        p.span.end_column,
    )


def _annotation_span(annotations: Sequence[syn.Annotation], fallback: Span) -> Span:
    """Where `@fallback` is written among `annotations` (else `fallback`)."""
    return next((a.span for a in annotations if a.name == "fallback"), fallback)


def _offset_in(slot: m.Slot, records: Mapping[str, m.RecordLayout]) -> int | None:
    """The byte offset of a slot in its top-level table."""
    offset = 0
    for owner, name in zip(slot.owners, slot.names, strict=True):
        record = records.get(owner.name)
        at = None if record is None else record.offsets.get(name)
        if at is None:
            return None
        offset += at
    return offset
