// Lag from a log-batch's acknowledgement to its point being drawn in a run
// page's chart, in headless Chromium against a running mltrack.
// Usage: node bench/live_lag.mjs <base-url> [points]
import { launchBrowser } from './browser.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:5000';
const points = Number(process.argv[3] ?? 200);
const api = async (path, body) => {
  const r = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};
const log = (run_id, step) =>
  api('runs/log-batch', { run_id, metrics: [{ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step }] });

const { experiment_id } = await api('experiments/create', { name: `lag-${Date.now()}` });
const { run } = await api('runs/create', { experiment_id, start_time: Date.now() });
const id = run.info.run_id;
for (let step = 0; step < 2; step++) await log(id, step);

const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto(`${base}/experiments/${experiment_id}/runs/${id}?tab=charts`);
await page.waitForSelector('#live-badge[data-live="live"]', { timeout: 30000 });
const chart = 'figure.chart-card[data-metric="loss"] .chart';
await page.waitForSelector(`${chart}[data-drawn="true"]`, { timeout: 30000 });
// The page notes the wall-clock time each step first appears in the trace.
await page.$eval(chart, el => {
  window.__seen = {};
  el.on('plotly_afterplot', () => {
    const now = performance.timeOrigin + performance.now();
    for (const x of el.data[0].x) if (!(x in window.__seen)) window.__seen[x] = now;
  });
});

const acked = {};
for (let step = 2; step < points + 2; step++) {
  await log(id, step);
  acked[step] = Date.now();
  // About ten log-batch calls a second, as a training loop that logs each step.
  await new Promise(r => setTimeout(r, 100));
}
await page.waitForFunction(last => window.__seen[last] !== undefined, points + 1, { timeout: 30000 });
const seen = await page.evaluate(() => window.__seen);
const lags = Object.entries(acked).map(([step, t]) => seen[step] - t).sort((a, b) => a - b);
const pct = p => lags[Math.round((lags.length - 1) * p)].toFixed(0);
console.log(`live lag, log-batch acknowledged -> point in the browser's trace (${lags.length} points, 10/s):`);
console.log(`  p50 ${pct(0.5)} ms   p90 ${pct(0.9)} ms   p99 ${pct(0.99)} ms   max ${pct(1)} ms`);
await browser.close();
