"""How long the page of `pvgen report` takes in a browser: `python bench/report_render.py`.

For synthetic specs of 1,000 and 10,000 hooks (bench/synth.py: tables of 100, ten
backends and the default) and the reference spec, it writes the report with a real
`pvgen report` process (timed), then opens the page from file:// in headless Chromium
(Debian's `/usr/bin/chromium`, driven by Playwright) several times, each in a fresh
context, and reads the browser's own clock (`performance.now()`, from the start of the
navigation): when the page's script had drawn the matrix and the layouts and the browser
had laid them out, when DOMContentLoaded ended (the page parsed, its script run), and when
the next frame after that was painted. It prints the median of each; the target is a page usable
within 2 s at 10,000 hooks (the "painted" figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "report"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

# The tests' Chromium, launch flags and wait for a painted page.
from browser import CHROMIUM, FLAGS, PAINTED  # noqa: E402
from synth import synth_spec  # noqa: E402

TIMING = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return [window.pvgenReport.ready, nav.domContentLoadedEventEnd, window.pvgenReport.painted];
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads per spec (default: 5)")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    WORK.mkdir(parents=True, exist_ok=True)
    specs = [("reference spec", ROOT / "specs" / "paravirt.pvspec")]
    for hooks in (1_000, 10_000):
        path = WORK / f"synth-{hooks}.pvspec"
        path.write_text(synth_spec(hooks), encoding="utf-8")
        specs.append((f"{hooks:,} hooks", path))
    pvgen = [sys.executable, "-m", "pvgen"]
    env = dict(os.environ, PVGEN_NO_CACHE="1")
    print(f"{'spec':<16}{'pvgen report':>14}{'page':>10}{'drawn':>10}{'loaded':>10}{'painted':>10}")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=args.chromium, args=FLAGS)
        for name, spec in specs:
            page_file = WORK / f"{spec.stem}.html"
            start = time.perf_counter()
            subprocess.run(
                [*pvgen, "report", str(spec), "-o", str(page_file)],
                env=env,
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
            written = time.perf_counter() - start
            timings = []
            for _ in range(args.runs + 1):  # the first is a warm-up
                context = browser.new_context(viewport={"width": 1300, "height": 900})
                page = context.new_page()
                page.goto(page_file.as_uri())
                page.wait_for_function(PAINTED)
                timings.append(page.evaluate(TIMING))
                context.close()
            drawn, loaded, painted = (
                statistics.median(t[i] for t in timings[1:]) for i in range(3)
            )
            size = page_file.stat().st_size / 1e6
            print(
                f"{name:<16}{written * 1000:>11.0f} ms{size:>7.1f} MB{drawn:>7.0f} ms"
                f"{loaded:>7.0f} ms{painted:>7.0f} ms"
            )
        browser.close()


if __name__ == "__main__":
    main()
