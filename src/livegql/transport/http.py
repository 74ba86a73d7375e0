"""The HTTP endpoint: GraphQL over HTTP (GET for queries, POST for everything), JSON in and out."""

import logging
from dataclasses import dataclass
from http import HTTPStatus

from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope, Send

from livegql.core import json
from livegql.engine import OperationKind, RequestError
from livegql.engine.results import MASKED_MESSAGE
from livegql.protocol.http import (
    BadRequest,
    GraphQLParams,
    MediaType,
    body_too_large,
    check_method,
    check_query_size,
    content_type,
    error_body,
    mutation_over_get,
    negotiate,
    not_acceptable,
    params_from_body,
    params_from_query_string,
    request_error_status,
)
from livegql.transport.context import build_context
from livegql.transport.runtime import Runtime

logger = logging.getLogger("livegql.http")

SUBSCRIPTION_OVER_HTTP = "Subscriptions are served over WebSocket at this path, not plain HTTP"


class HTTPEndpoint:
    """An ASGI endpoint for one app's GraphQL path."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        answer = await self.respond(request)
        await answer.send(send)

    async def respond(self, request: Request) -> "Answer":
        """Every outcome is a GraphQL response body; only a bug of ours or the app's is a 500."""
        media = negotiate(request.headers.get("accept"))
        # Errors found before negotiation succeeds are still written as JSON, the type every client reads.
        error_media = media or MediaType.JSON
        try:
            check_method(request.method)
            if media is None:
                raise not_acceptable()
            params = await self._params(request)
            return await self._execute(request, params, media)
        except BadRequest as problem:
            return _error(problem.status, error_media, problem.message, problem.allow)
        except RequestError as error:
            body = self.runtime.encoder.format_errors(error.errors)
            return _json(request_error_status(error_media), error_media, {"errors": body})
        except Exception as error:
            # A context factory, custom scalar or encoder failed: still a GraphQL body, and masked.
            logger.exception("Unexpected error while serving %s %s", request.method, request.url.path)
            message = str(error) if self.runtime.settings.debug else MASKED_MESSAGE
            return _error(HTTPStatus.INTERNAL_SERVER_ERROR, error_media, message)

    async def _params(self, request: Request) -> GraphQLParams:
        if request.method == "GET":
            return params_from_query_string(request.query_params)
        body = await self._read_body(request)
        return params_from_body(request.headers.get("content-type"), body)

    async def _read_body(self, request: Request) -> bytes:
        """Read at most max_body_bytes: a declared Content-Length is checked first, chunked bodies as they come."""
        limit = self.runtime.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise body_too_large(limit)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise body_too_large(limit)
                chunks.append(chunk)
        except ClientDisconnect:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "Client disconnected before the body arrived") from None
        return b"".join(chunks)

    async def _execute(self, request: Request, params: GraphQLParams, media: MediaType) -> "Answer":
        runtime = self.runtime
        check_query_size(params.query, runtime.settings.max_query_bytes)
        prepared = runtime.executor.prepare(params.query, params.operation_name)
        if prepared.kind is OperationKind.MUTATION and request.method == "GET":
            raise mutation_over_get()
        if prepared.kind is OperationKind.SUBSCRIPTION:
            raise RequestError([GraphQLError(SUBSCRIPTION_OVER_HTTP)])
        bound = runtime.executor.bind(prepared, params.variables)
        context = await build_context(runtime.pubsub, request, runtime.context)
        result = await runtime.executor.run(bound, context)
        return _json(HTTPStatus.OK, media, runtime.encoder.result_dict(result))


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP response, written with two raw ASGI messages (no Starlette Response on the hot path)."""

    status_code: int
    body: bytes
    media: MediaType
    allow: str | None = None

    async def send(self, send: Send) -> None:
        headers = [
            (b"content-type", _CONTENT_TYPES[self.media]),
            (b"content-length", str(len(self.body)).encode()),
        ]
        if self.allow:
            headers.append((b"allow", self.allow.encode()))
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


_CONTENT_TYPES = {media: content_type(media).encode() for media in MediaType}


def _json(status: HTTPStatus, media: MediaType, body: object) -> Answer:
    return Answer(status, json.dumps_bytes(body), media)


def _error(status: HTTPStatus, media: MediaType, message: str, allow: str | None = None) -> Answer:
    return Answer(status, error_body(message), media, allow)
