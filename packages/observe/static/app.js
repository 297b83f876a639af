// rankwise ui: the run list, live curves (server-sent events), side-by-side runs and grid heatmaps.
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script> (index.html loads it without type=module), so the directive counts
'use strict';
const selected = new Set();
const streams = new Map();
let rows = [];
let renderTimer = null;

const text = (s) => String(s ?? '');
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(text(c)));
  return e;
}
const fmt = (v) => (typeof v !== 'number' ? text(v) : Number.isInteger(v) ? v.toLocaleString('en-US') : v.toPrecision(4));
const query = (runs) => runs.map((r) => `run=${encodeURIComponent(r)}`).join('&');
const seconds = (ms) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '');

async function loadRuns() {
  const response = await fetch('/api/runs');
  const body = await response.json();
  document.getElementById('out').textContent = body.out;
  rows = body.runs;
  const tbody = document.querySelector('#runs tbody');
  tbody.replaceChildren(
    ...rows.map((r) => {
      const box = el('input', { type: 'checkbox', 'data-run': r.run, onchange: (e) => toggle(r.run, e.target.checked) });
      box.checked = selected.has(r.run);
      const metrics = Object.entries(r.metrics)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(' · ');
      return el(
        'tr',
        { class: selected.has(r.run) ? 'selected' : '', 'data-run': r.run, 'data-status': r.status },
        el('td', {}, box),
        el('td', {}, r.pipeline),
        el('td', {}, r.kind === 'run' ? r.id : `${r.id} (${r.kind})`),
        el('td', { class: `status-${r.status}` }, r.status),
        el('td', {}, metrics),
        el('td', {}, text(r.startedAt).replace('T', ' ').slice(0, 19)),
        el('td', {}, seconds(r.durationMs)),
      );
    }),
  );
  // a run's status changed (started, finished): keep live streams for running runs only
  for (const r of rows) if (selected.has(r.run)) ensureStream(r);
}

function toggle(run, on) {
  if (on) selected.add(run);
  else {
    selected.delete(run);
    streams.get(run)?.close();
    streams.delete(run);
  }
  const row = rows.find((r) => r.run === run);
  if (row) ensureStream(row);
  document.querySelectorAll('#runs tbody tr').forEach((tr) => tr.classList.toggle('selected', selected.has(tr.dataset.run)));
  render();
}

function ensureStream(row) {
  if (row.status !== 'running' || streams.has(row.run) || !selected.has(row.run)) return;
  const source = new EventSource(`/api/live?${query([row.run])}`);
  source.addEventListener('points', () => scheduleRender());
  source.addEventListener('status', (e) => {
    if (JSON.parse(e.data).status !== 'running') {
      source.close();
      streams.delete(row.run);
      loadRuns().then(scheduleRender);
    }
  });
  streams.set(row.run, source);
}

function scheduleRender() {
  clearTimeout(renderTimer);
  renderTimer = setTimeout(render, 250);
}

async function render() {
  const runs = [...selected];
  const charts = document.getElementById('charts');
  charts.dataset.runs = String(runs.length);
  for (const name of ['loss', 'lr', 'gradNorm']) if (!runs.length) document.getElementById(`chart-${name}`).replaceChildren();
  document.getElementById('compare').replaceChildren();
  document.getElementById('evaluations').replaceChildren();
  document.getElementById('heatmaps').replaceChildren();
  if (!runs.length) {
    charts.dataset.points = '0';
    return;
  }
  const response = await fetch(`/api/charts?${query(runs)}`);
  if (!response.ok) return;
  const { specs, points, runs: names } = await response.json();
  if ([...selected].join('\n') !== runs.join('\n')) return; // the selection changed meanwhile
  for (const [name, spec] of Object.entries(specs)) {
    const target = document.getElementById(`chart-${name}`);
    if (!spec) target.replaceChildren();
    else await vegaEmbed(target, spec, { actions: false, renderer: 'svg' });
  }
  charts.dataset.points = String(points);
  charts.dataset.names = names.join('\n');
  if (runs.length > 1) await renderCompare(runs);
  else await renderRun(runs[0]);
  renderHeatmaps(runs);
}

async function renderCompare(runs) {
  const c = await (await fetch(`/api/compare?${query(runs)}`)).json();
  const head = el('tr', {}, el('th', {}, ''), ...c.runs.map((r) => el('th', {}, r)));
  const body = [
    ...c.settings.map((s) => el('tr', { class: 'setting' }, el('td', {}, s.pointer), ...s.values.map((v) => el('td', {}, v ?? '(absent)')))),
    ...c.metrics.map((m) =>
      el('tr', { class: 'metric' }, el('td', {}, m.name), ...m.values.map((v) => el('td', {}, v === null || v === undefined ? '—' : fmt(v)))),
    ),
  ];
  document
    .getElementById('compare')
    .replaceChildren(
      el('h2', {}, `${runs.length} runs side by side: settings that differ, then metrics`),
      el('table', { id: 'compare-table' }, el('thead', {}, head), el('tbody', {}, ...body)),
    );
}

async function renderRun(run) {
  const data = await (await fetch(`/api/run?${query([run])}`)).json();
  const metrics = [...new Set(data.evaluations.flatMap((e) => Object.keys(e.metrics)))];
  const s = data.summary;
  const facts = `${data.name} · ${data.status}${s.parameterReport ? ` · ${s.parameterReport}` : ''}${s.backend ? ` · backend ${s.backend.name}` : ''}${typeof s.durationMs === 'number' ? ` · ${seconds(s.durationMs)}` : ''}`;
  document
    .getElementById('evaluations')
    .replaceChildren(
      el('h2', {}, facts),
      el(
        'table',
        {},
        el('thead', {}, el('tr', {}, el('th', {}, 'evaluation'), el('th', {}, 'data'), ...metrics.map((m) => el('th', {}, m)))),
        el(
          'tbody',
          {},
          ...data.evaluations.map((e) =>
            el('tr', {}, el('td', {}, e.label ?? `stage ${e.index}`), el('td', {}, e.data), ...metrics.map((m) => el('td', {}, fmt(e.metrics[m])))),
          ),
        ),
      ),
    );
}

function renderHeatmaps(runs) {
  const imgs = rows
    .filter((r) => runs.includes(r.run))
    .flatMap((r) => r.heatmaps.map((h) => el('img', { src: `/files/${h.split('/').map(encodeURIComponent).join('/')}`, alt: `${r.pipeline} heatmap` })));
  if (imgs.length) document.getElementById('heatmaps').replaceChildren(el('h2', {}, 'Grid heatmaps'), ...imgs);
}

loadRuns().then(render);
setInterval(loadRuns, 2000);
