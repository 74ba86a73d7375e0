"""Shared subscription streams never cross users: user A never receives a result computed for user B.

Every test subscribes several connections to the identical document and variables; each result names the
viewer it was computed for (`Item.viewer` reads `info.context`), so a result computed for another user shows.
"""

from collections.abc import Hashable, Mapping
from contextlib import AsyncExitStack
from typing import Any

import pytest
from starlette.requests import HTTPConnection

from livegql import LiveGQL
from tests.support.fanout_helpers import (
    FEED,
    make_app,
    on_server,
    open_peer,
    publish,
    results,
    streams,
    subscribers,
    sync,
    wait_for,
)
from tests.support.server import serve

EVENTS = ["e1", "e2", "e3"]
Client = tuple[dict[str, Any] | None, dict[str, str] | None]
"""A connection's connection_init payload and extra request headers."""


def _feed(viewer: str) -> list[Any]:
    return [{"feed": {"text": text, "viewer": viewer}} for text in EVENTS]


async def _run_feed(app: LiveGQL, clients: list[Client], expected_streams: int) -> list[list[Any]]:
    """Subscribe every client to the same feed, publish EVENTS, return what each received (in client order)."""
    with serve(app) as server:
        async with AsyncExitStack() as stack:
            peers = [await open_peer(stack, server.ws_url, payload, headers) for payload, headers in clients]
            for peer in peers:
                await peer.subscribe("s", FEED, {"topic": "t"})
                await sync(peer)
            await wait_for(
                server, lambda: subscribers(server, "t")() == expected_streams, f"{expected_streams} sources"
            )
            assert await on_server(server, streams(server)) == expected_streams

            await publish(server, "t", *EVENTS)
            received = [await results(peer, "s", len(EVENTS)) for peer in peers]
            for peer in peers:
                await sync(peer)  # nothing more arrived: no result of another stream
            executions = await on_server(server, lambda: server.app.subscriptions.executions)
            assert executions == expected_streams * len(EVENTS)
            return received


def _user_from_init(params: dict[str, Any], _request: HTTPConnection) -> dict[str, Any]:
    return {"user": params["user"]}


async def test_users_named_by_on_connect_never_receive_each_others_results() -> None:
    users = ["alice", "bob"] * 3  # interleaved joins: three connections each
    clients: list[Client] = [({"user": user}, None) for user in users]
    received = await _run_feed(make_app(on_connect=_user_from_init), clients, expected_streams=2)
    for user, data in zip(users, received, strict=True):
        assert data == _feed(user)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Authorization", "Bearer {}"),  # a credential header: part of the identity in itself
        ("X-User", "{}"),  # an arbitrary header: only the context the factory derives from it differs
    ],
)
async def test_users_from_a_context_factory_never_receive_each_others_results(header: str, value: str) -> None:
    prefix = value.removesuffix("{}")

    def context(request: HTTPConnection) -> dict[str, Any]:
        return {"user": request.headers[header].removeprefix(prefix)}

    users = ["alice", "bob", "bob", "alice"]
    clients: list[Client] = [(None, {header: value.format(user)}) for user in users]
    received = await _run_feed(make_app(context=context), clients, expected_streams=2)
    for user, data in zip(users, received, strict=True):
        assert data == _feed(user)


async def test_a_cookie_alone_keeps_users_apart() -> None:
    # No hooks at all: the resolver reads the session cookie; only the Cookie header tells the users apart.
    users = ["alice", "bob", "alice", "bob"]
    clients: list[Client] = [(None, {"Cookie": f"user={user}"}) for user in users]
    received = await _run_feed(make_app(), clients, expected_streams=2)
    for user, data in zip(users, received, strict=True):
        assert data == _feed(user)


async def test_a_context_that_cannot_be_compared_shares_nothing() -> None:
    def context(_request: HTTPConnection) -> dict[str, Any]:
        return {"user": "alice", "session": object()}  # not comparable by value: identity unknown

    clients: list[Client] = [(None, None)] * 3
    received = await _run_feed(make_app(context=context), clients, expected_streams=3)
    assert received == [_feed("alice")] * 3


async def test_public_sharing_runs_one_stream_for_everyone() -> None:
    users = ["alice", "bob", "carol"]
    clients: list[Client] = [({"user": user}, None) for user in users]
    app = make_app(on_connect=_user_from_init, share="public")
    received = await _run_feed(app, clients, expected_streams=1)
    # Declared public: one result per event, computed with the first subscriber's context, for everyone.
    assert received == [_feed("alice")] * 3


async def test_a_sharing_callable_groups_connections_by_its_key() -> None:
    def on_connect(params: dict[str, Any], _request: HTTPConnection) -> dict[str, Any]:
        return {"user": params["user"], "team": params["team"]}

    def by_team(context: Mapping[str, Any]) -> Hashable:
        team: str = context["team"]
        return team

    members = [("alice", "red"), ("carol", "blue"), ("bob", "red"), ("dave", "blue")]
    clients: list[Client] = [({"user": user, "team": team}, None) for user, team in members]
    received = await _run_feed(make_app(on_connect=on_connect, share=by_team), clients, expected_streams=2)
    # Each team shares the result computed for its first member, and never sees the other team's.
    assert received == [_feed("alice"), _feed("carol"), _feed("alice"), _feed("carol")]
