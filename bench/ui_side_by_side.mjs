// The same sweep in mltrack's chart view and in MLflow's own UI (its
// experiment page's chart view, `/runs?compareRunsMode=CHART`), in headless
// Chromium: the time to the first drawn chart line, and how many charts
// and runs each page draws once it settles; for mltrack also the time until
// every run's value at one step can be read (the first panel hovered as soon
// as it is drawn, until its docked table lists every run). Both servers are
// filled with the same runs through the same REST calls.
// Usage: node bench/ui_side_by_side.mjs <mltrack-url> <mlflow-url> [runs] [steps]
// (bench/ui_side_by_side.sh starts both servers and runs this.)
import { launchBrowser } from './browser.mjs';

const [mltrack, mlflow] = process.argv.slice(2, 4);
const RUNS = Number(process.argv[4] ?? 50);
const STEPS = Number(process.argv[5] ?? 500);
const KEYS = ['train_loss', 'val_loss', 'val_accuracy'];

async function post(base, path, body) {
  const r = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 200) throw new Error(`${base} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function fill(base) {
  const t0 = Date.now();
  const { experiment_id } = await post(base, 'experiments/create', { name: `sweep-${Date.now()}` });
  for (let r = 0; r < RUNS; r++) {
    const { run } = await post(base, 'runs/create', { experiment_id, run_name: `run-${r}`, start_time: 1_700_000_000_000 + r });
    const id = run.info.run_id;
    await post(base, 'runs/log-batch', { run_id: id, params: [{ key: 'lr', value: String(10 ** -(1 + (r % 4))) }, { key: 'depth', value: String(2 + (r % 5)) }] });
    const points = [];
    for (let s = 0; s < STEPS; s++)
      for (const key of KEYS)
        points.push({ key, value: Math.exp(-s / (STEPS / 3)) * (1 + (r % 10) / 10) + key.length / 100, timestamp: 1_700_000_000_000 + s, step: s });
    for (let i = 0; i < points.length; i += 1000) await post(base, 'runs/log-batch', { run_id: id, metrics: points.slice(i, i + 1000) });
    await post(base, 'runs/update', { run_id: id, status: 'FINISHED', end_time: 1_700_000_100_000 });
  }
  return { experiment_id, seconds: (Date.now() - t0) / 1000 };
}

const browser = await launchBrowser();
// The moment the first plotly line is in the page (ms from navigation).
const watch = () => {
  window.__first = null;
  new MutationObserver(() => {
    if (window.__first === null && document.querySelector('.js-plotly-plot .scatterlayer .trace path.js-line'))
      window.__first = performance.now();
  }).observe(document, { childList: true, subtree: true });
};

async function time(url, dock) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.addInitScript(watch);
  await page.goto(url);
  await page.waitForFunction(() => window.__first !== null, null, { timeout: 120000 });
  const first = await page.evaluate(() => window.__first);
  let readable = null;
  if (dock) {
    const area = await (await page.waitForSelector('.js-plotly-plot .nsewdrag')).boundingBox();
    await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
    await page.waitForFunction(n => document.querySelectorAll('#values-dock tbody tr').length >= Math.min(n, 200), RUNS, { timeout: 120000 });
    readable = await page.evaluate(() => performance.now());
  }
  await page.waitForTimeout(3000); // let the page settle: lazily drawn charts, later requests
  const drawn = await page.$$eval('.js-plotly-plot', plots => plots
    .map(p => p.querySelectorAll('.scatterlayer .trace path.js-line').length)
    .filter(n => n > 0));
  await page.close();
  return { first, drawn, readable };
}

const sites = [
  { name: 'mltrack', base: mltrack, url: id => `${mltrack}/experiments/${id}?view=charts`, dock: true },
  { name: 'MLflow 3.17.2', base: mlflow, url: id => `${mlflow}/#/experiments/${id}/runs?compareRunsMode=CHART`, dock: false },
];
for (const site of sites) {
  const { experiment_id, seconds } = await fill(site.base);
  site.id = experiment_id;
  console.log(`${site.name}: filled ${RUNS} runs x ${KEYS.length} metrics x ${STEPS} steps in ${seconds.toFixed(1)} s`);
}
for (const site of sites) {
  await time(site.url(site.id), site.dock); // a first visit fills the browser's cache
  const rounds = [];
  for (let i = 0; i < 3; i++) rounds.push(await time(site.url(site.id), site.dock));
  const firsts = rounds.map(r => Math.round(r.first));
  const { drawn } = rounds.at(-1);
  const readable = site.dock ? rounds.map(r => Math.round(r.readable)) : null;
  console.log(`${site.name}: first chart line drawn ${Math.min(...firsts)}-${Math.max(...firsts)} ms; ` +
    `after 3 s ${drawn.length} charts drawn, lines per chart ${[...new Set(drawn)].join('/')}` +
    (readable ? `; every run's value at a step readable ${Math.min(...readable)}-${Math.max(...readable)} ms` : ''));
}
await browser.close();
