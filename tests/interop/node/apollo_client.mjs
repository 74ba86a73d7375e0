// Drives a livegql server with Apollo Client (@apollo/client 4): its own query, mutate and subscribe APIs.
// Usage: node apollo_client.mjs URL (ws|multipart) (conformance|cancel|rejected) [TOKEN]
// ws: GraphQLWsLink over a graphql-ws client (URL is ws://…; TOKEN goes in connectionParams {token}).
// multipart: HttpLink (URL is http://…; TOKEN goes out as `authorization: Bearer TOKEN`); Apollo sends
// subscriptions over HTTP itself and reads the multipart/mixed subscription responses.
// Prints exactly one JSON line, {"scenario", "transport", "ok", ...results}, and exits 0; on a failure of the
// script itself (deadline, unexpected exception) it prints {"ok": false, "error"} and exits 1. GraphQL errors,
// HTTP refusals and close events are results, not failures: tests/interop/test_apollo_node.py judges them.

import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { exchanges, firstEvent, parsed, recordingFetch, runScenario, stdinClosed } from './script_support.mjs';

const TRANSPORTS = ['ws', 'multipart'];
const [url, transport, scenario, token] = process.argv.slice(2);

// The topics the Python side listens on / publishes to; keep in step with test_apollo_node.py.
const MUTATION_TOPIC = 'apollo-mutation';
const RELEASE_TOPIC = 'apollo-release';

// GraphQLWsLink tells socket errors apart by the browser's WebSocket global, which Node 20 lacks.
globalThis.WebSocket ??= WebSocket;

// An ApolloClient over the chosen transport, and how to let go of it (the graphql-ws client is ours to dispose).
function apollo(wsOptions = {}) {
  const cache = new InMemoryCache();
  if (transport === 'ws') {
    const ws = createClient({
      url,
      webSocketImpl: WebSocket,
      // retryAttempts 0: a close must surface at once (graphql-ws retries 4403 by default).
      retryAttempts: 0,
      connectionParams: token === undefined ? undefined : { token },
      ...wsOptions,
    });
    const client = new ApolloClient({ link: new GraphQLWsLink(ws), cache });
    return { client, dispose: () => (client.stop(), ws.dispose()) };
  }
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const client = new ApolloClient({ link: new HttpLink({ uri: url, headers, fetch: recordingFetch() }), cache });
  return { client, dispose: () => client.stop() };
}

// What Apollo surfaced: GraphQL errors, a ServerError (a non-2xx status with its body) or some other Error
// (GraphQLWsLink turns a close into "Socket closed with event CODE REASON").
function describe(error) {
  if (CombinedGraphQLErrors.is(error)) {
    return { name: error.name, message: error.message, graphqlErrors: error.errors };
  }
  if (ServerError.is(error)) {
    return { name: error.name, message: error.message, status: error.statusCode, body: parsed(error.bodyText) };
  }
  return { name: error?.name, message: String(error?.message ?? error) };
}

// A query or mutation: its data, or what the promise was rejected with (errorPolicy "none", the default).
async function settle(promise) {
  try {
    const { data } = await promise;
    return { values: [{ data }], completed: true };
  } catch (error) {
    return { values: [], completed: false, error: describe(error) };
  }
}

// A subscription to its end. Apollo 4 emits an error as a result ({data: undefined, error}) and then completes.
function subscribeAll(client, query) {
  return new Promise((resolve) => {
    const values = [];
    let failure;
    client.subscribe({ query, fetchPolicy: 'no-cache' }).subscribe({
      next: (result) => {
        if (result.error) failure ??= describe(result.error);
        else values.push({ data: result.data });
      },
      error: (error) => resolve({ values, completed: false, error: describe(error) }),
      complete: () => resolve(failure ? { values, completed: true, error: failure } : { values, completed: true }),
    });
  });
}

function query(client, text) {
  return settle(client.query({ query: gql(text), fetchPolicy: 'no-cache' }));
}

async function conformance() {
  const { client, dispose } = apollo();
  try {
    return {
      query: await query(client, '{ hello(name: "apollo") }'),
      mutation: await settle(
        client.mutate({
          mutation: gql(`mutation { publish(topic: "${MUTATION_TOPIC}", text: "x") }`),
          fetchPolicy: 'no-cache',
        }),
      ),
      subscription: await subscribeAll(client, gql('subscription { count(to: 100) }')),
      invalid: await query(client, '{ nope }'),
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
  const { client, dispose } = apollo({
    lazy: false,
    onNonLazyError: (error) => closes.push(String(error?.message ?? error)),
  });
  try {
    let subscription;
    const arrival = new Promise((resolve, reject) => {
      subscription = client
        .subscribe({ query: gql(`subscription { topic(name: "${RELEASE_TOPIC}") }`), fetchPolicy: 'no-cache' })
        .subscribe({
          next: (result) => {
            subscription.unsubscribe();
            if (result.error) reject(new Error(`subscription failed: ${JSON.stringify(describe(result.error))}`));
            else resolve({ data: result.data });
          },
          error: (error) => reject(new Error(`subscription failed: ${JSON.stringify(describe(error))}`)),
          complete: () => reject(new Error('the subscription completed before its first event')),
        });
    });
    const first = await firstEvent(arrival);
    await stdinClosed();
    const after = await query(client, '{ hello(name: "again") }');
    return { first, after, closesWhileHeld: closes, exchanges };
  } finally {
    await dispose();
  }
}

async function rejected() {
  const { client, dispose } = apollo();
  try {
    return { query: await query(client, '{ hello }'), exchanges };
  } finally {
    await dispose();
  }
}

const scenarios = { conformance, cancel, rejected };
const usage = `usage: apollo_client.mjs URL (${TRANSPORTS.join('|')}) (${Object.keys(scenarios).join('|')}) [TOKEN]`;
runScenario({ scenario, transport }, url && TRANSPORTS.includes(transport) ? scenarios[scenario] : undefined, usage);
