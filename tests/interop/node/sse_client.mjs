// Drives a livegql server with the graphql-sse npm client (GraphQL over Server-Sent Events).
// Usage: node sse_client.mjs HTTP_URL (distinct|single) (conformance|cancel|rejected) [TOKEN]
// TOKEN goes out as `authorization: Bearer TOKEN` on every request the client makes.
// Prints exactly one JSON line, {"scenario", "mode", "ok", ...results}, and exits 0; on a failure of the script
// itself (deadline, unexpected exception) it prints {"ok": false, "error"} and exits 1. GraphQL errors and HTTP
// refusals are results, not failures: tests/interop/test_sse_node.py judges them.

import { createClient, NetworkError } from 'graphql-sse';

import { exchanges, firstEvent, parsed, recordingFetch, runScenario, stdinClosed } from './script_support.mjs';

const MODES = ['distinct', 'single'];
const [url, mode, scenario, token] = process.argv.slice(2);

// The topics the Python side listens on / publishes to; keep in step with test_sse_node.py.
const MUTATION_TOPIC = 'sse-mutation';
const RELEASE_TOPIC = 'sse-release';

// The bodies of unsuccessful responses, read at once: graphql-sse aborts a failed request's signal before a
// NetworkError reaches the sink, and the body could no longer be read then.
const failedBodies = new WeakMap();

const recordFetch = recordingFetch(async (response) => {
  if (!response.ok) failedBodies.set(response, parsed(await response.clone().text()));
});

function client(options = {}) {
  return createClient({
    url,
    singleConnection: mode === 'single',
    // A fresh object per client: in single connection mode graphql-sse adds the stream token to it.
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    // retryAttempts 0: a refusal must reach the sink at once instead of being retried.
    retryAttempts: 0,
    fetchFn: recordFetch,
    ...options,
  });
}

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
const usage = `usage: sse_client.mjs URL (${MODES.join('|')}) (${Object.keys(scenarios).join('|')}) [TOKEN]`;
runScenario({ scenario, mode }, url && MODES.includes(mode) ? scenarios[scenario] : undefined, usage);
