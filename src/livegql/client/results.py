"""From a GraphQL result (or an `error` message's list) to the data, or a ClientError naming the errors."""

from typing import Any

from livegql.core.errors import ClientError


def data_of(result: dict[str, Any]) -> dict[str, Any]:
    """The result's `data`; raise ClientError when it carries any `errors` (even beside partial data)."""
    errors = result.get("errors")
    if errors:
        raise graphql_error(errors)
    data = result.get("data")
    return data if isinstance(data, dict) else {}


def graphql_error(errors: list[dict[str, Any]]) -> ClientError:
    """A ClientError whose message is the first error's, with how many more there are."""
    first = errors[0].get("message") if errors and isinstance(errors[0], dict) else None
    message = first if isinstance(first, str) and first else "GraphQL error"
    more = len(errors) - 1
    if more > 0:
        message += f" (and {more} more error{'s' if more > 1 else ''})"
    return ClientError(message, errors)
