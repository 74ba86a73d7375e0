"""`Client.refresh`: new credentials on the open connection, against a server whose tokens expire."""

import asyncio
import time

import pytest

from livegql.client import Client
from livegql.client.errors import ConnectionClosedError
from livegql.protocol import CloseCode
from tests.security.auth_app import AuthServer, auth_server
from tests.support.wsclient import connect

__all__ = ["auth_server"]  # the fixture, imported for pytest

NEWS = 'subscription { topic(name: "news") }'


async def test_a_refreshed_client_outlives_its_first_token(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes |= {"first": ("alice", 0.3), "control": ("carol", 0.6), "renewed": ("alice", 60.0)}
    server = auth_server.server
    async with Client(server.ws_url, connection_params={"token": "first"}) as client, connect(server.ws_url) as control:
        await control.init({"token": "control"})
        subscription = client.subscribe(NEWS)
        await subscription.subscribed(timeout=5.0)
        async with asyncio.timeout(5.0):
            expires_at = await client.refresh({"token": "renewed"})
        assert expires_at is not None
        assert time.time() + 50 < expires_at < time.time() + 61
        # The control's token expires after the first one did: once it is closed, so would the client have been.
        assert await control.closed(limit=5.0) == (CloseCode.FORBIDDEN, "Credentials expired")
        await server.acall(server.app.pubsub.publish("news", "after the first token"))
        event = await anext(subscription)
        assert event["topic"] == "after the first token"
        assert await client.execute("{ whoami }") == {"whoami": "alice"}
        assert client.connects == 1  # refreshed in place, never reconnected


async def test_a_refused_refresh_closes_the_client_with_4403(auth_server: AuthServer) -> None:
    auth_server.tokens.lifetimes["good"] = ("alice", 60.0)
    async with Client(auth_server.server.ws_url, connection_params={"token": "good"}) as client:
        with pytest.raises(ConnectionClosedError) as refused:
            async with asyncio.timeout(5.0):
                await client.refresh({"token": "forged"})
        assert (refused.value.close_code, refused.value.reason) == (CloseCode.FORBIDDEN, "Forbidden")
