"""Browser tests drive Debian's Chromium (never a downloaded browser) through Playwright, headless."""

import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
TABLET = {"width": 768, "height": 1024}
# Root in a sandbox, no GPU, and no calls home: the machine's network is closed.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "correct horse battery staple"


def local_input(moment) -> str:
    """A datetime-local input's value in ward time."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def log_in(chromium, live_server, username, viewport):
    """A fresh browser context logged in as the user (every test user has the same password)."""
    context = chromium.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return page


def pytest_collection_modifyitems(config, items):
    if CHROMIUM is not None:
        return
    if os.environ.get("REQUIRE_BROWSER_TESTS"):
        raise pytest.UsageError("REQUIRE_BROWSER_TESTS is set but no Chromium was found")
    skip = pytest.mark.skip(reason="no Chromium found: install Debian's chromium (or set CHROMIUM_PATH)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def chromium(monkeypatch):
    """One headless Chromium per test. Playwright's sync API runs an event loop in this thread while it lives, so
    the test's own (synchronous) ORM calls are allowed for that time only; the deploy check rightly refuses the
    setting anywhere else."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=LAUNCH_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take
