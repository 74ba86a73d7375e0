"""A compiled plan for a subscription's per-event execution when graphql-core's general machinery adds nothing.

A plan exists only for a selection graphql-core would answer by reading values: the root field takes the event
itself (the resolver SDL schemas get) or reads it with the default resolver, and every field below is read by the
default resolver with no arguments, no directives and no fragments, down to built-in or enum leaves serialised by
their own type. At run time anything unusual (a missing or null non-null value, a callable, a value the leaf type
refuses) makes the plan give up on that event, and graphql-core executes it instead, with its exact errors.
"""

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
)

GIVE_UP: Any = object()
"""Returned by a plan when graphql-core must execute this event."""

Plan = Callable[[Any], Any]


def compile_subscription(
    schema: GraphQLSchema, operation: OperationDefinitionNode, event_resolver: Callable[..., Any] | None
) -> Plan | None:
    """A plan turning an event into the result's `data`, or None when this operation needs graphql-core.

    `event_resolver` is the resolver that returns the event itself as the root field's value (or None).
    """
    root_type = schema.subscription_type
    selections = operation.selection_set.selections
    if root_type is None or operation.directives or len(selections) != 1:
        return None
    root = selections[0]
    if not isinstance(root, FieldNode) or root.directives or root.name.value.startswith("__"):
        return None
    field = root_type.fields.get(root.name.value)
    if field is None:
        return None
    if field.resolve is not None and field.resolve is not event_resolver:
        return None
    read_root = _value(field.type, root.selection_set)
    if read_root is None:
        return None
    key, name, is_event = _key(root), root.name.value, field.resolve is not None

    def plan(event: Any) -> Any:
        value = event if is_event else _read(event, name)
        if value is GIVE_UP:
            return GIVE_UP
        result = read_root(value)
        return GIVE_UP if result is GIVE_UP else {key: result}

    return plan


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _read(source: Any, name: str) -> Any:
    """What graphql-core's default resolver returns, or GIVE_UP where it would call a method."""
    value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
    return GIVE_UP if callable(value) else value


def _value(type_: GraphQLOutputType, selection_set: SelectionSetNode | None) -> Callable[[Any], Any] | None:
    """A reader completing a value of `type_` as graphql-core's complete_value would, or None if not compilable."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        return None
    if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
        complete = None if selection_set is not None else _leaf(inner)
    elif isinstance(inner, GraphQLObjectType) and selection_set is not None:
        complete = _object(inner, selection_set)
    else:
        return None
    if complete is None:
        return None
    finish = complete

    def read(value: Any) -> Any:
        if value is None:
            return None if nullable else GIVE_UP  # graphql-core raises for a null non-null: let it
        return finish(value)

    return read


def _leaf(type_: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    serialize = type_.serialize

    def complete(value: Any) -> Any:
        try:
            serialized = serialize(value)
        except Exception:
            return GIVE_UP
        return GIVE_UP if serialized is None else serialized

    return complete


def _constant(value: str) -> Callable[[Any], Any]:
    return lambda _source: value


def _object(type_: GraphQLObjectType, selection_set: SelectionSetNode) -> Callable[[Any], Any] | None:
    if type_.is_type_of is not None:
        return None
    readers: list[tuple[str, str, Callable[[Any], Any]]] = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
            return None
        name = selection.name.value
        if name == "__typename":
            readers.append((_key(selection), name, _constant(type_.name)))
            continue
        field: GraphQLField | None = type_.fields.get(name)
        if field is None or field.resolve is not None:
            return None
        reader = _value(field.type, selection.selection_set)
        if reader is None:
            return None
        readers.append((_key(selection), name, reader))
    if len({key for key, _, _ in readers}) != len(readers):
        return None  # a response key selected twice: merging is graphql-core's job

    def complete(source: Any) -> Any:
        data: dict[str, Any] = {}
        for key, name, reader in readers:
            value = source if name == "__typename" else _read(source, name)
            if value is GIVE_UP:
                return GIVE_UP
            result = reader(value)
            if result is GIVE_UP:
                return GIVE_UP
            data[key] = result
        return data

    return complete
