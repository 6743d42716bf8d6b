"""The server's web pages as a person reaches them, for the tests: a real uvicorn server on a free
loopback port (in a thread of the test process), and headless Chromium (Debian's, through
Playwright, as tests/browser.py) whose every request is checked: only the server's own origin is
let through; anything else is refused and recorded, as are console errors and page errors."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass, field

from browser import CHROMIUM, LAUNCH_ARGS, unavailable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """`with ThreadServer(app) as base:` serves the ASGI `app` with uvicorn on 127.0.0.1 until the
    block ends; `base` is its URL (http://127.0.0.1:PORT)."""

    def __init__(self, app):
        import uvicorn
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    @property
    def base(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        end = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > end:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self.base

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Visitor:
    """One person's browser context: their cookies, and what their pages did."""

    base: str
    context: object
    off_server: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    page: object = None

    def open(self, path: str):
        """Open `path` of the server in this visitor's tab; returns the response."""
        return self.page.goto(self.base + path, wait_until="load")

    def sign_in(self, token: str, lang: str | None = None):
        """Sign in through the login form, as a person would; returns the page's URL path after."""
        self.open("/login" + (f"?lang={lang}" if lang else ""))
        self.page.fill("input[name=token]", token)
        with self.page.expect_navigation(wait_until="load"):
            self.page.click("form.login button[type=submit]")
        return self.path()

    def path(self) -> str:
        """The path (and query) of the page the tab shows."""
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def text(self, selector: str = "body") -> str:
        """The visible text of the first element `selector` matches."""
        return self.page.inner_text(selector)

    def cookies(self) -> dict[str, dict]:
        """The context's cookies by name."""
        return {c["name"]: c for c in self.context.cookies()}

    def problems(self) -> list[str]:
        """Everything that should not have happened: requests off the server, console and page errors."""
        return ([f"off-server request {u}" for u in self.off_server] + [f"console: {m}" for m in self.console_errors]
                + [f"page error: {m}" for m in self.page_errors])


class Web:
    """`with Web() as web: v = web.visitor(base)`: one headless Chromium for a test module."""

    def __enter__(self) -> "Web":
        why = unavailable()
        assert why is None, f"the browser check cannot run: {why}"
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        except BaseException:
            self._pw.stop()
            raise
        self._contexts = []
        return self

    def __exit__(self, *exc) -> None:
        try:
            for c in self._contexts:
                c.close()
            self._browser.close()
        finally:
            self._pw.stop()

    def visitor(self, base: str, locale: str = "en-US") -> Visitor:
        """A fresh browser context (no cookies) whose requests may go to `base` only."""
        context = self._browser.new_context(viewport={"width": 1200, "height": 900}, locale=locale,
                                            service_workers="block")
        self._contexts.append(context)
        visitor = Visitor(base=base, context=context)
        origin = base.rstrip("/")

        def route(r):
            """Let requests to the server through; refuse and record any other."""
            url = r.request.url
            if url == origin or url.startswith(origin + "/"):
                r.continue_()
            else:
                visitor.off_server.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: visitor.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: visitor.page_errors.append(str(e)))
        visitor.page = page
        return visitor


def form_csrf(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


__all__ = ["free_port", "ThreadServer", "Web", "Visitor", "form_csrf"]
