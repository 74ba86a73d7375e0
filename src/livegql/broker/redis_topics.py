"""The Redis broker's local topics: who subscribes to what here, and the in-order, deduplicated dispatch.

Every local subscriber of a topic shares one upstream SUBSCRIBE; the topic remembers the highest entry ID it
dispatched, so an event seen both on the channel and in the stream (after a reconnect) is delivered once.
"""

import contextlib
import weakref
from collections.abc import Callable
from typing import Protocol

from livegql.broker.redis_script import Event, Key
from livegql.core.errors import LiveGQLError
from livegql.core.json import loads


def _field(text: str) -> str:
    """`text`, then `#` and its length: read from the right, a name made of such fields after a fixed word
    splits back into prefix and fields one way only, whatever characters the prefix and the fields hold.

    So no two (prefix, topic) pairs share a key or channel: with plain `{prefix}events:{topic}`, the app with
    prefix `acme:` and topic `events:x` would share a channel with the app with prefix `acme:events:` and
    topic `x`, and topic `a` with idempotency key `b:k` would share a key with topic `a:b` and key `k`.
    """
    return f"{text}#{len(text)}"


def stream_key(prefix: str, topic: str) -> str:
    """The Redis Stream holding a topic's retained events: `{prefix}stream:{topic}#{len(topic)}`."""
    return f"{prefix}stream:{_field(topic)}"


def channel_name(prefix: str, topic: str) -> str:
    """The pub/sub channel announcing a topic's new events as `<id> <json>`: `{prefix}events:{topic}#{len}`.

    Subscribed with SUBSCRIBE, never PSUBSCRIBE: glob characters in a topic are plain characters.
    """
    return f"{prefix}events:{_field(topic)}"


def dedupe_key(prefix: str, topic: str, idempotency_key: str) -> str:
    """The key remembering the position of a publish made with `idempotency_key` (per topic, as in memory)."""
    return f"{prefix}dedupe:{_field(topic)}:{_field(idempotency_key)}"


class Member(Protocol):
    """A local subscriber as its topic sees it."""

    def go_live(self, start: Key) -> None:
        """From now on every event after `start` is delivered to it."""

    def deliver(self, event: Event) -> None: ...

    def fail(self, error: LiveGQLError) -> None:
        """The stream cannot continue without a gap: end with `error` (its own instance)."""

    async def aclose(self) -> None: ...


class Topic:
    """One topic with local subscribers. Live once its upstream subscription is confirmed and synced."""

    __slots__ = ("channel", "last", "live", "members", "name", "stream")

    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.channel = channel_name(prefix, name).encode()
        self.stream = stream_key(prefix, name)
        # Weak references: a subscription nobody can read from any more must be collectable (its __del__
        # leaves); a plain dict of them iterates faster than a WeakValueDictionary on the hot path.
        self.members: dict[int, weakref.ref[Member]] = {}
        self.last: Key | None = None  # highest entry ID dispatched; None until first synced with the stream
        self.live = False

    def receive(self, data: bytes) -> None:
        """A channel message `b"<id> <json>"`: parse the ID first, decode the payload once for everyone."""
        space = data.index(b" ")
        raw_id = data[:space]
        ms, _, seq = raw_id.partition(b"-")
        key = (int(ms), int(seq))
        last = self.last
        if last is not None and key <= last:
            return
        self.last = key
        self._deliver((key, raw_id.decode(), loads(data[space + 1 :])))

    def _deliver(self, event: Event) -> None:
        for ref in tuple(self.members.values()):
            member = ref()
            if member is not None:
                member.deliver(event)

    def alive(self) -> list[Member]:
        return [member for ref in tuple(self.members.values()) if (member := ref()) is not None]

    def dispatch(self, event: Event) -> None:
        """An entry read back from the stream (catching up after a reconnect)."""
        if self.last is not None and event[0] <= self.last:
            return
        self.last = event[0]
        self._deliver(event)

    def go_live(self) -> None:
        assert self.last is not None
        self.live = True
        for member in self.alive():
            member.go_live(self.last)

    def fail(self, error: Callable[[], LiveGQLError]) -> None:
        """End every subscriber's stream, each with an error of its own (one instance per raising task)."""
        for member in self.alive():
            member.fail(error())


def _nothing() -> None:
    pass


class TopicTable:
    """Topics by name and by channel; a topic leaves the table with its last local subscriber.

    `dirty` names topics whose upstream subscription may need changing; `notify` tells the pub/sub
    connection's keeper (set by it while connected).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.topics: dict[str, Topic] = {}
        self.by_channel: dict[bytes, Topic] = {}
        self.dirty: dict[str, None] = {}  # an ordered set
        self.notify: Callable[[], None] = _nothing

    def join(self, name: str, member: Member) -> None:
        topic = self.topics.get(name)
        if topic is None:
            topic = self.topics[name] = Topic(name, self.prefix)
            self.by_channel[topic.channel] = topic
            self._changed(name)
        topic.members[id(member)] = weakref.ref(member)
        if topic.live:
            assert topic.last is not None
            member.go_live(topic.last)

    def leave(self, name: str, member: Member) -> None:
        topic = self.topics.get(name)
        if topic is None:
            return
        topic.members.pop(id(member), None)
        if not topic.members:
            del self.topics[name]
            del self.by_channel[topic.channel]
            self._changed(name)

    def _changed(self, name: str) -> None:
        self.dirty[name] = None
        # RuntimeError: called from __del__ after the keeper's event loop closed; nothing listens any more.
        with contextlib.suppress(RuntimeError):
            self.notify()

    def members(self) -> list[Member]:
        return [member for topic in tuple(self.topics.values()) for member in topic.alive()]

    def subscriber_count(self, name: str | None = None) -> int:
        if name is not None:
            topic = self.topics.get(name)
            return len(topic.members) if topic is not None else 0
        return sum(len(topic.members) for topic in self.topics.values())

    def topic_count(self) -> int:
        return len(self.topics)
