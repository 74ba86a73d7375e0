"""Every open session of one app, and the principals each was admitted as.

Shutdown needs all of them (to end each with the right code) and revocation those of one user or token; neither
can be found from the sockets, which uvicorn owns. A session adds itself when it starts and leaves when it ends.
"""

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livegql.transport.session import Session


class SessionRegistry:
    """The open sessions of one app (WebSocket connections and HTTP event streams), by principal too."""

    __slots__ = ("_by_principal", "_open", "_principals", "draining", "on_first")

    def __init__(self) -> None:
        self.draining = False
        """The app is shutting down (transport/shutdown.py): new sessions are refused, for good."""
        self.on_first: Callable[[], None] | None = None
        """Called when a session is tagged with principals while none is: from then on something is revocable."""
        self._open: set[Session] = set()
        self._principals: dict[Session, tuple[Hashable, ...]] = {}
        self._by_principal: dict[Hashable, set[Session]] = {}

    def __len__(self) -> int:
        return len(self._open)

    def add(self, session: "Session") -> None:
        self._open.add(session)

    def discard(self, session: "Session") -> None:
        """The session ended: forget it and its principals (no-op if it was never added)."""
        self._open.discard(session)
        self._untag(session)

    def tag(self, session: "Session", principals: Iterable[Hashable]) -> None:
        """Record whom `session` was admitted as (replacing an earlier admission's principals)."""
        self._untag(session)
        names = tuple(principals)
        if not names or session not in self._open:
            return
        if not self._principals and self.on_first is not None:
            self.on_first()
        self._principals[session] = names
        for name in names:
            self._by_principal.setdefault(name, set()).add(session)

    def sessions(self) -> list["Session"]:
        """A snapshot of every open session: safe to iterate while sessions end."""
        return list(self._open)

    def of(self, principals: Iterable[Hashable]) -> list["Session"]:
        """The open sessions admitted as any of `principals`."""
        found: set[Session] = set()
        for name in principals:
            found.update(self._by_principal.get(name, ()))
        return list(found)

    def _untag(self, session: "Session") -> None:
        for name in self._principals.pop(session, ()):
            holders = self._by_principal.get(name)
            if holders is not None:
                holders.discard(session)
                if not holders:
                    del self._by_principal[name]
