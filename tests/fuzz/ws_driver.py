"""Plays a connection's frames over a real WebSocket and checks what came back against the oracle."""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from livegql.core import json
from tests.fuzz.spec_json import TextBytes
from tests.fuzz.ws_model import INVALID_PAYLOAD, LEGACY, PLAIN, TRANSPORT_WS, Frame, Prediction

STEP_TIMEOUT: Final = 15.0  # bounds each wait; generous for a loaded 2-vCPU machine
PROBE_ID: Final = "probe"
PROBE_QUERY: Final = "query Probe { probe: __typename }"
PROBE_RESULT: Final = {"data": {"probe": "Query"}}
SUBPROTOCOLS: Final = {TRANSPORT_WS: "graphql-transport-ws", LEGACY: "graphql-ws", PLAIN: None}
SERVER_TYPES: Final = {
    TRANSPORT_WS: {"connection_ack", "pong", "next", "error", "complete"},
    LEGACY: {"connection_ack", "connection_error", "ka", "data", "error", "complete"},
}
TERMINAL: Final = ("complete", "error")


class Peer:
    """Everything the server sent, in order, and the close code it closed with (None: still open)."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.messages: list[Any] = []
        self.close: int | None = None

    async def read_until(self, done: Callable[[Any], bool]) -> bool:
        """Read until `done(message)`; False when the server closed first."""
        if self.close is not None:
            return False
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                try:
                    raw = await self.connection.recv()
                except ConnectionClosed as closed:
                    self.close = closed.rcvd.code if closed.rcvd is not None else -1
                    return False
                assert isinstance(raw, str), f"the server sent a binary frame: {raw!r}"
                message = json.loads(raw)
                self.messages.append(message)
                if done(message):
                    return True

    async def send(self, data: str | bytes) -> None:
        try:
            await self.connection.send(data, text=True if isinstance(data, TextBytes) else None)
        except ConnectionClosed:
            await self.read_until(lambda _: False)  # record the close code


async def play(url: str, protocol: str, frames: list[Frame], expected: Prediction) -> Peer:
    subprotocol = SUBPROTOCOLS[protocol]
    offered = [Subprotocol(subprotocol)] if subprotocol else None
    async with websockets.connect(url, subprotocols=offered, open_timeout=STEP_TIMEOUT, max_size=None) as socket:
        peer = Peer(socket)
        for index, frame in enumerate(frames[: expected.sent]):
            await peer.send(frame.data)
            if index in expected.waits_for_ack:
                await peer.read_until(lambda message: message.get("type") == "connection_ack")
        if expected.close is not None:
            await peer.read_until(lambda _: False)
        else:
            await _probe(peer, protocol)
            if _ends_owed(peer.messages, expected):
                await peer.read_until(lambda _: _ends_owed(peer.messages, expected) == 0)
        return peer


async def _probe(peer: Peer, protocol: str) -> None:
    """Proves the socket still answers after the frames (and, answers being in order, that those are in)."""
    if protocol == TRANSPORT_WS:
        await peer.send(json.dumps({"type": "ping", "payload": {"probe": True}}))
        await peer.read_until(lambda m: m == {"type": "pong", "payload": {"probe": True}})
    elif protocol == LEGACY:
        await peer.send(json.dumps({"id": PROBE_ID, "type": "start", "payload": {"query": PROBE_QUERY}}))
        await peer.read_until(lambda m: m.get("id") == PROBE_ID and m.get("type") in TERMINAL)
    else:
        await peer.send(json.dumps({"query": PROBE_QUERY}))
        await peer.read_until(lambda m: m == PROBE_RESULT)


def _terminals(messages: list[Any]) -> Counter[str]:
    return Counter(m["id"] for m in messages if isinstance(m, dict) and m.get("type") in TERMINAL and "id" in m)


def _ends_owed(messages: list[Any], expected: Prediction) -> int:
    got = _terminals(messages)
    return sum(max(0, count - got[id]) for id, count in expected.ends.items())


class Received:
    """What a peer got: the messages and the close code (None: still open)."""

    def __init__(self, messages: list[Any], close: int | None) -> None:
        self.messages = messages
        self.close = close


def check(
    protocol: str, frames: list[Frame], expected: Prediction, peer: "Peer | Received", probed: bool = True
) -> None:
    """Every answer well-formed and as the spec says; the close (or its absence) as predicted. `probed`: the
    peer sent the probe after the frames (over a socket; a machine fed directly needs none)."""
    where = f"{protocol}: frames {[f.data[:200] for f in frames[: expected.sent]]!r}\nreceived {peer.messages!r}"[:4000]
    assert peer.close == expected.close, f"closed with {peer.close}, expected {expected.close}\n{where}"
    if protocol == PLAIN:
        _check_plain(peer.messages, expected, where, probed)
        return
    messages = [m for m in peer.messages if m.get("id") != PROBE_ID and m.get("payload") != {"probe": True}]
    for message in messages:
        _check_message(protocol, message, expected, where)
    kinds = Counter(m["type"] for m in messages)
    # A connection failed by the WebSocket layer (1007) ends at once: answers still queued for the frames
    # before may be lost. Any other close comes after every answer the frames before it earned.
    failed = expected.close == INVALID_PAYLOAD
    assert kinds["connection_ack"] == int(expected.acknowledged) or failed, where
    terminals = _terminals(messages)
    for id in set(terminals) | set(expected.ends):
        owed = expected.ends[id]
        ok = terminals[id] <= owed if expected.close is not None else terminals[id] == owed
        assert ok, f"id {id}: {terminals[id]} complete/error, expected {owed}\n{where}"
    if protocol == TRANSPORT_WS:
        pongs = [m.get("payload") for m in messages if m["type"] == "pong"]
        assert pongs == (expected.pongs[: len(pongs)] if failed else expected.pongs), where
    else:
        owed = expected.connection_errors
        assert kinds["connection_error"] <= owed if failed else kinds["connection_error"] == owed, where


def _check_message(protocol: str, message: Any, expected: Prediction, where: str) -> None:
    assert isinstance(message, dict), where
    assert message.get("type") in SERVER_TYPES[protocol], where
    kind = message["type"]
    if kind in ("next", "data", "error", "complete"):
        assert message.get("id") in expected.started, f"{message} for an id never started\n{where}"
    if kind in ("next", "data"):
        assert _is_result(message.get("payload")), where
    elif kind == "error":
        errors = message.get("payload")
        assert _is_errors(errors), where
    elif kind == "connection_error":
        assert _is_error(message.get("payload")), where


def _is_errors(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_error(e) for e in value)


def _is_error(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("message"), str)


def _is_result(value: Any) -> bool:
    """A GraphQL response (or a live query's patch): an object with `data`, `errors` or `patch`."""
    return isinstance(value, dict) and bool({"data", "errors", "patch"} & set(value))


def _check_plain(messages: list[Any], expected: Prediction, where: str, probed: bool) -> None:
    for message in messages:
        assert _is_result(message), where
        if "errors" in message:
            assert _is_errors(message["errors"]), where
    errors_only = sum(1 for m in messages if "data" not in m and "errors" in m)
    if expected.close == INVALID_PAYLOAD:
        return  # failed at once by the WebSocket layer: answers still queued may be lost
    assert errors_only >= expected.error_frames, f"{errors_only} error answers for {expected.error_frames}\n{where}"
    if expected.close is None and probed:
        assert messages[-1:] == [PROBE_RESULT], where


async def play_batch(url: str, protocol: str, batch: list[list[Frame]], expected: list[Prediction]) -> None:
    peers = await asyncio.gather(*(play(url, protocol, f, p) for f, p in zip(batch, expected, strict=True)))
    for frames, prediction, peer in zip(batch, expected, peers, strict=True):
        check(protocol, frames, prediction, peer)
