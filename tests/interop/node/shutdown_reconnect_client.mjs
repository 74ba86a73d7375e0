// A graphql-ws client with its default retry policy across a server restart (tests/interop/test_shutdown_node.py).
// Usage: node shutdown_reconnect_client.mjs WS_URL
// One subscription, asking to be acknowledged. Prints one JSON line per step, for the Python side to act on:
// {"live": n} when the subscription is acknowledged on connection n, {"event": seq, "connection": n},
// {"closed": code}; after the first event on a second connection, {"ok": true, closes, connections, events}
// and exit 0. On the deadline or an error: {"ok": false, "error"} and exit 1.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const DEADLINE_MS = 25_000;
const [url] = process.argv.slice(2);
const SUBSCRIPTION = 'subscription { events(topic: "r") { seq } }';

const closes = [];
const events = [];
let connections = 0;

function print(line) {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(line) + '\n', resolve));
}

async function finish(line, exitCode) {
  await print(line);
  process.exit(exitCode);
}

setTimeout(() => finish({ ok: false, error: 'deadline', closes, connections, events }, 1), DEADLINE_MS);

// The defaults that matter here: retryAttempts 5 with a randomised exponential backoff, and 1012 (Service
// Restart) not among the fatal close codes, so the client reconnects and subscribes again by itself.
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  onNonLazyError: (error) => finish({ ok: false, error: String(error?.code ?? error), closes, connections, events }, 1),
  on: {
    connected: () => (connections += 1),
    closed: (event) => {
      closes.push(event.code);
      print({ closed: event.code });
    },
  },
});

client.subscribe(
  { query: SUBSCRIPTION, extensions: { acknowledge: true } },
  {
    next: (value) => {
      if (value.extensions?.subscribed) {
        print({ live: connections });
        return;
      }
      const seq = value.data.events.seq;
      events.push({ seq, connection: connections });
      if (connections >= 2) {
        finish({ ok: true, closes, connections, events }, 0);
      } else {
        print({ event: seq, connection: connections });
      }
    },
    error: (error) => finish({ ok: false, error: String(error?.code ?? JSON.stringify(error)), closes, connections, events }, 1),
    complete: () => finish({ ok: false, error: 'completed', closes, connections, events }, 1),
  },
);
