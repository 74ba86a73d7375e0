// Drives a livegql server with the graphql-sse npm client (GraphQL over Server-Sent Events).
// Usage: node sse_client.mjs HTTP_URL (distinct|single) (conformance|cancel|rejected) [TOKEN]
// TOKEN goes out as `authorization: Bearer TOKEN` on every request the client makes.
// Prints exactly one JSON line, {"scenario", "mode", "ok", ...results}, and exits 0; on a failure of the script
// itself (deadline, unexpected exception) it prints {"ok": false, "error"} and exits 1. GraphQL errors and HTTP
// refusals are results, not failures: tests/interop/test_sse_node.py judges them.

import { createClient, NetworkError } from 'graphql-sse';

const DEADLINE_MS = 20_000;
const MODES = ['distinct', 'single'];
const [url, mode, scenario, token] = process.argv.slice(2);

// The topics the Python side listens on / publishes to; keep in step with test_sse_node.py.
const MUTATION_TOPIC = 'sse-mutation';
const RELEASE_TOPIC = 'sse-release';

// stdout carries only the result line, whatever a library logs.
console.log = console.info = console.debug = console.error;

function finish(result, exitCode) {
  process.stdout.write(JSON.stringify({ scenario, mode, ...result }) + '\n', () => process.exit(exitCode));
}

// Every HTTP exchange the client made (method, status, content type): the Python side checks statuses with it,
// and it shows at a glance what the server answered when a scenario goes wrong.
const exchanges = [];
// The bodies of unsuccessful responses, read at once: graphql-sse aborts a failed request's signal before a
// NetworkError reaches the sink, and the body could no longer be read then.
const failedBodies = new WeakMap();

async function recordingFetch(input, init = {}) {
  const response = await fetch(input, init);
  exchanges.push({
    method: init.method ?? 'GET',
    status: response.status,
    contentType: response.headers.get('content-type'),
  });
  if (!response.ok) failedBodies.set(response, parsed(await response.clone().text()));
  return response;
}

function client(options = {}) {
  return createClient({
    url,
    singleConnection: mode === 'single',
    // A fresh object per client: in single connection mode graphql-sse adds the stream token to it.
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    // retryAttempts 0: a refusal must reach the sink at once instead of being retried.
    retryAttempts: 0,
    fetchFn: recordingFetch,
    ...options,
  });
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// What a sink's error callback got: GraphQL errors, a NetworkError (an unexpected HTTP status, with the
// response the server sent) or some other Error.
function describe(error) {
  if (Array.isArray(error)) return { graphqlErrors: error };
  if (error instanceof NetworkError) {
    const described = { name: error.name, message: error.message };
    if (error.response) {
      described.status = error.response.status;
      described.body = failedBodies.get(error.response);
    }
    return described;
  }
  return { name: error?.name, message: String(error?.message ?? error) };
}

// One operation to its end: every result, then either completed or the error it ended with.
function run(sse, payload) {
  return new Promise((resolve) => {
    const values = [];
    sse.subscribe(payload, {
      next: (value) => values.push(value),
      error: (error) => resolve({ values, completed: false, error: describe(error) }),
      complete: () => resolve({ values, completed: true }),
    });
  });
}

// The Python side closes our stdin once the server released the subscriber, or when it gave up waiting for that.
let stdinEnd;
function stdinClosed() {
  stdinEnd ??= new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
  return stdinEnd;
}

// The first event of a subscription, unless stdin closes before it arrives.
function firstEvent(arrival) {
  const gaveUp = stdinClosed().then(() => {
    throw new Error('stdin closed before the first event arrived');
  });
  return Promise.race([arrival, gaveUp]);
}

async function conformance() {
  const sse = client();
  try {
    return {
      query: await run(sse, { query: '{ hello(name: "sse") }' }),
      mutation: await run(sse, { query: `mutation { publish(topic: "${MUTATION_TOPIC}", text: "x") }` }),
      subscription: await run(sse, { query: 'subscription { count(to: 100) }' }),
      invalid: await run(sse, { query: '{ nope }' }),
      exchanges,
    };
  } finally {
    sse.dispose();
  }
}

// Unsubscribe after the first event, then wait for the Python side to check the server released the subscriber
// (it closes our stdin), then prove the client still serves. In single connection mode `lazy: false` keeps the
// event stream open meanwhile, so only graphql-sse's DELETE ?operationId= can release it; in distinct mode
// unsubscribing aborts the operation's own request.
async function cancel() {
  const late = [];
  const sse = client(
    mode === 'single' ? { lazy: false, onNonLazyError: (error) => late.push(describe(error)) } : {},
  );
  try {
    let unsubscribed = false;
    const arrival = new Promise((resolve, reject) => {
      const unsubscribe = sse.subscribe(
        { query: `subscription { topic(name: "${RELEASE_TOPIC}") }` },
        {
          next: (value) => {
            if (!unsubscribed) {
              unsubscribed = true;
              unsubscribe();
            }
            resolve(value);
          },
          error: (error) => {
            if (unsubscribed) return late.push(describe(error));
            reject(new Error(`subscription failed: ${JSON.stringify(describe(error))}`));
          },
          complete: () => {
            if (!unsubscribed) reject(new Error('the subscription completed before its first event'));
          },
        },
      );
    });
    const first = await firstEvent(arrival);
    await stdinClosed();
    const after = await run(sse, { query: '{ hello(name: "again") }' });
    return { first, after, lateErrors: late, exchanges };
  } finally {
    sse.dispose();
  }
}

async function rejected() {
  const sse = client();
  try {
    return { query: await run(sse, { query: '{ hello }' }), exchanges };
  } finally {
    sse.dispose();
  }
}

const scenarios = { conformance, cancel, rejected };
const chosen = scenarios[scenario];
if (!url || !MODES.includes(mode) || !chosen) {
  const usage = `usage: sse_client.mjs URL (${MODES.join('|')}) (${Object.keys(scenarios).join('|')}) [TOKEN]`;
  finish({ ok: false, error: usage }, 2);
} else {
  const overdue = () => finish({ ok: false, error: `deadline of ${DEADLINE_MS} ms passed`, exchanges }, 1);
  setTimeout(overdue, DEADLINE_MS).unref();
  chosen().then(
    (result) => finish({ ok: true, ...result }, 0),
    (error) => finish({ ok: false, error: String(error?.stack ?? error), exchanges }, 1),
  );
}
