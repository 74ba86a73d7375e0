"""The two origins of the browser tests: a victim LiveGQL app that logs its user in with a cookie and records
every operation it runs (and for whom), and an attacker's page; each on a real uvicorn server on the loopback."""

import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLResolveInfo
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from livegql import LiveGQL
from tests.support.server import serve_asgi

SDL = """
type Query { me: String! }
type Mutation { transfer(to: String!, amount: Int!): Boolean! }
type Subscription { secrets: String! }
"""
COOKIE = "session"
VICTIM = "alice"
SECRET = f"{VICTIM}'s secret"
CROSS_SITE_COOKIE = "; SameSite=None; Secure"  # the only cookie a browser sends to another site's requests
WAIT_TIMEOUT = 5.0
_SCRIPT = (Path(__file__).parent / "pages.js").read_text()
PAGE = f"<!doctype html><html><head><script>{_SCRIPT}</script></head><body></body></html>"

Record = tuple[str, str | None]
"""What the victim's server did, and as whom: ("connect", user) when `on_connect` ran, else (field, user)."""


class Ledger:
    """What the victim's server did, written on the server's thread and read (or awaited) on the test's; and
    how many HTTP requests to the GraphQL path it has finished answering, so a test knows when to look."""

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._in_flight = self._answered = 0
        self._changed = threading.Condition()

    def add(self, kind: str, user: str | None) -> None:
        with self._changed:
            self._records.append((kind, user))
            self._changed.notify_all()

    def request_started(self) -> None:
        with self._changed:
            self._in_flight += 1

    def request_answered(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._answered += 1
            self._changed.notify_all()

    def records(self) -> list[Record]:
        with self._changed:
            return list(self._records)

    def operations(self) -> list[Record]:
        """Every field the server resolved, `connect`s left out."""
        return [record for record in self.records() if record[0] != "connect"]

    def wait_for(self, record: Record, timeout: float = WAIT_TIMEOUT) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: record in self._records, timeout)

    def wait_for_answers(self, count: int, timeout: float = WAIT_TIMEOUT) -> bool:
        """Whether `count` HTTP requests have been answered in full (anything they ran is recorded by then)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._answered >= count, timeout)

    def clear(self) -> None:
        """Forget everything, once the requests still being answered (a previous test's) are done."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._in_flight == 0, WAIT_TIMEOUT):
                raise AssertionError("The victim's server is still answering an earlier test's request")
            self._records.clear()
            self._answered = 0


class VictimSite:
    """A bank of one user: `/login` sets the session cookie, `/` is the bank's own page, and `/graphql` serves
    `me`, `transfer` and the `secrets` subscription to whoever the cookie names (and nobody without one)."""

    def __init__(self, **settings: Any) -> None:
        self.ledger = Ledger()
        self._sessions: dict[str, str] = {}
        self.graphql = LiveGQL(SDL, resolvers=self._resolvers(), on_connect=self._on_connect, **settings)
        self._pages = Starlette(routes=[Route("/", self._page), Route("/login", self._login)])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != self.graphql.settings.path:
            await self._pages(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.graphql(scope, receive, send)
            return
        self.ledger.request_started()
        try:
            await self.graphql(scope, receive, send)
        finally:
            self.ledger.request_answered()

    async def _page(self, _: Request) -> Response:
        return HTMLResponse(PAGE)

    async def _login(self, request: Request) -> Response:
        """`?cross_site=1` asks for a cookie the browser also sends to requests from other sites' pages."""
        token = secrets.token_urlsafe(16)
        self._sessions[token] = VICTIM
        attributes = CROSS_SITE_COOKIE if request.query_params.get("cross_site") else ""
        response = HTMLResponse(PAGE)
        response.headers.append("set-cookie", f"{COOKIE}={token}; Path=/; HttpOnly{attributes}")
        return response

    def _on_connect(self, _: dict[str, Any], request: HTTPConnection) -> dict[str, str] | bool:
        user = self._sessions.get(request.cookies.get(COOKIE, ""))
        self.ledger.add("connect", user)
        return {"user": user} if user is not None else False

    def _resolvers(self) -> dict[str, dict[str, Callable[..., Any]]]:
        ledger = self.ledger

        def me(_: Any, info: GraphQLResolveInfo) -> str:
            ledger.add("me", info.context["user"])
            return str(info.context["user"])

        def transfer(_: Any, info: GraphQLResolveInfo, to: str, amount: int) -> bool:
            ledger.add("transfer", info.context["user"])
            return True

        async def secrets_of(_: Any, info: GraphQLResolveInfo) -> AsyncIterator[str]:
            ledger.add("secrets", info.context["user"])
            yield f"{info.context['user']}'s secret"

        return {"Query": {"me": me}, "Mutation": {"transfer": transfer}, "Subscription": {"secrets": secrets_of}}


@dataclass(frozen=True)
class Victim:
    """A victim's site being served, and its URLs."""

    site: VictimSite
    port: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{self.origin}{self.site.graphql.settings.path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.site.graphql.settings.path}"


def attacker_site() -> ASGIApp:
    """Another origin's page, carrying the same script as the victim's own page."""

    async def page(_: Request) -> Response:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", page)])


def serve_site(app: ASGIApp) -> AbstractContextManager[int]:
    """Serve `app` on 127.0.0.1; the context yields its port."""
    return serve_asgi(app)
