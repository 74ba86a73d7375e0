"""Resource keys a live query read: `Typename:id` for each object with an id, `Query.field` per root field.

Collected by a graphql-core middleware during the live query's execution; resolvers add their own keys to
`info.context["resource_keys"]` (a set). An invalidation naming any of the keys re-executes the query.
"""

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, get_named_type

RESOURCE_KEYS = "resource_keys"
"""The context entry (a set of str) where resolvers of a live query add keys of their own."""

_ID = "id"


class KeyCollector:
    """One per execution: records the keys of what the resolvers returned."""

    def __init__(self, schema: GraphQLSchema, keys: set[str]) -> None:
        self._query_type = schema.query_type
        self.keys = keys

    def resolve(self, next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        parent = info.parent_type
        if parent is self._query_type:
            self.keys.add(f"{parent.name}.{info.field_name}")
        value = next_(root, info, **args)
        if info.field_name == _ID:
            # Here the parent's concrete type is known, even below an interface or a union.
            if inspect.isawaitable(value):
                return self._after_id(value, parent.name)
            if value is not None:
                self.keys.add(f"{parent.name}:{value}")
            return value
        target = get_named_type(info.return_type)
        if isinstance(target, GraphQLObjectType) and _ID in target.fields:
            if inspect.isawaitable(value):
                return self._after(value, target)
            self._record(value, target)
        return value

    async def _after(self, pending: Awaitable[Any], target: GraphQLObjectType) -> Any:
        value = await pending
        self._record(value, target)
        return value

    async def _after_id(self, pending: Awaitable[Any], type_name: str) -> Any:
        value = await pending
        if value is not None:
            self.keys.add(f"{type_name}:{value}")
        return value

    def _record(self, value: Any, target: GraphQLObjectType) -> None:
        if value is None:
            return
        if isinstance(value, list | tuple):
            for item in value:
                self._record(item, target)
            return
        # Catches objects whose `id` was not selected; for interfaces and unions only a selected `id` is keyed.
        identifier = _id_of(value, target.fields[_ID])
        if identifier is not None:
            self.keys.add(f"{target.name}:{identifier}")


def _id_of(value: Any, field: GraphQLField) -> Any:
    """The object's id as the default resolver would read it; None when a custom resolver computes it."""
    if field.resolve is not None:
        return None
    if isinstance(value, Mapping):
        return value.get(_ID)
    return getattr(value, _ID, None)


def add_resource_keys(info: GraphQLResolveInfo, *keys: str) -> None:
    """From a resolver: this result also depends on `keys` (e.g. `"Room:general"`), so an invalidation naming
    one of them refreshes the live queries that read it. Does nothing outside a live query."""
    collected = info.context.get(RESOURCE_KEYS) if isinstance(info.context, Mapping) else None
    if isinstance(collected, set):
        collected.update(keys)
