// Time to open a dashboard of 12 line panels over 200 runs in headless
// Chromium: until its first panel is drawn, and until all are.
// Usage: node bench/dashboard_open.mjs <base-url>
import { launchBrowser, drawnMarks } from './browser.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:5000';
const post = async (path, body, prefix = 'mlflow') => {
  const r = await fetch(`${base}/api/2.0/${prefix}/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
};

// 200 runs, each with 12 metrics of 500 steps.
const { experiment_id } = await post('experiments/create', { name: `dash-bench-${Date.now()}` });
const keys = Array.from({ length: 12 }, (_, k) => `metric_${k}`);
for (let r = 0; r < 200; r++) {
  const { run } = await post('runs/create', { experiment_id, start_time: Date.now() });
  for (let first = 0; first < 500; first += 80) {
    const metrics = [];
    for (let s = first; s < Math.min(first + 80, 500); s++)
      for (const key of keys) metrics.push({ key, value: Math.exp(-s / 100) + r / 1000, timestamp: Date.now(), step: s });
    await post('runs/log-batch', { run_id: run.info.run_id, metrics });
  }
}
const { dashboard } = await post('dashboards/create', {
  name: 'bench', experiment_ids: [experiment_id], panels: keys.map(k => ({ type: 'line', metrics: [k] })),
}, 'mltrack');

const browser = await launchBrowser();
const times = [];
for (let i = 0; i < 3; i++) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.addInitScript(drawnMarks);
  await page.goto(`${base}/dashboards/${dashboard.dashboard_id}`);
  await page.waitForFunction(() => window.__drawn?.length >= 12, null, { timeout: 120000 });
  const drawn = await page.evaluate(() => window.__drawn.slice().sort((a, b) => a - b));
  times.push([Math.round(drawn[0]), Math.round(drawn[11])]);
  await page.close();
}
await browser.close();
console.log('dashboard of 12 line panels over 200 runs (500 steps each), opened 3 times (from navigation start, timed in the page):');
for (const [first, all] of times) console.log(`  first panel drawn ${first} ms, all 12 drawn ${all} ms`);
