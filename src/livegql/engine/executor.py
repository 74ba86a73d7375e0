"""The only module that calls graphql-core's execute and subscribe (3.2 and 3.3 differ in their shapes)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    subscribe,
)
from graphql.execution.values import get_variable_values

from livegql.engine.documents import DocumentCache


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

    def check_variables(self, prepared: PreparedOperation, variables: dict[str, Any] | None) -> None:
        """Coerce variables up front so a wrong type is a request error (4xx), not an execution result."""
        definitions = prepared.operation.variable_definitions
        if not definitions:
            return
        coerced = get_variable_values(self.schema, definitions, variables or {})
        if isinstance(coerced, list):
            raise RequestError(coerced)

    async def execute(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any = None,
        middleware: list[Any] | None = None,
    ) -> ExecutionResult:
        """Run a query or mutation to completion (`middleware`: graphql-core field middleware)."""
        result = execute(
            self.schema,
            prepared.document,
            root_value=root_value,
            context_value=context,
            variable_values=variables,
            operation_name=prepared.operation_name,
            middleware=middleware,
        )
        if isinstance(result, ExecutionResult):
            return result
        return await result

    async def subscribe(
        self,
        prepared: PreparedOperation,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any = None,
    ) -> AsyncIterator[ExecutionResult] | ExecutionResult:
        """Start a subscription: an iterator of per-event results, or one result carrying the errors."""
        return await subscribe(
            self.schema,
            prepared.document,
            root_value=root_value,
            context_value=context,
            variable_values=variables,
            operation_name=prepared.operation_name,
        )
