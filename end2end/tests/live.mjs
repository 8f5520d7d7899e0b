// Browser tests: Live updates: charts, table and status move while a run logs; reconnects.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
  await test('live: charts, table and status move while a run logs, zoom kept', async page => {
    const api = async (path, body) => {
      const r = await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await r.text();
      assert.equal(r.status, 200, `${path}: ${text}`);
      return JSON.parse(text);
    };
    const log = (run_id, step, value) => api('runs/log-batch', { run_id, metrics: [{ key: 'live_loss', value, timestamp: Date.now(), step }] });
    const { experiment_id } = await api('experiments/create', { name: `e2e-live-${Date.now()}` });
    const { run } = await api('runs/create', { experiment_id, run_name: 'live-run', start_time: Date.now() });
    const id = run.info.run_id;
    for (let step = 0; step < 5; step++) await log(id, step, 1 / (step + 1));

    // The run page's chart grows in place, and keeps the user's zoom.
    await page.goto(`${base}/experiments/${experiment_id}/runs/${id}?tab=charts`);
    await hydrated(page);
    await page.waitForSelector('#live-badge[data-live="live"]');
    const chart = 'figure.chart-card[data-metric="live_loss"] .chart';
    await page.waitForSelector(`${chart}[data-drawn="true"]`);
    await page.$eval(chart, el => Plotly.relayout(el, { 'xaxis.range': [0.5, 3.5] }));
    // Logged by the real mlflow client, as a training script does.
    execFileSync('.venv/bin/python', ['-c',
      `import mlflow; mlflow.MlflowClient(${JSON.stringify(base)}).log_metric(${JSON.stringify(id)}, "live_loss", 0.1, step=5)`]);
    await page.waitForFunction(sel => document.querySelector(sel).data[0].x.includes(5), chart, { timeout: 5000 });
    assert.deepEqual(await page.$eval(chart, el => el.layout.xaxis.range), [0.5, 3.5], 'zoom kept');
    // The status follows the run.
    await api('runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });
    await page.waitForFunction(() => document.querySelector('#run-status').textContent.trim() === 'finished', null, { timeout: 5000 });
    await page.screenshot({ path: `${shots}live-run.png` });

    // The runs table: a run that starts appears without a reload.
    await page.goto(`${base}/experiments/${experiment_id}`);
    await hydrated(page);
    await page.waitForSelector('#live-badge[data-live="live"]');
    const { run: second } = await api('runs/create', { experiment_id, run_name: 'second-run', start_time: Date.now() });
    await page.waitForSelector(`tr[data-run-id="${second.info.run_id}"]`, { timeout: 5000 });

    // The chart view: the new run's points join the panel in its colour.
    await page.click('#view-charts');
    await page.waitForURL(/view=charts/);
    const panel = 'figure.chart-card[data-metric="live_loss"] .chart';
    await page.waitForSelector(`${panel}[data-drawn="true"]`);
    assert.equal(await page.$eval(panel, el => el.data.length), 1);
    await log(second.info.run_id, 0, 2.0);
    await log(second.info.run_id, 1, 1.5);
    await page.waitForFunction(sel => document.querySelector(sel).data.length === 2, panel, { timeout: 5000 });
    await log(id, 6, 0.05);
    await page.waitForFunction(sel => [...document.querySelector(sel).data].some(t => t.x.includes(6)), panel, { timeout: 5000 });
    await page.screenshot({ path: `${shots}live-charts.png` });

    // Compare: the compared runs' lines grow too.
    await page.goto(`${base}/compare?runs=${id},${second.info.run_id}&metric=live_loss`);
    await hydrated(page);
    await page.waitForSelector('#live-badge[data-live="live"]');
    const compared = '#compare-chart';
    await page.waitForSelector(`${compared}[data-drawn="true"]`);
    await log(second.info.run_id, 2, 1.2);
    await page.waitForFunction(sel => [...document.querySelector(sel).data].some(t => t.x.includes(2) && t.y.includes(1.2)), compared, { timeout: 5000 });
  });

  await test('live: a page reconnects after the server restarts and catches up', async page => {
    // A server of this test's own, to kill and start again on the same port and data.
    const dir = mkdtempSync(join(tmpdir(), 'mltrack-restart-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const url = `http://127.0.0.1:${port}`;
    const start = async () => {
      const proc = spawn(process.env.MLTRACK_BIN, ['ui', '--port', String(port)], { cwd: dir, stdio: 'ignore' });
      for (let i = 0; i < 300; i++) {
        try { if ((await fetch(`${url}/health`)).ok) return proc; } catch {}
        await new Promise(r => setTimeout(r, 100));
      }
      throw new Error('mltrack did not start');
    };
    let server = await start();
    try {
      const post = async (path, body) => (await fetch(`${url}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
      const { experiment_id } = await post('experiments/create', { name: 'restart' });
      const { run } = await post('runs/create', { experiment_id, start_time: Date.now() });
      const log = (step) => post('runs/log-batch', { run_id: run.info.run_id, metrics: [{ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step }] });
      for (let step = 0; step < 3; step++) await log(step);
      await page.goto(`${url}/experiments/${experiment_id}/runs/${run.info.run_id}?tab=charts`);
      await page.waitForSelector('body[data-hydrated="true"]');
      await page.waitForSelector('#live-badge[data-live="live"]');
      const chart = 'figure.chart-card[data-metric="loss"] .chart';
      await page.waitForSelector(`${chart}[data-drawn="true"]`);
      server.kill('SIGKILL');
      await page.waitForSelector('#live-badge[data-live="reconnecting"]', { timeout: 10000 });
      server = await start();
      // Logged before the page is back: it catches up on reconnecting.
      await log(3);
      await page.waitForSelector('#live-badge[data-live="live"]', { timeout: 15000 });
      await page.waitForFunction(sel => document.querySelector(sel).data[0].x.includes(3), chart, { timeout: 10000 });
      await log(4);
      await page.waitForFunction(sel => document.querySelector(sel).data[0].x.includes(4), chart, { timeout: 5000 });
    } finally {
      server.kill('SIGKILL');
    }
  }, { allow: /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|net::ERR|EventSource/ });
}
