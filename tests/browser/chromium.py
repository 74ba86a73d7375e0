"""Debian's Chromium, driven by Playwright: found (or the test skips, or in CI fails), launched headless with a
profile of its own that, like a default desktop Chrome profile, sends cookies to other sites' requests."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

CHROMIUM = Path(os.environ.get("LIVEGQL_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_ENV = "LIVEGQL_REQUIRE_CHROMIUM"
# Without the background-networking switches Chromium dials Google's services, which a closed network refuses.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A profile that allows third-party cookies, as desktop Chrome's default does: Playwright's contexts are
# incognito ones, which block them, and an attack that only fails because of that would prove nothing.
PREFERENCES = {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
TIMEOUT_MS = 10_000


def required() -> bool:
    """Whether a missing browser fails the run: in CI (`CI=true`, or LIVEGQL_REQUIRE_CHROMIUM=1)."""
    return os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get(REQUIRE_ENV) == "1"


def unavailable(reason: str) -> NoReturn:
    if required():
        pytest.fail(f"{reason} (and this run requires it: CI=true or {REQUIRE_ENV}=1)")
    pytest.skip(reason)


@contextmanager
def chromium_profile(profile: Path) -> Iterator[BrowserContext]:
    """A headless Chromium on `profile` (a fresh directory), closed on exit."""
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does), or set LIVEGQL_CHROMIUM")
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(json.dumps(PREFERENCES))
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True, timeout=TIMEOUT_MS
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
