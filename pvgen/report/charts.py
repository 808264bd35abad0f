"""Charts: the report's pictures as inline SVG, drawn from numbers the report data holds.

Takes: the releases and the steps between them (hooks per top-level table; whether a step
breaks), and the cycles of `pvgen sim --compare`.
Hands on: SVG markup, every text in it HTML-escaped (`escape.html_text`): a stacked column
per release, one bar per table with hooks, each release linked to the anchor of its diff and
each breaking step marked; and one panel per workload with a bar per backend. Every bar is a
`rect` of class `bar`, with its numbers in `data-` attributes and a `title` for the tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..escape import html_text
from .data import Release, SimTable, Step

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#86bcb6",
    "#d37295",
)


def h(text: str) -> str:
    """Text from a spec, a dump or a file, for the page: escaped, its line breaks kept."""
    return html_text(text, keep_lines=True)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_top(value: int) -> int:
    """A round number at least `value`, for the top of an axis."""
    if value <= 5:
        return 5
    step = 1
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def table_order(releases: Sequence[Release]) -> list[str]:
    """Every table of every release, in the order they first appear."""
    return list(dict.fromkeys(t for r in releases for t in r.hooks))


def timeline(releases: Sequence[Release], steps: Sequence[Step]) -> str:
    tables = table_order(releases)
    top = _nice_top(max((sum(r.hooks.values()) for r in releases), default=0))
    column, gap, left, height, bottom = 26, 10, 48, 240, 96
    width = left + len(releases) * (column + gap) + gap + 90  # room for the last label
    scale = height / top
    into = {s.new.version: s for s in steps}
    out = [
        f'<svg class="chart" id="timeline-chart" role="img" width="{width}"'
        f' height="{height + bottom + 40}" viewBox="0 -20 {width} {height + bottom + 40}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        "<title>Hooks per table, release by release</title>",
    ]
    for tick in range(5):  # the axis
        value = top * tick // 4
        y = 20 + height - value * scale
        out.append(
            f'<line class="grid" x1="{left - 4}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    for index, rel in enumerate(releases):
        x = left + gap + index * (column + gap)
        step = into.get(rel.version)
        if step is not None:
            out.append(f'<a href="#{h(step.anchor)}" class="release-link">')
        y = 20 + height
        for table, count in rel.hooks.items():
            bar = count * scale
            y -= bar
            out.append(
                f'<rect class="bar" data-release="{rel.version}" data-table="{h(table)}"'
                f' data-hooks="{count}" x="{x}" y="{y:.1f}" width="{column}" height="{bar:.1f}"'
                f' fill="{colour(tables.index(table))}"><title>version {rel.version}'
                f" ({h(rel.source)}): {h(table)}, {count} hooks</title></rect>"
            )
        total = sum(rel.hooks.values())
        out.append(
            f'<text class="total" x="{x + column / 2}" y="{y - 4:.1f}"'
            f' text-anchor="middle">{total}</text>'
        )
        label_y = 20 + height + 12
        out.append(
            f'<text class="axis" x="{x + column / 2}" y="{label_y}"'
            f' text-anchor="middle">{rel.version}</text>'
            f'<text class="source" transform="translate({x + column / 2 + 4},{label_y + 8})'
            f' rotate(50)">{h(rel.source.removesuffix(".pvspec"))}</text>'
        )
        if step is not None:
            if step.breaking:
                out.append(
                    f'<path class="breaking-mark" d="M{x + column / 2 - 6},{y - 28:.1f}'
                    f' h12 l-6,9 z"><title>breaking changes from version {step.old.version}'
                    + (", all accepted in accepted.toml" if step.breaking_accepted else "")
                    + "</title></path>"
                )
            out.append("</a>")
    out.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{colour(i)}"></i>{h(t)}</span>'
        for i, t in enumerate(tables)
    )
    return "".join(out) + f'<div class="legend">{legend}</div>'


def sim_chart(sim: SimTable) -> str:
    """One panel per workload, its own scale, a bar per backend with its relative cost."""
    bar, gap, left, height = 22, 8, 8, 160
    panel = left + len(sim.backends) * (bar + gap) + gap
    width = panel * len(sim.workloads)
    out = [
        f'<svg class="chart" id="sim-chart" role="img" width="{width}" height="{height + 70}"'
        f' viewBox="0 0 {width} {height + 70}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Simulated cycles per backend and workload</title>",
    ]
    for w_index, workload in enumerate(sim.workloads):
        x0 = w_index * panel
        top = max(sim.cycles[(workload, b)] for b in sim.backends) or 1
        out.append(
            f'<text class="axis" x="{x0 + panel / 2}" y="14" text-anchor="middle">'
            f"{h(workload)}</text>"
            f'<line class="grid" x1="{x0 + left}" x2="{x0 + panel - gap}" y1="{height + 30}"'
            f' y2="{height + 30}"/>'
        )
        for b_index, backend in enumerate(sim.backends):
            cycles = sim.cycles[(workload, backend)]
            relative = sim.relative[(workload, backend)]
            size = height * cycles / top
            x = x0 + left + gap + b_index * (bar + gap)
            y = height + 30 - size
            out.append(
                f'<rect class="bar" data-workload="{h(workload)}" data-backend="{h(backend)}"'
                f' data-cycles="{cycles}" x="{x}" y="{y:.1f}" width="{bar}" height="{size:.1f}"'
                f' fill="{colour(b_index)}"><title>{h(workload)} on {h(backend)}:'
                f" {cycles:,} cycles ({relative:.2f}x)</title></rect>"
                f'<text class="value" x="{x + bar / 2}" y="{y - 3:.1f}"'
                f' text-anchor="middle">{relative:.2f}</text>'
            )
    out.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{colour(i)}"></i>{h(b)}</span>'
        for i, b in enumerate(sim.backends)
    )
    return "".join(out) + f'<div class="legend">{legend}</div>'
