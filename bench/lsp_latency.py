"""How long `pvgen lsp` takes from an edit to its diagnostics.

A real client (pygls's) starts `python -m pvgen lsp` with the debounce set to 0, opens the
reference spec, then changes one character of it (a hook's name in a backend block, and
back) RUNS times, timing each `textDocument/didChange` to the `publishDiagnostics` it
causes. The server checks with a debounce (150 ms by default) that this leaves out: the
figure is the work itself, what the editor waits for once the typing pauses.

    .venv/bin/python bench/lsp_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "paravirt.pvspec"


async def measure(runs: int) -> list[float]:
    client = LanguageClient("bench", "1")
    published: asyncio.Queue[tuple[float, lsp.PublishDiagnosticsParams]] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.put_nowait((time.perf_counter(), params))

    await client.start_io(sys.executable, "-m", "pvgen", "lsp", cwd=str(ROOT))
    await client.initialize_async(
        lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), initialization_options={"debounce_ms": 0}
        )
    )
    client.initialized(lsp.InitializedParams())
    uri = SPEC.as_uri()
    text = SPEC.read_text(encoding="utf-8")
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "pvspec", 1, text))
    )
    await published.get()
    # One character of kvm's `pv_cpu_ops: io_delay;` changes: an error, then none again.
    where = text.index("pv_cpu_ops: io_delay;") + len("pv_cpu_ops: io_del")
    line = text.count("\n", 0, where)
    column = where - (text.rfind("\n", 0, where) + 1)
    span = lsp.Range(lsp.Position(line, column), lsp.Position(line, column + 1))
    times = []
    for run in range(runs):
        char = "x" if run % 2 == 0 else "a"
        change = lsp.TextDocumentContentChangePartial(range=span, text=char)
        sent = time.perf_counter()
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                lsp.VersionedTextDocumentIdentifier(version=run + 2, uri=uri), [change]
            )
        )
        received, params = await published.get()
        # The misspelt member is reported, and the report goes once it is mended.
        reported = any("io_delx" in d.message for d in params.diagnostics)
        assert reported == (char == "x"), params.diagnostics
        times.append(received - sent)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    times = asyncio.run(measure(args.runs))
    ms = sorted(t * 1000 for t in times)
    # Even edits misspell the member (the spec stops at resolve), odd ones mend it (the
    # rules run too).
    broken = statistics.median(t * 1000 for t in times[0::2])
    mended = statistics.median(t * 1000 for t in times[1::2])
    print(
        f"didChange -> publishDiagnostics on {SPEC.relative_to(ROOT)}, {len(ms)} edits:"
        f" median {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms,"
        f" max {ms[-1]:.1f} ms (median {broken:.1f} ms to an error, {mended:.1f} ms to a"
        " clean check with the rules)"
    )


if __name__ == "__main__":
    main()
