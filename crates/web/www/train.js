// The page's side: the config editor, the buttons and the epochs table. Training runs in
// worker.js, so the page stays responsive; it posts one message per epoch.
const $ = (id) => document.getElementById(id);
const worker = new Worker('worker.js', { type: 'module' });
const state = { running: false, overrides: new URLSearchParams(location.search).getAll('set') };

function show(message) {
  $('error').hidden = !message;
  $('error').textContent = message || '';
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
  state.running = running;
  $('train').disabled = running;
  $('stop').disabled = !running;
  $('continue').disabled = running || !resumable;
  $('config').readOnly = running;
}

// The training loss of every few steps, over the whole run.
function drawCurve() {
  const canvas = $('curve');
  const context = canvas.getContext('2d');
  context.clearRect(0, 0, canvas.width, canvas.height);
  const points = state.losses;
  if (points.length < 2) return;
  const top = Math.max(...points.map((p) => p.loss));
  const last = state.stepsPerEpoch * state.epochs;
  context.strokeStyle = '#2e6bd6';
  context.lineWidth = 1.5;
  context.beginPath();
  points.forEach((p, i) => {
    const x = (p.at / last) * (canvas.width - 10) + 5;
    const y = canvas.height - 5 - (p.loss / top) * (canvas.height - 10);
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
}

worker.onmessage = ({ data }) => {
  switch (data.kind) {
    case 'ready':
      $('status').textContent = 'ready';
      $('train').disabled = false;
      break;
    case 'started':
      Object.assign(state, { losses: [], epochs: data.epochs, stepsPerEpoch: data.steps_per_epoch });
      $('backend').textContent = `backend: ${data.backend}`;
      $('status').textContent = `training ${data.epochs} epochs on ${data.train} images` +
        (state.overrides.length ? ` (set in the address: ${state.overrides.join(' ')})` : '');
      break;
    case 'steps':
      state.losses.push({ at: (data.epoch - 1) * state.stepsPerEpoch + data.step, loss: data.loss });
      drawCurve();
      $('speed').textContent = `${Math.round(data.steps_per_second)} steps/s`;
      $('where').textContent = `epoch ${data.epoch}, step ${data.step} of ${state.stepsPerEpoch}: loss ${data.loss.toFixed(4)}`;
      break;
    case 'epoch':
      addEpoch(data.report);
      break;
    case 'stopped':
      setRunning(false, true);
      $('status').textContent = 'stopped; Continue goes on from here';
      document.body.dataset.stopped = $('where').textContent;
      break;
    case 'finished':
      setRunning(false);
      $('status').textContent = `finished ${data.epochs} epochs`;
      document.body.dataset.finished = String(data.epochs);
      break;
    case 'error':
      setRunning(false);
      $('status').textContent = 'failed';
      show(data.message);
      break;
  }
};

$('train').addEventListener('click', () => {
  show('');
  $('epochs').tBodies[0].replaceChildren();
  delete document.body.dataset.finished;
  setRunning(true);
  worker.postMessage({ kind: 'train', config: $('config').value, overrides: state.overrides });
});
$('stop').addEventListener('click', () => worker.postMessage({ kind: 'stop' }));
$('continue').addEventListener('click', () => {
  setRunning(true);
  $('status').textContent = 'training on from where it stopped';
  worker.postMessage({ kind: 'continue' });
});

const config = await fetch('default.toml');
$('config').value = await config.text();
worker.postMessage({ kind: 'load' });
