"""Cross-site attacks from a real browser (issue 6): a user logged in to the victim's server (a session cookie)
opens a page of another origin, whose script tries to use that cookie: a WebSocket, an EventSource, and every
request a page may send without a CORS preflight. With livegql's defaults nothing runs and nothing reaches the
page; the same page against the same app with the defences off (the control) succeeds, so each test fails when
its defence is removed. Two attackers: a sibling origin on the same site (another port of 127.0.0.1: the default
SameSite=Lax cookie goes along), and another site (localhost) with a `SameSite=None; Secure` cookie, in a profile
that sends third-party cookies as desktop Chrome's default does. Two tests pin what
this browser found: a blind no-cors event-stream GET (which carries no Origin) and `on_connect` seeing a foreign
page's cookie before its event stream was refused."""

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.sites import SECRET, VICTIM, Victim

ATTACKERS = {"same-site": "127.0.0.1", "cross-site": "localhost"}
ABNORMAL_CLOSURE = 1006  # all a page learns of a refused upgrade: no status, no reason
NOTHING_SEEN = {"opened": False, "acked": False, "closeCode": ABNORMAL_CLOSURE, "results": {}}
ME = {"data": {"me": VICTIM}}
SECRETS = {"data": {"secrets": SECRET}}
TRANSFERRED = {"data": {"transfer": True}}


def run(page: Page, function: str, *arguments: str) -> Any:
    """Call one of pages.js's functions in the page and return what the page saw (it settles within 5 s)."""
    seen = page.evaluate("([name, ...rest]) => window.pages[name](...rest)", [function, *arguments])
    assert seen != {"timedOut": True}, f"{function}{arguments} did not settle"
    return seen


def log_in(page: Page, victim: Victim, attacker: str) -> None:
    """The user logs in to the victim's site; another site's requests only carry a SameSite=None cookie."""
    query = "?cross_site=1" if attacker == "cross-site" else ""
    page.goto(f"{victim.origin}/login{query}")
    assert [cookie["name"] for cookie in page.context.cookies(victim.origin)] == ["session"]


def attacker_page(page: Page, victim: Victim, attacker: str, port: int) -> Page:
    log_in(page, victim, attacker)
    page.goto(f"http://{ATTACKERS[attacker]}:{port}/")
    return page


def forge(page: Page, victim: Victim, function: str) -> list[tuple[str, str | None]]:
    """Send the page's forged HTTP requests; once the server has answered them all, what they ran."""
    answers = run(page, function, victim.http_url)
    answers = answers if isinstance(answers, list) else [answers]
    assert {"timedOut": True} not in answers
    assert victim.site.ledger.wait_for_answers(len(answers))
    return victim.site.ledger.operations()


# --- WebSocket: cross-site WebSocket hijacking ---------------------------------------------------------------


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_another_origins_page_cannot_open_a_socket_with_the_victims_cookie(
    page: Page, victim: Victim, attacker_port: int, attacker: str
) -> None:
    seen = run(attacker_page(page, victim, attacker, attacker_port), "openSocket", victim.ws_url)
    assert seen == NOTHING_SEEN
    assert victim.site.ledger.records() == []  # refused before the upgrade: on_connect never ran


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_control_without_the_origin_check_the_page_reads_and_transfers_as_the_victim(
    page: Page, open_victim: Victim, attacker_port: int, attacker: str
) -> None:
    seen = run(attacker_page(page, open_victim, attacker, attacker_port), "openSocket", open_victim.ws_url)
    assert seen["opened"]
    assert seen["acked"]
    assert seen["results"] == {"me": ME, "transfer": TRANSFERRED, "secrets": SECRETS}
    assert ("transfer", VICTIM) in open_victim.site.ledger.records()


# --- EventSource: graphql-sse's GET, which carries no header a page could be asked to add -------------------


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_another_origins_page_cannot_open_an_event_stream_with_the_victims_cookie(
    page: Page, victim: Victim, attacker_port: int, attacker: str
) -> None:
    seen = run(attacker_page(page, victim, attacker, attacker_port), "openEventSource", victim.http_url)
    assert seen == {"opened": False, "events": []}
    assert victim.site.ledger.wait_for_answers(1)
    assert victim.site.ledger.operations() == []


def test_another_origins_event_stream_is_refused_before_on_connect_sees_the_cookie(
    page: Page, victim: Victim, attacker_port: int
) -> None:
    run(attacker_page(page, victim, "cross-site", attacker_port), "openEventSource", victim.http_url)
    assert victim.site.ledger.wait_for_answers(1)
    assert victim.site.ledger.records() == []  # as a refused WebSocket's


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_control_without_the_origin_check_the_event_stream_runs_as_the_victim(
    page: Page, open_victim: Victim, attacker_port: int, attacker: str
) -> None:
    seen = run(attacker_page(page, open_victim, attacker, attacker_port), "openEventSource", open_victim.http_url)
    # The operation runs with the cookie; only CORS (not configured) keeps the page from reading its events.
    assert open_victim.site.ledger.wait_for(("secrets", VICTIM))
    assert seen == {"opened": False, "events": []}


# --- CSRF: forms, and fetches a page may send but not read ---------------------------------------------------


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_another_origins_page_cannot_run_an_operation_with_the_victims_cookie(
    page: Page, victim: Victim, attacker_port: int, attacker: str
) -> None:
    assert forge(attacker_page(page, victim, attacker, attacker_port), victim, "forgeRequests") == []


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_control_without_csrf_prevention_a_forged_get_runs_as_the_victim(
    page: Page, open_victim: Victim, attacker_port: int, attacker: str
) -> None:
    operations = forge(attacker_page(page, open_victim, attacker, attacker_port), open_victim, "forgeRequests")
    assert ("me", VICTIM) in operations
    # Mutations stay out of reach even so: a POST body must be application/json (415) and GET runs no mutation
    # (405). A forged GET's query is what CSRF prevention stops here (think of a resolver with side effects).
    assert ("transfer", VICTIM) not in operations


@pytest.mark.parametrize("attacker", ATTACKERS)
def test_another_origins_page_cannot_run_a_query_with_a_blind_event_stream_get(
    page: Page, victim: Victim, attacker_port: int, attacker: str
) -> None:
    assert forge(attacker_page(page, victim, attacker, attacker_port), victim, "forgeEventStreamGet") == []


def test_control_without_the_defences_a_blind_event_stream_get_runs_as_the_victim(
    page: Page, open_victim: Victim, attacker_port: int
) -> None:
    page = attacker_page(page, open_victim, "cross-site", attacker_port)
    assert forge(page, open_victim, "forgeEventStreamGet") == [("me", VICTIM)]


# --- the victim's own page ----------------------------------------------------------------------------------


def test_the_victims_own_page_uses_every_transport_with_its_cookie(page: Page, victim: Victim) -> None:
    log_in(page, victim, "same-site")
    seen = run(page, "openSocket", victim.ws_url)
    assert seen["acked"]
    assert seen["results"] == {"me": ME, "transfer": TRANSFERRED, "secrets": SECRETS}
    posted = run(page, "postJson", victim.http_url, 'mutation { transfer(to: "bob", amount: 1) }')
    assert posted == {"status": 200, "body": TRANSFERRED}
    assert run(page, "openEventSource", victim.http_url) == {"opened": True, "events": [SECRETS]}
    assert victim.site.ledger.operations().count(("transfer", VICTIM)) == 2
