// Drives livegql's live queries and shared subscriptions with the graphql-ws npm client, applying live-query
// JSON Patches with fast-json-patch (both third-party: nothing here comes from livegql).
// Usage: node live_query_client.mjs WS_URL SCENARIO OPTIONS_JSON
//
// Interactive, so the Python side (tests/interop/test_live_node.py) can change data between results:
// - one progress line per result as it arrives: {"event": "result", ...} or {"event": "next", ...}, and
//   {"event": "ready"} once every shared subscriber is known to be registered on the server;
// - when stdin is closed, the operations are stopped and the last line is the outcome,
//   {"scenario", "ok": true, ...}; exit 0. A failure of the script itself (deadline, a patch that does not
//   apply, a revision out of order, an unexpected exception) prints {"ok": false, "error"} and exits 1.

import { createClient } from 'graphql-ws';
import jsonpatch from 'fast-json-patch'; // CommonJS: its functions hang off the default export
import WebSocket from 'ws';

const { applyPatch } = jsonpatch;
const DEADLINE_MS = 20_000;
const [url, scenario, optionsJson = '{}'] = process.argv.slice(2);

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function finish(result, exitCode) {
  process.stdout.write(JSON.stringify({ scenario, ...result }) + '\n', () => process.exit(exitCode));
}

function client(options = {}) {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, ...options });
}

function describe(error) {
  if (Array.isArray(error)) return { graphqlErrors: error };
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { closeCode: error.code, closeReason: error.reason };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

function stdinClosed() {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
}

// Fails the script (exit 1) from inside a graphql-ws callback, where a throw would be swallowed.
function abort(message) {
  finish({ ok: false, error: message }, 1);
}

// One live query: every `next` payload turned back into the full result. With patches the server sends
// {data, revision} first, then {patch, revision} per change; a full {data, revision} may come at any time
// (after a missed revision). Without patches every payload is a plain {data}.
async function liveQuery({ query, variables, connectionParams }) {
  const graphql = client({ connectionParams });
  const results = [];
  let current; // the reconstructed result data
  let revision = 0;
  const outcome = { completed: false };
  const unsubscribe = graphql.subscribe(
    { query, variables },
    {
      next: (payload) => {
        let kind;
        if ('patch' in payload) {
          kind = 'patch';
          if (payload.revision !== revision + 1) {
            abort(`patch for revision ${payload.revision} after revision ${revision}`);
            return;
          }
          try {
            // validate: a malformed op or a path that does not exist throws; the old document is not mutated.
            current = applyPatch(current, payload.patch, true, false).newDocument;
          } catch (error) {
            abort(`fast-json-patch rejected ${JSON.stringify(payload.patch)}: ${error}`);
            return;
          }
        } else {
          kind = 'full';
          current = payload.data;
          if (payload.errors) outcome.errors = payload.errors;
        }
        if ('revision' in payload) revision = payload.revision;
        const result = { kind, revision: payload.revision ?? null, data: current };
        if (kind === 'patch') result.patch = payload.patch;
        results.push(result);
        emit({ event: 'result', ...result });
      },
      error: (error) => (outcome.error = describe(error)),
      complete: () => (outcome.completed = true),
    },
  );
  await stdinClosed();
  unsubscribe();
  await graphql.dispose();
  return { results, ...outcome };
}

// Several clients, one socket each, subscribe to the same operation. Frames on a socket are handled in
// order, so a query answered on that socket after the Subscribe proves the server has registered it.
async function sharedSubscription({ query, variables, clients }) {
  const values = clients.map(() => []);
  const graphqls = clients.map((options) => client({ lazy: false, connectionParams: options.connectionParams }));
  const stops = graphqls.map((graphql, index) =>
    graphql.subscribe(
      { query, variables },
      {
        next: (value) => {
          values[index].push(value);
          emit({ event: 'next', client: index, value });
        },
        error: (error) => abort(`client ${index}: subscription failed: ${JSON.stringify(describe(error))}`),
        complete: () => {},
      },
    ),
  );
  for (const graphql of graphqls) {
    await new Promise((resolve, reject) => {
      graphql.subscribe(
        { query: '{ __typename }' },
        { next: () => {}, error: (error) => reject(new Error(JSON.stringify(describe(error)))), complete: resolve },
      );
    });
  }
  emit({ event: 'ready' });
  await stdinClosed();
  stops.forEach((stop) => stop());
  await Promise.all(graphqls.map((graphql) => graphql.dispose()));
  return { values };
}

const scenarios = { 'live-query': liveQuery, 'shared-subscription': sharedSubscription };

const chosen = scenarios[scenario];
if (!url || !chosen) {
  finish({ ok: false, error: `usage: live_query_client.mjs URL (${Object.keys(scenarios).join('|')}) OPTIONS` }, 2);
} else {
  setTimeout(() => finish({ ok: false, error: `deadline of ${DEADLINE_MS} ms passed` }, 1), DEADLINE_MS).unref();
  chosen(JSON.parse(optionsJson)).then(
    (result) => finish({ ok: true, ...result }, 0),
    (error) => finish({ ok: false, error: String(error?.stack ?? error) }, 1),
  );
}
