"""A client's malformed input must not put tracebacks in the server's error log: uvicorn's own record of a
text frame that is not UTF-8 (answered 1007, as RFC 6455 says) is demoted to INFO, without its traceback."""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from livegql import LiveGQL, PubSub
from livegql.transport.logs import INVALID_UTF8
from tests.support.schema import SDL, make_resolvers
from tests.support.server import serve


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def recording(logger_name: str) -> Iterator[Records]:
    """Records of `logger_name`: attached once the server runs (uvicorn's logging config drops handlers)."""
    handler, logger = Records(), logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def test_a_text_frame_that_is_not_utf8_closes_1007_and_logs_no_error() -> None:
    app = LiveGQL(SDL, resolvers=make_resolvers(), pubsub=PubSub())
    with serve(app) as live, recording("uvicorn.error") as uvicorn_records:
        offered = [Subprotocol("graphql-transport-ws")]
        async with websockets.connect(live.ws_url, subprotocols=offered, open_timeout=5) as socket:
            await socket.send(b"\xff\xfe{}", text=True)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5.0)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1007
    mine = [record for record in uvicorn_records.records if record.getMessage() == INVALID_UTF8]
    assert len(mine) == 1
    assert (mine[0].levelno, mine[0].exc_info) == (logging.INFO, None)
    assert not [record for record in uvicorn_records.records if record.levelno >= logging.ERROR]
