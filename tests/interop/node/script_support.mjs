// What the interop scripts share: one JSON result line on stdout, a deadline, a fetch that records every HTTP
// exchange, and the stdin handshake the Python side uses to say "the server released the subscriber".

export const DEADLINE_MS = 20_000;

// stdout carries only the result line, whatever a library logs.
console.log = console.info = console.debug = console.warn = console.error;

// Every HTTP exchange a client made (method, Accept, status, content type): the Python side checks statuses with
// it, and it shows at a glance what the server answered when a scenario goes wrong.
export const exchanges = [];

// A fetch that records each exchange; `inspect(response, init)` may read more of it (a failed body, say).
export function recordingFetch(inspect = async () => {}) {
  return async (input, init = {}) => {
    const response = await fetch(input, init);
    exchanges.push({
      method: init.method ?? 'GET',
      accept: new Headers(init.headers).get('accept'),
      status: response.status,
      contentType: response.headers.get('content-type'),
    });
    await inspect(response, init);
    return response;
  };
}

export function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Resolves once the Python side closes our stdin.
let stdinEnd;
export function stdinClosed() {
  stdinEnd ??= new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
  return stdinEnd;
}

// The first event of a subscription, unless stdin closes before it arrives.
export function firstEvent(arrival) {
  const gaveUp = stdinClosed().then(() => {
    throw new Error('stdin closed before the first event arrived');
  });
  return Promise.race([arrival, gaveUp]);
}

// Run `chosen()` (or print `usage` and exit 2 when it is undefined) within the deadline, then print one line:
// `{...fields, ok, ...result}`, exiting 0, or `{...fields, ok: false, error, exchanges}`, exiting 1.
export function runScenario(fields, chosen, usage) {
  const finish = (result, exitCode) =>
    process.stdout.write(JSON.stringify({ ...fields, ...result }) + '\n', () => process.exit(exitCode));
  if (!chosen) {
    finish({ ok: false, error: usage }, 2);
    return;
  }
  const overdue = () => finish({ ok: false, error: `deadline of ${DEADLINE_MS} ms passed`, exchanges }, 1);
  setTimeout(overdue, DEADLINE_MS).unref();
  chosen().then(
    (result) => finish({ ok: true, ...result }, 0),
    (error) => finish({ ok: false, error: String(error?.stack ?? error), exchanges }, 1),
  );
}
