"""Hypothesis strategies for the WebSocket protocols: a connection's frames, sound and broken.

Ids are chosen so that the outcome never depends on timing: an operation that ends by itself gets an id of
its own (`e<n>`), never reused or completed by the client; ids from the small `h` pool name operations that run
until stopped, so a reused one is a duplicate (or a replacement, in the legacy protocol) for certain.
"""

import json
from typing import Any, Final

from hypothesis import strategies as st

from tests.fuzz.values import JSON, OBJECTS, encoded, ending_request, held_request, mutated
from tests.fuzz.ws_model import LEGACY, PLAIN, TRANSPORT_WS, Frame

HELD_IDS: Final = st.sampled_from(("h0", "h1", "h2"))
MAX_FRAMES: Final = 14
TRANSPORT_WS_KINDS: Final = st.sampled_from(
    ("subscribe",) * 5 + ("complete",) * 2 + ("ping",) * 2 + ("pong", "init", "server")
)
LEGACY_KINDS: Final = st.sampled_from(("start",) * 5 + ("stop",) * 2 + ("init", "server", "terminate"))


def _init(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "connection_init"}
    roll = draw(st.integers(0, 29))
    if roll < 10:
        message["payload"] = draw(OBJECTS)
    elif roll < 12:
        message["payload"] = None
    elif roll == 12:
        message["payload"] = {"reject": True}  # the fuzz app's on_connect refuses it: 4403
    return message


def _operation(draw: st.DrawFn, index: int, type_: str) -> tuple[dict[str, Any], bool]:
    held = draw(st.integers(0, 2)) == 0
    if held:
        return {"id": draw(HELD_IDS), "type": type_, "payload": draw(held_request())}, True
    return {"id": f"e{index}", "type": type_, "payload": draw(ending_request())}, False


def _frame(draw: st.DrawFn, message: Any, held: bool = False, broken: bool = True) -> Frame:
    """`message` as sent: as is on a clean connection; else sometimes broken (a mutation) and encoded in one
    of many ways (binary, truncated, corrupted, huge...)."""
    if not broken:
        return Frame(json.dumps(message), held=held)
    if draw(st.integers(0, 6)) == 0:
        message = draw(mutated(message))  # a held operation stays held if it is still well-formed
    return Frame(draw(encoded(message)), held=held)


def _transport_ws_message(draw: st.DrawFn, index: int) -> tuple[dict[str, Any], bool]:
    kind = draw(TRANSPORT_WS_KINDS)
    if kind == "subscribe":
        return _operation(draw, index, "subscribe")
    if kind == "complete":
        return {"id": draw(HELD_IDS | st.sampled_from(("unknown", "e999"))), "type": "complete"}, False
    if kind in ("ping", "pong"):
        message: dict[str, Any] = {"type": kind}
        if draw(st.booleans()):
            message["payload"] = draw(st.none() | OBJECTS | st.builds(lambda value: {"x": value}, JSON))
        return message, False
    if kind == "init":
        return _init(draw), False
    return draw(st.sampled_from((  # server -> client types sent by a client: 4400
        {"type": "connection_ack"}, {"id": "h0", "type": "next", "payload": {"data": None}},
        {"id": "h0", "type": "error", "payload": [{"message": "x"}]},
    ))), False  # fmt: skip


def _legacy_message(draw: st.DrawFn, index: int) -> tuple[dict[str, Any], bool]:
    kind = draw(LEGACY_KINDS)
    if kind == "start":
        return _operation(draw, index, "start")
    if kind == "stop":
        return {"id": draw(HELD_IDS | st.sampled_from(("unknown",))), "type": "stop"}, False
    if kind == "init":
        return _init(draw), False
    if kind == "terminate" and draw(st.integers(0, 3)) == 0:
        return {"type": "connection_terminate"}, False
    return draw(st.sampled_from((  # server -> client types, and graphql-transport-ws ones
        {"type": "ka"}, {"type": "connection_ack"}, {"id": "h0", "type": "data", "payload": {}},
        {"type": "ping"}, {"id": "h1", "type": "subscribe", "payload": {"query": "{ hello }"}},
    ))), False  # fmt: skip


def _plain_message(draw: st.DrawFn, index: int) -> tuple[Any, bool]:
    roll = draw(st.integers(0, 5))
    if roll <= 1:
        return draw(held_request()), True
    if roll <= 4:
        return draw(ending_request()), False
    return {"type": "connection_init"}, False  # a graphql-ws message is no request


@st.composite
def connection_frames(draw: st.DrawFn, protocol: str) -> list[Frame]:
    """One connection's frames: usually opened with connection_init, then anything. Half the connections send
    only well-formed frames (wrong ones only for the state they arrive in), so they live long enough to reach
    deep states; the other half send broken frames too."""
    frames: list[Frame] = []
    broken = draw(st.booleans())
    if protocol != PLAIN and draw(st.integers(0, 9)) > 0:
        frames.append(_frame(draw, _init(draw)) if draw(st.integers(0, 9)) == 0 else Frame(json.dumps(_init(draw))))
    message = {TRANSPORT_WS: _transport_ws_message, LEGACY: _legacy_message, PLAIN: _plain_message}[protocol]
    for index in range(draw(st.integers(0, MAX_FRAMES))):
        frames.append(_frame(draw, *message(draw, index), broken=broken))
    return frames


def batches(protocol: str) -> st.SearchStrategy[list[list[Frame]]]:
    """One hypothesis example: a few connections, run at the same time."""
    return st.lists(connection_frames(protocol), min_size=1, max_size=4)
