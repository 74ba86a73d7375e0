// Drives a livegql server with urql (@urql/core 6): its own query, mutation and subscription APIs.
// Usage: node urql_client.mjs URL (ws|http) (conformance|cancel|rejected) [TOKEN]
// ws: every operation goes through subscriptionExchange to a graphql-ws client (URL is ws://…; TOKEN goes in
// connectionParams {token}). http: fetchExchange with fetchSubscriptions (URL is http://…; TOKEN goes out as
// `authorization: Bearer TOKEN`); urql sends subscriptions over HTTP and reads event-stream or multipart answers.
// Prints exactly one JSON line, {"scenario", "transport", "ok", ...results}, and exits 0; on a failure of the
// script itself (deadline, unexpected exception) it prints {"ok": false, "error"} and exits 1. GraphQL errors,
// HTTP refusals and close events are results, not failures: tests/interop/test_urql_node.py judges them.

import { Client, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { exchanges, firstEvent, recordingFetch, runScenario, stdinClosed } from './script_support.mjs';

const TRANSPORTS = ['ws', 'http'];
const [url, transport, scenario, token] = process.argv.slice(2);

// The topics the Python side listens on / publishes to; keep in step with test_urql_node.py.
const MUTATION_TOPIC = 'urql-mutation';
const RELEASE_TOPIC = 'urql-release';

// When urql drops a response it is still reading (an operation torn down mid-stream), the pending read rejects
// with nobody listening, and an unhandled rejection would end Node. Recorded instead, for the test to judge.
const unhandledRejections = [];
process.on('unhandledRejection', (error) => unhandledRejections.push(`${error?.name}: ${error?.message}`));

function urql(wsOptions = {}) {
  if (transport === 'ws') {
    const ws = createClient({
      url,
      webSocketImpl: WebSocket,
      // retryAttempts 0: a close must surface at once (graphql-ws retries 4403 by default).
      retryAttempts: 0,
      connectionParams: token === undefined ? undefined : { token },
      ...wsOptions,
    });
    // urql's documented graphql-ws recipe: hand every operation to the socket.
    const forwardSubscription = (request) => {
      const input = { ...request, query: request.query || '' };
      return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
    };
    const client = new Client({
      url,
      exchanges: [subscriptionExchange({ forwardSubscription, enableAllOperations: true })],
    });
    return { client, dispose: () => ws.dispose() };
  }
  // urql sends queries as GET without a Content-Type: livegql's CSRF prevention wants this header on them.
  const headers = { 'graphql-require-preflight': '1' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const client = new Client({
    url,
    exchanges: [fetchExchange],
    fetchSubscriptions: true,
    fetchOptions: { headers },
    fetch: recordingFetch(),
  });
  return { client, dispose: () => {} };
}

function networkError(error) {
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { closeCode: error.code, closeReason: error.reason };
  }
  return { name: error?.name, message: String(error?.message ?? error) };
}

// What urql surfaced: a CombinedError with GraphQL errors and/or a network error (a close event, an Error),
// and the HTTP response it came with, if any.
function describe(error) {
  const described = { name: error.name, message: error.message };
  if (error.graphQLErrors?.length) described.graphqlErrors = error.graphQLErrors.map((each) => each.toJSON());
  if (error.networkError) described.networkError = networkError(error.networkError);
  if (typeof error.response?.status === 'number') described.status = error.response.status;
  return described;
}

// A query or mutation: urql resolves its promise with the final result, data and error side by side.
async function settle(source) {
  const { data, error } = await source.toPromise();
  const outcome = { values: data === undefined ? [] : [{ data }], completed: !error };
  if (error) outcome.error = describe(error);
  return outcome;
}

// A subscription to its end. urql ends a stream with a result whose hasNext is false; when the transport had
// nothing more to say that result repeats the previous data (the same object) and is not an event of its own.
function subscribeAll(client, query) {
  return new Promise((resolve) => {
    const values = [];
    let previous;
    let failure;
    client.subscription(query, {}).subscribe((result) => {
      const endMarker = result.hasNext === false && previous !== undefined && result.data === previous.data;
      if (result.error) failure ??= describe(result.error);
      else if (!endMarker && result.data !== undefined) values.push({ data: result.data });
      previous = result;
      if (result.hasNext === false) {
        resolve(failure ? { values, completed: false, error: failure } : { values, completed: true });
      }
    });
  });
}

async function conformance() {
  const { client, dispose } = urql();
  try {
    return {
      query: await settle(client.query(gql('{ hello(name: "urql") }'), {})),
      mutation: await settle(
        client.mutation(gql(`mutation { publish(topic: "${MUTATION_TOPIC}", text: "x") }`), {}),
      ),
      subscription: await subscribeAll(client, gql('subscription { count(to: 100) }')),
      invalid: await settle(client.query(gql('{ nope }'), {})),
      exchanges,
    };
  } finally {
    await dispose();
  }
}

// Unsubscribe after the first event, then wait for the Python side to check the server released the subscriber
// (it closes our stdin), then prove the client still serves. Over ws `lazy: false` keeps the socket open
// meanwhile, so only graphql-ws's Complete can release it; over HTTP unsubscribing aborts the request.
async function cancel() {
  const closes = [];
  const { client, dispose } = urql({
    lazy: false,
    onNonLazyError: (error) => closes.push(networkError(error)),
  });
  try {
    let subscription;
    const arrival = new Promise((resolve, reject) => {
      subscription = client
        .subscription(gql(`subscription { topic(name: "${RELEASE_TOPIC}") }`), {})
        .subscribe((result) => {
          if (result.error) reject(new Error(`subscription failed: ${JSON.stringify(describe(result.error))}`));
          else if (result.hasNext === false) reject(new Error('the subscription ended before its first event'));
          else resolve({ data: result.data });
        });
    });
    const first = await firstEvent(arrival);
    subscription.unsubscribe();
    await stdinClosed();
    const after = await settle(client.query(gql('{ hello(name: "again") }'), {}));
    return { first, after, closesWhileHeld: closes, exchanges };
  } finally {
    await dispose();
  }
}

async function rejected() {
  const { client, dispose } = urql();
  try {
    return { query: await settle(client.query(gql('{ hello }'), {})), exchanges };
  } finally {
    await dispose();
  }
}

const scenarios = { conformance, cancel, rejected };
const usage = `usage: urql_client.mjs URL (${TRANSPORTS.join('|')}) (${Object.keys(scenarios).join('|')}) [TOKEN]`;
const chosen = url && TRANSPORTS.includes(transport) ? scenarios[scenario] : undefined;
// Rejections nobody handled are a result too: the tests require there are none.
runScenario({ scenario, transport }, chosen && (async () => ({ ...(await chosen()), unhandledRejections })), usage);
