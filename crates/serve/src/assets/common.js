// mnist-burn serve: what every view shares: DOM and formatting helpers, the JSON fetch,
// the state, the polling of the runs list, and the routing between the three views
// (#runs, #run/<id>, #draw). Plain ES2020 modules, no libraries, nothing external.

import { redrawCharts } from './charts.js';

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

export const $ = (selector, root = document) => root.querySelector(selector);

/** Creates an element with an optional class name and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export const DASH = '\u2014';

export function fmtPct(value, digits = 2) {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : `${value.toFixed(digits)}%`;
}

export function fmtNum(value, digits = 4) {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

export function fmtWall(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${rest}s`;
}

const pad2 = (n) => String(n).padStart(2, '0');

/** "2026-11-28 10:10:10" stays as is; an RFC 3339 time becomes local "YYYY-MM-DD HH:MM:SS". */
export function fmtStarted(text) {
  if (!text) return DASH;
  if (/^\d{4}-\d\d-\d\dT/.test(text)) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) {
      return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
        `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
    }
  }
  return text;
}

export function startedKey(text) {
  if (!text) return null;
  const t = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(text) ? text.replace(' ', 'T') : text);
  return Number.isNaN(t) ? text : t;
}

export const runUrl = (id, tail = '') => `/api/runs/${encodeURIComponent(id)}${tail}`;
export const runHash = (id) => `#run/${encodeURIComponent(id)}`;

/** Fetches JSON; throws an Error carrying the server's one-line `error` on a non-2xx. */
export async function api(path, options) {
  const response = await fetch(path, Object.assign({ cache: 'no-store' }, options));
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const message = body && typeof body.error === 'string' ? body.error : `HTTP ${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

export function fmtSmall(v) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

export function badge(status) {
  return el('span', `badge badge-${status}`, status);
}

// ------------------------------------------------------------------------------------------
// State shared by the views
// ------------------------------------------------------------------------------------------

export const state = {
  runs: [], // latest /api/runs list, server order (newest first)
  byId: new Map(),
  loaded: false,
  selected: new Set(),
  colours: new Map(), // id -> palette index
  details: new Map(), // id -> { updated, data }
  detailLoading: new Set(),
  sort: { key: null, dir: 1 },
  view: 'runs',
};

function setConnection(ok, message) {
  const conn = $('#conn');
  conn.classList.toggle('down', !ok);
  conn.textContent = ok ? 'live' : 'server unreachable';
  conn.title = ok ? 'Polling the server every second' : message || '';
}

// What each view does on a new runs list (listed) and on a change of route (showRun(id),
// leftRun): main.js fills it in, so that this file needs none of the views.
const views = {
  listed: () => {},
  showRun: () => {},
  leftRun: () => {},
};

export function connectViews(handlers) {
  Object.assign(views, handlers);
}

// ------------------------------------------------------------------------------------------
// Polling the list
// ------------------------------------------------------------------------------------------

// Every second while the server answers; backing off to 5 s while it does not.
let listFailures = 0;

export async function pollRuns() {
  let data = null;
  try {
    data = await api('/api/runs');
    listFailures = 0;
    setConnection(true);
  } catch (error) {
    listFailures += 1;
    setConnection(false, error.message);
  }
  setTimeout(pollRuns, listFailures ? Math.min(5000, 1000 * 2 ** (listFailures - 1)) : 1000);
  if (data) applyRuns(data);
}

function applyRuns(data) {
  state.runs = Array.isArray(data.runs) ? data.runs : [];
  state.byId = new Map(state.runs.map((r) => [r.id, r]));
  $('#runs-dir').textContent = data.runs_dir ? `${state.runs.length} run${state.runs.length === 1 ? '' : 's'} in ${data.runs_dir}` : '';
  views.listed();
}

// ------------------------------------------------------------------------------------------
// Routing
// ------------------------------------------------------------------------------------------

export function route() {
  const hash = location.hash || '#runs';
  let view = 'runs';
  if (hash.startsWith('#run/')) {
    view = 'run';
  } else if (hash === '#draw') {
    view = 'draw';
  }
  state.view = view;
  for (const name of ['runs', 'run', 'draw']) $(`#view-${name}`).hidden = name !== view;
  for (const tab of document.querySelectorAll('.tabs a')) {
    const active = tab.dataset.tab === view;
    tab.classList.toggle('active', active);
    if (active) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (view === 'run') {
    let id = hash.slice(5);
    try {
      id = decodeURIComponent(id);
    } catch (_) { /* keep it raw */ }
    views.showRun(id);
  } else {
    views.leftRun();
    document.title = view === 'draw' ? 'Draw \u2013 mnist-burn' : 'Runs \u2013 mnist-burn';
  }
  redrawCharts($(`#view-${view}`));
  window.scrollTo(0, 0);
}
