"""The report: one self-contained HTML page picturing an ABI (`pvgen report`).

Takes: a `model.Abi`, the frozen dumps of its releases with the changes between each two
in a row, and optionally the JSON of `pvgen sim --compare --format json`.
Hands on: the page's text (`build_page`): the backend-by-hook matrix per target, each
target's table layouts, the release timeline with its changes by class, and the simulated
cycles; `data.py` gathers what it shows, `charts.py` draws the SVG, `page.py` writes the
HTML, and `assets/` holds its style and script.
"""

from __future__ import annotations

from .data import Release, ReportError, SimTable, Step, release, sim_table, steps
from .page import build_page

__all__ = [
    "Release",
    "ReportError",
    "SimTable",
    "Step",
    "build_page",
    "release",
    "sim_table",
    "steps",
]
