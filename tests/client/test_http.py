"""`HTTPClient` against a real LiveGQL server: data, GraphQL errors, refused connections, non-GraphQL answers."""

import asyncio

import pytest

from livegql.client import ClientConnectionError, ClientError, HTTPClient
from tests.client.support import closed_port
from tests.support.server import LiveServer


async def test_execute_returns_the_data_of_queries_and_mutations(server: LiveServer) -> None:
    async with HTTPClient(server.http_url) as client:
        assert await client.execute("{ hello }") == {"hello": "Hello, world!"}
        document = "query A { add(a: 1, b: 2) } query B($n: String) { hello(name: $n) }"
        assert await client.execute(document, {"n": "ann"}, "B") == {"hello": "Hello, ann!"}
        assert await client.execute('mutation { publish(topic: "t", text: "x") }') == {"publish": True}


async def test_a_request_error_raises_client_error_with_the_errors(server: LiveServer) -> None:
    async with HTTPClient(server.http_url) as client:
        with pytest.raises(ClientError, match="Cannot query field 'nope'") as raised:
            await client.execute("{ nope }")  # a 400 with application/graphql-response+json
        assert raised.value.errors[0]["locations"] == [{"line": 1, "column": 3}]
        with pytest.raises(ClientError, match="Variable '\\$n'"):
            await client.execute("query($n: Int!) { add(a: $n, b: 1) }", {"n": "x"})


async def test_a_resolver_error_raises_client_error(server: LiveServer) -> None:
    async with HTTPClient(server.http_url) as client:
        with pytest.raises(ClientError, match="Internal server error") as raised:
            await client.execute("{ boom }")
        assert raised.value.errors[0]["path"] == ["boom"]


async def test_a_refused_connection_names_the_address() -> None:
    port = closed_port()
    async with HTTPClient(f"http://127.0.0.1:{port}/graphql") as client:
        with pytest.raises(ClientConnectionError, match=f"cannot connect to 127.0.0.1:{port}: connection refused"):
            await client.execute("{ hello }")


async def test_an_answer_that_is_not_graphql_raises_client_error_with_the_status(server: LiveServer) -> None:
    async with HTTPClient(f"http://127.0.0.1:{server.port}/elsewhere") as client:
        with pytest.raises(ClientError, match="answered HTTP 404 Not Found") as raised:
            await client.execute("{ hello }")
        assert raised.value.errors == []


def test_urls_other_than_http_are_refused() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        HTTPClient("ws://127.0.0.1/graphql")


async def test_a_server_that_never_answers_times_out() -> None:
    async def accept_and_ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()

    async with await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0) as silent:
        port = silent.sockets[0].getsockname()[1]
        async with HTTPClient(f"http://127.0.0.1:{port}/graphql", timeout=0.2) as client:
            with pytest.raises(ClientConnectionError, match=r"did not answer within 0\.2s"):
                await client.execute("{ hello }")
