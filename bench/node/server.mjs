// The Node.js reference server for livegql's benchmarks: the same schema as bench/apps, graphql-ws's
// useServer over `ws` for WebSocket and a plain `http` server running graphql-js `graphql()` for POST.
// Usage: node server.mjs --fd N   (N: an inherited, bound and listening TCP socket; bench/servers.py passes it)
import http from "node:http";
import { buildSchema, graphql } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

const SDL = `
type Query { hello: String!, items(n: Int!): [Item!]! }
type Item { id: ID!, name: String!, price: Float! }
type Mutation { publish(topic: String!, text: String!): Boolean! }
type Subscription { topic(name: String!): Event! }
type Event { text: String!, seq: Int! }
`;

// The few lines an app writes without a broker: one queue per subscriber, events numbered per topic.
class PubSub {
  constructor() {
    this.topics = new Map();
    this.lastSeq = new Map();
  }

  publish(topic, text) {
    const seq = (this.lastSeq.get(topic) ?? 0) + 1;
    this.lastSeq.set(topic, seq);
    for (const subscriber of this.topics.get(topic) ?? []) subscriber.push({ text, seq });
  }

  subscribe(topic) {
    const queue = [];
    let waiting = null;
    const subscribers = this.topics.get(topic) ?? new Set();
    this.topics.set(topic, subscribers);
    const subscriber = {
      push(event) {
        if (waiting) {
          const resolve = waiting;
          waiting = null;
          resolve({ value: event, done: false });
        } else queue.push(event);
      },
    };
    subscribers.add(subscriber);
    const done = () => {
      subscribers.delete(subscriber);
      if (waiting) waiting({ value: undefined, done: true });
      waiting = null;
      return Promise.resolve({ value: undefined, done: true });
    };
    return {
      next: () =>
        queue.length > 0
          ? Promise.resolve({ value: queue.shift(), done: false })
          : new Promise((resolve) => (waiting = resolve)),
      return: done,
      throw: (error) => done().then(() => Promise.reject(error)),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}

const pubsub = new PubSub();
const schema = buildSchema(SDL);
const fields = (type) => type.getFields();
fields(schema.getQueryType()).hello.resolve = () => "world";
fields(schema.getQueryType()).items.resolve = (_, { n }) =>
  Array.from({ length: n }, (_, i) => ({ id: String(i), name: `item-${i}`, price: i * 1.5 }));
fields(schema.getMutationType()).publish.resolve = (_, { topic, text }) => {
  pubsub.publish(topic, text);
  return true;
};
fields(schema.getSubscriptionType()).topic.subscribe = (_, { name }) => pubsub.subscribe(name);
fields(schema.getSubscriptionType()).topic.resolve = (event) => event;

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url.split("?")[0] !== "/graphql") {
    send(res, 404, { errors: [{ message: "POST /graphql only" }] });
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    let params;
    try {
      params = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      send(res, 400, { errors: [{ message: "Body is not JSON" }] });
      return;
    }
    const result = await graphql({
      schema,
      source: params.query,
      variableValues: params.variables,
      operationName: params.operationName,
    });
    send(res, 200, result);
  });
});

useServer({ schema }, new WebSocketServer({ server, path: "/graphql" }));

const fdIndex = process.argv.indexOf("--fd");
if (fdIndex < 0) {
  console.error("usage: node server.mjs --fd N");
  process.exit(2);
}
server.listen({ fd: Number(process.argv[fdIndex + 1]) });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
