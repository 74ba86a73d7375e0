"""The app the load test serves with `livegql serve`: the benchmark's `publish` mutation and `topic`
subscription (events numbered per topic), with the library's limits except one (see below)."""

from bench.apps.common import SDL
from bench.apps.livegql_app import hello, publish, topic

from livegql import LiveGQL

app = LiveGQL(
    SDL,
    resolvers={"Query": {"hello": hello}, "Mutation": {"publish": publish}, "Subscription": {"topic": topic}},
    # Every test client comes from 127.0.0.1, where the per-address default (1,000) stands for one user: the
    # test's thousands of sockets stand for thousands of users. The total (max_connections, 20,000) and every
    # other limit, and the keep-alive pings, stay at their defaults.
    max_connections_per_client=20_000,
)
