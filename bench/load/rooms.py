"""Scenario `rooms`: S subscribers spread evenly over R topics ("rooms"), E events published round-robin over
the rooms (E / R per room) by a few concurrent publishers, each owning a fixed set of rooms so that every room's
events are published in order. Every subscriber must get its own room's events, all of them, once, in order.
"""

from dataclasses import dataclass
from typing import Any

from bench.load.connect import connect_and_subscribe
from bench.load.errors import ScenarioError
from bench.load.phase import Plan, run_phase, subscriber_problems
from bench.load.topics import Progress, Publisher, TopicSubscriber, warm_up
from bench.load.ws import WebSocketClient


@dataclass
class RoomsParams:
    subscribers: int
    rooms: int
    events: int  # in all, spread round-robin: events // rooms per room
    publishers: int = 4
    connect_concurrency: int = 64


def room_topic(room: int) -> str:
    return f"room-{room}"


def publishing_plans(rooms: int, per_room: int, publishers: int) -> list[Plan]:
    """Publisher p owns the rooms r with r % publishers == p and cycles through them: event k of each, then k+1."""
    owned = [[room for room in range(rooms) if room % publishers == p] for p in range(publishers)]
    return [[(room_topic(room), k) for k in range(per_room) for room in mine] for mine in owned]


async def run_rooms(host: str, port: int, path: str, pid: int, params: RoomsParams) -> dict[str, Any]:
    per_room = params.events // params.rooms
    if per_room < 1 or params.subscribers < params.rooms:
        raise ScenarioError(f"need at least one event and one subscriber per room, got {params}")
    progress = Progress()
    subscribers: list[TopicSubscriber] = []

    def subscribe(client: WebSocketClient) -> None:
        subscriber = TopicSubscriber(client, room_topic(len(subscribers) % params.rooms), progress)
        subscribers.append(subscriber)
        subscriber.subscribe()

    clients, setup = await connect_and_subscribe(
        (host, port, path), pid, subscribe, count=params.subscribers, concurrency=params.connect_concurrency
    )
    publisher_count = max(1, min(params.publishers, params.rooms))
    publishers = [Publisher(host, port, path) for _ in range(publisher_count)]
    try:
        warmups = await warm_up(publishers[0], [room_topic(room) for room in range(params.rooms)], subscribers)
        for subscriber in subscribers:
            subscriber.begin_phase(0, per_room)
        plans = publishing_plans(params.rooms, per_room, publisher_count)
        burst = await run_phase(publishers, plans, subscribers, progress, pid=pid)
    finally:
        for publisher in publishers:
            publisher.close()
        for client in clients:
            client.close()
    return {
        "subscribers": params.subscribers,
        "rooms": params.rooms,
        "events_per_room": per_room,
        "publishers": publisher_count,
        "setup": setup,
        "connect_subscribe_cpu_us_per_client": setup["connect_subscribe_cpu_us_per_client"],
        "warmup_rounds": warmups,
        "burst": burst,
        **subscriber_problems(subscribers, publishers),
    }
