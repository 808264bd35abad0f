"""`pvgen doc`: the reference page of an ABI, as Markdown and as one HTML page.

The pages of a small spec are golden files (`make golden` rewrites them); hostile doc text
and annotation strings come out as text in both formats, never as markup: the Markdown is
rendered by a CommonMark parser (markdown-it-py, with GFM tables) and the HTML parsed by
html.parser, and neither holds a script, an image, a link that leaves the page or a
reference to any other file. The Linux history pages of docs/linux are current.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import PREAMBLE, ROOT, SPECS, run_cli
from markdown_it import MarkdownIt

from pvgen.api import document, load_abi
from pvgen.config import Config

HERE = Path(__file__).resolve().parent
SMALL = HERE / "doc" / "small.pvspec"
GOLDEN = HERE / "golden" / "doc"
LINUX_DOCS = ROOT / "docs" / "linux"
LINUX_SPECS = sorted((SPECS / "linux").glob("linux-*.pvspec"))


def markdown_to_html(text: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


class Page(HTMLParser):
    """Every start tag with its attributes, the ids, and the text outside style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.style: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.style if self._in_style else self.text).append(data)

    @property
    def ids(self) -> list[str]:
        return [a["id"] or "" for _, a in self.tags if "id" in a]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def assert_self_contained(page: Page, *, anchors_needed: bool = True) -> None:
    """No script, no embedded or linked resource, no link off the page, no event handler;
    every link goes to a heading of the page."""
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "base", "form"}
    ids = set(page.ids)
    for tag, attrs in page.tags:
        assert "src" not in attrs and "srcset" not in attrs, (tag, attrs)
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        if "href" in attrs:
            href = attrs["href"] or ""
            assert href.startswith("#"), (tag, attrs)
            if anchors_needed:
                assert href[1:] in ids, f"link to a missing anchor: {href}"
    style = "".join(page.style)
    assert "url(" not in style and "@import" not in style


# ---- golden pages ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, suffix", [("markdown", "md"), ("html", "html")])
def test_small_spec_matches_golden(fmt: str, suffix: str) -> None:
    text = document(load_abi(SMALL, Config(None)), fmt)
    golden = GOLDEN / f"small.{suffix}"
    if os.environ.get("PVGEN_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.read_text(encoding="utf-8") == text


def test_page_reports_every_fact_of_a_hook() -> None:
    """What the golden file shows, said in words: the facts of the issue, found on the page."""
    text = document(load_abi(SMALL, Config(None)), "markdown")
    section = text.split("#### `pv_mmu_ops.pin_page`")[1].split("####")[0]
    assert "void pin_page(struct mm_struct *mm, u32 pfn);" in section
    assert "Asks the hypervisor to pin a page table." in section
    assert "**Nullable:**" in section and "**No native implementation:**" in section
    assert "own implementation: `xen`; NULL: `native`, `kvm`" in section
    assert "**Patch ID:** `i386` 8, `x86_64` 9" in section
    deprecated = text.split("#### `pv_mmu_ops.flush_tlb_user`")[1].split("####")[0]
    assert (
        "**Deprecated:** since version 3; use [`pv_mmu_ops.write_cr3`](#pv_mmu_opswrite_cr3):"
        " no caller is left" in deprecated
    )
    conditional = text.split("#### `pv_mmu_ops.read_cr8`")[1].split("####")[0]
    assert "**Present on:** `x86_64` (`@if(X86_64)`)" in conditional
    patched = text.split("#### `pv_irq_ops.irq_disable`")[1].split("####")[0]
    assert "**Must be patched:** under `xen`" in patched
    assert "**Since:** version 2" in text.split("#### `pv_irq_ops.safe_halt`")[1]


def test_markdown_links_reach_the_headings_github_makes() -> None:
    """Rendered, every link of the Markdown page points at a heading of the page, by the
    anchor GitHub derives from the heading's text."""
    text = document(load_abi(SMALL, Config(None)), "markdown")
    rendered = markdown_to_html(text)
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", rendered)
    slugs: set[str] = set()
    for heading in headings:
        plain = re.sub(r"<[^>]+>", "", heading).lower()
        slug = re.sub(r"[^\w\- ]", "", plain, flags=re.ASCII).replace(" ", "-")
        n = 0
        while (slug if n == 0 else f"{slug}-{n}") in slugs:
            n += 1
        slugs.add(slug if n == 0 else f"{slug}-{n}")
    links = re.findall(r'href="#([^"]*)"', rendered)
    assert links and set(links) <= slugs


def test_html_page_is_self_contained() -> None:
    html = document(load_abi(SMALL, Config(None)), "html")
    page = parse(html)
    assert_self_contained(page)
    assert len(page.ids) == len(set(page.ids))
    csp = [
        a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    assert "void pin_page(struct mm_struct *mm, u32 pfn);" in "".join(page.text)


# ---- hostile text --------------------------------------------------------------------------

HOSTILE_DOC = [
    "<script>alert(1)</script> and <img src=x onerror=alert(2)>",
    "[click](javascript:alert(3)) ![pixel](https://tracker.example/p.png)",
    "<https://tracker.example/auto> &lt;entity&gt; &amp; **bold** _em_ ~~gone~~",
    "| a | b | breaks a table row, `code | pipe` too",
    "# not a heading",
    "- not a list item",
    "1. not an ordered list",
    "2) not one either",
    "> not a quote",
    "=== not a heading underline",
    "\x1b[31mred\x1b[0m and \u202eright-to-left",
    "</code></pre></p></dd><script>alert(4)</script>",
]
HOSTILE_STRING = "</code><script>alert(5)</script>`|<img src=y>\\x1b"


def shown_as(line: str) -> str:
    """A doc line as a reader sees it: its `code` spans (the one markup of doc text) as code."""
    return line.replace("`", "")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    doc = "\n".join(f"    /// {line}" for line in HOSTILE_DOC)
    spec = tmp_path / "hostile.pvspec"
    spec.write_text(
        PREAMBLE
        + "/// Interrupts.\n"
        + "table pv_irq_ops {\n"
        + doc
        + "\n"
        + f'    @patch(native = "{HOSTILE_STRING}")\n'
        + f'    @nullable @no_native(reason = "{HOSTILE_STRING}")\n'
        + "    void irq_disable();\n"
        + "}\n"
        + f"/// {HOSTILE_DOC[0]}\n"
        + "backend native default;\n",
        encoding="utf-8",
    )
    return spec


def test_hostile_text_is_text_in_markdown(hostile: Path) -> None:
    text = document(load_abi(hostile, Config(None)), "markdown")
    assert "\x1b" not in text and "\u202e" not in text
    rendered = markdown_to_html(text)
    page = parse(rendered)
    assert_self_contained(page, anchors_needed=False)
    tags = [tag for tag, _ in page.tags]
    # Only the page's own structure: no heading, quote, ordered list, emphasis or deletion
    # comes from the doc text.
    assert "blockquote" not in tags and "ol" not in tags and "em" not in tags and "del" not in tags
    assert tags.count("h4") == 1  # the hook's own heading
    shown = "".join(page.text)
    for line in HOSTILE_DOC[:10]:
        assert shown_as(line) in shown, line
    assert "\\x1b[31mred\\x1b[0m and \\u202eright-to-left" in shown
    # Every table kept its shape: each row has as many cells as the header.
    for table in rendered.split("<table>")[1:]:
        head, body = table.split("</table>")[0].split("</thead>")
        rows = body.split("<tr>")[1:]
        cells = len(re.findall("<th[ >]", head))
        assert rows and all(len(re.findall("<td[ >]", r)) == cells for r in rows), table


def test_hostile_text_is_text_in_html(hostile: Path) -> None:
    html = document(load_abi(hostile, Config(None)), "html")
    assert "\x1b" not in html and "\u202e" not in html
    page = parse(html)
    assert_self_contained(page)
    shown = "".join(page.text)
    for line in HOSTILE_DOC[:10]:
        assert shown_as(line) in shown, line
    assert HOSTILE_STRING.replace("\\x1b", "\\x1b") in shown.replace("\x1b", "")


# ---- the command ------------------------------------------------------------------------------


def test_cli_prints_markdown_and_writes_html_atomically(tmp_path: Path) -> None:
    printed = run_cli("doc", str(SMALL))
    assert printed.status == 0, printed.err
    assert printed.out == (GOLDEN / "small.md").read_text(encoding="utf-8")
    out = tmp_path / "site" / "small.html"
    written = run_cli("doc", str(SMALL), "--format", "html", "-o", str(out))
    assert written.status == 0, written.err
    assert out.read_text(encoding="utf-8") == (GOLDEN / "small.html").read_text(encoding="utf-8")
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".pvgen-tmp-")]
    before = out.stat().st_mtime_ns
    os.utime(out, ns=(before - 10**9, before - 10**9))
    again = run_cli("doc", str(SMALL), "--format", "html", "-o", str(out))
    assert again.status == 0 and out.stat().st_mtime_ns == before - 10**9  # left as it was


def test_cli_check_says_whether_the_file_is_current(tmp_path: Path) -> None:
    out = tmp_path / "small.md"
    assert run_cli("doc", str(SMALL), "-o", str(out), "--check").status == 1
    assert not out.exists()
    assert run_cli("doc", str(SMALL), "-o", str(out)).status == 0
    assert run_cli("doc", str(SMALL), "-o", str(out), "--check").status == 0
    out.write_text(out.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    stale = run_cli("doc", str(SMALL), "-o", str(out), "--check")
    assert stale.status == 1 and "not current" in stale.err
    assert run_cli("doc", str(SMALL), "--check").status == 2


def test_cli_refuses_bad_output_and_reports_spec_errors(tmp_path: Path) -> None:
    bad = run_cli("doc", str(SMALL), "-o", str(tmp_path / "a\x1bb.md"))
    assert bad.status == 2 and "control character" in bad.err
    assert "\x1b" not in bad.err
    folder = tmp_path / "folder.md"
    folder.mkdir()
    blocked = run_cli("doc", str(SMALL), "-o", str(folder))
    assert blocked.status == 2 and "cannot write" in blocked.err
    spec = tmp_path / "broken.pvspec"
    spec.write_text(PREAMBLE + "table t { void f() }\n", encoding="utf-8")
    broken = run_cli("doc", str(spec))
    assert broken.status == 1 and "broken.pvspec:4:20: error:" in broken.err
    assert broken.out == ""


# ---- the Linux history pages --------------------------------------------------------------------


def test_linux_history_pages_are_current() -> None:
    """docs/linux holds one page per release spec, as `make docs` writes them."""
    pages = sorted(p.name for p in LINUX_DOCS.glob("linux-*.md"))
    assert pages == [f"{s.stem}.md" for s in LINUX_SPECS]
    for spec in LINUX_SPECS:
        current = (LINUX_DOCS / f"{spec.stem}.md").read_text(encoding="utf-8")
        assert current == document(load_abi(spec, Config(None))), f"{spec.name}: run make docs"


def test_linux_history_index_links_every_page() -> None:
    index = (LINUX_DOCS / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((linux-[0-9.]+\.md)\)", index))
    assert linked == {f"{s.stem}.md" for s in LINUX_SPECS}
