"""The demo's in-memory feeds beside the chat: news items, a simulated stock ticker and points moving on a grid.

Each is bounded (a fixed number of symbols and points, the newest `MAX_NEWS` items) and seedable, so a test that
steps them by hand sees the same values every run.
"""

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from livegql.demo.store import iso_utc, utc_now

MAX_NEWS = 200
SYMBOLS = ("ACME", "GLOBX", "INITECH", "UMBRL", "WAYNE", "STARK")
GRID_WIDTH, GRID_HEIGHT = 24, 14
MOVERS = ("bus-1", "bus-2", "taxi-7", "bike-3", "drone-9")


class NewsItem(TypedDict):
    id: str
    headline: str
    author: str
    publishedAt: str


class Stock(TypedDict):
    symbol: str
    price: float
    change: float


class Point(TypedDict):
    id: str
    x: int
    y: int


class NewsFeed:
    """The newest `MAX_NEWS` items, newest first; older ones fall off (a demo keeps no archive)."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._items: deque[NewsItem] = deque(maxlen=MAX_NEWS)
        self._next_id = 1
        self._clock = clock

    def publish(self, headline: str, author: str) -> NewsItem:
        item: NewsItem = {
            "id": str(self._next_id),
            "headline": headline,
            "author": author,
            "publishedAt": iso_utc(self._clock()),
        }
        self._next_id += 1
        self._items.appendleft(item)
        return item

    def latest(self, last: int) -> list[NewsItem]:
        return list(self._items)[:last]


def _round(price: float) -> float:
    return round(price, 2)


@dataclass
class Ticker:
    """Prices of `SYMBOLS` on a seeded random walk; `change` is against the opening price."""

    seed: int | None = None
    _random: random.Random = field(init=False)
    _open: dict[str, float] = field(init=False)
    _price: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._open = {symbol: _round(self._random.uniform(20, 400)) for symbol in SYMBOLS}
        self._price = dict(self._open)

    def stocks(self) -> list[Stock]:
        return [self._stock(symbol) for symbol in SYMBOLS]

    def _stock(self, symbol: str) -> Stock:
        price = self._price[symbol]
        return {"symbol": symbol, "price": price, "change": _round(price - self._open[symbol])}

    def has(self, symbol: str) -> bool:
        return symbol in self._price

    def set_price(self, symbol: str, price: float) -> Stock:
        self._price[symbol] = _round(price)
        return self._stock(symbol)

    def step(self) -> list[str]:
        """Move a few prices (a real market does not move every symbol every tick); the symbols that changed."""
        moved = self._random.sample(SYMBOLS, k=self._random.randint(1, len(SYMBOLS)))
        for symbol in moved:
            drift = self._random.gauss(0, 0.004)
            self._price[symbol] = max(0.01, _round(self._price[symbol] * (1 + drift)))
        return moved


@dataclass
class Grid:
    """`MOVERS` on a `GRID_WIDTH` x `GRID_HEIGHT` grid, each stepping to a neighbouring cell at random."""

    seed: int | None = None
    _random: random.Random = field(init=False)
    _points: dict[str, Point] = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._points = {
            name: {"id": name, "x": self._random.randrange(GRID_WIDTH), "y": self._random.randrange(GRID_HEIGHT)}
            for name in MOVERS
        }

    def points(self) -> list[Point]:
        return [Point(id=point["id"], x=point["x"], y=point["y"]) for point in self._points.values()]

    def has(self, point_id: str) -> bool:
        return point_id in self._points

    def move(self, point_id: str, x: int, y: int) -> Point:
        point = self._points[point_id]
        point["x"], point["y"] = x, y
        return Point(id=point["id"], x=x, y=y)

    def step(self) -> list[str]:
        """Move every point one cell (or stay), kept inside the grid; the ids of the points that moved."""
        moved = []
        for point in self._points.values():
            dx, dy = self._random.choice((-1, 0, 1)), self._random.choice((-1, 0, 1))
            x = min(GRID_WIDTH - 1, max(0, point["x"] + dx))
            y = min(GRID_HEIGHT - 1, max(0, point["y"] + dy))
            if (x, y) != (point["x"], point["y"]):
                point["x"], point["y"] = x, y
                moved.append(point["id"])
        return moved
