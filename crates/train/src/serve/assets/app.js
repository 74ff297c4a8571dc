// mnist-burn serve: the page's script. Plain ES2020, no libraries, nothing external.
// Three views switched by the URL hash: #runs, #run/<id>, #draw.
'use strict';

(() => {
  // ------------------------------------------------------------------------------------------
  // Small helpers
  // ------------------------------------------------------------------------------------------

  const $ = (selector, root = document) => root.querySelector(selector);

  /** Creates an element with an optional class name and text. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const DASH = '\u2014';

  function fmtPct(value, digits = 2) {
    return value === null || value === undefined || !Number.isFinite(value) ? DASH : `${value.toFixed(digits)}%`;
  }

  function fmtNum(value, digits = 4) {
    return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
  }

  function fmtWall(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
    if (seconds < 10) return `${seconds.toFixed(2)} s`;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${rest}s`;
  }

  const pad2 = (n) => String(n).padStart(2, '0');

  /** "2026-11-28 10:10:10" stays as is; an RFC 3339 time becomes local "YYYY-MM-DD HH:MM:SS". */
  function fmtStarted(text) {
    if (!text) return DASH;
    if (/^\d{4}-\d\d-\d\dT/.test(text)) {
      const date = new Date(text);
      if (!Number.isNaN(date.getTime())) {
        return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
          `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
      }
    }
    return text;
  }

  function startedKey(text) {
    if (!text) return null;
    const t = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(text) ? text.replace(' ', 'T') : text);
    return Number.isNaN(t) ? text : t;
  }

  const runUrl = (id, tail = '') => `/api/runs/${encodeURIComponent(id)}${tail}`;
  const runHash = (id) => `#run/${encodeURIComponent(id)}`;

  /** Fetches JSON; throws an Error carrying the server's one-line `error` on a non-2xx. */
  async function api(path, options) {
    const response = await fetch(path, Object.assign({ cache: 'no-store' }, options));
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message = body && typeof body.error === 'string' ? body.error : `HTTP ${response.status} ${response.statusText}`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // Diverging colour map (ColorBrewer RdBu): -1 dark blue, 0 near white, +1 dark red.
  const BLUES = [[247, 247, 247], [146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]];
  const REDS = [[247, 247, 247], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];

  // t in [-1, 1] (a value over the largest magnitude). A mild gamma keeps the small weights
  // visible next to a few large ones; the colour bars are painted through the same mapping.
  function diverging(t) {
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
  function paint28(canvas, values, colour) {
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

  function maxAbs(values) {
    let m = 0;
    for (const v of values) {
      const a = Math.abs(v);
      if (a > m) m = a;
    }
    return m;
  }

  function fmtSmall(v) {
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 100) return v.toFixed(0);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(2);
  }

  // Run colours for the overlaid curves.
  const PALETTE = ['#2f5bea', '#e4572e', '#12a150', '#9b51e0', '#e0a100', '#0aa2c0', '#d6336c',
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
  function drawChart(canvas, spec) {
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

  function redrawCharts(root) {
    for (const canvas of root.querySelectorAll('canvas.chart')) renderChart(canvas);
  }

  // ------------------------------------------------------------------------------------------
  // State shared by the views
  // ------------------------------------------------------------------------------------------

  const state = {
    runs: [], // latest /api/runs list, server order (newest first)
    byId: new Map(),
    loaded: false,
    selected: new Set(),
    colours: new Map(), // id -> palette index
    details: new Map(), // id -> { updated, data }
    detailLoading: new Set(),
    sort: { key: null, dir: 1 },
    view: 'runs',
  };

  function setConnection(ok, message) {
    const conn = $('#conn');
    conn.classList.toggle('down', !ok);
    conn.textContent = ok ? 'live' : 'server unreachable';
    conn.title = ok ? 'Polling the server every second' : message || '';
  }

  // ------------------------------------------------------------------------------------------
  // Runs view
  // ------------------------------------------------------------------------------------------

  const COLUMNS = ['name', 'config', 'backend', 'status', 'epochs', 'final', 'best', 'wall', 'started'];
  const NUMERIC = new Set(['epochs', 'final', 'best', 'wall', 'started']);
  const SORT_VALUE = {
    name: (r) => (r.name || r.id).toLowerCase() + '\u0000' + r.id.toLowerCase(),
    config: (r) => (r.config_name ? r.config_name.toLowerCase() : null),
    backend: (r) => (r.backend ? r.backend.toLowerCase() : null),
    status: (r) => r.status,
    epochs: (r) => r.epochs_completed,
    final: (r) => r.final_test_accuracy,
    best: (r) => r.best_test_accuracy,
    wall: (r) => r.wall_seconds,
    started: (r) => startedKey(r.started),
  };

  function sortedRuns() {
    const { key, dir } = state.sort;
    const indexed = state.runs.map((run, index) => ({ run, index }));
    if (!key) return state.runs.slice();
    const value = SORT_VALUE[key];
    indexed.sort((a, b) => {
      const va = value(a.run);
      const vb = value(b.run);
      const na = va === null || va === undefined;
      const nb = vb === null || vb === undefined;
      if (na || nb) return na && nb ? a.index - b.index : na ? 1 : -1; // missing values last
      if (va < vb) return -dir;
      if (va > vb) return dir;
      return a.index - b.index;
    });
    return indexed.map((x) => x.run);
  }

  function colourOf(id) {
    if (!state.colours.has(id)) {
      const used = new Set(state.colours.values());
      let index = 0;
      while (used.has(index) && index < PALETTE.length) index++;
      state.colours.set(id, index % PALETTE.length);
    }
    return PALETTE[state.colours.get(id)];
  }

  function badge(status) {
    return el('span', `badge badge-${status}`, status);
  }

  /** Rebuilds a cell only when what it shows changed (keeps hover, focus and selection). */
  function setCell(td, signature, build) {
    if (td._sig === signature) return;
    td._sig = signature;
    td.replaceChildren();
    build(td);
  }

  function createRow(id) {
    const tr = document.createElement('tr');
    tr.dataset.runId = id;
    const sel = el('td', 'sel-col');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.setAttribute('aria-label', `Compare ${id}`);
    box.addEventListener('change', () => toggleSelected(id, box.checked));
    const dot = el('span', 'color-dot');
    dot.hidden = true;
    sel.append(box, dot);
    tr.append(sel);
    for (const column of COLUMNS) {
      const td = el('td');
      td.dataset.col = column;
      if (NUMERIC.has(column) && column !== 'started') td.classList.add('num');
      tr.append(td);
    }
    return tr;
  }

  function updateRow(tr, run) {
    const cell = (column) => tr.querySelector(`td[data-col="${column}"]`);
    tr.title = run.problem || '';

    setCell(cell('name'), JSON.stringify([run.name, run.id, run.problem]), (td) => {
      td.classList.add('run-name');
      const link = el('a', '', run.name || run.id);
      link.href = runHash(run.id);
      td.append(link);
      if (run.name !== run.id) td.append(el('span', 'run-id', run.id));
      if (run.problem) td.append(el('span', 'problem', run.problem));
    });
    setCell(cell('config'), String(run.config_name), (td) => {
      td.textContent = run.config_name || DASH;
    });
    setCell(cell('backend'), `${run.backend}|${run.device}`, (td) => {
      td.textContent = run.backend || DASH;
      td.title = run.device || '';
    });
    setCell(cell('status'), run.status, (td) => {
      td.dataset.value = run.status;
      td.append(badge(run.status));
    });
    const planned = run.epochs_planned === null || run.epochs_planned === undefined ? '?' : run.epochs_planned;
    setCell(cell('epochs'), `${run.epochs_completed}/${planned}|${run.status}`, (td) => {
      td.dataset.value = String(run.epochs_completed);
      td.append(document.createTextNode(`${run.epochs_completed}/${planned}`));
      if (run.status === 'running' && run.epochs_planned) {
        const bar = el('span', 'epochs-bar');
        const fill = el('span');
        fill.style.width = `${Math.min(100, (100 * run.epochs_completed) / run.epochs_planned)}%`;
        bar.append(fill);
        td.append(bar);
      }
    });
    setCell(cell('final'), String(run.final_test_accuracy), (td) => {
      td.dataset.value = run.final_test_accuracy === null ? '' : String(run.final_test_accuracy);
      td.textContent = fmtPct(run.final_test_accuracy);
    });
    setCell(cell('best'), String(run.best_test_accuracy), (td) => {
      td.dataset.value = run.best_test_accuracy === null ? '' : String(run.best_test_accuracy);
      td.textContent = fmtPct(run.best_test_accuracy);
      td.classList.toggle('acc-strong', run.best_test_accuracy !== null);
    });
    setCell(cell('wall'), String(run.wall_seconds), (td) => {
      td.dataset.value = run.wall_seconds === null ? '' : String(run.wall_seconds);
      td.textContent = fmtWall(run.wall_seconds);
    });
    setCell(cell('started'), String(run.started), (td) => {
      td.textContent = fmtStarted(run.started);
      td.title = run.started || '';
    });

    const selected = state.selected.has(run.id);
    const box = tr.querySelector('input[type="checkbox"]');
    if (box.checked !== selected) box.checked = selected;
    tr.classList.toggle('selected', selected);
    const dot = tr.querySelector('.color-dot');
    dot.hidden = !selected;
    if (selected) dot.style.backgroundColor = colourOf(run.id);
  }

  const rows = new Map(); // id -> <tr>

  function renderRunsTable() {
    const tbody = $('#runs-table tbody');
    const present = new Set(state.runs.map((r) => r.id));
    for (const [id, tr] of rows) {
      if (!present.has(id)) {
        tr.remove();
        rows.delete(id);
      }
    }
    const ordered = sortedRuns();
    ordered.forEach((run, i) => {
      let tr = rows.get(run.id);
      if (!tr) {
        tr = createRow(run.id);
        rows.set(run.id, tr);
        if (state.loaded && state.view === 'runs') {
          tr.classList.add('fresh');
          tr.addEventListener('animationend', () => tr.classList.remove('fresh'), { once: true });
        }
      }
      updateRow(tr, run);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    $('#runs-empty').hidden = state.runs.length > 0;
    for (const th of document.querySelectorAll('#runs-table th[data-sort]')) {
      th.classList.toggle('sorted-asc', th.dataset.sort === state.sort.key && state.sort.dir > 0);
      th.classList.toggle('sorted-desc', th.dataset.sort === state.sort.key && state.sort.dir < 0);
      th.setAttribute('aria-sort', th.dataset.sort === state.sort.key ? (state.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    }
    updateSelectAll();
  }

  function updateSelectAll() {
    const all = $('#select-all');
    const candidates = state.runs.filter((r) => r.epochs_completed > 0);
    const n = candidates.filter((r) => state.selected.has(r.id)).length;
    all.checked = candidates.length > 0 && n === candidates.length;
    all.indeterminate = n > 0 && n < candidates.length;
    all.disabled = candidates.length === 0;
  }

  function toggleSelected(id, on) {
    if (on) {
      state.selected.add(id);
      colourOf(id);
    } else {
      state.selected.delete(id);
      state.colours.delete(id);
    }
    renderRunsTable();
    refreshSelectedDetails();
    drawCompare();
  }

  async function loadDetail(id) {
    if (state.detailLoading.has(id)) return;
    state.detailLoading.add(id);
    try {
      const data = await api(runUrl(id));
      state.details.set(id, { updated: data.summary.updated, data });
    } catch (error) {
      state.details.set(id, { updated: null, data: null, error: error.message });
    } finally {
      state.detailLoading.delete(id);
    }
  }

  async function refreshSelectedDetails() {
    const wanted = [...state.selected].filter((id) => {
      const run = state.byId.get(id);
      const cached = state.details.get(id);
      return run && (!cached || cached.updated !== run.updated) && !state.detailLoading.has(id);
    });
    if (!wanted.length) return;
    await Promise.all(wanted.map(loadDetail));
    drawCompare();
  }

  function drawCompare() {
    const ids = sortedRuns().map((r) => r.id).filter((id) => state.selected.has(id));
    $('#compare-hint').hidden = ids.length > 0;
    $('#compare-charts').hidden = ids.length === 0;
    if (!ids.length) return;
    const acc = [];
    const loss = [];
    for (const id of ids) {
      const colour = colourOf(id);
      const metrics = (state.details.get(id) || {}).data ? state.details.get(id).data.metrics : [];
      acc.push({ label: id, color: colour, points: metrics.map((m) => [m.epoch, m.test_acc]) });
      loss.push({ label: id, color: colour, points: metrics.map((m) => [m.epoch, m.test_loss]), hoverLabel: `${id} test` });
      loss.push({ label: `${id} train`, color: colour, dash: [6, 4], legend: false, points: metrics.map((m) => [m.epoch, m.train_loss]), hoverLabel: `${id} train` });
    }
    drawChart($('#cmp-acc'), { series: acc, yLabel: 'test accuracy (%)', yMax: 100, hoverFormat: (v) => `${v.toFixed(2)}%`, empty: 'No epochs yet' });
    drawChart($('#cmp-loss'), {
      series: loss,
      yLabel: 'loss',
      yMin: 0,
      extraLegend: [{ label: 'train', color: '#98a2b3', dash: [6, 4] }, { label: 'test', color: '#98a2b3' }],
      empty: 'No epochs yet',
    });
  }

  function setupRunsView() {
    for (const th of document.querySelectorAll('#runs-table th[data-sort]')) {
      th.querySelector('button').addEventListener('click', () => {
        const key = th.dataset.sort;
        if (state.sort.key === key) {
          if ((state.sort.dir < 0) === NUMERIC.has(key)) {
            state.sort.dir = -state.sort.dir;
          } else {
            state.sort = { key: null, dir: 1 }; // third click: back to the server's order
          }
        } else {
          state.sort = { key, dir: NUMERIC.has(key) ? -1 : 1 };
        }
        renderRunsTable();
        drawCompare();
      });
    }
    $('#select-all').addEventListener('change', (event) => {
      const on = event.target.checked;
      for (const run of state.runs) {
        if (run.epochs_completed <= 0) continue;
        if (on) {
          state.selected.add(run.id);
          colourOf(run.id);
        } else {
          state.selected.delete(run.id);
          state.colours.delete(run.id);
        }
      }
      renderRunsTable();
      refreshSelectedDetails();
      drawCompare();
    });
  }

  // ------------------------------------------------------------------------------------------
  // Polling the list
  // ------------------------------------------------------------------------------------------

  let listInFlight = false;

  async function pollRuns() {
    if (listInFlight) return;
    listInFlight = true;
    try {
      const data = await api('/api/runs');
      setConnection(true);
      applyRuns(data);
    } catch (error) {
      setConnection(false, error.message);
    } finally {
      listInFlight = false;
    }
  }

  function applyRuns(data) {
    state.runs = Array.isArray(data.runs) ? data.runs : [];
    state.byId = new Map(state.runs.map((r) => [r.id, r]));
    $('#runs-dir').textContent = data.runs_dir ? `${state.runs.length} run${state.runs.length === 1 ? '' : 's'} in ${data.runs_dir}` : '';
    for (const id of [...state.selected]) {
      if (!state.byId.has(id)) {
        state.selected.delete(id);
        state.colours.delete(id);
      }
    }
    renderRunsTable();
    state.loaded = true;
    refreshSelectedDetails();
    updateDrawRuns();
    runViewSawList();
  }

  // ------------------------------------------------------------------------------------------
  // One run
  // ------------------------------------------------------------------------------------------

  const runView = {
    id: null,
    summary: null,
    timer: null,
    loading: false,
    weightsKey: null,
    evalKey: null,
  };

  function openRun(id) {
    if (runView.id !== id) {
      runView.id = id;
      runView.summary = null;
      runView.weightsKey = null;
      runView.evalKey = null;
      $('#run-title').textContent = id;
      $('#run-sub').textContent = '';
      $('#run-status').replaceChildren();
      $('#run-stats').replaceChildren();
      $('#run-config').textContent = '';
      $('#run-error').hidden = true;
      $('#run-problem').hidden = true;
      $('#run-body').hidden = false;
      $('#weights').replaceChildren();
      $('#weights-scale').hidden = true;
      $('#weights-msg').textContent = 'Loading\u2026';
      $('#eval').hidden = true;
      $('#eval-msg').textContent = '';
      drawChart($('#run-loss'), { series: [], empty: 'Loading\u2026' });
      drawChart($('#run-acc'), { series: [], empty: 'Loading\u2026' });
    }
    loadRun();
  }

  function scheduleRunPoll() {
    clearTimeout(runView.timer);
    runView.timer = null;
    if (state.view === 'run' && runView.summary && runView.summary.status === 'running') {
      runView.timer = setTimeout(loadRun, 1000);
    }
  }

  async function loadRun() {
    const id = runView.id;
    if (!id || runView.loading) return;
    runView.loading = true;
    try {
      const data = await api(runUrl(id));
      if (runView.id !== id) return;
      $('#run-error').hidden = true;
      $('#run-body').hidden = false;
      renderRun(data);
    } catch (error) {
      if (runView.id !== id) return;
      $('#run-error').textContent = error.status === 404
        ? `There is no run \u201c${id}\u201d here (${error.message}).`
        : `Cannot load the run: ${error.message}`;
      $('#run-error').hidden = false;
      if (error.status === 404 || !runView.summary) $('#run-body').hidden = true;
    } finally {
      runView.loading = false;
      if (runView.id === id) scheduleRunPoll();
    }
  }

  /** The list poll notices a changed run (e.g. it finished) even when the detail poll stopped. */
  function runViewSawList() {
    if (state.view !== 'run' || !runView.id || !runView.summary || runView.loading) return;
    const listed = state.byId.get(runView.id);
    if (listed && listed.updated !== runView.summary.updated && !runView.timer) loadRun();
  }

  function stat(label, value, title, small) {
    const div = el('div');
    div.append(el('dt', '', label));
    const dd = el('dd', small ? 'dd-small' : '', value);
    if (title) dd.title = title;
    div.append(dd);
    return div;
  }

  function renderRun(data) {
    const s = data.summary;
    runView.summary = s;
    const metrics = Array.isArray(data.metrics) ? data.metrics : [];
    $('#run-title').textContent = s.name && s.name !== s.id ? `${s.name}` : s.id;
    const sub = [s.id];
    if (s.config_name) sub.push(`config ${s.config_name}`);
    if (s.backend) sub.push(s.backend);
    if (s.device) sub.push(s.device);
    $('#run-sub').textContent = sub.join(' \u00b7 ');
    $('#run-status').replaceChildren(badge(s.status));
    $('#run-problem').textContent = s.problem || '';
    $('#run-problem').hidden = !s.problem;
    const tabRun = $('#tab-run');
    tabRun.textContent = `Run: ${s.id}`;
    document.title = `${s.id} \u2013 mnist-burn`;

    const last = metrics.length ? metrics[metrics.length - 1] : null;
    const planned = s.epochs_planned === null || s.epochs_planned === undefined ? '?' : s.epochs_planned;
    $('#run-stats').replaceChildren(
      stat('Epochs', `${s.epochs_completed}/${planned}`),
      stat('Final test accuracy', fmtPct(s.final_test_accuracy)),
      stat('Best test accuracy', fmtPct(s.best_test_accuracy)),
      stat('Final test loss', last ? fmtNum(last.test_loss) : DASH),
      stat('Final train accuracy', last ? fmtPct(last.train_acc) : DASH),
      stat('Wall time', fmtWall(s.wall_seconds)),
      stat('Started', fmtStarted(s.started), s.started || '', true),
    );

    const ep = (key) => metrics.map((m) => [m.epoch, m[key]]);
    drawChart($('#run-loss'), {
      series: [
        { label: 'train loss', color: '#2f5bea', points: ep('train_loss') },
        { label: 'test loss', color: '#e4572e', points: ep('test_loss') },
      ],
      yLabel: 'loss',
      yMin: 0,
    });
    drawChart($('#run-acc'), {
      series: [
        { label: 'train accuracy', color: '#2f5bea', points: ep('train_acc') },
        { label: 'test accuracy', color: '#e4572e', points: ep('test_acc') },
      ],
      yLabel: 'accuracy (%)',
      yMax: 100,
      hoverFormat: (v) => `${v.toFixed(2)}%`,
    });

    const config = $('#run-config');
    const configText = data.config === null || data.config === undefined ? '(this run has no config.toml)' : data.config;
    if (config.textContent !== configText) config.textContent = configText;

    // The model's pictures: loaded again only when the model may have changed.
    const key = `${s.id}|${s.status}|${s.has_model}`;
    if (runView.weightsKey !== key) {
      runView.weightsKey = key;
      loadWeights(s);
    }
    if (runView.evalKey !== key) {
      runView.evalKey = key;
      loadEval(s);
    }
  }

  async function loadWeights(s) {
    const id = s.id;
    const msg = $('#weights-msg');
    if (!s.has_model) {
      $('#weights').replaceChildren();
      $('#weights-scale').hidden = true;
      msg.textContent = s.status === 'running' ? 'The weights appear once the model is saved.' : 'This run has no saved model.';
      return;
    }
    msg.textContent = $('#weights').childElementCount ? '' : 'Loading the weights\u2026';
    try {
      const data = await api(runUrl(id, '/weights'));
      if (runView.id !== id) return;
      msg.textContent = '';
      renderWeights(data);
    } catch (error) {
      if (runView.id !== id) return;
      msg.textContent = '';
      msg.append(el('span', 'error', `Cannot load the weights: ${error.message}`));
    }
  }

  function renderWeights(data) {
    const container = $('#weights');
    container.replaceChildren();
    const all = data.weights.flat();
    const max = maxAbs(all) || 1;
    data.weights.forEach((w, k) => {
      const figure = el('figure');
      const canvas = el('canvas', 'pixelated');
      canvas.width = 28;
      canvas.height = 28;
      paint28(canvas, w, (v) => diverging(v / max));
      const name = (data.classes && data.classes[k]) || String(k);
      canvas.setAttribute('aria-label', `Weights of class ${name}`);
      const caption = el('figcaption', '', name);
      if (data.bias && Number.isFinite(data.bias[k])) caption.append(el('span', '', `bias ${fmtSmall(data.bias[k])}`));
      figure.append(canvas, caption);
      container.append(figure);
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

  async function loadEval(s) {
    const id = s.id;
    const msg = $('#eval-msg');
    if (!s.has_model) {
      $('#eval').hidden = true;
      msg.textContent = s.status === 'running' ? 'The evaluation is available once training has finished.' : 'This run has no saved model to evaluate.';
      return;
    }
    if (s.status === 'running') {
      $('#eval').hidden = true;
      msg.textContent = 'The evaluation is available once training has finished.';
      return;
    }
    msg.replaceChildren(el('span', 'loading', 'Evaluating on the test split\u2026'));
    $('#eval').hidden = true;
    try {
      const data = await api(runUrl(id, '/eval'));
      if (runView.id !== id) return;
      renderEval(data);
    } catch (error) {
      if (runView.id !== id) return;
      msg.replaceChildren(el('span', 'error', `Cannot evaluate: ${error.message}`));
    }
  }

  function renderEval(data) {
    const msg = $('#eval-msg');
    msg.textContent = `${fmtPct(data.accuracy)} accuracy on ${Number(data.images).toLocaleString('en-US')} test images` +
      (data.dataset ? ` (${data.dataset})` : '') + '.';
    const names = data.classes.map((c) => String(c.class));
    const table = $('#confusion');
    table.replaceChildren();
    const thead = el('thead');
    const head = el('tr');
    head.append(el('th', 'corner', 'true \u2193 pred \u2192'));
    for (const n of names) head.append(el('th', '', n));
    thead.append(head);
    const tbody = el('tbody');
    data.confusion.forEach((row, i) => {
      const tr = el('tr');
      const th = el('th', '', names[i]);
      th.scope = 'row';
      tr.append(th);
      const total = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((count, j) => {
        const td = el('td', '', count);
        const share = count / total;
        td.title = `true ${names[i]}, predicted ${names[j]}: ${count} (${(share * 100).toFixed(1)}% of the ${names[i]}s)`;
        if (count === 0) {
          td.classList.add('zero');
        } else if (i === j) {
          td.classList.add('diag');
          const alpha = 0.15 + 0.75 * share;
          td.style.backgroundColor = `rgba(23, 114, 69, ${alpha.toFixed(3)})`;
          if (alpha > 0.5) td.classList.add('dark');
        } else {
          const alpha = Math.min(0.9, 0.06 + Math.sqrt(share / 0.12) * 0.84);
          td.style.backgroundColor = `rgba(214, 51, 37, ${alpha.toFixed(3)})`;
          if (alpha > 0.55) td.classList.add('dark');
        }
        tr.append(td);
      });
      tbody.append(tr);
    });
    table.append(thead, tbody);

    const per = $('#per-class');
    per.replaceChildren();
    const phead = el('thead');
    const ph = el('tr');
    for (const t of ['Class', 'Images', 'Precision', 'Recall']) ph.append(el('th', '', t));
    phead.append(ph);
    const pbody = el('tbody');
    const meter = (value, kind) => {
      const td = el('td', 'bar-cell');
      td.append(document.createTextNode(fmtPct(value, 1)));
      const m = el('span', `meter ${kind}`);
      const fill = el('span');
      fill.style.width = `${Math.max(0, Math.min(100, value || 0))}%`;
      m.append(fill);
      td.append(m);
      return td;
    };
    for (const c of data.classes) {
      const tr = el('tr');
      tr.append(el('td', '', c.class), el('td', '', Number(c.count).toLocaleString('en-US')),
        meter(c.precision, 'precision'), meter(c.recall, 'recall'));
      pbody.append(tr);
    }
    per.append(phead, pbody);

    const confused = (data.most_confused || []).slice(0, 6);
    $('#most-confused').textContent = confused.length
      ? `Most confused: ${confused.map((c) => `${c.truth} taken for ${c.predicted} (${c.count})`).join(', ')}.`
      : '';
    $('#eval').hidden = false;
  }

  // ------------------------------------------------------------------------------------------
  // Draw
  // ------------------------------------------------------------------------------------------

  const canvas = $('#draw-canvas');
  const pen = canvas.getContext('2d');
  const STROKE = 20;
  const drawState = { active: false, pointer: null, last: null, ink: false, userChoseRun: false };
  const classNames = new Map(); // run id -> class names (from /weights), for the bar labels
  let predictions = 0;

  function clearCanvas() {
    pen.setTransform(1, 0, 0, 1, 0, 0);
    pen.fillStyle = '#000';
    pen.fillRect(0, 0, canvas.width, canvas.height);
    drawState.ink = false;
  }

  function canvasPoint(event) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) * canvas.width) / rect.width,
      y: ((event.clientY - rect.top) * canvas.height) / rect.height,
    };
  }

  function strokeTo(from, to) {
    pen.strokeStyle = '#fff';
    pen.fillStyle = '#fff';
    pen.lineWidth = STROKE * (canvas.width / 280);
    pen.lineCap = 'round';
    pen.lineJoin = 'round';
    pen.beginPath();
    if (from.x === to.x && from.y === to.y) {
      pen.arc(to.x, to.y, pen.lineWidth / 2, 0, Math.PI * 2);
      pen.fill();
      return;
    }
    pen.moveTo(from.x, from.y);
    pen.lineTo(to.x, to.y);
    pen.stroke();
  }

  function endStroke(event) {
    if (!drawState.active || (event && event.pointerId !== drawState.pointer)) return;
    drawState.active = false;
    try {
      if (canvas.hasPointerCapture(drawState.pointer)) canvas.releasePointerCapture(drawState.pointer);
    } catch (_) { /* already released */ }
    drawState.pointer = null;
    requestPrediction('canvas');
  }

  function setupDrawing() {
    clearCanvas();
    canvas.addEventListener('pointerdown', (event) => {
      if (event.pointerType === 'mouse' && event.button !== 0) return;
      if (drawState.active) return;
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawState.active = true;
      drawState.pointer = event.pointerId;
      const p = canvasPoint(event);
      strokeTo(p, p);
      drawState.last = p;
      drawState.ink = true;
      requestPrediction('canvas');
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!drawState.active || event.pointerId !== drawState.pointer) return;
      event.preventDefault();
      const events = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) {
        const p = canvasPoint(e);
        strokeTo(drawState.last, p);
        drawState.last = p;
      }
      requestPrediction('canvas');
    });
    canvas.addEventListener('pointerup', endStroke);
    canvas.addEventListener('pointercancel', endStroke);
    canvas.addEventListener('lostpointercapture', endStroke);
    canvas.addEventListener('contextmenu', (event) => event.preventDefault());

    $('#draw-clear').addEventListener('click', () => {
      clearCanvas();
      predictor.generation++;
      predictor.pending = null;
      markPredicting();
      clearResult();
      drawMessage('');
    });

    const input = $('#file-input');
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      if (file) useFile(file);
      input.value = '';
    });

    const zone = $('#drop-zone');
    const hasFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
    zone.addEventListener('dragenter', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragover', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', (event) => {
      if (event.relatedTarget && zone.contains(event.relatedTarget)) return;
      zone.classList.remove('dragging');
    });
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('dragging');
      const file = event.dataTransfer && event.dataTransfer.files && event.dataTransfer.files[0];
      if (!file) return;
      if (file.type && !file.type.startsWith('image/')) {
        drawMessage(`\u201c${file.name}\u201d is not an image.`, true);
        return;
      }
      useFile(file);
    });
    // A file dropped next to the canvas must not make the browser leave the page.
    window.addEventListener('dragover', (event) => {
      if (hasFiles(event)) event.preventDefault();
    });
    window.addEventListener('drop', (event) => {
      if (hasFiles(event)) event.preventDefault();
    });

    $('#draw-run').addEventListener('change', () => {
      drawState.userChoseRun = true;
      loadClassNames($('#draw-run').value);
      if (drawState.ink) requestPrediction(predictor.lastJob || 'canvas');
    });

    buildBars(null);
    clearResult();
  }

  /** Shows an uploaded or dropped image in the canvas (fitted, on black) and predicts it. */
  async function useFile(file) {
    drawMessage(`Reading ${file.name || 'the image'}\u2026`);
    try {
      const bitmap = await createImageBitmap(file);
      clearCanvas();
      const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
      const w = bitmap.width * scale;
      const h = bitmap.height * scale;
      pen.imageSmoothingEnabled = true;
      pen.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      if (bitmap.close) bitmap.close();
      drawMessage(`${file.name || 'Image'} (${bitmap.width}\u00d7${bitmap.height})`);
    } catch (_) {
      clearCanvas();
      drawMessage(`${file.name || 'The file'}: the browser cannot show it; the server still tries to read it.`);
    }
    drawState.ink = true;
    requestPrediction(file);
  }

  function drawMessage(text, isError) {
    const msg = $('#draw-msg');
    msg.textContent = text;
    msg.classList.toggle('error', Boolean(isError));
  }

  // At most one request in flight; while it runs, only the newest wish is kept, sent after.
  const predictor = { busy: false, pending: null, generation: 0, lastJob: null };

  function markPredicting() {
    document.body.dataset.predicting = predictor.busy || predictor.pending ? '1' : '0';
  }

  function requestPrediction(job) {
    predictor.pending = job;
    markPredicting();
    pumpPredictions();
  }

  function canvasBlob() {
    return new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the canvas gave no PNG'))), 'image/png');
    });
  }

  async function pumpPredictions() {
    if (predictor.busy || !predictor.pending) {
      markPredicting();
      return;
    }
    const runId = $('#draw-run').value;
    if (!runId) {
      predictor.pending = null;
      markPredicting();
      drawMessage('No run has a trained model yet: train one, it appears in the list by itself.', true);
      return;
    }
    const job = predictor.pending;
    predictor.pending = null;
    predictor.busy = true;
    markPredicting();
    const generation = predictor.generation;
    try {
      let body;
      let type;
      if (job === 'canvas') {
        body = await canvasBlob();
        type = 'image/png';
      } else {
        // The file's bytes as they are (read first: a disk-backed File body is streamed
        // differently, and developer tools cannot show its response).
        body = await job.arrayBuffer();
        type = job.type && job.type !== 'application/json' ? job.type : 'application/octet-stream';
      }
      predictor.lastJob = job;
      const data = await api(runUrl(runId, '/predict'), { method: 'POST', headers: { 'Content-Type': type }, body });
      if (generation === predictor.generation) {
        renderPrediction(data, runId);
        if ($('#draw-msg').classList.contains('error')) drawMessage('');
      }
    } catch (error) {
      if (generation === predictor.generation) {
        drawMessage(`Prediction failed: ${error.message}`, true);
        if (job !== 'canvas') clearResult(); // what is shown belongs to another picture
      }
    } finally {
      predictor.busy = false;
      pumpPredictions();
    }
  }

  const bars = [];

  function buildBars(names) {
    const root = $('#probabilities');
    root.replaceChildren();
    bars.length = 0;
    for (let k = 0; k < 10; k++) {
      const row = el('div', 'prob');
      const label = el('span', 'prob-label', names ? names[k] : String(k));
      const track = el('span', 'prob-track');
      const fill = el('span', 'prob-fill');
      track.append(fill);
      const pct = el('span', 'prob-pct', '');
      row.append(label, track, pct);
      root.append(row);
      bars.push({ row, label, fill, pct });
    }
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
    if (id !== $('#draw-run').value) return;
    const names = classNames.get(id);
    bars.forEach((b, k) => {
      b.label.textContent = names ? names[k] : String(k);
    });
    $('#probabilities').classList.toggle('long-labels', Boolean(names && names.some((n) => n.length > 2)));
  }

  function clearResult() {
    $('#draw-class').textContent = '';
    $('#draw-class').classList.remove('long');
    $('#draw-confidence').textContent = 'draw a digit';
    for (const b of bars) {
      b.fill.style.width = '0%';
      b.pct.textContent = '';
      b.row.classList.remove('top');
    }
    const black = new Array(784).fill(0);
    paint28($('#draw-input'), black, () => [0, 0, 0]);
    paint28($('#draw-heatmap'), black, () => [247, 247, 247]);
    $('#heatmap-caption').textContent = 'pixel \u00d7 weight for the predicted class';
  }

  function renderPrediction(data, runId) {
    const probs = data.probabilities || [];
    const cls = Number.isInteger(data.class) ? data.class : probs.indexOf(Math.max(...probs));
    const label = data.label !== undefined && data.label !== null ? String(data.label) : String(cls);
    const big = $('#draw-class');
    big.textContent = label;
    big.classList.toggle('long', label.length > 2);
    const confidence = probs[cls];
    const names = classNames.get(runId);
    $('#draw-confidence').textContent = Number.isFinite(confidence) ? `${(confidence * 100).toFixed(1)}% sure` : '';
    bars.forEach((b, k) => {
      const p = Number.isFinite(probs[k]) ? probs[k] : 0;
      b.fill.style.width = `${(p * 100).toFixed(2)}%`;
      b.pct.textContent = `${(p * 100).toFixed(1)}%`;
      b.row.classList.toggle('top', k === cls);
      b.row.title = `${names ? names[k] : k}: ${(p * 100).toFixed(3)}%`;
    });
    if (Array.isArray(data.input)) paint28($('#draw-input'), data.input, (v) => [v, v, v]);
    if (Array.isArray(data.contributions)) {
      const max = maxAbs(data.contributions) || 1;
      paint28($('#draw-heatmap'), data.contributions, (v) => diverging(v / max));
    }
    $('#heatmap-caption').textContent = `pixel \u00d7 weight for class ${label}: what pushed the model to its answer`;
    predictions += 1;
    document.body.dataset.predictions = String(predictions);
  }

  /** Keeps the model chooser in step with the list: runs with a model, newest first. */
  function updateDrawRuns() {
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
        if (drawState.ink && current) requestPrediction(predictor.lastJob || 'canvas');
      }
    } else {
      withModel.forEach((r, i) => {
        const option = select.options[i];
        const t = text(r);
        if (option && option.textContent !== t) option.textContent = t;
      });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Routing
  // ------------------------------------------------------------------------------------------

  function route() {
    const hash = location.hash || '#runs';
    let view = 'runs';
    if (hash.startsWith('#run/')) {
      view = 'run';
    } else if (hash === '#draw') {
      view = 'draw';
    }
    state.view = view;
    for (const name of ['runs', 'run', 'draw']) $(`#view-${name}`).hidden = name !== view;
    for (const tab of document.querySelectorAll('.tabs a')) {
      const active = tab.dataset.tab === view;
      tab.classList.toggle('active', active);
      if (active) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    if (view === 'run') {
      let id = hash.slice(5);
      try {
        id = decodeURIComponent(id);
      } catch (_) { /* keep it raw */ }
      const tab = $('#tab-run');
      tab.hidden = false;
      tab.href = runHash(id);
      if (tab.textContent === 'Run' || runView.id !== id) tab.textContent = `Run: ${id}`;
      openRun(id);
    } else {
      clearTimeout(runView.timer);
      runView.timer = null;
      document.title = view === 'draw' ? 'Draw \u2013 mnist-burn' : 'Runs \u2013 mnist-burn';
    }
    redrawCharts($(`#view-${view}`));
    window.scrollTo(0, 0);
  }

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => redrawCharts(document), 80);
  });
  window.addEventListener('hashchange', route);

  setupRunsView();
  setupDrawing();
  route();
  pollRuns();
  setInterval(pollRuns, 1000);
})();
