"""Page: the report as one self-contained HTML file.

Takes: a `model.Abi`, its releases and the steps between them (`data.Release`, `data.Step`),
and optionally the cycles of `pvgen sim --compare` (`data.SimTable`).
Hands on: the text of one HTML page that loads nothing: its style, its script and its
charts (inline SVG) are inside it, and a Content-Security-Policy forbids every fetch. The
matrix and the layouts travel as JSON in a `<script type="application/json">` element
(`escape.script_json`) that the page's script draws from; the release timeline, its
changes and the sim chart are written here, every text HTML-escaped (`escape.html_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from ..abi.changes import Change
from ..abi.diff import iter_classes
from ..escape import script_json
from ..model import Abi
from . import charts
from .charts import h
from .data import STATES, Release, SimTable, Step, layouts, matrix

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
    " img-src data:; base-uri 'none'; form-action 'none'"
)
GENERATOR = "pvgen report"


def _asset(name: str) -> str:
    return (resources.files(__package__) / "assets" / name).read_text(encoding="utf-8")


def build_page(
    abi: Abi,
    releases: Sequence[Release] = (),
    steps: Sequence[Step] = (),
    sim: SimTable | None = None,
    *,
    title: str | None = None,
) -> str:
    """The report page of `abi`; `title` defaults to the ABI's name and version."""
    heading = title or f"ABI {abi.name} version {abi.version}"
    data = {"matrix": matrix(abi), "layouts": layouts(abi), "states": STATES}
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f'<meta name="generator" content="{GENERATOR}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(heading)}: pvgen report</title>",
        f"<style>{_asset('report.css')}</style></head><body>",
        _header(abi, heading, bool(releases), sim is not None),
        _matrix_section(abi),
        '<section id="layout"><h2>Layout on <span class="target-name"></span></h2>'
        '<div id="layout-body"></div></section>',
    ]
    if releases:
        parts.append(_timeline_section(releases, steps))
    if sim is not None:
        parts.append(_sim_section(sim))
    parts += [
        f'<script type="application/json" id="report-data">{script_json(data)}</script>',
        f"<script>{_asset('report.js')}</script>",
        "</body></html>\n",
    ]
    return "".join(parts)


def _header(abi: Abi, heading: str, history: bool, sim: bool) -> str:
    # In the order of the page's data: the targets the model has facts of.
    by_name = {t.name: t for t in abi.targets}
    targets = "".join(
        f'<option value="{i}">{h(name)} ({h(by_name[name].data_model)})</option>'
        for i, name in enumerate(abi.facts)
    )
    budget = f", budget {abi.budget}" if abi.budget is not None else ""
    links = [("matrix", "backends by hook"), ("layout", "layout")]
    if history:
        links.append(("timeline", "releases"))
    if sim:
        links.append(("sim", "simulated cycles"))
    nav = "".join(f'<a href="#{a}">{h(text)}</a>' for a, text in links)
    doc = f'<p class="doc">{h(abi.doc)}</p>' if abi.doc else ""
    return (
        f"<header><h1>{h(heading)}</h1>{doc}"
        f'<p class="facts">{abi.stability.value}{budget}; {len(abi.tables)} tables,'
        f" {len(abi.hook_slots)} hooks, {len(abi.backends)} backends,"
        f" {len(abi.targets)} targets</p>"
        f'<nav>{nav}</nav><p class="controls"><label>Target <select id="target">{targets}'
        "</select></label></p><noscript><p>The matrix and the layouts are drawn by the page's"
        " own script (it loads nothing); allow it to see them.</p></noscript></header>"
    )


def _matrix_section(abi: Abi) -> str:
    head = "".join(
        f'<div class="backend" role="columnheader" title="{h(_backend_tip(abi, i))}">'
        + h(b.name)
        + (" (default)" if b.default else "")
        + "</div>"
        for i, b in enumerate(abi.backends)
    )
    states = "".join(
        f'<option value="{code}">{h(label)}</option>' for code, label in STATES.items()
    )
    legend = "".join(
        f'<span class="key"><span class="swatch s-{code}">{h(label)}</span>'
        f" {h(_STATE_HELP[code])}</span>"
        for code, label in STATES.items()
    )
    return (
        '<section id="matrix"><h2>Backends by hook on <span class="target-name"></span></h2>'
        '<div class="controls"><input id="filter" type="search" placeholder="filter hooks by'
        ' path" aria-label="filter hooks by path"><label>state <select id="state-filter">'
        f'<option value="">any</option>{states}</select></label><label>marked <select'
        ' id="flag-filter"><option value="">any</option><option value="h">hot</option>'
        '<option value="c">callee-save</option><option value="hc">hot or callee-save</option>'
        '<option value="n">nullable</option><option value="d">deprecated</option></select>'
        '</label><span id="shown"></span></div>'
        f'<div class="legend">{legend}</div>'
        '<div class="scroll"><div id="matrix-table" role="table" aria-label="backends by hook">'
        '<div class="mhead" role="rowgroup"><div class="mrow" role="row">'
        f'<div class="hook" role="columnheader">hook</div>{head}</div></div>'
        '<div class="mbody" role="rowgroup"></div></div></div></section>'
    )


_STATE_HELP = {
    "D": "the default backend's own",
    "O": "the backend's own",
    "M": "its own, never called: every call site is patched",
    "F": "the default backend's",
    "N": "no function",
    "A": "the hook is not on this target",
    "X": "the backend does not run here",
}


def _backend_tip(abi: Abi, index: int) -> str:
    backend = abi.backends[index]
    runs = [t.name for t in abi.targets if backend.runs_on(t)]
    lines = [backend.doc or "", "runs on: " + (", ".join(runs) or "no target")]
    if backend.null_fallback:
        lines.append("NULL where not listed: " + ", ".join(sorted(backend.null_fallback)))
    if backend.must_patch:
        lines.append("must patch: " + ", ".join(o.path for o in backend.must_patch))
    return "\n".join(line for line in lines if line)


def _timeline_section(releases: Sequence[Release], steps: Sequence[Step]) -> str:
    rows = []
    for step in steps:
        counts = {str(c): len(g) for c, g in iter_classes(list(step.changes))}
        cells = "".join(
            f'<td class="n">{counts.get(name, 0)}</td>'
            for name in ("breaking", "source-breaking", "compatible", "cosmetic")
        )
        mark = ' class="breaking"' if step.breaking else ""
        rows.append(
            f'<tr{mark}><td><a href="#{step.anchor}">{step.old.version} &rarr;'
            f" {step.new.version}</a></td><td><code>{h(step.new.source)}</code></td>{cells}</tr>"
        )
    table = (
        '<table class="steps" id="steps-table"><thead><tr><th>versions</th><th>new spec</th>'
        "<th>breaking</th><th>source-breaking</th><th>compatible</th><th>cosmetic</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
    )
    first, last = releases[0], releases[-1]
    return (
        '<section id="timeline"><h2>Releases</h2>'
        f"<p>{len(releases)} frozen versions, {first.version} (<code>{h(first.source)}</code>)"
        f" to {last.version} (<code>{h(last.source)}</code>): the hooks each top-level table"
        " reaches (every target's), a red mark over a release whose diff from the one before"
        " breaks the ABI; a column links to its diff.</p>"
        f'<div class="overflow">{charts.timeline(releases, steps)}</div>'
        f"<h3>Changes by class</h3>{table}" + "".join(_step(step) for step in steps) + "</section>"
    )


def _step(step: Step) -> str:
    groups = []
    for cls, changes in iter_classes(list(step.changes)):
        items = "".join(_change(c) for c in changes)
        groups.append(
            f'<details{" open" if len(changes) <= 20 else ""}><summary class="class-{cls}">'
            f"{cls}: {len(changes)}</summary><ul>{items}</ul></details>"
        )
    body = "".join(groups) or "<p>no changes</p>"
    return (
        f'<div class="step" id="{step.anchor}"><h3>version {step.old.version}'
        f" (<code>{h(step.old.source)}</code>) &rarr; {step.new.version}"
        f" (<code>{h(step.new.source)}</code>)</h3>{body}</div>"
    )


def _change(change: Change) -> str:
    values = ""
    if change.old is not None or change.new is not None:
        values = f" <code>{h(change.old or '-')}</code> &rarr; <code>{h(change.new or '-')}</code>"
    targets = "".join(
        f"<br><small>{h(t)}: {h(what)}</small>" for t, what in sorted(change.targets.items())
    )
    accepted = (
        f' <span class="accepted">accepted: {h(change.accepted)}</span>' if change.accepted else ""
    )
    return (
        f"<li><code>{h(change.id)}</code> <code>{h(change.item)}</code>: {h(change.message)}"
        f"{values}{accepted}{targets}</li>"
    )


def _sim_section(sim: SimTable) -> str:
    return (
        '<section id="sim"><h2>Simulated cycles</h2>'
        f"<p>Workload cycles of each backend ({h(sim.caption)}); each workload on its own"
        " scale, the figure over a bar relative to native.</p>"
        f'<div class="overflow">{charts.sim_chart(sim)}</div></section>'
    )
