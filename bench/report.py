"""Markdown tables per scenario, with each peer's ratio to livegql (and to the `floor` server, where it ran and
the column asks for it), plus the notes a reader must not miss."""

from collections.abc import Callable
from typing import Any

from bench.load.http_load import QUERIES
from bench.report_stall import stall_lines, stall_notes
from bench.report_table import Column, dig, table

CLIENT_BOUND_PCT = 90.0


def _completeness(phase: tuple[str, ...]) -> list[Column]:
    return [
        Column("lost", (*phase, "lost")),
        Column("dup", (*phase, "duplicated")),
        Column("out of order", (*phase, "out_of_order")),
    ]


CPU_PER_DELIVERY = "server CPU µs/delivery"
CPU_PER_CLIENT = "connect+subscribe CPU µs/client"


def _http(query: str) -> list[Column]:
    """The http scenario's columns for one of its queries (bench/load/http_load.py measures each in turn)."""
    at = ("queries", query)
    return [
        Column("req/s", (*at, "requests_per_s"), ratio=True, floor=True),
        Column("p50 ms", (*at, "latency", "p50_ms"), 2, ratio=True),
        Column("p99 ms", (*at, "latency", "p99_ms"), 2, ratio=True),
        Column("errors", (*at, "errors")),
        Column("server CPU %", (*at, "cpu", "server_cpu_pct")),
        Column("client CPU %", (*at, "cpu", "client_cpu_pct")),
    ]


HTTP_QUERIES = {name: text for name, (text, _) in QUERIES.items()}
FANOUT_BURST = [
    Column("deliveries/s", ("burst", "deliveries_per_s"), ratio=True, floor=True),
    Column("p50 ms", ("burst", "latency", "p50_ms"), 1),
    Column("p99 ms", ("burst", "latency", "p99_ms"), 1),
    Column(CPU_PER_DELIVERY, ("burst", "server_cpu_us_per_delivery"), 1, ratio=True, floor=True),
    Column(CPU_PER_CLIENT, ("connect_subscribe_cpu_us_per_client",), 0, ratio=True, floor=True),
    *_completeness(("burst",)),
    Column("problems", ("problems",)),
    Column("client CPU %", ("burst", "cpu", "client_cpu_pct")),
]
FANOUT_PACED = [
    Column("deliveries/s", ("paced", "deliveries_per_s")),
    Column("p50 ms", ("paced", "latency", "p50_ms"), 1, ratio=True),
    Column("p99 ms", ("paced", "latency", "p99_ms"), 1, ratio=True),
    Column("max ms", ("paced", "latency", "max_ms"), 1),
    Column(CPU_PER_DELIVERY, ("paced", "server_cpu_us_per_delivery"), 1, ratio=True),
    *_completeness(("paced",)),
    Column("server CPU %", ("paced", "cpu", "server_cpu_pct")),
]
# livegql-redis against livegql: two processes sharing Redis against one in memory (the ratio column).
FANOUT_REDIS_BURST = [
    Column("deliveries/s", ("burst", "deliveries_per_s"), ratio=True),
    Column("p50 ms", ("burst", "latency", "p50_ms"), 1, ratio=True),
    Column("p99 ms", ("burst", "latency", "p99_ms"), 1, ratio=True),
    Column(CPU_PER_DELIVERY, ("burst", "server_cpu_us_per_delivery"), 1, ratio=True),
    Column("Redis CPU µs/delivery", ("burst", "redis_cpu_us_per_delivery"), 2),
    Column(CPU_PER_CLIENT, ("connect_subscribe_cpu_us_per_client",), 0, ratio=True),
    *_completeness(("burst",)),
    Column("problems", ("problems",)),
    Column("client CPU %", ("burst", "cpu", "client_cpu_pct")),
]
FANOUT_REDIS_PACED = [
    Column("p50 ms", ("paced", "latency", "p50_ms"), 1, ratio=True),
    Column("p99 ms", ("paced", "latency", "p99_ms"), 1, ratio=True),
    Column("max ms", ("paced", "latency", "max_ms"), 1),
    Column(CPU_PER_DELIVERY, ("paced", "server_cpu_us_per_delivery"), 1, ratio=True),
    Column("Redis CPU µs/delivery", ("paced", "redis_cpu_us_per_delivery"), 2),
    *_completeness(("paced",)),
]
ROOMS = [
    Column("deliveries/s", ("burst", "deliveries_per_s"), ratio=True, floor=True),
    Column("p50 ms", ("burst", "latency", "p50_ms"), 1),
    Column("p99 ms", ("burst", "latency", "p99_ms"), 1),
    Column(CPU_PER_DELIVERY, ("burst", "server_cpu_us_per_delivery"), 1, ratio=True, floor=True),
    *_completeness(("burst",)),
    Column("problems", ("problems",)),
    Column("client CPU %", ("burst", "cpu", "client_cpu_pct")),
]
LIVE = [
    Column("p50 ms", ("latency", "p50_ms"), 1),
    Column("p99 ms", ("latency", "p99_ms"), 1),
    Column(CPU_PER_DELIVERY, ("server_cpu_us_per_delivery",), 1),
    Column("executions/invalidation", ("executions_per_invalidation",), 2),
    Column("rounds", ("rounds_completed",)),
    *_completeness(()),
    Column("problems", ("problems",)),
    Column("client CPU %", ("cpu", "client_cpu_pct")),
]
IDLE = [
    Column("KiB/subscribed connection", ("rss_per_subscribed_connection_kib",), 1, ratio=True, floor=True),
    Column("KiB/connection, no subscription", ("rss_per_connection_kib",), 1, ratio=True),
    Column(CPU_PER_CLIENT, ("connect_subscribe_cpu_us_per_client",), 0, ratio=True, floor=True),
    Column("RSS before MiB", ("rss_before_mib",), 1),
    Column("RSS after MiB", ("rss_after_mib",), 1),
    Column("connects/s", ("connections_per_s",)),
    Column("alive", ("alive",)),
    Column("client CPU % (connect)", ("setup", "connect_cpu", "client_cpu_pct")),
]

Section = tuple[str, str, list[Column], Callable[[dict[str, Any]], str]]
SECTIONS: list[Section] = [
    *[
        ("http", f"http: POST `{text}`", _http(query), lambda s: f"{s['http_clients']} clients")
        for query, text in HTTP_QUERIES.items()
    ],
    ("fanout", "fanout, burst (as fast as acked)", FANOUT_BURST, lambda s: f"{s['subscribers']} x {s['events']}"),
    ("fanout", "fanout, paced", FANOUT_PACED, lambda s: f"{s['subscribers']} x {s['paced_events']} @ {s['rate']}/s"),
    (
        "fanout-redis",
        "fanout through Redis, burst: livegql-redis = 2 processes on the server CPU sharing Redis, half the "
        "subscribers on each, events published through each in turn; livegql = 1 process, in memory",
        FANOUT_REDIS_BURST,
        lambda s: f"{s['subscribers']} x {s['events']}",
    ),
    (
        "fanout-redis",
        "fanout through Redis, paced",
        FANOUT_REDIS_PACED,
        lambda s: f"{s['subscribers']} x {s['paced_events']} @ {s['rate']}/s",
    ),
    (
        "rooms",
        "rooms, burst (round-robin over the rooms)",
        ROOMS,
        lambda s: f"{s['room_subscribers']} subscribers in {s['rooms']} rooms, {s['room_events']} events",
    ),
    (
        "live",
        "live: one live query, one invalidation at a time",
        LIVE,
        lambda s: (
            f"{s['live_clients']} clients x {s['invalidations']} invalidations"
            + (f", one per {s['live_interval']:g} s or slower" if s.get("live_interval") else ", back to back")
        ),
    ),
    ("idle", "idle: one subscription per connection", IDLE, lambda s: f"{s['connections']} connections"),
]
LEGEND = (
    "vs livegql = peer / livegql (vs floor = server / floor): above 1x is better for req/s and deliveries/s, worse "
    "for ms, KiB and CPU µs. CPU µs/delivery: the server's CPU time from before the first publish until the last "
    "delivery, divided by deliveries. connect+subscribe CPU µs/client: its CPU time while the clients connect, "
    "initialise and subscribe, divided by clients."
)
REDIS_LEGEND = (
    "fanout through Redis: server CPU is both processes' sum; Redis CPU µs/delivery is the Redis server's own CPU "
    "time over the same window (with its idle housekeeping and any other client's commands meanwhile), not "
    "included in it; vs livegql = two processes through Redis / one in memory."
)


def render(document: dict[str, Any]) -> str:
    lines: list[str] = []
    pinning = document.get("pinning")
    if pinning:
        lines += [f"CPU pinning: {pinning['note']}.", ""]
    sizes = document["sizes"]
    for scenario, title, columns, size in SECTIONS:
        if scenario in document["results"]:
            lines += [f"### {title} - {size(sizes)}", "", *table(document["results"][scenario], columns), ""]
    lines += stall_lines(document)
    lines.append(LEGEND)
    if "fanout-redis" in document["results"]:
        lines += ["", REDIS_LEGEND]
    warnings = [note for note in notes_for(document) if note.startswith("WARNING")]
    notes = [note for note in notes_for(document) if not note.startswith("WARNING")]
    if warnings:
        lines += ["", *warnings]
    if notes:
        lines += ["", "Notes:", *[f"- {note}" for note in notes]]
    return "\n".join(lines)


def notes_for(document: dict[str, Any]) -> list[str]:
    notes = [f"{name} skipped: {reason}" for name, reason in document["skipped"].items()]
    for scenario, results in document["results"].items():
        for name, result in results.items():
            notes += _result_notes(f"{scenario}/{name}", result)
    return notes + stall_notes(document)


CPU_WINDOWS = [
    *(("queries", query, "cpu") for query in HTTP_QUERIES),
    ("burst", "cpu"),
    ("paced", "cpu"),
    ("setup", "connect_cpu"),
    ("setup", "subscribe_cpu"),
]


def _result_notes(where: str, result: dict[str, Any]) -> list[str]:
    if "error" in result:
        return [f"{where} failed: {result['error']}"]
    if "skipped" in result:
        return []
    notes = []
    for path in CPU_WINDOWS:
        client = dig(result, (*path, "client_cpu_pct"))
        if client is not None and client > CLIENT_BOUND_PCT:
            window = "/".join(path) if len(path) > 1 else "measured"
            notes.append(
                f"WARNING: {where}: the load generator used {client:.0f}% of a core in the {window} window, "
                "so it may be the bottleneck"
            )
    for key in ("errors", "problems", "publish_failures"):
        if result.get(key):
            examples = result.get(f"{key.removesuffix('s')}_examples") or []
            notes.append(f"{where}: {result[key]} {key}, e.g. {examples[:2]}")
    for phase in [("burst",), ("paced",), ()]:
        counts = {key: dig(result, (*phase, key)) for key in ("lost", "duplicated", "out_of_order")}
        if any(counts.values()):
            named = f" in the {phase[0]} phase" if phase else ""
            notes.append(f"{where}: {', '.join(f'{v} {k}' for k, v in counts.items())} deliveries{named}")
    if result.get("stalled"):
        notes.append(f"{where}: stopped after {result.get('rounds_completed')} rounds: {result['stalled']}")
    if "connections" in result and result.get("alive") != result["connections"]:
        notes.append(f"{where}: only {result.get('alive')} of {result['connections']} connections answered a ping")
    if result.get("server_log"):
        notes.append(
            f"{where}: the server logged {len(result['server_log'])} line(s), last: {result['server_log'][-1]}"
        )
    return notes
