"""Schema from SDL plus a resolver map, so apps need no GraphQL framework at all."""

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    DirectiveLocation,
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLDirective,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from livegql.core.errors import ConfigurationError
from livegql.engine.graphql_compat import INCREMENTAL_DIRECTIVES

Resolver = Callable[..., Any]
ResolverMap = Mapping[str, Mapping[str, Resolver]]


def event_as_value(event: Any, _info: Any, **_args: Any) -> Any:
    # Each item a Subscription resolver yields is already that field's value.
    return event


def build_schema_with_resolvers(sdl: str, resolvers: ResolverMap | None = None) -> GraphQLSchema:
    """Build a schema from SDL and attach `resolvers[Type][field]`.

    A resolver is called as `fn(parent, info, **arguments)` and may be async. On the Subscription type the
    resolver is the event source: an async generator (or a function returning an async iterator) whose
    items are the field's values.
    """
    schema = build_schema(sdl)
    subscription_type = schema.subscription_type
    for type_name, fields in (resolvers or {}).items():
        graphql_type = schema.get_type(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise ConfigurationError(f"resolvers[{type_name!r}]: the schema has no object type of that name")
        for field_name, resolver in fields.items():
            field = graphql_type.fields.get(field_name)
            if field is None:
                raise ConfigurationError(f"resolvers[{type_name!r}][{field_name!r}]: no such field")
            if not callable(resolver):
                raise ConfigurationError(f"resolvers[{type_name!r}][{field_name!r}] is not callable")
            if graphql_type is subscription_type:
                field.subscribe = resolver
                field.resolve = event_as_value
            else:
                field.resolve = resolver
    return schema


LIVE_DIRECTIVE = GraphQLDirective(
    name="live",
    locations=[DirectiveLocation.QUERY],
    args={
        "if": GraphQLArgument(
            GraphQLBoolean, default_value=True, description="Live only when true (e.g. driven by a variable)."
        )
    },
    description="Keep this query's result up to date: the server pushes a new result when data it read changes.",
)


def with_live_directive(schema: GraphQLSchema) -> GraphQLSchema:
    """The schema with the directives livegql serves declared, so documents using them validate: `@live`, and
    where graphql-core delivers incrementally (3.3 and later) `@defer` and `@stream`, which graphql-core leaves
    out of its specified directives. Directives the schema declares itself are kept; unchanged if it has all."""
    missing = [
        directive
        for directive in (LIVE_DIRECTIVE, *INCREMENTAL_DIRECTIVES)
        if schema.get_directive(directive.name) is None
    ]
    if not missing:
        return schema
    kwargs = schema.to_kwargs()
    kwargs["directives"] = (*schema.directives, *missing)
    return GraphQLSchema(**kwargs)
