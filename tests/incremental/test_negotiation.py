"""Which response a deferred query gets, by its Accept header: incremental multipart in the format the client
names (Apollo Client's two handlers, urql's plain `multipart/mixed`), an SSE stream for graphql-sse clients,
one complete JSON result for a client that reads nothing else."""

from http import HTTPStatus

import pytest

from tests.incremental.holds import Holds
from tests.support.server import LiveServer
from tests.support.streams import MultipartReader, open_stream, stream_client

pytestmark = pytest.mark.gql33

DEFER = "query($k: String!) { hello ... @defer { held(key: $k) } }"
URQL = (
    "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
)


@pytest.mark.parametrize(
    ("accept", "content_type", "last"),
    [
        # Apollo Client's GraphQL17Alpha9Handler: graphql-core 3.3's own format.
        (
            "multipart/mixed;incrementalSpec=v0.2, application/json;q=0.9",
            'multipart/mixed;boundary="graphql";incrementalSpec=v0.2',
            {"incremental": [{"data": {"held": "released {key}"}, "id": "0"}], "completed": [{"id": "0"}]},
        ),
        # Apollo Client's Defer20220824Handler, Apollo Router's format: paths instead of ids.
        (
            "multipart/mixed;deferSpec=20220824, application/json;q=0.9",
            'multipart/mixed;boundary="graphql";deferSpec=20220824',
            {"incremental": [{"data": {"held": "released {key}"}, "path": []}]},
        ),
        # urql lists JSON first and plain multipart last: a deferred query still streams, in the 2022 format.
        (
            URQL,
            'multipart/mixed;boundary="graphql";deferSpec=20220824',
            {"incremental": [{"data": {"held": "released {key}"}, "path": []}]},
        ),
    ],
)
async def test_a_deferred_query_streams_in_the_multipart_format_the_client_names(
    served: LiveServer, holds: Holds, accept: str, content_type: str, last: dict[str, object]
) -> None:
    hold = holds.new()
    async with (
        stream_client() as client,
        open_stream(client, served.http_url, {"query": DEFER, "variables": {"k": hold.key}}, accept=accept) as response,
    ):
        assert response.status_code == HTTPStatus.OK
        assert response.headers["content-type"] == content_type
        parts = MultipartReader(response)
        first = await parts.payload()
        assert first["data"] == {"hello": "world"}
        assert first["hasNext"] is True
        await hold.until_started()
        hold.release(served)
        second = await parts.payload()
        expected = {key: _with_key(value, hold.key) for key, value in last.items()}
        assert second == {**expected, "hasNext": False}
        assert await parts.part() is None  # the close-delimiter ends the body


async def test_a_query_without_defer_from_the_same_clients_is_plain_json(served: LiveServer) -> None:
    async with stream_client() as client:
        response = await client.post(served.http_url, json={"query": "{ hello }"}, headers={"accept": URQL})
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json() == {"data": {"hello": "world"}}


def _with_key(value: object, key: str) -> object:
    """`value` with "{key}" filled in wherever it occurs in a string."""
    if isinstance(value, str):
        return value.replace("{key}", key)
    if isinstance(value, list):
        return [_with_key(item, key) for item in value]
    if isinstance(value, dict):
        return {name: _with_key(item, key) for name, item in value.items()}
    return value


async def test_a_client_reading_only_incremental_multipart_gets_a_plain_query_as_one_part(served: LiveServer) -> None:
    accept = "multipart/mixed;incrementalSpec=v0.2"  # no JSON at all: the answer must still be something it reads
    async with (
        stream_client() as client,
        open_stream(client, served.http_url, {"query": "{ hello }"}, accept=accept) as response,
    ):
        assert response.status_code == HTTPStatus.OK
        parts = MultipartReader(response)
        assert await parts.payload() == {"data": {"hello": "world"}}
        assert await parts.part() is None
