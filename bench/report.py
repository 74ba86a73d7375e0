"""Markdown tables per scenario, with each peer's ratio to livegql, plus the notes a reader must not miss."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BASELINE = "livegql"
CLIENT_BOUND_PCT = 90.0


@dataclass(frozen=True)
class Column:
    header: str
    path: tuple[str, ...]
    digits: int = 0
    ratio: bool = False  # follow with a "vs livegql" column


def dig(result: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _number(value: Any, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: Any, base: Any) -> str:
    if not isinstance(value, int | float) or not isinstance(base, int | float) or base == 0:
        return "-"
    return f"{value / base:.2f}x"


def table(results: dict[str, dict[str, Any]], columns: list[Column]) -> list[str]:
    headers = ["server"]
    for column in columns:
        headers += [column.header, "vs livegql"] if column.ratio else [column.header]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    base = results.get(BASELINE, {})
    for name, result in results.items():
        if "error" in result:
            cells = [f"failed: {result['error'][:100]}"] + [""] * (len(headers) - 2)
        else:
            cells = []
            for column in columns:
                value = dig(result, column.path)
                cells.append(_number(value, column.digits))
                if column.ratio:
                    cells.append(_ratio(value, dig(base, column.path)))
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines


HTTP = [
    Column("req/s", ("requests_per_s",), ratio=True),
    Column("p50 ms", ("latency", "p50_ms"), 2, ratio=True),
    Column("p99 ms", ("latency", "p99_ms"), 2, ratio=True),
    Column("errors", ("errors",)),
    Column("server CPU %", ("cpu", "server_cpu_pct")),
    Column("client CPU %", ("cpu", "client_cpu_pct")),
]
FANOUT_BURST = [
    Column("deliveries/s", ("burst", "deliveries_per_s"), ratio=True),
    Column("p50 ms", ("burst", "latency", "p50_ms"), 1),
    Column("p99 ms", ("burst", "latency", "p99_ms"), 1),
    Column("lost", ("burst", "lost")),
    Column("problems", ("problems",)),
    Column("server CPU %", ("burst", "cpu", "server_cpu_pct")),
    Column("client CPU %", ("burst", "cpu", "client_cpu_pct")),
]
FANOUT_PACED = [
    Column("deliveries/s", ("paced", "deliveries_per_s")),
    Column("p50 ms", ("paced", "latency", "p50_ms"), 1, ratio=True),
    Column("p99 ms", ("paced", "latency", "p99_ms"), 1, ratio=True),
    Column("max ms", ("paced", "latency", "max_ms"), 1),
    Column("lost", ("paced", "lost")),
    Column("server CPU %", ("paced", "cpu", "server_cpu_pct")),
]
CONNECTIONS = [
    Column("KiB/connection", ("rss_per_connection_kib",), 1, ratio=True),
    Column("RSS before MiB", ("rss_before_mib",), 1),
    Column("RSS after MiB", ("rss_after_mib",), 1),
    Column("connects/s", ("connections_per_s",)),
    Column("alive", ("alive",)),
]

Section = tuple[str, str, list[Column], Callable[[dict[str, Any]], str]]
SECTIONS: list[Section] = [
    ("http", "http: POST `{ items(n: 20) { id name price } }`", HTTP, lambda s: f"{s['http_clients']} clients"),
    ("fanout", "fanout, burst (as fast as acked)", FANOUT_BURST, lambda s: f"{s['subscribers']} x {s['events']}"),
    ("fanout", "fanout, paced", FANOUT_PACED, lambda s: f"{s['subscribers']} x {s['paced_events']} @ {s['rate']}/s"),
    ("connections", "connections (idle, initialised)", CONNECTIONS, lambda s: f"{s['connections']} sockets"),
]


def render(document: dict[str, Any]) -> str:
    lines: list[str] = []
    sizes = document["sizes"]
    for scenario, title, columns, size in SECTIONS:
        if scenario in document["results"]:
            lines += [f"### {title} - {size(sizes)}", "", *table(document["results"][scenario], columns), ""]
    lines.append("vs livegql = peer / livegql: above 1x is better for req/s and deliveries/s, worse for ms and KiB.")
    notes = notes_for(document)
    if notes:
        lines += ["", "Notes:", *[f"- {note}" for note in notes]]
    return "\n".join(lines)


def notes_for(document: dict[str, Any]) -> list[str]:
    notes = [f"{name} skipped: {reason}" for name, reason in document["skipped"].items()]
    for scenario, results in document["results"].items():
        for name, result in results.items():
            notes += _result_notes(f"{scenario}/{name}", result)
    return notes


def _result_notes(where: str, result: dict[str, Any]) -> list[str]:
    if "error" in result:
        return [f"{where} failed: {result['error']}"]
    notes = []
    for path in [("cpu",), ("burst", "cpu"), ("paced", "cpu")]:
        client = dig(result, (*path, "client_cpu_pct"))
        if client is not None and client >= CLIENT_BOUND_PCT:
            notes.append(f"{where}: the load generator used {client:.0f}% of a core, so it may be the bottleneck")
    for key in ("errors", "problems", "publish_failures"):
        if result.get(key):
            examples = result.get(f"{key.removesuffix('s')}_examples") or []
            notes.append(f"{where}: {result[key]} {key}, e.g. {examples[:2]}")
    for phase in ("burst", "paced"):
        if dig(result, (phase, "lost")):
            notes.append(f"{where}: {result[phase]['lost']} deliveries lost in the {phase} phase")
    if "connections" in result and result.get("alive") != result["connections"]:
        notes.append(f"{where}: only {result.get('alive')} of {result['connections']} connections answered a ping")
    if result.get("server_log"):
        notes.append(
            f"{where}: the server logged {len(result['server_log'])} line(s), last: {result['server_log'][-1]}"
        )
    return notes
