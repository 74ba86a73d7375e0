"""Auth for the whole life of a connection, over a real server: credentials that expire close the connection
with 4403 (an event stream ends), a refresh on the open connection moves the expiry, and a revoked user's
connections and streams close at once while everyone else's go on."""

import asyncio
from typing import Any

import pytest

from livegql.protocol import CloseCode
from livegql.transport.sse_single import TOKEN_HEADER
from tests.security.auth_app import AuthServer, auth_server
from tests.support.server import subscribers
from tests.support.streams import MULTIPART, SSEReader, open_stream, stream_client
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect

__all__ = ["auth_server"]  # the fixture, imported for pytest

NEWS = 'subscription { topic(name: "news") }'
WHOAMI = "{ whoami }"
LEGACY = ("graphql-ws",)


async def _subscribed(auth: AuthServer, count: int, topic: str = "news") -> None:
    server = auth.server

    async def reached() -> bool:
        return await subscribers(server, topic) == count

    await until(reached, what=f"{count} subscriber(s) of {topic!r}")


async def _publish(auth: AuthServer, text: str, topic: str = "news") -> None:
    await auth.server.acall(auth.app.pubsub.publish(topic, text))


async def _whoami(peer: RawPeer, id: str) -> Any:
    await peer.subscribe(id, WHOAMI)
    return (await peer.receive_type("next"))["payload"]["data"]["whoami"]


async def test_a_connection_closes_4403_when_its_credentials_expire(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["short"] = ("alice", 0.3)
    async with connect(auth_server.server.ws_url) as peer:
        await peer.init({"token": "short"})
        await peer.subscribe("1", NEWS)
        await _subscribed(auth_server, 1)
        assert await peer.closed(limit=5.0) == (CloseCode.FORBIDDEN, "Credentials expired")
    await _subscribed(auth_server, 0)  # its operations stopped with it


async def test_credentials_already_expired_are_refused_at_init(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["stale"] = ("alice", -1.0)
    async with connect(auth_server.server.ws_url) as peer:
        await peer.send({"type": "connection_init", "payload": {"token": "stale"}})
        assert await peer.closed() == (CloseCode.FORBIDDEN, "Credentials expired")


async def test_a_legacy_connection_closes_when_its_credentials_expire(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["short"] = ("alice", 0.3)
    async with connect(auth_server.server.ws_url, LEGACY) as peer:
        await peer.send({"type": "connection_init", "payload": {"token": "short"}})
        await peer.receive_type("connection_ack")
        await peer.send({"id": "1", "type": "start", "payload": {"query": NEWS}})
        await _subscribed(auth_server, 1)
        code, reason = await _closed_skipping(peer, "ka")
        assert (code, reason) == (CloseCode.FORBIDDEN, "Credentials expired")


async def _closed_skipping(peer: RawPeer, skipped: str) -> tuple[int | None, str]:
    """A legacy socket's close, after any `skipped` messages and the connection_error that tells its reason."""
    from websockets.exceptions import ConnectionClosed

    told: list[str] = []
    try:
        async with asyncio.timeout(5.0):
            while True:
                message = await peer.receive()
                if message["type"] == "connection_error":
                    told.append(message["payload"]["message"])
                elif message["type"] != skipped:
                    raise AssertionError(f"expected a close, got {message}")
    except ConnectionClosed as closed:
        code, reason = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
        assert told == [reason]
        return code, reason


async def test_an_event_stream_ends_when_its_credentials_expire(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["short"] = ("alice", 0.3)
    headers = {"authorization": "Bearer short"}
    url = auth_server.server.http_url
    async with stream_client() as client, open_stream(client, url, {"query": NEWS}, headers=headers) as response:
        assert response.status_code == 200
        reader = SSEReader(response)
        await _subscribed(auth_server, 1)
        await reader.end(limit=5.0)  # ended by the server, without a `complete` for the operation
        assert b"event: complete" not in reader.raw
    await _subscribed(auth_server, 0)


async def test_a_refresh_on_the_open_connection_moves_the_expiry(auth_server: AuthServer) -> None:
    """The refreshed connection outlives its first token; a control connection whose token expires later
    than that first token (and is never refreshed) shows the old expiry has passed when it closes."""
    lifetimes = auth_server.tokens.lifetimes
    lifetimes |= {"first": ("alice", 0.3), "control": ("carol", 0.6), "renewed": ("alice", 60.0)}
    url = auth_server.server.ws_url
    async with connect(url) as refreshed, connect(url) as control:
        await refreshed.init({"token": "first"})
        await control.init({"token": "control"})
        await refreshed.send({"type": "ping", "payload": {"refresh": {"token": "renewed"}}})
        assert (await refreshed.receive_type("pong"))["payload"] == {"refresh": {"token": "renewed"}}
        confirmation = (await refreshed.receive_type("ping"))["payload"]
        assert confirmation["refreshed"] is True
        assert confirmation["expiresAt"] > 0
        await refreshed.subscribe("1", NEWS)
        await _subscribed(auth_server, 1)
        assert await control.closed(limit=5.0) == (CloseCode.FORBIDDEN, "Credentials expired")
        await _publish(auth_server, "still here")
        assert (await refreshed.receive_type("next"))["payload"]["data"] == {"topic": "still here"}
        assert await _whoami(refreshed, "2") == "alice"


async def test_a_refused_refresh_closes_4403(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["good"] = ("alice", 60.0)
    async with connect(auth_server.server.ws_url) as peer:
        await peer.init({"token": "good"})
        await peer.send({"type": "ping", "payload": {"refresh": {"token": "forged"}}})
        await peer.receive_type("pong")
        assert await peer.closed() == (CloseCode.FORBIDDEN, "Forbidden")


async def test_a_refresh_that_is_not_an_object_is_an_ordinary_ping(auth_server: AuthServer) -> None:
    """The spec leaves a Ping's payload free: a peer is never closed for one, nor re-admitted."""
    auth_server.tokens.lifetimes["good"] = ("alice", None)
    async with connect(auth_server.server.ws_url) as peer:
        await peer.init({"token": "good"})
        await peer.send({"type": "ping", "payload": {"refresh": "token"}})
        assert (await peer.receive_type("pong"))["payload"] == {"refresh": "token"}
        assert await _whoami(peer, "1") == "alice"
    assert auth_server.tokens.admitted == ["good"]


async def test_revoking_a_user_closes_their_sockets_and_streams_and_no_one_elses(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes |= {"a1": ("alice", None), "a2": ("alice", None), "b": ("bob", None)}
    url = auth_server.server.ws_url
    async with connect(url) as alice, connect(url, LEGACY) as alice_legacy, connect(url) as bob:
        await alice.init({"token": "a1"})
        await alice_legacy.send({"type": "connection_init", "payload": {"token": "a2"}})
        await alice_legacy.receive_type("connection_ack")
        await bob.init({"token": "b"})
        for peer in (alice, bob):
            await peer.subscribe("1", NEWS)
        await alice_legacy.send({"id": "1", "type": "start", "payload": {"query": NEWS}})
        async with stream_client() as client:
            headers = {"authorization": "Bearer a1"}
            async with open_stream(client, auth_server.server.http_url, {"query": NEWS}, headers=headers) as sse:
                await _subscribed(auth_server, 4)  # one stream each: their identities (tokens) differ
                revoked = await auth_server.server.acall(_revoke(auth_server, "user:alice"))
                assert revoked == 3
                assert await alice.closed() == (CloseCode.FORBIDDEN, "Revoked")
                assert await _closed_skipping(alice_legacy, "ka") == (CloseCode.FORBIDDEN, "Revoked")
                await SSEReader(sse).end()
        await _publish(auth_server, "for bob")
        assert (await bob.receive_type("next"))["payload"]["data"] == {"topic": "for bob"}


async def _revoke(auth: AuthServer, principal: str) -> int:
    return await auth.app.revoke(principal)


async def test_revoking_a_token_spares_the_same_users_other_token(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes |= {"stolen": ("alice", None), "laptop": ("alice", None)}
    url = auth_server.server.ws_url
    async with connect(url) as thief, connect(url) as owner:
        await thief.init({"token": "stolen"})
        await owner.init({"token": "laptop"})
        assert await auth_server.server.acall(_revoke(auth_server, "token:stolen")) == 1
        assert await thief.closed() == (CloseCode.FORBIDDEN, "Revoked")
        assert await _whoami(owner, "1") == "alice"


async def test_a_multipart_stream_ends_when_revoked(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["m"] = ("alice", None)
    headers = {"authorization": "Bearer m"}
    async with stream_client() as client:
        payload = {"query": NEWS}
        async with open_stream(client, auth_server.server.http_url, payload, accept=MULTIPART, headers=headers) as r:
            assert r.status_code == 200
            await _subscribed(auth_server, 1)
            assert await auth_server.server.acall(_revoke(auth_server, "user:alice")) == 1
            body = await asyncio.wait_for(r.aread(), 5.0)
            assert b"Revoked" in body


async def test_an_http_request_with_expired_credentials_gets_403(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes |= {"stale": ("alice", -1.0), "fresh": ("alice", 60.0)}
    async with stream_client() as client:
        for token, status in (("stale", 403), ("fresh", 200)):
            response = await client.post(
                auth_server.server.http_url,
                json={"query": WHOAMI},
                headers={"authorization": f"Bearer {token}", "accept": "application/json"},
            )
            assert response.status_code == status, response.text
        assert response.json() == {"data": {"whoami": "alice"}}


@pytest.mark.parametrize("ending", ["expiry", "revocation"])
async def test_a_single_connection_sse_stream_ends_at_expiry_or_revocation(
    auth_server: AuthServer, ending: str
) -> None:
    """The PUT is what `on_connect` admits: its Admission governs the stream reserved with it."""
    auth_server.tokens.lifetimes["put"] = ("alice", 0.3 if ending == "expiry" else None)
    url = auth_server.server.http_url
    async with stream_client() as client:
        reserved = await client.put(url, headers={"authorization": "Bearer put"})
        assert reserved.status_code == 201, reserved.text
        token = reserved.text
        async with open_stream(client, url, method="GET", headers={TOKEN_HEADER: token}) as response:
            reader = SSEReader(response)
            await reader.comment()  # the stream is open
            started = await client.post(
                url,
                json={"query": NEWS, "extensions": {"operationId": "1"}},
                headers={TOKEN_HEADER: token, "authorization": "Bearer put"},
            )
            assert started.status_code == 202, started.text
            await _subscribed(auth_server, 1)
            if ending == "revocation":
                assert await auth_server.server.acall(_revoke(auth_server, "user:alice")) == 1
            await reader.end(limit=5.0)
    await _subscribed(auth_server, 0)
