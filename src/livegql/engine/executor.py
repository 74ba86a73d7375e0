"""The only module that calls graphql-core: prepare (cached parse and validate), bind (coerce variables once),
run, subscribe. It builds on graphql-core 3.2's ExecutionContext, so that a subscription's events and the runs
of one request reuse one context instead of rebuilding it (3.3 differs here; this module absorbs that)."""

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionContext,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from graphql.execution.execute import CollectedErrors, default_field_resolver, default_type_resolver
from graphql.execution.middleware import MiddlewareManager
from graphql.execution.subscribe import execute_subscription

from livegql.engine.compiled import GIVE_UP, Plan, compile_subscription
from livegql.engine.documents import DocumentCache
from livegql.engine.schema import event_as_value
from livegql.engine.variables import coerce_simple_variables


class OperationKind(StrEnum):
    QUERY = "query"
    MUTATION = "mutation"
    SUBSCRIPTION = "subscription"


class RequestError(Exception):
    """The request never reached execution (GraphQL-over-HTTP "request error": no `data` entry)."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class PreparedOperation:
    """A validated document with the one operation to run selected."""

    query: str
    operation_name: str | None
    document: DocumentNode
    operation: OperationDefinitionNode
    kind: OperationKind


_KINDS = {
    OperationType.QUERY: OperationKind.QUERY,
    OperationType.MUTATION: OperationKind.MUTATION,
    OperationType.SUBSCRIPTION: OperationKind.SUBSCRIPTION,
}


class Executor:
    """Prepares (cached parse + validate + operation selection), executes and subscribes."""

    def __init__(self, schema: GraphQLSchema, *, document_cache_size: int = 1000) -> None:
        self.schema = schema
        self.documents = DocumentCache(schema, document_cache_size)

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
        return PreparedOperation(query, operation_name, cached.document, operation, _KINDS[operation.operation])

    def bind(
        self, prepared: PreparedOperation, variables: dict[str, Any] | None, *, middleware: list[Any] | None = None
    ) -> "BoundOperation":
        """Coerce the variables once (a wrong type is a request error: 4xx, or an `error` message) and keep
        graphql-core's execution context, which every later execution of the operation reuses."""
        coerced = coerce_simple_variables(self.schema, prepared.operation.variable_definitions or (), variables)
        if coerced is None:
            built = ExecutionContext.build(
                self.schema,
                prepared.document,
                raw_variable_values=variables,
                operation_name=prepared.operation_name,
                middleware=middleware,
            )
            if isinstance(built, list):
                raise RequestError(built)
            return BoundOperation(prepared, built)
        # What ExecutionContext.build makes, with the variables already coerced.
        fragments = {
            definition.name.value: definition
            for definition in prepared.document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        execution = ExecutionContext(
            self.schema,
            fragments,
            None,
            None,
            prepared.operation,
            coerced,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            CollectedErrors(),
            MiddlewareManager(*middleware) if middleware else None,
            None,
        )
        return BoundOperation(prepared, execution)

    async def run(self, bound: "BoundOperation", context: Any, root_value: Any = None) -> ExecutionResult:
        """Execute a bound operation once, as graphql-core's `execute` does after building its context.

        Runs of one bound operation must not overlap (a subscription's events are executed one at a time).
        """
        execution = bound.execution
        execution.context_value = context
        execution.root_value = root_value
        errors = execution.collected_errors = CollectedErrors()
        try:
            data: Any = execution.execute_operation(execution.operation, root_value)
            if execution.is_awaitable(data):
                data = await data
        except GraphQLError as error:
            errors.add(error, None)
            data = None
        return execution.build_response(data, errors.errors)

    async def execute(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any = None,
        middleware: list[Any] | None = None,
    ) -> ExecutionResult:
        """Bind and run once; variable errors come back as a result with errors, as from graphql-core."""
        try:
            bound = self.bind(prepared, variables, middleware=middleware)
        except RequestError as error:
            return ExecutionResult(None, error.errors)
        return await self.run(bound, context, root_value)

    async def subscribe(
        self, bound: "BoundOperation", context: Any
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a subscription: an iterator of per-event results, or one result carrying the errors.

        Each event is executed on the bound operation's context, built once for the whole stream; graphql-core's
        own `subscribe` builds one per event and maps events through a `MapAsyncIterator` that runs
        `asyncio.wait` with two new tasks per event.
        """
        execution = bound.execution
        execution.context_value = context
        execution.collected_errors = CollectedErrors()
        try:
            source = await execute_subscription(execution)
        except GraphQLError as error:
            return ExecutionResult(None, [error])
        if not isinstance(source, AsyncIterable):
            return ExecutionResult(
                None, [GraphQLError(f"Subscription field must return AsyncIterable, got {source!r}.")]
            )
        plan = compile_subscription(self.schema, bound.prepared.operation, event_as_value)
        return self._results(source, bound, context, plan)

    async def _results(
        self, source: AsyncIterable[Any], bound: "BoundOperation", context: Any, plan: Plan | None
    ) -> AsyncIterator[ExecutionResult]:
        """The spec's MapSourceToResponseEvent: each event executed as the root value of the operation (by the
        compiled plan when there is one and it can answer, else by graphql-core)."""
        try:
            async for event in source:
                if plan is not None:
                    data = plan(event)
                    if data is not GIVE_UP:
                        yield ExecutionResult(data, None)
                        continue
                yield await self.run(bound, context, root_value=event)
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


@dataclass(slots=True)
class BoundOperation:
    """A prepared operation with its variables coerced, ready to run (repeatedly, one run at a time)."""

    prepared: PreparedOperation
    execution: ExecutionContext
