"""Server: the Language Server Protocol over stdio, on pygls, for `pvgen lsp`.

Takes: the editor's requests and notifications (JSON-RPC over stdin and stdout; pygls
frames them and keeps the text of open documents).
Hands on: diagnostics published on open and, debounced, on change (errors and rule
findings, related locations, hints), for every root spec that reads the document, from the
editor's unsaved text; the answers of hover, definition, references, completion, document
symbols, formatting and code actions, computed by `features` and converted here between
the protocol's positions (0-based, in the encoding agreed on: UTF-16 by default) and
pvgen's (1-based, in characters).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__, api
from ..config import Config
from ..diagnostics import Diagnostic, Severity, SpecError
from ..source import Span
from ..syntax import SpecFile
from . import features
from .analysis import Snapshot, compile_root, span_path
from .index import Index, build_index

# How long an edit waits for the next before the specs are checked again: a burst of
# typing costs one check. The editor may set `debounce_ms` in its initialization options.
DEBOUNCE_SECONDS = 0.15

_SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.NOTE: lsp.DiagnosticSeverity.Information,
}
_ABI_DECLARATION = re.compile(r"(?m)^\s*(?:@[^\n]*\s)?abi\s+[A-Za-z_]")


class PvgenLanguageServer(LanguageServer):
    """The server and what it knows: the last compile of each root spec in use."""

    def __init__(self, config: Config | None = None) -> None:
        super().__init__("pvgen", __version__)
        # The configuration every spec is checked under; None: the one found from its folder.
        self.config = config
        self.debounce = DEBOUNCE_SECONDS
        self.snapshots: dict[Path, Snapshot] = {}  # by root
        self.loaded: dict[Path, Snapshot] = {}  # by root: the last compile whose trees loaded
        self.built: dict[Path, tuple[Snapshot, Index]] = {}  # by root: its index, once asked
        self.trees: dict[Path, SpecFile] = {}  # the last syntax tree of each file
        self.published: dict[Path, list[tuple[lsp.Diagnostic, Diagnostic]]] = {}
        self.pending: set[Path] = set()
        self.timer: asyncio.TimerHandle | None = None

    # ---- documents ------------------------------------------------------------------------

    def open_paths(self) -> dict[Path, str]:
        """The resolved path of every open file document, with its URI."""
        found: dict[Path, str] = {}
        for uri in self.workspace.text_documents:
            path = uri_path(uri)
            if path is not None:
                found[path] = uri
        return found

    def sources(self) -> dict[Path, str]:
        """The editor's text of every open file, by resolved path."""
        return {
            path: self.workspace.get_text_document(uri).source
            for path, uri in self.open_paths().items()
        }

    def uri_of(self, path: Path) -> str:
        return self.open_paths().get(path) or str(from_fs_path(str(path)))

    def text_of(self, path: Path) -> str:
        uri = self.open_paths().get(path)
        if uri is not None:
            return self.workspace.get_text_document(uri).source
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return ""

    # ---- checking -------------------------------------------------------------------------

    def schedule(self, path: Path) -> None:
        """Check the specs that read `path` once the edits pause for `debounce` seconds."""
        self.pending.add(path)
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(self.debounce, self.flush)

    def flush(self) -> None:
        self.timer = None
        pending, self.pending = self.pending, set()
        self.check(pending)

    def check(self, paths: Iterable[Path]) -> None:
        """Compile again every root spec that reads one of `paths`, and publish."""
        try:
            roots: set[Path] = set()
            for path in paths:
                roots |= self.roots_of(path)
            sources = self.sources()
            for root in sorted(roots):
                self.store(compile_root(root, sources, self.config))
            self.drop_unused()
            self.publish()
        except Exception as exc:  # a bug in the server: said, and the server goes on
            self.window_log_message(
                lsp.LogMessageParams(
                    lsp.MessageType.Error, f"pvgen: internal error: {type(exc).__name__}: {exc}"
                )
            )

    def store(self, snapshot: Snapshot) -> None:
        self.snapshots[snapshot.root] = snapshot
        if snapshot.files:
            self.loaded[snapshot.root] = snapshot
            for spec, path in zip(snapshot.files, snapshot.paths, strict=True):
                self.trees[path] = spec

    def index(self, root: Path) -> Index | None:
        """The index of the last compile of `root` that loaded, built when first asked for
        (so that diagnostics never wait for it)."""
        snapshot = self.loaded.get(root)
        if snapshot is None:
            return None
        built = self.built.get(root)
        if built is None or built[0] is not snapshot:
            built = (snapshot, build_index(zip(snapshot.files, snapshot.paths, strict=True)))
            self.built[root] = built
        return built[1]

    def roots_of(self, path: Path) -> set[Path]:
        """The root specs whose result depends on `path`: those that read it, the file itself
        when it declares an ABI, and else those (of the configuration, or beside it) found
        to include it."""
        roots = {r for r, s in self.snapshots.items() if path in s.depends}
        if _ABI_DECLARATION.search(features.blank_comments_and_strings(self.text_of(path))):
            roots.add(path)
        if roots:
            return roots
        sources = self.sources()
        for candidate in self.candidate_roots(path):
            snapshot = compile_root(candidate, sources, self.config)
            if path in snapshot.depends:
                self.store(snapshot)
                roots.add(candidate)
        return roots or {path}

    def candidate_roots(self, path: Path) -> list[Path]:
        """Root specs that may include `path`: the configuration's, and the specs beside it
        that name it in an include."""
        found: list[Path] = []
        try:
            config = self.config or api.load_config(path.parent)
            found += [Path(os.path.realpath(p)) for p in config.specs]
        except api.ConfigError:
            pass
        try:
            siblings = sorted(path.parent.glob("*.pvspec"))
        except OSError:
            siblings = []
        for sibling in siblings:
            real = Path(os.path.realpath(sibling))
            if real != path and path.name in self.text_of(real) and real not in found:
                found.append(real)
        return [p for p in found if p != path]

    def drop_unused(self) -> None:
        """Forget the compiles of roots that no open document belongs to any more."""
        open_paths = set(self.open_paths())
        for root, snapshot in list(self.snapshots.items()):
            if not (snapshot.depends & open_paths):
                del self.snapshots[root]
                self.loaded.pop(root, None)
                self.built.pop(root, None)

    def publish(self) -> None:
        """Send the diagnostics of every file that any root's compile reported on, and empty
        lists for the files that no longer have any."""
        by_file: dict[Path, dict[tuple[object, ...], Diagnostic]] = {}
        for root, snapshot in self.snapshots.items():
            for d in snapshot.diagnostics:
                where = span_path(d.span) if d.span is not None else root
                key = (d.location, d.code, d.message, d.severity)
                by_file.setdefault(where, {}).setdefault(key, d)
        for path in set(self.published) | set(by_file):
            found = list(by_file.get(path, {}).values())
            converted = [(self.to_lsp_diagnostic(d), d) for d in found]
            if path in self.published and [c for c, _ in self.published[path]] == [
                c for c, _ in converted
            ]:
                continue
            if converted:
                self.published[path] = converted
            else:
                self.published.pop(path, None)
            uri = self.uri_of(path)
            version = None
            if uri in self.workspace.text_documents:
                version = self.workspace.get_text_document(uri).version
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri, [c for c, _ in converted], version)
            )

    # ---- positions ------------------------------------------------------------------------

    def units(self, text: str) -> int:
        """The length of `text` in the position encoding agreed with the client."""
        encoding = self.workspace.position_encoding
        if encoding == lsp.PositionEncodingKind.Utf32:
            return len(text)
        if encoding == lsp.PositionEncodingKind.Utf8:
            return len(text.encode("utf-8"))
        return len(text.encode("utf-16-le")) // 2

    def column(self, line_text: str, character: int) -> int:
        """The 1-based column (in characters) of a client position on `line_text`."""
        count = 0
        for i, c in enumerate(line_text):
            if count >= character:
                return i + 1
            count += self.units(c)
        return len(line_text) + 1

    def position(self, lines: list[str], line: int, column: int) -> lsp.Position:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return lsp.Position(line - 1, self.units(text[: max(column - 1, 0)]))

    def range_of(self, lines: list[str], place: tuple[int, int, int, int]) -> lsp.Range:
        line, column, end_line, end_column = place
        return lsp.Range(
            self.position(lines, line, column), self.position(lines, end_line, end_column)
        )

    def span_range(self, span: Span) -> lsp.Range:
        lines = span.file.text.split("\n")
        return self.range_of(lines, (span.line, span.column, span.end_line, span.end_column))

    def place_location(self, place: features.Place) -> lsp.Location:
        lines = self.text_of(place.path).split("\n")
        where = (place.line, place.column, place.end_line, place.end_column)
        return lsp.Location(self.uri_of(place.path), self.range_of(lines, where))

    def to_lsp_diagnostic(self, d: Diagnostic) -> lsp.Diagnostic:
        if d.span is not None:
            where = self.span_range(d.span)
        else:
            where = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        related = [
            lsp.DiagnosticRelatedInformation(
                lsp.Location(self.uri_of(span_path(r.span)), self.span_range(r.span)), r.message
            )
            for r in d.related
        ]
        return lsp.Diagnostic(
            where,
            message,
            severity=_SEVERITY[d.severity],
            code=d.code,
            source="pvgen",
            related_information=related or None,
        )

    # ---- what a request reads -------------------------------------------------------------

    def request_place(
        self, uri: str, position: lsp.Position
    ) -> tuple[Path, list[str], int, int] | None:
        path = uri_path(uri)
        if path is None:
            return None
        lines = self.workspace.get_text_document(uri).source.split("\n")
        text = lines[position.line] if position.line < len(lines) else ""
        return path, lines, position.line + 1, self.column(text, position.character)

    def fresh(self, path: Path) -> tuple[Snapshot, Index] | None:
        """The compile whose trees are of the current text of `path`, and its index: the
        file's own as a root, else any root that reads it."""
        ranked = sorted(self.snapshots.values(), key=lambda s: s.root != path)
        for snapshot in ranked:
            if snapshot.files and path in snapshot.paths:
                index = self.index(snapshot.root)
                if index is not None:
                    return snapshot, index
        return None

    def names_for(self, path: Path) -> Index | None:
        """The names completion offers in `path`: from its last compile that loaded, even
        if the text has changed since (a half-typed line does not parse)."""
        ranked = sorted(self.snapshots.values(), key=lambda s: s.root != path)
        for snapshot in ranked:
            if path in snapshot.depends:
                index = self.index(snapshot.root)
                if index is not None:
                    return index
        return None


def uri_path(uri: str) -> Path | None:
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return None if path is None else Path(os.path.realpath(path))


_OUTLINE_KINDS = {
    "abi": lsp.SymbolKind.Namespace,
    "target": lsp.SymbolKind.Object,
    "typedef": lsp.SymbolKind.TypeParameter,
    "struct": lsp.SymbolKind.Struct,
    "opaque": lsp.SymbolKind.Struct,
    "enum": lsp.SymbolKind.Enum,
    "table": lsp.SymbolKind.Class,
    "hook": lsp.SymbolKind.Method,
    "data": lsp.SymbolKind.Field,
    "field": lsp.SymbolKind.Field,
    "enumerator": lsp.SymbolKind.EnumMember,
    "backend": lsp.SymbolKind.Module,
}
_ITEM_KINDS = {
    "annotation": lsp.CompletionItemKind.Keyword,
    "type": lsp.CompletionItemKind.Struct,
    "table": lsp.CompletionItemKind.Class,
    "member": lsp.CompletionItemKind.Method,
    "define": lsp.CompletionItemKind.Constant,
    "backend": lsp.CompletionItemKind.Module,
    "keyword": lsp.CompletionItemKind.Keyword,
}


def create_server(config: Config | None = None) -> PvgenLanguageServer:
    server = PvgenLanguageServer(config)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: PvgenLanguageServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce_ms"), int | float):
            ls.debounce = max(0.0, float(options["debounce_ms"]) / 1000)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PvgenLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        path = uri_path(params.text_document.uri)
        if path is not None:
            ls.check([path])

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PvgenLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        path = uri_path(params.text_document.uri)
        if path is not None:
            ls.schedule(path)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PvgenLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        path = uri_path(params.text_document.uri)
        if path is None:
            return
        ls.pending.discard(path)
        # The roots that read it read the disk's text now; those it alone kept are dropped.
        ls.check([path] if any(path in s.depends for s in ls.snapshots.values()) else [])

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: PvgenLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        where = ls.request_place(params.text_document.uri, params.position)
        if where is None:
            return None
        path, lines, line, column = where
        found = ls.fresh(path)
        if found is None:
            return None
        answer = features.hover(*found, path, line, column)
        if answer is None:
            return None
        text, place = answer
        value = lsp.MarkupContent(lsp.MarkupKind.Markdown, text)
        where_range = (place.line, place.column, place.end_line, place.end_column)
        return lsp.Hover(value, ls.range_of(lines, where_range))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: PvgenLanguageServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
        where = ls.request_place(params.text_document.uri, params.position)
        found = ls.fresh(where[0]) if where is not None else None
        if where is None or found is None:
            return []
        path, _, line, column = where
        return [ls.place_location(p) for p in features.definition(found[1], path, line, column)]

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: PvgenLanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        where = ls.request_place(params.text_document.uri, params.position)
        if where is None:
            return []
        path, _, line, column = where
        indexes = [
            index
            for r, s in ls.snapshots.items()
            if s.files and path in s.paths and (index := ls.index(r)) is not None
        ]
        include = params.context.include_declaration
        places = features.references(indexes, path, line, column, include)
        return [ls.place_location(p) for p in places]

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=["@", ".", ":", "(", ","]),
    )
    def completion(ls: PvgenLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        where = ls.request_place(params.text_document.uri, params.position)
        if where is None:
            return lsp.CompletionList(False, [])
        path, lines, line, column = where
        snippets = _snippet_support(ls)
        found = features.completion(ls.names_for(path), "\n".join(lines), line, column, snippets)
        items = [
            lsp.CompletionItem(
                i.label,
                kind=_ITEM_KINDS[i.kind],
                detail=i.detail or None,
                documentation=i.documentation or None,
                insert_text=i.insert,
                insert_text_format=lsp.InsertTextFormat.Snippet if i.insert else None,
            )
            for i in found
        ]
        return lsp.CompletionList(False, items)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(
        ls: PvgenLanguageServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol]:
        path = uri_path(params.text_document.uri)
        tree = ls.trees.get(path) if path is not None else None
        if tree is None:
            return []
        lines = tree.source.text.split("\n")

        def convert(node: features.Outline) -> lsp.DocumentSymbol:
            return lsp.DocumentSymbol(
                node.name,
                _OUTLINE_KINDS[node.kind],
                ls.range_of(lines, node.range),
                ls.range_of(lines, node.selection),
                detail=node.detail or None,
                children=[convert(c) for c in node.children] or None,
            )

        return [convert(n) for n in features.outline(tree)]

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(
        ls: PvgenLanguageServer, params: lsp.DocumentFormattingParams
    ) -> list[lsp.TextEdit] | None:
        uri = params.text_document.uri
        text = ls.workspace.get_text_document(uri).source
        path = uri_path(uri)
        try:
            formatted = api.format_text(text, str(path) if path else uri)
        except SpecError:
            return None  # the diagnostics say why
        if formatted == text:
            return []
        lines = text.split("\n")
        whole = ls.range_of(lines, (1, 1, len(lines), len(lines[-1]) + 1))
        return [lsp.TextEdit(whole, formatted)]

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
    )
    def code_action(ls: PvgenLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        path = uri_path(params.text_document.uri)
        if path is None:
            return []
        actions: list[lsp.CodeAction] = []
        trees = [t for s in ls.snapshots.values() for t in s.files]
        for converted, d in ls.published.get(path, []):
            if not _overlaps(converted.range, params.range):
                continue
            for fix in (features.did_you_mean_fix(d), features.allow_fix(d, trees)):
                if fix is None:
                    continue
                edit = lsp.TextEdit(ls.place_location(fix.place).range, fix.new_text)
                actions.append(
                    lsp.CodeAction(
                        fix.title,
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[converted],
                        edit=lsp.WorkspaceEdit(changes={ls.uri_of(fix.place.path): [edit]}),
                        is_preferred=fix.preferred or None,
                    )
                )
        return actions

    return server


def _snippet_support(ls: PvgenLanguageServer) -> bool:
    capabilities: Any = ls.client_capabilities
    try:
        return bool(capabilities.text_document.completion.completion_item.snippet_support)
    except AttributeError:
        return False


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def serve(config: Config | None = None) -> None:
    """Run the server on stdin and stdout until the client says exit; with `config`, every
    spec is checked under it."""
    logging.getLogger("pygls").setLevel(logging.WARNING)
    create_server(config).start_io()
