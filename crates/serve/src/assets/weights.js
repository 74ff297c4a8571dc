// The model's pictures: each class's 784 weights as a 28x28 template on one diverging colour
// scale, with the scale's bar. Serve's run view and the browser build's page (redrawn as it
// trains). Expects #weights, #weights-bar, #weights-min, #weights-max and #weights-scale.

import { $, el, fmtSmall } from './common.js';
import { diverging, maxAbs, paint28 } from './charts.js';

/** Paints `data` (`weights`: ten templates; `classes` and `bias` when known). */
export function renderWeights(data) {
  const container = $('#weights');
  // The same ten pictures are repainted in place (the browser build redraws them as it trains).
  let figures = [...container.querySelectorAll('figure')];
  if (figures.length !== data.weights.length) {
    figures = data.weights.map(() => {
      const canvas = el('canvas', 'pixelated');
      canvas.width = 28;
      canvas.height = 28;
      const figure = el('figure');
      figure.append(canvas, el('figcaption'));
      return figure;
    });
    container.replaceChildren(...figures);
  }
  const max = maxAbs(data.weights.flat()) || 1;
  data.weights.forEach((w, k) => {
    const canvas = figures[k].querySelector('canvas');
    paint28(canvas, w, (v) => diverging(v / max));
    const name = (data.classes && data.classes[k]) || String(k);
    canvas.setAttribute('aria-label', `Weights of class ${name}`);
    const caption = figures[k].querySelector('figcaption');
    caption.replaceChildren(name);
    if (data.bias && Number.isFinite(data.bias[k])) caption.append(el('span', '', `bias ${fmtSmall(data.bias[k])}`));
  });
  const bar = $('#weights-bar');
  const ctx = bar.getContext('2d');
  const image = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    const c = diverging((i / 255) * 2 - 1);
    image.data.set([c[0], c[1], c[2], 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
  $('#weights-min').textContent = fmtSmall(-max);
  $('#weights-max').textContent = `+${fmtSmall(max)}`;
  $('#weights-scale').hidden = false;
}
