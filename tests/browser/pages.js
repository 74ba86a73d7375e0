// The script of both pages: the victim's own page runs it as a legitimate client, the attacker's page as an
// attack on the victim's server. Every function returns a promise that settles within LIMIT_MS, with what the
// page saw, so a test awaits it (no sleeps) and a refused request never hangs a test.
"use strict";

const LIMIT_MS = 5000;
const OPERATIONS = {
  me: "{ me }",
  transfer: 'mutation { transfer(to: "mallory", amount: 100) }',
  secrets: "subscription { secrets }",
};

function bounded(start) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), LIMIT_MS);
    start((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

function withQuery(url, query) {
  return `${url}?query=${encodeURIComponent(query)}`;
}

// graphql-transport-ws: connection_init, then every operation; settles when the socket closes.
function openSocket(url) {
  return bounded((done) => {
    const seen = { opened: false, acked: false, closeCode: null, results: {} };
    const socket = new WebSocket(url, "graphql-transport-ws");
    let pending = Object.keys(OPERATIONS).length;
    socket.onopen = () => {
      seen.opened = true;
      socket.send(JSON.stringify({ type: "connection_init", payload: {} }));
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        seen.acked = true;
        for (const [id, query] of Object.entries(OPERATIONS)) {
          socket.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
        }
      } else if (message.type === "next") {
        seen.results[message.id] = message.payload;
      } else if (message.type === "error" || message.type === "complete") {
        if (message.type === "error") seen.results[message.id] = { errors: message.payload };
        pending -= 1;
        if (pending === 0) socket.close(1000);
      }
    };
    socket.onclose = (event) => {
      seen.closeCode = event.code;
      done(seen);
    };
  });
}

// graphql-sse, distinct connections mode, the way only an EventSource can: a GET with the cookie.
function openEventSource(url) {
  return bounded((done) => {
    const seen = { opened: false, events: [] };
    const source = new EventSource(withQuery(url, OPERATIONS.secrets), { withCredentials: true });
    source.onopen = () => {
      seen.opened = true;
    };
    source.addEventListener("next", (event) => {
      seen.events.push(JSON.parse(event.data));
      source.close();
      done(seen);
    });
    source.onerror = () => {
      source.close();
      done(seen);
    };
  });
}

// A form submitted into a hidden frame: a navigation, sent with no CORS at all. Settles when the frame loads.
function submitForm(url, enctype, name, value) {
  return bounded((done) => {
    const frame = document.createElement("iframe");
    frame.name = `frame-${Math.random()}`;
    frame.onload = () => done("loaded");
    document.body.appendChild(frame);
    const form = document.createElement("form");
    Object.assign(form, { method: "POST", action: url, enctype, target: frame.name });
    const input = document.createElement("input");
    Object.assign(input, { type: "hidden", name, value });
    form.appendChild(input);
    document.body.appendChild(form);
    form.submit();
  });
}

// A request the page may send anywhere but not read ("opaque"): it settles when the answer arrives.
function blindFetch(url, init) {
  return bounded((done) => {
    const request = fetch(url, { mode: "no-cors", credentials: "include", ...init });
    request.then((response) => done(response.type), (error) => done(`failed: ${error}`));
  });
}

// Every request a page can make with the user's cookie and no CORS preflight, each carrying an operation.
function forgeRequests(url) {
  const body = JSON.stringify({ query: OPERATIONS.transfer });
  // text/plain form bodies are `name=value`: a name ending in `"pad":"` and the value `"}` make the body JSON.
  const jsonName = `${body.slice(0, -1)},"pad":"`;
  return Promise.all([
    submitForm(url, "text/plain", jsonName, '"}'),
    submitForm(url, "application/x-www-form-urlencoded", "query", OPERATIONS.transfer),
    submitForm(url, "multipart/form-data", "query", OPERATIONS.transfer),
    blindFetch(url, { method: "POST", headers: { "Content-Type": "text/plain" }, body }),
    blindFetch(url, { method: "POST", body: new Blob([body]) }), // no Content-Type at all
    blindFetch(withQuery(url, OPERATIONS.me)),
    blindFetch(withQuery(url, OPERATIONS.transfer)),
  ]);
}

// A GET asking for an event stream, as an EventSource's; but a no-cors fetch's, which carries no Origin header.
function forgeEventStreamGet(url) {
  return blindFetch(withQuery(url, OPERATIONS.me), { headers: { Accept: "text/event-stream" } });
}

// The victim's own page: JSON, which a browser would preflight if the page were another origin's.
function postJson(url, query) {
  const init = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query }) };
  return bounded((done) => {
    fetch(url, init)
      .then(async (response) => done({ status: response.status, body: await response.json() }))
      .catch((error) => done(`failed: ${error}`));
  });
}

window.pages = { openSocket, openEventSource, forgeRequests, forgeEventStreamGet, postJson };
