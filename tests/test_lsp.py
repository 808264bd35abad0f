"""`pvgen lsp`, driven over stdio by a real client (pytest-lsp), one test per capability.

Every expectation is worked out from the spec text the test uses (lines and columns found by
searching it) or from the model that `pvgen.api` compiles from the same text, never typed
in by hand: diagnostics on open and on change (related locations, hints, the editor's unsaved
text rather than the disk), hover, definition, references, completion in each context, the
outline, formatting, quick fixes, includes re-checked, and syntax errors that leave the
server running.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import pytest_lsp
from conftest import SPECS, TEST_SPECS
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from pvgen import api
from pvgen import model as m

pytestmark = pytest.mark.asyncio

REFERENCE = SPECS / "paravirt.pvspec"
CONTRACT = TEST_SPECS / "contract" / "paravirt.pvspec"

DEMO = """abi demo { version 1; }
target i386 { data_model ilp32; defines X86_32; }
target x86_64 { data_model lp64; defines X86_64, LEVELS = 4; }
include "types.pvspec";

/// Interrupt flag control.
table pv_irq_ops {
    /// Disables interrupts.
    void irq_disable();
    /// Enables interrupts.
    void irq_enable();
    /// Writes a page-table entry.
    void set_pte(pte_t *ptep, pte_t pteval);
}

/// Bare hardware.
backend native default;

/// A hypervisor.
backend hv {
    pv_irq_ops: irq_disable, irq_enable, set_pte;
}

/// Another hypervisor.
backend other {
    pv_irq_ops: irq_disable, set_pte;
}
"""
TYPES = """/// A page-table entry.
typedef u64 pte_t;
"""


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "pvgen", "lsp"],
    ),
)
async def client(lsp_client: LanguageClient) -> object:
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"debounce_ms": 50},
        )
    )
    yield
    await lsp_client.shutdown_session()


# ---- helpers ------------------------------------------------------------------------------


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def open_doc(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    text = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri(path), "pvspec", version, text))
    )
    return text


def change_doc(client: LanguageClient, path: Path, text: str, version: int) -> None:
    """Replace the whole text of an open document, as an editor sends an edit."""
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=version, uri=uri(path)),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics_for(
    client: LanguageClient,
    path: Path,
    ready: Callable[[Sequence[lsp.Diagnostic]], bool],
    timeout: float = 20.0,
) -> Sequence[lsp.Diagnostic]:
    """The diagnostics of `path` once they satisfy `ready` (published after an edit)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = client.diagnostics.get(uri(path))
        if found is not None and ready(found):
            return found
        if loop.time() > deadline:
            raise AssertionError(f"no such diagnostics for {path.name}; last: {found}")
        await asyncio.sleep(0.02)


def where(text: str, needle: str, nth: int = 0, offset: int = 0) -> lsp.Position:
    """The 0-based position of the nth occurrence of `needle` (plus `offset` characters)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    start += offset
    line = text.count("\n", 0, start)
    return lsp.Position(line, start - (text.rfind("\n", 0, start) + 1))


def word_range(text: str, needle: str, nth: int = 0, word: str | None = None) -> lsp.Range:
    """The range of `word` (default: `needle`) inside the nth occurrence of `needle`."""
    word = word or needle
    start = where(text, needle, nth, needle.index(word))
    return lsp.Range(start, lsp.Position(start.line, start.character + len(word)))


def apply(text: str, edits: Sequence[lsp.TextEdit]) -> str:
    """`text` with `edits` applied (last first, so earlier offsets hold)."""
    lines = text.split("\n")

    def offset(p: lsp.Position) -> int:
        return sum(len(line) + 1 for line in lines[: p.line]) + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def demo_files(tmp_path: Path) -> tuple[Path, Path]:
    root, types = tmp_path / "demo.pvspec", tmp_path / "types.pvspec"
    root.write_text(DEMO, encoding="utf-8")
    types.write_text(TYPES, encoding="utf-8")
    return root, types


# ---- diagnostics --------------------------------------------------------------------------


async def test_diagnostics_on_open_are_the_rule_findings(client: LanguageClient) -> None:
    text = open_doc(client, REFERENCE)
    found = await diagnostics_for(client, REFERENCE, lambda d: True)
    expected = api.lint(api.compile_spec(REFERENCE)[0], REFERENCE, api.load_config(SPECS))
    assert [d.code for d in found] == [d.code for d in expected] == ["PV114"]
    (d,) = found
    assert d.severity == lsp.DiagnosticSeverity.Information
    assert d.source == "pvgen"
    assert d.message == expected[0].message
    assert d.range == word_range(text, "void post_allocator_init();", word="post_allocator_init")


async def test_diagnostics_have_related_locations_and_hints(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    open_doc(client, root)
    found = await diagnostics_for(client, root, lambda d: True)
    # irq_enable is overridden by hv alone: PV103, pointing at hv's listing of it.
    (d,) = [d for d in found if d.code == "PV103"]
    assert d.range == word_range(DEMO, "void irq_enable();", word="irq_enable")
    assert d.severity == lsp.DiagnosticSeverity.Error
    assert d.message == (
        "hook 'pv_irq_ops.irq_enable' is overridden only by backend 'hv'\n"
        'hint: find a second user, or mark it @backend_specific(reason = "...")'
    )
    assert d.related_information is not None
    (related,) = d.related_information
    assert related.message == "backend 'hv' overrides it here"
    assert related.location.uri == uri(root)
    assert related.location.range == word_range(DEMO, "irq_disable, irq_enable,", word="irq_enable")


async def test_diagnostics_follow_edits_in_memory(client: LanguageClient, tmp_path: Path) -> None:
    root, _ = demo_files(tmp_path)
    open_doc(client, root)
    await diagnostics_for(client, root, lambda d: any(x.code == "PV103" for x in d))
    # A second default backend: an error with the first default as its related location.
    edited = DEMO.replace("/// A hypervisor.", "backend bare default;\n/// A hypervisor.")
    change_doc(client, root, edited, 2)
    found = await diagnostics_for(
        client, root, lambda d: any("second default" in x.message for x in d)
    )
    (d,) = [x for x in found if "second default" in x.message]
    assert d.message == "a second default backend 'bare'; only one backend is the fallback"
    assert d.range == word_range(edited, "backend bare default", word="bare")
    assert d.related_information is not None
    assert [(r.message, r.location.range) for r in d.related_information] == [
        ("'native' is the default", word_range(edited, "backend native default", word="native"))
    ]
    assert root.read_text(encoding="utf-8") == DEMO  # checked from the editor's text
    change_doc(client, root, DEMO, 3)
    await diagnostics_for(client, root, lambda d: not any("second default" in x.message for x in d))


async def test_columns_are_counted_in_utf16_as_the_client_asked(
    client: LanguageClient, tmp_path: Path
) -> None:
    """A character outside the Basic Multilingual Plane is one column for pvgen and two
    UTF-16 code units for the editor: ranges after it are shifted by one."""
    root, _ = demo_files(tmp_path)
    text = DEMO.replace("    void irq_enable();", "    /* \U0001f642 */ void irq_enable();")
    open_doc(client, root, text)
    found = await diagnostics_for(client, root, lambda d: any(x.code == "PV103" for x in d))
    (d,) = [x for x in found if x.code == "PV103"]
    line = text.split("\n")[d.range.start.line]
    characters = line.index("irq_enable")
    assert d.range.start.character == characters + 1  # the emoji is a surrogate pair
    assert d.range.end.character == characters + 1 + len("irq_enable")


async def test_each_spec_is_checked_under_its_folders_configuration(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    (tmp_path / "pvgen.toml").write_text('[rules]\nPV103 = "warning"\n', encoding="utf-8")
    open_doc(client, root)
    found = await diagnostics_for(client, root, lambda d: len(d) > 0)
    assert [(d.code, d.severity) for d in found] == [("PV103", lsp.DiagnosticSeverity.Warning)]


async def test_a_syntax_error_is_a_diagnostic_and_the_server_lives_on(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    open_doc(client, root)
    await diagnostics_for(client, root, lambda d: len(d) > 0)
    broken = DEMO.replace("void irq_enable();", "void irq_enable(;")
    change_doc(client, root, broken, 2)
    found = await diagnostics_for(client, root, lambda d: any("unexpected" in x.message for x in d))
    (d,) = found
    assert d.severity == lsp.DiagnosticSeverity.Error
    assert d.message.startswith("unexpected ';'; expected ")
    assert d.range.start == where(broken, "(;", offset=1)
    # Still serving: hover answers, and mending the text brings the findings back.
    change_doc(client, root, DEMO, 3)
    found = await diagnostics_for(client, root, lambda d: any(x.code == "PV103" for x in d))
    assert not any("unexpected" in x.message for x in found)
    answer = await client.text_document_hover_async(
        lsp.HoverParams(lsp.TextDocumentIdentifier(uri(root)), where(DEMO, "irq_enable();"))
    )
    assert answer is not None
    assert isinstance(answer.contents, lsp.MarkupContent)
    assert "Enables interrupts." in answer.contents.value


async def test_an_edit_in_an_include_rechecks_the_specs_that_include_it(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, types = demo_files(tmp_path)
    open_doc(client, root)
    open_doc(client, types)
    await diagnostics_for(client, root, lambda d: any(x.code == "PV103" for x in d))
    renamed = TYPES.replace("pte_t;", "pte_type;")
    change_doc(client, types, renamed, 2)
    found = await diagnostics_for(client, root, lambda d: any("pte_t" in x.message for x in d))
    unknown = [x for x in found if "pte_t" in x.message]
    assert [x.message for x in unknown] == ["unknown type 'pte_t'; did you mean 'pte_type'?"] * 2
    assert [x.range for x in unknown] == [  # the type as written, pointer and all
        word_range(DEMO, "pte_t *ptep", word="pte_t *"),
        word_range(DEMO, "pte_t pteval", word="pte_t"),
    ]
    change_doc(client, types, TYPES, 3)
    await diagnostics_for(client, root, lambda d: not any("pte_t" in x.message for x in d))


# ---- hover --------------------------------------------------------------------------------


async def test_hover_on_a_hook_shows_doc_signature_layout_and_backends(
    client: LanguageClient,
) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    abi = api.compile_spec(REFERENCE)[0]
    # From a backend block: the same hook as its declaration.
    answer = await client.text_document_hover_async(
        lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri(REFERENCE)),
            where(text, "write_cr3", nth=1, offset=2),
        )
    )
    assert answer is not None and isinstance(answer.contents, lsp.MarkupContent)
    shown = answer.contents.value
    hook = abi.tables_by_name["pv_mmu_ops"].members_by_name["write_cr3"][0]
    assert isinstance(hook, m.Hook) and hook.doc is not None
    assert "void write_cr3(unsigned long val)" in shown
    assert hook.doc in shown
    assert f"since version {hook.since}" in shown
    for target in abi.targets:
        facts = abi.facts[target.name]
        path = "pv_mmu_ops.write_cr3"
        row = (
            f"| {target.name} | {facts.slot_offsets[path]} | {facts.layout.pointer_size}"
            f" | {facts.patch_ids[path]} |"
        )
        assert row in shown
    overriders = [b.name for b in abi.backends if "pv_mmu_ops.write_cr3" in b.listed]
    assert overriders == ["vmi", "xen", "lguest"]
    assert f"Overridden by: {', '.join(overriders)}" in shown
    assert answer.range == word_range(text, "write_cr3", nth=1)


async def test_hover_shows_deprecation_and_absent_targets(client: LanguageClient) -> None:
    text = open_doc(client, CONTRACT)
    await diagnostics_for(client, CONTRACT, lambda d: True)
    answer = await client.text_document_hover_async(
        lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri(CONTRACT)), where(text, "void flush_tlb_user", offset=6)
        )
    )
    assert answer is not None and isinstance(answer.contents, lsp.MarkupContent)
    assert "**Deprecated** since version 3; use `pv_mmu_ops.write_cr3`" in answer.contents.value
    swapgs = await client.text_document_hover_async(
        lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri(CONTRACT)), where(text, "void swapgs", offset=6)
        )
    )
    assert swapgs is not None and isinstance(swapgs.contents, lsp.MarkupContent)
    abi = api.compile_spec(CONTRACT)[0]
    absent = [t.name for t in abi.targets if not t.defines.get("X86_64")]
    assert absent
    for name in absent:
        assert f"| {name} | absent | | |" in swapgs.contents.value
    assert "`@if(X86_64)`" in swapgs.contents.value


# ---- definition and references ------------------------------------------------------------


async def test_definition_of_hooks_types_paths_and_includes(client: LanguageClient) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    doc = lsp.TextDocumentIdentifier(uri(REFERENCE))

    async def go(position: lsp.Position) -> list[lsp.Location]:
        found = await client.text_document_definition_async(lsp.DefinitionParams(doc, position))
        assert isinstance(found, list)
        return [x for x in found if isinstance(x, lsp.Location)]

    # A hook named in a backend block.
    (hook,) = await go(where(text, "write_cr3", nth=2, offset=1))
    assert hook.uri == uri(REFERENCE)
    assert hook.range == word_range(text, "void write_cr3(", word="write_cr3")
    # A member reached through a sub-table: lazy_mode.enter is pv_lazy_ops's enter.
    (enter,) = await go(where(text, "lazy_mode.enter", offset=len("lazy_mode.")))
    assert enter.range == word_range(text, "void enter();", word="enter")
    # A type declared in the included file, once per configuration.
    types_path = SPECS / "mm_types.pvspec"
    types_text = types_path.read_text(encoding="utf-8")
    pteval = await go(where(text, "make_pte(pteval_t pte)", offset=len("make_pte(p")))
    declared = api.compile_spec(REFERENCE)[0].types_by_name["pteval_t"]
    assert len(declared) == 2  # with PAE and without
    assert pteval == [
        lsp.Location(
            uri(types_path),
            lsp.Range(
                lsp.Position(t.span.line - 1, t.span.column - 1),
                lsp.Position(t.span.end_line - 1, t.span.end_column - 1),
            ),
        )
        for t in declared
    ]
    lines = types_text.split("\n")
    assert all(lines[x.range.start.line].startswith("typedef ") for x in pteval)
    # The include itself.
    (included,) = await go(where(text, '"mm_types.pvspec"', offset=3))
    assert included.uri == uri(types_path)
    assert included.range.start == lsp.Position(0, 0)


async def test_definition_of_a_deprecation_replacement(client: LanguageClient) -> None:
    text = open_doc(client, CONTRACT)
    await diagnostics_for(client, CONTRACT, lambda d: True)
    found = await client.text_document_definition_async(
        lsp.DefinitionParams(
            lsp.TextDocumentIdentifier(uri(CONTRACT)),
            where(text, "use = pv_mmu_ops.write_cr3", offset=len("use = pv_mmu_ops.")),
        )
    )
    assert found == [
        lsp.Location(uri(CONTRACT), word_range(text, "void write_cr3(", word="write_cr3"))
    ]


async def test_references_of_a_hook_and_of_a_type(client: LanguageClient) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    doc = lsp.TextDocumentIdentifier(uri(REFERENCE))
    found = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=doc,
            position=where(text, "void write_cr3(", offset=6),
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    assert found is not None
    backends_start = text.index("\nbackend native")
    expected = [word_range(text, "void write_cr3(", word="write_cr3")] + [
        lsp.Range(where(text, "", offset=mt.start()), where(text, "", offset=mt.end()))
        for mt in re.finditer(r"\bwrite_cr3\b", text)
        if mt.start() > backends_start
    ]
    assert len(expected) == 4  # vmi, xen, lguest list it
    assert sorted((r.range.start.line, r.range.start.character) for r in found) == sorted(
        (r.start.line, r.start.character) for r in expected
    )
    assert {r.uri for r in found} == {uri(REFERENCE)}
    # Without the declaration.
    uses = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=doc,
            position=where(text, "void write_cr3(", offset=6),
            context=lsp.ReferenceContext(include_declaration=False),
        )
    )
    assert uses is not None and len(uses) == 3
    # A table: its declaration, the backend entries and the abi's patch_template.
    tables = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=doc,
            position=where(text, "table pv_irq_ops", offset=8),
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    assert tables is not None
    expected_places = {
        (line_no, mt.start())
        for line_no, line in enumerate(text.split("\n"))
        if not line.lstrip().startswith("//")
        for mt in re.finditer(r"\bpv_irq_ops\b", line)
    }
    assert len(expected_places) == 5  # declared, in patch_template, by vmi, xen and lguest
    assert {(r.range.start.line, r.range.start.character) for r in tables} == expected_places


# ---- completion ---------------------------------------------------------------------------


async def complete_at(
    client: LanguageClient, path: Path, text: str, position: lsp.Position, version: int
) -> dict[str, lsp.CompletionItem]:
    change_doc(client, path, text, version)
    found = await client.text_document_completion_async(
        lsp.CompletionParams(lsp.TextDocumentIdentifier(uri(path)), position)
    )
    assert isinstance(found, lsp.CompletionList)
    return {i.label: i for i in found.items}


async def test_completion_of_annotations_with_their_arguments(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    open_doc(client, root)
    await diagnostics_for(client, root, lambda d: len(d) > 0)
    typing = DEMO.replace("    /// Enables interrupts.\n", "    /// Enables interrupts.\n    @\n")
    items = await complete_at(client, root, typing, where(typing, "    @\n", offset=5), 2)
    from pvgen.annotations import MEMBERS, REGISTRY

    expected = {n for n, s in REGISTRY.items() if s.applies_to & MEMBERS}
    assert set(items) == expected
    assert "fallback" not in items  # a backend's, not a hook's
    assert items["patch"].detail == "@patch(native = string, clobbers = string)"
    assert items["patch"].insert_text == 'patch(native = "${1}")'
    assert items["allow"].insert_text == 'allow(${1:code}, reason = "${2}")'
    assert items["hot"].documentation == REGISTRY["hot"].purpose


async def test_completion_of_types_in_a_table(client: LanguageClient, tmp_path: Path) -> None:
    root, _ = demo_files(tmp_path)
    open_doc(client, root)
    await diagnostics_for(client, root, lambda d: len(d) > 0)
    typing = DEMO.replace("    /// Enables interrupts.\n", "    p\n    /// Enables interrupts.\n")
    items = await complete_at(client, root, typing, where(typing, "    p\n", offset=5), 2)
    assert {"pte_t", "u32", "u64", "void", "pv_irq_ops"} <= set(items)
    assert items["pte_t"].detail == "typedef"
    # In a parameter list too.
    typing = DEMO.replace("void irq_enable();", "void irq_enable(u32 a, );")
    items = await complete_at(client, root, typing, where(typing, "u32 a, ", offset=7), 3)
    assert {"pte_t", "u8"} <= set(items)
    # After `typedef`, at the top level: no tables there.
    typing = DEMO.replace("/// Bare hardware.", "typedef \n/// Bare hardware.")
    items = await complete_at(client, root, typing, where(typing, "typedef \n", offset=8), 4)
    assert {"pte_t", "u16"} <= set(items) and "pv_irq_ops" not in items


async def test_completion_of_tables_and_members_in_backend_blocks(
    client: LanguageClient,
) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    abi = api.compile_spec(REFERENCE)[0]
    # After `pv_cpu_ops: ` in kvm's block: the members of pv_cpu_ops.
    typing = text.replace("pv_cpu_ops: io_delay;", "pv_cpu_ops: io_delay, ;")
    position = where(typing, "pv_cpu_ops: io_delay, ", offset=len("pv_cpu_ops: io_delay, "))
    items = await complete_at(client, REFERENCE, typing, position, 2)
    assert list(items) == [mb.name for mb in abi.tables_by_name["pv_cpu_ops"].members]
    assert items["write_cr0"].detail == "void write_cr0(unsigned long val)"
    # Through a sub-table.
    typing = text.replace("pv_cpu_ops: io_delay;", "pv_cpu_ops: io_delay, lazy_mode.;")
    position = where(typing, "lazy_mode.;", offset=len("lazy_mode."))
    items = await complete_at(client, REFERENCE, typing, position, 3)
    assert list(items) == [mb.name for mb in abi.tables_by_name["pv_lazy_ops"].members]
    # At the start of an entry: the top-level tables.
    typing = text.replace("pv_cpu_ops: io_delay;", "pv_cpu_ops: io_delay;\n    pv_")
    position = where(typing, "io_delay;\n    pv_", offset=len("io_delay;\n    pv_"))
    items = await complete_at(client, REFERENCE, typing, position, 4)
    assert list(items) == [t.name for t in abi.top_level_tables()]


async def test_completion_of_target_defines_in_if(client: LanguageClient) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    abi = api.compile_spec(REFERENCE)[0]
    typing = text.replace(
        "@if(X86_64) @low_level\n    unsigned long read_cr8",
        "@if(X86_64 && ) @low_level\n    unsigned long read_cr8",
    )
    position = where(typing, "@if(X86_64 && ", offset=len("@if(X86_64 && "))
    items = await complete_at(client, REFERENCE, typing, position, 2)
    defines = sorted({d for t in abi.targets for d in t.defines})
    assert list(items) == defines
    assert items["PAGETABLE_LEVELS"].detail == ("defined by i386 = 2, i386_pae = 3, x86_64 = 4")


# ---- outline, formatting ------------------------------------------------------------------


async def test_document_symbols_outline_the_file(client: LanguageClient) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    found = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri(REFERENCE)))
    )
    assert found is not None
    symbols = [s for s in found if isinstance(s, lsp.DocumentSymbol)]
    names = [s.name for s in symbols]
    declared = re.findall(r"(?m)^(?:abi|target|table|backend) (\w+)", text)
    assert names == declared
    lazy = symbols[names.index("pv_lazy_ops")]
    assert lazy.kind == lsp.SymbolKind.Class
    assert lazy.selection_range == word_range(text, "table pv_lazy_ops", word="pv_lazy_ops")
    assert lazy.range.start == where(text, "table pv_lazy_ops")
    assert lazy.range.end == where(
        text, "}", nth=text[: text.index("table pv_lazy_ops")].count("}"), offset=1
    )
    assert lazy.children is not None
    assert [(c.name, c.kind, c.detail) for c in lazy.children] == [
        ("enter", lsp.SymbolKind.Method, "void enter()"),
        ("leave", lsp.SymbolKind.Method, "void leave()"),
    ]
    xen = symbols[names.index("xen")]
    assert xen.kind == lsp.SymbolKind.Module
    assert xen.range.start == where(text, "@if(X86_32 && X86_PAE) @fallback(none)")


async def test_formatting_gives_what_pvgen_fmt_writes(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    messy = DEMO.replace("    void irq_disable();", "void   irq_disable( ) ;").replace(
        "backend native default;", "backend   native default ;"
    )
    open_doc(client, root, messy)
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(
            lsp.TextDocumentIdentifier(uri(root)), lsp.FormattingOptions(4, True)
        )
    )
    assert edits is not None and edits
    formatted = apply(messy, edits)
    assert formatted == api.format_text(messy)
    assert "\n    void irq_disable();\n" in formatted
    assert "\nbackend native default;\n" in formatted


# ---- code actions -------------------------------------------------------------------------


async def test_code_action_applies_a_did_you_mean(client: LanguageClient) -> None:
    text = open_doc(client, REFERENCE)
    await diagnostics_for(client, REFERENCE, lambda d: True)
    typo = text.replace(
        "pv_mmu_ops: flush_tlb_user, release_pte", "pv_mmu_ops: flush_tlb_usr, release_pte"
    )
    change_doc(client, REFERENCE, typo, 2)
    found = await diagnostics_for(
        client, REFERENCE, lambda d: any("flush_tlb_usr" in x.message for x in d)
    )
    (d,) = [x for x in found if "flush_tlb_usr" in x.message]
    assert (
        d.message
        == "table 'pv_mmu_ops' has no member 'flush_tlb_usr'; did you mean 'flush_tlb_user'?"
    )
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri(REFERENCE)), d.range, lsp.CodeActionContext([d])
        )
    )
    assert actions is not None
    fixes = [a for a in actions if isinstance(a, lsp.CodeAction) and a.title.startswith("Change")]
    (fix,) = fixes
    assert fix.title == "Change 'flush_tlb_usr' to 'flush_tlb_user'"
    assert fix.kind == lsp.CodeActionKind.QuickFix
    assert fix.edit is not None and fix.edit.changes is not None
    (edit,) = fix.edit.changes[uri(REFERENCE)]
    assert edit.range == word_range(typo, "flush_tlb_usr")
    assert apply(typo, [edit]) == text


async def test_code_action_for_a_misspelt_annotation(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    typo = DEMO.replace("    void irq_enable();", "    @hott\n    void irq_enable();")
    open_doc(client, root, typo)
    found = await diagnostics_for(client, root, lambda d: any("@hott" in x.message for x in d))
    (d,) = [x for x in found if "@hott" in x.message]
    assert d.message.startswith("unknown annotation '@hott'; did you mean '@hot'?\nhint: ")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri(root)), d.range, lsp.CodeActionContext([d])
        )
    )
    assert actions is not None
    (fix,) = [a for a in actions if isinstance(a, lsp.CodeAction)]
    assert fix.edit is not None and fix.edit.changes is not None
    assert apply(typo, fix.edit.changes[uri(root)]) == typo.replace("@hott", "@hot")


async def test_code_action_adds_an_allow_that_accepts_the_finding(
    client: LanguageClient, tmp_path: Path
) -> None:
    root, _ = demo_files(tmp_path)
    open_doc(client, root)
    found = await diagnostics_for(client, root, lambda d: any(x.code == "PV103" for x in d))
    (d,) = [x for x in found if x.code == "PV103"]
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri(root)), d.range, lsp.CodeActionContext([d])
        )
    )
    assert actions is not None
    (allow,) = [a for a in actions if isinstance(a, lsp.CodeAction) and "@allow" in a.title]
    assert allow.title == "Allow PV103 here with @allow"
    assert allow.edit is not None and allow.edit.changes is not None
    (edit,) = allow.edit.changes[uri(root)]
    assert edit.new_text == '    @allow(PV103, reason = "...")\n'
    assert edit.range.start == where(DEMO, "    void irq_enable();")
    allowed = apply(DEMO, [edit])
    assert (
        '    /// Enables interrupts.\n    @allow(PV103, reason = "...")\n    void irq_enable();'
        in allowed
    )
    change_doc(client, root, allowed, 2)
    await diagnostics_for(client, root, lambda d: not any(x.code in ("PV103", "PV001") for x in d))


async def test_the_other_commands_never_import_the_server() -> None:
    """pygls is loaded by `pvgen lsp` alone: `pvgen check` costs what it did."""
    probe = (
        "import sys\n"
        "from pvgen.cli import main\n"
        f"status = main(['check', {str(REFERENCE)!r}])\n"
        "assert status == 0, status\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol'))\n"
        "assert not loaded and 'pvgen.lsp' not in sys.modules, loaded\n"
    )
    import subprocess

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
