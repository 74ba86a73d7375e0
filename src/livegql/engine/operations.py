"""What makes two operations the same: `OperationKey`, and the sharing key that keeps users' results apart.

Subscribers with equal keys share one source stream and one execution per event (or per invalidation, for
live queries), so the key must include everything that can change a result: the document, the operation, the
variables and who is asking.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import BooleanValueNode, OperationDefinitionNode, OperationType, VariableNode

from livegql.engine.executor import PreparedOperation

PUBLIC: Hashable = ("livegql", "public")
"""The sharing key of data the app declared public: every connection shares it."""

LIVE_DIRECTIVE = "live"


@dataclass(frozen=True, slots=True)
class OperationKey:
    query: str
    operation_name: str | None
    variables: str  # canonical JSON: key order must not split a group
    sharing: Hashable
    resume_after: str | None = None  # resumers from one position see the same events, so they share too


def operation_key(
    prepared: PreparedOperation,
    variables: Mapping[str, Any] | None,
    sharing: Hashable,
    resume_after: str | None = None,
) -> OperationKey:
    # Decoded to str: orjson's bytes keep their 4 KiB write buffer, and keys live as long as their streams.
    encoded = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    return OperationKey(prepared.query, prepared.operation_name, encoded, sharing, resume_after)


def identity_sharing_key(*parts: Any) -> Hashable:
    """A key equal for two connections exactly when what identifies them is equal.

    `parts` are what the app's hooks returned plus the credentials the client sent. JSON values compare by
    value; any other object (a database pool, a user record) by identity: connections holding the very same
    object may share, a per-connection object shares with nobody. The connection's context keeps the object
    alive while the key is in use, so its id cannot be reused by another object meanwhile.
    """
    try:
        return ("identity", orjson.dumps(parts, option=orjson.OPT_SORT_KEYS, default=_by_identity).decode())
    except TypeError:  # e.g. a dict with non-string keys
        return ("connection", object())


def _by_identity(value: Any) -> str:
    return f"<{type(value).__module__}.{type(value).__qualname__} at {id(value):#x}>"


def is_live(operation: OperationDefinitionNode, variables: Mapping[str, Any] | None) -> bool:
    """`query ... @live` (GraphQL Yoga's convention), honouring `@live(if: false)` and `@live(if: $var)`."""
    if operation.operation is not OperationType.QUERY:
        return False
    for directive in operation.directives or ():
        if directive.name.value != LIVE_DIRECTIVE:
            continue
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            value = argument.value
            if isinstance(value, BooleanValueNode):
                return value.value
            if isinstance(value, VariableNode):
                return _boolean_variable(operation, value.name.value, variables)
        return True
    return False


def _boolean_variable(operation: OperationDefinitionNode, name: str, variables: Mapping[str, Any] | None) -> bool:
    """The variable's value, else its declared default, else true: an unset `if` takes the argument's default."""
    if variables is not None and name in variables:
        return bool(variables[name])
    for definition in operation.variable_definitions or ():
        if definition.variable.name.value == name and isinstance(definition.default_value, BooleanValueNode):
            return definition.default_value.value
    return True
