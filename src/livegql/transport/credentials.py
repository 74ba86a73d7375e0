"""How long, and as whom, one session is admitted: the expiry timer and the principals revocation matches.

`on_connect` may return an `Admission` with `expires_at` and `principals`. The session closes 4403 when the
credentials expire, unless a refresh (graphql-transport-ws: a Ping whose payload has a `refresh` object) was
admitted first; `LiveGQL.revoke` finds the session by its principals.
"""

import asyncio
import time
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from livegql.engine.operations import PUBLIC, identity_sharing_key
from livegql.transport.auth import EXPIRED
from livegql.transport.context import Admission, ContextValue

if TYPE_CHECKING:
    from livegql.transport.session import Session

PATCHES_PARAM = "livePatches"
"""connection_init payload or operation `extensions` entry asking for JSON Patch live-query updates."""

# What a client sends that may identify its user even when no hook returns an identity.
_CREDENTIAL_HEADERS = (b"authorization", b"cookie")
# Context entries every connection has that say nothing about who is asking.
_NOT_IDENTITY = frozenset({"pubsub", "request"})


class CredentialClock:
    """The admission of one session: tags it with its principals and closes it when its credentials end."""

    __slots__ = ("_session", "_timer", "expires_at")

    def __init__(self, session: "Session") -> None:
        self._session = session
        self._timer: asyncio.TimerHandle | None = None
        self.expires_at: float | None = None

    def apply(self, grant: Admission) -> None:
        """Start (or, on a refresh, restart) the session's admission: its principals and its expiry."""
        self.cancel()
        self._session.runtime.sessions.tag(self._session, grant.principals)
        self.expires_at = grant.expires_at
        if grant.expires_at is not None:
            # Wall-clock time in, monotonic timer out: a clock step after admission does not move the close.
            delay = max(0.0, grant.expires_at - time.time())
            self._timer = asyncio.get_running_loop().call_later(delay, self._expire)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        self._session.close_forbidden(EXPIRED)


def sharing_key(session: "Session", context: ContextValue) -> Hashable:
    """Who is asking, as far as sharing results goes (see `LiveGQL(share=...)`)."""
    share = session.runtime.share
    if callable(share):
        return share(context)
    if share == "public":
        return PUBLIC
    return identity_key(session, context)


def identity_key(session: "Session", context: ContextValue) -> Hashable:
    """A key equal for two sessions exactly when what identifies their client is equal: what the hooks
    returned, the connection params and the credential headers."""
    identity: dict[str, Any] = {key: value for key, value in context.items() if key not in _NOT_IDENTITY}
    params = identity.get("connection_params")
    if isinstance(params, Mapping) and PATCHES_PARAM in params:
        # How a client wants updates delivered says nothing about who it is.
        identity["connection_params"] = {k: v for k, v in params.items() if k != PATCHES_PARAM}
    # From the raw ASGI headers: building Starlette's Headers for two lookups costs more than the rest.
    raw_headers = session.request.scope.get("headers") or ()
    credentials = sorted(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in raw_headers if name in _CREDENTIAL_HEADERS
    )
    return identity_sharing_key(identity, credentials)
