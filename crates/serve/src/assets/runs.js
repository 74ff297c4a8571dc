// mnist-burn serve: the Runs view: the runs table (kept in step with the list, sortable),
// the selection of runs and their overlaid curves.

import { $, DASH, api, badge, el, fmtPct, fmtStarted, fmtWall, runHash, runUrl, startedKey, state } from './common.js';
import { PALETTE, drawChart } from './charts.js';

const COLUMNS = ['name', 'config', 'backend', 'status', 'epochs', 'valid', 'final', 'best', 'wall', 'started'];
const NUMERIC = new Set(['epochs', 'valid', 'final', 'best', 'wall', 'started']);
const SORT_VALUE = {
  name: (r) => (r.name || r.id).toLowerCase() + '\u0000' + r.id.toLowerCase(),
  config: (r) => (r.config_name ? r.config_name.toLowerCase() : null),
  backend: (r) => (r.backend ? r.backend.toLowerCase() : null),
  status: (r) => r.status,
  epochs: (r) => r.epochs_completed,
  valid: (r) => r.final_valid_accuracy,
  final: (r) => r.final_test_accuracy,
  best: (r) => r.best_test_accuracy,
  wall: (r) => r.wall_seconds,
  started: (r) => startedKey(r.started),
};

function sortedRuns() {
  const { key, dir } = state.sort;
  const indexed = state.runs.map((run, index) => ({ run, index }));
  if (!key) return state.runs.slice();
  const value = SORT_VALUE[key];
  indexed.sort((a, b) => {
    const va = value(a.run);
    const vb = value(b.run);
    const na = va === null || va === undefined;
    const nb = vb === null || vb === undefined;
    if (na || nb) return na && nb ? a.index - b.index : na ? 1 : -1; // missing values last
    if (va < vb) return -dir;
    if (va > vb) return dir;
    return a.index - b.index;
  });
  return indexed.map((x) => x.run);
}

function colourOf(id) {
  if (!state.colours.has(id)) {
    const used = new Set(state.colours.values());
    let index = 0;
    while (used.has(index) && index < PALETTE.length) index++;
    state.colours.set(id, index % PALETTE.length);
  }
  return PALETTE[state.colours.get(id)];
}

/** Rebuilds a cell only when what it shows changed (keeps hover, focus and selection). */
function setCell(td, signature, build) {
  if (td._sig === signature) return;
  td._sig = signature;
  td.replaceChildren();
  build(td);
}

function createRow(id) {
  const tr = document.createElement('tr');
  tr.dataset.runId = id;
  const sel = el('td', 'sel-col');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.setAttribute('aria-label', `Compare ${id}`);
  box.addEventListener('change', () => toggleSelected(id, box.checked));
  const dot = el('span', 'color-dot');
  dot.hidden = true;
  sel.append(box, dot);
  tr.append(sel);
  for (const column of COLUMNS) {
    const td = el('td');
    td.dataset.col = column;
    if (NUMERIC.has(column) && column !== 'started') td.classList.add('num');
    tr.append(td);
  }
  return tr;
}

function updateRow(tr, run) {
  const cell = (column) => tr.querySelector(`td[data-col="${column}"]`);
  tr.title = run.problem || '';

  setCell(cell('name'), JSON.stringify([run.name, run.id, run.problem]), (td) => {
    td.classList.add('run-name');
    const link = el('a', '', run.name || run.id);
    link.href = runHash(run.id);
    td.append(link);
    if (run.name !== run.id) td.append(el('span', 'run-id', run.id));
    if (run.problem) td.append(el('span', 'problem', run.problem));
  });
  setCell(cell('config'), String(run.config_name), (td) => {
    td.textContent = run.config_name || DASH;
  });
  setCell(cell('backend'), `${run.backend}|${run.device}`, (td) => {
    td.textContent = run.backend || DASH;
    td.title = run.device || '';
  });
  setCell(cell('status'), run.status, (td) => {
    td.dataset.value = run.status;
    td.append(badge(run.status));
  });
  const planned = run.epochs_planned === null || run.epochs_planned === undefined ? '?' : run.epochs_planned;
  setCell(cell('epochs'), `${run.epochs_completed}/${planned}|${run.status}`, (td) => {
    td.dataset.value = String(run.epochs_completed);
    td.append(document.createTextNode(`${run.epochs_completed}/${planned}`));
    if (run.status === 'running' && run.epochs_planned) {
      const bar = el('span', 'epochs-bar');
      const fill = el('span');
      fill.style.width = `${Math.min(100, (100 * run.epochs_completed) / run.epochs_planned)}%`;
      bar.append(fill);
      td.append(bar);
    }
  });
  // The validation split's accuracy, what selections use; a dash when the run holds none out.
  const valid = run.final_valid_accuracy === undefined ? null : run.final_valid_accuracy;
  setCell(cell('valid'), String(valid), (td) => {
    td.dataset.value = valid === null ? '' : String(valid);
    td.textContent = fmtPct(valid);
  });
  setCell(cell('final'), String(run.final_test_accuracy), (td) => {
    td.dataset.value = run.final_test_accuracy === null ? '' : String(run.final_test_accuracy);
    td.textContent = fmtPct(run.final_test_accuracy);
  });
  setCell(cell('best'), String(run.best_test_accuracy), (td) => {
    td.dataset.value = run.best_test_accuracy === null ? '' : String(run.best_test_accuracy);
    td.textContent = fmtPct(run.best_test_accuracy);
    td.classList.toggle('acc-strong', run.best_test_accuracy !== null);
  });
  setCell(cell('wall'), String(run.wall_seconds), (td) => {
    td.dataset.value = run.wall_seconds === null ? '' : String(run.wall_seconds);
    td.textContent = fmtWall(run.wall_seconds);
  });
  setCell(cell('started'), String(run.started), (td) => {
    td.textContent = fmtStarted(run.started);
    td.title = run.started || '';
  });

  const selected = state.selected.has(run.id);
  const box = tr.querySelector('input[type="checkbox"]');
  if (box.checked !== selected) box.checked = selected;
  tr.classList.toggle('selected', selected);
  const dot = tr.querySelector('.color-dot');
  dot.hidden = !selected;
  if (selected) dot.style.backgroundColor = colourOf(run.id);
}

const rows = new Map(); // id -> <tr>

function renderRunsTable() {
  const tbody = $('#runs-table tbody');
  const present = new Set(state.runs.map((r) => r.id));
  for (const [id, tr] of rows) {
    if (!present.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  const ordered = sortedRuns();
  ordered.forEach((run, i) => {
    let tr = rows.get(run.id);
    if (!tr) {
      tr = createRow(run.id);
      rows.set(run.id, tr);
      if (state.loaded && state.view === 'runs') {
        tr.classList.add('fresh');
        tr.addEventListener('animationend', () => tr.classList.remove('fresh'), { once: true });
      }
    }
    updateRow(tr, run);
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
  });
  $('#runs-empty').hidden = state.runs.length > 0;
  for (const th of document.querySelectorAll('#runs-table th[data-sort]')) {
    th.classList.toggle('sorted-asc', th.dataset.sort === state.sort.key && state.sort.dir > 0);
    th.classList.toggle('sorted-desc', th.dataset.sort === state.sort.key && state.sort.dir < 0);
    th.setAttribute('aria-sort', th.dataset.sort === state.sort.key ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  updateSelectAll();
}

function updateSelectAll() {
  const all = $('#select-all');
  const candidates = state.runs.filter((r) => r.epochs_completed > 0);
  const n = candidates.filter((r) => state.selected.has(r.id)).length;
  all.checked = candidates.length > 0 && n === candidates.length;
  all.indeterminate = n > 0 && n < candidates.length;
  all.disabled = candidates.length === 0;
}

function toggleSelected(id, on) {
  if (on) {
    state.selected.add(id);
    colourOf(id);
  } else {
    state.selected.delete(id);
    state.colours.delete(id);
  }
  renderRunsTable();
  refreshSelectedDetails();
  drawCompare();
}

async function loadDetail(id) {
  if (state.detailLoading.has(id)) return;
  state.detailLoading.add(id);
  try {
    const data = await api(runUrl(id));
    state.details.set(id, { updated: data.summary.updated, data });
  } catch (error) {
    state.details.set(id, { updated: null, data: null, error: error.message });
  } finally {
    state.detailLoading.delete(id);
  }
}

async function refreshSelectedDetails() {
  const wanted = [...state.selected].filter((id) => {
    const run = state.byId.get(id);
    const cached = state.details.get(id);
    return run && (!cached || cached.updated !== run.updated) && !state.detailLoading.has(id);
  });
  if (!wanted.length) return;
  await Promise.all(wanted.map(loadDetail));
  drawCompare();
}

function drawCompare() {
  const ids = sortedRuns().map((r) => r.id).filter((id) => state.selected.has(id));
  $('#compare-hint').hidden = ids.length > 0;
  $('#compare-charts').hidden = ids.length === 0;
  if (!ids.length) return;
  const acc = [];
  const loss = [];
  for (const id of ids) {
    const colour = colourOf(id);
    const metrics = (state.details.get(id) || {}).data ? state.details.get(id).data.metrics : [];
    acc.push({ label: id, color: colour, points: metrics.map((m) => [m.epoch, m.test_acc]) });
    loss.push({ label: id, color: colour, points: metrics.map((m) => [m.epoch, m.test_loss]), hoverLabel: `${id} test` });
    loss.push({ label: `${id} train`, color: colour, dash: [6, 4], legend: false, points: metrics.map((m) => [m.epoch, m.train_loss]), hoverLabel: `${id} train` });
  }
  drawChart($('#cmp-acc'), { series: acc, yLabel: 'test accuracy (%)', yMax: 100, hoverFormat: (v) => `${v.toFixed(2)}%`, empty: 'No epochs yet' });
  drawChart($('#cmp-loss'), {
    series: loss,
    yLabel: 'loss',
    yMin: 0,
    extraLegend: [{ label: 'train', color: '#98a2b3', dash: [6, 4] }, { label: 'test', color: '#98a2b3' }],
    empty: 'No epochs yet',
  });
}

export function setupRunsView() {
  for (const th of document.querySelectorAll('#runs-table th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      if (state.sort.key === key) {
        if ((state.sort.dir < 0) === NUMERIC.has(key)) {
          state.sort.dir = -state.sort.dir;
        } else {
          state.sort = { key: null, dir: 1 }; // third click: back to the server's order
        }
      } else {
        state.sort = { key, dir: NUMERIC.has(key) ? -1 : 1 };
      }
      renderRunsTable();
      drawCompare();
    });
  }
  $('#select-all').addEventListener('change', (event) => {
    const on = event.target.checked;
    for (const run of state.runs) {
      if (run.epochs_completed <= 0) continue;
      if (on) {
        state.selected.add(run.id);
        colourOf(run.id);
      } else {
        state.selected.delete(run.id);
        state.colours.delete(run.id);
      }
    }
    renderRunsTable();
    refreshSelectedDetails();
    drawCompare();
  });
}

/** A new runs list: drops vanished runs from the selection, then the table and the curves. */
export function runsListed() {
  for (const id of [...state.selected]) {
    if (!state.byId.has(id)) {
      state.selected.delete(id);
      state.colours.delete(id);
    }
  }
  renderRunsTable();
  state.loaded = true;
  refreshSelectedDetails();
}
