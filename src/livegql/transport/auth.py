"""The app's admission hook, the same on every transport: `on_connect` and the context factory decide.

WebSocket protocols ask once per connection (with the connection_init payload); HTTP requests and event
streams ask once per request or stream, with empty params, so credentials come from headers or cookies.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import HTTPConnection

from livegql.core.errors import ConnectionRejectedError
from livegql.transport.context import (
    Admission,
    ContextValue,
    OnConnectResult,
    build_context,
    maybe_await,
    static_context,
)
from livegql.transport.runtime import Runtime

logger = logging.getLogger("livegql.operations")

FORBIDDEN = "Forbidden"
EXPIRED = "Credentials expired"


def grant_of(verdict: OnConnectResult, reason: str) -> tuple[Admission | None, str]:
    """What `on_connect`'s verdict admits, as an `Admission`; or (None, why not): refused, or admitted with
    credentials that have already expired."""
    if verdict is False:
        return None, reason
    if isinstance(verdict, Admission):
        if verdict.expires_at is not None and verdict.expires_at <= time.time():
            return None, EXPIRED
        return verdict, ""
    if isinstance(verdict, Mapping):
        return Admission(context=verdict), ""
    return _OPEN, ""


_OPEN = Admission()


async def authorise(
    runtime: Runtime, request: HTTPConnection, params: dict[str, Any], *, refuse_on_error: bool = True
) -> tuple[OnConnectResult, str, ContextValue]:
    """Build the context and ask `on_connect`: (verdict, reason if refused, context).

    A `ConnectionRejectedError` refuses with its message. Any other exception in the hook or the context
    factory refuses too, or with `refuse_on_error=False` propagates (HTTP answers it with a masked 500,
    where a socket can only be closed).
    """
    try:
        context = await build_context(runtime.pubsub, request, runtime.context, connection_params=params)
        verdict: OnConnectResult = True
        if runtime.on_connect is not None:
            verdict = await maybe_await(runtime.on_connect(params, request))
    except ConnectionRejectedError as error:
        return False, str(error) or FORBIDDEN, {}
    except Exception:
        if not refuse_on_error:
            raise
        logger.exception("on_connect or the context factory failed; refusing the client")
        return False, FORBIDDEN, {}
    return verdict, FORBIDDEN, context


async def admit_request(
    runtime: Runtime, request: HTTPConnection, params: dict[str, Any]
) -> tuple[ContextValue, Admission] | str:
    """The context of an admitted HTTP client with what `on_connect` returned merged in, and its admission
    (expiry, principals); or why it was refused. A failing hook raises (a masked 500)."""
    verdict, reason, context = await authorise(runtime, request, params, refuse_on_error=False)
    grant, reason = grant_of(verdict, reason)
    if grant is None:
        return reason
    if grant.context:
        context.update(grant.context)
    return context, grant


def admitted_at_once(runtime: Runtime, request: HTTPConnection) -> ContextValue | None:
    """The context of an HTTP request when no hook can refuse it or needs awaiting (no `on_connect`, a
    mapping or no `context`): built without a coroutine, as most requests of an open API are. Else None."""
    if runtime.on_connect is not None or callable(runtime.context):
        return None
    return static_context(runtime.pubsub, request, runtime.context, connection_params={})
