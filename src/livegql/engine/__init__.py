"""GraphQL work: cached documents, execution and subscription through graphql-core, encoded results."""

from livegql.engine.documents import DocumentCache
from livegql.engine.executor import DocumentLimits, Executor, OperationKind, PreparedOperation, RequestError
from livegql.engine.results import ResultEncoder
from livegql.engine.schema import build_schema_with_resolvers

__all__ = [
    "DocumentCache",
    "DocumentLimits",
    "Executor",
    "OperationKind",
    "PreparedOperation",
    "RequestError",
    "ResultEncoder",
    "build_schema_with_resolvers",
]
