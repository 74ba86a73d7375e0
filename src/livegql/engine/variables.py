"""Variables of the built-in scalar types coerced without graphql-core's general machinery.

graphql-core coerces each variable through type lookups, recursion guards and generic collection checks, which
cost more than executing a small mutation. Most operations only declare `String`, `ID`, `Int`, `Float` and
`Boolean` variables with plain JSON values; those are coerced here with the same rules. Anything else (input
objects, lists, enums, custom scalars, defaults, a missing or wrong value) returns None, and graphql-core does the
work, with its exact error messages.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLSchema,
    GraphQLString,
    NamedTypeNode,
    NonNullTypeNode,
    VariableDefinitionNode,
)

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _string(value: Any) -> Any:
    return value if type(value) is str else _NO


def _id(value: Any) -> Any:
    if type(value) is str:
        return value
    return str(value) if type(value) is int else _NO


def _int(value: Any) -> Any:
    return value if type(value) is int and _INT_MIN <= value <= _INT_MAX else _NO


def _float(value: Any) -> Any:
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return float(value)
    return _NO


def _boolean(value: Any) -> Any:
    return value if type(value) is bool else _NO


_NO: Any = object()
_COERCERS: dict[Any, Callable[[Any], Any]] = {
    GraphQLString: _string,
    GraphQLID: _id,
    GraphQLInt: _int,
    GraphQLFloat: _float,
    GraphQLBoolean: _boolean,
}


def coerce_simple_variables(
    schema: GraphQLSchema, definitions: Sequence[VariableDefinitionNode], values: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The coerced variables, or None when graphql-core must decide (see the module docstring)."""
    values = values or {}
    coerced: dict[str, Any] = {}
    for definition in definitions:
        declared = definition.type
        required = isinstance(declared, NonNullTypeNode)
        type_node = declared.type if isinstance(declared, NonNullTypeNode) else declared
        if not isinstance(type_node, NamedTypeNode) or definition.default_value is not None:
            return None
        coerce = _COERCERS.get(schema.type_map.get(type_node.name.value))
        name = definition.variable.name.value
        if coerce is None:
            return None
        if name not in values:
            if required:
                return None
            continue
        value = values[name]
        if value is None:
            if required:
                return None
            coerced[name] = None
            continue
        result = coerce(value)
        if result is _NO:
            return None
        coerced[name] = result
    return coerced
