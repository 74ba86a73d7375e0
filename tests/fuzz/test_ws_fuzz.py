"""Random and mutated frames over real WebSockets, for each of the three WebSocket protocols: every frame
answered as its spec says (or the socket closed with the code it names), nothing crashes, nothing leaks."""

import time

import pytest

from tests.fuzz.budget import Tally, run_rounds, target, time_limit
from tests.fuzz.conftest import ClientLoop, ErrorLog
from tests.fuzz.ws_driver import play_batch
from tests.fuzz.ws_model import LEGACY, PLAIN, PREDICT, TRANSPORT_WS, Frame
from tests.fuzz.ws_strategies import batches
from tests.support.server import LiveServer

PROTOCOLS = (TRANSPORT_WS, LEGACY, PLAIN)


@pytest.mark.timeout(max(time_limit(protocol) for protocol in PROTOCOLS))
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_random_and_mutated_frames(
    protocol: str, clean_server: LiveServer, client_loop: ClientLoop, error_log: ErrorLog
) -> None:
    tally, predict, started = Tally(), PREDICT[protocol], time.perf_counter()

    def check(batch: list[list[Frame]]) -> None:
        expected = [predict(frames) for frames in batch]
        client_loop.run(play_batch(clean_server.ws_url, protocol, batch, expected), timeout=120)
        for prediction in expected:
            tally.note(str(prediction.close or "open"), prediction.sent)

    run_rounds(batches(protocol), check, target(protocol), tally)
    elapsed = time.perf_counter() - started
    print(f"\nfuzz {protocol}: {tally.frames} frames, {tally.examples} connections, {elapsed:.1f}s, {tally.outcomes}")
    assert tally.frames >= target(protocol)
    # The generator reaches the outcomes the specs name, so every one of them is exercised.
    assert set(tally.outcomes) >= EXERCISED[protocol], tally.outcomes


EXERCISED = {
    TRANSPORT_WS: {"open", "1007", "4400", "4401", "4403", "4409", "4429"},
    LEGACY: {"open", "1000", "1007", "4400", "4403", "4429"},
    PLAIN: {"open", "1007", "4400"},
}
