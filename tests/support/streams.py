"""Incremental readers for streaming HTTP responses (Server-Sent Events, Apollo multipart bodies), and the app
the streaming tests serve.

Both read an httpx streaming response as its bytes arrive and hand back one parsed item at a time; every wait
is bounded. They parse as strictly as the clients they stand for: an SSE event is dispatched at its blank line
(WHATWG HTML, "Interpreting an event stream"), and a multipart part is complete only once the delimiter after it
has arrived (RFC 2046 section 5.1.1: the CRLF before a delimiter belongs to the delimiter), which is also when
Apollo Client hands a part on.
"""

import asyncio
import codecs
import re
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from livegql import LiveGQL, PubSub
from livegql.core import json
from livegql.core.errors import ConnectionRejectedError
from tests.support.schema import SDL, make_resolvers
from tests.support.server import LiveServer
from tests.support.waiting import until

RECEIVE_TIMEOUT = 5.0
EVENT_STREAM = "text/event-stream"
MULTIPART = "multipart/mixed;subscriptionSpec=1.0"
_LINE = re.compile(r"\r\n|\r|\n")


@asynccontextmanager
async def stream_client() -> AsyncIterator[httpx.AsyncClient]:
    """An async client that sends no default Accept header (httpx would add `*/*`): each test says what it sends."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        del client.headers["accept"]
        yield client


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any] | None = None,
    *,
    accept: str = EVENT_STREAM,
    method: str = "POST",
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[httpx.Response]:
    """A streaming request (a JSON body when `payload` is given); leaving the block closes the connection."""
    sent = {"accept": accept, **(headers or {})}
    content = None
    if payload is not None:
        sent["content-type"] = "application/json"
        content = json.dumps_bytes(payload)
    async with client.stream(method, url, content=content, params=params, headers=sent) as response:
        yield response


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str
    data: str
    id: str | None  # this event's own `id:` field, None when it has none

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(frozen=True, slots=True)
class Comment:
    text: str


class _Chunks:
    """The response body as text, chunk by chunk; None once it ended.

    Hold the reader that owns this while its stream must stay open: a reader dropped mid-body finalises the
    byte iterator, and httpx then closes the response and its connection (the server sees the client leave).
    """

    def __init__(self, response: httpx.Response) -> None:
        self._bytes: AsyncIterator[bytes] = response.aiter_raw()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.ended = False
        self.raw = bytearray()  # everything received, for checks on the exact body

    async def next(self) -> str | None:
        if self.ended:
            return None
        try:
            chunk = await anext(self._bytes)
        except StopAsyncIteration:
            self.ended = True
            return self._decoder.decode(b"", final=True) or None
        self.raw += chunk
        return self._decoder.decode(chunk)


class SSEParser:
    """Text in, events and comments out, as an EventSource reads them (`id` kept per event, not carried on)."""

    def __init__(self) -> None:
        self._buffer = ""
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, text: str) -> list[SSEEvent | Comment]:
        self._buffer += text
        # A CR ending the text may be the first half of a CRLF: it stays with the unfinished line.
        cut = len(self._buffer) - 1 if self._buffer.endswith("\r") else len(self._buffer)
        *lines, rest = _LINE.split(self._buffer[:cut])
        self._buffer = rest + self._buffer[cut:]
        items: list[SSEEvent | Comment] = []
        for line in lines:
            item = self._line(line)
            if item is not None:
                items.append(item)
        return items

    def _line(self, line: str) -> SSEEvent | Comment | None:
        if line == "":
            event = None
            if self._data:  # a `data:` line, even an empty one, makes the event dispatch
                event = SSEEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data, self._id = None, [], None
            return event
        if line.startswith(":"):
            return Comment(line[1:])
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


class SSEReader:
    """Events and comments of a response, in the order they arrive."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = _Chunks(response)
        self._parser = SSEParser()
        self._items: deque[SSEEvent | Comment] = deque()

    @property
    def raw(self) -> bytes:
        return bytes(self._chunks.raw)

    async def item(self, limit: float = RECEIVE_TIMEOUT) -> SSEEvent | Comment | None:
        """The next event or comment; None when the body ended (an unfinished event is dropped, as by clients)."""
        async with asyncio.timeout(limit):
            while not self._items:
                text = await self._chunks.next()
                if text is None:
                    return None
                self._items.extend(self._parser.feed(text))
        return self._items.popleft()

    async def event(self, limit: float = RECEIVE_TIMEOUT) -> SSEEvent:
        """The next event, skipping comments; fails if the body ends first."""
        async with asyncio.timeout(limit):
            while True:
                item = await self.item(limit)
                if item is None:
                    raise AssertionError("the event stream ended before the next event")
                if isinstance(item, SSEEvent):
                    return item

    async def comment(self, limit: float = RECEIVE_TIMEOUT) -> Comment:
        """The next item, which must be a comment."""
        item = await self.item(limit)
        assert isinstance(item, Comment), f"expected a comment, got {item}"
        return item

    async def end(self, limit: float = RECEIVE_TIMEOUT) -> None:
        """Wait for the body to end; fails if an event arrives meanwhile (comments are allowed)."""
        async with asyncio.timeout(limit):
            while (item := await self.item(limit)) is not None:
                assert isinstance(item, Comment), f"expected the end of the stream, got {item}"


@dataclass(frozen=True, slots=True)
class Part:
    headers: dict[str, str]
    body: Any  # the part's JSON

    @property
    def heartbeat(self) -> bool:
        return isinstance(self.body, dict) and not self.body


class MultipartParser:
    """Text in, complete parts out: a part is complete once the delimiter after it has arrived."""

    def __init__(self, boundary: str) -> None:
        self._delimiter = "\r\n--" + boundary
        self._buffer = ""
        self._started = False  # the first delimiter was seen
        self.closed = False  # the close-delimiter was seen

    @property
    def epilogue(self) -> str:
        """What came after the close-delimiter."""
        return self._buffer if self.closed else ""

    @property
    def pending(self) -> str:
        return self._buffer

    def feed(self, text: str) -> list[Part]:
        self._buffer += text
        if not self._started:
            start = self._buffer.find(self._delimiter)
            if start < 0:
                return []
            assert start == 0, f"unexpected preamble: {self._buffer[:start]!r}"
            self._buffer = self._buffer[len(self._delimiter) :]
            self._started = True
        # The buffer holds what follows a delimiter: "--" (the close-delimiter), or a part up to the next one.
        parts = []
        while not self.closed:
            if self._buffer.startswith("--"):
                self.closed = True
                self._buffer = self._buffer[2:]
                break
            end = self._buffer.find(self._delimiter)
            if end < 0:
                break
            parts.append(_parse_part(self._buffer[:end]))
            self._buffer = self._buffer[end + len(self._delimiter) :]
        return parts


class MultipartReader:
    """The parts of a `multipart/mixed` body whose boundary is read from the response's Content-Type."""

    def __init__(self, response: httpx.Response) -> None:
        match = re.search(r';\s*boundary="?([^";]+)"?', response.headers["content-type"])
        assert match is not None, response.headers["content-type"]
        self._chunks = _Chunks(response)
        self._parser = MultipartParser(match.group(1))
        self._parts: deque[Part] = deque()

    @property
    def raw(self) -> bytes:
        return bytes(self._chunks.raw)

    async def part(self, limit: float = RECEIVE_TIMEOUT) -> Part | None:
        """The next complete part (heartbeats included); None once the close-delimiter arrived."""
        async with asyncio.timeout(limit):
            while not self._parts and not self._parser.closed:
                text = await self._chunks.next()
                if text is None:
                    raise AssertionError(f"the body ended without a close-delimiter: {self._parser.pending!r}")
                self._parts.extend(self._parser.feed(text))
        return self._parts.popleft() if self._parts else None

    async def payload(self, limit: float = RECEIVE_TIMEOUT) -> Any:
        """The next part that is not a heartbeat (its whole JSON); fails at the end of the body."""
        async with asyncio.timeout(limit):
            while True:
                part = await self.part(limit)
                assert part is not None, "the body ended before the next part"
                if not part.heartbeat:
                    return part.body

    async def end(self, limit: float = RECEIVE_TIMEOUT) -> None:
        """Read to the close-delimiter and the end of the body; fails if a part other than a heartbeat comes,
        or anything but a line end follows the close-delimiter."""
        async with asyncio.timeout(limit):
            while (part := await self.part(limit)) is not None:
                assert part.heartbeat, f"expected the end of the body, got {part}"
            while (text := await self._chunks.next()) is not None:
                self._parser.feed(text)
        assert self._parser.epilogue in ("", "\r\n"), f"after the close-delimiter: {self._parser.epilogue!r}"


def _parse_part(text: str) -> Part:
    """A delimiter's line end, then header lines, a blank line and the JSON body."""
    assert text.startswith("\r\n"), f"a delimiter must end its line: {text!r}"
    head, separator, body = text[2:].partition("\r\n\r\n")
    assert separator, f"a part without a blank line after its headers: {text!r}"
    headers = {}
    for line in head.split("\r\n"):
        name, colon, value = line.partition(":")
        assert colon, f"a malformed part header: {line!r}"
        headers[name.strip().lower()] = value.strip()
    assert headers.get("content-type", "").startswith("application/json"), headers
    return Part(headers, json.loads(body))


# --- the app under test -----------------------------------------------------------------------------------------


@dataclass
class Door:
    """`on_connect`: refuses `Bearer no` with a reason, names the user of any other bearer token, and records
    the headers of every request it saw. `ran` lists the texts of the mutations whose resolver actually ran."""

    seen: list[dict[str, str]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    def __call__(self, _params: dict[str, Any], request: Any) -> dict[str, Any] | bool:
        self.seen.append(dict(request.headers))
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token == "no":
            raise ConnectionRejectedError("go away")
        return {"user": token} if token else True


def make_app(door: Door, **settings: Any) -> LiveGQL:
    """The test schema behind `door`, without keep-alives unless asked; `publish` reports to `door.ran`."""
    resolvers = make_resolvers()
    publish = resolvers["Mutation"]["publish"]

    async def recorded_publish(root: Any, info: Any, topic: str, text: str) -> bool:
        door.ran.append(text)
        result: bool = await publish(root, info, topic, text)
        return result

    resolvers["Mutation"]["publish"] = recorded_publish
    settings.setdefault("keepalive_interval", None)
    return LiveGQL(SDL, resolvers=resolvers, pubsub=PubSub(), on_connect=door, **settings)


async def subscribers(server: LiveServer, topic: str) -> int:
    """Broker subscribers of `topic` on the server's loop."""

    async def count() -> int:
        return server.app.pubsub.subscriber_count(topic)

    return await server.acall(count())


async def subscribed(server: LiveServer, topic: str, expected: int) -> None:
    """Wait (bounded) until `topic` has `expected` broker subscribers."""

    async def settled() -> bool:
        return await subscribers(server, topic) == expected

    await until(settled, what=f"{expected} subscriber(s) of {topic!r}")


async def publish(server: LiveServer, topic: str, text: str) -> str:
    """Publish on the server's broker; returns the event's position."""
    return await server.acall(server.app.pubsub.publish(topic, text))
