// The demo page: four panels, each fed only by GraphQL over WebSocket (graphql-transport-ws) from livegql.
// Every panel is a `query @live`; the connection asks for JSON Patch updates (`livePatches`), applied here.
// User text only ever reaches the DOM through textContent or SVG text nodes, never as HTML.
import { createClient } from 'graphql-ws';
import { applyPatch } from 'fast-json-patch';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
const status = $('status');

const client = createClient({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
  connectionParams: { livePatches: true },
  lazy: false,
  retryAttempts: Infinity,
  // A demo server restarted by hand should be found again without a reload.
  shouldRetry: () => true,
  on: {
    connected: () => setStatus('open', 'live'),
    closed: () => setStatus('closed', 'disconnected, retrying…'),
  },
});

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** Runs a live query, keeping its latest result: a full result (numbered) replaces it, a patch updates it.
 * A patch that does not follow the revision held is dropped: livegql then sends the whole result again. */
function live(query, variables, render) {
  let data = null;
  let revision = 0;
  return client.subscribe(
    { query, variables },
    {
      next(result) {
        if (result.patch) {
          if (data === null || result.revision !== revision + 1) return;
          data = applyPatch(data, result.patch, true, false).newDocument;
        } else if (result.data) {
          data = result.data;
        }
        if (result.errors) console.warn(result.errors);
        revision = result.revision ?? revision + 1;
        if (data) render(data, revision);
      },
      error: (error) => console.error(error),
      complete: () => {},
    },
  );
}

/** One mutation over the same socket: resolves with its data, rejects with its errors. */
function execute(query, variables) {
  return new Promise((resolve, reject) => {
    let data;
    client.subscribe(
      { query, variables },
      {
        next: (result) => (result.errors ? reject(result.errors) : (data = result.data)),
        error: reject,
        complete: () => resolve(data),
      },
    );
  });
}

function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await action(new FormData(form));
    } catch (error) {
      console.error(error);
      alert(Array.isArray(error) ? error.map((e) => e.message).join('\n') : String(error));
    }
  });
}

// --- Chat: the room list and the current room's history are live queries; sending is a mutation. ---
let room = 'general';
let stopHistory = () => {};

function showRoom(name) {
  room = name;
  $('chat-room').textContent = `#${name}`;
  stopHistory();
  stopHistory = live(
    'query History($room: String!) @live { messages(room: $room, last: 50) { id author text sentAt } }',
    { room },
    ({ messages }) => {
      const list = $('messages');
      list.replaceChildren(
        ...messages.map((message) => {
          const item = element('li');
          item.dataset.id = message.id;
          item.append(element('span', message.author, 'author'), element('span', message.text, 'text'));
          item.append(element('time', new Date(message.sentAt).toLocaleTimeString(), 'time'));
          return item;
        }),
      );
      list.scrollTop = list.scrollHeight;
    },
  );
  renderRooms();
}

let rooms = [];
function renderRooms() {
  const names = new Set([...rooms.map((r) => r.name), room]);
  $('rooms').replaceChildren(
    ...[...names].sort().map((name) => {
      const button = element('button', `#${name}`);
      button.type = 'button';
      button.setAttribute('aria-pressed', String(name === room));
      button.addEventListener('click', () => showRoom(name));
      return button;
    }),
  );
}

live('query Rooms @live { rooms { name messageCount } }', {}, (data) => {
  rooms = data.rooms;
  renderRooms();
});
onSubmit($('send'), async (form) => {
  await execute('mutation Send($room: String!, $author: String!, $text: String!) { send(room: $room, author: $author, text: $text) { id } }', {
    room,
    author: form.get('author'),
    text: form.get('text'),
  });
  $('chat-text').value = '';
});
onSubmit($('join'), async (form) => {
  showRoom(String(form.get('room')));
  $('join-room').value = '';
});
showRoom(room);

// --- News: newest first, live. ---
live('query News @live { news(last: 30) { id headline author publishedAt } }', {}, ({ news }) => {
  $('headlines').replaceChildren(
    ...news.map((item) => {
      const row = element('li');
      row.dataset.id = item.id;
      row.append(element('span', item.headline, 'headline'), element('span', ` — ${item.author}`, 'by'));
      row.append(element('time', new Date(item.publishedAt).toLocaleTimeString(), 'time'));
      return row;
    }),
  );
});
onSubmit($('publish'), async (form) => {
  await execute('mutation Publish($headline: String!, $author: String!) { publish(headline: $headline, author: $author) { id } }', {
    headline: form.get('headline'),
    author: form.get('author'),
  });
  $('news-headline').value = '';
});

// --- Ticker: several updates a second, as JSON Patches; a slow tab gets only the latest prices. ---
const rows = new Map();
live('query Stocks @live { stocks { symbol price change } }', {}, ({ stocks }, revision) => {
  $('ticker-revision').textContent = `revision ${revision}`;
  for (const stock of stocks) {
    let row = rows.get(stock.symbol);
    if (!row) {
      row = element('tr');
      row.dataset.symbol = stock.symbol;
      row.append(element('td', stock.symbol), element('td', '', 'price'), element('td', '', 'change'));
      $('stocks').append(row);
      rows.set(stock.symbol, row);
    }
    const [, price, change] = row.children;
    price.textContent = stock.price.toFixed(2);
    change.textContent = `${stock.change >= 0 ? '+' : ''}${stock.change.toFixed(2)}`;
    change.className = `change ${stock.change >= 0 ? 'up' : 'down'}`;
  }
});

// --- Locations: points on a grid, drawn in SVG. ---
const map = $('map');
const dots = new Map();
function drawGrid({ width, height }) {
  map.setAttribute('viewBox', `-0.5 -0.5 ${width} ${height}`);
  for (let x = 0; x < width; x++) map.append(line(x - 0.5, -0.5, x - 0.5, height - 0.5));
  for (let y = 0; y < height; y++) map.append(line(-0.5, y - 0.5, width - 0.5, y - 0.5));
}
function line(x1, y1, x2, y2) {
  const node = document.createElementNS(SVG, 'line');
  for (const [name, value] of Object.entries({ x1, y1, x2, y2 })) node.setAttribute(name, String(value));
  return node;
}
function dot(id) {
  const group = document.createElementNS(SVG, 'g');
  group.dataset.point = id;
  const circle = document.createElementNS(SVG, 'circle');
  circle.setAttribute('r', '0.35');
  const label = document.createElementNS(SVG, 'text');
  label.setAttribute('x', '0.45');
  label.setAttribute('y', '0.2');
  label.textContent = id;
  group.append(circle, label);
  map.append(group);
  return group;
}
let gridDrawn = false;
live('query Points @live { grid { width height } points { id x y } }', {}, ({ grid, points }) => {
  if (!gridDrawn) {
    drawGrid(grid);
    gridDrawn = true;
  }
  const list = [];
  for (const point of points) {
    const group = dots.get(point.id) ?? dots.set(point.id, dot(point.id)).get(point.id);
    group.setAttribute('transform', `translate(${point.x} ${point.y})`);
    const item = element('li', `${point.id} (${point.x}, ${point.y})`);
    item.dataset.point = point.id;
    list.push(item);
  }
  $('points').replaceChildren(...list);
});
