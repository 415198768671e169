"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser), headless,
one isolated browser context per person, and the running system from `tests/system_fixtures.py`.
Every page's console errors (including Content-Security-Policy violations) fail the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from rasa_bot.settings import PROJECT_ROOT
from rasa_bot.system import SystemLayout
from tests.browser.pages import ConsolePage, ShopPage

CHROMIUM = Path("/usr/bin/chromium")
# The network is closed here: without these Chromium keeps calling home and floods the logs.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}


# Package scope, not session: while Playwright's sync API is active an event loop counts as running
# in this thread, so the asyncio tests of other directories could not run until it stops.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run the tests through `make test` (it installs chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def expected_errors() -> list[str]:
    """Console errors a test expects (e.g. the browser logging a refused claim's 409); add to it."""
    return []


@pytest.fixture
def new_page(browser: Browser, expected_errors: list[str]) -> Iterator[Callable[[], Page]]:
    """Opens pages in fresh contexts (separate storage: one per person) and checks at the end that
    none of them logged an error the test did not expect."""
    contexts = []
    errors: list[str] = []

    def open_page() -> Page:
        context = browser.new_context(viewport=DESKTOP)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    unexpected = [error for error in errors if not any(part in error for part in expected_errors)]
    assert unexpected == [], f"the pages logged errors: {unexpected}"


@pytest.fixture
def shop(bot_system: SystemLayout, new_page: Callable[[], Page]) -> ShopPage:
    return ShopPage(new_page(), bot_system)


@pytest.fixture
def console_for(bot_system: SystemLayout, new_page: Callable[[], Page]) -> Callable[[str], ConsolePage]:
    """A logged-in console of the agent with `token`, each in its own browser context."""

    def open_console(token: str) -> ConsolePage:
        console = ConsolePage(new_page(), bot_system)
        console.log_in(token)
        return console

    return open_console


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
