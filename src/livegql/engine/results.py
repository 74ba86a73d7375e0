"""Results to JSON, once. Unexpected resolver exceptions are masked and logged; GraphQL errors pass."""

import logging
from collections.abc import Iterable
from typing import Any

from graphql import ExecutionResult, GraphQLError

from livegql.core import json
from livegql.core.errors import LiveGQLError

logger = logging.getLogger("livegql.errors")

MASKED_MESSAGE = "Internal server error"


class ResultEncoder:
    """Formats errors and encodes results; `debug=True` shows exception messages to clients."""

    def __init__(self, *, debug: bool = False) -> None:
        self.debug = debug

    def format_error(self, error: GraphQLError) -> dict[str, Any]:
        formatted: dict[str, Any] = dict(error.formatted)
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            return formatted
        if isinstance(original, LiveGQLError):
            # livegql's own errors are meant for the client, with a stable code.
            formatted["extensions"] = {**formatted.get("extensions", {}), "code": original.code}
            return formatted
        logger.error(
            "Unexpected exception in resolver at %s",
            error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        if not self.debug:
            formatted["message"] = MASKED_MESSAGE
            formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
        return formatted

    def format_errors(self, errors: Iterable[GraphQLError]) -> list[dict[str, Any]]:
        return [self.format_error(error) for error in errors]

    def result_dict(self, result: ExecutionResult) -> dict[str, Any]:
        """The response map: `data` always present (an executed result), `errors` only when non-empty."""
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = self.format_errors(result.errors)
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    def encode_result(self, result: ExecutionResult) -> str:
        return json.dumps(self.result_dict(result))

    def encode_errors(self, errors: Iterable[GraphQLError]) -> str:
        """A bare JSON array of errors, as graphql-transport-ws's Error message carries."""
        return json.dumps(self.format_errors(errors))
