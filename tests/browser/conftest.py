"""One headless Chromium for the module, the victim's server with livegql's defaults and one with its
cross-site defences off (the control), and the attacker's server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.chromium import chromium_profile
from tests.browser.sites import Victim, VictimSite, attacker_site, serve_site


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium_profile(tmp_path_factory.mktemp("chromium") / "profile") as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    """A fresh tab in a browser that has no cookies yet."""
    browser.clear_cookies()
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


def _victim(**settings: object) -> Iterator[Victim]:
    site = VictimSite(keepalive_interval=None, **settings)
    with serve_site(site) as port:
        yield Victim(site, port)


@pytest.fixture(scope="module")
def victim_server() -> Iterator[Victim]:
    """livegql's defaults: same-origin streams only, CSRF prevention on."""
    yield from _victim()


@pytest.fixture(scope="module")
def open_victim_server() -> Iterator[Victim]:
    """The control: every origin may open a stream, and CSRF prevention is off."""
    yield from _victim(allowed_origins=("*",), csrf_prevention=False)


@pytest.fixture
def victim(victim_server: Victim) -> Victim:
    victim_server.site.ledger.clear()
    return victim_server


@pytest.fixture
def open_victim(open_victim_server: Victim) -> Victim:
    open_victim_server.site.ledger.clear()
    return open_victim_server


@pytest.fixture(scope="module")
def attacker_port() -> Iterator[int]:
    with serve_site(attacker_site()) as port:
        yield port


ARTIFACTS_ENV = "LIVEGQL_ARTIFACTS"
"""Where screenshots are kept (`.ci/run` sets it to test-artifacts/); the test's tmp_path when unset."""


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    directory = Path(os.environ.get(ARTIFACTS_ENV) or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
