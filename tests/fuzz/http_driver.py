"""Sends fuzz requests over real HTTP and checks each answer against what the specs allow."""

import asyncio
from dataclasses import dataclass
from typing import Any, Final

import httpx

from livegql.core import json
from tests.fuzz.http_strategies import EVENT_STREAM, Request

STEP_TIMEOUT: Final = 15.0
ALLOWED: Final = frozenset({200, 201, 202, 400, 403, 404, 405, 406, 409, 413, 415})
JSON_TYPES: Final = ("application/json", "application/graphql-response+json")
TOKEN_HEADER: Final = "x-graphql-event-stream-token"


@dataclass
class Answer:
    status: int
    content_type: str
    allow: str | None
    body: bytes
    whole: bool  # the body was read to its end (not a held stream left after its first bytes)


async def send(client: httpx.AsyncClient, url: str, request: Request) -> Answer:
    target = httpx.URL(url, query=request.query_string.encode()) if request.query_string else url
    built = client.build_request(request.method, target, headers=list(request.headers), content=request.body)
    async with asyncio.timeout(STEP_TIMEOUT):
        response = await client.send(built, stream=True)
        try:
            content_type = response.headers.get("content-type", "")
            streaming = content_type.startswith((EVENT_STREAM, "multipart/"))
            if request.held and response.status_code == 200 and streaming:
                body, whole = await _first_chunk(response), False
            else:
                body, whole = await response.aread(), True
        finally:
            await response.aclose()
    return Answer(response.status_code, content_type, response.headers.get("allow"), body, whole)


async def _first_chunk(response: httpx.Response) -> bytes:
    async for chunk in response.aiter_raw():
        return chunk
    return b""


async def release(client: httpx.AsyncClient, url: str, token: str) -> int:
    """Open a reserved single-connection stream and leave at once: the server forgets the reservation."""
    headers = {TOKEN_HEADER: token, "accept": EVENT_STREAM}
    async with asyncio.timeout(STEP_TIMEOUT):
        async with client.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200, response.status_code
            await _first_chunk(response)
    return 1


def check(request: Request, answer: Answer) -> None:
    """A status the spec allows, and a body of the kind that status promises."""
    where = f"{request!r}"[:2000] + f"\n-> {answer.status} {answer.content_type} {answer.body[:300]!r}"
    assert answer.status in ALLOWED, where
    if request.expect is not None:
        assert answer.status in request.expect, f"expected {sorted(request.expect)}: {where}"
    if answer.status == 405:
        assert answer.allow, where
    if request.method == "HEAD" or not answer.body:
        assert answer.status in (202, 200) or answer.status >= 400, where
        return
    if answer.status >= 400:
        assert answer.content_type.startswith(JSON_TYPES), where
        body = json.loads(answer.body)
        assert set(body) == {"errors"}, where  # a request error: no `data`
        assert _errors(body["errors"]), where
    elif answer.content_type.startswith(JSON_TYPES):
        body = json.loads(answer.body)
        assert _result(body), where
        if request.ok_data:
            assert "errors" not in body, where
            assert isinstance(body["data"], dict), where
    elif answer.content_type.startswith(EVENT_STREAM):
        check_events(parse_events(answer.body), answer.whole, where)
    elif answer.content_type.startswith("multipart/"):
        check_parts(answer.body, _boundary(answer.content_type), answer.whole, where)
    else:
        assert answer.status == 201, where
        assert answer.content_type.startswith("text/plain"), where


def _errors(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(e, dict) and "message" in e for e in value)


def _result(value: Any) -> bool:
    if not isinstance(value, dict) or not ({"data", "errors", "patch"} & set(value)):
        return False
    return "errors" not in value or _errors(value["errors"])


def parse_events(body: bytes) -> list[tuple[str, str]]:
    """(event, data) for each complete event of a text/event-stream body; comments are skipped."""
    events, event, data = [], "", list[str]()
    for line in body.decode().replace("\r\n", "\n").split("\n"):
        if line == "":
            if event or data:
                events.append((event, "\n".join(data)))
            event, data = "", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        else:
            assert line.startswith((":", "id:")), f"not an SSE line: {line!r}"
    return events


def check_events(events: list[tuple[str, str]], whole: bool, where: str) -> None:
    """graphql-sse distinct connections mode: `next` events carrying results, then one `complete`."""
    for index, (event, data) in enumerate(events):
        assert event in ("next", "complete"), where
        if event == "next":
            assert _result(json.loads(data)), where
        else:
            assert index == len(events) - 1, where
    if whole:
        assert [event for event, _ in events[-1:]] == ["complete"], where


def _boundary(content_type: str) -> str:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "boundary":
            return value.strip().strip('"')
    raise AssertionError(f"multipart without a boundary: {content_type}")


def check_parts(body: bytes, boundary: str, whole: bool, where: str) -> None:
    """Multipart (Apollo subscriptions, incremental delivery): JSON parts between delimiters, each a result
    (or a `payload` holding one), and the close delimiter at the end."""
    text = body.decode()
    parts = text.split(f"\r\n--{boundary}")
    for part in parts[1:]:
        if part.startswith("--"):
            continue
        _, _, content = part.partition("\r\n\r\n")
        if content.strip():
            value = json.loads(content)
            assert isinstance(value, dict), where
            result = value.get("payload", value)
            if result is not None and result != {}:
                assert _result(result) or "incremental" in result or "hasNext" in result, where
    if whole:
        assert text.rstrip().endswith(f"--{boundary}--"), where


def check_events_single(events: list[tuple[str, str]], ends: Any, started: set[str], where: str) -> None:
    """graphql-sse single connection mode: `next` events `{id, payload}` for started operations, and one
    `complete` `{id}` for each that ended (none for those still running)."""
    completes: dict[str, int] = {}
    for event, data in events:
        if not event:
            continue  # the opening comment
        message = json.loads(data)
        assert event in ("next", "complete"), where
        assert message.get("id") in started, where
        if event == "next":
            assert _result(message.get("payload")), where
        else:
            completes[message["id"]] = completes.get(message["id"], 0) + 1
    assert completes == {id: n for id, n in ends.items() if n}, f"completes {completes}: {where}"
