// mnist-burn serve: the Draw view's model: the chooser of runs with a model, their class
// names, and predictions through the API. The canvas and the answer are sketch.js's.

import { $, api, el, fmtPct, runUrl, state } from './common.js';
import { predictAgain, setClassNames, setupSketch } from './sketch.js';

const classNames = new Map(); // run id -> class names (from /weights), for the bar labels

function canvasBlob(canvas) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the canvas gave no PNG'))), 'image/png');
  });
}

/** Asks the chosen run's model about the canvas, or sends a file's bytes as they are. */
async function predict(job, canvas) {
  let body;
  let type;
  if (job === 'canvas') {
    body = await canvasBlob(canvas);
    type = 'image/png';
  } else {
    // Read first: a disk-backed File body is streamed differently, and developer tools
    // cannot show its response.
    body = await job.arrayBuffer();
    type = job.type && job.type !== 'application/json' ? job.type : 'application/octet-stream';
  }
  return api(runUrl($('#draw-run').value, '/predict'), { method: 'POST', headers: { 'Content-Type': type }, body });
}

export function setupDrawing() {
  setupSketch({
    missing: () => ($('#draw-run').value ? null : 'No run has a trained model yet: train one, it appears in the list by itself.'),
    predict,
  });
  $('#draw-run').addEventListener('change', () => {
    loadClassNames($('#draw-run').value);
    predictAgain();
  });
}

async function loadClassNames(id) {
  if (!id || classNames.has(id)) {
    applyClassNames(id);
    return;
  }
  try {
    const data = await api(runUrl(id, '/weights'));
    if (Array.isArray(data.classes) && data.classes.length === 10) classNames.set(id, data.classes.map(String));
  } catch (_) { /* digits will do */ }
  applyClassNames(id);
}

function applyClassNames(id) {
  if (id === $('#draw-run').value) setClassNames(classNames.get(id));
}

/** Keeps the model chooser in step with the list: runs with a model, newest first. */
export function updateDrawRuns() {
  const select = $('#draw-run');
  const withModel = state.runs.filter((r) => r.has_model);
  const current = select.value;
  const text = (r) => `${r.id}${r.name && r.name !== r.id ? ` (${r.name})` : ''} \u2014 ${fmtPct(r.final_test_accuracy)}${r.status !== 'finished' ? `, ${r.status}` : ''}`;
  const existing = Array.from(select.options).filter((o) => o.value).map((o) => o.value);
  const ids = withModel.map((r) => r.id);
  if (existing.join('\n') !== ids.join('\n')) {
    select.replaceChildren();
    if (!withModel.length) {
      const none = el('option', '', 'no trained model yet');
      none.value = '';
      none.disabled = true;
      select.append(none);
    }
    for (const r of withModel) {
      const option = el('option', '', text(r));
      option.value = r.id;
      select.append(option);
    }
    let choice = ids.includes(current) ? current : '';
    if (!choice && withModel.length) {
      const newestFinished = withModel.find((r) => r.status === 'finished');
      choice = (newestFinished || withModel[0]).id;
    }
    select.value = choice;
    if (choice !== current) {
      loadClassNames(choice);
      if (current) predictAgain();
    }
  } else {
    withModel.forEach((r, i) => {
      const option = select.options[i];
      const t = text(r);
      if (option && option.textContent !== t) option.textContent = t;
    });
  }
}
