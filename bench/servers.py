"""The servers under test: how to start each on a pre-bound loopback socket, wait until it answers, and stop it.

Every child runs in its own session (Ctrl-C reaches only the orchestrator, which then stops it) and is killed by
the kernel if the orchestrator dies without cleaning up (PR_SET_PDEATHSIG), so no server outlives a run.
"""

import contextlib
import ctypes
import functools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_DIR = BENCH / "node"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
BACKLOG = 2048
_PR_SET_PDEATHSIG = 1
# Loaded before any fork: the child only makes the call.
_LIBC = ctypes.CDLL(None, use_errno=True)


class BenchError(Exception):
    """A server or the load generator failed; the run reports it and goes on with the next one."""


def die_with_parent(cpus: Collection[int] | None = None) -> None:
    """preexec_fn for every child: SIGKILL it when the orchestrator exits, however it exits; pin it to `cpus`
    (all its threads inherit that) when given."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if cpus:
        os.sched_setaffinity(0, cpus)


@dataclass(frozen=True)
class ServerSpec:
    name: str
    command: Callable[[int], list[str]]  # the argv, given the listening socket's file descriptor
    unavailable: Callable[[], str | None] = lambda: None  # why it cannot run here, if it cannot


def _uvicorn(app: str) -> Callable[[int], list[str]]:
    return lambda fd: [sys.executable, "-m", "bench.serve", "--fd", str(fd), app]


def _node_missing() -> str | None:
    if not (NODE_DIR / "node_modules").is_dir():
        return "bench/node/node_modules is missing: run `npm ci` (or `npm install`) in bench/node to include it"
    return None


def _node_package_missing(package: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        if (NODE_DIR / "node_modules" / package).is_dir():
            return None
        return f"bench/node/node_modules/{package} is missing: run `npm ci` in bench/node to include it"

    return missing


SERVERS: dict[str, ServerSpec] = {
    "livegql": ServerSpec("livegql", _uvicorn("bench.apps.livegql_app:app")),
    "strawberry": ServerSpec("strawberry", _uvicorn("bench.apps.strawberry_app:app")),
    "ariadne": ServerSpec("ariadne", _uvicorn("bench.apps.ariadne_app:app")),
    "node": ServerSpec("node", lambda fd: ["node", str(NODE_DIR / "server.mjs"), "--fd", str(fd)], _node_missing),
    "mercurius": ServerSpec(
        "mercurius",
        lambda fd: ["node", str(NODE_DIR / "mercurius.mjs"), "--fd", str(fd)],
        _node_package_missing("mercurius"),
    ),
    "yoga": ServerSpec(
        "yoga",
        lambda fd: ["node", str(NODE_DIR / "yoga.mjs"), "--fd", str(fd)],
        _node_package_missing("graphql-yoga"),
    ),
    # The lower bound: no GraphQL, just the bytes and frames the load needs (see bench/apps/floor_app.py).
    "floor": ServerSpec("floor", _uvicorn("bench.apps.floor_app:app")),
}


@dataclass
class RunningServer:
    name: str
    port: int
    process: "subprocess.Popen[bytes]"
    log: IO[str]
    final_log: list[str] = field(default_factory=list)  # the log's tail once the server has stopped

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 20) -> list[str]:
        self.log.seek(0)
        return self.log.read().splitlines()[-lines:]


def spawn(argv: list[str], cpus: Collection[int] | None = None, **options: Any) -> "subprocess.Popen[Any]":
    """Start a child in its own session, killed if we die, pinned to `cpus` if given (None: wherever we may run)."""
    prepare = functools.partial(die_with_parent, cpus)
    # preexec_fn is unsafe only with threads running; the orchestrator never starts one.
    return subprocess.Popen(argv, cwd=ROOT, start_new_session=True, preexec_fn=prepare, **options)  # noqa: PLW1509


def stop(process: "subprocess.Popen[Any]") -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT; always reaps the child."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def running(spec: ServerSpec, env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """Start `spec` on a fresh loopback port, yield it once it answers a query, stop it on exit.

    `env`: the server's whole environment, if not ours."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=BACKLOG)
    port = listener.getsockname()[1]
    with listener, tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        fd = listener.fileno()
        argv = spec.command(fd)
        process = spawn(argv, pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        listener.close()  # the server holds its own copy now
        server = RunningServer(spec.name, port, process, log)
        try:
            _wait_until_ready(server)
            yield server
        finally:
            stop(process)
            server.final_log = server.log_tail(50)


def _wait_until_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    url = f"http://127.0.0.1:{server.port}/graphql"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited with {server.process.returncode}: {server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.post(url, json={"query": "{ hello }"}, timeout=2.0, trust_env=False)
            if answer.status_code == 200 and answer.json() == {"data": {"hello": "world"}}:
                return
        time.sleep(0.1)
    raise BenchError(f"{server.name} did not answer within {START_TIMEOUT:.0f}s: {server.log_tail()}")


def node_version() -> str | None:
    try:
        done = subprocess.run(["node", "--version"], check=False, capture_output=True, text=True, timeout=10)
        return done.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
