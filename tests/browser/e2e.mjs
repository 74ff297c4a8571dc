// End-to-end check of the `mnist-burn serve` page in headless Chromium, driven by
// tests/serve.rs. It prints ONE line of JSON on stdout and exits 0, or prints a one-line
// reason on stderr and exits 1. Every wait is bounded.
//
// Environment:
//   SERVE_URL       http://127.0.0.1:PORT (the server, already running)
//   CHROMIUM        path of the Chromium binary (playwright-core downloads none)
//   LIVE_COMMAND    JSON array: argv of a training command to spawn while the page is open
//   LIVE_RUN_ID     the id that run gets in the runs table
//   UPLOAD_IMAGE    path of a picture to upload through #file-input
//   SCREENSHOT_DIR  optional: writes runs.png, run.png and draw.png there (1280x900 viewport)
//
// Output: {"runs": [ids], "live_epochs": [distinct epochs values seen],
//          "bar": {"shown", "input": [784]}, "loop": {...}, "upload": {"shown"},
//          "train_view": the Train view's epoch report, or "absent" (no browser build)}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const OVERALL_LIMIT_MS = 300_000;

let step = 'start';
let browser = null;
let child = null;
let childExit = null;
const pageErrors = [];

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function oneLine(text) {
  return String(text).replace(/\s+/g, ' ').trim().slice(0, 2000);
}

function killChild() {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL');
    } catch (_) {
      /* already gone */
    }
  }
}

async function finish(code, line) {
  killChild();
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
  if (code === 0) process.stdout.write(`${line}\n`);
  else process.stderr.write(`e2e: ${oneLine(line)}\n`);
  process.exit(code);
}

const watchdog = setTimeout(() => {
  finish(1, `${step}: gave up after ${OVERALL_LIMIT_MS / 1000} s in all`);
}, OVERALL_LIMIT_MS);
watchdog.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cssString = (text) => JSON.stringify(String(text)); // a CSS string literal for [attr=...]

/** Fails if the page threw or the browser refused something under the CSP. */
function checkPageHealth() {
  if (pageErrors.length) throw new Error(`the page reported: ${pageErrors[0]}`);
}

async function main() {
  const serveUrl = env('SERVE_URL').replace(/\/+$/, '');
  const executablePath = env('CHROMIUM');
  const liveCommand = JSON.parse(env('LIVE_COMMAND'));
  if (!Array.isArray(liveCommand) || !liveCommand.length || !liveCommand.every((a) => typeof a === 'string')) {
    throw new Error('LIVE_COMMAND must be a JSON array of strings');
  }
  const liveRunId = env('LIVE_RUN_ID');
  const uploadImage = env('UPLOAD_IMAGE');
  if (!fs.existsSync(uploadImage)) throw new Error(`UPLOAD_IMAGE ${uploadImage} does not exist`);
  const shotDir = process.env.SCREENSHOT_DIR || '';
  if (shotDir) fs.mkdirSync(shotDir, { recursive: true });

  step = 'launching Chromium';
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--headless=new'],
    timeout: 60_000,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (error) => pageErrors.push(oneLine(error.message)));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      pageErrors.push(oneLine(message.text()));
    }
  });

  // Every /predict request and response the page makes, in order.
  const predictRequests = [];
  const predictResponses = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/predict')) predictRequests.push(request);
  });
  page.on('response', (response) => {
    const request = response.request();
    if (request.method() === 'POST' && new URL(response.url()).pathname.endsWith('/predict')) {
      // Read the body at once: Chromium may drop it from its cache later.
      const body = response.text().then((text) => ({ text }), (error) => ({ error: error.message }));
      predictResponses.push({ response, body });
    }
  });

  const predictFailures = [];
  page.on('requestfailed', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/predict')) {
      predictFailures.push((request.failure() || {}).errorText || 'failed');
    }
  });

  // (a) the runs in the table
  step = 'opening the page';
  const response = await page.goto(`${serveUrl}/#runs`, { waitUntil: 'load', timeout: 30_000 });
  if (!response || !response.ok()) throw new Error(`GET / answered ${response ? response.status() : 'nothing'}`);
  step = 'waiting for the runs table';
  await page.waitForFunction(() => document.querySelectorAll('#runs-table tbody tr[data-run-id]').length > 0, null, { timeout: 20_000 });
  const runs = await page.$$eval('#runs-table tbody tr[data-run-id]', (trs) => trs.map((tr) => tr.dataset.runId));
  // Runs with at least one epoch, in table order: what the drawing and the screenshots use (an
  // imported model has no curves to wait for).
  const trained = await page.$$eval('#runs-table tbody tr[data-run-id]', (trs) =>
    trs.filter((tr) => Number((tr.querySelector('td[data-col="epochs"]') || {}).dataset?.value || '0') > 0).map((tr) => tr.dataset.runId),
  );
  checkPageHealth();

  // (b) a run started now appears and advances without a reload
  step = 'live run';
  await page.evaluate(() => {
    window.__e2eNoReload = true;
  });
  child = spawn(liveCommand[0], liveCommand.slice(1), { stdio: 'ignore' });
  child.on('exit', (code, signal) => {
    childExit = signal ? `signal ${signal}` : `status ${code}`;
  });
  child.on('error', (error) => {
    childExit = `could not start: ${error.message}`;
  });
  step = `waiting for the row of ${liveRunId}`;
  const rowDeadline = Date.now() + 60_000;
  for (;;) {
    const present = await page.evaluate(
      (id) => Array.from(document.querySelectorAll('#runs-table tbody tr[data-run-id]')).some((tr) => tr.dataset.runId === id),
      liveRunId,
    );
    if (present) break;
    if (childExit && childExit.startsWith('could not start')) throw new Error(`the training command ${childExit}`);
    if (Date.now() > rowDeadline) {
      throw new Error(`no row for ${liveRunId} within 60 s (training command: ${childExit ? `ended with ${childExit}` : 'still running'})`);
    }
    await sleep(100);
  }
  step = `watching the epochs of ${liveRunId}`;
  const liveEpochs = [];
  const epochsDeadline = Date.now() + 90_000;
  while (liveEpochs.length < 3) {
    if (Date.now() > epochsDeadline) {
      throw new Error(`saw only epochs values ${JSON.stringify(liveEpochs)} in 90 s (training command: ${childExit ? `ended with ${childExit}` : 'still running'})`);
    }
    const value = await page.evaluate((id) => {
      const tr = Array.from(document.querySelectorAll('#runs-table tbody tr[data-run-id]')).find((row) => row.dataset.runId === id);
      const td = tr && tr.querySelector('td[data-col="epochs"]');
      return td ? td.dataset.value : null;
    }, liveRunId);
    if (value !== null && value !== undefined && value !== '' && !liveEpochs.includes(Number(value))) {
      liveEpochs.push(Number(value));
    }
    await sleep(100);
  }
  if (!(await page.evaluate(() => window.__e2eNoReload === true))) throw new Error('the page reloaded while watching the live run');
  checkPageHealth();

  // (c) drawing
  step = 'opening the draw view';
  await page.click('a[href="#draw"]');
  await page.waitForSelector('#draw-canvas', { state: 'visible', timeout: 10_000 });
  await page.waitForFunction(() => document.querySelectorAll('#draw-run option[value]:not([value=""])').length > 0, null, { timeout: 20_000 });
  const options = await page.$$eval('#draw-run option', (os) => os.map((o) => o.value).filter(Boolean));
  const runId = trained.find((id) => options.includes(id));
  if (!runId) throw new Error(`none of the trained runs ${JSON.stringify(trained)} is offered in #draw-run (${JSON.stringify(options)})`);
  await page.selectOption('#draw-run', runId);

  const box = await page.locator('#draw-canvas').boundingBox();
  if (!box) throw new Error('#draw-canvas has no box');
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;

  const predictionCount = () => page.evaluate(() => Number(document.body.dataset.predictions || '0'));

  /** Waits for a new rendered prediction, no request left, and returns the last response. */
  async function settle(before, what) {
    step = `waiting for the prediction of the ${what}`;
    await page.waitForFunction(
      (b) => Number(document.body.dataset.predictions || '0') > b && document.body.dataset.predicting !== '1',
      before,
      { timeout: 30_000, polling: 50 },
    );
    // Every request the page made has its response recorded here.
    const deadline = Date.now() + 10_000;
    while (predictResponses.length < predictRequests.length) {
      if (predictFailures.length) throw new Error(`a /predict request failed: ${predictFailures[0]}`);
      if (Date.now() > deadline) throw new Error(`${predictRequests.length - predictResponses.length} /predict request(s) got no response`);
      await sleep(20);
    }
    const last = predictResponses[predictResponses.length - 1];
    if (!last) throw new Error('no /predict response');
    const body = await last.body;
    if (body.error) throw new Error(`cannot read the last /predict response: ${body.error}`);
    if (!last.response.ok()) throw new Error(`/predict answered ${last.response.status()}: ${oneLine(body.text)}`);
    const json = JSON.parse(body.text);
    const shown = ((await page.textContent('#draw-class')) || '').trim();
    if (shown !== String(json.label)) throw new Error(`#draw-class shows ${JSON.stringify(shown)} but the last response says ${JSON.stringify(json.label)}`);
    if (!Array.isArray(json.input) || json.input.length !== 784) throw new Error('the last response has no 784-pixel input');
    return { shown, input: json.input };
  }

  step = 'drawing a vertical bar';
  let before = await predictionCount();
  await page.mouse.move(cx, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(cx, box.y + box.height * 0.8, { steps: 24 });
  await page.mouse.up();
  const bar = await settle(before, 'bar');

  step = 'clearing';
  await page.click('#draw-clear');
  await page.waitForFunction(() => (document.querySelector('#draw-class').textContent || '').trim() === '', null, { timeout: 5_000 });

  step = 'drawing a loop';
  before = await predictionCount();
  const radius = box.width * 0.28;
  const points = 30;
  const at = (i) => [cx + radius * Math.sin((2 * Math.PI * i) / points), cy - radius * 1.1 * Math.cos((2 * Math.PI * i) / points)];
  await page.mouse.move(...at(0));
  await page.mouse.down();
  for (let i = 1; i <= points; i++) await page.mouse.move(...at(i), { steps: 2 });
  await page.mouse.up();
  const loop = await settle(before, 'loop');
  checkPageHealth();
  if (shotDir) {
    step = 'screenshot of the draw view';
    await page.screenshot({ path: path.join(shotDir, 'draw.png') });
  }

  // (d) an uploaded picture
  step = 'uploading an image';
  before = await predictionCount();
  await page.setInputFiles('#file-input', uploadImage);
  const uploaded = await settle(before, 'uploaded image');
  const upload = { shown: uploaded.shown, input: uploaded.input };
  checkPageHealth();

  // (e) screenshots of the runs view (first run's curves) and of the first run
  if (shotDir) {
    step = 'screenshot of the runs view';
    await page.click('a[href="#runs"]');
    const checkbox = page.locator(`#runs-table tr[data-run-id=${cssString(runId)}] input[type="checkbox"]`);
    await checkbox.check({ timeout: 10_000 });
    await page.waitForFunction(() => Number((document.querySelector('#cmp-acc') || {}).dataset?.points || '0') > 0, null, { timeout: 20_000 });
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(shotDir, 'runs.png'), fullPage: true });

    step = 'screenshot of the run view';
    await page.click(`#runs-table tr[data-run-id=${cssString(runId)}] td[data-col="name"] a`);
    await page.waitForFunction(() => document.querySelectorAll('#confusion tbody tr').length === 10, null, { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelectorAll('#weights canvas').length === 10, null, { timeout: 20_000 });
    await page.screenshot({ path: path.join(shotDir, 'run.png'), fullPage: true });
    checkPageHealth();
  }

  // (f) the Train tab: the browser build under /train/, where the server has one (its
  // WebAssembly must compile under the page's policy); a short run in it.
  step = 'the Train view';
  const trainHref = await page.getAttribute('a[data-tab="train"]', 'href');
  const query = ['epochs=1', 'data.train_limit=2000', 'data.validation=0', 'data.test_limit=500'].map((set) => `set=${set}`).join('&');
  const trainPage = await page.goto(`${env('SERVE_URL')}${trainHref}?${query}`, { timeout: 30_000 });
  let trainView = 'absent';
  if (trainPage.status() === 200) {
    await page.waitForSelector('#train:not([disabled])', { timeout: 60_000 });
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset.finished || !document.getElementById('error').hidden, null, { timeout: 60_000 });
    const error = await page.$eval('#error', (node) => (node.hidden ? '' : node.textContent));
    if (error) throw new Error(`the Train view says: ${error}`);
    trainView = await page.$eval('#epochs tbody tr', (row) => JSON.parse(row.dataset.report));
    checkPageHealth();
  }

  step = 'done';
  return JSON.stringify({ runs, drawn_on: runId, live_epochs: liveEpochs, bar, loop, upload, train_view: trainView });
}

main().then(
  (line) => finish(0, line),
  (error) => finish(1, `${step}: ${error && error.message ? error.message : error}`),
);
