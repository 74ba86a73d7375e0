// The Fastify + Mercurius server for livegql's benchmarks: the same schema as bench/apps, Mercurius' HTTP route
// for POST /graphql and its built-in subscriptions (graphql-transport-ws over @fastify/websocket), events through
// Mercurius' own pubsub (the default in-process mqemitter). Defaults everywhere else: no JIT threshold, Mercurius'
// query cache on, no keep-alive pings (as server.mjs: graphql-ws's useServer sends none either).
// Usage: node mercurius.mjs --fd N   (N: an inherited, bound and listening TCP socket; bench/servers.py passes it)
import http from "node:http";
import Fastify from "fastify";
import mercurius from "mercurius";

const SDL = `
type Query { hello: String!, items(n: Int!): [Item!]! }
type Item { id: ID!, name: String!, price: Float! }
type Mutation { publish(topic: String!, text: String!): Boolean! }
type Subscription { topic(name: String!): Event! }
type Event { text: String!, seq: Int! }
`;

// Events numbered per topic 1, 2, 3...: subscribers check theirs arrive complete and in order.
const lastSeq = new Map();

const resolvers = {
  Query: {
    hello: () => "world",
    items: (_, { n }) => Array.from({ length: n }, (_, i) => ({ id: String(i), name: `item-${i}`, price: i * 1.5 })),
  },
  Mutation: {
    publish: async (_, { topic, text }, { pubsub }) => {
      const seq = (lastSeq.get(topic) ?? 0) + 1;
      lastSeq.set(topic, seq);
      // Mercurius' convention: the payload is the subscription's root value, keyed by the field's name.
      await pubsub.publish({ topic, payload: { topic: { text, seq } } });
      return true;
    },
  },
  Subscription: {
    topic: { subscribe: (_, { name }, { pubsub }) => pubsub.subscribe(name) },
  },
};

// Fastify's listen() takes no file descriptor: bring our own `http` server and listen on it ourselves.
let server;
const app = Fastify({
  logger: false,
  serverFactory: (handler) => {
    server = http.createServer(handler);
    return server;
  },
});
app.register(mercurius, { schema: SDL, resolvers, subscription: true, path: "/graphql" });

const fdIndex = process.argv.indexOf("--fd");
if (fdIndex < 0) {
  console.error("usage: node mercurius.mjs --fd N");
  process.exit(2);
}
await app.ready();
server.listen({ fd: Number(process.argv[fdIndex + 1]) });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
