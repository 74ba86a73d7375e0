"""Serving for the `livegql` command: import MODULE:ATTR, bind the port, then run one process, a reloader,
or N workers sharing the port, with the broker chosen by `--broker` or `LIVEGQL_BROKER_URL`."""

import asyncio
import contextlib
import importlib
import logging
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from graphql import GraphQLSchema
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess, multiprocess

from livegql.broker import MemoryBackend, PubSub
from livegql.broker.pubsub import BROKER_URL_ENV
from livegql.core.errors import ConfigurationError
from livegql.deadlines import FirstRequestDeadline
from livegql.draining import DrainingProcess, DrainingServer
from livegql.tls import TLSFiles
from livegql.transport import LiveGQL

# How `serve --reload` and `serve --workers N` hand MODULE:ATTR to uvicorn's child processes: they are
# spawned (not forked), so each imports the target afresh, and inherits this process's environment.
_TARGET_ENV = "LIVEGQL_SERVE_TARGET"
_BACKLOG = 2048  # uvicorn's default

logger = logging.getLogger("uvicorn.error")  # configured in every worker, so our lines look like uvicorn's


class UsageError(Exception):
    """A bad argument (URL, --var, MODULE:ATTR): one line on stderr, exit 2."""


class CommandError(Exception):
    """The command could not do its work (e.g. the port is taken): one line on stderr, exit 1."""


def serve(
    target: str,
    host: str,
    port: int,
    *,
    workers: int = 1,
    reload: bool = False,
    broker: str | None = None,
    tls: TLSFiles | None = None,
) -> None:
    """`livegql serve`: every usage error is found here, before a port is bound or a worker started."""
    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    if workers > 1 and reload:
        raise UsageError("--workers and --reload cannot be combined: the reloader runs one worker")
    if broker is not None:
        check_broker_url(broker, "--broker")
        # Before the import: the app's default PubSub reads it, here and in every child process.
        os.environ[BROKER_URL_ENV] = broker
    elif os.environ.get(BROKER_URL_ENV):
        check_broker_url(os.environ[BROKER_URL_ENV], f"${BROKER_URL_ENV}")  # one line, not the app's traceback
    app = load_app(target)  # also for reload and workers: a bad target fails here, before uvicorn starts
    if broker is not None and isinstance(app, LiveGQL) and not app.owns_pubsub:
        raise UsageError(f"--broker has no effect: {target} was given its own pubsub= (remove one of them)")
    if workers > 1 and _serves_from_memory(app):
        raise UsageError(
            f"--workers {workers} needs a shared broker: with the in-memory one each process has its own, and "
            "subscribers would miss events published on other workers (use --broker redis://...)"
        )
    os.environ[_TARGET_ENV] = target
    if reload:
        with contextlib.suppress(KeyboardInterrupt):  # see run
            certfile, keyfile = ssl_files(tls)
            uvicorn.run(
                f"{__name__}:reload_factory",
                factory=True,
                reload=True,
                http=FirstRequestDeadline,
                host=host,
                port=port,
                ssl_certfile=certfile,
                ssl_keyfile=keyfile,
            )
        return
    listener = listen(host, port)
    path = app.settings.path if isinstance(app, LiveGQL) else ""
    print(f"livegql: serving {target} at {'https' if tls else 'http'}://{address(listener)}{path}", flush=True)
    if workers == 1:
        run(app, listener, tls)
    else:
        _run_workers(workers, listener, tls)


def check_broker_url(url: str, source: str) -> None:
    """UsageError naming `source` unless `PubSub.from_url` accepts `url` (checked without connecting)."""
    try:
        pubsub = PubSub.from_url(url)
    except (ConfigurationError, ValueError) as error:  # ValueError: redis-py rejecting the URL itself
        raise UsageError(f"invalid {source} URL {url!r}: {error}") from None
    asyncio.run(pubsub.close())  # it never connected, but may hold a client that warns when dropped


def _serves_from_memory(app: Any) -> bool:
    """Whether the app's events would stay in one process. A LiveGQL shows its broker; any other ASGI app
    most likely mounts a LiveGQL with the default broker, so the environment decides."""
    if isinstance(app, LiveGQL):
        return isinstance(app.pubsub.backend, MemoryBackend)
    return urlsplit(os.environ.get(BROKER_URL_ENV) or "memory://").scheme == "memory"


def reload_factory() -> Any:
    """The app for uvicorn's reloading worker process, which imports MODULE:ATTR afresh."""
    return load_app(os.environ[_TARGET_ENV])


def worker_factory() -> Any:
    """The app for each of `--workers N` processes, which imports MODULE:ATTR afresh."""
    target = os.environ[_TARGET_ENV]
    try:
        return load_app(target)
    except Exception as error:
        # It imported in the parent, so this is no typo: uvicorn would restart the worker forever. Exiting
        # with its startup-failure code makes the supervisor stop instead, and `serve` exit 1.
        logger.error("cannot load %s in worker %d: %s", target, os.getpid(), error, exc_info=True)
        sys.exit(STARTUP_FAILURE)


def load_app(target: str) -> Any:
    """Import MODULE:ATTR from the current directory; a GraphQLSchema is wrapped in LiveGQL."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"expected MODULE:ATTR (e.g. app:app), got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as uvicorn does, so `livegql serve app:app` finds ./app.py
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name != missing and not module_name.startswith(missing + "."):
            raise  # the module exists but imports something missing: its traceback is what helps
        raise UsageError(f"cannot import module {module_name!r} (from {os.getcwd()})") from None
    for name in attribute.split("."):
        if not hasattr(value, name):
            raise UsageError(f"module {module_name!r} has no attribute {attribute!r}")
        value = getattr(value, name)
    if isinstance(value, GraphQLSchema):
        return LiveGQL(value)
    if not callable(value):
        raise UsageError(f"{target} is of type {type(value).__name__}, not an ASGI app or a GraphQLSchema")
    return value


def listen(host: str, port: int) -> socket.socket:
    """Bind before serving: the printed address is the real one (even for --port 0), a busy port one line."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    # Listen now, not when uvicorn starts: a client that connects as soon as the address is printed waits in
    # the backlog instead of being refused, and with --workers, whichever worker is ready first accepts it.
    listener.listen(_BACKLOG)
    return listener


# Seconds uvicorn waits for open responses after Ctrl-C or SIGTERM before cancelling them: for an app that is
# no LiveGQL (nothing to drain), and, after a drain, for whatever it did not own. An SSE or multipart stream
# never ends by itself, so without a bound the server would wait for its clients forever; cancelled, each
# stream ends without `complete`, and graphql-sse and EventSource clients reconnect (and resume) elsewhere.
GRACEFUL_SHUTDOWN_SECONDS = 5


def ssl_files(tls: TLSFiles | None) -> tuple[str | None, str | None]:
    """uvicorn's ssl_certfile and ssl_keyfile for `tls` (None, None for plain HTTP)."""
    return (None, None) if tls is None else (tls.certfile, tls.keyfile)


def run(app: Any, listener: socket.socket, tls: TLSFiles | None = None) -> None:
    # uvicorn shuts down gracefully on Ctrl-C, then raises it again: for a server, that is a normal end.
    certfile, keyfile = ssl_files(tls)
    config = uvicorn.Config(
        app,
        http=FirstRequestDeadline,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    with contextlib.suppress(KeyboardInterrupt):
        DrainingServer(config).run(sockets=[listener])


def _run_workers(workers: int, listener: socket.socket, tls: TLSFiles | None) -> None:
    """Run `workers` processes accepting on `listener` until Ctrl-C or SIGTERM; one that dies is replaced."""
    certfile, keyfile = ssl_files(tls)
    config = uvicorn.Config(
        f"{__name__}:worker_factory",
        factory=True,
        workers=workers,
        http=FirstRequestDeadline,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    supervisor = Multiprocess(config, sockets=[listener])
    with _draining_workers():
        supervisor.run()
    # uvicorn stops every worker when one fails before serving (it would fail again if restarted).
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        raise CommandError("a worker failed to start (its error is above)")


@contextlib.contextmanager
def _draining_workers() -> Iterator[None]:
    """uvicorn's supervisor builds each worker's Server inside the `Process` class its module names, and offers
    no parameter for it: while the supervisor runs, that name is DrainingProcess, whose server drains."""
    original = multiprocess.Process
    multiprocess.Process = DrainingProcess  # type: ignore[misc]
    try:
        yield
    finally:
        multiprocess.Process = original  # type: ignore[misc]


def address(listener: socket.socket) -> str:
    """How to reach the listener from this machine: a wildcard bind is reached on loopback."""
    host, port = listener.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
