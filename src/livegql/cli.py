"""The `livegql` command: serve an app or the demo, run one operation, or print a subscription's (or a live
query's) results."""

import argparse
import asyncio
import os
import sqlite3
import sys
from collections.abc import Sequence
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from livegql.broker.pubsub import BROKER_URL_ENV
from livegql.client import Client, ClientConnectionError, ClientError, HTTPClient
from livegql.core import json
from livegql.core.errors import ConfigurationError
from livegql.deadlines import DEFAULT_FIRST_REQUEST_TIMEOUT, set_first_request_timeout
from livegql.draining import set_grace_period
from livegql.serving import CommandError, UsageError, address, listen, run, serve
from livegql.tls import TLSFiles, tls_files

_WATCH = "subscription { messages { author text } }"
_POST = 'mutation { send(author: "ann", text: "hi") { id } }'
_LIVE = "query @live { messages(last: 5) { author text } }"


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the server could not be reached, or answered with errors
    USAGE = 2  # the command line was wrong (argparse uses 2 as well)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


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
    _add_serve(commands)
    demo = commands.add_parser("demo", help="serve the demo page: chat (SQLite), news, stock ticker, locations")
    _add_address(demo)
    database = demo.add_mutually_exclusive_group()
    database.add_argument("--db", metavar="PATH", help="SQLite file (default: $LIVEGQL_DEMO_DB or a per-user file)")
    database.add_argument("--database", metavar="URL", help="keep the chat in PostgreSQL: postgresql://...")
    demo.add_argument("--ticks", type=float, default=5.0, metavar="N", help="ticker updates per second (0: none)")
    demo.add_argument("--moves", type=float, default=2.0, metavar="N", help="location updates per second (0: none)")
    _add_tls(demo)
    _add_first_request_timeout(demo)
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


def _add_serve(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("serve", help="serve a LiveGQL app, any ASGI app, or a GraphQLSchema")
    parser.add_argument("target", metavar="MODULE:ATTR", help="e.g. app:app (imported from the current directory)")
    _add_address(parser)
    parser.add_argument("--reload", action="store_true", help="restart when files in the current directory change")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes sharing the port (default: %(default)s); N > 1 needs a shared --broker",
    )
    parser.add_argument(
        "--broker",
        metavar="URL",
        help=f"broker of the app's default PubSub: memory:// or redis://host:port/db (sets ${BROKER_URL_ENV})",
    )
    _add_tls(parser)
    _add_first_request_timeout(parser)
    parser.add_argument(
        "--grace-period",
        type=float,
        metavar="SECONDS",
        help="on SIGTERM, time for operations to finish and clients to be told to reconnect before the process "
        "exits (default: the app's shutdown_grace_period, 10)",
    )
    parser.set_defaults(run=_serve)


def _add_address(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: %(default)s)")


def _add_first_request_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--first-request-timeout",
        type=float,
        default=DEFAULT_FIRST_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="close a connection whose first request head is not complete by then (default: %(default)s)",
    )


def _deadline(args: argparse.Namespace) -> None:
    if args.first_request_timeout <= 0:
        raise UsageError("--first-request-timeout must be positive")
    set_first_request_timeout(args.first_request_timeout)


def _add_tls(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ssl-certfile", metavar="PATH", help="serve HTTPS and WSS with this certificate (PEM)")
    parser.add_argument("--ssl-keyfile", metavar="PATH", help="the certificate's private key (PEM)")
    parser.add_argument(
        "--self-signed",
        action="store_true",
        help="serve HTTPS and WSS with a certificate for localhost made (and kept) for development",
    )


def _tls(args: argparse.Namespace) -> TLSFiles | None:
    try:
        return tls_files(args.ssl_certfile, args.ssl_keyfile, self_signed=args.self_signed)
    except ConfigurationError as error:
        raise UsageError(str(error)) from None


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
    tls = _tls(args)
    _deadline(args)
    if args.grace_period is not None:
        if args.grace_period <= 0:
            raise UsageError("--grace-period must be positive")
        set_grace_period(args.grace_period)
    serve(args.target, args.host, args.port, workers=args.workers, reload=args.reload, broker=args.broker, tls=tls)
    return ExitCode.OK


def _demo(args: argparse.Namespace) -> ExitCode:
    from livegql.demo import StoreError, create_site, resolve_db_path
    from livegql.demo.store import redact

    if not (0 <= args.ticks <= 100 and 0 <= args.moves <= 100):
        raise UsageError("--ticks and --moves must be between 0 and 100")
    path = redact(args.database) if args.database else resolve_db_path(args.db)
    try:
        app = create_site(args.db, database=args.database, ticks_per_second=args.ticks, moves_per_second=args.moves)
    except (OSError, sqlite3.Error, StoreError) as error:
        raise CommandError(f"cannot open the demo database {path}: {error}") from None
    tls = _tls(args)
    _deadline(args)
    listener = listen(args.host, args.port)
    where = address(listener)
    # With TLS, the commands trust the certificate through SSL_CERT_FILE (httpx and OpenSSL both read it).
    cli, ws, http = (f"SSL_CERT_FILE={tls.certfile} livegql", "wss", "https") if tls else ("livegql", "ws", "http")
    print(f"livegql demo: chat stored in {path}")
    print(f"watch:  {cli} subscribe {ws}://{where}/graphql '{_WATCH}'")
    print(f"post:   {cli} query {http}://{where}/graphql '{_POST}'")
    print(f"live:   {cli} subscribe {ws}://{where}/graphql '{_LIVE}'")
    # Last, so the lines above keep their places for scripts that read them.
    print(f"page:   {http}://{where}/  (chat, news, stock ticker, locations)", flush=True)
    run(app, listener, tls)
    return ExitCode.OK


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
