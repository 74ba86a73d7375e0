"""What an operation is on its way to execution: prepared (parsed, validated, one operation selected), then bound
(variables coerced, graphql-core's execution context built)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode

if TYPE_CHECKING:
    # Type-checked against graphql-core 3.2; under 3.3 the context is its `Executor` (see graphql_compat).
    from graphql import ExecutionContext


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
    incremental: bool = False
    """The document uses @defer or @stream (only ever true where graphql-core can deliver incrementally)."""


@dataclass(slots=True)
class BoundOperation:
    """A prepared operation with its variables coerced, ready to run (repeatedly, one run at a time)."""

    prepared: PreparedOperation
    execution: "ExecutionContext"
