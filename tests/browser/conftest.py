"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base_url: str, username: str, password: str | None = None):
    """Log in through the real login form; back on "My reviews"."""
    from tests.conftest import PASSWORD

    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return page


@pytest.fixture
def login(page, live_server):
    """Log in through the real login form."""

    def do(username: str, password: str | None = None):
        return log_in(page, live_server.url, username, password)

    return do


@pytest.fixture
def signed_in(browser, live_server):
    """`signed_in(username)`: a page in a browser context of its own, logged in through the
    real form, for journeys with two reviewers at once; the contexts close after the test."""
    contexts = []

    def open_as(username: str, password: str | None = None):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15000)
        contexts.append(context)
        return log_in(context.new_page(), live_server.url, username, password)

    yield open_as
    for context in contexts:
        context.close()
