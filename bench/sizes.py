"""How big each scenario is: the default sizes of a full run and the quick ones (`--quick`); each a flag."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    http_clients: int
    http_seconds: float
    http_warmup: float
    subscribers: int
    events: int
    paced_events: int
    rate: float
    connections: int
    rooms: int
    room_subscribers: int
    room_events: int
    live_clients: int
    invalidations: int
    live_interval: float
    stall_subscribers: int
    stall_events: int
    stall_rate: float
    stall_watchers: int
    stall_bumps: int


DEFAULT = Sizes(
    http_clients=32,
    http_seconds=10.0,
    http_warmup=2.0,
    subscribers=1000,
    events=200,
    paced_events=20,
    rate=4.0,
    connections=5000,
    rooms=100,
    room_subscribers=1000,
    room_events=10000,
    live_clients=1000,
    invalidations=100,
    live_interval=0.0,
    stall_subscribers=1000,
    stall_events=200,
    stall_rate=10.0,
    stall_watchers=1000,
    stall_bumps=250,
)
QUICK = Sizes(
    http_clients=16,
    http_seconds=2.0,
    http_warmup=0.5,
    subscribers=200,
    events=40,
    paced_events=10,
    rate=20.0,
    connections=1000,
    rooms=20,
    room_subscribers=200,
    room_events=400,
    live_clients=200,
    invalidations=20,
    live_interval=0.0,
    stall_subscribers=200,
    stall_events=200,
    stall_rate=10.0,
    stall_watchers=200,
    stall_bumps=150,
)
