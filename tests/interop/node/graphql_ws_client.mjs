// Drives a livegql server with the graphql-ws npm client (the protocol's reference implementation).
// Usage: node graphql_ws_client.mjs WS_URL SCENARIO
// Prints exactly one JSON line, {"scenario", "ok", ...results}, and exits 0; on a failure of the script
// itself (deadline, unexpected exception) it prints {"ok": false, "error"} and exits 1. GraphQL errors and
// close events are results, not failures: tests/interop/test_graphql_ws_node.py judges them.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const DEADLINE_MS = 20_000;
const [url, scenario] = process.argv.slice(2);

// The scenarios the Python side publishes to / asserts on; keep in step with test_graphql_ws_node.py.
const RELEASE_TOPIC = 'node-release';
const MUTATION_TOPIC = 'node-mutation';

function finish(result, exitCode) {
  process.stdout.write(JSON.stringify({ scenario, ...result }) + '\n', () => process.exit(exitCode));
}

function client(options = {}) {
  // retryAttempts 0: a close must surface to the sink at once (graphql-ws retries 4403 by default).
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, ...options });
}

// What a sink's error callback got: a GraphQL errors array, a CloseEvent, or some Error.
function describe(error) {
  if (Array.isArray(error)) return { graphqlErrors: error };
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { closeCode: error.code, closeReason: error.reason };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

// One operation to its end: every Next payload, then either completed or the error it ended with.
function run(graphql, payload) {
  return new Promise((resolve) => {
    const values = [];
    graphql.subscribe(payload, {
      next: (value) => values.push(value),
      error: (error) => resolve({ values, completed: false, error: describe(error) }),
      complete: () => resolve({ values, completed: true }),
    });
  });
}

async function single(payload, options) {
  const graphql = client(options);
  try {
    return await run(graphql, payload);
  } finally {
    await graphql.dispose();
  }
}

function stdinClosed() {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
}

// Unsubscribe after the first event while keeping the socket open (lazy: false holds it), then wait for the
// Python side to check the server released the subscriber (it closes our stdin), then prove the same
// socket still serves.
async function clientComplete() {
  const closes = [];
  let connections = 0;
  const graphql = client({
    lazy: false,
    onNonLazyError: (error) => closes.push(describe(error)),
    on: { connected: () => (connections += 1), closed: (event) => closes.push(describe(event)) },
  });
  try {
    const first = await new Promise((resolve, reject) => {
      const unsubscribe = graphql.subscribe(
        { query: `subscription { topic(name: "${RELEASE_TOPIC}") }` },
        {
          next: (value) => {
            unsubscribe(); // sends Complete for this id
            resolve(value);
          },
          error: (error) => reject(new Error(`subscription failed: ${JSON.stringify(describe(error))}`)),
          complete: () => {},
        },
      );
    });
    await stdinClosed();
    const closesWhileHeld = [...closes];
    const after = await run(graphql, { query: '{ hello(name: "again") }' });
    return { first, after, connections, closesWhileHeld };
  } finally {
    await graphql.dispose();
  }
}

const scenarios = {
  query: () =>
    single({ query: 'query Greet($name: String) { hello(name: $name) }', variables: { name: 'node' } }),
  mutation: () =>
    single({
      query: 'mutation Post($topic: String!, $text: String!) { publish(topic: $topic, text: $text) }',
      variables: { topic: MUTATION_TOPIC, text: 'from node' },
    }),
  subscription: () => single({ query: 'subscription { count(to: 100) }' }),
  'client-complete': clientComplete,
  'validation-error': () => single({ query: '{ nope }' }),
  'connection-params': () =>
    single({ query: '{ whoami }' }, { connectionParams: { token: 'let-me-in', user: 'node' } }),
  rejected: () => single({ query: '{ hello }' }, { connectionParams: { token: 'wrong' } }),
};

const chosen = scenarios[scenario];
if (!url || !chosen) {
  finish({ ok: false, error: `usage: graphql_ws_client.mjs URL (${Object.keys(scenarios).join('|')})` }, 2);
} else {
  setTimeout(() => finish({ ok: false, error: `deadline of ${DEADLINE_MS} ms passed` }, 1), DEADLINE_MS).unref();
  chosen().then(
    (result) => finish({ ok: true, ...result }, 0),
    (error) => finish({ ok: false, error: String(error?.stack ?? error) }, 1),
  );
}
