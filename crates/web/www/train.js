// The page's side: the config editor, the buttons, the curves, the epochs table, the weight
// templates and the draw canvas (serve's, asking the model trained here). Training runs in
// worker.js, so the page stays responsive.
import { drawChart } from './charts.js';
import { predictAgain, setupSketch } from './sketch.js';
import { renderWeights } from './weights.js';

const $ = (id) => document.getElementById(id);
const worker = new Worker('worker.js', { type: 'module' });
const address = new URLSearchParams(location.search);
const state = {
  overrides: address.getAll('set'),
  steps: [], // { x, loss, accuracy } every few steps; x in epochs
  reports: [],
  stepsPerEpoch: 1,
  trained: false,
};
// Answers the worker owes, by request number.
const pending = new Map();
let requests = 0;

function ask(message, transfer = []) {
  const id = ++requests;
  worker.postMessage({ ...message, id }, transfer);
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

function show(element, message) {
  $(element).hidden = !message;
  $(element).textContent = message || '';
}

function cell(value, digits, suffix = '') {
  return value === undefined ? '–' : `${value.toFixed(digits)}${suffix}`;
}

function addEpoch(report) {
  const row = document.createElement('tr');
  row.dataset.epoch = report.epoch;
  // Full precision, for whoever compares the page's numbers with a native run's.
  row.dataset.report = JSON.stringify(report);
  for (const text of [String(report.epoch), cell(report.train_loss, 4), cell(report.train_acc, 2, '%'),
    cell(report.valid_loss, 4), cell(report.valid_acc, 2, '%'), cell(report.test_loss, 4),
    cell(report.test_acc, 2, '%'), cell(report.seconds, 2)]) {
    const td = document.createElement('td');
    td.textContent = text;
    row.append(td);
  }
  $('epochs').tBodies[0].append(row);
}

function setRunning(running, resumable = false) {
  $('train').disabled = running;
  $('stop').disabled = !running;
  $('continue').disabled = running || !resumable;
  $('config').readOnly = running;
  $('backend-choice').disabled = running;
}

// Loss and accuracy every few steps within each epoch, and each epoch's train and test
// numbers at its end.
function drawCurves() {
  const epochs = (key) => state.reports.map((r) => [r.epoch, r[key]]);
  const steps = (key) => state.steps.map((s) => [s.x, s[key]]);
  drawChart($('loss'), {
    series: [
      { label: 'train loss, within the epoch', color: '#98a2b3', points: steps('loss') },
      { label: 'train loss', color: '#2f5bea', points: epochs('train_loss') },
      { label: 'test loss', color: '#e4572e', points: epochs('test_loss') },
    ],
    yLabel: 'loss',
    yMin: 0,
  });
  drawChart($('accuracy'), {
    series: [
      { label: 'train accuracy, within the epoch', color: '#98a2b3', points: steps('accuracy') },
      { label: 'train accuracy', color: '#2f5bea', points: epochs('train_acc') },
      { label: 'test accuracy', color: '#e4572e', points: epochs('test_acc') },
    ],
    yLabel: 'accuracy (%)',
    yMax: 100,
    hoverFormat: (v) => `${v.toFixed(2)}%`,
  });
}

// The curves are drawn again at most once a frame, and at most every CURVES_EVERY ms: the
// worker reports every few hundredths of a second.
const CURVES_EVERY = 200;
let curvesDrawn = 0;
let curvesPlanned = false;
function redraw() {
  if (curvesPlanned) return;
  curvesPlanned = true;
  const wait = Math.max(0, CURVES_EVERY - (performance.now() - curvesDrawn));
  setTimeout(() => requestAnimationFrame(() => {
    curvesPlanned = false;
    curvesDrawn = performance.now();
    drawCurves();
  }), wait);
}

const handlers = {
  ready() {
    $('status').textContent = 'ready';
    $('train').disabled = false;
  },
  started(data) {
    Object.assign(state, { steps: [], reports: [], stepsPerEpoch: data.steps_per_epoch, trained: false });
    $('backend').textContent = `backend: ${data.backend}`;
    show('notice', data.notice);
    $('status').textContent = `training ${data.epochs} epochs on ${data.train} images` +
      (state.overrides.length ? ` (set in the address: ${state.overrides.join(' ')})` : '');
    drawCurves();
  },
  steps(data) {
    state.steps.push({ x: data.epoch - 1 + data.step / state.stepsPerEpoch, loss: data.loss, accuracy: data.accuracy });
    redraw();
    if (data.templates) {
      renderWeights({ weights: data.templates });
      state.trained = true;
      $('download').disabled = false;
      predictAgain();
    }
    $('speed').textContent = `${Math.round(data.steps_per_second)} steps/s`;
    $('where').textContent = `epoch ${data.epoch}, step ${data.step} of ${state.stepsPerEpoch}: loss ${data.loss.toFixed(4)}`;
  },
  epoch(data) {
    state.reports.push(data.report);
    addEpoch(data.report);
    redraw();
  },
  stopped() {
    setRunning(false, true);
    $('status').textContent = 'stopped; Continue goes on from here';
    document.body.dataset.stopped = $('where').textContent;
  },
  finished(data) {
    setRunning(false);
    $('status').textContent = `finished ${data.epochs} epochs`;
    document.body.dataset.finished = String(data.epochs);
  },
  error(data) {
    setRunning(false);
    $('status').textContent = 'failed';
    show('error', data.message);
  },
};

worker.onmessage = ({ data }) => {
  if (data.id !== undefined && pending.has(data.id)) {
    const { resolve, reject } = pending.get(data.id);
    pending.delete(data.id);
    if (data.kind === 'error') reject(new Error(data.message));
    else resolve(data);
    return;
  }
  handlers[data.kind]?.(data);
};

// The draw canvas asks the model as it stands, mid-run or after.
setupSketch({
  missing: () => (state.trained ? null : 'Train first: the model answers once it has taken a step.'),
  async predict(job, canvas) {
    let prediction;
    if (job === 'canvas') {
      const { width, height } = canvas;
      const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      ({ prediction } = await ask({ kind: 'predict', rgba: pixels.buffer, width, height }, [pixels.buffer]));
    } else {
      // A file is read as `mnist-burn predict` reads it (orientation, transparency), not as
      // the canvas shows it.
      const bytes = await job.arrayBuffer();
      ({ prediction } = await ask({ kind: 'predict_file', bytes }, [bytes]));
    }
    // Full precision, for whoever compares the page's answer with `mnist-burn predict`'s.
    $('draw-class').dataset.probabilities = JSON.stringify(prediction.probabilities);
    $('draw-class').dataset.input = JSON.stringify(prediction.input);
    return prediction;
  },
});

function save(name, bytes, type) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([bytes], { type }));
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

$('download').addEventListener('click', async () => {
  try {
    const { safetensors, config } = await ask({ kind: 'download' });
    save('model.safetensors', safetensors, 'application/octet-stream');
    save('config.toml', config, 'application/toml');
  } catch (error) {
    show('error', error.message);
  }
});
$('train').addEventListener('click', () => {
  show('error', '');
  $('epochs').tBodies[0].replaceChildren();
  delete document.body.dataset.finished;
  setRunning(true);
  worker.postMessage({
    kind: 'train', config: $('config').value, overrides: state.overrides, backend: $('backend-choice').value,
  });
});
$('stop').addEventListener('click', () => worker.postMessage({ kind: 'stop' }));
$('continue').addEventListener('click', () => {
  setRunning(true);
  $('status').textContent = 'training on from where it stopped';
  worker.postMessage({ kind: 'continue' });
});

if (address.get('backend')) $('backend-choice').value = address.get('backend');
const config = await fetch('default.toml');
$('config').value = await config.text();
drawCurves();
// Blank templates until the first step: their place (and the painter) is ready before training.
renderWeights({ weights: Array.from({ length: 10 }, () => new Array(784).fill(0)) });
worker.postMessage({ kind: 'load' });
