"""Revocation reaches every process serving the app: two servers share one Redis, the user is revoked on one
and their socket on the other closes 4403, while another user's socket there stays open."""

from collections.abc import Iterator

import pytest

from livegql import LiveGQL, PubSub
from livegql.protocol import CloseCode
from tests.security.auth_app import Tokens
from tests.support.redis import delete_keys, redis_url_or_skip, unique_prefix
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer, serve
from tests.support.waiting import until
from tests.support.wsclient import connect


@pytest.fixture
def two_servers() -> Iterator[tuple[LiveServer, LiveServer, Tokens]]:
    redis_url, prefix = redis_url_or_skip(), unique_prefix()
    tokens = Tokens({"a": ("alice", None), "b": ("bob", None)})
    apps = [
        LiveGQL(
            SDL,
            resolvers=make_resolvers(),
            pubsub=PubSub.from_url(f"{redis_url}?key_prefix={prefix}"),
            on_connect=tokens.on_connect,
        )
        for _ in range(2)
    ]
    with serve(apps[0]) as first, serve(apps[1]) as second:
        try:
            yield first, second, tokens
        finally:
            for server in (first, second):
                server.call(server.app.close())
                server.call(server.app.pubsub.close())
    delete_keys(redis_url, prefix)


async def _listening(server: LiveServer) -> bool:
    async def check() -> bool:
        return server.app._revocations.listening

    return await server.acall(check())


async def test_a_revocation_on_one_server_closes_the_users_socket_on_another(
    two_servers: tuple[LiveServer, LiveServer, Tokens],
) -> None:
    first, second, _ = two_servers
    async with connect(second.ws_url) as alice, connect(second.ws_url) as bob:
        await alice.init({"token": "a"})
        await bob.init({"token": "b"})
        await until(lambda: _listening(second), what="the second server's revocation listener")

        async def revoke() -> int:
            return await first.app.revoke("user:alice")

        assert await first.acall(revoke()) == 0  # nobody on the first server
        assert await alice.closed() == (CloseCode.FORBIDDEN, "Revoked")
        await bob.subscribe("1", "{ whoami }")
        assert (await bob.receive_type("next"))["payload"]["data"] == {"whoami": "bob"}
