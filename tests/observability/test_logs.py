"""Structured logs: livegql's records about an operation carry its connection and operation ids as attributes,
and `JSONFormatter` writes them as fields."""

import logging
import sys

import pytest

from livegql.core import json
from livegql.core.logs import JSONFormatter
from tests.observability.support import make_app
from tests.support.fanout_helpers import results
from tests.support.server import serve
from tests.support.wsclient import connect


async def test_operation_records_carry_connection_and_operation_ids(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="livegql.operations")
    app = make_app()
    with serve(app) as server:
        async with connect(server.ws_url) as first, connect(server.ws_url) as second:
            for peer in (first, second):
                await peer.init()
                await peer.subscribe("q1", "{ hello }")
                assert await results(peer, "q1", 1) == [{"hello": "hello"}]
    # The `extra=` attributes, which LogRecord's type does not declare.
    started = [record.__dict__ for record in caplog.records if record.name == "livegql.operations"]
    assert [(r["operation_id"], r["operation_kind"], r["transport"]) for r in started] == [
        ("q1", "query", "graphql-transport-ws"),
        ("q1", "query", "graphql-transport-ws"),
    ]
    ids = {record["connection_id"] for record in started}
    assert len(ids) == 2, "each connection has an id of its own"
    assert all(isinstance(id, str) and len(id) == 8 for id in ids)


def test_the_json_formatter_writes_the_ids_as_fields() -> None:
    extra = {"connection_id": "0a1b2c3d", "transport": "sse", "operation_id": "7", "operation_kind": "live"}
    record = logging.LogRecord("livegql.operations", logging.INFO, __file__, 1, "Operation %s", ("7",), None)
    record.__dict__.update(extra)
    entry = json.loads(JSONFormatter().format(record))
    assert entry["message"] == "Operation 7"
    assert (entry["level"], entry["logger"]) == ("INFO", "livegql.operations")
    assert {name: entry[name] for name in extra} == extra
    assert "exception" not in entry


def test_the_json_formatter_adds_chosen_fields_and_the_traceback() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", (), exc_info)
    record.tenant = object()  # not JSON: written as its str
    entry = json.loads(JSONFormatter(fields=("tenant",)).format(record))
    assert entry["tenant"].startswith("<object object")
    assert "RuntimeError: boom" in entry["exception"]
    assert "connection_id" not in entry
