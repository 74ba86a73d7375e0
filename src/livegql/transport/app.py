"""`LiveGQL`, the ASGI application: one schema served over HTTP and WebSocket at one path."""

import dataclasses
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Any

from graphql import GraphQLSchema, assert_valid_schema
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from livegql.broker import PubSub
from livegql.core.config import Settings
from livegql.core.errors import ConfigurationError
from livegql.engine import DocumentLimits, Executor, ResultEncoder, build_schema_with_resolvers
from livegql.engine.event_gate import AuthorizeEvent
from livegql.engine.fanout import SubscriptionHub
from livegql.engine.live import LiveQueryHub
from livegql.engine.schema import ResolverMap, with_live_directive
from livegql.transport.context import ContextFactory, OnConnect
from livegql.transport.cors import with_cors
from livegql.transport.health import health_route, ready_route
from livegql.transport.http import HTTPEndpoint
from livegql.transport.limits import ConnectionLimits
from livegql.transport.logs import demote_client_errors
from livegql.transport.metrics import metrics_route
from livegql.transport.registry import SessionRegistry
from livegql.transport.revocation import REVOKED, Revocations
from livegql.transport.runtime import Runtime, Share
from livegql.transport.shutdown import DrainReport, drain
from livegql.transport.tracing import load_tracer
from livegql.transport.websocket import serve_websocket


class LiveGQL:
    """Serve `schema` (a graphql-core `GraphQLSchema`, or SDL text plus `resolvers`) as an ASGI app.

    Keyword arguments not named here are `Settings` fields (`debug=True`, `keepalive_interval=None`, ...).

    Identical subscriptions and live queries share one execution per event when `share` allows it:
    `"identity"` (the default) shares among connections whose identity is equal: what `on_connect` and
    `context` returned, the connection_init payload and the Authorization and Cookie headers. `"public"`
    shares among every connection (the data is the same for everyone); a callable maps a connection's
    context to a hashable key of your own.

    `authorize_event(context, result) -> bool` decides, for each subscription event, whether a subscriber
    may see it. It is asked about the shared execution result once per event for each distinct client
    identity (what `share="identity"` compares), whatever `share` is; refused, the subscriber skips that
    event. It runs on the event loop for every event: keep it quick (look up what it needs in `on_connect`).

    Without `pubsub`, the app creates its broker from the environment (`LIVEGQL_BROKER_URL`, which
    `livegql serve --broker URL` sets; in memory when unset) and closes it when the app closes. A `pubsub`
    passed in belongs to the caller, who closes it. `health_path` serves `GET` with the broker's health
    (200 or 503, JSON); `ready_path` whether to route new clients here (503 while draining or while the
    broker is down); `metrics_path` Prometheus metrics (`livegql_*`). None serves none of them.

    `tracing=True` (a setting; needs `livegql[otel]`) makes an OpenTelemetry span of every operation through
    the global tracer provider; `tracing_documents=True` adds each one's query text.
    """

    def __init__(
        self,
        schema: GraphQLSchema | str,
        *,
        resolvers: ResolverMap | None = None,
        pubsub: PubSub | None = None,
        on_connect: OnConnect | None = None,
        context: ContextFactory = None,
        share: Share = "identity",
        authorize_event: AuthorizeEvent | None = None,
        health_path: str | None = "/health",
        ready_path: str | None = "/ready",
        metrics_path: str | None = "/metrics",
        settings: Settings | None = None,
        **setting_overrides: Any,
    ) -> None:
        self.schema = with_live_directive(_load_schema(schema, resolvers))
        demote_client_errors()
        try:
            self.settings = dataclasses.replace(settings or Settings(), **setting_overrides)
        except TypeError as error:
            raise ConfigurationError(f"Unknown setting: {error}") from error
        tracer = load_tracer(self.settings)  # before anything is opened: tracing=True without the API refuses
        if share not in ("identity", "public") and not callable(share):
            raise ConfigurationError('share must be "identity", "public" or a callable(context) -> hashable key')
        self._owns_pubsub = pubsub is None
        self.pubsub = pubsub if pubsub is not None else PubSub.from_environment()
        executor = Executor(
            self.schema,
            document_cache_size=self.settings.document_cache_size,
            limits=DocumentLimits.from_settings(self.settings),
        )
        encoder = ResultEncoder(debug=self.settings.debug)
        self.subscriptions = SubscriptionHub(executor, encoder, authorize_event)
        self.live = LiveQueryHub(
            executor,
            encoder,
            self.pubsub,
            window=self.settings.live_coalesce_window,
            max_rate=self.settings.live_max_executions_per_second,
        )
        self.runtime = Runtime(
            settings=self.settings,
            pubsub=self.pubsub,
            executor=executor,
            encoder=encoder,
            on_connect=on_connect,
            context=context,
            share=share,
            subscriptions=self.subscriptions,
            live=self.live,
            connections=ConnectionLimits(self.settings.max_connections_per_client, self.settings.max_connections),
            sessions=SessionRegistry(),
            tracer=tracer,
        )
        self._revocations = Revocations(self.pubsub, self.runtime.sessions)
        # Listening from the first revocable session on (one admitted with principals): an app that never
        # names principals never subscribes, and one served without the ASGI lifespan still listens.
        self.runtime.sessions.on_first = self._revocations.start
        self._http = HTTPEndpoint(self.runtime)
        self._http_app = with_cors(self._http, self.settings)  # the endpoint itself unless CORS is configured
        routes = [Route(self.settings.path, self._http_app, methods=None)]
        routes.extend(self._side_routes(health_path, ready_path, metrics_path))
        self._router = Starlette(routes=routes, lifespan=self._lifespan)

    def _side_routes(self, health: str | None, ready: str | None, metrics: str | None) -> list[Route]:
        """The operational endpoints beside the GraphQL path (each None when its path is)."""
        for name, path in (("health_path", health), ("ready_path", ready), ("metrics_path", metrics)):
            if path is not None and path == self.settings.path:
                raise ConfigurationError(f"{name} {path!r} is the GraphQL path")
        sessions = self.runtime.sessions
        routes = [health_route(health, self.pubsub)] if health is not None else []
        if ready is not None:
            routes.append(ready_route(ready, self.pubsub, lambda: sessions.draining))
        if metrics is not None:
            routes.append(metrics_route(metrics, self.runtime))
        return routes

    @property
    def owns_pubsub(self) -> bool:
        """Whether the app created its broker (from the environment) rather than being given one."""
        return self._owns_pubsub

    async def invalidate(self, *keys: str) -> None:
        """Re-execute every live query that read one of `keys` (`"Message:42"`, `"Query.messages"`), in
        every process sharing this app's broker. Same as `pubsub.invalidate(...)` from a resolver."""
        await self.pubsub.invalidate(*keys)

    async def revoke(self, *principals: Hashable, reason: str = REVOKED) -> int:
        """Close every connection and event stream that `on_connect` admitted as one of `principals` (see
        `Admission`), with 4403 and `reason`: their operations stop and frames not yet written are dropped.

        This process's close at once (the count returned); the revocation is also published on the broker,
        so every process serving the app through the same Redis closes its own as it arrives. Principals
        must be JSON values (strings or numbers) to travel.
        """
        closed = self._revocations.close_local(principals, reason)
        await self._revocations.announce(principals, reason)
        return closed

    async def shutdown(self, grace: float | None = None) -> DrainReport:
        """Drain this app within `grace` seconds (default `shutdown_grace_period`): refuse new WebSockets (1012)
        and event streams (503), let running queries and mutations finish and queued events be written, then
        close every socket with 1012 Service Restart and end every event stream so clients reconnect elsewhere.
        `livegql serve` calls it on SIGTERM before uvicorn closes anything; `close()` still follows."""
        return await drain(self.runtime, grace)

    async def close(self) -> None:
        """Stop every shared subscription stream and live query, then close the broker if the app created
        it (done at ASGI lifespan shutdown)."""
        await self._revocations.stop()
        await self.subscriptions.close()
        await self.live.close()
        # After the hubs: their streams end cleanly while the broker still answers.
        if self._owns_pubsub:
            await self.pubsub.close()

    @asynccontextmanager
    async def _lifespan(self, _app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await self.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The GraphQL path goes straight to its endpoint: Starlette's middleware and router cost more than a
        # small query's execution, and a dispatch per socket would hold memory for the connection's life.
        # The router serves the rest: the ASGI lifespan and 404s.
        kind = scope["type"]
        if kind == "http" and _route_path(scope) == self.settings.path:
            await self._http_app(scope, receive, send)
        elif kind == "websocket" and _route_path(scope) == self.settings.path:
            await serve_websocket(WebSocket(scope, receive, send), self.runtime, send)
        else:
            await self._router(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the mount point, as Starlette's router matches it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


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
