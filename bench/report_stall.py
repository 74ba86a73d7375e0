"""The stall scenario's tables and notes: per half (fan-out, live), the normal clients' latency without (a) and
with (b) the client that stops reading, the ratio the acceptance bounds, and what the stalled client saw."""

from typing import Any

from bench.load.stall_fanout import StallFanoutParams
from bench.load.stall_live import StallLiveParams
from bench.report_table import Column, dig, table
from bench.stall_plan import MAX_P99_RATIO

CLIENT_BOUND_PCT = 90.0
A, B = "baseline", "stalled"


def _both(header: str, path: tuple[str, ...], digits: int = 0) -> list[Column]:
    return [Column(f"{header} (a)", (A, *path), digits), Column(f"{header} (b)", (B, *path), digits)]


def _columns(rounds: bool) -> list[Column]:
    return [
        *_both("p50 ms", ("phase", "latency", "p50_ms"), 1),
        *_both("p99 ms", ("phase", "latency", "p99_ms"), 1),
        Column("p99 (b)/(a)", ("summary", "p99_ratio"), 2),
        Column("max ms (b)", (B, "phase", "latency", "max_ms"), 1),
        *(_both("rounds", ("phase", "rounds_completed")) if rounds else []),
        Column("all, once, in order (a)/(b)", ("summary", "complete")),
        *_both("RSS growth MiB", ("memory", "rss_growth_mib"), 1),
        *_both("server CPU %", ("phase", "cpu", "server_cpu_pct")),
        Column("client CPU % (b)", (B, "phase", "cpu", "client_cpu_pct")),
        Column("stalled client (b)", ("summary", "stalled_client")),
    ]


def _part(results: dict[str, dict[str, Any]], part: str) -> dict[str, dict[str, Any]]:
    """Each server's result for one half; a server skipped or failed as a whole shows as that."""
    whole = ("skipped", "error")
    return {
        name: result.get(part) or {key: result[key] for key in whole if key in result}
        for name, result in results.items()
    }


def stall_lines(document: dict[str, Any]) -> list[str]:
    results = document["results"].get("stall")
    if not results:
        return []
    s = document["sizes"]
    kib = StallFanoutParams.payload_bytes / 1024
    fanout = (
        f"### stall, fan-out: {s['stall_subscribers']} subscribers x {s['stall_events']} events @ "
        f"{s['stall_rate']:g}/s, {kib:g} KiB each; (b) adds one connection with "
        f"{StallFanoutParams.stalled_subscriptions} subscriptions that stops reading"
    )
    live = (
        f"### stall, live: {s['stall_watchers']} watchers of the live `board` ({StallLiveParams.padding / 1024:g} "
        f"KiB) x {s['stall_bumps']} bumps, one round at a time; (b) adds one connection with "
        f"{StallLiveParams.stalled_queries} copies of the query that stops reading"
    )
    lines = [fanout, "", *table(_part(results, "fanout"), _columns(rounds=False)), ""]
    if any(isinstance(result.get("live"), dict) and "skipped" not in result["live"] for result in results.values()):
        lines += [live, "", *table(_part(results, "live"), _columns(rounds=True)), ""]
    lines.append(
        "(a): without the stalled client, (b): with it, each on a fresh server. Latency, completeness and CPU are "
        f"the normal clients'; the acceptance asks p99 (b)/(a) <= {MAX_P99_RATIO:g}. RSS growth: the server's "
        "highest RSS during the phase minus its RSS at the start."
    )
    return [*lines, ""]


def stall_notes(document: dict[str, Any]) -> list[str]:
    notes: list[str] = []
    for name, result in (document["results"].get("stall") or {}).items():
        for part in ("fanout", "live"):
            half = result.get(part)
            if not isinstance(half, dict) or "summary" not in half:
                continue
            where = f"stall/{name}/{part}"
            summary = half["summary"]
            if summary["p99_ratio"] is not None and not summary["p99_within_limit"]:
                notes.append(f"{where}: p99 (b)/(a) = {summary['p99_ratio']:.2f}, above {MAX_P99_RATIO:g}")
            for phase in (A, B):
                notes += _phase_notes(f"{where}/{phase}", half[phase])
    return notes


def _phase_notes(where: str, result: dict[str, Any]) -> list[str]:
    notes = []
    client = dig(result, ("phase", "cpu", "client_cpu_pct"))
    if client is not None and client > CLIENT_BOUND_PCT:
        notes.append(f"WARNING: {where}: the load generator used {client:.0f}% of a core, so it may be the bottleneck")
    for key in ("lost", "duplicated", "out_of_order", "problems"):
        if dig(result, ("phase", key)):
            notes.append(f"{where}: {dig(result, ('phase', key))} {key}")
    for key in ("problems", "publish_failures"):
        if result.get(key):
            examples = result.get(f"{key.removesuffix('s')}_examples") or []
            notes.append(f"{where}: {result[key]} {key}, e.g. {examples[:2]}")
    if dig(result, ("phase", "stalled")):
        notes.append(f"{where}: rounds stopped: {dig(result, ('phase', 'stalled'))}")
    others = dig(result, ("stalled_client", "other_messages"))
    if others:
        notes.append(f"{where}: the stalled client also got {others[:2]}")
    return notes
