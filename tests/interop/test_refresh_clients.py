"""Credentials that expire, refreshed through the reference clients as an app would write it: graphql-ws (npm,
through Node.js, see node/refresh_client.mjs) sends a Ping with a `refresh` payload on the socket `on.connected`
gave it, gql sends it with `WebsocketsTransport.send_ping`. Each keeps a subscription streaming past the first
token's expiry. Without a refresh, graphql-ws sees close 4403, and left to its own retry it reconnects with the
connectionParams its function hands out then.

No sleeps: a control connection admitted after the client, with a token living as long as the client's first
one, is closed for expiry only once that first token's expiry has passed too."""

import asyncio
import time
from asyncio.subprocess import Process
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

import pytest
from gql import Client

from livegql.protocol import CloseCode
from tests.interop.gql_clients import LIMIT, collect, request, ws_transport
from tests.interop.node_support import NODE_PROJECT, require_node, run_script, script_output, script_result
from tests.security.auth_app import AuthServer, auth_server
from tests.support.server import subscribers
from tests.support.waiting import until
from tests.support.wsclient import connect

__all__ = ["auth_server"]  # the fixture, imported for pytest

SCRIPT = NODE_PROJECT / "refresh_client.mjs"
# Keep in step with node/refresh_client.mjs (TOPIC, LAST_EVENT).
TOPIC = "refresh-news"
LAST_EVENT = "after expiry"
SUBSCRIPTION = f'subscription {{ topic(name: "{TOPIC}") }}'
FIRST_LIFETIME = 1.0  # time enough to refresh in; the control connection waits it out
RENEWED_LIFETIME = 60.0
EXPIRED = (CloseCode.FORBIDDEN, "Credentials expired")
NODE_START = 15.0  # Node's start-up and the client's import come before its first connection


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable; skips without Node or the npm install, except in CI where that must fail."""
    return require_node(("graphql-ws", "ws"), "graphql-ws refresh interop tests")


def _issue_tokens(auth: AuthServer) -> None:
    """`first` expires soon; `renewed` is what the client refreshes (or reconnects) with; `control` lives as
    long as `first`."""
    auth.tokens.lifetimes |= {
        "first": ("alice", FIRST_LIFETIME),
        "renewed": ("alice", RENEWED_LIFETIME),
        "control": ("carol", FIRST_LIFETIME),
    }


async def _until(process: Process | None, condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """`until`, failing with the script's output at once if it exits meanwhile."""

    async def check() -> bool:
        if process is not None and process.returncode is not None:
            _, report = await script_output(process)
            raise AssertionError(f"node exited while the test waited for {what}\n{report}")
        return await condition()

    await until(check, limit=NODE_START, what=what)


def _subscribed(auth: AuthServer, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await subscribers(auth.server, TOPIC) == count

    return check


def _admitted(auth: AuthServer, token: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return token in auth.tokens.admitted  # appended on the server's thread

    return check


async def _publish(auth: AuthServer, text: str) -> None:
    await auth.server.acall(auth.app.pubsub.publish(TOPIC, text))


async def _outlive_first_token(auth: AuthServer) -> None:
    """Admit `control` now, after `first`, and return once the server closes it for expiry: by then `first`'s
    original expiry has passed as well."""
    async with connect(auth.server.ws_url) as control:
        await control.init({"token": "control"})
        assert await control.closed(limit=FIRST_LIFETIME + LIMIT) == EXPIRED


def _topics(values: list[dict[str, Any]]) -> list[str]:
    return [value["data"]["topic"] for value in values]


async def _confirmed(ping_received: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(ping_received.wait(), LIMIT)
    except TimeoutError:
        raise AssertionError(f"no Ping confirmed the refresh within {LIMIT}s") from None


def _assert_confirmation(payload: Any) -> None:
    """The server's Ping after an admitted refresh: `{"refreshed": true, "expiresAt": seconds}`."""
    assert isinstance(payload, dict), payload
    assert payload["refreshed"] is True, payload
    assert payload["expiresAt"] > time.time() + RENEWED_LIFETIME / 2, payload


@pytest.mark.node
async def test_graphql_ws_refresh_keeps_a_subscription_streaming_past_the_first_tokens_expiry(
    node: str, auth_server: AuthServer
) -> None:
    _issue_tokens(auth_server)
    async with run_script(node, SCRIPT, auth_server.server.ws_url, "refresh", "first", "renewed") as process:
        await _until(process, _subscribed(auth_server, 1), "the script's subscription")  # admitted with `first`
        await _publish(auth_server, "before")
        await _until(process, _admitted(auth_server, "renewed"), "the refresh to reach on_connect")
        await _outlive_first_token(auth_server)
        await _publish(auth_server, LAST_EVENT)
        result = await script_result(process)
    assert result["outcome"] == {"streaming": True}, result
    assert _topics(result["values"]) == ["before", LAST_EVENT], result
    # graphql-ws answered the confirmation with a Pong and surfaced it through on.ping(received=true, payload).
    assert len(result["pings"]) == 1, result
    _assert_confirmation(result["pings"][0])
    assert result["pongs"] == [{"refresh": {"token": "renewed"}}], result  # the server's answer to the refresh
    assert (result["connections"], result["closes"], result["nonLazyErrors"]) == (1, [], []), result
    # A new operation on the same socket, after the first token expired, runs.
    assert result["whoami"] == {"values": [{"data": {"whoami": "alice"}}], "completed": True}, result
    assert auth_server.tokens.admitted == ["first", "renewed", "control"]


@pytest.mark.node
async def test_graphql_ws_without_a_refresh_sees_close_4403_at_expiry(node: str, auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["brief"] = ("bob", 0.5)
    async with run_script(node, SCRIPT, auth_server.server.ws_url, "expire", "brief") as process:
        result = await script_result(process)
    closed = {"closeCode": EXPIRED[0], "closeReason": EXPIRED[1]}
    assert result["outcome"] == {"completed": False, "error": closed}, result
    assert (result["connections"], result["closes"], result["nonLazyErrors"]) == (1, [closed], [closed]), result
    assert result["pings"] == [], result
    await _until(None, _subscribed(auth_server, 0), "the server to release the expired subscription")


@pytest.mark.node
async def test_graphql_ws_retry_reconnects_with_fresh_connection_params_after_4403(
    node: str, auth_server: AuthServer
) -> None:
    """No refresh: graphql-ws treats 4403 as retryable, evaluates connectionParams again and subscribes again."""
    _issue_tokens(auth_server)
    async with run_script(node, SCRIPT, auth_server.server.ws_url, "reconnect", "first", "renewed") as process:
        await _until(process, _subscribed(auth_server, 1), "the script's subscription")
        first = await auth_server.server.acall(_sessions_of(auth_server, "token:first"))
        await _publish(auth_server, "before")
        # Once the first connection's task is over, its subscriber is gone: the one counted next is the new one.
        await _until(process, _ended(auth_server, first), "the first connection to end at its expiry")
        await _until(process, _admitted(auth_server, "renewed"), "graphql-ws to reconnect with the new token")
        await _until(process, _subscribed(auth_server, 1), "graphql-ws to subscribe again")
        await _publish(auth_server, LAST_EVENT)
        result = await script_result(process)
    assert result["outcome"] == {"streaming": True}, result
    assert _topics(result["values"]) == ["before", LAST_EVENT], result
    assert result["params"] == ["first", "renewed"], result
    assert result["connections"] == 2, result
    assert result["closes"] == [{"closeCode": EXPIRED[0], "closeReason": EXPIRED[1]}], result
    assert result["nonLazyErrors"] == [], result


async def _sessions_of(auth: AuthServer, principal: str) -> list[Any]:
    """The server's open sessions admitted as `principal` (read on the server's loop)."""
    return auth.app.runtime.sessions.of([principal])


def _ended(auth: AuthServer, sessions: list[Any]) -> Callable[[], Awaitable[bool]]:
    assert len(sessions) == 1, sessions

    async def check() -> bool:
        async def done() -> bool:
            task = sessions[0].task
            return task is None or task.done()

        return await auth.server.acall(done())

    return check


async def test_gql_refresh_with_send_ping_keeps_a_subscription_streaming_past_the_first_tokens_expiry(
    auth_server: AuthServer,
) -> None:
    _issue_tokens(auth_server)
    transport = ws_transport(auth_server.server.ws_url, init_payload={"token": "first"})
    async with Client(transport=transport, execute_timeout=LIMIT) as session:
        async with aclosing(session.subscribe(request(SUBSCRIPTION))) as stream:
            received = asyncio.create_task(collect(stream, "topic", 2))
            try:
                await _until(None, _subscribed(auth_server, 1), "gql's subscription")
                await _publish(auth_server, "before")
                transport.ping_received.clear()
                await transport.send_ping({"refresh": {"token": "renewed"}})
                # gql sets ping_received for each server Ping and keeps its payload; it answers with a Pong.
                await _confirmed(transport.ping_received)
                _assert_confirmation(transport.payloads["ping"])
                assert transport.payloads["pong"] == {"refresh": {"token": "renewed"}}
                await _outlive_first_token(auth_server)
                await _publish(auth_server, LAST_EVENT)
                assert await asyncio.wait_for(received, LIMIT) == ["before", LAST_EVENT]
            finally:
                received.cancel()
        # A new operation on the same connection, after the first token expired, runs.
        assert await session.execute(request("{ whoami }")) == {"whoami": "alice"}
    assert auth_server.tokens.admitted == ["first", "renewed", "control"]
