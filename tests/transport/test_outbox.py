"""The eager outbox on its own: frames written in place while the server takes them, queued behind a send that
has to wait, written in order once it can go on; a Close ends it; a failing send means the peer is gone."""

import asyncio

from livegql.protocol import Close, CloseCode, Output
from livegql.transport.outbox import Outbox


class FakeServer:
    """An ASGI-like send: completes in place while open, waits on `room` while paused."""

    def __init__(self) -> None:
        self.written: list[Output] = []
        self.room: asyncio.Future[None] | None = None
        self.fail_with: Exception | None = None
        self.wrote = asyncio.Event()

    async def wait_written(self, count: int) -> None:
        async with asyncio.timeout(2):
            while len(self.written) < count:
                self.wrote.clear()
                await self.wrote.wait()

    def pause(self) -> None:
        self.room = asyncio.get_running_loop().create_future()

    def resume(self) -> None:
        assert self.room is not None
        self.room.set_result(None)
        self.room = None

    async def write(self, frame: Output) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if self.room is not None:
            await self.room
        self.written.append(frame)
        self.wrote.set()


def make(server: FakeServer, limit: int = 3) -> tuple[Outbox, list[str], asyncio.Event]:
    events: list[str] = []
    finished = asyncio.Event()

    def on_finished() -> None:
        events.append("finished")
        finished.set()

    outbox = Outbox(limit, server.write, on_room=lambda: events.append("room"), on_finished=on_finished)
    return outbox, events, finished


async def test_frames_are_written_in_place_while_the_server_takes_them() -> None:
    server = FakeServer()
    outbox, events, _ = make(server)
    outbox.append("a")
    outbox.extend(["b", "c"])
    assert server.written == ["a", "b", "c"]  # no await happened: written eagerly
    assert len(outbox) == 0
    assert events == []


async def test_frames_queue_behind_a_waiting_send_and_go_out_in_order() -> None:
    server = FakeServer()
    outbox, events, finished = make(server, limit=3)
    server.pause()
    outbox.append("a")  # suspends inside the server's send
    outbox.extend(["b", "c", "d"])
    assert server.written == []
    assert len(outbox) == 3
    assert outbox.full
    server.resume()
    await server.wait_written(4)
    assert server.written == ["a", "b", "c", "d"]
    assert events == ["room"]  # the full queue made room once
    assert not finished.is_set()
    outbox.append("e")  # the writer is gone again: back to writing in place
    assert server.written[-1] == "e"


async def test_a_close_ends_the_outbox_and_nothing_after_it_is_written() -> None:
    server = FakeServer()
    outbox, events, finished = make(server)
    close = Close(CloseCode.TRY_AGAIN_LATER, "slow consumer")
    outbox.extend(["a", close, "after"])
    assert server.written == ["a", close]
    assert finished.is_set()
    assert events == ["finished"]
    outbox.append("later")
    assert server.written == ["a", close]


async def test_a_close_queued_behind_a_waiting_send_ends_the_outbox_once_written() -> None:
    server = FakeServer()
    outbox, _, finished = make(server)
    server.pause()
    outbox.extend(["a", Close(CloseCode.NORMAL_CLOSURE, "bye")])
    server.resume()
    async with asyncio.timeout(2):
        await finished.wait()
    assert server.written == ["a", Close(CloseCode.NORMAL_CLOSURE, "bye")]


async def test_a_failing_send_means_the_peer_is_gone() -> None:
    server = FakeServer()
    outbox, events, finished = make(server)
    server.fail_with = OSError("connection reset")
    outbox.append("a")
    assert finished.is_set()
    assert events == ["finished"]


async def test_a_send_failing_after_it_waited_also_ends_the_outbox() -> None:
    server = FakeServer()
    outbox, _, finished = make(server)
    server.pause()
    outbox.append("a")
    assert server.room is not None
    server.room.set_exception(OSError("connection reset"))
    server.room = None
    async with asyncio.timeout(2):
        await finished.wait()
    assert server.written == []


async def test_cancel_stops_a_waiting_writer() -> None:
    server = FakeServer()
    outbox, events, _ = make(server)
    server.pause()
    outbox.extend(["a", "b"])
    outbox.cancel()
    server.resume()
    for _ in range(5):
        await asyncio.sleep(0)
    assert server.written == []
    assert events == []
