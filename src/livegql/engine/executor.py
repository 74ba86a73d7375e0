"""The only module that calls graphql-core: prepare (cached parse and validate), bind (coerce variables once),
run, subscribe, and run incrementally (@defer, @stream). Binding and running build on graphql-core's execution
context, so that a subscription's events and the runs of one request reuse one context instead of rebuilding it;
graphql-core 3.2 and 3.3 differ there, and graphql_compat absorbs that."""

from collections.abc import AsyncIterable, AsyncIterator
from time import perf_counter
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, OperationType, get_operation_ast

from livegql.engine.compiled import GIVE_UP, Plan, compile_subscription
from livegql.engine.documents import DocumentCache
from livegql.engine.graphql_compat import bind_operation, execute_incrementally, open_source_stream, run_operation
from livegql.engine.incremental import IncrementalResults
from livegql.engine.limit_rules import DocumentLimits
from livegql.engine.prepared import BoundOperation, OperationKind, PreparedOperation, RequestError
from livegql.engine.results import ResultEncoder
from livegql.engine.schema import event_as_value
from livegql.engine.stats import ExecutionStats

__all__ = [
    "BoundOperation",
    "DocumentLimits",
    "Executor",
    "IncrementalResults",
    "OperationKind",
    "PreparedOperation",
    "RequestError",
]

_KINDS = {
    OperationType.QUERY: OperationKind.QUERY,
    OperationType.MUTATION: OperationKind.MUTATION,
    OperationType.SUBSCRIPTION: OperationKind.SUBSCRIPTION,
}


class Executor:
    """Prepares (cached parse + validate + operation selection), executes and subscribes."""

    def __init__(
        self, schema: GraphQLSchema, *, document_cache_size: int = 1000, limits: DocumentLimits | None = None
    ) -> None:
        """`limits` default to those of `Settings()` (not production mode)."""
        self.schema = schema
        self.documents = DocumentCache(schema, document_cache_size, limits)
        self.hide_suggestions = not self.documents.limits.suggestions
        """Leave "Did you mean …?" out of variable coercion errors too (validation's are left out by the cache)."""
        self.stats = ExecutionStats()
        """Execution times by kind, read by the metrics endpoint."""

    def prepare(self, query: str, operation_name: str | None = None) -> PreparedOperation:
        """Raise RequestError when the text does not parse or validate or names no single operation."""
        cached = self.documents.get(query)
        if cached.document is None:
            raise RequestError(list(cached.errors))
        operation = get_operation_ast(cached.document, operation_name)
        if operation is None:
            message = (
                f"Unknown operation named '{operation_name}'."
                if operation_name
                else "Must provide operation name if query contains multiple operations."
            )
            raise RequestError([GraphQLError(message)])
        kind = _KINDS[operation.operation]
        return PreparedOperation(query, operation_name, cached.document, operation, kind, cached.incremental)

    # The installed graphql-core's own functions are the methods (see graphql_compat): no dispatch on a run.
    bind = bind_operation
    """`bind(prepared, variables, *, middleware=None) -> BoundOperation`: coerce the variables once (raises
    RequestError when they do not coerce) and build the execution context that every run of it reuses."""
    _run = run_operation  # untimed: subscription events and live queries are timed as their own kinds

    async def run(self, bound: BoundOperation, context: Any, root_value: Any = None) -> ExecutionResult:
        """Execute a query or mutation once, ignoring @defer and @stream (one complete result), timed in
        `stats` by its kind. Runs of one bound operation must not overlap."""
        stats = self.stats
        histogram = stats.mutation if bound.prepared.kind is OperationKind.MUTATION else stats.query
        histogram.running += 1
        started = perf_counter()
        try:
            return await self._run(bound, context, root_value)
        finally:
            histogram.running -= 1
            histogram.observe(perf_counter() - started)

    async def execute(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any = None,
        middleware: list[Any] | None = None,
    ) -> ExecutionResult:
        """Bind and run once; variable errors come back as a result with errors, as from graphql-core. Untimed:
        the live-query hub, its caller, times its executions as their own kind."""
        try:
            bound = self.bind(prepared, variables, middleware=middleware)
        except RequestError as error:
            return ExecutionResult(None, error.errors)
        return await self._run(bound, context, root_value)

    async def run_incremental(
        self, bound: BoundOperation, context: Any, encoder: ResultEncoder, root_value: Any = None
    ) -> ExecutionResult | IncrementalResults:
        """Execute once with @defer and @stream honoured: one result when nothing was deferred (always so before
        graphql-core 3.3), else the payloads as they come, each encoded once by `encoder` (errors masked).

        Close the IncrementalResults (`aclose`) when done or when abandoning it: that cancels the deferred and
        streamed work still outstanding. Each call runs on a fresh incremental executor (on 3.2 this is `run`).
        """
        outcome = await execute_incrementally(bound, context, root_value)
        if isinstance(outcome, ExecutionResult):
            return outcome
        return IncrementalResults(outcome, encoder)

    async def subscribe(self, bound: BoundOperation, context: Any) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a subscription: an iterator of per-event results, or one result carrying the errors.

        Each event is executed on the bound operation's context, built once for the whole stream; graphql-core's
        own `subscribe` builds one per event and maps events through a `MapAsyncIterator` that runs
        `asyncio.wait` with two new tasks per event.
        """
        try:
            source = await open_source_stream(bound, context)
        except GraphQLError as error:
            return ExecutionResult(None, [error])
        if not isinstance(source, AsyncIterable):
            return ExecutionResult(
                None, [GraphQLError(f"Subscription field must return AsyncIterable, got {source!r}.")]
            )
        plan = compile_subscription(self.schema, bound.prepared.operation, event_as_value)
        return self._results(source, bound, context, plan)

    async def _results(
        self, source: AsyncIterable[Any], bound: BoundOperation, context: Any, plan: Plan | None
    ) -> AsyncIterator[ExecutionResult]:
        """The spec's MapSourceToResponseEvent: each event executed as the root value of the operation (by the
        compiled plan when there is one and it can answer, else by graphql-core)."""
        observe = self.stats.subscription.observe
        try:
            async for event in source:
                started = perf_counter()
                if plan is not None:
                    data = plan(event)
                    if data is not GIVE_UP:
                        observe(perf_counter() - started)
                        yield ExecutionResult(data, None)
                        continue
                result = await self._run(bound, context, root_value=event)
                observe(perf_counter() - started)
                yield result
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()
