// The browser build (`just web`) in headless Chromium, driven by tests/web.rs: opens the
// static folder at WEB_URL with the config's overrides in the query, trains, stops once the
// first epoch is in and continues; then draws a digit on the canvas for the trained model and
// downloads the model. Prints ONE line of JSON on stdout ({"epochs": [reports], "stopped_at",
// "last_step", "max_frame_gap_ms", "backend", "notice", "drawn": {"class", "probabilities"},
// "dropped": [{"class", "input"}] for the DROP_FILES}), or a one-line reason on stderr and exit
// 1. Every wait is bounded.
//
// With BACKEND=wgpu it asks for WebGPU: WEBGPU=required prints {"skipped": reason} instead
// where the browser offers no adapter (or the page falls back to the CPU), WEBGPU=absent
// where it does offer one (the page's fallback to the CPU cannot be seen there).
//
// Environment: WEB_URL (the folder, served), CHROMIUM (its binary), CHROMIUM_ARGS (JSON array,
// optional), BACKEND (flex or wgpu; flex when unset), OVERRIDES (JSON array of
// `key=value`), LIMIT_S (how long training may take), OUT_DIR (where the drawing goes as
// drawn.png, and the downloads: model.safetensors, config.toml), SCREENSHOT_DIR (optional:
// writes train.png there, 1280x900, once the second epoch is in, while training goes on, and
// train-draw.png of the draw canvas with the trained model's answer), DROP_FILES (optional: a
// JSON array of picture files to drop on the canvas once trained).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set`);
  return process.env[name];
};
const limit = Number(process.env.LIMIT_S || 240) * 1000;
let browser = null;
const fail = async (message) => {
  process.stderr.write(`train: ${String(message).replace(/\s+/g, ' ').slice(0, 2000)}\n`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
};
setTimeout(() => fail(`gave up after ${limit / 1000 + 60} s`), limit + 60_000).unref();

try {
  const args = ['--no-sandbox', ...JSON.parse(process.env.CHROMIUM_ARGS || '[]')];
  browser = await chromium.launch({ executablePath: env('CHROMIUM'), args });
  const backend = process.env.BACKEND || 'flex';
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  const query = JSON.parse(env('OVERRIDES')).map((o) => `set=${encodeURIComponent(o)}`).join('&');
  await page.goto(`${env('WEB_URL')}/?${query}&backend=${backend}`, { timeout: 30_000 });
  await page.waitForSelector('#train:not([disabled])', { timeout: 60_000 });
  const skip = async (reason) => {
    await browser.close();
    process.stdout.write(`${JSON.stringify({ skipped: reason })}\n`);
    process.exit(0);
  };
  if (backend === 'wgpu') {
    const adapter = await page.evaluate(async () => {
      const found = navigator.gpu && await navigator.gpu.requestAdapter();
      return found ? `${found.info?.vendor} ${found.info?.architecture}` : null;
    });
    if (!adapter && process.env.WEBGPU === 'required') await skip(`this Chromium offers no WebGPU adapter (flags: ${args.join(' ')})`);
    if (adapter && process.env.WEBGPU === 'absent') await skip(`this Chromium offers a WebGPU adapter (${adapter})`);
  }
  // The longest gap between two animation frames while training: a frozen page shows here.
  await page.evaluate(() => {
    window.maxFrameGap = 0;
    let last = performance.now();
    const tick = (now) => {
      window.maxFrameGap = Math.max(window.maxFrameGap, now - last);
      last = now;
      if (!document.body.dataset.finished) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.click('#train');
  if (backend === 'wgpu') {
    await page.waitForFunction(() => document.getElementById('backend').textContent || !document.getElementById('error').hidden,
      null, { timeout: 60_000 });
    const notice = await page.$eval('#notice', (node) => (node.hidden ? '' : node.textContent));
    if (notice && process.env.WEBGPU === 'required') await skip(`the page says: ${notice}`);
  }
  // Stop at the first steps the page reports, then continue: the run must go on exactly where
  // it was. (Stopping only once an epoch's row is shown could come after the last epoch of a
  // short run on a fast machine, and a finished run does not stop.)
  await page.waitForFunction(() => document.getElementById('where').textContent.startsWith('epoch 1, step'),
    null, { timeout: limit });
  await page.click('#stop');
  await page.waitForFunction(() => document.body.dataset.stopped, null, { timeout: 60_000 });
  const stoppedAt = await page.evaluate(() => document.body.dataset.stopped);
  await page.click('#continue');
  if (process.env.SCREENSHOT_DIR) {
    await page.waitForSelector('#epochs tbody tr:nth-child(2)', { timeout: limit });
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/train.png` });
  }
  await page.waitForFunction(() => document.body.dataset.finished || !document.getElementById('error').hidden,
    null, { timeout: limit, polling: 500 });
  const error = await page.$eval('#error', (node) => (node.hidden ? '' : node.textContent));
  if (error) await fail(`the page says: ${error}`);
  if (errors.length) await fail(`page errors: ${errors.join('; ')}`);

  // The trained model answers a drawn loop, and downloads.
  const out = env('OUT_DIR');
  await page.locator('#draw-canvas').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw-canvas').boundingBox();
  const points = 30;
  const at = (i) => [box.x + box.width * (0.5 + 0.25 * Math.sin((2 * Math.PI * i) / points)),
    box.y + box.height * (0.5 - 0.3 * Math.cos((2 * Math.PI * i) / points))];
  await page.mouse.move(...at(0));
  await page.mouse.down();
  for (let i = 1; i <= points; i++) await page.mouse.move(...at(i), { steps: 2 });
  await page.mouse.up();
  await page.waitForFunction(() => Number(document.body.dataset.predictions) > 0 && document.body.dataset.predicting === '0',
    null, { timeout: 30_000 });
  const png = await page.$eval('#draw-canvas', (canvas) => canvas.toDataURL('image/png'));
  writeFileSync(path.join(out, 'drawn.png'), Buffer.from(png.split(',')[1], 'base64'));
  const drawn = await page.$eval('#draw-class', (node) => ({
    class: Number(node.textContent), probabilities: JSON.parse(node.dataset.probabilities),
  }));
  if (process.env.SCREENSHOT_DIR) {
    await page.waitForTimeout(400); // the bars' transition
    await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/train-draw.png` });
  }
  // Files dropped on the canvas (chosen through its file input, as a drop hands them over):
  // the 28x28 picture the model was given for each.
  const dropped = [];
  for (const file of JSON.parse(process.env.DROP_FILES || '[]')) {
    const before = Number(await page.evaluate(() => document.body.dataset.predictions));
    await page.setInputFiles('#file-input', file);
    await page.waitForFunction((count) => Number(document.body.dataset.predictions) > count
      && document.body.dataset.predicting === '0', before, { timeout: 30_000 });
    dropped.push(await page.$eval('#draw-class', (node) => ({
      class: Number(node.textContent), input: JSON.parse(node.dataset.input),
    })));
  }
  const downloads = [];
  page.on('download', (download) => downloads.push(download));
  await page.click('#download');
  const deadline = Date.now() + 30_000;
  while (downloads.length < 2 && Date.now() < deadline) await page.waitForTimeout(100);
  if (downloads.length < 2) await fail(`${downloads.length} of the 2 downloads came`);
  for (const download of downloads) await download.saveAs(path.join(out, download.suggestedFilename()));

  const shown = await page.evaluate(() => ({
    epochs: [...document.querySelectorAll('#epochs tbody tr')].map((row) => JSON.parse(row.dataset.report)),
    last_step: document.getElementById('where').textContent,
    max_frame_gap_ms: window.maxFrameGap,
    backend: document.getElementById('backend').textContent,
    notice: document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent,
  }));
  await browser.close();
  process.stdout.write(`${JSON.stringify({ ...shown, stopped_at: stoppedAt, drawn, dropped })}\n`);
  process.exit(0);
} catch (error) {
  await fail(error?.stack || error);
}
