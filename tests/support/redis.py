"""Real Redis for tests: the machine's server (skipped when absent), or a private `redis-server` to stop,
SIGKILL and restart; plus a key prefix per test so tests never collide and clean up after themselves."""

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

import pytest
import redis

URL_ENV = "LIVEGQL_TEST_REDIS_URL"
REQUIRE_ENV = "LIVEGQL_REQUIRE_REDIS"
DEFAULT_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
_POLL = 0.01


def _unavailable(reason: str) -> NoReturn:
    """Skip, unless this run demands Redis (CI sets LIVEGQL_REQUIRE_REDIS=1): then fail."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} (and {REQUIRE_ENV}=1)")
    pytest.skip(reason)


def _answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def redis_url_or_skip() -> str:
    """The machine's Redis (`LIVEGQL_TEST_REDIS_URL`, else 127.0.0.1:6379) if it answers PING."""
    url = os.environ.get(URL_ENV) or DEFAULT_URL
    if not _answers(url):
        _unavailable(f"Redis not reachable at {url}: start redis-server or set {URL_ENV}")
    return url


def unique_prefix() -> str:
    """A key prefix of one test's own, so it needs no FLUSHDB and runs beside anything else."""
    return f"livegql-test:{uuid.uuid4().hex}:"


def delete_keys(url: str, prefix: str) -> int:
    """Delete every key under `prefix` (SCAN, not KEYS: never blocks a shared server); returns how many."""
    deleted = 0
    with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) as client:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += client.delete(*batch)
                batch.clear()
        if batch:
            deleted += client.delete(*batch)
    return deleted


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class RedisServer:
    """A private `redis-server` on an ephemeral port, with an AOF synced on every write.

    `stop()` (SIGTERM) and `kill()` (SIGKILL) end it; `start()` brings it back on the same port and directory,
    so whatever it had accepted survives. Leaving the `with` block kills it and removes nothing but itself.
    """

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        if binary is None:
            _unavailable("redis-server is not installed: install Redis to run the fault tests")
        self._binary = binary
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again) and return once it answers PING (bounded)."""
        assert self._process is None or self._process.poll() is not None, "already running"
        log = (self.directory / "redis.log").open("ab")
        command = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        with log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        # The server lives in another process and offers nothing to wait on but its port: poll it, bounded.
        while not _answers(self.url, timeout=0.5):
            if self._process.poll() is not None:
                raise AssertionError(f"redis-server exited with {self._process.returncode}: {self._log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer within {START_TIMEOUT}s: {self._log_tail()}")
            time.sleep(_POLL)

    def stop(self) -> None:
        """SIGTERM: Redis closes its clients, syncs its AOF and exits."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: no shutdown at all; the kernel resets its connections."""
        self._signal(signal.SIGKILL)

    def _signal(self, number: signal.Signals) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(number)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def _log_tail(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()
