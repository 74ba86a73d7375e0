"""The HTTP endpoint: GraphQL over HTTP (GET for queries, POST for everything), JSON in and out; and the
streaming responses at the same path: SSE (graphql-sse) and Apollo multipart subscriptions.

Every request is admitted by the app's `on_connect` (empty params, the request's headers) before its
operation is looked at: no transport bypasses it.
"""

import dataclasses
import functools
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from livegql.core.config import Settings
from livegql.engine import OperationKind, RequestError
from livegql.engine.operations import is_live
from livegql.engine.results import MASKED_MESSAGE
from livegql.protocol import SubscribePayload
from livegql.protocol.http import (
    BadRequest,
    GraphQLParams,
    MediaType,
    check_method,
    check_query_size,
    mutation_over_get,
    negotiate,
    not_acceptable,
    prefers_over_json,
    request_error_status,
)
from livegql.protocol.http_stream import HTTPStreamProtocol
from livegql.protocol.incremental import IncrementalSpec
from livegql.protocol.multipart import (
    IncrementalMultipartFraming,
    MultipartFraming,
    accepts_multipart_subscription,
    incremental_multipart_spec,
)
from livegql.protocol.sse import EVENT_STREAM, SSEFraming, accepts_event_stream
from livegql.transport.answer import Answer, error_answer, json_answer
from livegql.transport.auth import admit_request, admitted_at_once
from livegql.transport.context import Admission, ContextValue
from livegql.transport.csrf import check_csrf
from livegql.transport.extensions import RESUME_EXTENSION
from livegql.transport.graphiql import enabled as graphiql_enabled
from livegql.transport.graphiql import graphiql_answer, wants_graphiql
from livegql.transport.http_request import read_params
from livegql.transport.origin import check_origin
from livegql.transport.runtime import Runtime
from livegql.transport.sse_single import SingleConnectionStreams
from livegql.transport.stream import HTTPStreamSession

logger = logging.getLogger("livegql.http")

SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions need a streaming transport: WebSocket, or Accept: text/event-stream (SSE) or "
    'multipart/mixed;subscriptionSpec="1.0"'
)
LAST_EVENT_ID = "last-event-id"
HTTP_TRANSPORT = "http"
"""`livegql.transport` of a plain HTTP request's span (streams are sessions, named by their `transport_name`)."""


class HTTPEndpoint:
    """An ASGI endpoint for one app's GraphQL path."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.single = SingleConnectionStreams(runtime)
        self.graphiql = graphiql_enabled(runtime.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.graphiql and wants_graphiql(request):
            # A browser's navigation: the IDE, never an execution (a link must not run an operation).
            await graphiql_answer(request).send(send)
            return
        if self.runtime.settings.sse_protocol and self.single.claims(request):
            await self.single.serve(request, send, receive)
            return
        answer = await self.respond(request)
        if isinstance(answer, Answer):
            await answer.send(send)
        else:
            await answer.serve(request, self.runtime, send, receive)

    async def respond(self, request: Request) -> "Answer | StreamPlan":
        """Every outcome is a GraphQL response body (or stream); only a bug of ours or the app's is a 500."""
        accepts = Accepts.read(request.headers.get("accept"), self.runtime.settings)
        # Errors found before negotiation succeeds are still written as JSON, the type every client reads.
        error_media = accepts.media or MediaType.JSON
        try:
            check_method(request.method)
            if not accepts.anything:
                raise not_acceptable()
            settings = self.runtime.settings
            # An EventSource (GET, Accept: text/event-stream) cannot send headers: the Origin allowlist guards it.
            if settings.csrf_prevention and not (request.method == "GET" and accepts.event_stream_first):
                check_csrf(request.scope["headers"])
            if accepts.event_stream_first:
                check_origin(request.scope, settings)  # before on_connect: it would see a foreign page's cookie
            params = await read_params(request, self.runtime.settings.max_body_bytes)
            context, grant = admitted_at_once(self.runtime, request), None
            if context is None:
                admitted = await admit_request(self.runtime, request, {})
                if isinstance(admitted, str):
                    return error_answer(HTTPStatus.FORBIDDEN, error_media, admitted)
                context, grant = admitted
            answer = await self._execute(request, params, accepts, context)
            if grant is not None and isinstance(answer, StreamPlan):
                # A stream lives on after admission: it ends when the credentials expire or are revoked.
                answer = dataclasses.replace(answer, grant=grant)
            return answer
        except BadRequest as problem:
            return error_answer(problem.status, error_media, problem.message, problem.allow)
        except RequestError as error:
            body = self.runtime.encoder.format_errors(error.errors)
            return json_answer(request_error_status(error_media), error_media, {"errors": body})
        except Exception as error:
            # A context factory, custom scalar or encoder failed: still a GraphQL body, and masked.
            logger.exception("Unexpected error while serving %s %s", request.method, request.url.path)
            message = str(error) if self.runtime.settings.debug else MASKED_MESSAGE
            return error_answer(HTTPStatus.INTERNAL_SERVER_ERROR, error_media, message)

    async def _execute(
        self, request: Request, params: GraphQLParams, accepts: "Accepts", context: ContextValue
    ) -> "Answer | StreamPlan":
        """JSON where the client takes it and JSON can carry the answer; otherwise the stream it reads."""
        runtime = self.runtime
        check_query_size(params.query, runtime.settings.max_query_bytes)
        if accepts.event_stream_first and accepts.incremental is None:
            # graphql-sse clients: everything streams, errors found before execution included.
            return self._event_stream(request, params, context)
        prepared = runtime.executor.prepare(params.query, params.operation_name)
        if prepared.kind is OperationKind.MUTATION and request.method == "GET":
            raise mutation_over_get()  # whatever the response would be, a stream included
        media = accepts.media
        if accepts.incremental is not None and (prepared.incremental or accepts.only_incremental):
            # @defer / @stream for a client that reads incremental multipart (Apollo Client, urql).
            framing = IncrementalMultipartFraming(accepts.incremental)
            return StreamPlan(HTTPStreamProtocol(framing, _payload(params)), framing.content_type, context)
        streams = prepared.kind is OperationKind.SUBSCRIPTION or (
            accepts.streams and is_live(prepared.operation, params.variables)
        )
        if accepts.event_stream and (streams or prepared.incremental or media is None):
            # A client preferring JSON (urql: JSON first, then event-stream) streams only what JSON cannot carry.
            return self._event_stream(request, params, context)
        if accepts.multipart_subscription and (streams or media is None):
            plan = HTTPStreamProtocol(MultipartFraming(), _payload(params))
            return StreamPlan(plan, MultipartFraming.content_type, context)
        if media is None:
            raise not_acceptable()
        if prepared.kind is OperationKind.SUBSCRIPTION:
            raise RequestError([GraphQLError(SUBSCRIPTION_OVER_HTTP)])
        bound = runtime.executor.bind(prepared, params.variables)
        if runtime.tracer is None:
            result = await runtime.executor.run(bound, context)
        else:
            result = await runtime.tracer.run(runtime.executor, bound, context, HTTP_TRANSPORT)
        return json_answer(HTTPStatus.OK, media, runtime.encoder.result_dict(result))

    def _event_stream(self, request: Request, params: GraphQLParams, context: ContextValue) -> "StreamPlan":
        """graphql-sse, distinct connections mode: every operation kind streams, and errors found before
        execution go through the accepted stream (its spec), except a mutation over GET, which is 405. A page
        from a foreign origin is refused first (403)."""
        check_origin(request.scope, self.runtime.settings)
        if request.method == "GET":
            try:
                prepared = self.runtime.executor.prepare(params.query, params.operation_name)
            except RequestError:
                prepared = None
            if prepared is not None and prepared.kind is OperationKind.MUTATION:
                raise mutation_over_get()
        extensions = params.extensions
        last_event_id = request.headers.get(LAST_EVENT_ID)
        if last_event_id and RESUME_EXTENSION not in (extensions or {}):
            # A reconnecting EventSource names the last event it saw: resume right after it.
            extensions = {**(extensions or {}), RESUME_EXTENSION: last_event_id}
        payload = _payload(params, extensions)
        return StreamPlan(HTTPStreamProtocol(SSEFraming(), payload), SSEFraming.content_type, context)


def _payload(params: GraphQLParams, extensions: dict[str, Any] | None = None) -> SubscribePayload:
    extensions = params.extensions if extensions is None else extensions
    return SubscribePayload(params.query, params.variables, params.operation_name, extensions)


@dataclass(frozen=True, slots=True)
class Accepts:
    """What one request's Accept header allows, among what the settings serve; read once per request, with
    substring tests first so that a plain JSON client pays for no more parsing than it did."""

    media: MediaType | None  # the JSON response type, if any
    event_stream: bool  # text/event-stream: SSE
    event_stream_first: bool  # ... ranked above JSON, or JSON not acceptable: a graphql-sse client
    multipart_subscription: bool  # Apollo's multipart/mixed;subscriptionSpec=1.0
    incremental: IncrementalSpec | None  # the incremental multipart format it reads, if any

    @classmethod
    def read(cls, accept: str | None, settings: Settings) -> "Accepts":
        if accept is not None and len(accept) > _CACHED_ACCEPT_CHARS:
            return _read_accept(accept, settings.sse_protocol, settings.multipart_protocol)
        # Clients send a few Accept values again and again: each is read once.
        return _read_accept_cached(accept, settings.sse_protocol, settings.multipart_protocol)

    @property
    def anything(self) -> bool:
        return self.media is not None or self.event_stream or self.multipart_subscription or bool(self.incremental)

    @property
    def streams(self) -> bool:
        """Whether the client reads any stream an operation could be answered with (SSE, multipart)."""
        return self.event_stream or self.multipart_subscription

    @property
    def only_incremental(self) -> bool:
        """Incremental multipart is all the client reads: even a plain result goes as one part."""
        return self.media is None and not self.event_stream and not self.multipart_subscription


_CACHED_ACCEPT_CHARS = 256


def _read_accept(accept: str | None, sse: bool, multipart: bool) -> Accepts:
    media = negotiate(accept)
    text = accept or ""
    event_stream = sse and "event-stream" in text and accepts_event_stream(text)
    multipart = multipart and "multipart" in text
    return Accepts(
        media=media,
        event_stream=event_stream,
        event_stream_first=event_stream and (media is None or prefers_over_json(text, EVENT_STREAM)),
        multipart_subscription=multipart and accepts_multipart_subscription(text),
        incremental=incremental_multipart_spec(text) if multipart else None,
    )


_read_accept_cached = functools.lru_cache(maxsize=64)(_read_accept)


@dataclass(frozen=True, slots=True)
class StreamPlan:
    """A streaming response to serve: the machine for its one operation, admitted with `context`."""

    machine: HTTPStreamProtocol
    content_type: str
    context: ContextValue
    grant: Admission | None = None

    async def serve(self, request: Request, runtime: Runtime, send: Send, receive: Receive) -> None:
        machine, content_type = self.machine, self.content_type
        session = HTTPStreamSession(request, runtime, send, receive, machine, content_type=content_type)
        session.runner.pending_grant = self.grant
        await session.run(self.context)
