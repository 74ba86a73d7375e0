"""`query ... @live` end to end over graphql-transport-ws (and HTTP), on a real uvicorn socket.

"Nothing arrives" is proven with barriers, never with a quiet period: a Ping's Pong is queued behind every
frame already queued, and a probe query invalidated after an unrelated key is re-run no earlier than the
query under test would have been (same window, scheduled later), so the hub's execution counter settles it.
"""

from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from livegql import LiveGQL
from livegql.core.jsonpatch import apply
from livegql.engine.schema import with_live_directive
from tests.support.live_helpers import (
    COUNTER,
    MESSAGES,
    SDL,
    Store,
    barrier,
    executions,
    listeners,
    make_app,
    next_payload,
    next_payloads,
    query_count,
    subscribe,
    update,
)
from tests.support.server import LiveServer, serve
from tests.support.waiting import until
from tests.support.wsclient import RawPeer, connect

GENERAL = {"room": "general"}
HI = {"id": "1", "text": "hi"}


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def app(store: Store) -> LiveGQL:  # the `server` fixture (tests/conftest.py) serves this app
    return make_app(store)


def messages(*items: dict[str, str]) -> dict[str, Any]:
    return {"data": {"messages": list(items)}}


async def test_pushes_each_new_result_until_the_client_completes(server: LiveServer, store: Store) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "a", MESSAGES, GENERAL)
        assert await next_payload(peer, "a") == messages(HI)
        await update(server, "Query.messages", change=lambda: store.post("general", "2", "yo"))
        assert await next_payload(peer, "a") == messages(HI, {"id": "2", "text": "yo"})
        assert await barrier(peer) == []  # still open: no Complete from the server
        assert await query_count(server) == 1

        await peer.send({"id": "a", "type": "complete"})
        assert await barrier(peer) == []  # the Complete was handled before the Ping
        assert await query_count(server) == 0
        await subscribe(peer, "probe", COUNTER)
        assert await next_payload(peer, "probe") == {"data": {"counter": 0}}
        before = await executions(server)

        def change() -> None:
            store.post("general", "3", "gone")
            store.counter = 1

        await update(server, "Query.messages", "Query.counter", change=change)
        assert await next_payload(peer, "probe") == {"data": {"counter": 1}}  # nothing for "a" came first
        assert await executions(server) == before + 1


async def test_object_keys_and_custom_keys_refresh_but_unrelated_keys_do_not(server: LiveServer, store: Store) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "m", MESSAGES, GENERAL)
        await subscribe(peer, "probe", COUNTER)
        assert await next_payloads(peer, "m", "probe") == {"m": messages(HI), "probe": {"data": {"counter": 0}}}
        before = await executions(server)

        store_edit = {"id": "1", "text": "edited"}
        await update(server, change=lambda: store.edit("general", "1", "edited"))  # no keys: nobody is told
        for unrelated in ("Message:999", "Query.other", "Room:random", "Item:1"):
            await update(server, unrelated)
        await update(server, "Query.counter", change=lambda: setattr(store, "counter", 1))
        assert await next_payload(peer, "probe") == {"data": {"counter": 1}}
        assert await executions(server) == before + 1  # the probe ran, the messages query did not

        await update(server, "Message:1")  # an object the result holds
        assert await next_payload(peer, "m") == messages(store_edit)
        await update(server, "Room:general", change=lambda: store.post("general", "2", "yo"))  # a resolver's key
        assert await next_payload(peer, "m") == messages(store_edit, {"id": "2", "text": "yo"})
        assert await executions(server) == before + 3


async def test_an_unchanged_result_is_not_sent_again(server: LiveServer, store: Store) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "m", MESSAGES, GENERAL)
        assert await next_payload(peer, "m") == messages(HI)
        before = await executions(server)
        await update(server, "Query.messages")

        async def ran() -> bool:
            return await executions(server) == before + 1

        await until(ran, what="the re-execution")
        assert await barrier(peer) == []  # resolvers are synchronous: a new result would be queued by now
        await update(server, "Message:1", change=lambda: store.edit("general", "1", "new"))
        assert await next_payload(peer, "m") == messages({"id": "1", "text": "new"})


async def test_a_burst_of_invalidations_within_the_window_runs_the_query_once(store: Store) -> None:
    with serve(make_app(store, live_coalesce_window=0.5)) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await subscribe(peer, "c", COUNTER)
            assert await next_payload(peer, "c") == {"data": {"counter": 0}}
            before = await executions(server)
            for _ in range(20):  # separate broker messages, each its own round trip to the server
                await update(server, "Query.counter", change=lambda: setattr(store, "counter", store.counter + 1))
            assert await next_payload(peer, "c") == {"data": {"counter": 20}}
            assert await executions(server) == before + 1
            await update(server, "Query.counter", change=lambda: setattr(store, "counter", 21))
            assert await next_payload(peer, "c") == {"data": {"counter": 21}}  # no second run was left pending
            assert await executions(server) == before + 2


async def test_thirty_watchers_share_one_execution_per_invalidation(server: LiveServer, store: Store) -> None:
    async with AsyncExitStack() as stack:
        peers = [await stack.enter_async_context(connect(server.ws_url)) for _ in range(30)]
        for peer in peers:
            await peer.init()
            await subscribe(peer, "c", COUNTER)
        for peer in peers:
            assert await next_payload(peer, "c") == {"data": {"counter": 0}}
        assert (await executions(server), await query_count(server)) == (1, 1)
        for round in (1, 2, 3):
            await update(server, "Query.counter", change=lambda: setattr(store, "counter", store.counter + 1))
            for peer in peers:
                assert await next_payload(peer, "c") == {"data": {"counter": round}}
            assert await executions(server) == 1 + round


async def test_different_variables_are_different_live_queries(server: LiveServer, store: Store) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "g", MESSAGES, GENERAL)
        await subscribe(peer, "r", MESSAGES, {"room": "random"})
        assert await next_payloads(peer, "g", "r") == {"g": messages(HI), "r": messages({"id": "7", "text": "meh"})}
        assert await query_count(server) == 2
        before = await executions(server)
        await update(server, "Room:random", change=lambda: store.post("random", "8", "new"))
        assert await next_payload(peer, "r") == messages({"id": "7", "text": "meh"}, {"id": "8", "text": "new"})
        await update(server, "Query.messages")  # both re-run; general is unchanged, so only a barrier follows
        await until(lambda: _executions_reached(server, before + 3), what="both queries to re-run")
        assert await barrier(peer) == []


async def _executions_reached(server: LiveServer, count: int) -> bool:
    return await executions(server) >= count


async def test_users_with_different_identities_do_not_share(store: Store) -> None:
    def on_connect(params: dict[str, Any], _: object) -> dict[str, Any]:
        return {"user": params["user"]}

    query = "query @live { viewer counter }"
    with serve(make_app(store, on_connect=on_connect)) as server:
        async with connect(server.ws_url) as ann, connect(server.ws_url) as bob, connect(server.ws_url) as ann2:
            for peer, user in ((ann, "ann"), (bob, "bob"), (ann2, "ann")):
                await peer.init({"user": user})
                await subscribe(peer, "v", query)
                assert await next_payload(peer, "v") == {"data": {"viewer": user, "counter": 0}}
            assert await query_count(server) == 2  # ann's two connections share
            before = await executions(server)
            await update(server, "Query.counter", change=lambda: setattr(store, "counter", 5))
            for peer, user in ((ann, "ann"), (bob, "bob"), (ann2, "ann")):
                assert await next_payload(peer, "v") == {"data": {"viewer": user, "counter": 5}}
            assert await executions(server) == before + 2


async def test_patch_clients_get_numbered_results_then_patches(server: LiveServer, store: Store) -> None:
    async with connect(server.ws_url) as patcher, connect(server.ws_url) as plain:
        await patcher.init({"livePatches": True})
        await plain.init()
        await subscribe(patcher, "m", MESSAGES, GENERAL)
        await subscribe(plain, "m", MESSAGES, GENERAL)
        first = await next_payload(patcher, "m")
        assert first == {"data": {"messages": [HI]}, "revision": 1}
        assert await next_payload(plain, "m") == messages(HI)
        data = first["data"]
        changes = [
            lambda: store.post("general", "2", "yo"),
            lambda: store.edit("general", "1", "hello"),
            lambda: store.rooms.update(general=[]),
        ]
        for revision, change in enumerate(changes, start=2):
            await update(server, "Query.messages", change=change)
            update_ = await next_payload(patcher, "m")
            assert set(update_) == {"patch", "revision"}
            assert update_["revision"] == revision
            expected = await next_payload(plain, "m")
            assert set(expected) == {"data"}
            data = apply(data, update_["patch"])
            assert data == expected["data"]


async def test_patches_asked_for_in_extensions_and_late_joiners_get_a_full_revision(store: Store) -> None:
    with serve(make_app(store, share="public")) as server:
        async with connect(server.ws_url) as patcher, connect(server.ws_url) as plain:
            await patcher.init()
            await plain.init()
            await subscribe(patcher, "m", MESSAGES, GENERAL, extensions={"livePatches": "json-patch"})
            assert await next_payload(patcher, "m") == {"data": {"messages": [HI]}, "revision": 1}
            await update(server, "Query.messages", change=lambda: store.post("general", "2", "yo"))
            patch = await next_payload(patcher, "m")
            assert patch["revision"] == 2
            data = apply({"messages": [HI]}, patch["patch"])
            await subscribe(plain, "m", MESSAGES, GENERAL)
            assert await next_payload(plain, "m") == {"data": data}  # no revision for a plain client
            assert await query_count(server) == 1  # one shared query serves both kinds
            await subscribe(patcher, "late", MESSAGES, GENERAL, extensions={"livePatches": True})
            assert await next_payload(patcher, "late") == {"data": data, "revision": 2}


async def _one_shot(peer: RawPeer, id: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    await subscribe(peer, id, query, variables)
    payload = await next_payload(peer, id)
    assert await peer.receive() == {"id": id, "type": "complete"}
    return payload


async def test_live_if_false_and_plain_queries_are_one_shot(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        assert await _one_shot(peer, "a", "query @live(if: false) { counter }") == {"data": {"counter": 0}}
        assert await _one_shot(peer, "b", "query { counter }") == {"data": {"counter": 0}}
        query = "query Q($live: Boolean!) @live(if: $live) { counter }"
        assert await _one_shot(peer, "c", query, {"live": False}) == {"data": {"counter": 0}}
        await subscribe(peer, "d", query, {"live": True})
        assert await next_payload(peer, "d") == {"data": {"counter": 0}}
        assert await barrier(peer) == []  # live: no Complete
        assert await query_count(server) == 1


async def test_live_if_a_variable_that_defaults_to_false_is_one_shot(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "a", "query Q($live: Boolean = false) @live(if: $live) { counter }")
        assert await next_payload(peer, "a") == {"data": {"counter": 0}}
        assert await barrier(peer) == [{"id": "a", "type": "complete"}]  # queued with the Next, before the Pong
        assert await query_count(server) == 0


async def test_live_over_http_is_a_single_result(server: LiveServer) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        response = await client.post(server.http_url, json={"query": COUNTER}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"data": {"counter": 0}}


async def test_an_sdl_without_live_validates_it_and_one_declaring_its_own_keeps_it(store: Store) -> None:
    assert make_app(store).schema.get_directive("live") is not None
    own = make_app(store, sdl="directive @live(if: Boolean = true, throttle: Int) on QUERY\n" + SDL)
    directive = own.schema.get_directive("live")
    assert directive is not None
    assert set(directive.args) == {"if", "throttle"}
    assert with_live_directive(own.schema) is own.schema
    with serve(own) as server:
        async with connect(server.ws_url) as peer:
            await peer.init()
            await subscribe(peer, "c", "query @live(throttle: 3) { counter }")
            assert await next_payload(peer, "c") == {"data": {"counter": 0}}
            await update(server, "Query.counter", change=lambda: setattr(store, "counter", 1))
            assert await next_payload(peer, "c") == {"data": {"counter": 1}}


async def test_a_live_query_that_does_not_validate_gets_an_error(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        for id, query, variables in (
            ("a", "query @live { nope }", None),
            ("b", "query @live { messages { id } }", None),
            ("c", MESSAGES, {"room": 5}),
        ):
            await subscribe(peer, id, query, variables)
            error = await peer.receive()
            assert (error["type"], error["id"]) == ("error", id)
            assert error["payload"]
        assert await query_count(server) == 0
        assert await _one_shot(peer, "ok", "{ counter }") == {"data": {"counter": 0}}


async def test_a_resolver_error_is_a_masked_result_and_the_query_goes_on(server: LiveServer, store: Store) -> None:
    store.broken = True
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "m", MESSAGES, GENERAL)
        failed = await next_payload(peer, "m")
        assert failed["data"] is None
        assert [error["message"] for error in failed["errors"]] == ["Internal server error"]
        assert "password" not in str(failed)
        await update(server, "Query.messages", change=lambda: setattr(store, "broken", False))
        assert await next_payload(peer, "m") == messages(HI)


async def test_a_result_that_cannot_be_encoded_ends_the_live_query_with_an_error(server: LiveServer) -> None:
    async with connect(server.ws_url) as peer:
        await peer.init()
        await subscribe(peer, "once", "{ price }")
        assert (await peer.receive())["type"] == "error"
        await subscribe(peer, "live", "query @live { price }")
        error = await peer.receive(limit=2.0)
        assert (error["type"], error["id"]) == ("error", "live")


async def test_disconnecting_every_watcher_releases_the_queries_and_the_broker(server: LiveServer) -> None:
    async with connect(server.ws_url) as first, connect(server.ws_url) as second:
        for peer in (first, second):
            await peer.init()
            await subscribe(peer, "m", MESSAGES, GENERAL)
            await subscribe(peer, "c", COUNTER)
            await next_payloads(peer, "m", "c")
        assert (await query_count(server), await listeners(server)) == (2, 1)

    async def released() -> bool:
        return (await query_count(server), await listeners(server)) == (0, 0)

    await until(released, what="the live queries and their broker listener to go")
