// The draw canvas and what the model says of it, for any model: serve's Draw view (a run's
// model, through the API) and the browser build's page (the model it trains). The drawing
// canvas, the file input and drop, the predictions (one at a time), the probability bars,
// the 28x28 preview and the pixel x weight heat map. Both pages hold only a `#draw-panel`
// with their own toolbar items; the panel itself is built here, once.

import { diverging, maxAbs, paint28 } from './charts.js';
import { $, el } from './common.js';

const PANEL = `
<div class="draw-toolbar card">
  <button type="button" id="draw-clear" class="btn">Clear</button>
  <label class="btn btn-file">Open image&hellip;
    <input type="file" id="file-input" accept="image/*">
  </label>
  <span id="draw-msg" class="muted small" role="status" aria-live="polite"></span>
</div>
<div class="draw-grid">
  <div class="card draw-pad">
    <div id="drop-zone" class="drop-zone">
      <canvas id="draw-canvas" width="280" height="280" aria-label="Drawing area: draw a digit"></canvas>
      <div class="drop-overlay">Drop the image here</div>
    </div>
    <p class="muted small center">White ink on black, like MNIST.</p>
  </div>
  <div class="card draw-result">
    <div class="answer">
      <span class="muted small">Prediction</span>
      <output id="draw-class" class="big-class"></output>
      <span id="draw-confidence" class="muted small"></span>
    </div>
    <div id="probabilities" class="probs" aria-label="Probability of each class"></div>
  </div>
  <div class="card draw-insight">
    <div class="insight-row">
      <figure class="mini">
        <canvas id="draw-input" width="28" height="28" class="pixelated" aria-label="The 28x28 picture the model saw"></canvas>
        <figcaption>What the model saw (28&times;28)</figcaption>
      </figure>
      <figure class="mini">
        <canvas id="draw-heatmap" width="28" height="28" class="pixelated" aria-label="Contribution of each pixel"></canvas>
        <figcaption id="heatmap-caption">pixel &times; weight for the predicted class</figcaption>
      </figure>
    </div>
  </div>
</div>`;

/** Builds the panel into `#draw-panel`, the page's own items first in its toolbar. */
function buildPanel() {
  const container = $('#draw-panel');
  const own = Array.from(container.childNodes);
  container.innerHTML = PANEL;
  container.querySelector('.draw-toolbar').prepend(...own);
}

const STROKE = 20;
const drawState = { active: false, pointer: null, last: null, ink: false };
// At most one prediction in flight; while it runs, only the newest wish is kept, asked after.
const predictor = { busy: false, pending: null, generation: 0, lastJob: null };
const bars = [];
let canvas = null;
let pen = null;
let model = null;
let labels = null;
let predictions = 0;

function clearCanvas() {
  pen.setTransform(1, 0, 0, 1, 0, 0);
  pen.fillStyle = '#000';
  pen.fillRect(0, 0, canvas.width, canvas.height);
  drawState.ink = false;
}

function canvasPoint(event) {
  const rect = canvas.getBoundingClientRect();
  return {
    x: ((event.clientX - rect.left) * canvas.width) / rect.width,
    y: ((event.clientY - rect.top) * canvas.height) / rect.height,
  };
}

function strokeTo(from, to) {
  pen.strokeStyle = '#fff';
  pen.fillStyle = '#fff';
  pen.lineWidth = STROKE * (canvas.width / 280);
  pen.lineCap = 'round';
  pen.lineJoin = 'round';
  pen.beginPath();
  if (from.x === to.x && from.y === to.y) {
    pen.arc(to.x, to.y, pen.lineWidth / 2, 0, Math.PI * 2);
    pen.fill();
    return;
  }
  pen.moveTo(from.x, from.y);
  pen.lineTo(to.x, to.y);
  pen.stroke();
}

function endStroke(event) {
  if (!drawState.active || (event && event.pointerId !== drawState.pointer)) return;
  drawState.active = false;
  try {
    if (canvas.hasPointerCapture(drawState.pointer)) canvas.releasePointerCapture(drawState.pointer);
  } catch (_) { /* already released */ }
  drawState.pointer = null;
  requestPrediction('canvas');
}

/**
 * Binds the Draw view to `source`: `source.missing()` says why there is no model to ask (or
 * nothing when there is one), `source.predict(job, canvas)` answers a job ('canvas' or the
 * File shown in it) with serve's `/predict` JSON.
 */
export function setupSketch(source) {
  buildPanel();
  model = source;
  canvas = $('#draw-canvas');
  pen = canvas.getContext('2d');
  clearCanvas();
  canvas.addEventListener('pointerdown', (event) => {
    if (event.pointerType === 'mouse' && event.button !== 0) return;
    if (drawState.active) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawState.active = true;
    drawState.pointer = event.pointerId;
    const p = canvasPoint(event);
    strokeTo(p, p);
    drawState.last = p;
    drawState.ink = true;
    requestPrediction('canvas');
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!drawState.active || event.pointerId !== drawState.pointer) return;
    event.preventDefault();
    const events = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
    for (const e of events.length ? events : [event]) {
      const p = canvasPoint(e);
      strokeTo(drawState.last, p);
      drawState.last = p;
    }
    requestPrediction('canvas');
  });
  canvas.addEventListener('pointerup', endStroke);
  canvas.addEventListener('pointercancel', endStroke);
  canvas.addEventListener('lostpointercapture', endStroke);
  canvas.addEventListener('contextmenu', (event) => event.preventDefault());

  $('#draw-clear').addEventListener('click', () => {
    clearCanvas();
    predictor.generation++;
    predictor.pending = null;
    markPredicting();
    clearResult();
    drawMessage('');
  });

  const input = $('#file-input');
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (file) useFile(file);
    input.value = '';
  });

  const zone = $('#drop-zone');
  const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
  zone.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', (event) => {
    if (event.relatedTarget && zone.contains(event.relatedTarget)) return;
    zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const file = event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0];
    if (!file) return;
    if (file.type && !file.type.startsWith('image/')) {
      drawMessage(`\u201c${file.name}\u201d is not an image.`, true);
      return;
    }
    useFile(file);
  });
  // A file dropped next to the canvas must not make the browser leave the page.
  window.addEventListener('dragover', (event) => {
    if (hasFiles(event)) event.preventDefault();
  });
  window.addEventListener('drop', (event) => {
    if (hasFiles(event)) event.preventDefault();
  });

  buildBars();
  clearResult();
}

/** Asks again about what is drawn (the model changed), if anything is. */
export function predictAgain() {
  if (drawState.ink) requestPrediction(predictor.lastJob || 'canvas');
}

/** The bars' class names (digits when `names` is empty). */
export function setClassNames(names) {
  labels = names && names.length === 10 ? names : null;
  bars.forEach((b, k) => {
    b.label.textContent = labels ? labels[k] : String(k);
  });
  $('#probabilities').classList.toggle('long-labels', Boolean(labels && labels.some((n) => n.length > 2)));
}

/** Shows an uploaded or dropped image in the canvas (fitted, on black) and predicts it. */
async function useFile(file) {
  drawMessage(`Reading ${file.name || 'the image'}\u2026`);
  try {
    const bitmap = await createImageBitmap(file);
    clearCanvas();
    const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    pen.imageSmoothingEnabled = true;
    pen.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    drawMessage(`${file.name || 'Image'} (${bitmap.width}\u00d7${bitmap.height})`);
    if (bitmap.close) bitmap.close();
  } catch (_) {
    clearCanvas();
    drawMessage(`${file.name || 'The file'}: the browser cannot show it; the model is still asked about it.`);
  }
  drawState.ink = true;
  requestPrediction(file);
}

function drawMessage(text, isError) {
  const msg = $('#draw-msg');
  msg.textContent = text;
  msg.classList.toggle('error', Boolean(isError));
}

function markPredicting() {
  document.body.dataset.predicting = predictor.busy || predictor.pending ? '1' : '0';
}

function requestPrediction(job) {
  predictor.pending = job;
  markPredicting();
  pumpPredictions();
}

async function pumpPredictions() {
  if (predictor.busy || !predictor.pending) {
    markPredicting();
    return;
  }
  const missing = model.missing();
  if (missing) {
    predictor.pending = null;
    markPredicting();
    drawMessage(missing, true);
    return;
  }
  const job = predictor.pending;
  predictor.pending = null;
  predictor.busy = true;
  markPredicting();
  const generation = predictor.generation;
  try {
    predictor.lastJob = job;
    const data = await model.predict(job, canvas);
    if (generation === predictor.generation) {
      renderPrediction(data);
      if ($('#draw-msg').classList.contains('error')) drawMessage('');
    }
  } catch (error) {
    if (generation === predictor.generation) {
      drawMessage(`Prediction failed: ${error.message}`, true);
      if (job !== 'canvas') clearResult(); // what is shown belongs to another picture
    }
  } finally {
    predictor.busy = false;
    pumpPredictions();
  }
}

function buildBars() {
  const root = $('#probabilities');
  root.replaceChildren();
  bars.length = 0;
  for (let k = 0; k < 10; k++) {
    const row = el('div', 'prob');
    const label = el('span', 'prob-label', labels ? labels[k] : String(k));
    const track = el('span', 'prob-track');
    const fill = el('span', 'prob-fill');
    track.append(fill);
    const pct = el('span', 'prob-pct', '');
    row.append(label, track, pct);
    root.append(row);
    bars.push({ row, label, fill, pct });
  }
}

function clearResult() {
  $('#draw-class').textContent = '';
  $('#draw-class').classList.remove('long');
  $('#draw-confidence').textContent = 'draw a digit';
  for (const b of bars) {
    b.fill.style.width = '0%';
    b.pct.textContent = '';
    b.row.classList.remove('top');
  }
  const black = new Array(784).fill(0);
  paint28($('#draw-input'), black, () => [0, 0, 0]);
  paint28($('#draw-heatmap'), black, () => [247, 247, 247]);
  $('#heatmap-caption').textContent = 'pixel \u00d7 weight for the predicted class';
}

function renderPrediction(data) {
  const probs = data.probabilities || [];
  const cls = Number.isInteger(data.class) ? data.class : probs.indexOf(Math.max(...probs));
  const label = data.label !== undefined && data.label !== null ? String(data.label) : labels ? labels[cls] : String(cls);
  const big = $('#draw-class');
  big.textContent = label;
  big.classList.toggle('long', label.length > 2);
  const confidence = probs[cls];
  const name = (k) => (labels ? labels[k] : String(k));
  // Below the run's threshold (chosen on its validation split) the answer is given with its
  // runner-up: the model is not right often enough there to answer alone.
  const unsure = Array.isArray(data.unsure_between) ? data.unsure_between : null;
  $('#draw-confidence').textContent = !Number.isFinite(confidence)
    ? ''
    : unsure
      ? `unsure: ${name(unsure[0])} or ${name(unsure[1])} (${(confidence * 100).toFixed(1)}% / ${(probs[unsure[1]] * 100).toFixed(1)}%)`
      : `${(confidence * 100).toFixed(1)}% sure`;
  document.body.dataset.unsure = unsure ? unsure.join(',') : '';
  bars.forEach((b, k) => {
    const p = Number.isFinite(probs[k]) ? probs[k] : 0;
    b.fill.style.width = `${(p * 100).toFixed(2)}%`;
    b.pct.textContent = `${(p * 100).toFixed(1)}%`;
    b.row.classList.toggle('top', k === cls);
    b.row.classList.toggle('runner-up', Boolean(unsure) && k === unsure[1]);
    b.row.title = `${labels ? labels[k] : k}: ${(p * 100).toFixed(3)}%`;
  });
  if (Array.isArray(data.input)) paint28($('#draw-input'), data.input, (v) => [v, v, v]);
  if (Array.isArray(data.contributions)) {
    const max = maxAbs(data.contributions) || 1;
    paint28($('#draw-heatmap'), data.contributions, (v) => diverging(v / max));
  }
  $('#heatmap-caption').textContent = `pixel \u00d7 weight for class ${label}: what pushed the model to its answer`;
  predictions += 1;
  document.body.dataset.predictions = String(predictions);
}
