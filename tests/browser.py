"""Headless Chromium for the tests of `pvgen report`: Debian's `chromium`, driven by Playwright.

Playwright drives the system browser (`/usr/bin/chromium`, never a browser of its own: it
is never installed with `playwright install`) over the DevTools protocol, which lets a test
see every request the page makes (and abort it), every console message and every uncaught
error. `.ci/run` installs the `chromium` package; outside CI, where it may be missing, the
tests that need it are skipped with the reason, and in CI (`CI` set) they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PVGEN_CHROMIUM", "/usr/bin/chromium")
# The flags that work on a CI machine without a display, a GPU or a network.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / ".artifacts" / "report"
# Waits are written as functions: Playwright evaluates a bare expression with eval() in the
# page, which the report's content security policy forbids (an intermittent EvalError).
PAINTED = "() => window.pvgenReport && window.pvgenReport.painted !== null"


def require_browser() -> None:
    """Skip (or, in CI, fail) the test when the browser or its driver is missing."""
    problems = []
    if shutil.which(CHROMIUM) is None:
        problems.append(f"{CHROMIUM} is not installed (Debian package 'chromium')")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package 'playwright' is not installed (pvgen's dev extras)")
    if problems:
        message = "; ".join(problems) + ": .ci/run installs both"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Visit:
    """One page opened from a file: what it asked for and what it said."""

    page: Any  # playwright.sync_api.Page
    requests: list[str] = field(default_factory=list)  # every request the page made
    routed: list[str] = field(default_factory=list)  # those that reached the interception
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "warning")]


@contextmanager
def browser() -> Iterator[Any]:
    """A fresh headless Chromium (Playwright gives it a new, empty profile of its own)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(chromium: Any, path: Path, *, width: int = 1300, height: int = 900) -> Visit:
    """Open `path` (file://) in a new context whose every request is recorded; any request
    but the page itself is aborted. Returns once the page's script has drawn it."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    visit = Visit(page)
    url = path.resolve().as_uri()

    def route(request_route: Any) -> None:
        visit.routed.append(request_route.request.url)
        if request_route.request.url == url:
            request_route.continue_()
        else:
            request_route.abort()

    context.route("**/*", route)
    page.on("console", lambda message: visit.console.append((message.type, message.text)))
    page.on("pageerror", lambda exc: visit.errors.append(str(exc)))
    page.on("request", lambda request: visit.requests.append(request.url))
    page.goto(url)
    page.wait_for_function(PAINTED)
    return visit


def screenshot(visit: Visit, selector: str, name: str) -> Path:
    """A screenshot of the element `selector` under tests/.artifacts/report/, for review."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    visit.page.locator(selector).first.screenshot(path=str(out))
    assert out.stat().st_size > 1000
    return out
