"""The same scenarios over every transport livegql serves: a query, a mutation, a subscription of 100 events
in order, a client cancelling a subscription, a validation error, and a refusal by `on_connect`.

A transport that passes here answers like the others, goes through the same admission hook and releases
what a cancelled subscription held on the server.
"""

import pytest

from livegql import PubSub
from livegql.broker.base import Subscription
from tests.conformance.base import REJECT_REASON, Refused
from tests.conformance.conftest import Gate, connected
from tests.support.server import LiveServer
from tests.support.waiting import until

# Close code (WebSocket protocols) or HTTP status (the HTTP transports) of a refusal by on_connect.
REFUSAL_CODES = {4403, 403}


async def test_a_query_answers_with_its_data(transport: str, guarded: LiveServer, gate: Gate) -> None:
    async with connected(transport, guarded) as client:
        outcome = await client.run('{ hello(name: "conformance") whoami }')
    assert outcome.results == [{"data": {"hello": "Hello, conformance!", "whoami": "conformer"}}]
    assert outcome.error is None
    assert gate.admitted >= 1


async def test_a_mutation_runs_its_resolver_once(transport: str, guarded: LiveServer, pubsub: PubSub) -> None:
    topic = f"conformance-mutation-{transport}"

    async def listen() -> Subscription:
        return pubsub.subscribe(topic)

    listener = await guarded.acall(listen())
    async with connected(transport, guarded) as client:
        outcome = await client.run(f'mutation {{ publish(topic: "{topic}", text: "sent") }}')
    assert outcome.results == [{"data": {"publish": True}}]
    assert await guarded.acall(anext(listener)) == "sent"
    assert pubsub.subscriber_count(topic) == 1  # ours only: the mutation left nothing subscribed


async def test_a_subscription_delivers_100_events_in_order_then_ends(transport: str, guarded: LiveServer) -> None:
    async with connected(transport, guarded) as client:
        stream = await client.subscribe("subscription { count(to: 100) }")
        values = [(await stream.next())["data"]["count"] for _ in range(100)]
        ended = await stream.ended()
    assert values == list(range(1, 101))
    assert ended is not False  # completed (None: plain mode has no completion message)


async def test_a_cancelled_subscription_is_released_on_the_server(
    transport: str, guarded: LiveServer, pubsub: PubSub
) -> None:
    topic = f"conformance-cancel-{transport}"

    async def subscribed() -> bool:
        return pubsub.subscriber_count(topic) == 1

    async def released() -> bool:
        return pubsub.subscriber_count(topic) == 0

    async with connected(transport, guarded) as client:
        stream = await client.subscribe(f'subscription {{ topic(name: "{topic}") }}')
        await until(subscribed, what="the subscription to reach the broker")
        await guarded.acall(pubsub.publish(topic, "first"))
        assert (await stream.next())["data"] == {"topic": "first"}
        await stream.cancel()
        await until(released, what="the cancelled subscription's broker subscriber to go")
        # The client is still served after cancelling (a distinct-stream client makes a new request).
        outcome = await client.run("{ hello }")
    assert outcome.results == [{"data": {"hello": "Hello, world!"}}]


async def test_a_validation_error_is_reported_and_the_client_stays_usable(transport: str, guarded: LiveServer) -> None:
    async with connected(transport, guarded) as client:
        invalid = await client.run("{ nope }")
        after = await client.run("{ hello }")
    messages = invalid.error_messages()
    assert len(messages) == 1
    assert "nope" in messages[0]
    assert all("data" not in result or result["data"] is None for result in invalid.results)
    assert after.results == [{"data": {"hello": "Hello, world!"}}]


async def test_on_connect_refuses_a_wrong_token_before_anything_runs(
    transport: str, guarded: LiveServer, gate: Gate, pubsub: PubSub
) -> None:
    topic = f"conformance-refused-{transport}"
    with pytest.raises(Refused) as refused:
        async with connected(transport, guarded, token="wrong") as client:
            await client.run(f'mutation {{ publish(topic: "{topic}", text: "must not run") }}')
    assert refused.value.code in REFUSAL_CODES
    assert refused.value.reason == REJECT_REASON
    assert gate.refused == 1
    assert gate.admitted == 0
    assert pubsub.topic_count() == 0  # the mutation never ran
