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

function setRunning(running) {
  state.running = running;
  $('train').disabled = running;
  $('stop').disabled = !running;
  $('config').readOnly = running;
}

worker.onmessage = ({ data }) => {
  switch (data.kind) {
    case 'ready':
      $('status').textContent = 'ready';
      $('train').disabled = false;
      break;
    case 'started':
      $('backend').textContent = `backend: ${data.backend}`;
      $('status').textContent = `training ${data.epochs} epochs on ${data.train} images` +
        (state.overrides.length ? ` (set in the address: ${state.overrides.join(' ')})` : '');
      break;
    case 'epoch':
      addEpoch(data.report);
      $('speed').textContent = `${Math.round(data.steps_per_second)} steps/s`;
      break;
    case 'finished':
      setRunning(false);
      $('status').textContent = data.stopped ? `stopped after epoch ${data.epochs}` : `finished ${data.epochs} epochs`;
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

const config = await fetch('default.toml');
$('config').value = await config.text();
worker.postMessage({ kind: 'load' });
