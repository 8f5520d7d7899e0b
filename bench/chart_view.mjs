// The experiment chart view at scale, in headless Chromium: 1,000 runs,
// each with 5 metrics of 10,000 steps (50,000,000 points), then one run
// with a 1,000,000-step metric. Prints, timed inside the page from the
// navigation's start: the chart view's first and last panel drawn and the
// bytes each panel's data took; the long run's chart drawn; a zoom into
// 1,000 of its steps drawn with every raw point.
// Usage: node bench/chart_view.mjs <base-url> [runs] [steps]   (release build)
//        REUSE=<exp>,<long exp>,<long run> node bench/chart_view.mjs <base-url>
import { launchBrowser, drawnMarks } from './browser.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:5000';
const RUNS = Number(process.argv[3] ?? 1000);
const STEPS = Number(process.argv[4] ?? 10000);
const KEYS = ['train/loss', 'val/loss', 'val/accuracy', 'lr', 'grad_norm'];
const post = async (path, body) => {
  const r = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};

// 1,000 metrics a batch (MLflow's limit), a few batches in flight at once.
async function fill(runId, keys, steps, value) {
  const batches = [];
  const perBatch = Math.floor(1000 / keys.length);
  for (let first = 0; first < steps; first += perBatch) {
    const metrics = [];
    for (let s = first; s < Math.min(first + perBatch, steps); s++)
      for (const key of keys) metrics.push({ key, value: value(key, s), timestamp: 1_700_000_000_000 + s, step: s });
    batches.push({ run_id: runId, metrics });
  }
  return batches;
}
async function send(batches, inFlight = 6) {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < batches.length) await post('runs/log-batch', batches[next++]);
  }));
}

// REUSE=<experiment id>,<long experiment id>,<long run id> measures data
// filled by an earlier run of this script instead of filling again.
let experiment_id, longExperiment, long;
if (process.env.REUSE) {
  [experiment_id, longExperiment, long] = process.env.REUSE.split(',');
  long = { info: { run_id: long } };
} else {
  ({ experiment_id, longExperiment, long } = await fillAll());
}

async function fillAll() {
  const t0 = Date.now();
  const { experiment_id } = await post('experiments/create', { name: `chart-scale-${Date.now()}` });
  for (let r = 0; r < RUNS; r++) {
    const { run } = await post('runs/create', { experiment_id, run_name: `run-${r}`, start_time: Date.now() });
    await post('runs/log-batch', { run_id: run.info.run_id, params: [{ key: 'lr', value: String(10 ** -(1 + (r % 4))) }] });
    const spike = r * 7 % STEPS;
    await send(await fill(run.info.run_id, KEYS, STEPS, (key, s) =>
      (s === spike ? 5 : 1) * Math.exp(-s / (STEPS / 3)) * (1 + (r % 10) / 10) + (key.length % 3) / 10));
  }
  const { experiment_id: longExperiment } = await post('experiments/create', { name: `long-metric-${Date.now()}` });
  const { run: long } = await post('runs/create', { experiment_id: longExperiment, run_name: 'long', start_time: Date.now() });
  await send(await fill(long.info.run_id, ['long'], 1_000_000, (_, s) => Math.sin(s / 5000) + (s === 777_777 ? 9 : 0)));
  console.log(`filled ${RUNS} runs x ${KEYS.length} metrics x ${STEPS} steps and a 1,000,000-step run in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`(REUSE=${experiment_id},${longExperiment},${long.info.run_id} measures this data again)`);
  return { experiment_id, longExperiment, long };
}

const browser = await launchBrowser();
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.addInitScript(drawnMarks);
  await page.goto(`${base}/experiments/${experiment_id}?view=charts`);
  await page.waitForFunction(n => window.__drawn?.length >= n, KEYS.length, { timeout: 300000 });
  const drawn = await page.evaluate(() => window.__drawn.slice().sort((a, b) => a - b));
  const sizes = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('metric_series')).map(e => e.decodedBodySize));
  const points = await page.$$eval('.chart[data-drawn="true"]', els => els.map(el => el.data.reduce((n, t) => n + t.x.length, 0)));
  const swept = await page.$$eval('.chart-card.sweep', els => els.length);
  const shown = await page.textContent('#charts-run-count');
  const sweepSizes = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('sweep_series')).map(e => e.decodedBodySize));
  const bytes = sizes.length ? sizes : sweepSizes;
  console.log(`chart view, ${KEYS.length} panels over ${RUNS} runs (${shown.trim()}; ${swept} drawn as bands): ` +
    `first drawn ${Math.round(drawn[0])} ms, all ${Math.round(drawn.at(-1))} ms; ` +
    `data per panel ${bytes.map(b => (b / 1e6).toFixed(2)).join(', ')} MB; points per panel ${points.join(', ')}`);
  await page.close();
}
// Parallel coordinates (a line per run) and parameter importance over
// every run, opened by the link.
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${base}/experiments/${experiment_id}?view=charts&pc=1&imp=val/loss`);
  await page.waitForFunction(n => document.querySelectorAll('#parallel .pc-line').length >= n, Math.min(RUNS, 10000),
    { timeout: 300000, polling: 100 });
  const parallel = await page.evaluate(() => performance.now());
  await page.waitForSelector('#importance tbody tr', { timeout: 300000 });
  const importance = await page.evaluate(() => performance.now());
  const lines = await page.$$eval('#parallel .pc-line', ls => ls.length);
  const note = await page.textContent('#importance');
  console.log(`parallel coordinates, ${lines} lines: drawn ${Math.round(parallel)} ms; parameter importance ` +
    `${Math.round(importance)} ms (${/Over \d+ runs/.exec(note)?.[0] ?? note.slice(0, 60)})`);
  await page.close();
}
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.addInitScript(drawnMarks);
  await page.goto(`${base}/experiments/${longExperiment}/runs/${long.info.run_id}?tab=charts`);
  await page.waitForFunction(() => window.__drawn?.length >= 1, null, { timeout: 120000 });
  const first = await page.evaluate(() => window.__drawn[0]);
  const chart = '.chart[data-drawn="true"]';
  const before = await page.$eval(chart, el => el.data[0].x.length);
  const start = await page.evaluate(() => performance.now());
  await page.$eval(chart, el => Plotly.relayout(el, { 'xaxis.range[0]': 500000, 'xaxis.range[1]': 500999 }));
  await page.waitForFunction(sel => document.querySelector(sel).data[0].x.length === 1000, chart, { timeout: 60000 });
  const zoomed = await page.evaluate(s => performance.now() - s, start);
  console.log(`1,000,000-step metric: drawn ${Math.round(first)} ms (${before} points); ` +
    `zoom to 1,000 steps, every raw point drawn ${Math.round(zoomed)} ms`);
  await page.close();
}
await browser.close();
