// Digits drawn by hand on serve's Draw view in headless Chromium: each digit 0-9 as mouse
// strokes (the way a person draws it: one or two strokes, pen down to pen up), in five
// variants (size, place, slant, speed), read by the page through serve's /predict. Prints
// the accuracy and each answer; writes drawn.png, the view after the last digit.
//
//   node bench/robustness/drawn.mjs URL RUN_ID [OUT_DIR]    (needs `just browser-tools`)
//
// URL: a running `mnist-burn serve`; RUN_ID: a run with a model in its list; CHROMIUM: the
// browser (default /usr/bin/chromium).

import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.resolve('tests/browser/package.json'));
const { chromium } = require('playwright-core');

const [url, runId, out = '.'] = process.argv.slice(2);
if (!url || !runId) {
  console.error('usage: node bench/robustness/drawn.mjs URL RUN_ID [OUT_DIR]');
  process.exit(2);
}

const circle = (cx, cy, rx, ry, from, to, n = 28) =>
  Array.from({ length: n + 1 }, (_, i) => {
    const t = from + ((to - from) * i) / n;
    return [cx + rx * Math.sin(t), cy - ry * Math.cos(t)];
  });

// Strokes in a unit square (x right, y down), as a person writes each digit.
const DIGITS = [
  [circle(0.5, 0.5, 0.28, 0.42, -0.3, 2 * Math.PI - 0.1)],
  [[[0.42, 0.22], [0.56, 0.08], [0.54, 0.5], [0.52, 0.92]]],
  [[[0.25, 0.3], [0.35, 0.14], [0.55, 0.08], [0.72, 0.2], [0.72, 0.38], [0.55, 0.6], [0.25, 0.9], [0.8, 0.88]]],
  [[[0.25, 0.15], [0.55, 0.08], [0.72, 0.22], [0.62, 0.42], [0.42, 0.48], [0.65, 0.55], [0.76, 0.72], [0.62, 0.9], [0.25, 0.86]]],
  [[[0.55, 0.08], [0.2, 0.62], [0.82, 0.62]], [[0.62, 0.32], [0.6, 0.94]]],
  [[[0.74, 0.1], [0.34, 0.1], [0.3, 0.44], [0.52, 0.38], [0.72, 0.5], [0.74, 0.72], [0.56, 0.9], [0.24, 0.82]]],
  [[[0.66, 0.08], [0.42, 0.28], [0.28, 0.58], [0.34, 0.84], [0.54, 0.92], [0.7, 0.76], [0.64, 0.56], [0.44, 0.54], [0.3, 0.66]]],
  [[[0.2, 0.12], [0.8, 0.12], [0.62, 0.45], [0.45, 0.92]]],
  [Array.from({ length: 41 }, (_, i) => {
    const t = (2 * Math.PI * i) / 40;
    return [0.5 - 0.24 * Math.sin(2 * t) / 1.2, 0.5 - 0.42 * Math.cos(t)];
  })],
  [[...circle(0.48, 0.3, 0.22, 0.2, Math.PI / 2, 2.5 * Math.PI), [0.68, 0.55], [0.64, 0.92]]],
];

// (size as a fraction of the canvas, centre x, centre y, slant, mouse steps per segment)
const VARIANTS = [
  [0.7, 0.5, 0.5, 0, 3],
  [0.5, 0.42, 0.45, 0.15, 2],
  [0.8, 0.52, 0.52, -0.1, 4],
  [0.45, 0.6, 0.6, 0.05, 2],
  [0.6, 0.5, 0.48, 0.25, 3],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--headless=new'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}/#draw`);
  await page.waitForSelector('#draw-canvas', { state: 'visible' });
  await page.waitForFunction((id) => [...document.querySelectorAll('#draw-run option')].some((o) => o.value === id), runId);
  await page.selectOption('#draw-run', runId);
  const box = await page.locator('#draw-canvas').boundingBox();
  const answers = [];
  for (const [size, cx, cy, slant, steps] of VARIANTS) {
    for (const [digit, strokes] of DIGITS.entries()) {
      await page.click('#draw-clear');
      const before = await page.evaluate(() => Number(document.body.dataset.predictions || '0'));
      for (const stroke of strokes) {
        const at = ([x, y]) => [
          box.x + box.width * (cx + size * (x - 0.5 + slant * (0.5 - y))),
          box.y + box.height * (cy + size * (y - 0.5)),
        ];
        await page.mouse.move(...at(stroke[0]));
        await page.mouse.down();
        for (const point of stroke.slice(1)) await page.mouse.move(...at(point), { steps });
        await page.mouse.up();
      }
      await page.waitForFunction(
        (b) => Number(document.body.dataset.predictions || '0') > b && document.body.dataset.predicting !== '1',
        before,
      );
      // The answer to the finished drawing (the last request, made at pen up).
      await page.waitForTimeout(300);
      await page.waitForFunction(() => document.body.dataset.predicting !== '1');
      const read = (await page.textContent('#draw-class')).trim();
      answers.push({ digit, variant: [size, cx, cy, slant], read });
    }
  }
  await page.screenshot({ path: path.join(out, 'drawn.png') });
  const right = answers.filter((a) => a.read === String(a.digit)).length;
  for (const a of answers) if (a.read !== String(a.digit)) console.log(`drew ${a.digit} (${a.variant}), read ${a.read}`);
  console.log(`drawn digits read right: ${right} of ${answers.length} (${((100 * right) / answers.length).toFixed(1)}%)`);
} finally {
  await browser.close();
}
