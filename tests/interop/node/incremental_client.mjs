// Drives a livegql server's incremental delivery (@defer, @stream over multipart/mixed) with npm clients.
// Usage: node incremental_client.mjs URL (apollo-alpha9|apollo-2022|urql) (defer|stream)
// apollo-alpha9: Apollo Client 4's HttpLink with `incrementalHandler: new GraphQL17Alpha9Handler()` (it asks for
// `multipart/mixed;incrementalSpec=v0.2`); apollo-2022: with `new Defer20220824Handler()` (it asks for
// `multipart/mixed;deferSpec=20220824`); urql: @urql/core's fetchExchange (plain `multipart/mixed` in its Accept).
// Prints exactly one JSON line, {"client", "scenario", "ok", "results", "final", "exchanges"}, and exits 0:
// `results` is every result the client surfaced, in order (Apollo: {dataState, data, error?} from watchQuery;
// urql: {hasNext, data, error?}), `final` the data of a second, plain run of the same query (Apollo's
// client.query, urql's toPromise). On a failure of the script itself it prints {"ok": false, "error"} and
// exits 1. tests/interop/test_incremental_node.py judges the results.

import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql as apolloGql } from '@apollo/client';
import { Defer20220824Handler, GraphQL17Alpha9Handler } from '@apollo/client/incremental';
import { Client, fetchExchange, gql as urqlGql } from '@urql/core';

import { exchanges, recordingFetch, runScenario } from './script_support.mjs';

const [url, clientName, scenario] = process.argv.slice(2);

// Keep in step with test_incremental_node.py's schema.
const QUERIES = {
  defer: 'query Deferred { hello(name: "defer") ... @defer { slow } }',
  stream: 'query Streamed { letters @stream(initialCount: 1) }',
};


function describe(error) {
  if (CombinedGraphQLErrors.is(error)) return { name: error.name, message: error.message, graphqlErrors: error.errors };
  if (error?.graphQLErrors?.length) return { name: error.name, message: error.message, graphqlErrors: error.graphQLErrors };
  return { name: error?.name, message: String(error?.message ?? error) };
}

// Apollo: watchQuery surfaces each merged result (dataState "streaming" while more is to come), then the
// complete one; the plain client.query after it resolves with the final data only.
async function runApollo(incrementalHandler, text) {
  const client = new ApolloClient({
    link: new HttpLink({ uri: url, fetch: recordingFetch() }),
    cache: new InMemoryCache(),
    incrementalHandler,
  });
  const query = apolloGql(text);
  try {
    const results = await new Promise((resolve) => {
      const seen = [];
      const subscription = client.watchQuery({ query, fetchPolicy: 'no-cache' }).subscribe({
        next: (result) => {
          const entry = { dataState: result.dataState, data: result.data };
          if (result.error) entry.error = describe(result.error);
          seen.push(entry);
          if ((result.dataState === 'complete' && !result.loading) || result.error) {
            subscription.unsubscribe();
            resolve(seen);
          }
        },
        error: (error) => resolve([...seen, { error: describe(error) }]),
      });
    });
    let final;
    try {
      final = { data: (await client.query({ query, fetchPolicy: 'no-cache' })).data };
    } catch (error) {
      final = { error: describe(error) };
    }
    return { results, final };
  } finally {
    client.stop();
  }
}

// urql: each result of the query's source until the one with hasNext false (or an error).
async function runUrql(text) {
  // urql sends queries as GET without a Content-Type: livegql's CSRF prevention wants this header on them.
  const fetchOptions = { headers: { 'graphql-require-preflight': '1' } };
  const client = new Client({ url, exchanges: [fetchExchange], fetch: recordingFetch(), fetchOptions });
  const query = urqlGql(text);
  const results = await new Promise((resolve) => {
    const seen = [];
    const { unsubscribe } = client.query(query, {}, { requestPolicy: 'network-only' }).subscribe((result) => {
      const entry = { hasNext: result.hasNext, data: result.data };
      if (result.error) entry.error = describe(result.error);
      seen.push(entry);
      if (result.hasNext === false || result.error) {
        queueMicrotask(() => unsubscribe());
        resolve(seen);
      }
    });
  });
  const { data, error } = await client.query(query, {}, { requestPolicy: 'network-only' }).toPromise();
  return { results, final: error ? { data, error: describe(error) } : { data } };
}

const clients = {
  'apollo-alpha9': (text) => runApollo(new GraphQL17Alpha9Handler(), text),
  'apollo-2022': (text) => runApollo(new Defer20220824Handler(), text),
  urql: runUrql,
};
const run = clients[clientName];
const text = QUERIES[scenario];
const usage = `usage: incremental_client.mjs URL (${Object.keys(clients).join('|')}) (${Object.keys(QUERIES).join('|')})`;
const chosen = url && run && text ? async () => ({ ...(await run(text)), exchanges }) : undefined;
runScenario({ client: clientName, scenario }, chosen, usage);
