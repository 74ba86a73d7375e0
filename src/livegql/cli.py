"""The `livegql` command: serve an app or the demo, run one operation, or print a subscription's (or a live
query's) results."""

import argparse
import asyncio
import contextlib
import importlib
import os
import socket
import sqlite3
import sys
from collections.abc import Sequence
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from graphql import GraphQLSchema

from livegql.client import Client, ClientConnectionError, ClientError, HTTPClient
from livegql.core import json
from livegql.transport import LiveGQL

_TARGET_ENV = "LIVEGQL_SERVE_TARGET"  # how `serve --reload` hands MODULE:ATTR to uvicorn's worker process
_WATCH = "subscription { messages { author text } }"
_POST = 'mutation { send(author: "ann", text: "hi") { id } }'
_LIVE = "query @live { messages(last: 5) { author text } }"


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the server could not be reached, or answered with errors
    USAGE = 2  # the command line was wrong (argparse uses 2 as well)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class UsageError(Exception):
    """A bad argument (URL, --var, MODULE:ATTR): one line on stderr, exit 2."""


class CommandError(Exception):
    """The command could not do its work (e.g. the port is taken): one line on stderr, exit 1."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: ExitCode = args.run(args)
    except UsageError as error:
        return _fail(ExitCode.USAGE, str(error))
    except CommandError as error:
        return _fail(ExitCode.FAILURE, str(error))
    except ClientConnectionError as error:
        return _fail(ExitCode.FAILURE, f"{error} (is the server running?)")
    except ClientError as error:
        lines = [_describe(item) for item in error.errors] or [str(error)]
        return _fail(ExitCode.FAILURE, *lines)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livegql", description="The real-time GraphQL server for Python.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve a LiveGQL app, any ASGI app, or a GraphQLSchema")
    serve.add_argument("target", metavar="MODULE:ATTR", help="e.g. app:app (imported from the current directory)")
    _add_address(serve)
    serve.add_argument("--reload", action="store_true", help="restart when files in the current directory change")
    serve.set_defaults(run=_serve)
    demo = commands.add_parser("demo", help="serve the chat demo (SQLite)")
    _add_address(demo)
    demo.add_argument("--db", metavar="PATH", help="SQLite file (default: $LIVEGQL_DEMO_DB or a per-user file)")
    demo.set_defaults(run=_demo)
    query = commands.add_parser("query", help="run a query or mutation and print the JSON result")
    query.add_argument("url", metavar="URL", help="http(s):// for GraphQL over HTTP, ws(s):// for WebSocket")
    query.add_argument("query", metavar="QUERY")
    _add_variables(query)
    query.set_defaults(run=_query)
    subscribe = commands.add_parser(
        "subscribe", help="print each event (or each result of a `query @live`) as one JSON line until Ctrl-C"
    )
    subscribe.add_argument("url", metavar="URL", help="ws(s):// (http(s):// is converted)")
    subscribe.add_argument("query", metavar="SUBSCRIPTION", help="a subscription, or a query marked @live")
    _add_variables(subscribe)
    subscribe.set_defaults(run=_subscribe)
    return parser


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")


def _add_variables(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable; VALUE is parsed as JSON if it parses, else taken as a string (repeatable)",
    )
    parser.add_argument("--operation-name", metavar="NAME", help="which operation of the document to run")


def _serve(args: argparse.Namespace) -> ExitCode:
    app = load_app(args.target)  # also when reloading: a bad target fails here, before uvicorn starts
    if args.reload:
        os.environ[_TARGET_ENV] = args.target
        with contextlib.suppress(KeyboardInterrupt):  # see _run
            uvicorn.run(f"{__name__}:reload_factory", factory=True, reload=True, host=args.host, port=args.port)
        return ExitCode.OK
    listener = _listen(args.host, args.port)
    path = app.settings.path if isinstance(app, LiveGQL) else ""
    print(f"livegql: serving {args.target} at http://{_address(listener)}{path}", flush=True)
    _run(app, listener)
    return ExitCode.OK


def reload_factory() -> Any:
    """The app for uvicorn's reloading worker process, which imports MODULE:ATTR afresh."""
    return load_app(os.environ[_TARGET_ENV])


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


def _demo(args: argparse.Namespace) -> ExitCode:
    from livegql.demo import create_app, resolve_db_path

    path = resolve_db_path(args.db)
    try:
        app = create_app(path)
    except (OSError, sqlite3.Error) as error:
        raise CommandError(f"cannot open the demo database {path}: {error}") from None
    listener = _listen(args.host, args.port)
    address = _address(listener)
    print(f"livegql demo: chat stored in {path}")
    print(f"watch:  livegql subscribe ws://{address}/graphql '{_WATCH}'")
    print(f"post:   livegql query http://{address}/graphql '{_POST}'")
    print(f"live:   livegql subscribe ws://{address}/graphql '{_LIVE}'", flush=True)
    _run(app, listener)
    return ExitCode.OK


def _listen(host: str, port: int) -> socket.socket:
    """Bind before serving: the printed address is the real one (even for --port 0), a busy port one line."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return listener


def _run(app: Any, listener: socket.socket) -> None:
    # uvicorn shuts down gracefully on Ctrl-C, then raises it again: for a server, that is a normal end.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(uvicorn.Config(app)).run(sockets=[listener])


def _address(listener: socket.socket) -> str:
    """How to reach the listener from this machine: a wildcard bind is reached on loopback."""
    host, port = listener.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _query(args: argparse.Namespace) -> ExitCode:
    url = check_url(args.url)
    variables = parse_variables(args.var)
    data = asyncio.run(_execute(url, args.query, variables, args.operation_name))
    print(json.dumps({"data": data}), flush=True)
    return ExitCode.OK


async def _execute(url: str, query: str, variables: dict[str, Any] | None, name: str | None) -> dict[str, Any]:
    if urlsplit(url).scheme in ("http", "https"):
        async with HTTPClient(url) as http:
            return await http.execute(query, variables, name)
    async with Client(url, reconnect=False) as client:
        return await client.execute(query, variables, name)


def _subscribe(args: argparse.Namespace) -> ExitCode:
    url = to_websocket(check_url(args.url))
    variables = parse_variables(args.var)
    try:
        asyncio.run(_print_events(url, args.query, variables, args.operation_name))
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a subscription is meant to end
    except BrokenPipeError:
        # The reader went away (`| head`): silence the final flush of the closed stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return ExitCode.OK


async def _print_events(url: str, query: str, variables: dict[str, Any] | None, name: str | None) -> None:
    async with Client(url) as client:
        async for data in client.subscribe(query, variables, name):
            sys.stdout.write(json.dumps({"data": data}) + "\n")
            sys.stdout.flush()


def check_url(url: str) -> str:
    """The URL if it is http(s):// or ws(s):// with a host and a valid port; else UsageError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        raise UsageError(f"malformed URL {url!r}: {error}") from None
    if parts.scheme not in ("http", "https", "ws", "wss"):
        raise UsageError(f"URL must start with http://, https://, ws:// or wss://, got {url!r}")
    if not parts.hostname:
        raise UsageError(f"URL has no host: {url!r}")
    return url


def to_websocket(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit(parts._replace(scheme=scheme))


def parse_variables(items: list[str]) -> dict[str, Any] | None:
    """`NAME=VALUE` pairs; a VALUE that is valid JSON is decoded (5, true, {"a": 1}), else kept as text."""
    variables: dict[str, Any] = {}
    for item in items:
        name, equals, text = item.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"invalid --var {item!r}: expected NAME=VALUE")
        try:
            variables[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            variables[name.strip()] = text
    return variables or None


def _describe(error: dict[str, object]) -> str:
    message = str(error.get("message", "GraphQL error"))
    path = error.get("path")
    if isinstance(path, list) and path:
        message += " (at " + ".".join(str(part) for part in path) + ")"
    return message


def _fail(code: ExitCode, *lines: str) -> ExitCode:
    for line in lines:
        print(f"livegql: error: {line}", file=sys.stderr)
    return code
