// The dashboard: one page served by the detection service, drawn with ECharts (served locally from the npm package:
// no CDN). It reads the API token from the URL fragment (#token=…, printed by `serve`), keeps it in sessionStorage,
// follows the live alert feed over SSE and polls traffic, top talkers and drift.

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 18px;display:flex;gap:18px;align-items:center}
header h1{font-size:18px;margin:0} .pill{padding:2px 10px;border-radius:10px;background:#3a4256;font-size:13px}
.pill.stable{background:#2e7d32}.pill.moderate{background:#ef6c00}.pill.significant{background:#c62828}
main{display:grid;grid-template-columns:1.3fr 1fr;gap:14px;padding:14px}
section{background:#fff;border-radius:6px;padding:10px 14px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:4px 0 8px} .chart{height:240px}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:left}
#feed tr{cursor:pointer} #feed tr:hover{background:#eef3ff} #feed tr.selected{background:#dde7ff}
button{margin-right:8px;padding:4px 12px;border:0;border-radius:4px;cursor:pointer}
button.fp{background:#ffe0b2} button.ok{background:#c8e6c9} .muted{color:#777}
`;

const SCRIPT = `
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) { sessionStorage.setItem('flowsentry-token', fromHash); history.replaceState(null, '', location.pathname); }
const token = sessionStorage.getItem('flowsentry-token') || '';
const api = (path, init = {}) => fetch(path, { ...init, headers: { ...(init.headers || {}), authorization: 'Bearer ' + token, 'content-type': 'application/json' } })
  .then((r) => { if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); });
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toLocaleString('en-US', { maximumSignificantDigits: 4 }) : '–');
const charts = {};
const chart = (id) => (charts[id] ||= echarts.init($(id), null, { renderer: 'svg' }));
const FEED_ROWS = 200;
/** The alerts the feed shows (the newest FEED_ROWS, and the selected one) and those arrived since the last render. */
const alerts = new Map();
let selected = null;
/** Alerts in the store at its last answer, and new ones over the live feed since: the header's count. */
let storedTotal = 0;
let newSinceStored = 0;
let renderQueued = false;
/** Store counts asked for and the newest applied: an older answer arriving late is ignored. */
let countsAsked = 0;
let countApplied = 0;
let countQueued = false;

/** Renders the feed at most every 250 ms: a flood sends hundreds of updates a second. */
function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => { renderQueued = false; renderFeed(); }, 250);
}

function storeAnswered(page) {
  page.alerts.forEach((a) => alerts.set(a.id, a));
  if (countApplied > 0) return; // a later count already answered
  storedTotal = page.total;
  newSinceStored = 0;
}

/**
 * Re-reads the store's count within 2 s. A live event races the store's answer (it may or may not be in the total),
 * so every new alert that arrives after a count was asked for asks again: once the feed is quiet, the last count was
 * asked for after the last alert and is exact.
 */
function queueCount() {
  if (countQueued) return;
  countQueued = true;
  setTimeout(() => {
    countQueued = false;
    const asked = ++countsAsked;
    api('/api/alerts?limit=1').then((page) => {
      if (asked < countApplied) return;
      countApplied = asked;
      storedTotal = page.total;
      newSinceStored = 0;
      queueRender();
    }).catch(() => undefined);
  }, 2000);
}

function renderFeed() {
  const rows = [...alerts.values()].sort((a, b) => b.lastSeenMs - a.lastSeenMs).slice(0, FEED_ROWS);
  // keep only what is shown: an open page must not grow with every alert of a long flood from new sources
  const shown = new Set(rows.map((a) => a.id));
  for (const id of alerts.keys()) if (!shown.has(id) && id !== selected) alerts.delete(id);
  $('feed').innerHTML = rows.map((a) => '<tr data-id="' + esc(a.id) + '" class="' + (a.id === selected ? 'selected' : '') + '"><td>' +
    new Date(a.lastSeenMs).toLocaleTimeString() + '</td><td>' + esc(a.flow.srcAddr) + '</td><td>' + esc(a.flow.dstAddr) + ':' + a.flow.dstPort +
    '</td><td>' + esc(a.label) + '</td><td>' + esc(a.category) + '</td><td>' + a.score.toFixed(3) + '</td><td>' + a.stage + '</td><td>' + a.count +
    '</td><td>' + (a.feedback ? esc(a.feedback) : '') + '</td></tr>').join('');
  $('alert-count').textContent = (storedTotal + newSinceStored) + ' alerts';
}

async function showAlert(id) {
  selected = id;
  renderFeed();
  const a = await api('/api/alerts/' + encodeURIComponent(id));
  alerts.set(a.id, a);
  $('detail').innerHTML = '<p><b>' + esc(a.label) + '</b> (' + esc(a.category) + ') ' + esc(a.flow.srcAddr) + ':' + a.flow.srcPort + ' → ' +
    esc(a.flow.dstAddr) + ':' + a.flow.dstPort + ' proto ' + a.flow.protocol + ' · score ' + a.score.toFixed(4) + ' ≥ ' + a.threshold.toFixed(4) +
    ' · stage ' + a.stage + ' after ' + a.packets + ' packets · ' + a.count + ' flows · id <code>' + esc(a.id) + '</code></p>' +
    '<table id="explanation"><tr><th>feature</th><th>value</th><th>contribution</th><th>normal range</th></tr>' +
    a.explanation.map((e) => '<tr><td>' + esc(e.feature) + '</td><td>' + num(e.value) + '</td><td>' + e.contribution.toFixed(4) + '</td><td>' +
      num(e.normalRange[0]) + ' – ' + num(e.normalRange[1]) + '</td></tr>').join('') + '</table>' +
    '<p><button class="fp" data-verdict="false_positive">Mark false positive</button><button class="ok" data-verdict="confirmed">Confirm</button>' +
    '<span id="feedback-state" class="muted">' + (a.feedback ? 'feedback: ' + esc(a.feedback) : '') + '</span></p>';
}

async function sendFeedback(verdict) {
  if (!selected) return;
  await api('/api/alerts/' + encodeURIComponent(selected) + '/feedback', { method: 'POST', body: JSON.stringify({ verdict }) });
  const a = alerts.get(selected); if (a) a.feedback = verdict;
  $('feedback-state').textContent = 'feedback: ' + verdict;
  renderFeed();
}

async function refresh() {
  const since = Date.now() - 3600_000;
  queueCount();
  const [traffic, talkers, drift] = await Promise.all([api('/api/traffic?since=' + since), api('/api/top-talkers?since=' + since), api('/api/drift')]);
  const xs = traffic.points.map((p) => new Date(p.minuteMs).toLocaleTimeString());
  const categories = [...new Set(traffic.points.flatMap((p) => Object.keys(p.byCategory)))];
  chart('traffic-chart').setOption({
    animation: false, tooltip: { trigger: 'axis' }, legend: { top: 0 }, grid: { left: 50, right: 50, top: 30, bottom: 30 }, xAxis: { type: 'category', data: xs },
    yAxis: [{ type: 'value', name: 'flows/s' }, { type: 'value', name: 'alerts/s' }],
    series: [{ name: 'flows/s', type: 'line', data: traffic.points.map((p) => +(p.flows / 60).toFixed(3)) },
      ...categories.map((c) => ({ name: c + ' alerts/s', type: 'bar', stack: 'alerts', yAxisIndex: 1, data: traffic.points.map((p) => +((p.byCategory[c] || 0) / 60).toFixed(4)) }))],
  }, true);
  $('talkers').innerHTML = '<tr><th>source</th><th>alerts</th><th>flows</th></tr>' + talkers.talkers.map((t) => '<tr><td>' + esc(t.src) + '</td><td>' + t.alerts + '</td><td>' + t.flows + '</td></tr>').join('');
  $('drift').className = 'pill ' + drift.level;
  $('drift').textContent = 'drift: ' + drift.level + (drift.features.length ? ' (max PSI ' + drift.features[0].psi.toFixed(3) + ' ' + drift.features[0].name + ')' : '');
}

async function loadModel() {
  const m = await api('/api/model');
  $('model-name').textContent = m.name + ' · ' + (m.task || '') + ' · ' + (m.version || '');
  if (m.roc) chart('roc-chart').setOption({ title: { text: 'ROC (training test set)', textStyle: { fontSize: 13 } }, grid: { left: 45, right: 15, top: 35, bottom: 35 },
    xAxis: { type: 'value', name: 'FPR', min: 0, max: 1 }, yAxis: { type: 'value', name: 'TPR', min: 0, max: 1 },
    series: [{ type: 'line', showSymbol: false, data: m.roc.fpr.map((x, i) => [x, m.roc.tpr[i]]) }, { type: 'line', showSymbol: false, lineStyle: { type: 'dashed' }, data: [[0, 0], [1, 1]] }] });
  if (m.confusion) {
    const labels = m.confusion.labels, data = [];
    m.confusion.matrix.forEach((row, i) => row.forEach((v, j) => data.push([j, i, v])));
    $('confusion-chart').style.height = Math.max(240, 140 + 22 * labels.length) + 'px'; // a row per class
    chart('confusion-chart').setOption({ title: { text: 'Confusion matrix', textStyle: { fontSize: 13 } }, tooltip: {}, grid: { left: 120, right: 20, top: 35, bottom: 90 },
      // every class named (ECharts skips labels that would overlap: a 16-class model showed every other one)
      xAxis: { type: 'category', data: labels, name: 'predicted', axisLabel: { interval: 0, rotate: labels.length > 4 ? 40 : 0 } },
      yAxis: { type: 'category', data: labels, name: 'true', nameLocation: 'start', inverse: true, axisLabel: { interval: 0 } },
      visualMap: { min: 0, max: Math.max(1, ...data.map((d) => d[2])), show: false, inRange: { color: ['#f1f5ff', '#1f4fbf'] } },
      series: [{ type: 'heatmap', data, label: { show: true, fontSize: labels.length > 8 ? 8 : 11 } }] });
  }
}

$('feed').addEventListener('click', (e) => { const tr = e.target.closest('tr[data-id]'); if (tr) showAlert(tr.dataset.id); });
$('detail').addEventListener('click', (e) => { const b = e.target.closest('button[data-verdict]'); if (b) sendFeedback(b.dataset.verdict); });
api('/api/alerts?limit=' + FEED_ROWS).then((r) => { storeAnswered(r); renderFeed(); });
const events = new EventSource('/api/events?token=' + encodeURIComponent(token));
events.addEventListener('alert', (e) => {
  const { alert, isNew } = JSON.parse(e.data);
  const old = alerts.get(alert.id);
  alerts.set(alert.id, { ...alert, feedback: old ? old.feedback : null });
  if (isNew) {
    newSinceStored++;
    queueCount();
  }
  queueRender();
  $('live').textContent = 'live';
});
events.onopen = () => { $('live').textContent = 'live'; };
events.onerror = () => { $('live').textContent = 'reconnecting'; };
loadModel(); refresh(); setInterval(refresh, 5000);
`;

export function dashboardPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Flowsentry</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>${STYLE}</style>
<script src="/assets/echarts.min.js"></script></head><body>
<header><h1>Flowsentry</h1><span class="pill" id="model-name">model</span><span class="pill" id="drift">drift</span>
<span class="pill" id="live">connecting</span><span class="pill" id="alert-count">0 alerts</span></header>
<main>
<section><h2>Live alerts</h2><table><thead><tr><th>last seen</th><th>source</th><th>destination</th><th>label</th><th>category</th><th>score</th><th>stage</th><th>flows</th><th>feedback</th></tr></thead><tbody id="feed"></tbody></table></section>
<section><h2>Alert detail</h2><div id="detail" class="muted">Select an alert to see why it was raised.</div></section>
<section><h2>Traffic</h2><div class="chart" id="traffic-chart"></div></section>
<section><h2>Top talkers among alerting sources</h2><table id="talkers"></table></section>
<section><div class="chart" id="roc-chart"></div></section>
<section><div class="chart" id="confusion-chart"></div></section>
</main><script>${SCRIPT}</script></body></html>`;
}
