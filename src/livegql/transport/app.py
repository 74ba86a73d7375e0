"""`LiveGQL`, the ASGI application: one schema served over HTTP and WebSocket at one path."""

import dataclasses
from typing import Any

from graphql import GraphQLSchema, assert_valid_schema
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from livegql.broker import PubSub
from livegql.core.config import Settings
from livegql.core.errors import ConfigurationError
from livegql.engine import Executor, ResultEncoder, build_schema_with_resolvers
from livegql.engine.schema import ResolverMap
from livegql.transport.context import ContextFactory, OnConnect
from livegql.transport.http import HTTPEndpoint
from livegql.transport.runtime import Runtime
from livegql.transport.websocket import serve_websocket


class LiveGQL:
    """Serve `schema` (a graphql-core `GraphQLSchema`, or SDL text plus `resolvers`) as an ASGI app.

    Keyword arguments not named here are `Settings` fields (`debug=True`, `keepalive_interval=None`, ...).
    """

    def __init__(
        self,
        schema: GraphQLSchema | str,
        *,
        resolvers: ResolverMap | None = None,
        pubsub: PubSub | None = None,
        on_connect: OnConnect | None = None,
        context: ContextFactory = None,
        settings: Settings | None = None,
        **setting_overrides: Any,
    ) -> None:
        self.schema = _load_schema(schema, resolvers)
        try:
            self.settings = dataclasses.replace(settings or Settings(), **setting_overrides)
        except TypeError as error:
            raise ConfigurationError(f"Unknown setting: {error}") from error
        self.pubsub = pubsub if pubsub is not None else PubSub()
        self.runtime = Runtime(
            settings=self.settings,
            pubsub=self.pubsub,
            executor=Executor(self.schema, document_cache_size=self.settings.document_cache_size),
            encoder=ResultEncoder(debug=self.settings.debug),
            on_connect=on_connect,
            context=context,
        )
        self._router = Starlette(
            routes=[
                Route(self.settings.path, HTTPEndpoint(self.runtime), methods=None),
                WebSocketRoute(self.settings.path, self._websocket),
            ]
        )

    async def _websocket(self, websocket: Any) -> None:
        await serve_websocket(websocket, self.runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router(scope, receive, send)


def _load_schema(schema: GraphQLSchema | str, resolvers: ResolverMap | None) -> GraphQLSchema:
    if isinstance(schema, str):
        schema = build_schema_with_resolvers(schema, resolvers)
    elif not isinstance(schema, GraphQLSchema):
        raise ConfigurationError(
            "schema must be a graphql-core GraphQLSchema (Strawberry: schema._schema, Ariadne: "
            "make_executable_schema(...), Graphene: schema.graphql_schema) or SDL text"
        )
    elif resolvers is not None:
        raise ConfigurationError("resolvers= applies only to SDL text; a GraphQLSchema carries its own")
    try:
        assert_valid_schema(schema)
    except TypeError as error:
        raise ConfigurationError(f"Invalid schema: {error}") from error
    return schema
