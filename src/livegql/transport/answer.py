"""A complete (non-streaming) HTTP response, written as two raw ASGI messages: no Starlette Response object on
the hot path."""

from dataclasses import dataclass
from http import HTTPStatus

from starlette.types import Send

from livegql.core import json
from livegql.protocol.http import MediaType, content_type, error_body

_CONTENT_TYPES = {media: content_type(media).encode() for media in MediaType}
TEXT_PLAIN = b"text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: bytes
    content_type: bytes | None
    allow: str | None = None

    async def send(self, send: Send) -> None:
        headers = [(b"content-length", str(len(self.body)).encode())]
        if self.content_type is not None:
            headers.append((b"content-type", self.content_type))
        if self.allow:
            headers.append((b"allow", self.allow.encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_answer(status: HTTPStatus, media: MediaType, body: object) -> Answer:
    return Answer(status, json.dumps_bytes(body), _CONTENT_TYPES[media])


def error_answer(status: HTTPStatus, media: MediaType, message: str, allow: str | None = None) -> Answer:
    """A GraphQL response with one error and no `data`: the request never executed."""
    return Answer(status, error_body(message), _CONTENT_TYPES[media], allow)


def text_answer(status: HTTPStatus, text: str) -> Answer:
    return Answer(status, text.encode(), TEXT_PLAIN)


def empty_answer(status: HTTPStatus) -> Answer:
    return Answer(status, b"", None)
