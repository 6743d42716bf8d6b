"""Open report pages in headless Chromium, as a person would, and say what happened.

Debian's `chromium` (/usr/bin/chromium) driven by Playwright's Python API: no browser is downloaded
(`playwright install` is never run). Every request the page makes is recorded and only the page's
own file:// URL is let through; console errors and page errors are collected; a screenshot can be
taken. `.ci/run` installs the browser; without it (or without the playwright package) the tests
that need it fail, saying what to install."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("DLGRADE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--no-default-browser-check",
               "--disable-sync", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
               "--disable-features=Translate,OptimizationHints,MediaRouter"]


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright; no `playwright install`)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@dataclass
class PageVisit:
    """What one page did when it was opened."""

    url: str
    lang: str = ""
    dir: str = ""
    title: str = ""
    requests: list[str] = field(default_factory=list)      # every URL the page asked for
    blocked: list[str] = field(default_factory=list)       # the ones refused (not the page itself)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)   # CSS selector -> number of elements
    values: dict[str, object] = field(default_factory=dict)  # JS expression -> value
    screenshot: Path | None = None


class Browser:
    """One headless Chromium for a test session: `with Browser() as b: b.visit(path, ...)`."""

    def __init__(self, viewport: tuple[int, int] = (1100, 900)):
        self.viewport = viewport
        self._pw = None
        self._browser = None

    def __enter__(self) -> "Browser":
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        except BaseException:
            self._pw.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._pw is not None:
                self._pw.stop()

    def visit(self, path: Path | str, *, count: tuple[str, ...] = (), evaluate: tuple[str, ...] = (),
              screenshot: Path | str | None = None, full_page: bool = True) -> PageVisit:
        """Open a local file; record requests (letting through only the file itself), console and
        page errors, element counts for `count` selectors, values of `evaluate` expressions, and
        take a screenshot if asked."""
        url = Path(path).resolve().as_uri()
        visit = PageVisit(url=url)
        context = self._browser.new_context(viewport={"width": self.viewport[0], "height": self.viewport[1]},
                                            java_script_enabled=True, offline=True)
        try:
            page = context.new_page()

            def route(r):
                asked = r.request.url
                if asked == url:
                    r.continue_()
                else:
                    visit.blocked.append(asked)
                    r.abort()

            context.route("**/*", route)
            page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
            page.on("request", lambda r: visit.requests.append(r.url))
            page.goto(url, wait_until="load")
            page.evaluate("document.fonts.ready.then(() => true)")
            visit.lang = page.evaluate("document.documentElement.lang")
            visit.dir = page.evaluate("document.documentElement.dir")
            visit.title = page.title()
            for selector in count:
                visit.counts[selector] = page.locator(selector).count()
            for expression in evaluate:
                visit.values[expression] = page.evaluate(expression)
            if screenshot is not None:
                target = Path(screenshot)
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target), full_page=full_page)
                visit.screenshot = target
        finally:
            context.close()
        return visit
