"""`python -m bench run`: pick servers, scenarios and sizes, run the plan, print the tables, save the JSON."""

import argparse
import datetime
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from bench.fanout_redis import DEFAULT_REDIS_URL
from bench.machine import describe, pinning_plan
from bench.report import render
from bench.runner import FANOUT_REDIS, SCENARIOS, run_plan
from bench.servers import BENCH, ROOT, SERVERS
from bench.sizes import DEFAULT, QUICK, Sizes

SIZE_FLAGS: dict[str, tuple[type, str]] = {
    "http_clients": (int, "concurrent keep-alive HTTP clients"),
    "http_seconds": (float, "measured seconds of each query of the http scenario ({ hello }, then items)"),
    "http_warmup": (float, "unmeasured warm-up seconds before each query's measured ones"),
    "subscribers": (int, "WebSocket subscribers of one topic in the fanout scenario"),
    "events": (int, "events of the fanout burst (each published once the previous one is acknowledged)"),
    "paced_events": (int, "events of the paced fanout phase (0 skips it)"),
    "rate": (float, "events per second in the paced phase"),
    "connections": (int, "idle connections, each with one subscription, in the idle scenario"),
    "rooms": (int, "topics the rooms scenario spreads its subscribers over"),
    "room_subscribers": (int, "WebSocket subscribers in the rooms scenario"),
    "room_events": (int, "events of the rooms scenario in all, published round-robin over the rooms"),
    "live_clients": (int, "clients watching the same live query in the live scenario"),
    "invalidations": (int, "invalidations in the live scenario, one at a time"),
    "live_interval": (float, "least seconds between two invalidations' bumps (0: each as soon as all saw the last)"),
    "stall_subscribers": (int, "normal subscribers of one topic in the stall scenario's fan-out half"),
    "stall_events": (int, "paced events of the stall scenario's fan-out half (each about 3 KiB)"),
    "stall_rate": (float, "events per second in the stall scenario's fan-out half"),
    "stall_watchers": (int, "normal watchers of the live query in the stall scenario's live half"),
    "stall_bumps": (int, "invalidations of the stall scenario's live half, one round at a time"),
}


def _names(allowed: list[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return names

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description="livegql against its peers, in one run.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the benchmarks and print the tables")
    quick = f"small sizes (the stall scenario still takes about a minute per server): {asdict(QUICK)}"
    run.add_argument("--quick", action="store_true", help=quick)
    run.add_argument("--only", type=_names(list(SERVERS)), default=list(SERVERS), help=", ".join(SERVERS))
    run.add_argument("--scenario", type=_names(SCENARIOS), default=SCENARIOS, help=", ".join(SCENARIOS))
    for name, (kind, text) in SIZE_FLAGS.items():
        run.add_argument(f"--{name.replace('_', '-')}", type=kind, help=f"{text} (default {getattr(DEFAULT, name)})")
    run.add_argument("--results", type=Path, default=BENCH / "results", help="where the JSON goes")
    run.add_argument("--no-pin", action="store_true", help="do not pin the server and the load generator to CPUs")
    redis = f"the Redis of the {FANOUT_REDIS} scenario (it uses a fresh key prefix and deletes its keys afterwards)"
    run.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help=f"{redis} (default {DEFAULT_REDIS_URL})")
    return parser


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM and Ctrl-C take one road: unwind, so every `finally` stops its server.
    raise KeyboardInterrupt


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _shown(executable: Path) -> str:
    """The interpreter as someone in the project root would type it (`.venv/bin/python`)."""
    return str(executable.relative_to(ROOT)) if executable.is_relative_to(ROOT) else str(executable)


def _write(document: dict[str, Any], folder: Path) -> Path:
    """`latest.json` (the run docs/benchmarks.md shows, when committed) and a copy under `history/` (ignored)."""
    (folder / "history").mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    stamp = datetime.datetime.fromisoformat(document["started"]).strftime("%Y%m%dT%H%M%SZ")
    (folder / "history" / f"run-{stamp}.json").write_bytes(data)
    latest = folder / "latest.json"
    latest.write_bytes(data)
    return latest


def run(args: argparse.Namespace) -> int:
    overrides = {name: getattr(args, name) for name in SIZE_FLAGS if getattr(args, name) is not None}
    sizes: Sizes = replace(QUICK if args.quick else DEFAULT, **overrides)
    may_be_zero = ("paced_events", "live_interval")
    bad = [name for name, value in asdict(sizes).items() if value < 0 or (value == 0 and name not in may_be_zero)]
    if bad:
        print(f"[bench] these sizes must be positive: {', '.join(bad)}", file=sys.stderr)
        return 2
    skipped = {name: reason for name in args.only if (reason := SERVERS[name].unavailable())}
    for name, reason in skipped.items():
        print(f"[bench] skipping {name}: {reason}", file=sys.stderr)
    pinning = pinning_plan(enabled=not args.no_pin)
    print(f"[bench] {pinning.note}", file=sys.stderr)
    started = datetime.datetime.now(datetime.UTC)
    try:
        servers = [name for name in args.only if name not in skipped]
        results = run_plan(servers, args.scenario, sizes, pinning, args.redis_url)
    except KeyboardInterrupt:
        print("[bench] interrupted: the running server and load generator were stopped", file=sys.stderr)
        return 130
    document = {
        "command": shlex.join([_shown(Path(sys.executable)), "-m", "bench", *sys.argv[1:]]),
        "started": started.isoformat(timespec="seconds"),
        "wall_s": (datetime.datetime.now(datetime.UTC) - started).total_seconds(),
        "livegql_commit": _git("rev-parse", "--short", "HEAD"),
        "src_has_uncommitted_changes": bool(_git("status", "--porcelain", "--", "src")),
        "machine": describe(),
        "pinning": pinning.as_dict(),
        "sizes": asdict(sizes),
        "skipped": skipped,
        "results": results,
    }
    print(render(document))
    print(f"[bench] done in {document['wall_s']:.0f}s; JSON: {_write(document, args.results)}", file=sys.stderr)
    failed = any("error" in result for scenario in results.values() for result in scenario.values())
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGINT, _interrupt)  # even when started with SIGINT ignored (a background job)
    signal.signal(signal.SIGTERM, _interrupt)
    return run(args)
