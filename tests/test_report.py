"""`pvgen report` without a browser: the command's contract, its inputs and its escaping.

The page in a browser is tested in test_report_browser.py; here: where the page is written
and how (atomically, never through a link), the errors for bad inputs (exit status and
message), what the page holds for the shipped specs, and that nothing from a spec or a file
can end the page's script or become markup.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import PREAMBLE, SPECS, run_cli

from pvgen import api
from pvgen.escape import html_text, script_json
from pvgen.report.data import hooks_per_table

LINUX = SPECS / "linux"


def page_data(html: str) -> dict[str, Any]:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_report_writes_the_named_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "page.html"
    result = run_cli("report", str(SPECS / "paravirt.pvspec"), "-o", str(out))
    assert result.status == 0, result.err
    assert result.out == ""
    assert f"wrote {out}: 101 hooks, 5 backends, 3 targets, 2 releases" in result.err
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in html
    # Nothing is loaded: no src, no href but to anchors of the page, no url().
    assert not re.search(r"\bsrc=", html)
    assert set(re.findall(r'href="([^"]*)"', html)) <= {
        f"#{a}" for a in re.findall(r'id="([^"]*)"', html)
    }
    assert "url(" not in html and "@import" not in html
    data = page_data(html)
    assert len(data["matrix"]["hooks"]) == 101
    assert [b["name"] for b in data["matrix"]["backends"]] == [
        "native",
        "vmi",
        "xen",
        "lguest",
        "kvm",
    ]
    assert not list(tmp_path.glob("sub/.pvgen-tmp-*"))
    # Version 2 moved pv_mmu_ops' slots on purpose: marked breaking, and accepted.
    assert html.count('class="breaking-mark"') == 1
    assert "breaking changes from version 1, all accepted in accepted.toml" in html
    assert "accepted: Linux 2.6.26 added alloc_pud and release_pud" in html


def test_the_default_output_is_named_after_the_abi(tmp_path: Path) -> None:
    (tmp_path / "pvgen.toml").write_text(
        f'specs = ["{(LINUX / "linux-2.6.30.pvspec").as_posix()}"]\n', encoding="utf-8"
    )
    result = run_cli("report", cwd=tmp_path)
    assert result.status == 0, result.err
    assert (tmp_path / "linux_paravirt-report.html").is_file()
    # Written again in place; the old file is replaced atomically, its mode kept.
    (tmp_path / "linux_paravirt-report.html").chmod(0o640)
    assert run_cli("report", cwd=tmp_path).status == 0
    assert (tmp_path / "linux_paravirt-report.html").stat().st_mode & 0o777 == 0o640


def test_the_matrix_states_follow_the_model() -> None:
    """The codes the page draws from: the reference spec's xen copies whole tables (NULL
    where it lists nothing), vmi must patch iret, native is the default."""
    from pvgen.report.data import matrix

    abi = api.load_abi(SPECS / "paravirt.pvspec")
    data = matrix(abi)
    names = [b["name"] for b in data["backends"]]
    rows = {row[0]: row for row in data["hooks"]}
    iret = rows["pv_cpu_ops.iret"][6]
    assert iret[names.index("vmi")] == "M"
    assert iret[names.index("native")] == "D"
    assert rows["pv_cpu_ops.swapgs"][6][names.index("xen")] == "N"
    assert rows["pv_irq_ops.save_fl"][2].startswith("hc")  # hot, callee-save
    # xen runs only where the targets define X86_32 and X86_PAE.
    targets = [t["name"] for t in data["targets"]]
    assert [targets[i] for i in data["backends"][names.index("xen")]["runs"]] == ["i386_pae"]
    # A hook absent on a target has its bit clear: read_cr8 is 64-bit only.
    assert rows["pv_cpu_ops.read_cr8"][5] == "".join("1" if t == "x86_64" else "0" for t in targets)
    for slot in abi.hook_slots:
        bits = "".join("1" if abi.facts[t].holds(slot) else "0" for t in targets)
        assert rows[slot.path][5] == bits


def test_no_history_and_sim(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    sim = run_cli("sim", "--compare", "--format", "json", "--size", "2", "--workload", "fork")
    assert sim.status == 0
    (tmp_path / "sim.json").write_text(sim.out, encoding="utf-8")
    spec = str(SPECS / "paravirt.pvspec")
    result = run_cli(
        "report", spec, "-o", str(out), "--no-history", "--sim", str(tmp_path / "sim.json")
    )
    assert result.status == 0, result.err
    html = out.read_text(encoding="utf-8")
    assert 'id="timeline"' not in html and 'id="sim-chart"' in html
    assert html.count('class="bar"') == len(json.loads(sim.out)["backends"])


def test_the_linux_timeline_counts_every_release() -> None:
    """What the chart draws, from the dumps, is what each release's model reaches."""
    for dump_path in sorted((LINUX / "abi" / "linux_paravirt").glob("*.json")):
        dump = json.loads(dump_path.read_text())
        abi = api.load_abi(LINUX / dump["sources"][-1]["path"])
        expected = {t.name: sum(1 for _ in abi.hooks(t)) for t in abi.top_level_tables()}
        assert hooks_per_table(dump) == {t: n for t, n in expected.items() if n}
        assert sum(hooks_per_table(dump).values()) == api.count_hooks(abi)


# ---- bad input ----------------------------------------------------------------------------


def test_a_spec_with_errors_exits_1_with_its_place(write_specs: Any) -> None:
    root = write_specs({"bad.pvspec": PREAMBLE + "table t { void f(undeclared_t x); }\n"})
    result = run_cli("report", "bad.pvspec", "-o", "out.html", cwd=root)
    assert result.status == 1
    assert re.search(r"bad\.pvspec:4:\d+: error", result.err), result.err
    assert not (root / "out.html").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read 'sim.json'"),
        ('{"format": 1}', "is not the JSON of 'pvgen sim --compare --format json'"),
        ('{"format": 9, "workloads": {}}', "its format is 9; this pvgen reads format 1"),
        (
            '{"format": 1, "backends": ["a"], "workloads": {"w": {"a": {"cycles": "x"}}}}',
            "workload 'w' has no cycles of 'a'",
        ),
    ],
)
def test_a_bad_sim_file_exits_2(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "sim.json").write_text(content, encoding="utf-8")
    spec = str(SPECS / "paravirt.pvspec")
    result = run_cli("report", spec, "--sim", "sim.json", "-o", "out.html", cwd=tmp_path)
    assert result.status == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "out.html").exists()


def test_a_missing_sim_file_exits_2(tmp_path: Path) -> None:
    spec = str(SPECS / "paravirt.pvspec")
    result = run_cli("report", spec, "--sim", "nothing.json", "-o", "o.html", cwd=tmp_path)
    assert result.status == 2
    assert "nothing.json" in result.err


def test_an_edited_frozen_dump_is_refused(write_specs: Any) -> None:
    spec = PREAMBLE + "/// Ops.\ntable t {\n    /// F.\n    void f();\n}\nbackend native default;\n"
    root = write_specs({"a.pvspec": spec})
    assert run_cli("freeze", "a.pvspec", cwd=root).status == 0
    frozen = root / "abi" / "demo" / "1.json"
    frozen.write_text(frozen.read_text().replace('"f"', '"g"'))
    result = run_cli("report", "a.pvspec", "-o", "o.html", cwd=root)
    assert result.status == 2
    assert "was edited by hand" in result.err


def test_the_output_is_never_written_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (tmp_path / "out.html").symlink_to(victim)
    spec = str(SPECS / "paravirt.pvspec")
    result = run_cli("report", spec, "-o", "out.html", cwd=tmp_path)
    assert result.status == 2
    assert "refusing to write 'out.html'" in result.err
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert (tmp_path / "out.html").is_symlink()
    os.mkdir(tmp_path / "folder.html")
    assert run_cli("report", spec, "-o", "folder.html", cwd=tmp_path).status == 2


def test_control_characters_in_the_output_name_are_refused(tmp_path: Path) -> None:
    result = run_cli("report", str(SPECS / "paravirt.pvspec"), "-o", "a\x1b[2Jb.html", cwd=tmp_path)
    assert result.status == 2
    assert "\\x1b" in result.err and "\x1b" not in result.err
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_output_exits_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    result = run_cli("report", str(SPECS / "paravirt.pvspec"), "-o", "file/x.html", cwd=tmp_path)
    assert result.status == 2
    assert "cannot write 'file/x.html'" in result.err


def test_a_bad_accepted_toml_exits_2(write_specs: Any) -> None:
    spec = PREAMBLE + "/// Ops.\ntable t {\n    /// F.\n    void f();\n}\nbackend native default;\n"
    root = write_specs({"a.pvspec": spec})
    assert run_cli("freeze", "a.pvspec", cwd=root).status == 0
    (root / "a.pvspec").write_text(spec.replace("version 1", "version 2"))
    assert run_cli("freeze", "a.pvspec", cwd=root).status == 0
    (root / "abi" / "demo" / "accepted.toml").write_text("[[accept]\n", encoding="utf-8")
    result = run_cli("report", "a.pvspec", "-o", "o.html", cwd=root)
    assert result.status == 2
    assert "accepted.toml" in result.err and "Traceback" not in result.err
    assert not (root / "o.html").exists()


def test_two_specs_are_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pvgen.toml").write_text('specs = ["a.pvspec", "b.pvspec"]\n', encoding="utf-8")
    result = run_cli("report", cwd=tmp_path)
    assert result.status == 2
    assert "name the one spec to report on" in result.err


# ---- escaping -----------------------------------------------------------------------------

HOSTILE = "</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)> \u2028\u2029 & \"'"


def test_html_text_leaves_no_markup() -> None:
    text = html_text(HOSTILE + "\u202e\x1b\n\t", keep_lines=True)
    assert not set(text) & set("<>\"'")
    assert "&lt;/script&gt;" in text and "&amp;" in text and "&quot;" in text and "&#39;" in text
    assert "\\u202e" in text and "\\x1b" in text and "\\u2028" in text
    assert text.endswith("\n\t")


def test_script_json_cannot_end_the_script_and_round_trips() -> None:
    value = {"a": [HOSTILE, "\udcff"], HOSTILE: 1}
    text = script_json(value)
    for bad in ("</", "<!--", "<script", "\u2028", "\u2029", "<", ">", "&"):
        assert bad not in text
    assert json.loads(text) == value
    text.encode("utf-8")  # the lone surrogate is escaped, not written


def test_a_hostile_spec_cannot_reach_the_page_as_markup(write_specs: Any) -> None:
    doc = HOSTILE.replace("\u2028", "").replace("\u2029", "")
    spec = f"""/// {doc}
abi hostile {{ version 1; }}
/// {doc}
target x86_64 {{ data_model lp64; }}
/// {doc}
table ops {{
    /// {doc}
    void f();
}}
/// {doc}
backend native default;
"""
    name = "<b>&'.pvspec"
    root = write_specs({name: spec})
    assert run_cli("freeze", name, cwd=root).status == 0
    result = run_cli("report", name, "-o", "out.html", cwd=root)
    assert result.status == 0, result.err
    html = (root / "out.html").read_text(encoding="utf-8")
    assert html.count("<script") == 2 and html.count("</script>") == 2
    for bad in ("<img", "<!--", "<b>", "alert(1)</script>", "\u2028"):
        assert bad not in html
    assert page_data(html)["matrix"]["hooks"][0][3] == doc
    assert "&lt;b&gt;&amp;&#39;.pvspec" in html  # the file name, in the timeline
