"""Revocation in every process: `LiveGQL.revoke` closes this process's sessions of the revoked principals at
once and announces them on the broker, so every other process serving the app (sharing its Redis) closes
theirs as soon as the announcement arrives.
"""

import asyncio
import logging
from collections.abc import Hashable, Iterable
from typing import Any

from livegql.broker import REVOCATION_TOPIC, PubSub
from livegql.core.errors import SlowConsumerError
from livegql.transport.registry import SessionRegistry

logger = logging.getLogger("livegql.auth")

REVOKED = "Revoked"
_RETRY_SECONDS = 1.0


class Revocations:
    """Closes the sessions of revoked principals here, and listens for revocations made elsewhere."""

    def __init__(self, pubsub: PubSub, sessions: SessionRegistry) -> None:
        self._pubsub = pubsub
        self._sessions = sessions
        self._listener: asyncio.Task[None] | None = None
        self.listening = False
        """Whether the broker registered the listener: from then on no revocation made elsewhere is missed."""

    def close_local(self, principals: Iterable[Hashable], reason: str) -> int:
        """Close this process's sessions admitted as any of `principals`: how many there were."""
        sessions = self._sessions.of(principals)
        for session in sessions:
            session.close_forbidden(reason)
        return len(sessions)

    async def announce(self, principals: tuple[Hashable, ...], reason: str) -> None:
        """Tell every process sharing the broker (this one hears it too, and finds nothing left to close)."""
        payload = {"principals": list(principals), "reason": reason}
        await self._pubsub.backend.publish(REVOCATION_TOPIC, payload)

    def start(self) -> None:
        """Listen for revocations made in other processes (idempotent; needs a running loop)."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
            self.listening = False

    async def _listen(self) -> None:
        while True:
            try:
                subscription = self._pubsub.backend.subscribe(REVOCATION_TOPIC, on_live=self._went_live)
                async with subscription:
                    async for payload in subscription:
                        self._apply(payload)
                return  # the broker closed: the app is shutting down
            except SlowConsumerError:
                logger.warning("Revocations overflowed; listening again")
                self.listening = False
            except Exception:
                # The broker failed: without a listener, revocations from elsewhere would go unheard for good.
                logger.exception("Listening for revocations failed; retrying in %.0f s", _RETRY_SECONDS)
                self.listening = False
                await asyncio.sleep(_RETRY_SECONDS)

    def _went_live(self, _position: str) -> None:
        self.listening = True

    def _apply(self, payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("principals"), list):
            logger.warning("Ignoring a malformed revocation: %r", payload)
            return
        principals = [name for name in payload["principals"] if isinstance(name, Hashable)]
        reason = payload.get("reason")
        self.close_local(principals, reason if isinstance(reason, str) else REVOKED)
