"""Where shared results meet one connection: each operation's sink applies the slow-consumer policy.

Subscriptions: an event that finds the connection's send queue full closes the socket with 1013 (Try Again
Later, "slow consumer"), since dropping an event would be silent data loss. Live queries: only the latest
result matters, so it waits in the sink until the queue has room again, replacing any older one. A query's
@defer / @stream payloads are never dropped either: a full queue closes the session as a subscription's does.
"""

from typing import TYPE_CHECKING

from livegql.engine.executor import IncrementalResults
from livegql.engine.revision import Revision

if TYPE_CHECKING:
    from livegql.transport.session import Session


class SubscriptionSink:
    __slots__ = ("connection", "id")

    def __init__(self, connection: "Session", id: str) -> None:
        self.connection = connection
        self.id = id

    def push(self, payload_json: str) -> None:
        connection = self.connection
        outbox = connection.outbox
        if outbox.full:
            connection.counters.slow_consumer_drops += 1  # this event: the session closes instead
            connection.close_slow_consumer()
            return
        frame = connection.machine.next_frame(self.id, payload_json)
        if frame is not None:
            outbox.append(frame)
            connection.counters.subscription_deliveries += 1

    def acknowledge(self, payload_json: str) -> None:
        # Same path and policy as an event: it must reach the client before any event does.
        self.push(payload_json)

    def fail(self, errors_json: str) -> None:
        self.connection.end_operation(self.id, errors_json)

    def finish(self) -> None:
        self.connection.end_operation(self.id, None)


class LiveQuerySink:
    __slots__ = ("connection", "id", "patches", "pending", "sent")

    def __init__(self, connection: "Session", id: str, *, patches: bool) -> None:
        self.connection = connection
        self.id = id
        self.patches = patches
        self.pending: Revision | None = None
        self.sent = 0  # the revision number the client has (or will have, once queued frames are written)

    def push_revision(self, revision: Revision) -> None:
        if self.connection.outbox.full:
            if self.pending is None:
                self.connection.defer(self)
            else:
                self.connection.counters.live_coalesced += 1
            self.pending = revision  # an older pending result is simply replaced: the latest one is what counts
            return
        self._send(revision)

    def release(self) -> None:
        """The queue has room again: send the latest result that waited (whole, since revisions were skipped)."""
        revision, self.pending = self.pending, None
        if revision is not None:
            self._send(revision)

    def _send(self, revision: Revision) -> None:
        payload = revision.full
        if self.patches:
            patch = revision.patch if self.sent == revision.number - 1 else None
            payload = patch if patch is not None else revision.numbered
        connection = self.connection
        if connection.machine.send_next(self.id, payload):
            self.sent = revision.number
            connection.counters.live_deliveries += 1
            connection.flush()

    def fail(self, errors_json: str) -> None:
        self.connection.end_operation(self.id, errors_json)


async def send_payloads(connection: "Session", id: str, payloads: IncrementalResults) -> bool:
    """Send each payload of operation `id` as it comes; False if the operation ended first: stopped by the
    client, or the session closed as a slow consumer (a payload is never dropped, as a subscription event is not)."""
    async for payload in payloads:
        if connection.outbox.full:
            connection.close_slow_consumer()
            return False
        if not connection.machine.send_next(id, payload):
            return False
        connection.flush()
    return True
