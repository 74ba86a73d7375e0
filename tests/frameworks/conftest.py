"""One live server per framework: the same chat schema built with Strawberry, Ariadne or Graphene."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from graphql import GraphQLSchema

from livegql import LiveGQL, PubSub
from tests.frameworks import ariadne_chat, graphene_chat, strawberry_chat
from tests.frameworks.chat import ChatStore, chat_context
from tests.support.server import LiveServer, serve

FRAMEWORKS: dict[str, Callable[[], GraphQLSchema]] = {
    "strawberry": strawberry_chat.make_schema,
    "ariadne": ariadne_chat.make_schema,
    "graphene": graphene_chat.make_schema,
}


@dataclass
class ChatServer:
    live: LiveServer
    store: ChatStore


@pytest.fixture(params=list(FRAMEWORKS))
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def chat(framework: str, pubsub: PubSub) -> Iterator[ChatServer]:
    store = ChatStore()
    app = LiveGQL(FRAMEWORKS[framework](), pubsub=pubsub, context=chat_context(store), keepalive_interval=None)
    with serve(app) as live:
        yield ChatServer(live, store)
