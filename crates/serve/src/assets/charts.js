// mnist-burn serve: drawing on <canvas>: the line charts (axes, ticks, legend, hover
// read-out), the diverging colour map, the run palette and the 28x28 picture painter.

// Diverging colour map (ColorBrewer RdBu): -1 dark blue, 0 near white, +1 dark red.
const BLUES = [[247, 247, 247], [146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]];
const REDS = [[247, 247, 247], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];

// t in [-1, 1] (a value over the largest magnitude). A mild gamma keeps the small weights
// visible next to a few large ones; the colour bars are painted through the same mapping.
export function diverging(t) {
  const c = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const v = Math.sign(c) * Math.abs(c) ** 0.7;
  const side = v < 0 ? BLUES : REDS;
  const x = Math.abs(v) * 4;
  const i = Math.min(3, Math.floor(x));
  const f = x - i;
  const a = side[i];
  const b = side[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Paints 784 values (row-major 28x28) into a 28x28 canvas, through `colour(value)`. */
export function paint28(canvas, values, colour) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const c = colour(values[i] === undefined ? 0 : values[i]);
    image.data[i * 4] = c[0];
    image.data[i * 4 + 1] = c[1];
    image.data[i * 4 + 2] = c[2];
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

export function maxAbs(values) {
  let m = 0;
  for (const v of values) {
    const a = Math.abs(v);
    if (a > m) m = a;
  }
  return m;
}

// Run colours for the overlaid curves.
export const PALETTE = ['#2f5bea', '#e4572e', '#12a150', '#9b51e0', '#e0a100', '#0aa2c0', '#d6336c',
  '#6b7a1f', '#8c564b', '#344054'];

// ------------------------------------------------------------------------------------------
// Charts on <canvas>: axes, ticks, labels, legend, hover read-out
// ------------------------------------------------------------------------------------------

function niceStep(range, target) {
  const raw = range / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const n = raw / magnitude;
  const step = n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10;
  return step * magnitude;
}

function niceTicks(lo, hi, target) {
  const step = niceStep(hi - lo, target);
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = start; v <= end + step * 1e-6; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9) + (String(step / 10 ** Math.floor(Math.log10(step))).includes('.') ? 1 : 0)));
  return { ticks, lo: start, hi: end, decimals };
}

const CHART_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/**
 * Draws a line chart. spec: { series: [{label, color, dash, points: [[x, y]], legend}],
 * extraLegend: [{label, color, dash}], yLabel, xLabel, yUnit, yMin, yMax, empty }.
 * Remembers the spec on the canvas so hovering can redraw it with a read-out.
 */
export function drawChart(canvas, spec) {
  canvas._spec = spec;
  if (!canvas._hoverBound) {
    canvas._hoverBound = true;
    canvas.addEventListener('pointermove', (event) => {
      const rect = canvas.getBoundingClientRect();
      canvas._hover = event.clientX - rect.left;
      renderChart(canvas);
    });
    canvas.addEventListener('pointerleave', () => {
      canvas._hover = null;
      renderChart(canvas);
    });
  }
  renderChart(canvas);
}

function renderChart(canvas) {
  const spec = canvas._spec;
  if (!spec) return;
  const W = canvas.clientWidth;
  const H = canvas.clientHeight;
  if (!W || !H) return; // hidden: drawn again when shown
  const dpr = window.devicePixelRatio || 1;
  const pw = Math.round(W * dpr);
  const ph = Math.round(H * dpr);
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = CHART_FONT;
  ctx.textBaseline = 'middle';

  const series = spec.series || [];
  const R = W - 16;
  const points = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1])));
  canvas.dataset.points = String(points.length); // how many points are drawn (tests wait on it)

  // Domains: x = epochs (integers from 1), y = data range padded to nice ticks.
  let xmin = 1;
  let xmax = 2;
  let ymin = 0;
  let ymax = 1;
  if (points.length) {
    xmin = Math.min(1, ...points.map((p) => p[0]));
    xmax = Math.max(...points.map((p) => p[0]));
    if (xmax <= xmin) xmax = xmin + 1;
    ymin = Math.min(...points.map((p) => p[1]));
    ymax = Math.max(...points.map((p) => p[1]));
    const span = ymax - ymin;
    const padY = span > 0 ? span * 0.08 : Math.abs(ymax) * 0.02 || 1;
    ymin -= padY;
    ymax += padY;
    if (spec.yMin !== undefined) ymin = Math.max(ymin, spec.yMin);
    if (spec.yMax !== undefined) ymax = Math.min(ymax, spec.yMax);
    if (ymax <= ymin) ymax = ymin + 1;
  }
  const tickLabel = (v, ticks) => v.toFixed(ticks.decimals) + (spec.yUnit || '');
  const labelsWidth = (ticks) => Math.max(...ticks.ticks.map((v) => ctx.measureText(tickLabel(v, ticks)).width));
  // The left margin fits the y-axis title and the widest tick label.
  let yt = niceTicks(ymin, ymax, Math.max(3, Math.floor((H - 90) / 42)));
  let L = Math.round(Math.max(46, (spec.yLabel ? 24 : 6) + labelsWidth(yt) + 10));

  // Legend first: it wraps onto as many rows as it needs above the plot.
  const items = series.filter((s) => s.legend !== false)
    .map((s) => ({ label: s.label, color: s.color, dash: s.dash }))
    .concat(spec.extraLegend || []);
  const placed = [];
  let lx = L;
  let ly = 10;
  for (const item of items) {
    const w = 26 + ctx.measureText(item.label).width + 16;
    if (lx + w > R && lx > L) {
      lx = L;
      ly += 18;
    }
    placed.push({ item, x: lx, y: ly });
    lx += w;
  }
  const legendBottom = items.length ? ly + 12 : 0;
  const T = legendBottom + 10;
  const B = H - 42;

  // Legend
  for (const { item, x, y } of placed) {
    ctx.strokeStyle = item.color;
    ctx.lineWidth = 2.5;
    ctx.setLineDash(item.dash || []);
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + 20, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#344054';
    ctx.textAlign = 'left';
    ctx.fillText(item.label, x + 26, y);
  }

  if (B - T < 30) return;

  if (!points.length) {
    ctx.strokeStyle = '#e3e6ec';
    ctx.lineWidth = 1;
    ctx.strokeRect(L + 0.5, T + 0.5, R - L, B - T);
    ctx.fillStyle = '#98a2b3';
    ctx.textAlign = 'center';
    ctx.fillText(spec.empty || 'No epochs yet', (L + R) / 2, (T + B) / 2);
    return;
  }

  yt = niceTicks(ymin, ymax, Math.max(3, Math.floor((B - T) / 42)));
  L = Math.round(Math.max(L, (spec.yLabel ? 24 : 6) + labelsWidth(yt) + 10));
  ymin = yt.lo;
  ymax = yt.hi;
  const xStep = Math.max(1, Math.round(niceStep(xmax - xmin, Math.max(2, Math.floor((R - L) / 64)))));
  const sx = (x) => L + ((x - xmin) / (xmax - xmin)) * (R - L);
  const sy = (y) => B - ((y - ymin) / (ymax - ymin)) * (B - T);

  // Grid and ticks
  ctx.lineWidth = 1;
  ctx.fillStyle = '#667085';
  ctx.textAlign = 'right';
  for (const v of yt.ticks) {
    const y = Math.round(sy(v)) + 0.5;
    ctx.strokeStyle = '#eef0f3';
    ctx.beginPath();
    ctx.moveTo(L, y);
    ctx.lineTo(R, y);
    ctx.stroke();
    ctx.fillText(tickLabel(v, yt), L - 8, y);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const firstTick = Math.ceil(xmin / xStep) * xStep;
  for (let v = Math.max(firstTick, xmin); v <= xmax + 1e-9; v += xStep) {
    const x = Math.round(sx(v)) + 0.5;
    ctx.strokeStyle = '#f3f4f6';
    ctx.beginPath();
    ctx.moveTo(x, T);
    ctx.lineTo(x, B);
    ctx.stroke();
    ctx.strokeStyle = '#98a2b3';
    ctx.beginPath();
    ctx.moveTo(x, B);
    ctx.lineTo(x, B + 4);
    ctx.stroke();
    ctx.fillText(String(v), x, B + 7);
  }
  // Axes
  ctx.strokeStyle = '#98a2b3';
  ctx.beginPath();
  ctx.moveTo(L + 0.5, T);
  ctx.lineTo(L + 0.5, B + 0.5);
  ctx.lineTo(R, B + 0.5);
  ctx.stroke();
  // Axis labels
  ctx.fillStyle = '#475467';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(spec.xLabel || 'epoch', (L + R) / 2, H - 6);
  if (spec.yLabel) {
    ctx.save();
    ctx.translate(13, (T + B) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(spec.yLabel, 0, 0);
    ctx.restore();
  }

  // Series
  ctx.save();
  ctx.beginPath();
  ctx.rect(L, T - 4, R - L + 4, B - T + 8);
  ctx.clip();
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (!pts.length) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width || 2;
    ctx.lineJoin = 'round';
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1]))));
    ctx.stroke();
    ctx.setLineDash([]);
    if (pts.length <= 40) {
      ctx.fillStyle = s.color;
      for (const p of pts) {
        ctx.beginPath();
        ctx.arc(sx(p[0]), sy(p[1]), pts.length === 1 ? 3.5 : 2.6, 0, Math.PI * 2);
        ctx.fill();
      }
    }
  }
  ctx.restore();

  // Hover read-out: the nearest epoch's values.
  if (canvas._hover !== null && canvas._hover !== undefined && canvas._hover >= L - 10 && canvas._hover <= R + 10) {
    const epoch = Math.round(xmin + ((canvas._hover - L) / (R - L)) * (xmax - xmin));
    const rows = [];
    for (const s of series) {
      const p = s.points.find((q) => q[0] === epoch);
      if (p && Number.isFinite(p[1])) rows.push({ s, y: p[1] });
    }
    if (rows.length) {
      const x = Math.round(sx(epoch)) + 0.5;
      ctx.strokeStyle = 'rgba(52, 64, 84, 0.35)';
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, T);
      ctx.lineTo(x, B);
      ctx.stroke();
      ctx.setLineDash([]);
      for (const { s, y } of rows) {
        ctx.fillStyle = '#fff';
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(sx(epoch), sy(y), 4, 0, Math.PI * 2);
        ctx.fill();
        ctx.stroke();
      }
      ctx.font = CHART_FONT;
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      const lines = [`epoch ${epoch}`].concat(rows.map(({ s, y }) => `${s.hoverLabel || s.label}: ${(spec.hoverFormat || ((v) => v.toFixed(4)))(y)}`));
      const bw = Math.max(...lines.map((t) => ctx.measureText(t).width)) + 28;
      const bh = lines.length * 17 + 10;
      let bx = x + 12;
      if (bx + bw > R) bx = x - 12 - bw;
      const by = Math.max(T, Math.min(B - bh, T + 6));
      ctx.fillStyle = 'rgba(255, 255, 255, 0.96)';
      ctx.strokeStyle = '#d0d5dd';
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.rect(bx + 0.5, by + 0.5, bw, bh);
      ctx.fill();
      ctx.stroke();
      lines.forEach((t, i) => {
        const ty = by + 13 + i * 17;
        if (i > 0) {
          const s = rows[i - 1].s;
          ctx.strokeStyle = s.color;
          ctx.lineWidth = 2.5;
          ctx.setLineDash(s.dash || []);
          ctx.beginPath();
          ctx.moveTo(bx + 8, ty);
          ctx.lineTo(bx + 20, ty);
          ctx.stroke();
          ctx.setLineDash([]);
        }
        ctx.fillStyle = i === 0 ? '#667085' : '#1d2330';
        ctx.fillText(t, bx + (i === 0 ? 8 : 24), ty);
      });
    }
  }
}

export function redrawCharts(root) {
  for (const canvas of root.querySelectorAll('canvas.chart')) renderChart(canvas);
}
