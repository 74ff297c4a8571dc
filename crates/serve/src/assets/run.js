// mnist-burn serve: the view of one run (#run/<id>): its stats, loss and accuracy curves,
// config, weight templates and the evaluation (confusion matrix, per-class table).

import { $, DASH, api, badge, el, fmtNum, fmtPct, fmtStarted, fmtWall, runHash, runUrl, state } from './common.js';
import { drawChart, paint28 } from './charts.js';
import { renderWeights } from './weights.js';

const runView = {
  id: null,
  summary: null,
  timer: null,
  loading: null, // the id being fetched
  weightsKey: null,
  evalKey: null,
};

/** Shows the run `id` the route names: its tab, then its data. */
export function showRun(id) {
  const tab = $('#tab-run');
  tab.hidden = false;
  tab.href = runHash(id);
  if (tab.textContent === 'Run' || runView.id !== id) tab.textContent = `Run: ${id}`;
  openRun(id);
}

/** Another view is shown: the run's detail poll stops. */
export function leaveRun() {
  clearTimeout(runView.timer);
  runView.timer = null;
}

function openRun(id) {
  if (runView.id !== id) {
    runView.id = id;
    runView.summary = null;
    runView.weightsKey = null;
    runView.evalKey = null;
    $('#run-title').textContent = id;
    $('#run-sub').textContent = '';
    $('#run-status').replaceChildren();
    $('#run-stats').replaceChildren();
    $('#run-config').textContent = '';
    $('#run-error').hidden = true;
    $('#run-problem').hidden = true;
    $('#run-body').hidden = false;
    $('#weights').replaceChildren();
    $('#weights-scale').hidden = true;
    $('#weights-msg').textContent = 'Loading\u2026';
    $('#eval').hidden = true;
    $('#eval-msg').textContent = '';
    drawChart($('#run-loss'), { series: [], empty: 'Loading\u2026' });
    drawChart($('#run-acc'), { series: [], empty: 'Loading\u2026' });
  }
  loadRun();
}

function scheduleRunPoll() {
  clearTimeout(runView.timer);
  runView.timer = null;
  if (state.view === 'run' && runView.summary && runView.summary.status === 'running') {
    runView.timer = setTimeout(loadRun, 1000);
  }
}

async function loadRun() {
  const id = runView.id;
  if (!id || runView.loading === id) return;
  runView.loading = id;
  try {
    const data = await api(runUrl(id));
    if (runView.id !== id) return;
    $('#run-error').hidden = true;
    $('#run-body').hidden = false;
    renderRun(data);
  } catch (error) {
    if (runView.id !== id) return;
    $('#run-error').textContent = error.status === 404
      ? `There is no run \u201c${id}\u201d here (${error.message}).`
      : `Cannot load the run: ${error.message}`;
    $('#run-error').hidden = false;
    if (error.status === 404 || !runView.summary) $('#run-body').hidden = true;
  } finally {
    if (runView.loading === id) runView.loading = null;
    if (runView.id === id) scheduleRunPoll();
  }
}

/** The list poll notices a changed run (e.g. it finished) even when the detail poll stopped. */
export function runViewSawList() {
  if (state.view !== 'run' || !runView.id || !runView.summary || runView.loading) return;
  const listed = state.byId.get(runView.id);
  if (listed && listed.updated !== runView.summary.updated && !runView.timer) loadRun();
}

function stat(label, value, title, small) {
  const div = el('div');
  div.append(el('dt', '', label));
  const dd = el('dd', small ? 'dd-small' : '', value);
  if (title) dd.title = title;
  div.append(dd);
  return div;
}

function renderRun(data) {
  const s = data.summary;
  runView.summary = s;
  const metrics = Array.isArray(data.metrics) ? data.metrics : [];
  $('#run-title').textContent = s.name && s.name !== s.id ? `${s.name}` : s.id;
  const sub = [s.id];
  if (s.config_name) sub.push(`config ${s.config_name}`);
  if (s.backend) sub.push(s.backend);
  if (s.device) sub.push(s.device);
  $('#run-sub').textContent = sub.join(' \u00b7 ');
  $('#run-status').replaceChildren(badge(s.status));
  $('#run-problem').textContent = s.problem || '';
  $('#run-problem').hidden = !s.problem;
  const tabRun = $('#tab-run');
  tabRun.textContent = `Run: ${s.id}`;
  document.title = `${s.id} \u2013 mnist-burn`;

  const last = metrics.length ? metrics[metrics.length - 1] : null;
  const planned = s.epochs_planned === null || s.epochs_planned === undefined ? '?' : s.epochs_planned;
  $('#run-stats').replaceChildren(
    stat('Epochs', `${s.epochs_completed}/${planned}`),
    ...(s.final_valid_accuracy === null || s.final_valid_accuracy === undefined
      ? [] : [stat('Validation accuracy', fmtPct(s.final_valid_accuracy))]),
    stat('Final test accuracy', fmtPct(s.final_test_accuracy)),
    stat('Best test accuracy', fmtPct(s.best_test_accuracy)),
    stat('Final test loss', last ? fmtNum(last.test_loss) : DASH),
    stat('Final train accuracy', last ? fmtPct(last.train_acc) : DASH),
    stat('Wall time', fmtWall(s.wall_seconds)),
    stat('Started', fmtStarted(s.started), s.started || '', true),
  );

  const ep = (key) => metrics.map((m) => [m.epoch, m[key]]);
  // With a validation split (data.validation), its curve too: what selections use.
  const validated = metrics.some((m) => m.valid_acc !== null && m.valid_acc !== undefined);
  const valid = (label, key) => (validated ? [{ label, color: '#2c9f4b', points: ep(key) }] : []);
  drawChart($('#run-loss'), {
    series: [
      { label: 'train loss', color: '#2f5bea', points: ep('train_loss') },
      ...valid('validation loss', 'valid_loss'),
      { label: 'test loss', color: '#e4572e', points: ep('test_loss') },
    ],
    yLabel: 'loss',
    yMin: 0,
  });
  drawChart($('#run-acc'), {
    series: [
      { label: 'train accuracy', color: '#2f5bea', points: ep('train_acc') },
      ...valid('validation accuracy', 'valid_acc'),
      { label: 'test accuracy', color: '#e4572e', points: ep('test_acc') },
    ],
    yLabel: 'accuracy (%)',
    yMax: 100,
    hoverFormat: (v) => `${v.toFixed(2)}%`,
  });

  const config = $('#run-config');
  const configText = data.config === null || data.config === undefined ? '(this run has no config.toml)' : data.config;
  if (config.textContent !== configText) config.textContent = configText;

  // The model's pictures: loaded again only when the model may have changed.
  const key = `${s.id}|${s.status}|${s.has_model}`;
  if (runView.weightsKey !== key) {
    runView.weightsKey = key;
    loadWeights(s);
  }
  if (runView.evalKey !== key) {
    runView.evalKey = key;
    loadEval(s);
  }
}

async function loadWeights(s) {
  const id = s.id;
  const msg = $('#weights-msg');
  if (!s.has_model) {
    $('#weights').replaceChildren();
    $('#weights-scale').hidden = true;
    msg.textContent = s.status === 'running' ? 'The weights appear once the model is saved.' : 'This run has no saved model.';
    return;
  }
  msg.textContent = $('#weights').childElementCount ? '' : 'Loading the weights\u2026';
  try {
    const data = await api(runUrl(id, '/weights'));
    if (runView.id !== id) return;
    msg.textContent = '';
    renderWeights(data);
  } catch (error) {
    if (runView.id !== id) return;
    msg.textContent = '';
    msg.append(el('span', 'error', `Cannot load the weights: ${error.message}`));
  }
}

async function loadEval(s) {
  const id = s.id;
  const msg = $('#eval-msg');
  if (!s.has_model) {
    $('#eval').hidden = true;
    msg.textContent = s.status === 'running' ? 'The evaluation is available once training has finished.' : 'This run has no saved model to evaluate.';
    return;
  }
  if (s.status === 'running') {
    $('#eval').hidden = true;
    msg.textContent = 'The evaluation is available once training has finished.';
    return;
  }
  msg.replaceChildren(el('span', 'loading', 'Evaluating on the test split...'));
  $('#eval').hidden = true;
  try {
    const data = await api(runUrl(id, '/eval'));
    if (runView.id !== id) return;
    renderEval(data);
  } catch (error) {
    if (runView.id !== id) return;
    msg.replaceChildren(el('span', 'error', `Cannot evaluate: ${error.message}`));
  }
}

function renderEval(data) {
  const msg = $('#eval-msg');
  msg.textContent = `${fmtPct(data.accuracy)} accuracy on ${Number(data.images).toLocaleString('en-US')} test images` +
    (data.dataset ? ` (${data.dataset})` : '') + '.';
  const names = data.classes.map((c) => String(c.class));
  const table = $('#confusion');
  table.replaceChildren();
  const thead = el('thead');
  const head = el('tr');
  head.append(el('th', 'corner', 'true \u2193 pred \u2192'));
  for (const n of names) head.append(el('th', '', n));
  thead.append(head);
  const tbody = el('tbody');
  data.confusion.forEach((row, i) => {
    const tr = el('tr');
    const th = el('th', '', names[i]);
    th.scope = 'row';
    tr.append(th);
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      const td = el('td', '', count);
      const share = count / total;
      td.title = `true ${names[i]}, predicted ${names[j]}: ${count} (${(share * 100).toFixed(1)}% of the ${names[i]}s)`;
      if (count === 0) {
        td.classList.add('zero');
      } else if (i === j) {
        td.classList.add('diag');
        const alpha = 0.15 + 0.75 * share;
        td.style.backgroundColor = `rgba(23, 114, 69, ${alpha.toFixed(3)})`;
        if (alpha > 0.5) td.classList.add('dark');
      } else {
        const alpha = Math.min(0.9, 0.06 + Math.sqrt(share / 0.12) * 0.84);
        td.style.backgroundColor = `rgba(214, 51, 37, ${alpha.toFixed(3)})`;
        if (alpha > 0.55) td.classList.add('dark');
      }
      tr.append(td);
    });
    tbody.append(tr);
  });
  table.append(thead, tbody);

  const per = $('#per-class');
  per.replaceChildren();
  const phead = el('thead');
  const ph = el('tr');
  for (const t of ['Class', 'Images', 'Precision', 'Recall']) ph.append(el('th', '', t));
  phead.append(ph);
  const pbody = el('tbody');
  const meter = (value, kind) => {
    const td = el('td', 'bar-cell');
    td.append(document.createTextNode(fmtPct(value, 1)));
    const m = el('span', `meter ${kind}`);
    const fill = el('span');
    fill.style.width = `${Math.max(0, Math.min(100, value || 0))}%`;
    m.append(fill);
    td.append(m);
    return td;
  };
  for (const c of data.classes) {
    const tr = el('tr');
    tr.append(el('td', '', c.class), el('td', '', Number(c.count).toLocaleString('en-US')),
      meter(c.precision, 'precision'), meter(c.recall, 'recall'));
    pbody.append(tr);
  }
  per.append(phead, pbody);

  const confused = (data.most_confused || []).slice(0, 6);
  $('#most-confused').textContent = confused.length
    ? `Most confused: ${confused.map((c) => `${c.truth} taken for ${c.predicted} (${c.count})`).join(', ')}.`
    : '';
  renderMistakes(data.mistakes || [], names);
  $('#eval').hidden = false;
}

// The most confident mistakes, as eval.json lists them: each 28x28 picture the model saw,
// captioned true -> predicted with the probability it gave.
function renderMistakes(mistakes, names) {
  const grid = $('#mistakes');
  grid.replaceChildren();
  $('#mistakes-card').hidden = mistakes.length === 0;
  for (const m of mistakes) {
    const figure = el('figure', 'mistake');
    const canvas = el('canvas');
    canvas.width = 28;
    canvas.height = 28;
    paint28(canvas, m.pixels, (v) => [255 - v, 255 - v, 255 - v]);
    figure.title = `test image #${m.index}: a ${names[m.label]} taken for a ${names[m.predicted]}`;
    figure.append(canvas, el('figcaption', '', `${names[m.label]} \u2192 ${names[m.predicted]} ${fmtPct(100 * m.probability, 0)}`));
    grid.append(figure);
  }
}
