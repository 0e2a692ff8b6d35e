"""HTML reports in a real headless browser: Debian's Chromium driven by Playwright (no browser download).

    def test_report(chromium: Chromium, tmp_path: Path) -> None:
        with open_page(chromium, tmp_path / "report.html") as seen:
            assert seen.page.locator("svg").count() >= 3
        assert seen.problems() == []

``open_page`` starts the browser, loads a file with the network closed (any request that is not for the file
itself is blocked and recorded), collects console and page errors, and closes the browser again when the block
ends: Playwright's synchronous API runs an event loop of its own while it is open, which must not outlive the
block (pytest-asyncio could not run the next async test). Where Chromium is not installed the ``chromium``
fixture skips, saying why (``.ci/run`` installs it with apt-get).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
"""As on this machine's notes: without the background-networking flags Chromium keeps dialling Google."""


@dataclass(frozen=True)
class Chromium:
    """Where the browser is; ``open_page`` launches it."""

    executable: str


@pytest.fixture
def chromium() -> Chromium:
    if not Path(CHROMIUM).is_file():
        pytest.skip("Chromium is not installed (apt-get install chromium): the browser test is skipped")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed: the browser test is skipped")
    return Chromium(CHROMIUM)


@dataclass
class SeenPage:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return ([f"console: {m}" for m in self.console_errors] + [f"page error: {m}" for m in self.page_errors]
                + [f"network request: {u}" for u in self.blocked_requests])


@contextmanager
def open_page(chromium: Chromium, path: Path, width: int = 1280) -> Iterator[SeenPage]:
    """The page at ``path`` after it has loaded, in a browser that lives as long as the block."""
    from playwright.sync_api import sync_playwright

    target = path.resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium.executable, args=FLAGS)
        try:
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            seen = SeenPage(page)
            page.on("console", lambda message: seen.console_errors.append(message.text)
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: seen.page_errors.append(str(error)))

            def only_the_file(route: Any) -> None:
                if route.request.url == target:
                    route.continue_()
                else:
                    seen.blocked_requests.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_file)
            page.goto(target, wait_until="load")
            yield seen
        finally:
            browser.close()
