"""Optional OpenTelemetry tracing: one span per operation, after the semantic conventions for GraphQL server spans.

opentelemetry-api is imported only when the app turns tracing on (`tracing=True`): an app without it never loads
the package, and its operations pay one None check each. Spans go to the global tracer provider; exporters are the
application's to configure."""

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, GraphQLError

from livegql.core import json
from livegql.core.config import Settings
from livegql.core.errors import ConfigurationError
from livegql.engine import Executor, OperationKind, PreparedOperation
from livegql.engine.executor import BoundOperation
from livegql.engine.operations import is_live

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from livegql.transport.session import Session

TRACER_NAME = "livegql"
MAX_DOCUMENT_CHARS = 8192
"""A longer document is not recorded even with `tracing_documents`: exporters and backends cap attribute sizes."""
MAX_DESCRIPTION_CHARS = 1024

Failure = BaseException | str | Sequence[GraphQLError] | None
"""Why an operation ended badly: an exception, the JSON of the Error message it got, or its result's errors (an
empty list or None: it did not)."""


def load_tracer(settings: Settings) -> "OperationTracer | None":
    """The app's tracer, or None when tracing is off (the default)."""
    if not settings.tracing:
        return None
    try:
        from opentelemetry import trace
    except ImportError as error:
        raise ConfigurationError(
            "tracing=True needs the OpenTelemetry API: pip install 'livegql[otel]' (opentelemetry-api)"
        ) from error
    return OperationTracer(trace.get_tracer(TRACER_NAME), documents=settings.tracing_documents)


class OperationTracer:
    """Starts and ends the spans of one app's operations."""

    __slots__ = ("_documents", "_tracer")

    def __init__(self, tracer: "Tracer", *, documents: bool) -> None:
        self._tracer = tracer
        self._documents = documents

    def start(self, prepared: PreparedOperation, attributes: Mapping[str, str | bool]) -> "Span":
        """A started span for `prepared` (not made current), named `{type} {operationName}` (or `{type}`)."""
        from opentelemetry.trace import SpanKind

        kind = prepared.kind.value
        name = prepared.operation.name.value if prepared.operation.name is not None else None
        values: dict[str, str | bool] = {"graphql.operation.type": kind, **attributes}
        if name:
            values["graphql.operation.name"] = name
        if self._documents and len(prepared.query) <= MAX_DOCUMENT_CHARS:
            values["graphql.document"] = prepared.query
        return self._tracer.start_span(f"{kind} {name}" if name else kind, kind=SpanKind.SERVER, attributes=values)

    async def run(self, executor: Executor, bound: BoundOperation, context: Any, transport: str) -> ExecutionResult:
        """Execute a query or mutation of a plain HTTP request inside its span, made current so that spans the
        resolvers start (database clients, HTTP calls) are its children."""
        from opentelemetry.trace import use_span

        span = self.start(bound.prepared, {"livegql.transport": transport})
        try:
            with use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                result = await executor.run(bound, context)
        except BaseException as error:
            # A client that went away cancels the request: that is not the operation failing.
            finish(span, None if isinstance(error, asyncio.CancelledError) else error)
            raise
        finish(span, result.errors)
        return result


def finish(span: "Span", failure: Failure = None) -> None:
    """End `span`; with status ERROR if the operation failed (exceptions recorded as span events)."""
    if failure:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, _describe(span, failure)[:MAX_DESCRIPTION_CHARS]))
    span.end()


def _describe(span: "Span", failure: BaseException | str | Sequence[GraphQLError]) -> str:
    if isinstance(failure, BaseException):
        span.record_exception(failure)
        return str(failure) or type(failure).__name__
    if isinstance(failure, str):
        return _first_message(failure)
    for error in failure:
        # The resolver's own exception, unmasked: traces are the operator's, not the client's.
        if error.original_error is not None:
            span.record_exception(error.original_error)
    return failure[0].message


def _first_message(errors_json: str) -> str:
    """The first message of an Error message's payload (a JSON list of GraphQL errors), or the JSON itself."""
    try:
        errors = json.loads(errors_json)
        return str(errors[0]["message"])
    except (ValueError, LookupError, TypeError):
        return errors_json


class OperationSpans:
    """The open spans of one session's operations, by operation id: only made when the app traces."""

    __slots__ = ("_session", "_spans", "_tracer")

    def __init__(self, tracer: OperationTracer, session: "Session") -> None:
        self._tracer = tracer
        self._session = session  # its labels are read per operation: subclasses set `transport_name` late
        self._spans: dict[str, Span] = {}

    def start(self, id: str, prepared: PreparedOperation, variables: Mapping[str, Any] | None) -> None:
        session = self._session
        attributes: dict[str, str | bool] = {
            "livegql.transport": session.transport_name,
            "livegql.connection_id": session.connection_id,
            "livegql.operation_id": id,
        }
        if prepared.kind is OperationKind.QUERY and is_live(prepared.operation, variables):
            attributes["livegql.live"] = True
        self._spans[id] = self._tracer.start(prepared, attributes)

    def activate(self, id: str) -> None:
        """Make operation `id`'s span current in the running task's own context (that task runs the operation
        and nothing else, so the span need not be detached): spans its resolvers start become its children."""
        span = self._spans.get(id)
        if span is not None:
            from opentelemetry import context, trace

            context.attach(trace.set_span_in_context(span))

    def end(self, id: str, failure: Failure = None) -> None:
        span = self._spans.pop(id, None)
        if span is not None:
            finish(span, failure)

    def end_all(self) -> None:
        """The session ended: its operations were stopped, not failed."""
        spans = list(self._spans.values())
        self._spans.clear()
        for span in spans:
            finish(span)
