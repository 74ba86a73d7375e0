"""The subscribe token bucket and the connection counter, with the clock passed in."""

import pytest

from livegql.transport.limits import ConnectionLimits, TokenBucket, client_address


def test_a_full_bucket_allows_a_burst_then_refuses() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]


def test_tokens_come_back_at_the_rate_and_never_above_the_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    assert all(bucket.take(0.0) for _ in range(3))
    assert not bucket.take(0.25)  # half a token so far
    assert bucket.take(0.5)  # one token
    assert not bucket.take(0.5)
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # a long pause saves 3, not 199


def test_a_clock_going_backwards_refills_nothing() -> None:
    bucket = TokenBucket(rate=1.0, burst=1)
    assert bucket.take(5.0)
    assert not bucket.take(4.0)
    assert not bucket.take(5.5)
    assert bucket.take(6.0)


def test_a_bucket_needs_a_rate_and_room_for_one_token() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0.0, burst=1)
    with pytest.raises(ValueError, match="at least one token"):
        TokenBucket(rate=1.0, burst=0.5)


def test_connections_are_limited_per_client_and_in_total() -> None:
    limits = ConnectionLimits(per_client=2, total=3)
    assert limits.acquire("a")
    assert limits.acquire("a")
    assert not limits.acquire("a")  # a's own limit
    assert limits.acquire("b")
    assert not limits.acquire("c")  # the total
    limits.release("a")
    assert limits.acquire("c")
    for client in ("a", "b", "c"):
        limits.release(client)
    assert (limits.total, limits.count("a"), limits.count("b")) == (0, 0, 0)


def test_a_release_without_an_acquire_is_a_bug() -> None:
    limits = ConnectionLimits(per_client=1, total=1)
    with pytest.raises(RuntimeError):
        limits.release("a")


def test_the_client_address_is_the_scope_s_host() -> None:
    assert client_address({"client": ("10.0.0.1", 4321)}) == "10.0.0.1"
    assert client_address({"client": None}) == ""
    assert client_address({}) == ""
