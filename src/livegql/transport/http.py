"""The HTTP endpoint: GraphQL over HTTP (GET for queries, POST for everything), JSON in and out."""

import logging
from http import HTTPStatus

from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
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
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
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

    async def _execute(self, request: Request, params: GraphQLParams, media: MediaType) -> Response:
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


def _json(status: HTTPStatus, media: MediaType, body: object) -> Response:
    return Response(json.dumps_bytes(body), status, media_type=content_type(media))


def _error(status: HTTPStatus, media: MediaType, message: str, allow: str | None = None) -> Response:
    headers = {"Allow": allow} if allow else None
    return Response(error_body(message), status, headers=headers, media_type=content_type(media))
