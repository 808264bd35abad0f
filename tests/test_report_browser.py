"""`pvgen report` in a real browser: headless Debian Chromium driven by Playwright.

Each page is opened from file:// with every request recorded (and any but the page's own
aborted); it must load with no console error, no uncaught error and no other request. The
matrix must have one row per hook of the model and one column per backend, and every cell
the state the model gives, on every target; filtering and sorting are driven through the
page's own controls; the charts must have one bar per release and table (counted from the
model of each release) and per workload and backend (from the sim's JSON). Screenshots of
every section go to tests/.artifacts/report/ for review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Visit, browser, open_page, screenshot
from conftest import ROOT, SPECS, run_cli

from pvgen import api
from pvgen.model import Abi, HookSlot, Source

LINUX = SPECS / "linux"
REFERENCE = SPECS / "paravirt.pvspec"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def sim_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real comparison of the simulated guest, small enough to be quick."""
    out = tmp_path_factory.mktemp("sim") / "sim.json"
    result = run_cli("sim", "--compare", "--format", "json", "--size", "4")
    assert result.status == 0, result.err
    out.write_text(result.out, encoding="utf-8")
    return out


def report(spec: Path, out: Path, *extra: str) -> Path:
    result = run_cli("report", str(spec), "-o", str(out), *extra)
    assert result.status == 0, result.err
    return out


def assert_clean(visit: Visit, page: Path) -> None:
    assert visit.errors == []
    assert visit.console_errors() == []
    url = page.resolve().as_uri()
    assert visit.requests == [url]
    assert set(visit.routed) <= {url}


# ---- the state the model gives each cell ---------------------------------------------------


def expected_state(abi: Abi, slot: HookSlot, backend_index: int, target: str) -> str:
    backend = abi.backends[backend_index]
    by_name = {t.name: t for t in abi.targets}
    if not abi.facts[target].holds(slot):
        return "A"
    if not backend.runs_on(by_name[target]):
        return "X"
    source = abi.source(backend, slot)
    if source is Source.NULL:
        return "N"
    if backend.default:
        return "D"
    if source is Source.DEFAULT:
        return "F"
    return "M" if slot.path in {o.path for o in backend.must_patch} else "O"


def cell_states(visit: Visit) -> list[list[str]]:
    """The state code of every cell of the matrix, rows in page order."""
    states: list[list[str]] = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#matrix-table .mbody .mrow')).map(
            row => Array.from(row.querySelectorAll('.cell')).map(
                cell => cell.className.match(/s-(\\w)/)[1]))"""
    )
    return states


def visible_paths(visit: Visit) -> list[str]:
    paths: list[str] = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#matrix-table .mbody .mrow'))
            .filter(row => !row.hidden).map(row => row.querySelector('code').textContent)"""
    )
    return paths


def choose_target(visit: Visit, abi: Abi, target: str) -> None:
    visit.page.select_option("#target", str(list(abi.facts).index(target)))


# ---- loading --------------------------------------------------------------------------------


def test_the_request_recorder_sees_what_a_page_fetches(chromium: Any, tmp_path: Path) -> None:
    """The harness itself: a page that does load something is caught doing it."""
    page = tmp_path / "fetches.html"
    page.write_text(
        '<!DOCTYPE html><img src="http://example.invalid/x.png"><script>'
        "window.pvgenReport = {painted: 1}; console.error('seen');</script>",
        encoding="utf-8",
    )
    visit = open_page(chromium, page)
    visit.page.wait_for_timeout(200)
    assert "http://example.invalid/x.png" in visit.requests
    assert "http://example.invalid/x.png" in visit.routed  # and aborted
    assert visit.console_errors()


@pytest.mark.parametrize("spec", [REFERENCE, LINUX / "linux-6.19.pvspec"], ids=lambda p: p.stem)
def test_the_page_loads_offline_without_errors(
    chromium: Any, tmp_path: Path, sim_json: Path, spec: Path
) -> None:
    page = report(spec, tmp_path / "report.html", "--sim", str(sim_json))
    visit = open_page(chromium, page)
    assert_clean(visit, page)
    name = spec.stem
    screenshot(visit, "header", f"{name}-header")
    screenshot(visit, "#matrix", f"{name}-matrix")
    screenshot(visit, "#layout", f"{name}-layout")
    screenshot(visit, "#timeline .overflow", f"{name}-timeline")
    screenshot(visit, "#steps-table", f"{name}-steps")
    screenshot(visit, "#sim", f"{name}-sim")


# ---- the matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [REFERENCE, LINUX / "linux-6.19.pvspec", LINUX / "linux-2.6.26.pvspec"],
    ids=lambda p: p.stem,
)
def test_the_matrix_is_the_model_on_every_target(chromium: Any, tmp_path: Path, spec: Path) -> None:
    abi = api.load_abi(spec)
    page = report(spec, tmp_path / "report.html", "--no-history")
    visit = open_page(chromium, page)
    headers = visit.page.locator("#matrix-table .mhead [role=columnheader]").all_inner_texts()
    assert len(headers) == 1 + len(abi.backends)
    assert [h.removesuffix(" (default)") for h in headers[1:]] == [b.name for b in abi.backends]
    assert visit.page.locator("#matrix-table .mbody [role=row]").count() == len(abi.hook_slots)
    assert visible_paths(visit) == [s.path for s in abi.hook_slots]
    for target in abi.facts:
        choose_target(visit, abi, target)
        states = cell_states(visit)
        assert len(states) == len(abi.hook_slots)
        expected = [
            [expected_state(abi, slot, b, target) for b in range(len(abi.backends))]
            for slot in abi.hook_slots
        ]
        assert states == expected, target
    assert_clean(visit, page)


def test_hot_and_callee_save_hooks_are_marked(chromium: Any, tmp_path: Path) -> None:
    abi = api.load_abi(REFERENCE)
    page = report(REFERENCE, tmp_path / "report.html", "--no-history")
    visit = open_page(chromium, page)
    marked = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#matrix-table .mbody .mrow')).map(
            row => [row.querySelector('code').textContent, !!row.querySelector('.f-h'),
                    !!row.querySelector('.f-c')])"""
    )
    expected = [[s.path, s.hook.hot, s.hook.callee_save] for s in abi.hook_slots]
    assert marked == expected
    assert any(hot for _, hot, _ in marked) and any(cs for _, _, cs in marked)


def test_filtering_by_text_state_and_mark(chromium: Any, tmp_path: Path) -> None:
    abi = api.load_abi(REFERENCE)
    page = report(REFERENCE, tmp_path / "report.html", "--no-history")
    visit = open_page(chromium, page)
    paths = [s.path for s in abi.hook_slots]

    visit.page.fill("#filter", "PTE")
    wanted = [p for p in paths if "pte" in p.lower()]
    assert 0 < len(wanted) < len(paths)
    assert visible_paths(visit) == wanted
    assert visit.page.inner_text("#shown") == f"{len(wanted)} of {len(paths)} hooks shown"

    visit.page.fill("#filter", "")
    assert visible_paths(visit) == paths

    # NULL under some backend that runs on i386_pae (xen copies whole tables there).
    choose_target(visit, abi, "i386_pae")
    visit.page.select_option("#state-filter", "N")
    nulls = [
        s.path
        for s in abi.hook_slots
        if any(expected_state(abi, s, b, "i386_pae") == "N" for b in range(len(abi.backends)))
    ]
    assert 0 < len(nulls) < len(paths)
    assert visible_paths(visit) == nulls

    visit.page.select_option("#state-filter", "")
    visit.page.select_option("#flag-filter", "h")
    assert visible_paths(visit) == [s.path for s in abi.hook_slots if s.hook.hot]
    visit.page.select_option("#flag-filter", "c")
    visit.page.fill("#filter", "irq")
    assert visible_paths(visit) == [
        s.path for s in abi.hook_slots if s.hook.callee_save and "irq" in s.path
    ]
    assert_clean(visit, page)


def test_sorting_by_hook_and_by_backend(chromium: Any, tmp_path: Path) -> None:
    abi = api.load_abi(REFERENCE)
    page = report(REFERENCE, tmp_path / "report.html", "--no-history")
    visit = open_page(chromium, page)
    paths = [s.path for s in abi.hook_slots]
    header = visit.page.locator("#matrix-table .mhead [role=columnheader]")

    header.nth(0).click()
    assert visible_paths(visit) == sorted(paths)
    assert header.nth(0).get_attribute("aria-sort") == "ascending"
    header.nth(0).click()
    assert visible_paths(visit) == sorted(paths, reverse=True)

    # By kvm's column, overridden first, then the fallbacks; spec order within each.
    kvm = [b.name for b in abi.backends].index("kvm")
    header.nth(1 + kvm).click()
    rank = {"O": 0, "M": 1, "N": 2, "F": 3, "D": 4, "X": 5, "A": 6}
    target = next(iter(abi.facts))
    order = sorted(
        range(len(paths)),
        key=lambda i: (rank[expected_state(abi, abi.hook_slots[i], kvm, target)], i),
    )
    assert visible_paths(visit) == [paths[i] for i in order]
    column = [row[kvm] for row in cell_states(visit)]
    assert column == sorted(column, key=rank.__getitem__)
    assert len(set(column)) > 1
    assert_clean(visit, page)


# ---- the layouts --------------------------------------------------------------------------


def test_the_layouts_are_the_target_facts(chromium: Any, tmp_path: Path) -> None:
    abi = api.load_abi(REFERENCE)
    page = report(REFERENCE, tmp_path / "report.html", "--no-history")
    visit = open_page(chromium, page)
    for target, facts in abi.facts.items():
        choose_target(visit, abi, target)
        tables = visit.page.evaluate(
            """() => Array.from(document.querySelectorAll('#layout details.layout-table')).map(
                d => [d.querySelector('summary code').textContent,
                      Array.from(d.querySelectorAll('tbody tr')).map(
                        tr => Array.from(tr.cells).map(td => td.textContent))])"""
        )
        assert [name for name, _ in tables] == list(facts.aggregate.offsets)
        rows = [(name, row) for name, table_rows in tables for row in table_rows]
        assert len(rows) == len(facts.slots)
        for slot, (table, row) in zip(facts.slots, rows, strict=True):
            assert table == slot.top.name
            assert row[0] == ".".join(slot.names)
            assert int(row[5]) == facts.slot_offsets[slot.path]
            patch_id = facts.patch_ids.get(slot.path)
            assert row[7] == ("\u2014" if patch_id is None else str(patch_id))
            if isinstance(slot, HookSlot):
                assert int(row[6]) == facts.layout.pointer_size
    assert_clean(visit, page)


# ---- the charts ---------------------------------------------------------------------------


def test_the_linux_timeline_has_a_bar_per_release_and_table(chromium: Any, tmp_path: Path) -> None:
    """2.6.20 to 6.19: each bar is one top-level table of one release, as tall as the hooks
    that release's model reaches from it."""
    folder = LINUX / "abi" / "linux_paravirt"
    dumps = sorted(folder.glob("*.json"), key=lambda p: int(p.stem))
    assert len(dumps) == 26
    specs = {
        json.loads(p.read_text())["abi"]["version"]: LINUX
        / json.loads(p.read_text())["sources"][-1]["path"]
        for p in dumps
    }
    expected = []
    for version, spec in sorted(specs.items()):
        abi = api.load_abi(spec)
        for table in abi.top_level_tables():
            count = sum(1 for _ in abi.hooks(table))
            if count:
                expected.append([str(version), table.name, str(count)])
    page = report(LINUX / "linux-6.19.pvspec", tmp_path / "report.html")
    visit = open_page(chromium, page)
    bars = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#timeline-chart rect.bar')).map(
            r => [r.dataset.release, r.dataset.table, r.dataset.hooks])"""
    )
    assert bars == expected
    # The marks are the steps whose diff breaks, as `pvgen diff` judges them.
    breaking = []
    for old, new in zip(dumps, dumps[1:], strict=False):
        changes = api.diff(str(old), str(new)).changes
        if any(str(c.change_class) == "breaking" for c in changes):
            breaking.append(f"diff-{old.stem}-{new.stem}")
    marks = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#timeline-chart .breaking-mark')).map(
            m => m.closest('a').getAttribute('href').slice(1))"""
    )
    assert marks == breaking and 0 < len(breaking) < 25
    # Every release after the first links to its diff's list, which exists.
    links = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#timeline-chart a')).map(
            a => [a.getAttribute('href'), !!document.getElementById(a.getAttribute('href').slice(1))])"""
    )
    assert [href for href, _ in links] == [
        f"#diff-{a.stem}-{b.stem}" for a, b in zip(dumps, dumps[1:], strict=False)
    ]
    assert all(exists for _, exists in links)
    visit.page.locator("#timeline-chart a").nth(7).locator("rect").first.click()
    assert visit.page.evaluate("location.hash") == "#diff-8-9"
    assert_clean(visit, page)


def test_the_sim_chart_has_a_bar_per_workload_and_backend(
    chromium: Any, tmp_path: Path, sim_json: Path
) -> None:
    document = json.loads(sim_json.read_text())
    page = report(REFERENCE, tmp_path / "report.html", "--no-history", "--sim", str(sim_json))
    visit = open_page(chromium, page)
    bars = visit.page.evaluate(
        """() => Array.from(document.querySelectorAll('#sim-chart rect.bar')).map(
            r => [r.dataset.workload, r.dataset.backend, +r.dataset.cycles])"""
    )
    expected = [
        [workload, backend, document["workloads"][workload][backend]["cycles"]]
        for workload in document["workloads"]
        for backend in document["backends"]
    ]
    assert bars == expected
    assert len(bars) == len(document["workloads"]) * len(document["backends"]) >= 12
    assert_clean(visit, page)


# ---- hostile input ------------------------------------------------------------------------

HOSTILE = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><!-- \u2028 \u202e & "q\''


def test_hostile_names_and_docs_stay_text(
    chromium: Any, tmp_path: Path, sim_json: Path, write_specs: Any
) -> None:
    """Docs, file names and sim names that try to be markup are shown as the text they are:
    nothing runs, nothing loads, no element is made of them."""
    doc = HOSTILE.replace("\u2028", " ")
    spec_name = 'x<img src=y onerror="window.pwned=3">&.pvspec'
    text = f"""/// {doc}
abi hostile {{ version 1; }}
/// {doc}
target x86_64 {{ data_model lp64; }}
/// {doc}
table ops {{
    /// {doc}
    @patch(native = "{HOSTILE.replace('"', "'").replace(chr(0x2028), "")}")
    void hook_a();
    void hook_b();
}}
backend native default;
/// {doc}
backend other {{ ops: hook_a; }}
"""
    root = write_specs({spec_name: text})
    frozen = run_cli("freeze", spec_name, cwd=root)
    assert frozen.status == 0, frozen.err
    (root / spec_name).write_text(
        text.replace("abi hostile { version 1; }", "abi hostile { version 2; }").replace(
            "    void hook_b();\n", "    void hook_b();\n    @since(2) void hook_c();\n"
        )
    )
    frozen = run_cli("freeze", spec_name, cwd=root)
    assert frozen.status == 0, frozen.err
    sim = json.loads(sim_json.read_text())
    evil = HOSTILE
    sim["backends"] = [evil if b == "xen" else b for b in sim["backends"]]
    for row in sim["workloads"].values():
        row[evil] = row.pop("xen")
    sim["workloads"][evil] = sim["workloads"].pop(next(iter(sim["workloads"])))
    (root / "sim.json").write_text(json.dumps(sim))
    page = report(root / spec_name, tmp_path / "report.html", "--sim", str(root / "sim.json"))
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 2 and html.count("</script>") == 2
    assert "<img" not in html and "<!--" not in html and "\u2028" not in html
    assert "\u202e" not in html

    visit = open_page(chromium, page)
    assert_clean(visit, page)
    assert visit.page.evaluate("window.pwned") is None
    assert visit.page.locator("img").count() == 0
    # The texts are there, as text: in the doc, a tooltip, the timeline and the sim chart.
    shown = visit.page.inner_text("header .doc")
    assert "</script><script>window.pwned = 1</script>" in shown and "\\u202e" in shown
    tip = visit.page.locator("#matrix-table .mbody [role=rowheader]").first.get_attribute("title")
    assert tip is not None and 'onerror="window.pwned = 2"' in tip
    assert visit.page.locator(
        "#timeline-chart text.source"
    ).first.text_content() == spec_name.removesuffix(".pvspec")
    backends = visit.page.evaluate(
        "() => Array.from(document.querySelectorAll('#sim-chart rect.bar')).map(r => r.dataset.backend)"
    )
    assert HOSTILE.replace("\u202e", "\\u202e").replace("\u2028", "\\u2028") in backends
    screenshot(visit, "body", "hostile")


# ---- size ---------------------------------------------------------------------------------


def test_ten_thousand_hooks_render(chromium: Any, tmp_path: Path) -> None:
    """The synthetic 10,000-hook spec of the benchmarks: every row is there and a filter
    works; the time it takes is measured by bench/report_render.py, not asserted here."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from synth import synth_spec

    spec = tmp_path / "synth.pvspec"
    spec.write_text(synth_spec(10_000), encoding="utf-8")
    abi = api.load_abi(spec)
    page = report(spec, tmp_path / "report.html")
    visit = open_page(chromium, page)
    assert visit.page.locator("#matrix-table .mbody [role=row]").count() == len(abi.hook_slots)
    assert len(abi.hook_slots) >= 10_000
    visit.page.fill("#filter", "hook_0042_")
    assert visible_paths(visit) == [s.path for s in abi.hook_slots if "hook_0042_" in s.path]
    # The layout of such a target opens table by table.
    first = visit.page.locator("#layout details.layout-table").first
    assert first.locator("tbody tr").count() == 0
    first.locator("summary").click()
    rows = len([s for s in abi.facts["i386"].slots if s.top.name == "ops_0000"])
    visit.page.wait_for_function(
        f"() => document.querySelector('#layout details.layout-table tbody').rows.length"
        f" === {rows}"
    )
    assert_clean(visit, page)
    assert re.fullmatch(r"\d+ of \d+ hooks shown", visit.page.inner_text("#shown"))
