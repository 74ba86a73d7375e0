// GraphiQL for livegql: queries and mutations over HTTP POST (JSON), subscriptions and `@live` queries over
// WebSocket (graphql-transport-ws), so every result of a stream shows in the result pane as it arrives.
// Loaded by the page that livegql serves at its GraphQL path; no inline script, so a strict CSP holds.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import "./page.css";
import { parse, visit } from "graphql";
import { createClient } from "graphql-ws";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

const root = document.getElementById("graphiql");
// The endpoint is the page's own URL without its query: the page is served at the GraphQL path itself.
const endpoint = new URL(root.dataset.endpoint || location.pathname, location.href);
// Derived in the browser, not by the server: behind a TLS-terminating proxy only the page knows it is https.
const wsUrl = new URL(endpoint);
wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
wsUrl.search = "";

const wsClient = createClient({ url: wsUrl.href, lazy: true, retryAttempts: 3 });
const httpFetcher = createGraphiQLFetcher({ url: endpoint.pathname, wsClient });

/** Whether the document's selected operation carries `@live` (livegql then streams revisions). */
function isLive(query, operationName) {
  let document;
  try {
    document = parse(query);
  } catch {
    return false; // let the server report the syntax error
  }
  let live = false;
  visit(document, {
    OperationDefinition(node) {
      const selected = !operationName || (node.name && node.name.value === operationName);
      if (selected && node.operation === "query") {
        live ||= (node.directives || []).some((directive) => directive.name.value === "live");
      }
      return false;
    },
  });
  return live;
}

/** An async iterator of a graphql-ws subscription: GraphiQL appends each result to the response pane. */
function overWebSocket(params) {
  return wsClient.iterate({
    query: params.query,
    variables: params.variables ?? undefined,
    operationName: params.operationName ?? undefined,
  });
}

// The toolkit already sends subscriptions over wsClient; live queries are queries, so route them here.
function fetcher(params, options) {
  if (typeof params.query === "string" && isLive(params.query, params.operationName)) {
    return overWebSocket(params);
  }
  return httpFetcher(params, options);
}

// `?query=`, `?variables=` and `?operationName=` prefill the editors, as in GraphiQL's own examples.
const search = new URLSearchParams(location.search);
const props = { fetcher, defaultEditorToolsVisibility: search.has("variables") };
for (const name of ["query", "variables", "operationName"]) {
  if (search.has(name)) props[name] = search.get(name);
}

createRoot(root).render(createElement(GraphiQL, props));
