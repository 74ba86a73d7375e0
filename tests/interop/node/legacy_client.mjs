// Drives a livegql server with the legacy subscriptions-transport-ws npm client (subprotocol "graphql-ws").
// Usage: node legacy_client.mjs WS_URL SCENARIO TOKEN
// Prints exactly one JSON line, {"scenario", "ok", ...results}, and exits 0; on a failure of the script itself
// (deadline, unexpected exception) it prints {"ok": false, "error"} and exits 1. tests/interop/test_legacy_node.py
// judges the results.

import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';

const DEADLINE_MS = 20_000;
const [url, scenario, token] = process.argv.slice(2);

function finish(result, exitCode) {
  process.stdout.write(JSON.stringify({ scenario, ...result }) + '\n', () => process.exit(exitCode));
}

// One operation to its end, through the client's Observable: every result, then completed or the error.
function run(client, request) {
  return new Promise((resolve) => {
    const values = [];
    client.request(request).subscribe({
      next: (value) => values.push(value),
      // The client hands the observer the first GraphQL error object of an `error` message.
      error: (error) => resolve({ values, completed: false, error: error instanceof Error ? String(error) : error }),
      complete: () => resolve({ values, completed: true }),
    });
  });
}

async function conformance() {
  const connected = new Promise((resolve) => {
    const client = new SubscriptionClient(
      url,
      { connectionParams: { token }, reconnect: false, connectionCallback: (error) => resolve({ client, error }) },
      WebSocket,
    );
  });
  const { client, error } = await connected;
  if (error) return { connectionError: error };
  try {
    return {
      query: await run(client, { query: '{ hello(name: "legacy") }' }),
      subscription: await run(client, { query: 'subscription { count(to: 100) }' }),
      invalid: await run(client, { query: '{ nope }' }),
    };
  } finally {
    client.close();
  }
}

async function rejected() {
  return new Promise((resolve) => {
    const client = new SubscriptionClient(
      url,
      {
        connectionParams: { token },
        reconnect: false,
        connectionCallback: (error) => {
          client.close();
          resolve({ connectionError: error ?? null });
        },
      },
      WebSocket,
    );
  });
}

const scenarios = { conformance, rejected };
const deadline = setTimeout(() => finish({ ok: false, error: `deadline of ${DEADLINE_MS} ms` }, 1), DEADLINE_MS);
try {
  const result = await scenarios[scenario]();
  clearTimeout(deadline);
  finish({ ok: true, ...result }, 0);
} catch (error) {
  finish({ ok: false, error: String(error?.stack ?? error) }, 1);
}
