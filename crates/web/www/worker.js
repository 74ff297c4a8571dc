// Trains in a Web Worker: fetches the four MNIST files (gzipped, beside the page), hands
// them to the WebAssembly build, which checks their SHA-256, and trains a few steps per call,
// posting the loss, the accuracy and the weight templates as it goes, and each epoch's
// numbers. "stop" takes effect after the steps in progress (a few hundredths of a second);
// "continue" goes on exactly where it stopped. Between calls it answers the page's
// predictions and downloads with the model as it stands.
import init, { Trainer } from './mnist_web.js';

const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
// Steps per call: small enough to stop promptly and draw the curves within an epoch.
const STEPS = 50;
let files = null;
let trainer = null;
let stopRequested = false;
// Seconds spent training the epoch in progress (a stop's pause not counted).
let epochSeconds = 0;
// The weight templates go to the page at most this often (ms), and after each epoch.
const TEMPLATES_EVERY = 250;
let templatesSent = 0;
// The trainer's call in progress (an await on WebGPU): other calls wait for it.
let busy = Promise.resolve();

function exclusive(work) {
  const next = busy.then(work);
  busy = next.catch(() => {});
  return next;
}

async function gunzipped(name) {
  const response = await fetch(`mnist/${name}.gz`);
  if (!response.ok) throw new Error(`mnist/${name}.gz: ${response.status} ${response.statusText}`);
  const stream = response.body.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function load() {
  await init();
  files = await Promise.all(FILES.map(gunzipped));
  postMessage({ kind: 'ready' });
}

// Lets the page's messages in between two calls.
const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

// Trains until the run's last epoch, or a stop.
async function run() {
  stopRequested = false;
  const epochs = trainer.epochs();
  for (;;) {
    if (stopRequested) {
      postMessage({ kind: 'stopped' });
      return;
    }
    const started = performance.now();
    const update = JSON.parse(await exclusive(() => trainer.steps(STEPS)));
    const seconds = (performance.now() - started) / 1000;
    epochSeconds += seconds;
    const fresh = update.report || performance.now() - templatesSent > TEMPLATES_EVERY;
    if (fresh) templatesSent = performance.now();
    postMessage({
      kind: 'steps', ...update, steps_per_second: STEPS / seconds,
      templates: fresh ? JSON.parse(await exclusive(() => trainer.templates())) : undefined,
    });
    if (update.report) {
      postMessage({ kind: 'epoch', report: { ...update.report, seconds: epochSeconds } });
      epochSeconds = 0;
      if (update.report.epoch === epochs) {
        postMessage({ kind: 'finished', epochs });
        return;
      }
    }
    await yieldToMessages();
  }
}

async function train({ config, overrides, backend }) {
  await busy;
  trainer?.free();
  trainer = null;
  trainer = await Trainer.create('config.toml', config, overrides.join('\n'), backend, ...files);
  epochSeconds = 0;
  postMessage({
    kind: 'started', backend: trainer.backend(), notice: trainer.notice(), epochs: trainer.epochs(),
    train: trainer.train_items(), steps_per_epoch: trainer.steps_per_epoch(),
  });
  return run();
}

// Requests that carry an id get their answer under the same id.
const answers = {
  predict: ({ rgba, width, height }) => exclusive(async () => ({
    prediction: JSON.parse(await trainer.predict(new Uint8Array(rgba), width, height)),
  })),
  predict_file: ({ bytes }) => exclusive(async () => ({
    prediction: JSON.parse(await trainer.predict_file(new Uint8Array(bytes))),
  })),
  download: () => exclusive(async () => ({ safetensors: await trainer.safetensors(), config: trainer.config_toml() })),
};

onmessage = ({ data }) => {
  if (data.kind === 'stop') {
    stopRequested = true;
    return;
  }
  if (answers[data.kind]) {
    answers[data.kind](data)
      .then((answer) => postMessage({ kind: data.kind, id: data.id, ...answer }))
      .catch((error) => postMessage({ kind: 'error', id: data.id, message: String(error?.message ?? error) }));
    return;
  }
  const work = { load, train: () => train(data), continue: run }[data.kind];
  Promise.resolve()
    .then(work)
    .catch((error) => postMessage({ kind: 'error', message: String(error?.message ?? error) }));
};
