// The GraphQL Yoga server for livegql's benchmarks: the same schema as bench/apps, Yoga's own handler for POST
// /graphql on a plain `http` server, and subscriptions over graphql-transport-ws with graphql-ws's useServer on
// `ws`, wired through Yoga's envelop as Yoga's docs show (yoga.getEnveloped per subscribe: its parse and validate,
// with Yoga's parser and validation caches, its context, its execute and subscribe). Events go through Yoga's
// createPubSub. Defaults everywhere else (GraphiQL, CORS, masked errors, logging), as with the other peers; no
// keep-alive pings (as server.mjs: useServer sends none).
// Usage: node yoga.mjs --fd N   (N: an inherited, bound and listening TCP socket; bench/servers.py passes it)
import { setMaxListeners } from "node:events";
import http from "node:http";
import { GraphQLLiveDirectiveSDL, useLiveQuery } from "@envelop/live-query";
import { InMemoryLiveQueryStore } from "@n1ru4l/in-memory-live-query-store";
import { useServer } from "graphql-ws/use/ws";
import { createPubSub, createSchema, createYoga } from "graphql-yoga";
import { WebSocketServer } from "ws";

const SDL = `
type Query { hello: String!, items(n: Int!): [Item!]! }
type Item { id: ID!, name: String!, price: Float! }
type Mutation { publish(topic: String!, text: String!): Boolean! }
type Subscription { topic(name: String!): Event! }
type Event { text: String!, seq: Int! }
`;
// The live scenario's fields, as in bench/apps/livegql_app.py: `board` (watched with `@live`), `liveExecutions`
// (how many times `board` ran) and `bump(stamp)`, which changes the board and invalidates `Query.board`. The stall
// scenario also asks for `Board.padding(size)`, so that each live result is a few KiB.
const LIVE_SDL = `
extend type Query { board: Board!, liveExecutions: Int! }
type Board { id: ID!, version: Int!, stamp: String!, padding(size: Int!): String! }
extend type Mutation { bump(stamp: String!): Int! }
`;

// createPubSub's default is a fresh EventTarget with one listener per subscriber of a topic, on which Node warns
// (MaxListenersExceededWarning) past 10 listeners: lift that limit, which only silences the warning.
const eventTarget = new EventTarget();
setMaxListeners(0, eventTarget);
const pubSub = createPubSub({ eventTarget });
// Events numbered per topic 1, 2, 3...: subscribers check theirs arrive complete and in order.
const lastSeq = new Map();

// Live queries the way Yoga's docs add them: envelop's useLiveQuery plugin over the in-memory store, which re-executes
// each live operation on its own after an invalidation (no shared execution, no throttle unless the query asks).
const liveQueryStore = new InMemoryLiveQueryStore();
const board = { version: 0, stamp: "0", executions: 0 };

const resolvers = {
  Query: {
    hello: () => "world",
    items: (_, { n }) => Array.from({ length: n }, (_, i) => ({ id: String(i), name: `item-${i}`, price: i * 1.5 })),
    board: () => {
      board.executions += 1;
      return { id: "board", version: board.version, stamp: board.stamp };
    },
    liveExecutions: () => board.executions,
  },
  Board: {
    padding: (_, { size }) => "x".repeat(Math.max(0, Math.min(size, 1 << 20))),
  },
  Mutation: {
    bump: async (_, { stamp }) => {
      board.version += 1;
      board.stamp = stamp;
      await liveQueryStore.invalidate("Query.board");
      return board.version;
    },
    publish: (_, { topic, text }) => {
      const seq = (lastSeq.get(topic) ?? 0) + 1;
      lastSeq.set(topic, seq);
      pubSub.publish(topic, { text, seq });
      return true;
    },
  },
  Subscription: {
    topic: { subscribe: (_, { name }) => pubSub.subscribe(name), resolve: (event) => event },
  },
};

const yoga = createYoga({
  schema: createSchema({ typeDefs: [SDL, LIVE_SDL, GraphQLLiveDirectiveSDL], resolvers }),
  graphqlEndpoint: "/graphql",
  plugins: [useLiveQuery({ liveQueryStore })],
});
const server = http.createServer(yoga);

useServer(
  {
    execute: (args) => args.rootValue.execute(args),
    subscribe: (args) => args.rootValue.subscribe(args),
    onSubscribe: async (ctx, _id, params) => {
      const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
        ...ctx,
        req: ctx.extra.request,
        socket: ctx.extra.socket,
        params,
      });
      const args = {
        schema,
        operationName: params.operationName,
        document: parse(params.query),
        variableValues: params.variables,
        contextValue: await contextFactory(),
        rootValue: { execute, subscribe },
      };
      const errors = validate(args.schema, args.document);
      if (errors.length) return errors;
      return args;
    },
  },
  new WebSocketServer({ server, path: yoga.graphqlEndpoint }),
);

const fdIndex = process.argv.indexOf("--fd");
if (fdIndex < 0) {
  console.error("usage: node yoga.mjs --fd N");
  process.exit(2);
}
server.listen({ fd: Number(process.argv[fdIndex + 1]) });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
