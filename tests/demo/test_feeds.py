"""The demo's in-memory feeds: news newest first and bounded, a seeded ticker, points that stay on the grid."""

from datetime import UTC, datetime

from livegql.demo.feeds import GRID_HEIGHT, GRID_WIDTH, MAX_NEWS, MOVERS, SYMBOLS, Grid, NewsFeed, Ticker


def test_news_is_newest_first_and_keeps_only_the_newest() -> None:
    feed = NewsFeed(clock=lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    for number in range(MAX_NEWS + 5):
        feed.publish(f"h{number}", "desk")
    latest = feed.latest(3)
    assert [item["headline"] for item in latest] == [f"h{MAX_NEWS + 4}", f"h{MAX_NEWS + 3}", f"h{MAX_NEWS + 2}"]
    assert latest[0] == {
        "id": str(MAX_NEWS + 5),
        "headline": f"h{MAX_NEWS + 4}",
        "author": "desk",
        "publishedAt": "2026-01-02T03:04:05.000Z",
    }
    assert len(feed.latest(10_000)) == MAX_NEWS


def test_a_seeded_ticker_walks_the_same_way_every_time() -> None:
    first, second = Ticker(seed=3), Ticker(seed=3)
    for _ in range(50):
        assert first.step() == second.step()
    assert first.stocks() == second.stocks()
    assert [stock["symbol"] for stock in first.stocks()] == list(SYMBOLS)
    assert all(stock["price"] > 0 for stock in first.stocks())


def test_a_step_moves_only_the_symbols_it_names() -> None:
    ticker = Ticker(seed=11)
    for _ in range(20):
        before = {stock["symbol"]: stock["price"] for stock in ticker.stocks()}
        moved = set(ticker.step())
        after = {stock["symbol"]: stock["price"] for stock in ticker.stocks()}
        assert {symbol for symbol in SYMBOLS if before[symbol] != after[symbol]} <= moved
        assert moved <= set(SYMBOLS)


def test_set_price_rounds_and_change_is_against_the_opening_price() -> None:
    ticker = Ticker(seed=1)
    opening = {stock["symbol"]: stock["price"] for stock in ticker.stocks()}
    stock = ticker.set_price("ACME", opening["ACME"] + 1.004)
    assert stock == {"symbol": "ACME", "price": round(opening["ACME"] + 1.004, 2), "change": 1.0}
    assert ticker.has("ACME")
    assert not ticker.has("NOPE")


def test_points_stay_on_the_grid_and_step_reports_who_moved() -> None:
    grid = Grid(seed=5)
    assert [point["id"] for point in grid.points()] == list(MOVERS)
    for _ in range(500):
        before = {point["id"]: (point["x"], point["y"]) for point in grid.points()}
        moved = set(grid.step())
        after = {point["id"]: (point["x"], point["y"]) for point in grid.points()}
        assert moved == {name for name in MOVERS if before[name] != after[name]}
        assert all(0 <= x < GRID_WIDTH and 0 <= y < GRID_HEIGHT for x, y in after.values())


def test_points_returns_copies() -> None:
    grid = Grid(seed=5)
    grid.points()[0]["x"] = -1
    assert grid.points()[0]["x"] >= 0
    assert grid.move("bus-1", 2, 3) == {"id": "bus-1", "x": 2, "y": 3}
