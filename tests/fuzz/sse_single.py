"""graphql-sse's single connection mode under fuzz: a client's script of reservations, stream opens, operations
and stops (some malformed, some out of order, some on tokens that do not exist), the statuses graphql-sse's
PROTOCOL.md names for each, and the events the stream must carry."""

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from hypothesis import strategies as st

from tests.fuzz.http_driver import STEP_TIMEOUT, TOKEN_HEADER, check_events_single
from tests.fuzz.http_strategies import BODY_LIMIT, EVENT_STREAM, HEADER_TEXT, JSON_TYPE
from tests.fuzz.values import ending_request, held_request

HELD_IDS: Final = st.sampled_from(("h0", "h1", "h2"))
BODIES: Final = st.sampled_from(("good",) * 6 + ("no-id", "bad-id", "bad-json", "wrong-type", "no-query"))
ACTIONS: Final = st.sampled_from(("start",) * 6 + ("open", "open", "stop", "stop", "bogus", "reserve-bad"))


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # open | start | stop | bogus | reserve-bad
    id: str | None = None
    held: bool = False
    body: str = "good"
    request: Any = None
    token: str = ""  # bogus: the token sent


@st.composite
def scripts(draw: st.DrawFn) -> list[Action]:
    """One client's actions after its reservation: opening the stream usually comes first."""
    actions = [Action("open")] if draw(st.integers(0, 5)) > 0 else []
    for index in range(draw(st.integers(0, 10))):
        kind = draw(ACTIONS)
        if kind == "start":
            held = draw(st.integers(0, 2)) == 0
            id = draw(HELD_IDS) if held else f"e{index}"
            request = draw(held_request() if held else ending_request())
            actions.append(Action(kind, id, held, draw(BODIES), request))
        elif kind == "stop":
            actions.append(Action(kind, draw(HELD_IDS | st.sampled_from(("unknown", "")))))
        elif kind == "bogus":
            actions.append(Action(kind, body=draw(st.sampled_from(("GET", "POST", "DELETE"))), token=draw(HEADER_TEXT)))
        else:
            actions.append(Action(kind))
    return actions


@dataclass
class Expected:
    statuses: list[int] = field(default_factory=list)
    opened: bool = False
    ends: Counter[str] = field(default_factory=Counter)  # `complete` events owed per operation id
    started: set[str] = field(default_factory=set)


def predict(actions: list[Action]) -> Expected:
    """The statuses graphql-sse (and GraphQL over HTTP, for the request bodies) name for each action."""
    e, active = Expected(), set[str]()
    for action in actions:
        if action.kind == "open":
            e.statuses.append(409 if e.opened else 200)  # one stream per token
            e.opened = True
        elif action.kind == "start":
            status = _start_status(action, e.opened, active)
            if status == 202:
                assert action.id is not None
                e.started.add(action.id)
                if action.held:
                    active.add(action.id)
                else:
                    e.ends[action.id] += 1
            e.statuses.append(status)
        elif action.kind == "stop":
            e.statuses.append(200 if action.id else 400)
            active.discard(action.id or "")
        elif action.kind == "bogus":
            e.statuses.append(404)  # no such stream (an unguessable token was not guessed)
        else:
            e.statuses.append(406)  # the reservation's answer is text/plain
    return e


def _start_status(action: Action, opened: bool, active: set[str]) -> int:
    if not opened:
        return 409  # operations need the open stream
    if len(_start_request(action, "token")[1]) > BODY_LIMIT:
        return 413
    if action.body == "wrong-type":
        return 415
    if action.body != "good" or not action.request.get("query"):
        return 400  # GraphQL over HTTP: `query` must be a non-empty string; operationId a non-empty string
    return 409 if action.held and action.id in active else 202  # 409: "Operation with this ID already exists"


def _start_request(action: Action, token: str) -> tuple[dict[str, str], bytes]:
    headers = {TOKEN_HEADER: token, "content-type": JSON_TYPE[1]}
    request: Any = dict(action.request)
    extensions: dict[str, Any] = {"operationId": action.id}
    if action.body == "no-id":
        extensions = {}
    elif action.body == "bad-id":
        extensions = {"operationId": 7}
    elif action.body == "no-query":
        request = {}
    request["extensions"] = extensions
    body = json.dumps(request).encode()
    if action.body == "bad-json":
        body = body[:-1]
    elif action.body == "wrong-type":
        headers["content-type"] = "text/plain"
    return headers, body


class Stream:
    """The open event stream: events collected as they arrive, by a reader task."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.events: list[tuple[str, str]] = []
        self.changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        event, data = "", list[str]()
        async for line in self.response.aiter_lines():
            if line == "":
                self.events.append((event, "\n".join(data)))
                event, data = "", []
                self.changed.set()
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))

    async def wait(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(STEP_TIMEOUT):
            while not done():
                self.changed.clear()
                await self.changed.wait()

    async def close(self) -> None:
        await self.response.aclose()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def play(client: httpx.AsyncClient, url: str, actions: list[Action]) -> int:
    """Reserve, run the script, check it; returns the number of requests sent."""
    expected = predict(actions)
    reserved = await client.put(url, headers={"accept": "text/plain"})
    assert reserved.status_code == 201, reserved.text
    token, statuses, stream = reserved.text, list[int](), None
    try:
        for action in actions:
            status, opened = await _act(client, url, token, action, stream)
            stream = stream or opened
            statuses.append(status)
        where = f"{actions!r}"[:3000] + f"\nstatuses {statuses}"
        assert statuses == expected.statuses, f"expected {expected.statuses}: {where}"
        if stream is None:
            stream = await _open(client, url, token)  # so that the reservation is released now
        else:
            await stream.wait(lambda: _owed(stream, expected) == 0)
            check_events_single(stream.events, expected.ends, expected.started, where)
    finally:
        if stream is not None:
            await stream.close()
    return 1 + len(actions) + (0 if expected.opened else 1)


def _owed(stream: Stream, expected: Expected) -> int:
    done = Counter(json.loads(d)["id"] for e, d in stream.events if e == "complete")
    return sum(max(0, n - done[id]) for id, n in expected.ends.items())


async def _open(client: httpx.AsyncClient, url: str, token: str) -> Stream:
    request = client.build_request("GET", url, headers={TOKEN_HEADER: token, "accept": EVENT_STREAM})
    response = await client.send(request, stream=True)
    assert response.status_code == 200, response.status_code
    stream = Stream(response)
    await stream.wait(lambda: bool(stream.events) or stream.task.done())  # the opening comment: accepted
    return stream


async def _act(
    client: httpx.AsyncClient, url: str, token: str, action: Action, stream: Stream | None
) -> tuple[int, Stream | None]:
    async with asyncio.timeout(STEP_TIMEOUT):
        if action.kind == "open":
            if stream is None:
                return 200, await _open(client, url, token)
            second = await client.get(url, headers={TOKEN_HEADER: token, "accept": EVENT_STREAM})
            return second.status_code, None
        if action.kind == "start":
            headers, body = _start_request(action, token)
            return (await client.post(url, headers=headers, content=body)).status_code, None
        if action.kind == "stop":
            params = {"operationId": action.id} if action.id else {}
            return (await client.delete(url, headers={TOKEN_HEADER: token}, params=params)).status_code, None
        if action.kind == "bogus":
            bogus = await client.request(action.body, url, params={"token": "x" + action.token})
            return bogus.status_code, None
        return (await client.put(url, headers={"accept": "application/json"})).status_code, None
