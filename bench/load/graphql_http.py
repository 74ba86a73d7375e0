"""GraphQL over one keep-alive HTTP/1.1 connection, for the drivers' own requests (publish, bump, counters)."""

from typing import Any

import orjson

from bench.load.http1 import HTTPConnection, connect_http, encode_post


class GraphQLOverHTTP:
    """POSTs operations one at a time; reopens the connection if the server closed it while idle."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.connection: HTTPConnection | None = None

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> tuple[int, bytes]:
        """(status, body) of one operation.

        A server may close a keep-alive connection that sat idle (uvicorn and Node after 5 s) just as a request
        goes out on it: then the request is sent once more on a new connection.
        """
        raw = encode_post(self.host, self.port, self.path, orjson.dumps({"query": query, "variables": variables or {}}))
        if self.connection is not None and not self.connection.closed:
            try:
                return await self.connection.request(raw)
            except ConnectionError:
                self.connection.close()
        self.connection = await connect_http(self.host, self.port)
        return await self.connection.request(raw)

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a successful answer; ValueError (with the answer) for anything else."""
        status, body = await self.execute(query, variables)
        answer = orjson.loads(body) if body.startswith(b"{") else {}
        if status != 200 or answer.get("errors") or not isinstance(answer.get("data"), dict):
            raise ValueError(f"status {status}: {body[:300]!r}")
        data: dict[str, Any] = answer["data"]
        return data

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
