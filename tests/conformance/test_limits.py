"""The size limits hold on every transport, each refusing with its protocol's code, and the client (where the
protocol keeps one connection) stays usable after a refused operation."""

import pytest

from livegql.protocol import CloseCode
from tests.conformance.base import Refused
from tests.conformance.conftest import LIMITS, connected
from tests.support.server import LiveServer

QUERY_LIMIT = LIMITS["max_query_bytes"]
# Over max_query_bytes, under max_message_bytes and max_body_bytes: only the query limit can refuse it.
LONG_QUERY = "{ " + " ".join(["hello"] * 60) + " }"
HTTP_TRANSPORTS = {"sse-distinct", "sse-single", "multipart"}
# Over max_message_bytes and max_body_bytes.
HUGE_QUERY = "{ " + " ".join(["hello"] * 500) + " }"


async def test_a_query_over_max_query_bytes_is_refused(transport: str, limited: LiveServer) -> None:
    assert QUERY_LIMIT < len(LONG_QUERY) < LIMITS["max_message_bytes"] - 100
    message = f"Query text exceeds {QUERY_LIMIT} bytes"
    async with connected(transport, limited) as client:
        if transport in HTTP_TRANSPORTS:
            # The HTTP transports refuse the request itself (GraphQL over HTTP's 413).
            with pytest.raises(Refused) as refused:
                await client.run(LONG_QUERY)
            assert (refused.value.code, refused.value.reason) == (413, message)
        else:
            # The WebSocket protocols refuse the operation and keep the connection.
            outcome = await client.run(LONG_QUERY)
            assert outcome.error_messages() == [message]
        after = await client.run("{ hello }")
    assert after.results == [{"data": {"hello": "Hello, world!"}}]


async def test_a_message_or_body_over_its_size_limit_is_refused(transport: str, limited: LiveServer) -> None:
    assert len(HUGE_QUERY) > LIMITS["max_message_bytes"]
    with pytest.raises(Refused) as refused:
        async with connected(transport, limited) as client:
            await client.run(HUGE_QUERY)
    # A WebSocket message over max_message_bytes closes with 4400; an HTTP body over max_body_bytes is 413.
    expected = 413 if transport in HTTP_TRANSPORTS else CloseCode.BAD_REQUEST
    assert refused.value.code == expected
