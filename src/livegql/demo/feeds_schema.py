"""The news, ticker and locations part of the demo schema: SDL extending the chat's, resolvers, resource keys.

All three are meant for `query @live`: a publish invalidates `NEWS_KEY`, a price change `Stock:SYMBOL`, a move
`Point:ID` (the automatic key of a `Point`, which has an `id`), so only the live queries that read them re-run.
"""

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from livegql import PubSub, add_resource_keys
from livegql.demo.feeds import GRID_HEIGHT, GRID_WIDTH, Grid, NewsFeed, NewsItem, Point, Stock, Ticker
from livegql.demo.validation import check_author, check_last, check_text, invalid

FEEDS_SDL = """
"A news item; `publishedAt` is ISO 8601 in UTC."
type NewsItem {
  id: ID!
  headline: String!
  author: String!
  publishedAt: String!
}

"A simulated stock: its last price and the change since the demo started."
type Stock {
  symbol: String!
  price: Float!
  change: Float!
}

"A tracked point on the demo's grid (x from 0 to width-1, y from 0 to height-1)."
type Point {
  id: ID!
  x: Int!
  y: Int!
}

type Grid {
  width: Int!
  height: Int!
}

extend type Query {
  "The newest `last` (1-500) news items, newest first; with `query @live` it updates on every publish."
  news(last: Int = 20): [NewsItem!]!
  "Every simulated stock; with `query @live` (ask for `livePatches`) it updates as prices move."
  stocks: [Stock!]!
  "Every tracked point; with `query @live` it updates as they move."
  points: [Point!]!
  grid: Grid!
}

extend type Mutation {
  "Publish a news item to the top of the feed."
  publish(headline: String!, author: String!): NewsItem!
  "Set a stock's price, as another market feed would."
  setPrice(symbol: String!, price: Float!): Stock!
  "Move a tracked point to a cell of the grid."
  movePoint(id: ID!, x: Int!, y: Int!): Point!
}
"""

NEWS_KEY = "News:feed"


def stock_key(symbol: str) -> str:
    return f"Stock:{symbol}"


def point_key(point_id: str) -> str:
    return f"Point:{point_id}"


def _check_price(price: float) -> float:
    if not 0 < price < 1_000_000:
        raise invalid("price", "price must be above 0 and below 1000000")
    return price


def _check_cell(x: int, y: int) -> None:
    if not (0 <= x < GRID_WIDTH and 0 <= y < GRID_HEIGHT):
        raise invalid("x", f"the point must lie on the {GRID_WIDTH}x{GRID_HEIGHT} grid")


def make_feed_resolvers(news: NewsFeed, ticker: Ticker, grid: Grid) -> dict[str, dict[str, Callable[..., Any]]]:
    """Resolvers for `FEEDS_SDL`'s fields, over the three feeds, invalidating through `info.context["pubsub"]`."""

    def latest(_: Any, info: GraphQLResolveInfo, last: int | None) -> list[NewsItem]:
        add_resource_keys(info, NEWS_KEY)
        return news.latest(check_last(last))

    def stocks(_: Any, info: GraphQLResolveInfo) -> list[Stock]:
        found = ticker.stocks()
        add_resource_keys(info, *(stock_key(stock["symbol"]) for stock in found))
        return found

    def points(_: Any, info: GraphQLResolveInfo) -> list[Point]:
        found = grid.points()
        # Also keyed when a query leaves out `id` (then the automatic `Point:ID` keys are not collected).
        add_resource_keys(info, *(point_key(point["id"]) for point in found))
        return found

    async def publish(_: Any, info: GraphQLResolveInfo, headline: str, author: str) -> NewsItem:
        item = news.publish(check_text(headline), check_author(author))
        pubsub: PubSub = info.context["pubsub"]
        await pubsub.invalidate(NEWS_KEY)
        return item

    async def set_price(_: Any, info: GraphQLResolveInfo, symbol: str, price: float) -> Stock:
        if not ticker.has(symbol):
            raise GraphQLError(f"no stock {symbol!r}", extensions={"code": "NOT_FOUND"})
        stock = ticker.set_price(symbol, _check_price(price))
        await info.context["pubsub"].invalidate(stock_key(symbol))
        return stock

    async def move_point(_: Any, info: GraphQLResolveInfo, id: str, x: int, y: int) -> Point:
        if not grid.has(id):
            raise GraphQLError(f"no point {id!r}", extensions={"code": "NOT_FOUND"})
        _check_cell(x, y)
        point = grid.move(id, x, y)
        await info.context["pubsub"].invalidate(point_key(id))
        return point

    return {
        "Query": {
            "news": latest,
            "stocks": stocks,
            "points": points,
            "grid": lambda *_: {"width": GRID_WIDTH, "height": GRID_HEIGHT},
        },
        "Mutation": {"publish": publish, "setPrice": set_price, "movePoint": move_point},
    }
