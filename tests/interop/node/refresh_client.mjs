// Drives livegql's credential expiry and refresh with the graphql-ws npm client, as an app would write it.
// Usage: node refresh_client.mjs WS_URL (refresh|expire|reconnect) TOKEN [NEW_TOKEN]
// - refresh: connect with TOKEN, keep the socket from `on.connected` and send the refresh Ping
//   {type: 'ping', payload: {refresh: {token: NEW_TOKEN}}} on it; stream a subscription of TOPIC until the
//   LAST_EVENT arrives (the Python side publishes it once TOKEN's expiry has passed) and the server's
//   `refreshed` Ping came, or until the subscription ends; then ask `{ whoami }` on the same socket.
// - expire: connect with TOKEN, never refresh, and report how the subscription of TOPIC ended.
// - reconnect: no refresh either, but graphql-ws's own retry (4403 is not fatal to it) with a connectionParams
//   function that hands out NEW_TOKEN from the second connection on; streams until LAST_EVENT arrives.
// Prints exactly one JSON line (see script_support.mjs); tests/interop/test_refresh_clients.py judges it.

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { runScenario } from './script_support.mjs';

const [url, scenario, token, newToken] = process.argv.slice(2);

// Keep in step with test_refresh_clients.py.
const TOPIC = 'refresh-news';
const LAST_EVENT = 'after expiry';
const SUBSCRIPTION = { query: `subscription { topic(name: "${TOPIC}") }` };

function describe(error) {
  if (Array.isArray(error)) return { graphqlErrors: error };
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { closeCode: error.code, closeReason: error.reason };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

// A promise with its resolve function outside.
function deferred() {
  let resolve;
  const promise = new Promise((done) => (resolve = done));
  return { promise, resolve };
}

// What the client saw of its connection: every connection, Ping and Pong from the server, and close.
function observer() {
  const seen = { connections: 0, pings: [], pongs: [], closes: [], nonLazyErrors: [] };
  const connected = deferred();
  const refreshed = deferred();
  const on = {
    connected: (socket) => {
      seen.connections += 1;
      connected.resolve(socket);
    },
    // `received` is false for the Pongs/Pings the client itself sends; only the server's count here.
    ping: (received, payload) => {
      if (!received) return;
      seen.pings.push(payload ?? null);
      if (payload?.refreshed === true) refreshed.resolve(payload);
    },
    pong: (received, payload) => received && seen.pongs.push(payload ?? null),
    closed: (event) => seen.closes.push(describe(event)),
  };
  const onNonLazyError = (error) => seen.nonLazyErrors.push(describe(error));
  return { seen, on, onNonLazyError, connected: connected.promise, refreshed: refreshed.promise };
}

// Subscribe to TOPIC: `values` fill as events come; `ended` resolves with how the subscription ended and
// `last` once LAST_EVENT has arrived.
function watch(graphql) {
  const values = [];
  const last = deferred();
  const ended = new Promise((resolve) => {
    graphql.subscribe(SUBSCRIPTION, {
      next: (value) => {
        values.push(value);
        if (value?.data?.topic === LAST_EVENT) last.resolve();
      },
      error: (error) => resolve({ completed: false, error: describe(error) }),
      complete: () => resolve({ completed: true }),
    });
  });
  return { values, ended, last: last.promise };
}

// One operation to its end: every Next payload, then completed or the error it ended with.
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

// retryAttempts 0: a close must surface at once (graphql-ws retries 4403 by default).
// lazy: false holds one socket from the start, as an app that refreshes keeps it.
function client(hooks, options) {
  return createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, ...hooks, ...options });
}

async function refresh() {
  const { seen, on, onNonLazyError, connected, refreshed } = observer();
  // A function, so that a reconnection (graphql-ws's own retry) sends the newest token, not the first.
  let current = token;
  const graphql = client({ on, onNonLazyError }, { connectionParams: () => ({ token: current }) });
  try {
    const stream = watch(graphql);
    const socket = await connected;
    // What an app does when its token is about to expire: new credentials on the open socket.
    current = newToken;
    socket.send(JSON.stringify({ type: 'ping', payload: { refresh: { token: current } } }));
    const streamed = Promise.all([stream.last, refreshed]).then(() => ({ streaming: true }));
    const outcome = await Promise.race([streamed, stream.ended]);
    const whoami = await run(graphql, { query: '{ whoami }' });
    return { ...seen, values: stream.values, outcome, whoami };
  } finally {
    await graphql.dispose();
  }
}

async function expire() {
  const { seen, on, onNonLazyError } = observer();
  const graphql = client({ on, onNonLazyError }, { connectionParams: { token } });
  try {
    const stream = watch(graphql);
    const outcome = await stream.ended;
    return { ...seen, values: stream.values, outcome };
  } finally {
    await graphql.dispose();
  }
}

async function reconnect() {
  const { seen, on, onNonLazyError } = observer();
  const params = [];
  // Evaluated again for every connection: the first gets TOKEN, later ones NEW_TOKEN.
  const connectionParams = async () => {
    params.push(params.length === 0 ? token : newToken);
    return { token: params.at(-1) };
  };
  // The default retryWait backs off 1 s and more, at random; the test needs no real backoff.
  const retryWait = async () => {};
  // retryAttempts as graphql-ws's default (5), not 1: with lazy: false and an instant retryWait, the client's
  // own loop reconnects and counts that retry before the subscription checks the budget, and fails it.
  const graphql = client({ on, onNonLazyError }, { connectionParams, retryAttempts: 5, retryWait });
  try {
    const stream = watch(graphql);
    const outcome = await Promise.race([stream.last.then(() => ({ streaming: true })), stream.ended]);
    return { ...seen, values: stream.values, outcome, params };
  } finally {
    await graphql.dispose();
  }
}

const scenarios = { refresh, expire, reconnect };
const usage = `usage: refresh_client.mjs WS_URL (${Object.keys(scenarios).join('|')}) TOKEN [NEW_TOKEN]`;
runScenario({ scenario }, url && token ? scenarios[scenario] : undefined, usage);
