"""The floor: the least any server on this uvicorn setup must do to pass the benchmark's load; no GraphQL at all.

A raw ASGI app, no framework and no GraphQL library. It parses each request's JSON, but recognises the operations by
their exact text (for `publish` and `topic`, by a regex that finds the topic, a literal or a variable; cached per
query text for `publish`) and answers with bytes encoded once at import. It deliberately skips everything a GraphQL
server is for: parsing and validating documents, executing resolvers, completing and serialising results, error
handling beyond a 400, and most of graphql-transport-ws (no init timeout, no duplicate-id or state checks, no
keep-alive pings). What it keeps is the work no server can skip: read and answer each request, and, per published
event, sequence it, encode its payload once, and write one frame per subscriber, awaiting uvicorn's `send` in place
(it returns without suspending while the socket has room). That is the cheapest write there is, with no queue and
no writer task; its price, which a real server cannot pay, is that one socket uvicorn has paused holds up the whole
publish. The distance from a real server to this floor is what its GraphQL layer and its safety cost.
"""

import contextlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from bench.apps.common import Sequencer, make_items

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PROTOCOL = "graphql-transport-ws"
ANSWERS = {  # query text -> the result the real servers give, byte for byte as far as JSON goes
    "{ hello }": orjson.dumps({"data": {"hello": "world"}}),
    "{ items(n: 20) { id name price } }": orjson.dumps({"data": {"items": make_items(20)}}),
}
PUBLISHED = orjson.dumps({"data": {"publish": True}})
# Group 1: a literal topic; group 2: the name of the variable that holds it.
PUBLISH_TOPIC = re.compile(r'publish\(\s*topic:\s*(?:"([^"]*)"|\$(\w+))')
SUBSCRIBE_TOPIC = re.compile(r'topic\(\s*name:\s*(?:"([^"]*)"|\$(\w+))')
ACK = '{"type":"connection_ack"}'
PONG = '{"type":"pong"}'

sequencer = Sequencer()
publish_topics: dict[str, tuple[str | None, str | None] | None] = {}  # query text -> its match, None if no publish


class Connection:
    """One socket: its subscriptions and the raw ASGI send."""

    __slots__ = ("send", "subscriptions")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.subscriptions: dict[str, str] = {}  # operation id -> topic

    async def push(self, frame: str) -> None:
        # uvicorn's ClientDisconnected is an OSError: the reader sees the disconnect and cleans up.
        with contextlib.suppress(OSError):
            await self.send({"type": "websocket.send", "text": frame})


# topic -> {(connection, operation id): the frame's text up to the payload}
subscribers: dict[str, dict[tuple[Connection, str], str]] = {}


async def publish(topic: str, text: str) -> None:
    payload = orjson.dumps({"data": {"topic": sequencer.event(topic, text)}}).decode()
    for (connection, _), head in list(subscribers.get(topic, {}).items()):
        await connection.push(head + payload + "}")


def unsubscribe(connection: Connection, operation: str) -> None:
    topic = connection.subscriptions.pop(operation, None)
    if topic is not None:
        subscribers[topic].pop((connection, operation), None)


async def on_message(connection: Connection, message: dict[str, Any]) -> None:
    kind = message.get("type")
    if kind == "subscribe":
        operation, payload = message["id"], message.get("payload") or {}
        found = SUBSCRIBE_TOPIC.search(payload.get("query", ""))
        if found is None or operation in connection.subscriptions:
            return  # the floor only serves the benchmark's subscription
        topic = found[1] if found[1] is not None else (payload.get("variables") or {})[found[2]]
        connection.subscriptions[operation] = topic
        head = '{"id":' + orjson.dumps(operation).decode() + ',"type":"next","payload":'
        subscribers.setdefault(topic, {})[(connection, operation)] = head
    elif kind == "complete":
        unsubscribe(connection, message["id"])
    elif kind == "ping":
        await connection.push(PONG)
    elif kind == "connection_init":
        await connection.push(ACK)


async def serve_websocket(scope: Message, receive: Receive, send: Send) -> None:
    await receive()  # websocket.connect
    if PROTOCOL not in scope.get("subprotocols", ()):
        await send({"type": "websocket.close", "code": 4406})
        return
    await send({"type": "websocket.accept", "subprotocol": PROTOCOL})
    connection = Connection(send)
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                break
            data = event.get("text")
            await on_message(connection, orjson.loads(data if data is not None else event.get("bytes") or b"{}"))
    finally:
        for operation in list(connection.subscriptions):
            unsubscribe(connection, operation)


async def answer(body: bytes) -> tuple[int, bytes]:
    try:
        request = orjson.loads(body)
        query: str = request["query"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return 400, b'{"errors":[{"message":"expected a JSON body with a query"}]}'
    known = ANSWERS.get(query)
    if known is not None:
        return 200, known
    if query not in publish_topics:
        found = PUBLISH_TOPIC.search(query)
        publish_topics[query] = (found[1], found[2]) if found else None
    match, variables = publish_topics[query], request.get("variables") or {}
    topic = None if match is None else match[0] if match[1] is None else variables.get(match[1])
    text = variables.get("text")
    if not isinstance(topic, str) or not isinstance(text, str):
        return 400, b'{"errors":[{"message":"the floor only answers the benchmark\'s operations"}]}'
    await publish(topic, text)
    return 200, PUBLISHED


async def serve_http(scope: Message, receive: Receive, send: Send) -> None:
    chunks: list[bytes] = []
    while True:
        event = await receive()
        chunks.append(event.get("body", b""))
        if not event.get("more_body"):
            break
    if scope["method"] == "POST" and scope["path"] == "/graphql":
        status, body = await answer(b"".join(chunks))
    else:
        status, body = 404, b'{"errors":[{"message":"POST /graphql only"}]}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await serve_http(scope, receive, send)
    elif scope["type"] == "websocket":
        await serve_websocket(scope, receive, send)
