"""Conformance adapters for the HTTP streaming transports: SSE (distinct and single connection modes) and
Apollo multipart subscriptions. Bodies are read incrementally and parsed here, per their specs."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx

from livegql.core import json
from tests.conformance.base import STEP_TIMEOUT, Outcome, Refused

SSE = "text/event-stream"
MULTIPART = 'multipart/mixed;subscriptionSpec="1.0", application/json'
TOKEN_HEADER = "x-graphql-event-stream-token"


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of each event of a text/event-stream body; comments and ids are skipped."""
    event, data = "", list[str]()
    async for line in response.aiter_lines():
        if line == "":
            if event or data:
                yield event, "\n".join(data)
            event, data = "", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


async def multipart_parts(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Each JSON part of a multipart/mixed body with boundary "graphql", heartbeats ({}) included."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while True:
            start = buffer.find("--graphql")
            end = buffer.find("--graphql", start + 1) if start >= 0 else -1
            if start < 0 or end < 0:
                break
            part, buffer = buffer[start:end], buffer[end:]
            _, _, body = part.partition("\r\n\r\n")
            yield json.loads(body.strip())
        if buffer.startswith("--graphql--"):
            return


class _Reader:
    """One streamed operation's results, read from `items` (payload dicts, or _END)."""

    def __init__(self, response: httpx.Response, items: AsyncIterator[Any]) -> None:
        self.response = response
        self.items = items

    async def _take(self) -> Any:
        async with asyncio.timeout(STEP_TIMEOUT):
            return await anext(self.items, _END)

    async def next(self) -> dict[str, Any]:
        item = await self._take()
        if item is _END:
            raise AssertionError("the stream ended instead of sending a result")
        payload: dict[str, Any] = item
        return payload

    async def ended(self) -> bool | None:
        return await self._take() is _END

    async def outcome(self) -> Outcome:
        outcome = Outcome()
        while (item := await self._take()) is not _END:
            outcome.results.append(item)
        await self.response.aclose()
        return outcome

    async def cancel(self) -> None:
        await self.response.aclose()  # the client going away is how a distinct stream is stopped


_END = object()


async def _sse_payloads(response: httpx.Response) -> AsyncIterator[Any]:
    async for event, data in sse_events(response):
        if event == "next":
            yield json.loads(data)
        elif event == "complete":
            return


async def _multipart_payloads(response: httpx.Response) -> AsyncIterator[Any]:
    async for part in multipart_parts(response):
        if "payload" in part:
            yield part["payload"] if part["payload"] is not None else {"errors": part.get("errors")}


class _Distinct:
    """A client whose every operation is its own HTTP request (SSE distinct mode, multipart)."""

    accept = SSE

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.http = httpx.AsyncClient(timeout=STEP_TIMEOUT, headers={"authorization": f"Bearer {token}"})

    async def _open(self, query: str, variables: dict[str, Any] | None) -> _Reader:
        request = self.http.build_request(
            "POST", self.url, json={"query": query, "variables": variables}, headers={"accept": self.accept}
        )
        response = await self.http.send(request, stream=True)
        if response.status_code != httpx.codes.OK:
            body = json.loads(await response.aread())
            raise Refused(response.status_code, body["errors"][0]["message"])
        return _Reader(response, self._payloads(response))

    def _payloads(self, response: httpx.Response) -> AsyncIterator[Any]:
        return _sse_payloads(response)

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Outcome:
        return await (await self._open(query, variables)).outcome()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> _Reader:
        return await self._open(query, variables)

    async def aclose(self) -> None:
        await self.http.aclose()


class SSEDistinct(_Distinct):
    accept = SSE


class Multipart(_Distinct):
    accept = MULTIPART

    def _payloads(self, response: httpx.Response) -> AsyncIterator[Any]:
        if response.headers["content-type"].startswith("application/json"):
            return _one_json(response)  # queries and mutations: Apollo asks for JSON beside multipart
        return _multipart_payloads(response)


async def _one_json(response: httpx.Response) -> AsyncIterator[Any]:
    yield json.loads(await response.aread())


class SSESingle:
    """graphql-sse single connection mode: PUT a reservation, GET its stream, POST and DELETE operations."""

    def __init__(self, url: str, http: httpx.AsyncClient, token: str, stream: httpx.Response) -> None:
        self.url = url
        self.http = http
        self.token = token
        self.stream = stream
        self.ids = (str(n) for n in itertools.count(1))
        self.queues: dict[str, asyncio.Queue[Any]] = {}
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url: str, token: str) -> "SSESingle":
        http = httpx.AsyncClient(timeout=STEP_TIMEOUT, headers={"authorization": f"Bearer {token}"})
        reserved = await http.put(url)
        if reserved.status_code != httpx.codes.CREATED:
            await http.aclose()
            raise Refused(reserved.status_code, reserved.json()["errors"][0]["message"])
        stream_token = reserved.text
        request = http.build_request("GET", url, headers={"accept": SSE, TOKEN_HEADER: stream_token})
        stream = await http.send(request, stream=True)
        assert stream.status_code == httpx.codes.OK, stream.status_code
        return cls(url, http, stream_token, stream)

    async def _read(self) -> None:
        try:
            async for event, data in sse_events(self.stream):
                message = json.loads(data)
                queue = self.queues.get(message["id"])
                if queue is not None:
                    queue.put_nowait(message["payload"] if event == "next" else _END)
            failure: BaseException = AssertionError("the event stream ended")
        except Exception as error:
            failure = error
        for queue in self.queues.values():  # whoever waits learns why nothing more comes
            queue.put_nowait(failure)

    async def _start(self, query: str, variables: dict[str, Any] | None) -> "_SingleOperation":
        id = next(self.ids)
        self.queues[id] = asyncio.Queue()
        body = {"query": query, "variables": variables, "extensions": {"operationId": id}}
        response = await self.http.post(self.url, json=body, headers={TOKEN_HEADER: self.token})
        if response.status_code != httpx.codes.ACCEPTED:
            raise Refused(response.status_code, response.json()["errors"][0]["message"])
        return _SingleOperation(self, id)

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> Outcome:
        operation = await self._start(query, variables)
        outcome = Outcome()
        while (item := await operation.take()) is not _END:
            outcome.results.append(item)
        return outcome

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> "_SingleOperation":
        return await self._start(query, variables)

    async def aclose(self) -> None:
        self.reader.cancel()
        await self.stream.aclose()
        await self.http.aclose()


class _SingleOperation:
    def __init__(self, client: SSESingle, id: str) -> None:
        self.client = client
        self.id = id

    async def take(self) -> Any:
        async with asyncio.timeout(STEP_TIMEOUT):
            item = await self.client.queues[self.id].get()
        if isinstance(item, BaseException):
            raise item
        return item

    async def next(self) -> dict[str, Any]:
        item = await self.take()
        if item is _END:
            raise AssertionError(f"operation {self.id} completed instead of sending a result")
        payload: dict[str, Any] = item
        return payload

    async def ended(self) -> bool | None:
        return await self.take() is _END

    async def cancel(self) -> None:
        client = self.client
        headers = {TOKEN_HEADER: client.token}
        response = await client.http.delete(client.url, params={"operationId": self.id}, headers=headers)
        assert response.status_code == httpx.codes.OK, response.text
