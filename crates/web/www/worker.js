// Trains in a Web Worker: fetches the four MNIST files (gzipped, beside the page), hands
// them to the WebAssembly build, which checks their SHA-256, and runs one epoch per call,
// posting each epoch's numbers. "stop" takes effect after the epoch in progress.
import init, { Trainer } from './mnist_web.js';

const FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
let files = null;
let stopRequested = false;

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

// Lets a "stop" message in between epochs.
const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

async function train({ config, overrides }) {
  stopRequested = false;
  const trainer = new Trainer('config.toml', config, overrides.join('\n'), ...files);
  postMessage({ kind: 'started', backend: trainer.backend(), epochs: trainer.epochs(), train: trainer.train_items() });
  const epochs = trainer.epochs();
  let done = 0;
  while (done < epochs && !stopRequested) {
    const started = performance.now();
    const report = JSON.parse(trainer.epoch());
    const seconds = (performance.now() - started) / 1000;
    done = report.epoch;
    postMessage({ kind: 'epoch', report: { ...report, seconds }, steps_per_second: trainer.steps_per_epoch() / seconds });
    await yieldToMessages();
  }
  trainer.free();
  postMessage({ kind: 'finished', epochs: done, stopped: done < epochs });
}

onmessage = ({ data }) => {
  const work = data.kind === 'load' ? load() : data.kind === 'train' ? train(data) : null;
  if (data.kind === 'stop') stopRequested = true;
  work?.catch((error) => postMessage({ kind: 'error', message: String(error?.message ?? error) }));
};
