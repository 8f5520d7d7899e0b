// Browser tests: Debian's Chromium driven by playwright-core against a real
// mltrack populated through the real mlflow client (see end2end/run.sh).
// Usage: node end2end/e2e.mjs <base-url> '<ids json from populate.py>'
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.argv[2] ?? 'http://127.0.0.1:5000';
const ids = JSON.parse(process.argv[3] ?? '{}');
const shots = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
let passed = 0, failed = 0;
const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;

async function test(name, fn, { allow = null } = {}) {
  if (only && !only.test(name)) return;
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Every page runs under mltrack's Content-Security-Policy: any script,
  // style or image it blocks is a failure of the test that showed it.
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await fn(page);
    assert.deepEqual(await page.evaluate(() => window.__csp ?? []), [], 'Content-Security-Policy violations');
    assert.deepEqual(errors.filter(e => !(allow && allow.test(e))), [], 'console errors');
    console.log(`ok - ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAILED - ${name} (at ${page.url()})\n${e.stack}\n${errors.join('\n')}`);
    await page.screenshot({ path: `${shots}FAILED-${name.replace(/\W+/g, '-')}.png` }).catch(() => {});
    failed++;
  } finally {
    await page.close();
  }
}

const hydrated = page => page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
const exp = ids.experiment;
const runUrl = id => `/experiments/${exp}/runs/${id}`;
const rowNames = page => page.$$eval('#runs tbody td.name a', as => as.map(a => a.textContent));

await test('experiments page renders on the server and hydrates', async page => {
  // Server-side rendering: the table is in the HTML before any script runs.
  const html = await (await fetch(base + '/')).text();
  assert.match(html, /<table[^>]*id="experiments"/);
  assert.match(html, /e2e-alpha/);

  await page.goto(base + '/');
  await hydrated(page);
  const names = await page.$$eval('#experiments td.name a', tds => tds.map(t => t.textContent));
  assert.ok(names.includes('e2e-alpha') && names.includes('e2e-beta') && names.includes('Default'), names.join());
  const alpha = await page.$eval(`#experiments tr[data-experiment-id="${exp}"]`, tr => tr.children[2].textContent);
  assert.equal(alpha, '10', 'run count of e2e-alpha');
  // Each experiment says what it is: its description's first line, its tags.
  const row = `#experiments tr[data-experiment-id="${exp}"]`;
  assert.match(await page.textContent(`${row} .experiment-summary`), /^Sweep of lr and the optimizer/);
  assert.match(await page.textContent(`${row} .tag-chips`), /team\s+vision/);
  await page.fill('#experiment-search', 'vision');
  await page.waitForFunction(() => document.querySelectorAll('#experiments tbody tr').length === 1);
  await page.fill('#experiment-search', '');
  await page.screenshot({ path: `${shots}experiments.png` });

  // Hydrated: typing in the search box filters the rows in the browser.
  await page.fill('#experiment-search', 'beta');
  await page.waitForFunction(() => document.querySelectorAll('#experiments tbody tr').length === 1);
  assert.equal(await page.textContent('#experiments td.name a'), 'e2e-beta');

  // Create an experiment from the UI; it appears in the list.
  await page.fill('#experiment-search', '');
  await page.fill('#new-experiment', 'made-in-the-ui');
  await page.click('.inline-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#experiments td.name a')].some(t => t.textContent === 'made-in-the-ui'));
});

await test('runs table: filter, bad filter, sort, nested runs, select and compare', async page => {
  const html = await (await fetch(`${base}/experiments/${exp}`)).text();
  assert.match(html, /run-failed/, 'rows rendered on the server');
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  await page.screenshot({ path: `${shots}runs.png` });
  assert.ok((await rowNames(page)).includes('hp-sweep-depth'));
  assert.ok(!(await rowNames(page)).includes('depth-0'), 'children are folded under their parent');

  // Nested runs expand under the parent.
  await page.click(`tr[data-run-id="${ids.parent}"] button.expand`);
  await page.waitForSelector('#runs tr.child');
  assert.equal((await page.$$('#runs tr.child')).length, 3);

  // MLflow's filter syntax; the state goes into the URL.
  await page.fill('#run-filter', "params.optimizer = 'sgd' AND metrics.val_loss < 10");
  await page.click('.filter-bar button');
  await page.waitForURL(/filter=/);
  await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr').length === 2);
  assert.deepEqual((await rowNames(page)).sort(), ['run-02', 'run-03']);

  // A bad filter says where it is wrong, inline, and the table keeps the
  // last good result; params are compared as text, and the error says so.
  const goodUrl = page.url();
  await page.fill('#run-filter', 'metrics.val_loss <<< 1');
  await page.click('.filter-bar button');
  await page.waitForSelector('#filter-error');
  assert.match(await page.textContent('#filter-error'), /character/);
  assert.deepEqual((await rowNames(page)).sort(), ['run-02', 'run-03']);
  assert.equal(page.url(), goodUrl);
  await page.fill('#run-filter', "params.lr < '0.001'");
  await page.click('.filter-bar button');
  await page.waitForFunction(() => /stored as text/.test(document.querySelector('#filter-error')?.textContent ?? ''));
  assert.equal((await page.$$('#runs tbody tr')).length, 2);
  // A link with a bad filter shows every run, with the reason above.
  await page.goto(`${base}/experiments/${exp}?filter=${encodeURIComponent('metrics.loss <<< 1')}`);
  await hydrated(page);
  assert.match(await page.textContent('#filter-error'), /Showing all runs/);
  assert.ok((await rowNames(page)).includes('hp-sweep-depth'));

  // Sort by a metric column: a loss's lowest first on the first click, then
  // the other way; a reload keeps it.
  await page.goto(`${base}/experiments/${exp}?filter=${encodeURIComponent("params.optimizer = 'adam'")}`);
  await hydrated(page);
  await page.click('th[data-key="metrics.`val_loss`"]');
  await page.waitForURL(/order=/);
  assert.equal(new URL(page.url()).searchParams.get('order'), 'metrics.`val_loss` ASC');
  await page.waitForFunction(() => document.querySelector('th[data-key="metrics.`val_loss`"]').textContent.includes('↑'));
  // The arrow follows the URL at once; the rows follow the refetch. A run
  // without val_loss sorts last (MLflow's rule), so wait for that.
  await page.waitForFunction(() => [...document.querySelectorAll('#runs tbody td.name a')].at(-1)?.textContent === 'artifacts-and-long-metric');
  const asc = await rowNames(page);
  await page.reload();
  await hydrated(page);
  assert.deepEqual(await rowNames(page), asc, 'a reload shows the same order');
  await page.click('th[data-key="metrics.`val_loss`"]');
  await page.waitForFunction(() => document.querySelector('th[data-key="metrics.`val_loss`"]').textContent.includes('↓'));
  await page.click('th[data-key="metrics.`val_loss`"]');
  await page.waitForFunction(() => document.querySelector('th[data-key="metrics.`val_loss`"]').textContent.includes('↑'));
  // An accuracy's highest first on the first click.
  await page.click('th[data-key="metrics.`accuracy`"]');
  await page.waitForURL(u => new URL(u).searchParams.get('order') === 'metrics.`accuracy` DESC');
  await page.click('th[data-key="metrics.`val_loss`"]');
  await page.waitForURL(u => new URL(u).searchParams.get('order') === 'metrics.`val_loss` ASC');

  // Ranked by a column, nested runs take their place among all runs (as
  // MLflow flattens them), each naming its parent; the parent, which has
  // no val_loss, sorts last instead of hiding its children at the bottom.
  await page.goto(`${base}/experiments/${exp}?order=${encodeURIComponent('metrics.`val_loss` ASC')}`);
  await hydrated(page);
  const ranked = await page.$$eval('#runs tbody tr[data-run-id]', trs => trs.map(tr => {
    const head = [...document.querySelectorAll('#runs thead tr:last-child th')];
    const i = head.findIndex(t => t.dataset.key === 'metrics.`val_loss`');
    return { name: tr.querySelector('td.name a').textContent, parent: tr.querySelector('.parent-of')?.textContent.trim() ?? '',
             value: tr.children[i].getAttribute('title'), expand: !!tr.querySelector('button.expand') };
  }));
  assert.equal(ranked.length, 10, ranked.map(r => r.name).join());
  assert.deepEqual(ranked.filter(r => r.name.startsWith('depth-')).map(r => r.parent), Array(3).fill('in hp-sweep-depth'));
  assert.ok(ranked.every(r => !r.expand), 'no folding while ranked');
  const values = ranked.filter(r => r.value !== null).map(r => parseFloat(r.value));
  assert.deepEqual(values, [...values].sort((a, b) => a - b), 'ranked by val_loss, lowest first');
  assert.ok(ranked.slice(values.length).some(r => r.name === 'hp-sweep-depth'), 'the parent without val_loss is last');
  assert.ok(ranked.findIndex(r => r.name === 'depth-0') < values.length, 'a child ranks by its own value');
  await page.screenshot({ path: `${shots}runs-ranked.png` });

  // At 1024 px every metric column is in view: who and where give way.
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  const metricHeads = await page.$$eval('#runs thead tr:last-child th', ths => {
    const edge = document.querySelector('.table-scroll').getBoundingClientRect().right;
    return ths.filter(t => (t.dataset.key ?? '').startsWith('metrics.'))
      .map(t => ({ key: t.dataset.key, right: t.getBoundingClientRect().right, edge }));
  });
  assert.equal(metricHeads.length, 5, metricHeads.map(m => m.key).join());
  assert.ok(metricHeads.every(m => m.right <= m.edge), JSON.stringify(metricHeads));
  await page.screenshot({ path: `${shots}runs-1024.png` });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`${base}/experiments/${exp}?filter=${encodeURIComponent("params.optimizer = 'adam'")}&order=${encodeURIComponent('metrics.`val_loss` ASC')}`);
  await hydrated(page);

  // Params that are numbers sort as numbers (32 before 128), in the store's order.
  const sortedUrl = page.url();
  await page.goto(`${base}/experiments/${exp}?order=${encodeURIComponent('params.`batch_size` ASC')}`);
  await hydrated(page);
  const batch = await page.$$eval('#runs thead tr:last-child th', ths => {
    const i = ths.findIndex(t => t.dataset.key === 'params.`batch_size`');
    return [...document.querySelectorAll('#runs tbody tr')].map(tr => tr.children[i].textContent.trim());
  });
  assert.deepEqual(batch.filter(b => b !== '–'), ['32', '64', '96', '128']);
  assert.ok(batch.slice(4).every(b => b === '–'), 'runs without the param last');
  await page.goto(sortedUrl);
  await hydrated(page);
  await page.waitForFunction(() => document.querySelector('th[data-key="metrics.`val_loss`"]').textContent.includes('↑'));
  // Numbers line up: a column shares its decimals, right-aligned, and its
  // best value is marked (the highest accuracy; the lowest loss).
  const column = key => page.$$eval('#runs thead tr:last-child th', (ths, key) => {
    const i = ths.findIndex(t => t.dataset.key === key);
    return [...document.querySelectorAll('#runs tbody tr')].map(tr => tr.children[i])
      .map(td => ({ text: td.textContent.trim(), best: td.classList.contains('best'), align: getComputedStyle(td).textAlign }));
  }, key);
  const acc = (await column('metrics.`accuracy`')).filter(c => c.text !== '–');
  assert.equal(new Set(acc.map(c => c.text.split('.')[1]?.length)).size, 1, acc.map(c => c.text).join());
  assert.ok(acc.every(c => c.align === 'right'));
  const bestAcc = acc.filter(c => c.best);
  assert.equal(bestAcc.length, 1);
  assert.equal(Number(bestAcc[0].text), Math.max(...acc.map(c => Number(c.text))));
  assert.match(await page.textContent('#runs tr.column-groups'), /Metrics.*Params/);

  // The experiment's description (Markdown, no script runs) and its tags.
  assert.equal(await page.textContent('#experiment-description strong'), 'lr');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.match(await page.textContent('#experiment-tags'), /team\s+vision/);

  // Column picker: hide a column; the choice is in the URL.
  await page.click('#columns-button');
  await page.click('#column-picker label:has-text("metrics.accuracy") input');
  await page.waitForURL(/cols=/);
  assert.equal(await page.$('th[data-key="metrics.`accuracy`"]'), null);
  // Each metric's lowest value over its whole history is a column to add
  // (from what the store keeps at ingest): run-00's is its history's minimum.
  await page.click('#column-picker label:has-text("min.val_loss") input');
  await page.waitForURL(u => (new URL(u).searchParams.get('cols') ?? '').includes('min.val_loss'));
  await page.waitForSelector('#runs th.range');
  assert.equal((await page.textContent('#runs th.range')).trim(), 'val_loss (min)');
  const lowestCell = () => page.$eval('#runs thead tr:last-child', (head, id) => {
    const i = [...head.children].findIndex(t => t.classList.contains('range'));
    const td = document.querySelector(`#runs tbody tr[data-run-id="${id}"]`).children[i];
    return td.getAttribute('title');
  }, ids.runs[0]);
  for (let i = 0; i < 100 && !(await lowestCell()); i++) await page.waitForTimeout(50);
  const history = await (await fetch(`${base}/api/2.0/mlflow/metrics/get-history?run_id=${ids.runs[0]}&metric_key=val_loss&max_results=25000`)).json();
  assert.equal(Number(await lowestCell()), Math.min(...history.metrics.map(m => m.value)));
  assert.match(await page.textContent('#runs tr.column-groups'), /Lowest/);

  // Select two runs and compare them.
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  await page.check(`tr[data-run-id="${ids.runs[0]}"] td.check input`);
  await page.check(`tr[data-run-id="${ids.runs[2]}"] td.check input`);
  assert.equal((await page.textContent('#compare-button')).trim(), 'Compare 2');
  // Compare lists the runs in the table's order (newest first here).
  const order = await page.$$eval('#runs tbody tr', trs => trs.map(t => t.dataset.runId));
  await page.click('#compare-button');
  await page.waitForURL(/\/compare\?runs=/);
  const picked = new URL(page.url()).searchParams.get('runs').split(',');
  assert.deepEqual(picked, order.filter(id => picked.includes(id)));
  assert.ok(picked.includes(ids.runs[0]) && picked.includes(ids.runs[2]));
  await page.waitForSelector('#compare-chart[data-drawn="true"]', { timeout: 30000 });

  // Shift-click selects the rows in between; select all takes every run
  // the filter keeps, nested children too; again: none.
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  const rows = await page.$$eval('#runs tbody tr', trs => trs.map(t => t.dataset.runId));
  await page.click(`tr[data-run-id="${rows[1]}"] td.check input`);
  await page.click(`tr[data-run-id="${rows[4]}"] td.check input`, { modifiers: ['Shift'] });
  await page.waitForFunction(() => document.querySelectorAll('#runs tbody td.check input:checked').length === 4);
  const checked = await page.$$eval('#runs tbody tr', trs => trs.filter(t => t.querySelector('td.check input').checked).map(t => t.dataset.runId));
  assert.deepEqual(checked, rows.slice(1, 5));
  await page.click('#select-all');
  const total = await (await fetch(`${base}/api/2.0/mlflow/runs/search`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [exp], max_results: 1000 }) })).json();
  await page.waitForFunction(n => document.querySelector('#compare-button')?.textContent.trim() === `Compare ${n}`, total.runs.length);
  assert.ok(total.runs.length > rows.length, 'children folded under their parent are selected too');
  assert.equal(await page.$eval('#select-all', c => c.checked), true);
  await page.click('#select-all');
  await page.waitForFunction(() => document.querySelector('#compare-button')?.textContent.trim() === 'Compare');
});

await test('runs table: a big table renders the rows and columns in view, and scrolls through all of them', async page => {
  // 150 runs x 40 metrics and 10 params, logged as the client's log_batch does.
  const post = async (path, body) => (await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const { experiment_id: big } = await post('experiments/create', { name: `wide-and-long-${Date.now()}` });
  const value = (i, k) => ((i * 7 + k) % 101) / 100;
  const curve = (i, step) => (i * 10 + step) / 1000;
  for (let i = 0; i < 150; i += 10) {
    await Promise.all(Array.from({ length: 10 }, async (_, j) => {
      const n = i + j;
      const { run } = await post('runs/create', { experiment_id: big, run_name: `big-${String(n).padStart(3, '0')}`, start_time: 1_700_000_000_000 + n });
      await post('runs/log-batch', { run_id: run.info.run_id,
        metrics: [
          ...Array.from({ length: 40 }, (_, k) => ({ key: `m${String(k).padStart(2, '0')}`, value: value(n, k), timestamp: 1_700_000_000_000, step: 0 })),
          ...Array.from({ length: 5 }, (_, s) => ({ key: 'zz_curve', value: curve(n, s), timestamp: 1_700_000_000_000 + s, step: s })),
        ],
        params: Array.from({ length: 10 }, (_, k) => ({ key: `p${k}`, value: String((n + k) % 13) })) });
    }));
  }
  await page.goto(`${base}/experiments/${big}`);
  await hydrated(page);
  const shownRows = () => page.$$eval('#runs tbody td.name a', as => as.map(a => a.textContent));
  // The first page (100 runs) is loaded; only the rows in view are in the page.
  assert.equal((await page.textContent('#run-count')).trim(), '100+ runs');
  await page.waitForSelector('#runs.windowed');
  const first = await shownRows();
  assert.equal(first[0], 'big-149');
  assert.ok(first.length >= 15 && first.length < 60, `${first.length} rows rendered`);
  assert.ok(await page.$('th[data-key="metrics.`m00`"]'));
  assert.equal(await page.$('th[data-key="params.`p9`"]'), null, 'columns far to the right are not rendered');
  // Scrolled to the bottom: the 100th run shows, the first rows are gone;
  // the scroll height is the whole table's.
  await page.$eval('.table-scroll', s => { s.scrollTop = s.scrollHeight; });
  await page.waitForFunction(() => [...document.querySelectorAll('#runs tbody td.name a')].some(a => a.textContent === 'big-050'));
  assert.ok(!(await shownRows()).includes('big-149'));
  // A row picked down here stays picked while it scrolls out and back.
  await page.check('#runs tr:has(td.name a:text-is("big-060")) td.check input');
  // Scrolled right to the end: the last param columns, aligned with their header.
  await page.$eval('.table-scroll', s => { s.scrollLeft = s.scrollWidth; });
  await page.waitForSelector('th[data-key="params.`p9`"]');
  assert.equal(await page.$('th[data-key="metrics.`m00`"]'), null);
  const cell = await page.$eval('#runs thead tr:last-child', head => {
    const ths = [...head.children];
    const i = ths.findIndex(t => t.dataset.key === 'params.`p9`');
    const row = [...document.querySelectorAll('#runs tbody tr[data-run-id]')].find(r => r.querySelector('td.name a').textContent === 'big-050');
    const td = row.children[i];
    return { text: td.textContent.trim(), td: td.getBoundingClientRect().left, th: ths[i].getBoundingClientRect().left };
  });
  assert.equal(cell.text, String((50 + 9) % 13));
  assert.ok(Math.abs(cell.td - cell.th) < 1, `header at ${cell.th}, cell at ${cell.td}`);
  await page.$eval('.table-scroll', s => { s.scrollTop = 0; });
  await page.waitForFunction(() => [...document.querySelectorAll('#runs tbody td.name a')].some(a => a.textContent === 'big-149'));
  await page.$eval('.table-scroll', s => { s.scrollTop = s.scrollHeight; });
  await page.waitForSelector('#runs tr:has(td.name a:text-is("big-060")) td.check input:checked');
  // The next page joins the same window; select all takes every run.
  await page.click('.load-more');
  await page.waitForFunction(() => document.querySelector('#run-count').textContent.trim() === '150 runs');
  await page.$eval('.table-scroll', s => { s.scrollTop = s.scrollHeight; });
  await page.waitForFunction(() => [...document.querySelectorAll('#runs tbody td.name a')].some(a => a.textContent === 'big-000'));
  assert.ok((await shownRows()).length < 60);
  await page.click('#select-all');
  await page.waitForFunction(() => document.querySelector('#compare-button').textContent.trim() === 'Compare 150');
  await page.screenshot({ path: `${shots}runs-windowed.png` });
  // Their chart: 150 lines merged into a trace per colour, each point
  // still under its own run's name (for the hover box, the dock's below).
  await page.goto(`${base}/experiments/${big}?view=charts&q=zz_curve`);
  await hydrated(page);
  const chart = 'figure.chart-card[data-metric="zz_curve"] .chart';
  await page.waitForSelector(`${chart}[data-drawn="true"]`);
  const traces = await page.$eval(chart, el => el.data.map(t => ({
    hoverinfo: t.hoverinfo,
    points: [...t.y].map((y, i) => [t.text[i], t.x[i], y]).filter(([name]) => name),
    gaps: [...t.y].filter((y, i) => !t.text[i]).length,
  })));
  assert.ok(traces.length <= 20, `${traces.length} traces`);
  assert.ok(traces.every(t => t.hoverinfo === 'none'), 'values at a step go to the dock');
  const points = traces.flatMap(t => t.points);
  assert.equal(points.length, 150 * 5);
  for (const [name, step, y] of points) assert.equal(y, curve(Number(name.slice(4)), step), `${name} at ${step}`);
  assert.ok(traces.every(t => t.gaps === t.points.length / 5 - 1), 'a gap between two runs');
  // Hovering the panel fills the docked table with every run's value at
  // that step, highest first, in one precision, all on screen; no floating box.
  const plotArea = await (await page.$(`${chart} .nsewdrag`)).boundingBox();
  await page.mouse.move(plotArea.x + plotArea.width / 2, plotArea.y + plotArea.height * 0.7);
  await page.waitForFunction(() => /zz_curve at step 2 · 150 runs/.test(document.querySelector('#values-dock h3')?.textContent ?? ''));
  const docked = await page.$$eval('#values-dock tbody tr', trs => trs.map(tr => [tr.querySelector('td.name').textContent, tr.querySelector('td.num').textContent]));
  assert.equal(docked.length, 150);
  assert.deepEqual(docked[0], ['big-149', '1.492']);
  assert.deepEqual(docked.map(([, v]) => Number(v)), docked.map(([n]) => curve(Number(n.slice(4)), 2)));
  assert.ok(docked.every(([, v], i) => i === 0 || Number(docked[i - 1][1]) >= Number(v)), 'highest first');
  assert.equal(new Set(docked.map(([, v]) => v.split('.')[1].length)).size, 1, 'one precision');
  assert.equal(await page.$$eval(`${chart} .hoverlayer .hovertext`, h => h.length), 0, 'no floating hover box');
  const dock = await (await page.$('#values-dock')).boundingBox();
  assert.ok(dock.y >= 0 && dock.y + dock.height <= 900, `the dock fits the screen: ${JSON.stringify(dock)}`);
  await page.screenshot({ path: `${shots}values-dock.png` });
  // A row clicked shows that run alone, in every panel, by the link.
  await page.click('#values-dock tbody tr:has(td.name:text-is("big-007"))');
  await page.waitForURL(u => (new URL(u).searchParams.get('sel') ?? '').length === 32);
  await page.waitForFunction(sel => {
    const el = document.querySelector(sel);
    return el?.data?.length === 1 && el.data[0].name === 'big-007';
  }, chart);
  assert.match(await page.textContent('#charts-run-count'), /^1 of 150 runs/);
  // A max column: "Load more" asks the store for the new runs' maxima only.
  const asked = [];
  page.on('request', r => { if (r.url().includes('/_app/metric_ranges')) asked.push(new URLSearchParams(r.postData()).get('run_ids').split(',')); });
  await page.goto(`${base}/experiments/${big}?cols=${encodeURIComponent('metrics.zz_curve,max.zz_curve')}`);
  await hydrated(page);
  const maxOf = name => page.$eval('#runs thead tr:last-child', (head, name) => {
    const i = [...head.children].findIndex(t => t.classList.contains('range'));
    const row = [...document.querySelectorAll('#runs tbody tr[data-run-id]')].find(r => r.querySelector('td.name a').textContent === name);
    return row?.children[i].getAttribute('title');
  }, name);
  for (let i = 0; i < 100 && !(await maxOf('big-149')); i++) await page.waitForTimeout(50);
  assert.equal(Number(await maxOf('big-149')), curve(149, 4));
  await page.click('.load-more');
  await page.waitForFunction(() => document.querySelector('#run-count').textContent.trim() === '150 runs');
  await page.$eval('.table-scroll', s => { s.scrollTop = s.scrollHeight; });
  for (let i = 0; i < 100 && !(await maxOf('big-000')); i++) await page.waitForTimeout(50);
  assert.equal(Number(await maxOf('big-000')), curve(0, 4));
  assert.deepEqual(asked.map(ids => ids.length), [100, 50], 'each run asked about once');
});

await test('compare: overlaid chart, grouping, x by another metric, scatter, parameter diff; the link reproduces it', async page => {
  const url = `${base}/compare?runs=${ids.runs.join(',')}&metric=val_loss&group=params.optimizer&sx=params.lr&sy=metrics.val_loss`;
  await page.goto(url);
  await hydrated(page);
  await page.waitForSelector('#compare-chart[data-drawn="true"] .scatterlayer .trace', { timeout: 30000 });
  const legend = await page.$$eval('#compare-chart .legendtext', ts => ts.map(t => t.textContent));
  assert.ok(legend.some(t => t.includes('adam (2 runs)')) && legend.some(t => t.includes('sgd (2 runs)')), legend.join());
  assert.equal(await page.$eval('#group-by', s => s.value), 'params.optimizer');
  await page.waitForSelector('#scatter-chart[data-drawn="true"] .scatterlayer .point');
  assert.equal((await page.$$('#scatter-chart .scatterlayer .point')).length, 4);
  // Grouped, each point takes its group's colour, as the lines above do.
  const pointColors = await page.$eval('#scatter-chart', el => el.data[0].marker.color);
  const groupColors = await page.$eval('#compare-chart', el => el.data.filter(t => t.showlegend !== false).map(t => t.line.color));
  assert.equal(new Set(pointColors).size, 2, `${pointColors}`);
  assert.ok(pointColors.every(c => groupColors.includes(c)), `${pointColors} vs ${groupColors}`);
  // lr spans 30x (0.001 to 0.03): the scatter puts it on a log axis by itself.
  assert.equal(await page.$eval('#scatter-chart', el => el._fullLayout.xaxis.type), 'log');
  // Parameters that differ are marked; "only differences" hides the rest.
  const differs = await page.$$eval('#compare-params tr.differs th', ths => ths.map(t => t.textContent));
  assert.ok(differs.includes('lr') && differs.includes('optimizer') && !differs.includes('dropout'), differs.join());
  await page.check('#diff-only');
  await page.waitForURL(/diff=1/);
  await page.waitForFunction(() => ![...document.querySelectorAll('#compare-params th')].some(t => t.textContent === 'dropout'));
  await page.screenshot({ path: `${shots}compare.png`, fullPage: true });

  // X axis by another metric, log scatter axis: each goes into the URL.
  await page.selectOption('#compare-x', 'metric:train_loss');
  await page.waitForURL(/x=metric%3Atrain_loss/);
  await page.waitForFunction(() => document.querySelector('#compare-chart .xtitle')?.textContent === 'train_loss');
  assert.equal(await page.$eval('#scatter-log-x', c => c.checked), true);
  // A setting changed below the fold keeps the page where it is scrolled.
  await page.$eval('#scatter-log-x', el => el.scrollIntoView({ block: 'center' }));
  const scrolled = await page.evaluate(() => window.scrollY);
  assert.ok(scrolled > 100, `the scatter's controls are below the fold (scrollY ${scrolled})`);
  await page.uncheck('#scatter-log-x');
  await page.waitForURL(/sxlog=0/);
  await page.waitForFunction(() => document.querySelector('#scatter-chart')._fullLayout.xaxis.type === 'linear');
  assert.equal(await page.evaluate(() => window.scrollY), scrolled, 'the page did not jump to the top');
  await page.check('#scatter-log-x');
  await page.waitForURL(/sxlog=1/);
  const shared = page.url();
  // A teammate opening the link sees the same view.
  const other = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await other.goto(shared);
  await other.waitForSelector('body[data-hydrated="true"]');
  // The controls come with the runs, which may arrive after hydration.
  await other.waitForSelector('#compare-x');
  assert.equal(await other.$eval('#compare-x', s => s.value), 'metric:train_loss');
  assert.equal(await other.$eval('#scatter-log-x', c => c.checked), true);
  assert.equal(await other.$eval('#diff-only', c => c.checked), true);
  await other.close();
});

await test('compare as a report: who the runs are, every metric, parallel coordinates, best values marked', async page => {
  await page.goto(`${base}/compare?runs=${ids.runs[0]},${ids.runs[1]},${ids.failed}`);
  await hydrated(page);
  await page.waitForSelector('#compare-runs');
  const row = key => page.$$eval(`#compare-runs tr[data-row="${key}"] td`, tds => tds.map(t => t.textContent.trim()));
  assert.deepEqual(await row('status'), ['finished', 'finished', 'failed']);
  assert.ok((await row('duration')).every(d => /\d+(ms|s)/.test(d)), (await row('duration')).join());
  assert.deepEqual(await row('tags.team'), ['vision', 'vision', '–']);
  // A panel per metric the runs logged, in the runs' colours.
  await page.waitForFunction(() => document.querySelectorAll('#compare-panels .chart[data-drawn="true"]').length >= 4);
  const panels = await page.$$eval('#compare-panels figure[data-metric]', fs => fs.map(f => f.dataset.metric));
  assert.deepEqual(panels, ['accuracy', 'test_accuracy', 'train_loss', 'val_loss']);
  const lines = await page.$eval('#compare-panels figure[data-metric="val_loss"] .chart', el => el.data.filter(t => t.mode === 'lines').map(t => t.name));
  assert.deepEqual(lines.sort(), ['run-00', 'run-01', 'run-failed']);
  // Parallel coordinates over the same runs.
  await page.waitForSelector('#compare-parallel svg .pc-line');
  assert.equal((await page.$$('#compare-parallel .pc-line')).length, 3);
  // The latest metrics: one precision per row, the best value marked.
  const cells = await page.$$eval('#compare-metrics tr[data-metric="val_loss"] td', tds => tds.map(t => ({ text: t.textContent.trim(), best: t.classList.contains('best') })));
  const numbers = cells.filter(c => c.text !== '–');
  assert.equal(new Set(numbers.map(c => c.text.split('.')[1]?.length)).size, 1, numbers.map(c => c.text).join());
  const best = numbers.filter(c => c.best);
  assert.equal(best.length, 1);
  assert.equal(Number(best[0].text), Math.min(...numbers.map(c => Number(c.text))), 'the lowest loss is the best');
  const acc = await page.$$eval('#compare-metrics tr[data-metric="accuracy"] td.best', tds => tds.map(t => Number(t.textContent)));
  const accAll = await page.$$eval('#compare-metrics tr[data-metric="accuracy"] td', tds => tds.map(t => Number(t.textContent)).filter(Number.isFinite));
  assert.deepEqual(acc, [Math.max(...accAll)], 'the highest accuracy is the best');
  await page.screenshot({ path: `${shots}compare-report.png`, fullPage: true });
});

await test('run page: overview, editable description and tags, charts with axis switch', async page => {
  const t0 = Date.now();
  await page.goto(base + runUrl(ids.artifact_run) + '?tab=charts');
  await page.waitForSelector('#chart-0[data-drawn="true"] .scatterlayer .trace path.js-line', { timeout: 30000 });
  const chartMs = Date.now() - t0;
  console.log(`# time to a drawn chart of a 100,000-point metric: ${chartMs} ms`);
  const caption = await page.textContent('figure[data-metric="long_metric"] figcaption');
  assert.match(caption, /100000 points, \d+ drawn/);
  await page.screenshot({ path: `${shots}run-charts.png` });
  await page.selectOption('#x-axis', 'relative');
  await page.waitForURL(/x=relative/);
  await page.waitForFunction(() => document.querySelector('#chart-0 .xtitle')?.textContent === 'seconds since start');
  await page.check('#log-y');
  await page.waitForURL(/log=1/);

  await page.goto(base + runUrl(ids.artifact_run));
  await hydrated(page);
  assert.match(await page.textContent('#metrics-table'), /long_metric.*100000/s);
  assert.match(await page.textContent('#description'), /Baseline/);
  assert.match(await page.textContent('#logged-models'), /model/);
  assert.match(await page.textContent('#registered-versions'), /e2e-classifier v2/);
  await page.screenshot({ path: `${shots}run-overview.png` });
  await page.fill('#param-search', 'optim');
  await page.waitForFunction(() => document.querySelectorAll('#params-table tbody tr').length === 1);
  // A top-level run has no parent row (rows with nothing to say are left out).
  assert.doesNotMatch(await page.textContent('#run-info'), /Parent run/);
  // A metric's name opens its chart on the Charts tab, scrolled to and marked.
  await page.click('#metrics-table tr[data-metric="long_metric"] a');
  await page.waitForURL(/tab=charts&metric=long_metric/);
  await page.waitForSelector('figure.chart-card.focused[data-metric="long_metric"]');
  await page.goto(base + runUrl(ids.artifact_run));
  await hydrated(page);

  await page.click('#edit-description');
  await page.fill('#description-editor', '# Edited\n\nNew text from the UI');
  await page.click('#save-description');
  await page.waitForFunction(() => document.querySelector('#description')?.textContent.includes('New text from the UI'));
  await page.fill('#add-tag input[placeholder=key]', 'reviewed');
  await page.fill('#add-tag input[placeholder=value]', 'yes');
  await page.click('#add-tag button');
  await page.waitForFunction(() => document.querySelector('#tags-table')?.textContent.includes('reviewed'));
  // Stored through the same store the REST API reads.
  const run = await (await fetch(`${base}/api/2.0/mlflow/runs/get?run_id=${ids.artifact_run}`)).json();
  const tags = Object.fromEntries(run.run.data.tags.map(t => [t.key, t.value]));
  assert.equal(tags.reviewed, 'yes');
  assert.match(tags['mlflow.note.content'], /New text from the UI/);

  // Nested runs link to each other.
  await page.goto(base + runUrl(ids.parent));
  await hydrated(page);
  assert.equal((await page.$$('#child-runs li')).length, 3);
});

await test('artifact browser: tree, previews of each kind, truncation, download', async page => {
  await page.goto(base + runUrl(ids.artifact_run) + '/artifacts');
  await hydrated(page);
  // Folders first, then files, each by name.
  const top = await page.$eval('.tree-list', ul => [...ul.children].map(li => ({
    dir: li.classList.contains('dir'), path: li.querySelector('[data-path]').dataset.path })));
  const firstFile = top.findIndex(e => !e.dir);
  assert.ok(firstFile > 0 && top.slice(firstFile).every(e => !e.dir), JSON.stringify(top));
  const dirs = top.slice(0, firstFile).map(e => e.path);
  assert.deepEqual(dirs, [...dirs].sort());
  await page.click('button.folder[data-path="eval"]');
  await page.click('a[data-path="eval/predictions.csv"]');
  await page.waitForURL(/artifacts\/eval\/predictions.csv/);
  await page.waitForSelector('#csv-preview');
  assert.equal(await page.$$eval('#csv-preview thead th', ths => ths.map(t => t.textContent)).then(h => h.join()), 'id,label,score');
  assert.equal((await page.$$('#csv-preview tbody tr')).length, 200);
  // A click on a header sorts by that column, numbers as numbers; again, the other way.
  const scores = () => page.$$eval('#csv-preview tbody tr', trs => trs.map(tr => Number(tr.children[2].textContent)));
  await page.click('#csv-preview thead th:has-text("score")');
  await page.waitForFunction(() => document.querySelector('#csv-preview thead th:nth-child(3)').textContent.endsWith('↑'));
  const up = await scores();
  assert.deepEqual(up, [...up].sort((a, b) => a - b));
  await page.click('#csv-preview thead th:has-text("score")');
  await page.waitForFunction(() => document.querySelector('#csv-preview thead th:nth-child(3)').textContent.endsWith('↓'));
  const down = await scores();
  assert.deepEqual(down, [...down].sort((a, b) => b - a));
  await page.screenshot({ path: `${shots}artifacts-csv.png` });

  const open = async (path, selector) => {
    await page.goto(base + runUrl(ids.artifact_run) + '/artifacts/' + path);
    await hydrated(page);
    await page.waitForSelector(selector);
  };
  await open('eval/confusion.tsv', '#csv-preview');
  await open('config.json', 'pre[data-kind="json"]');
  assert.match(await page.textContent('pre[data-kind="json"]'), /"layers": \[\n\s+64/);
  await open('config.yaml', 'pre[data-kind="yaml"]');
  await open('logs/train.log', 'pre[data-kind="text"]');
  await open('README.md', '.preview-body .markdown h3');
  assert.equal(await page.textContent('.preview-body .markdown h3'), 'Model card');
  for (const img of ['plots/gradient.png', 'plots/red.jpg', 'plots/tiny.gif', 'plots/curve.svg']) {
    await open(img, 'img.artifact-image');
    await page.waitForFunction(() => document.querySelector('img.artifact-image').naturalWidth > 0);
  }
  await page.screenshot({ path: `${shots}artifacts-image.png` });
  await open('big/large.txt', '#preview-truncated');
  const shown = await page.$eval('pre[data-kind="text"]', p => p.textContent.length);
  assert.ok(shown <= 256 * 1024, `preview holds ${shown} characters`);
  const href = await page.$eval('.preview-head a', a => a.href);
  const body = await (await fetch(href)).text();
  assert.equal(body.length, 400_001, 'the download is the whole file');
});

await test('model pages: registry list, model, version with its MLmodel, logged model', async page => {
  await page.goto(base + '/models');
  await hydrated(page);
  assert.match(await page.textContent('#models'), /e2e-classifier.*v2.*@champion/s);
  await page.click('#models a:has-text("e2e-classifier")');
  await page.waitForSelector('#versions');
  assert.match(await page.textContent('.chips'), /@champion → v2/);
  assert.equal((await page.$$('#versions tbody tr')).length, 2);
  // Source runs are links by run name, not raw ids.
  const sources = await page.$$eval('#versions td.source-run a', as => as.map(a => a.textContent));
  assert.ok(sources.length === 2 && sources.includes('artifacts-and-long-metric'), sources.join());
  await page.screenshot({ path: `${shots}model.png` });
  await page.click('#versions a:has-text("v2")');
  await page.waitForSelector('#mlmodel');
  assert.match(await page.textContent('#mlmodel'), /python_function, sklearn/);
  assert.match(await page.textContent('#requirements'), /scikit-learn/);
  assert.match(await page.textContent('#source-run'), /artifacts-and-long-metric/);
  await page.screenshot({ path: `${shots}model-version.png` });
  await page.goto(`${base}/logged-models/${ids.model_id}`);
  await hydrated(page);
  assert.match(await page.textContent('#logged-model-info'), /ready/);
  assert.doesNotMatch(await page.textContent('h1'), /Logged model/, 'the title is the model name alone');
  assert.match(await page.textContent('#logged-model-info'), /artifacts-and-long-metric/, 'source run by name');
  await page.waitForSelector('#mlmodel');
});

await test('registry: edit a model and a version (description, tags, aliases), delete a version; signature and files', async page => {
  const api = async (path, params) => (await fetch(`${base}/api/2.0/mlflow/${path}?${new URLSearchParams(params)}`)).json();
  // A model of its own, so the other tests keep theirs: two versions of the sklearn model.
  const name = `edited-${Date.now()}`;
  const post = async (path, body) => (await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  await post('registered-models/create', { name });
  for (let i = 0; i < 2; i++) {
    await post('model-versions/create', { name, source: `models:/${ids.model_id}`, model_id: ids.model_id, run_id: ids.artifact_run });
  }
  await page.goto(`${base}/models/${name}`);
  await hydrated(page);
  // The source run's metrics beside each version.
  assert.match(await page.textContent('#versions thead'), /long_metric/);
  assert.doesNotMatch(await page.textContent('#versions thead'), /Stage/, 'the deprecated stage is not a column');
  // Description, in Markdown.
  await page.click('#model-description-edit');
  await page.fill('#model-description-editor', 'Ships **on Fridays**.');
  await page.click('#model-description-save');
  await page.waitForSelector('#model-description strong');
  assert.equal(await page.textContent('#model-description strong'), 'on Fridays');
  assert.equal((await api('registered-models/get', { name })).registered_model.description, 'Ships **on Fridays**.');
  // A tag, added then removed.
  await page.fill('#model-tags-add input[placeholder="key"]', 'owner');
  await page.fill('#model-tags-add input[placeholder="value"]', 'vision team');
  await page.click('#model-tags-add button');
  await page.waitForSelector('#model-tags tr[data-key="owner"]');
  assert.deepEqual((await api('registered-models/get', { name })).registered_model.tags, [{ key: 'owner', value: 'vision team' }]);
  await page.click('#model-tags tr[data-key="owner"] button.remove');
  await page.waitForFunction(() => !document.querySelector('#model-tags tr[data-key="owner"]'));
  assert.equal((await api('registered-models/get', { name })).registered_model.tags, undefined);
  // An alias pointed at v1, then moved to v2.
  await page.fill('#add-alias input', '@staging');
  await page.selectOption('#add-alias select', '1');
  await page.click('#add-alias button');
  await page.waitForSelector('#aliases [data-alias="staging"]');
  assert.match(await page.textContent('#aliases'), /@staging → v1/);
  await page.fill('#add-alias input', 'staging');
  await page.selectOption('#add-alias select', '2');
  await page.click('#add-alias button');
  await page.waitForFunction(() => /@staging → v2/.test(document.querySelector('#aliases').textContent));
  assert.equal((await api('registered-models/alias', { name, alias: 'staging' })).model_version.version, '2');
  // A bad alias is refused in MLflow's words, on the page; nothing changes.
  await page.fill('#add-alias input', 'v3');
  await page.click('#add-alias button');
  await page.waitForSelector('#add-alias ~ .error');
  assert.match(await page.textContent('#add-alias ~ .error'), /alias/i);
  await page.screenshot({ path: `${shots}model-edit.png` });
  // The version page: description, tags, the signature as a table, files as links.
  await page.click('#versions a:has-text("v2")');
  await page.waitForSelector('#version-description-edit');
  await page.click('#version-description-edit');
  await page.fill('#version-description-editor', 'The *calibrated* one.');
  await page.click('#version-description-save');
  await page.waitForSelector('#version-description em');
  await page.fill('#version-tags-add input[placeholder="key"]', 'validated');
  await page.fill('#version-tags-add input[placeholder="value"]', 'yes');
  await page.click('#version-tags-add button');
  await page.waitForSelector('#version-tags tr[data-key="validated"]');
  const v2 = (await api('model-versions/get', { name, version: '2' })).model_version;
  assert.equal(v2.description, 'The *calibrated* one.');
  assert.deepEqual(v2.tags, [{ key: 'validated', value: 'yes' }]);
  assert.deepEqual(await page.$$eval('#signature-inputs tbody td', tds => tds.map(t => t.textContent)), ['(unnamed)', 'tensor float64 (-1, 3)']);
  const file = await page.getAttribute('#model-files a:has-text("MLmodel")', 'href');
  const served = await fetch(base + file);
  assert.equal(served.status, 200);
  assert.match(await served.text(), /flavors:/);
  await page.screenshot({ path: `${shots}model-version-edit.png`, fullPage: true });
  // Deleting a version asks first, in its row.
  await page.goto(`${base}/models/${name}`);
  await hydrated(page);
  await page.click('#versions tr[data-version="1"] button.delete-version');
  await page.waitForSelector('#versions tr[data-version="1"] .confirm');
  assert.equal((await page.$$('#versions tbody tr')).length, 2, 'nothing is deleted before the confirmation');
  await page.click('#versions tr[data-version="1"] button.confirm-delete');
  await page.waitForFunction(() => document.querySelectorAll('#versions tbody tr').length === 1);
  assert.equal((await api('model-versions/search', { filter: `name='${name}'` })).model_versions.length, 1);
}, { allow: /status of 400/ });

await test("MLflow's hash links open the matching page", async page => {
  await page.goto(`${base}/#/experiments/${exp}/runs/${ids.artifact_run}`);
  await page.waitForURL(new RegExp(`/experiments/${exp}/runs/${ids.artifact_run}$`));
  await hydrated(page);
  assert.equal(await page.textContent('#run-name'), 'artifacts-and-long-metric');
  const runs = JSON.stringify(ids.runs.slice(0, 2));
  await page.goto(`${base}/#/compare-runs?runs=${encodeURIComponent(runs)}&experiments=["${exp}"]`);
  await page.waitForURL(/\/compare\?runs=/);
  await page.waitForSelector('#compare-chart');
});

await test('one colour per run on every page; single-value metrics are never empty charts', async page => {
  // The runs table: a dot per run, the four sweep runs in four colours.
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  const dotOf = async id => page.$eval(`tr[data-run-id="${id}"] .run-dot`, d => getComputedStyle(d).backgroundColor);
  const dots = [];
  for (const id of ids.runs) dots.push(await dotOf(id));
  assert.equal(new Set(dots).size, 4, dots.join());
  // Compare shows the same colour for the same run, whichever order the URL names them in.
  const swatches = async () => page.$$eval('#compare-params thead .swatch', s => s.map(e => getComputedStyle(e).backgroundColor));
  await page.goto(`${base}/compare?runs=${ids.runs[2]},${ids.runs[0]}&metric=test_accuracy`);
  await hydrated(page);
  await page.waitForSelector('#compare-chart[data-drawn="true"]');
  const seen = await swatches();
  assert.equal(seen[0], dots[2]);
  assert.equal(seen[1], dots[0]);
  // A metric logged once per run is drawn as one bar per run.
  const types = await page.$eval('#compare-chart', el => el.data.map(t => t.type));
  assert.deepEqual(types, ['bar', 'bar']);
  await page.screenshot({ path: `${shots}compare-single-value.png` });
  // The run page: its single-value metric is a tile, its series are charts in its colour.
  await page.goto(`${base}${runUrl(ids.runs[0])}?tab=charts`);
  await hydrated(page);
  await page.waitForSelector('#value-tiles');
  assert.match(await page.textContent('#value-tiles'), /test_accuracy\s*0\.9/);
  assert.equal(await page.$('figure.chart-card[data-metric="test_accuracy"]'), null);
  await page.waitForSelector('figure.chart-card[data-metric="val_loss"] .chart[data-drawn="true"]');
  const lineColor = await page.$eval('figure.chart-card[data-metric="val_loss"] .chart', el => el.data.at(-1).line.color);
  const rgb = hex => `rgb(${[1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
  assert.equal(rgb(lineColor), dots[0]);
  // A metric whose every value is NaN or infinite says so, where the others draw.
  const post = async (path, body) => (await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const { experiment_id: nanExp } = await post('experiments/create', { name: `diverged-${Date.now()}` });
  const { run } = await post('runs/create', { experiment_id: nanExp, run_name: 'diverged' });
  await post('runs/log-batch', { run_id: run.info.run_id, metrics: [
    { key: 'loss', value: 'NaN', timestamp: 1, step: 0 }, { key: 'loss', value: 'Infinity', timestamp: 2, step: 1 },
    { key: 'acc', value: 0.5, timestamp: 1, step: 0 }, { key: 'acc', value: 0.7, timestamp: 2, step: 1 }] });
  await page.goto(`${base}/experiments/${nanExp}?view=charts`);
  await hydrated(page);
  await page.waitForSelector('figure.chart-card[data-metric="acc"] .chart[data-drawn="true"]');
  await page.waitForFunction(() => /NaN or infinite/.test(document.querySelector('figure.chart-card[data-metric="loss"] .chart-empty')?.textContent ?? ''));
});

await test('experiment chart view: every run the filter keeps, in its colour, by the URL', async page => {
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  const tableDot = await page.$eval(`tr[data-run-id="${ids.runs[0]}"] .run-dot`, d => getComputedStyle(d).backgroundColor);
  await page.click('#view-charts');
  await page.waitForURL(/view=charts/);
  const panel = key => `figure.chart-card[data-metric="${key}"] .chart`;
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  // One line per run that logged the metric: 4 sweep runs, 3 nested, the failed one.
  const traces = await page.$eval(panel('val_loss'), el => el.data.filter(t => t.mode === 'lines').map(t => ({ name: t.name, color: t.line.color, dash: t.line.dash })));
  assert.equal(traces.length, 8, traces.map(t => t.name).join());
  assert.equal(traces.find(t => t.name === 'run-failed').dash, 'dash');
  // ... and ends in an x where it stopped (step 42), in its colour, left out of the hover box.
  const ends = await page.$eval(panel('val_loss'), el => el.data.filter(t => t.marker?.symbol === 'x-thin-open')
    .map(t => ({ x: [...t.x], colors: t.marker.color, hover: t.hoverinfo })));
  assert.equal(ends.length, 1);
  assert.deepEqual(ends[0].x, [42]);
  assert.deepEqual(ends[0].colors, [traces.find(t => t.name === 'run-failed').color]);
  assert.equal(ends[0].hover, 'skip');
  // Hovering lists every run at that step in the dock beside the panels
  // (the failed run stopped at step 42: not listed at step 200).
  assert.equal(await page.$eval(panel('val_loss'), el => el.layout.hovermode), 'x');
  await page.$eval(panel('val_loss'), el => el.scrollIntoView({ block: 'center' }));
  const area = await (await page.$(`${panel('val_loss')} .nsewdrag`)).boundingBox();
  await page.mouse.move(area.x + area.width * 0.66, area.y + area.height / 2);
  await page.waitForFunction(() => / at step \d+ · \d+ runs/.test(document.querySelector('#values-dock h3')?.textContent ?? ''));
  const dockNames = await page.$$eval('#values-dock td.name', tds => tds.map(t => t.textContent));
  assert.ok(dockNames.includes('run-00') && !dockNames.includes('run-failed'), dockNames.join());
  assert.equal(await page.$eval('#values-dock tr[data-run-id] .run-dot', d => getComputedStyle(d).backgroundColor) !== '', true);
  const rgb = hex => `rgb(${[1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
  assert.equal(rgb(traces.find(t => t.name === 'run-00').color), tableDot, 'the same colour as in the table');
  // A metric logged once per run: bars, not empty axes.
  await page.waitForSelector(`${panel('test_accuracy')}[data-drawn="true"]`);
  assert.deepEqual(await page.$eval(panel('test_accuracy'), el => el.data.map(t => t.type)), ['bar', 'bar', 'bar', 'bar']);
  await page.screenshot({ path: `${shots}experiment-charts.png`, fullPage: true });
  // The panel search goes into the URL; a reload shows the same panels.
  await page.fill('#panel-search', 'val');
  await page.press('#panel-search', 'Enter');
  await page.waitForURL(/q=val/);
  await page.waitForFunction(() => document.querySelectorAll('figure.chart-card[data-metric]').length === 1);
  await page.reload();
  await hydrated(page);
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  assert.equal((await page.$$('figure.chart-card[data-metric]')).length, 1);
  // By step the data comes without wall times; switched to wall time, the
  // panel asks again and draws each point at its time.
  await page.selectOption('#x-axis', 'time');
  await page.waitForFunction(sel => document.querySelector(sel)?._fullLayout?.xaxis?.type === 'date', panel('val_loss'));
  const xs = await page.$eval(panel('val_loss'), el => el.data.find(t => t.name === 'run-00').x.slice(0, 3));
  assert.ok(xs.length === 3 && xs.every(x => new Date(x) > new Date('2020-01-01')), `wall times: ${xs}`);
  await page.selectOption('#x-axis', 'step');
  await page.waitForFunction(sel => document.querySelector(sel)?._fullLayout?.xaxis?.type === 'linear', panel('val_loss'));
  // The table's filter applies to the charts; the toggle keeps it.
  await page.goto(`${base}/experiments/${exp}?filter=${encodeURIComponent("params.optimizer = 'sgd'")}&view=charts`);
  await hydrated(page);
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  assert.equal(await page.$eval(panel('val_loss'), el => el.data.length), 2);
  await page.click('#view-table');
  await page.waitForURL(url => !/view=charts/.test(url) && /filter=/.test(url));
  await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr').length === 2);
  // Every chart setting survives the trip to the table and back.
  const settings = { style: 'params.optimizer', panel: 'val_loss~log', clip: '1', logx: '1', smooth: '0.5', group: 'params.lr', band: 'std' };
  await page.goto(`${base}/experiments/${exp}?view=charts&${new URLSearchParams(settings)}`);
  await hydrated(page);
  await page.click('#view-table');
  await page.waitForURL(url => !/view=charts/.test(url));
  await page.click('#view-charts');
  await page.waitForURL(/view=charts/);
  const kept = new URL(page.url()).searchParams;
  for (const [k, v] of Object.entries(settings)) assert.equal(kept.get(k), v, k);
  // x by another metric: each point at the run's train_loss of the same step.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss`);
  await hydrated(page);
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  await page.selectOption('#x-axis', 'metric:train_loss');
  await page.waitForURL(u => new URL(u).searchParams.get('x') === 'metric:train_loss');
  await page.waitForFunction(sel => document.querySelector(sel)?._fullLayout?.xaxis?.title?.text === 'train_loss', panel('val_loss'));
  const drawn = await page.$eval(panel('val_loss'), el => el.data.find(t => t.name === 'run-00'));
  const history = await (await fetch(`${base}/api/2.0/mlflow/metrics/get-history?run_id=${ids.runs[0]}&metric_key=train_loss&max_results=25000`)).json();
  const byStep = new Map(history.metrics.map(m => [Number(m.step), m.value]));
  assert.equal(drawn.x.length, 300);
  assert.deepEqual([...drawn.x.slice(0, 5)], [0, 1, 2, 3, 4].map(s => byStep.get(s)));
  // One panel's own log scale over the view's linear one, in the link.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=_loss`);
  await hydrated(page);
  await page.waitForSelector(`${panel('train_loss')}[data-drawn="true"]`);
  await page.click('figure.chart-card[data-metric="val_loss"] .panel-settings');
  await page.click('figure.chart-card[data-metric="val_loss"] .own-log');
  await page.waitForURL(u => new URL(u).searchParams.get('panel') === 'val_loss~log');
  await page.waitForFunction(sel => document.querySelector(sel)?._fullLayout?.yaxis?.type === 'log', panel('val_loss'));
  assert.equal(await page.$eval(panel('train_loss'), el => el._fullLayout.yaxis.type), 'linear');
  // Its ticks are 1, 2 and 5 of each decade (or whole decades), never 3, 4, 6, 7, 8 or 9.
  const logTicks = await page.$eval(panel('val_loss'), el => [...el.querySelectorAll('.ytick text')].map(t => t.textContent));
  assert.ok(logTicks.length >= 2 && !logTicks.some(t => /^[346789]$/.test(t)), logTicks.join());
  await page.reload();
  await hydrated(page);
  await page.waitForFunction(sel => document.querySelector(sel)?._fullLayout?.yaxis?.type === 'log', panel('val_loss'));
  assert.ok(await page.$('figure.chart-card[data-metric="val_loss"] .panel-settings.changed'));
  // Runs ticked in the table are the ones the charts draw; the link names them.
  await page.goto(`${base}/experiments/${exp}`);
  await hydrated(page);
  await page.check(`tr[data-run-id="${ids.runs[0]}"] td.check input`);
  await page.check(`tr[data-run-id="${ids.runs[2]}"] td.check input`);
  await page.click('#view-charts');
  await page.waitForURL(u => (new URL(u).searchParams.get('sel') ?? '').split(',').sort().join() === [ids.runs[0], ids.runs[2]].sort().join());
  const lineCount = n => page.waitForFunction(([sel, n]) => document.querySelector(sel)?.data?.filter(t => t.mode === 'lines').length === n, [panel('val_loss'), n]);
  await lineCount(2);
  assert.match(await page.textContent('#charts-run-count'), /^2 of \d+ runs: those selected in the table/);
  // The link opens the same: two lines, and those two ticked in the table.
  await page.reload();
  await hydrated(page);
  await lineCount(2);
  assert.ok(await page.isChecked(`tr[data-run-id="${ids.runs[2]}"] td.check input`));
  await page.click('#clear-selection');
  await page.waitForURL(u => !new URL(u).searchParams.has('sel'));
  await lineCount(8);
  // The failed run's own page: its line dashed, an x where it stopped.
  await page.goto(`${base}${runUrl(ids.failed)}?tab=charts`);
  await hydrated(page);
  const own = 'figure.chart-card[data-metric="val_loss"] .chart';
  await page.waitForSelector(`${own}[data-drawn="true"]`);
  const lines = await page.$eval(own, el => el.data.map(t => ({ dash: t.line?.dash, symbol: t.marker?.symbol, x: [...t.x] })));
  assert.equal(lines[0].dash, 'dash');
  assert.deepEqual(lines.find(t => t.symbol === 'x-thin-open')?.x, [42]);
  // And beside another run on compare.
  await page.goto(`${base}/compare?runs=${ids.failed},${ids.runs[0]}&metric=val_loss`);
  await hydrated(page);
  await page.waitForSelector('#compare-chart[data-drawn="true"]');
  const compared = await page.$eval('#compare-chart', el => el.data.filter(t => t.marker?.symbol === 'x-thin-open').map(t => [...t.x]));
  assert.deepEqual(compared, [[42]]);
});

await test('chart view: 1,000 metrics, a panel each; those in view load first, the rest when scrolled to', async page => {
  const post = async (path, body) => (await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const { experiment_id: wide } = await post('experiments/create', { name: `thousand-metrics-${Date.now()}` });
  const key = k => `layer${String(Math.floor(k / 100)).padStart(2, '0')}/m${String(k).padStart(4, '0')}`;
  for (let r = 0; r < 2; r++) {
    const { run } = await post('runs/create', { experiment_id: wide, run_name: `keys-${r}` });
    const metrics = [];
    for (let k = 0; k < 1000; k++) for (let s = 0; s < 3; s++) metrics.push({ key: key(k), value: r + k / 1000 + s, timestamp: 1_700_000_000_000 + s, step: s });
    for (let i = 0; i < metrics.length; i += 1000) await post('runs/log-batch', { run_id: run.info.run_id, metrics: metrics.slice(i, i + 1000) });
  }
  let asked = 0;
  page.on('request', r => { if (r.url().includes('/_app/metric_series')) asked++; });
  await page.goto(`${base}/experiments/${wide}?view=charts`);
  await hydrated(page);
  assert.equal(await page.$$eval('figure.chart-card[data-metric]', f => f.length), 1000, 'a panel for every metric');
  await page.waitForSelector(`figure.chart-card[data-metric="${key(0)}"] .chart[data-drawn="true"]`);
  // The panels in view ask for their data; then the requests stop (on a
  // slow machine, give them a while to).
  let settled = -1;
  for (let i = 0; i < 20 && settled !== asked; i++) {
    settled = asked;
    await page.waitForTimeout(1000);
  }
  await page.waitForTimeout(1500);
  assert.equal(asked, settled, 'panels out of view do not ask for data');
  const drawn = await page.$$eval('.chart[data-drawn="true"]', c => c.length);
  assert.ok(asked >= 10 && asked <= 60 && drawn <= 60, `${asked} panels asked for data and ${drawn} drawn before any scrolling`);
  // Scrolled to the last panel, it asks for its lines and draws them.
  const last = `figure.chart-card[data-metric="${key(999)}"]`;
  await page.$eval(last, el => el.scrollIntoView());
  await page.waitForSelector(`${last} .chart[data-drawn="true"]`, { timeout: 15000 });
  assert.equal(await page.$eval(`${last} .chart`, el => el.data.filter(t => t.mode === 'lines').length), 2);
  assert.ok(asked < 200, `${asked} panels asked for data after one scroll`);
});

await test('chart view grouping: mean/median with bands, counts, one hover line per group, numeric order', async page => {
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss`);
  await hydrated(page);
  const panel = `figure.chart-card[data-metric="val_loss"] .chart`;
  await page.waitForSelector(`${panel}[data-drawn="true"]`);
  assert.equal(await page.$eval(panel, el => el.layout.hoversort), 'value descending');
  await page.selectOption('#group-by', 'params.optimizer');
  await page.waitForURL(/group=params.optimizer/);
  const lines = () => page.$eval(panel, el => el.data.filter(t => t.showlegend !== false)
    .map(t => ({ name: t.name, text: t.text, x: t.x, template: t.hovertemplate })));
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => /adam/.test(t.name)), panel);
  let groups = await lines();
  // adam: runs 0-1, three nested runs and the artifact run without val_loss;
  // (none): the parent (no metrics) and the failed run.
  assert.deepEqual(groups.map(g => g.name), [
    'params.optimizer = adam (5 of 6 runs)', 'params.optimizer = sgd (2 runs)', 'params.optimizer = (none) (1 of 2 runs)']);
  assert.match(groups[0].text[10], /^mean [\d.]+ \[[\d.]+, [\d.]+\] n=5$/);
  assert.equal(groups[0].template, '%{text}');
  // The failed run stopped at step 43: its group ends there, it is not stretched.
  assert.equal(groups[2].x.at(-1), 42);
  // Bands are drawn but never listed in the hover box.
  const bands = await page.$eval(panel, el => el.data.filter(t => t.name.endsWith(' band')).map(t => t.hoverinfo));
  assert.ok(bands.length >= 6 && bands.every(h => h === 'skip'), bands.join());
  await page.screenshot({ path: `${shots}experiment-charts-grouped.png`, fullPage: true });
  // Where one of a group's runs has stopped, its mean fades with its band
  // (runs without a team: three nested runs to step 299, the failed one to 42).
  await page.selectOption('#group-by', 'tags.team');
  await page.waitForURL(/group=tags.team/);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => /^tags.team = \(none\)/.test(t.name)), panel);
  const none = await page.$eval(panel, el => el.data.filter(t => /^tags.team = \(none\)/.test(t.name) && !t.name.endsWith(' band'))
    .map(t => ({ from: t.x[0], to: t.x.at(-1), opacity: t.opacity ?? 1, legend: t.showlegend !== false, width: t.line.width })));
  assert.deepEqual(none, [{ from: 0, to: 42, opacity: 1, legend: true, width: 2.2 }, { from: 42, to: 299, opacity: 0.45, legend: false, width: 1.6 }]);
  await page.selectOption('#group-by', 'params.optimizer');
  await page.waitForURL(/group=params.optimizer/);

  await page.selectOption('#group-center', 'median');
  await page.waitForURL(/agg=median/);
  await page.selectOption('#group-band', 'std');
  await page.waitForURL(/band=std/);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => /^median /.test(t.text?.[10] ?? '')), panel);
  // A teammate opening the link sees the same grouping.
  await page.reload();
  await hydrated(page);
  // The grouping controls show once the chart view has its runs.
  await page.waitForSelector('#group-center');
  assert.equal(await page.$eval('#group-center', s => s.value), 'median');
  assert.equal(await page.$eval('#group-band', s => s.value), 'std');
  // Numeric group keys sort as numbers (32, 64, 96, 128), not as text.
  await page.selectOption('#group-by', 'params.batch_size');
  await page.waitForURL(/group=params.batch_size/);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => /batch_size = 32 /.test(t.name)), panel);
  groups = await lines();
  assert.deepEqual(groups.map(g => g.name.match(/= (.*) \(\d/)[1]), ['32', '64', '96', '128', '(none)']);
  // A second key picks line styles: colour by optimizer, style by the run's depth.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&group=params.optimizer&style=params.depth`);
  await hydrated(page);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => / · params.depth = 2 /.test(t.name)), panel);
  const styled = await page.$eval(panel, el => el.data.filter(t => t.showlegend).map(t => ({ name: t.name, dash: t.line.dash ?? 'solid', color: t.line.color })));
  const adam = styled.filter(t => t.name.startsWith('params.optimizer = adam'));
  assert.deepEqual(adam.map(t => t.name.replace(/ \(\d+( of \d+)? runs?\)$/, '')), ['params.optimizer = adam · params.depth = 0', 'params.optimizer = adam · params.depth = 1',
    'params.optimizer = adam · params.depth = 2', 'params.optimizer = adam · params.depth = (none)']);
  assert.deepEqual(adam.map(t => t.dash), ['solid', 'dot', 'dashdot', 'longdash']);
  assert.equal(new Set(adam.map(t => t.color)).size, 1, 'one colour for the optimizer');
  assert.equal(await page.$eval('#style-by', s => s.value), 'params.depth');
  // Ungrouped, the runs' own lines take the styles; failed runs stay dashed.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&style=params.optimizer`);
  await hydrated(page);
  await page.waitForSelector(`${panel}[data-drawn="true"]`);
  const dashes = await page.$eval(panel, el => Object.fromEntries(el.data.map(t => [t.name, t.line.dash ?? 'solid'])));
  assert.equal(dashes['run-00'], 'solid');
  assert.equal(dashes['run-02'], 'dot');
  assert.equal(dashes['run-failed'], 'dash');
});

await test('chart view: zooming in fetches the range at full detail; smoothing keeps raw lines faint; export', async page => {
  await page.goto(`${base}/experiments/${exp}?view=charts&q=long_metric`);
  await hydrated(page);
  const panel = `figure.chart-card[data-metric="long_metric"] .chart`;
  await page.waitForSelector(`${panel}[data-drawn="true"]`);
  const whole = await page.$eval(panel, el => el.data[0].x.length);
  assert.ok(whole < 10000, `100,000 steps downsampled to ${whole} points`);
  // The spike at step 77,777 survives downsampling.
  assert.ok(await page.$eval(panel, el => Math.max(...el.data[0].y) > 3.5));
  // Ignoring outliers scales y to the bulk of the values, spike left out; the choice is in the URL.
  const top = () => page.$eval(panel, el => el._fullLayout.yaxis.range[1]);
  assert.ok(await top() > 3.5, `the spike sets the range: ${await top()}`);
  await page.click('#ignore-outliers');
  await page.waitForURL(u => new URL(u).searchParams.get('clip') === '1');
  await page.waitForFunction(sel => document.querySelector(sel)._fullLayout.yaxis.range[1] < 1.5, panel);
  await page.click('#ignore-outliers');
  await page.waitForFunction(sel => document.querySelector(sel)._fullLayout.yaxis.range[1] > 3.5, panel);
  await page.$eval(panel, el => Plotly.relayout(el, { 'xaxis.range[0]': 1000, 'xaxis.range[1]': 2000 }));
  await page.waitForFunction(sel => document.querySelector(sel).data[0].x.length === 1001, panel, { timeout: 10000 });
  const xs = await page.$eval(panel, el => el.data[0].x);
  assert.ok(xs.every((x, i) => x === 1000 + i), 'every raw step from 1000 to 2000');
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&smooth=0.8`);
  await hydrated(page);
  const val = `figure.chart-card[data-metric="val_loss"] .chart`;
  await page.waitForSelector(`${val}[data-drawn="true"]`);
  // Each panel exports its data as CSV and itself as SVG or PNG.
  const card = 'figure.chart-card[data-metric="val_loss"]';
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click(`${card} .export-csv`)]);
  assert.equal(csv.suggestedFilename(), 'panel-val-loss.csv');
  const text = (await import('node:fs')).readFileSync(await csv.path(), 'utf8');
  const lines = text.trim().split('\n');
  assert.equal(lines[0], 'series,step,val_loss');
  assert.equal(lines.length - 1, 8 * 300 - (300 - 43), 'every smoothed point of the 8 runs, none of the raw lines');
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click(`${card} .export-svg`)]);
  assert.equal(svg.suggestedFilename(), 'panel-val-loss.svg');
  assert.match((await import('node:fs')).readFileSync(await svg.path(), 'utf8'), /^<svg/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click(`${card} .export-png`)]);
  assert.equal(png.suggestedFilename(), 'panel-val-loss.png');
  const traces = await page.$eval(val, el => el.data.map(t => ({ name: t.name, opacity: t.opacity, hover: t.hoverinfo })));
  const raw = traces.filter(t => t.name.endsWith('(raw)'));
  assert.equal(raw.length, 8);
  assert.ok(raw.every(t => t.opacity === 0.25 && t.hover === 'skip'));
});

await test('parallel coordinates: log and category axes, dragging an axis picks runs in the charts and the table', async page => {
  // The chart view opens on its line charts: the first panel is drawn in
  // the first screen, the parallel coordinates wait behind their summary.
  await page.goto(`${base}/experiments/${exp}?view=charts`);
  await hydrated(page);
  await page.waitForSelector('figure.chart-card[data-metric] .chart .main-svg');
  const firstPanel = await page.$eval('figure.chart-card[data-metric]', f => f.getBoundingClientRect().bottom);
  assert.ok(firstPanel <= 900, `the first panel ends at ${firstPanel}px`);
  assert.equal(await page.$('#parallel svg'), null);
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss`);
  await hydrated(page);
  await page.click('#parallel-section summary');
  await page.waitForURL(u => new URL(u).searchParams.get('pc') === '1');
  await page.waitForSelector('#parallel svg .pc-line');
  const fields = await page.$$eval('#parallel .pc-axis', gs => gs.map(g => g.dataset.field));
  // Params that vary (dropout is 0.1 everywhere: no axis), then metrics.
  assert.ok(fields.includes('params.lr') && fields.includes('params.optimizer') && !fields.includes('params.dropout'), fields.join());
  assert.ok(fields.includes('metrics.val_loss'));
  // lr spans 0.001 to 0.1 (100x): a log axis with 1-2-5 ticks.
  const lrTicks = await page.$$eval('#parallel .pc-axis[data-field="params.lr"] .pc-tick-text', ts => ts.map(t => t.textContent));
  assert.ok(lrTicks.includes('0.001') && lrTicks.includes('0.002') && lrTicks.includes('0.1'), lrTicks.join());
  assert.match(await page.textContent('#parallel .pc-axis[data-field="params.lr"] .pc-label'), /lr \(log\)/);
  const optTicks = await page.$$eval('#parallel .pc-axis[data-field="params.optimizer"] .pc-tick-text', ts => ts.map(t => t.textContent));
  // The sweep's parent has none of these params or metrics: it is not drawn
  // (no line along every "none"); the failed run has no optimizer: "none".
  assert.deepEqual(optTicks, ['none', 'adam', 'sgd']);
  const lrAll = await page.$$eval('#parallel .pc-axis[data-field="params.lr"] .pc-tick-text', ts => ts.map(t => t.textContent));
  assert.ok(!lrAll.includes('none'), 'no "none" where every drawn run has a value');
  assert.equal(await page.$$eval('#parallel .pc-line', ls => ls.length), 9);
  assert.equal(await page.$(`#parallel .pc-line[data-run-id="${ids.parent}"]`), null);
  // Linear axes tick at round numbers: one round step apart (1, 2, 2.5 or 5 x 10^k).
  for (const field of ['metrics.val_loss', 'metrics.accuracy', 'params.batch_size']) {
    const ticks = (await page.$$eval(`#parallel .pc-axis[data-field="${field}"] .pc-tick-text`, ts => ts.map(t => t.textContent)))
      .filter(t => t !== 'none').map(Number);
    assert.ok(ticks.length >= 3, `${field}: ${ticks}`);
    const step = ticks[1] - ticks[0];
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 2.5, 5].some(m => Math.abs(m - mantissa) < 1e-6), `${field}: ${ticks}`);
    assert.ok(ticks.every((t, i) => Math.abs(t - ticks[0] - i * step) < step * 1e-6), `${field}: ${ticks}`);
    assert.ok(ticks.every(t => Math.abs(t / step - Math.round(t / step)) < 1e-6), `${field}: ${ticks}`);
  }
  // Coloured by a metric the failed run never logged: its line is grey, not
  // the scale's low end, and the scale names the values runs have.
  await page.selectOption('#parallel select.parallel-color', 'metrics.test_accuracy');
  await page.waitForURL(/pcolor=metrics.test_accuracy/);
  await page.waitForFunction(id => document.querySelector(`#parallel .pc-line[data-run-id="${id}"]`)?.getAttribute('stroke') === '#9ca3af', ids.failed);
  assert.match(await page.textContent('#parallel .pc-scale'), /test_accuracy: 0\.75 → 0\.9/);
  const strokes = await page.$$eval('#parallel .pc-line', ls => ls.map(l => l.getAttribute('stroke')));
  assert.equal(strokes.filter(s => s === '#9ca3af').length, 5, strokes.join());
  await page.selectOption('#parallel select.parallel-color', '');
  // Beside them, each param's importance for a metric (a forest's, from the
  // server) and its signed correlation; a param clicked shows its scatter.
  await page.selectOption('#importance-metric', 'val_loss');
  await page.waitForURL(/imp=val_loss/);
  await page.waitForSelector('#importance tbody tr[data-param="lr"]');
  const weights = await page.$$eval('#importance tbody tr', trs => trs.map(tr => ({
    param: tr.dataset.param, importance: Number(tr.querySelector('.importance').textContent),
    corr: tr.children[2].textContent.trim() })));
  assert.ok(weights.some(w => w.param === 'lr') && weights.some(w => w.param === 'optimizer'), JSON.stringify(weights));
  assert.ok(!weights.some(w => w.param === 'dropout'), 'a constant param has no importance');
  assert.ok(Math.abs(weights.reduce((a, w) => a + w.importance, 0) - 1) < 0.06, JSON.stringify(weights));
  assert.deepEqual(weights.map(w => w.importance), [...weights.map(w => w.importance)].sort((a, b) => b - a), 'most important first');
  assert.match(weights.find(w => w.param === 'lr').corr, /^-0\.\d\d$/, 'a higher lr, a lower val_loss here');
  assert.equal(weights.find(w => w.param === 'optimizer').corr, '–', 'words have no correlation');
  await page.click('#importance tr[data-param="lr"] button');
  await page.waitForURL(/sx=params.lr/);
  await page.waitForSelector('#importance-scatter[data-drawn="true"]');
  const dots = await page.$eval('#importance-scatter', el => el.data[0].x.length);
  assert.equal(dots, 8, 'one point per run with lr and val_loss');
  await page.screenshot({ path: `${shots}parameter-importance.png`, fullPage: true });

  // Drag on the lr axis from the middle down past its bottom: lr below ~0.006.
  const hit = await (await page.$('#parallel .pc-axis[data-field="params.lr"] .pc-hit')).boundingBox();
  await page.mouse.move(hit.x + hit.width / 2, hit.y + hit.height * 0.55);
  await page.mouse.down();
  await page.mouse.move(hit.x + hit.width / 2, hit.y + hit.height * 0.8, { steps: 4 });
  await page.mouse.move(hit.x + hit.width / 2, hit.y + hit.height, { steps: 4 });
  await page.mouse.up();
  await page.waitForURL(/brush=params.lr/);
  await page.waitForFunction(() => /^2 of 10 runs picked/.test(document.querySelector('#charts-run-count')?.textContent ?? ''));
  const panel = `figure.chart-card[data-metric="val_loss"] .chart`;
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.length === 2, panel);
  assert.deepEqual((await page.$eval(panel, el => el.data.map(t => t.name))).sort(), ['run-00', 'run-01']);
  assert.equal(await page.$$eval('#parallel .pc-line:not(.faded)', ls => ls.length), 2);
  await page.screenshot({ path: `${shots}parallel-coordinates.png`, fullPage: true });
  assert.match(await page.getAttribute('#compare-brushed', 'href'), new RegExp(`${ids.runs[0]}`));
  // The link keeps the pick; the table selects the same runs.
  await page.reload();
  await hydrated(page);
  await page.waitForFunction(() => /^2 of 10 runs picked/.test(document.querySelector('#charts-run-count')?.textContent ?? ''));
  await page.click('#view-table');
  await page.waitForURL(url => !/view=charts/.test(url));
  await page.waitForFunction(() => document.querySelectorAll('#runs tbody td.check input:checked').length === 2);
  await page.click('#view-charts');
  await page.waitForSelector('#clear-brush');
  await page.click('#clear-brush');
  await page.waitForURL(url => !/brush=/.test(url));
  await page.waitForFunction(() => document.querySelector('#charts-run-count')?.textContent === '10 runs');
  // A malformed pick in a link is left out with a sentence, not an error page.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&pc=1&brush=params.lr%3Ax%3A1`);
  await hydrated(page);
  await page.waitForSelector('#parallel svg .pc-line');
  assert.match(await page.textContent('.error'), /could not be read/);
});

await test('chart view: eye toggles hide runs, pinned colours, both in the link and in a saved dashboard', async page => {
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss`);
  await hydrated(page);
  const panel = `figure.chart-card[data-metric="val_loss"] .chart`;
  await page.waitForSelector(`${panel}[data-drawn="true"]`);
  await page.click('#run-list summary');
  // Each run's colour picker shows its colour as a dot (not a blank box).
  await page.waitForSelector(`#run-list li[data-run-id="${ids.runs[2]}"] .pin-color`);
  const picker = await page.$eval(`#run-list li[data-run-id="${ids.runs[2]}"] .pin-color`, i => ({ value: i.value, width: i.getBoundingClientRect().width }));
  const ownColor = await page.$eval(panel, (el, name) => el.data.find(t => t.name === name).line.color, 'run-02');
  assert.equal(picker.value, ownColor.toLowerCase());
  assert.ok(picker.width <= 16, `${picker.width}px`);
  await page.click(`#run-list li[data-run-id="${ids.runs[0]}"] .eye`);
  await page.waitForURL(new RegExp(`hide=${ids.runs[0]}`));
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.filter(t => t.mode === 'lines').length === 7, panel);
  assert.ok(!(await page.$eval(panel, el => el.data.map(t => t.name))).includes('run-00'));
  assert.match(await page.textContent('#run-list summary'), /1 hidden/);
  // Pin a colour for run-01: its line takes it, and the link keeps it.
  await page.$eval(`#run-list li[data-run-id="${ids.runs[1]}"] .pin-color`, input => {
    input.value = '#ff00aa';
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.waitForURL(/colors=/);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.find(t => t.name === 'run-01')?.line.color === '#ff00aa', panel);
  await page.reload();
  await hydrated(page);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.filter(t => t.mode === 'lines').length === 7, panel);
  assert.equal(await page.$eval(panel, el => el.data.find(t => t.name === 'run-01').line.color), '#ff00aa');
  // Saved as a dashboard: the hidden run stays out, the pinned colour stays.
  await page.click('#save-dashboard');
  await page.fill('#save-dashboard-name', 'marked runs');
  await page.click('#save-dashboard-form button[type=submit]');
  await page.waitForURL(/\/dashboards\/d-[0-9a-f]+$/);
  await hydrated(page);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.filter(t => t.mode === 'lines').length === 7, panel);
  assert.equal(await page.$eval(panel, el => el.data.find(t => t.name === 'run-01').line.color), '#ff00aa');
  // A colour that cannot be read is left out with a sentence.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&colors=${ids.runs[1]}:pink`);
  await hydrated(page);
  await page.waitForSelector(`${panel}[data-drawn="true"]`);
  assert.match(await page.textContent('.error'), /colours in this link could not be read/);
  // So is any other setting, each named with what it takes; the panel is drawn with the defaults.
  await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&smooth=lots&x=epoch&agg=max&panel=val_loss~huge`);
  await hydrated(page);
  await page.waitForSelector(`${panel}[data-drawn="true"]`);
  const said = await page.textContent('.error');
  for (const part of ['smooth=lots (a number from 0 to 0.99)', 'x=epoch', 'agg=max (mean or median)', 'panel=val_loss~huge']) assert.ok(said.includes(part), said);
  assert.equal(await page.$eval(panel, el => el._fullLayout.xaxis.title.text), 'step');
});

await test('dashboards: save the chart view, share its URL, add a note, snapshot', async page => {
  await page.goto(`${base}/experiments/${exp}?filter=${encodeURIComponent("params.optimizer = 'sgd'")}&view=charts&q=val`);
  await hydrated(page);
  const panel = key => `figure.chart-card[data-metric="${key}"] .chart`;
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  await page.click('#save-dashboard');
  await page.fill('#save-dashboard-name', 'sgd sweep');
  await page.click('#save-dashboard-form button[type=submit]');
  await page.waitForURL(/\/dashboards\/d-[0-9a-f]+$/);
  const url = page.url();
  await hydrated(page);
  assert.equal(await page.textContent('#dashboard-name'), 'sgd sweep');
  // The saved view: the filter's runs, the searched panels only.
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  assert.equal(await page.$eval(panel('val_loss'), el => el.data.length), 2);
  assert.equal((await page.$$('figure.chart-card[data-metric]')).length, 1);
  // The parallel coordinates come along; a pick on them narrows every panel.
  await page.waitForSelector('#dash-parallel-0 svg .pc-line');
  assert.equal((await page.$$('#dash-parallel-0 .pc-line')).length, 2);
  await page.goto(`${url}?brush=${encodeURIComponent('params.lr:0.02:0.05')}`);
  await hydrated(page);
  await page.waitForFunction(sel => document.querySelector(sel)?.data?.length === 1, panel('val_loss'));
  assert.match(await page.textContent('#dashboard-picked'), /^1 of 2 runs picked/);
  assert.equal((await page.$$('#dash-parallel-0 .pc-line:not(.faded)')).length, 1);
  await page.goto(url);
  await hydrated(page);
  // A note between panels, kept on reload (a teammate opening the URL sees it).
  // Only looking, the note box is folded away.
  assert.equal(await page.$eval('#note-box', d => d.open), false);
  if (!(await page.$eval('#note-box', d => d.open))) await page.click('#note-box summary');
  await page.fill('#add-note textarea', '## Why\n- We dropped **adamw**: it diverged.');
  await page.click('#add-note button');
  await page.waitForSelector('.dashboard-note li strong');
  const fresh = await browser.newPage();
  await fresh.goto(url);
  await fresh.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await fresh.textContent('.dashboard-note li'), 'We dropped adamw: it diverged.');
  assert.equal(await fresh.textContent('.dashboard-note li strong'), 'adamw');
  await fresh.close();
  await page.screenshot({ path: `${shots}dashboard.png`, fullPage: true });
  // Two people edit at once: the second save is refused with who saved when; nothing is lost.
  const other = await browser.newPage();
  await other.goto(url);
  await other.waitForSelector('body[data-hydrated="true"]');
  if (!(await page.$eval('#note-box', d => d.open))) await page.click('#note-box summary');
  await page.fill('#add-note textarea', 'first note wins');
  await page.click('#add-note button');
  await page.waitForFunction(() => [...document.querySelectorAll('.dashboard-note')].some(n => n.textContent.includes('first note wins')));
  if (!(await other.$eval('#note-box', d => d.open))) await other.click('#note-box summary');
  await other.fill('#add-note textarea', 'second, from a stale page');
  await other.click('#add-note button');
  await other.waitForSelector('p.error');
  assert.match(await other.textContent('p.error'), /was saved by someone at .* UTC \(version \d+\) after version \d+/);
  await other.reload();
  await other.waitForSelector('body[data-hydrated="true"]');
  // The notes arrive with the dashboard, which may come after hydration.
  await other.waitForFunction(() => document.querySelectorAll('.dashboard-note').length >= 2)
    .catch(() => {});
  assert.equal((await other.$$('.dashboard-note')).length, 2, 'both saved notes kept');
  await other.close();

  // A snapshot pins today's runs: a run that starts later joins the
  // dashboard, not the snapshot.
  await page.click('#snapshot');
  await page.waitForURL(u => /\/dashboards\/d-/.test(u) && u.toString() !== url);
  await hydrated(page);
  assert.match(await page.textContent('#snapshot-note'), /A snapshot of 2 runs/);
  const snapshotUrl = page.url();
  const post = async (path, body) => (await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const { run: late } = await post('runs/create', { experiment_id: exp, run_name: 'late-sgd', start_time: Date.now() });
  await post('runs/log-batch', { run_id: late.info.run_id, params: [{ key: 'optimizer', value: 'sgd' }], metrics: [{ key: 'val_loss', value: 0.5, timestamp: Date.now(), step: 0 }, { key: 'val_loss', value: 0.4, timestamp: Date.now(), step: 1 }] });
  try {
    await page.goto(snapshotUrl);
    await hydrated(page);
    await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
    assert.equal(await page.$eval(panel('val_loss'), el => el.data.length), 2, 'the snapshot still shows its 2 runs');
    await page.goto(url);
    await hydrated(page);
    await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
    assert.equal(await page.$eval(panel('val_loss'), el => el.data.length), 3, 'the live dashboard has the new run');
  } finally {
    await post('runs/delete', { run_id: late.info.run_id });
  }
  // Both are listed.
  await page.goto(`${base}/dashboards`);
  await hydrated(page);
  const names = await page.$$eval('#dashboards td.name', tds => tds.map(t => t.textContent));
  assert.ok(names.includes('sgd sweep') && names.some(n => n.startsWith('sgd sweep (snapshot')), names.join());

  // A dashboard over two experiments, made by a script; a note's HTML stays text.
  const beta = (await (await fetch(`${base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=e2e-beta`)).json()).experiment.experiment_id;
  const count = async e => (await post('runs/search', { experiment_ids: [e], max_results: 1000 })).runs?.length ?? 0;
  const expected = (await count(exp)) + (await count(beta));
  const hostile = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';
  const made = await (await fetch(`${base}/api/2.0/mltrack/dashboards/create`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'both', experiment_ids: [exp, beta], panels: [
      { type: 'note', text: hostile },
      { type: 'table', columns: ['params.optimizer', 'metrics.val_loss'] },
      { type: 'line', metrics: ['no_such_metric'] },
    ] }) })).json();
  await page.goto(`${base}/dashboards/${made.dashboard.dashboard_id}`);
  await hydrated(page);
  assert.match(await page.textContent('#dashboard-runs'), new RegExp(`· ${expected} runs`));
  assert.equal((await page.$$('.dashboard-table tbody tr')).length, expected);
  assert.equal(await page.textContent('.dashboard-note'), hostile);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // A metric no run has says so instead of drawing empty axes.
  await page.waitForSelector('figure.chart-card[data-metric="no_such_metric"] .chart-empty');
  // An experiment deleted after the dashboard was made: said, not silently empty.
  const { experiment_id: doomed } = await post('experiments/create', { name: `doomed-${Date.now()}` });
  const withDoomed = await (await fetch(`${base}/api/2.0/mltrack/dashboards/create`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'with a doomed experiment', experiment_ids: [beta, doomed], panels: [{ type: 'table', columns: ['params.optimizer'] }] }) })).json();
  await post('experiments/delete', { experiment_id: doomed });
  await page.goto(`${base}/dashboards/${withDoomed.dashboard.dashboard_id}`);
  await hydrated(page);
  assert.match(await page.textContent('.gone-experiment'), /^Experiment “doomed-\d+” \(\d+\) was deleted: its runs are not shown until it is restored\.$/);
  assert.equal((await page.$$('.dashboard-table tbody tr')).length, await count(beta));
  const removed = await fetch(`${base}/api/2.0/mltrack/dashboards/delete`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ dashboard_id: withDoomed.dashboard.dashboard_id }) });
  assert.equal(removed.status, 200);

  // From an experiment to the dashboards that show it.
  await page.goto(`${base}/experiments/${beta}`);
  await hydrated(page);
  await page.click('#experiment-dashboards');
  await page.waitForURL(u => new URL(u).searchParams.get('experiment') === beta);
  await page.waitForSelector('#dashboards-of');
  await page.waitForSelector('#dashboards td.name');
  assert.deepEqual(await page.$$eval('#dashboards td.name', tds => tds.map(t => t.textContent)), ['both']);

  // Duplicate, then arrange the copy in edit mode: the edits are a draft
  // in the page's URL until saved; the original keeps its panels.
  await page.goto(`${base}/dashboards/${made.dashboard.dashboard_id}`);
  await hydrated(page);
  await page.click('#duplicate');
  await page.waitForURL(u => /\/dashboards\/d-[0-9a-f]+\?edit=1$/.test(u) && !u.toString().includes(made.dashboard.dashboard_id));
  await hydrated(page);
  assert.equal(await page.textContent('#dashboard-name'), 'both (copy)');
  const copyId = new URL(page.url()).pathname.split('/').pop();
  const stored = async () => (await (await fetch(`${base}/api/2.0/mltrack/dashboards/get?dashboard_id=${copyId}`)).json()).dashboard;
  const kindsOf = p => p.$$eval('.dashboard-item', items => items.map(i =>
    i.querySelector('.dashboard-note') ? 'note' : i.querySelector('.dashboard-table') ? 'table'
      : i.querySelector('.image-panel') ? 'images' : i.querySelector('.dashboard-section') ? 'section' : 'line'));
  const kinds = () => kindsOf(page);
  assert.deepEqual(await kinds(), ['note', 'table', 'line']);
  assert.equal((await page.$$('.panel-controls')).length, 3);
  assert.equal(await page.$('#draft-bar'), null, 'nothing unsaved yet');
  await page.click('.dashboard-item[data-panel-index="0"] .move-down');
  await page.waitForFunction(() => document.querySelector('.dashboard-item[data-panel-index="0"] .dashboard-table'));
  assert.match(await page.textContent('#draft-bar'), /Unsaved changes, based on version 1/);
  // A chart goes across the page's width and back; notes and tables have no size.
  assert.equal(await page.$('.dashboard-item[data-panel-index="0"] .resize-panel'), null);
  const half = await page.$eval('.dashboard-item[data-panel-index="2"]', el => el.getBoundingClientRect().width);
  await page.click('.dashboard-item[data-panel-index="2"] .resize-panel');
  await page.waitForSelector('.dashboard-item.wide[data-panel-index="2"]');
  const full = await page.$eval('.dashboard-item[data-panel-index="2"]', el => el.getBoundingClientRect().width);
  assert.ok(full > half * 1.5, `${half} -> ${full}`);
  await page.click('.dashboard-item[data-panel-index="2"] .remove-panel');
  await page.waitForFunction(() => document.querySelectorAll('.dashboard-item').length === 2);
  // The half-edited view is in its link: a teammate opening it sees the same; nothing is stored yet.
  const mate = await browser.newPage();
  await mate.goto(page.url());
  await mate.waitForSelector('body[data-hydrated="true"]');
  assert.deepEqual(await kindsOf(mate), ['table', 'note']);
  assert.match(await mate.textContent('#draft-bar'), /Unsaved changes/);
  await mate.close();
  assert.deepEqual((await stored()).panels.map(p => p.type), ['note', 'table', 'line']);
  // A panel added by typing: the samples the sweep logged as images, with a step slider.
  await page.selectOption('#add-panel select', 'images');
  await page.fill('#add-panel input', 'samples');
  await page.click('#add-panel button');
  await page.waitForSelector('.image-panel .image-cell img');
  const cells = () => page.$$eval('.image-cell', cs => cs.map(c => c.querySelector('.muted')?.textContent));
  assert.deepEqual(await cells(), ['step 0', 'step 299', 'step 299', 'step 299'], 'the last step; a run that stopped logging shows its latest');
  await page.$eval('.image-step input', el => { el.value = '1'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.waitForFunction(() => document.querySelector('.image-step .mono')?.textContent === 'step 150');
  assert.deepEqual(await cells(), ['step 0', 'step 150', 'step 150', 'step 150']);
  assert.equal(new URL(page.url()).searchParams.get('img2'), '150', 'the step is in the link');
  const img = await page.$eval('.image-cell img', i => [i.naturalWidth, i.getAttribute('src')]);
  assert.ok(img[0] > 0 && /compressed\.webp/.test(img[1]), `the image loads: ${img}`);
  // A note's text edited in place.
  await page.click('.dashboard-item[data-panel-index="1"] .edit-note');
  await page.fill('.note-rewrite textarea', 'Only the **sgd** runs matter.');
  await page.click('.note-rewrite button[type=submit]');
  await page.waitForSelector('.dashboard-note strong');
  // Which runs: one experiment of the two, then a filter; a filter that
  // does not parse is refused in a sentence and the draft is kept.
  await page.click('#dashboard-experiments summary');
  await page.click(`#dashboard-experiments input[data-experiment-id="${beta}"]`);
  await page.waitForFunction(n => new RegExp(`· ${n} runs`).test(document.querySelector('#dashboard-runs')?.textContent ?? ''), await count(exp));
  await page.fill('#dashboard-filter input', "params.optimizer = 'sgd'");
  await page.click('#dashboard-filter button');
  await page.waitForFunction(() => /· 2 runs/.test(document.querySelector('#dashboard-runs')?.textContent ?? ''));
  assert.match(await page.textContent('#dashboard-runs'), /where params.optimizer = 'sgd'/);
  const halfDone = page.url();
  await page.fill('#dashboard-filter input', 'metrics.loss <<< 1');
  await page.click('#dashboard-filter button');
  await page.waitForSelector('p.error');
  assert.match(await page.textContent('p.error'), /filter/i);
  assert.doesNotMatch(await page.textContent('p.error'), /error running server function/);
  assert.equal(page.url(), halfDone, 'the refused edit left the draft as it was');
  await page.reload();
  await hydrated(page);
  assert.deepEqual(await kinds(), ['table', 'note', 'images'], 'the draft survives a reload');
  assert.equal((await page.$$('.panel-controls')).length, 3, 'so does edit mode');
  await page.click('#save-draft');
  await page.waitForFunction(() => !document.querySelector('#draft-bar') && /version 2/.test(document.body.textContent));
  const saved = await stored();
  assert.deepEqual(saved.panels.map(p => p.type), ['table', 'note', 'images']);
  assert.equal(saved.filter, "params.optimizer = 'sgd'");
  assert.deepEqual(saved.experiment_ids, [exp]);
  assert.equal(saved.panels[1].text, 'Only the **sgd** runs matter.');
  // Two people edit at once: the second save is refused with who saved
  // when, and the second person's draft stays in their URL.
  const second = await browser.newPage();
  await second.goto(`${base}/dashboards/${copyId}?edit=1`);
  await second.waitForSelector('body[data-hydrated="true"]');
  for (const [p, title] of [[page, 'First'], [second, 'Second']]) {
    await p.selectOption('#add-panel select', 'section');
    await p.fill('#add-panel input', title);
    await p.click('#add-panel button');
    await p.waitForSelector('#draft-bar');
  }
  await page.click('#save-draft');
  await page.waitForFunction(() => !document.querySelector('#draft-bar') && /version 3/.test(document.body.textContent));
  await second.click('#save-draft');
  await second.waitForSelector('p.error');
  assert.match(await second.textContent('p.error'), /was saved by someone at .* UTC \(version 3\) after version 2/);
  assert.ok(new URL(second.url()).searchParams.get('draft').includes('Second'), 'the refused draft is kept');
  await second.close();
  assert.equal((await stored()).panels.at(-1).title, 'First');
  await page.screenshot({ path: `${shots}dashboard-edit.png`, fullPage: true });
  await page.click('#edit-dashboard');
  await page.waitForURL(u => !u.toString().includes('edit=1'));
  await page.waitForFunction(() => document.querySelectorAll('.panel-controls').length === 0);
  const original = await (await fetch(`${base}/api/2.0/mltrack/dashboards/get?dashboard_id=${made.dashboard.dashboard_id}`)).json();
  assert.deepEqual(original.dashboard.panels.map(p => p.type), ['note', 'table', 'line']);

  // A comparison saved as a dashboard: its runs pinned, its chart, the scatter and what differs.
  await page.goto(`${base}/compare?runs=${ids.runs[0]},${ids.runs[2]}&metric=val_loss&sx=params.lr&sy=metrics.val_loss`);
  await hydrated(page);
  await page.click('#save-comparison');
  await page.fill('#save-comparison-name', 'adam vs sgd');
  await page.click('#save-comparison-form button[type=submit]');
  await page.waitForURL(/\/dashboards\/d-[0-9a-f]+$/);
  await hydrated(page);
  assert.equal(await page.textContent('#dashboard-name'), 'adam vs sgd');
  assert.match(await page.textContent('#snapshot-note'), /A snapshot of 2 runs/);
  await page.waitForSelector(`${panel('val_loss')}[data-drawn="true"]`);
  assert.equal(await page.$eval(panel('val_loss'), el => el.data.length), 2);
  await page.waitForSelector('.dashboard .chart-card .chart[data-drawn="true"]');
  assert.equal((await page.$$('.dashboard-table tbody tr')).length, 2);
  const heads = await page.$$eval('.dashboard-table th', ths => ths.map(t => t.textContent));
  assert.deepEqual(heads, ['Run', 'params.batch_size', 'params.lr', 'params.optimizer', 'metrics.val_loss']);
  await page.screenshot({ path: `${shots}dashboard-from-compare.png`, fullPage: true });
}, { allow: /Content Security Policy|status of (400|409)/ });

await test('hash links never lead off-site; pages carry the security headers', async page => {
  const hashes = ['#//evil.example/x', '#/\\evil.example/x', '#/%2F%2Fevil.example', '#/.//evil.example/x',
    '#/..//evil.example/x', '#/./\\evil.example/x', '#/a/..//evil.example/x'];
  for (const hash of hashes) {
    await page.goto(`${base}/${hash}`);
    await hydrated(page);
    assert.equal(new URL(page.url()).origin, base, `${hash} stays on ${base}`);
  }
  const response = await page.goto(base + '/');
  const headers = response.headers();
  assert.match(headers['content-security-policy'], /script-src 'self' 'nonce-[\w-]+'/);
  assert.match(headers['content-security-policy'], /frame-ancestors 'self'/);
  assert.equal(headers['x-frame-options'], 'SAMEORIGIN');
  assert.equal(headers['x-content-type-options'], 'nosniff');
}, { allow: /status of 404/ });

await test('errors read as sentences; the Default experiment offers no delete', async page => {
  await page.goto(base + '/');
  await hydrated(page);
  const defaultRow = await page.$('#experiments tr[data-experiment-id="0"]');
  assert.ok(defaultRow, 'the Default experiment is listed');
  assert.equal(await defaultRow.$('button:has-text("Delete")'), null);
  // Renaming to a name another experiment has fails with MLflow's sentence.
  page.once('dialog', d => d.accept('e2e-beta'));
  await page.click(`#experiments tr[data-experiment-id="${exp}"] button:has-text("Rename")`);
  await page.waitForSelector('p.error');
  const text = await page.textContent('p.error');
  assert.doesNotMatch(text, /error running server function|ServerFnError/);
  assert.match(text, /e2e-beta/);
}, { allow: /status of 400/ });

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

await test('users: sign in, see only what you may, sign out; a stale session goes to the login page', async page => {
  // A server of this test's own, with users and permissions on.
  const dir = mkdtempSync(join(tmpdir(), 'mltrack-auth-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const url = `http://127.0.0.1:${port}`;
  const admin = 'Basic ' + Buffer.from('admin:admin-password-1').toString('base64');
  const server = spawn(process.env.MLTRACK_BIN, ['ui', '--port', String(port), '--app-name', 'basic-auth'], {
    cwd: dir, stdio: 'ignore',
    env: { ...process.env, MLTRACK_ADMIN_USERNAME: 'admin', MLTRACK_ADMIN_PASSWORD: 'admin-password-1' },
  });
  try {
    for (let i = 0; i < 300; i++) {
      try { if ((await fetch(`${url}/health`)).ok) break; } catch {}
      await new Promise(r => setTimeout(r, 100));
    }
    const call = async (path, body, version = '2.0') => {
      const r = await fetch(`${url}/api/${version}/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: admin }, body: JSON.stringify(body) });
      assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
      return r.json();
    };
    const open = (await call('experiments/create', { name: 'open to all' })).experiment_id;
    const secret = (await call('experiments/create', { name: 'secret plans' })).experiment_id;
    await call('users/create', { username: 'viewer', password: 'viewer-password-1' });
    await call('users/permissions/grant', { username: 'viewer', resource_type: 'experiment', resource_id: secret, permission: 'DENY' }, '3.0');

    const response = await page.goto(`${url}/experiments/${open}`);
    assert.match(page.url(), /\/login\?next=%2Fexperiments%2F/);
    assert.equal(response.status(), 200);
    await page.fill('input[name=username]', 'viewer');
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    assert.match(await page.textContent('.error'), /do not match/);
    await page.fill('input[name=username]', 'viewer');
    await page.fill('input[name=password]', 'viewer-password-1');
    await page.click('button[type=submit]');
    await page.waitForURL(`${url}/experiments/${open}`);
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
    assert.match(await page.textContent('.signed-in .user'), /viewer/);
    await page.waitForSelector('#live-badge[data-live="live"]', { timeout: 10000 });
    const cookie = (await page.context().cookies()).find(c => c.name === 'mltrack_session');
    assert.ok(cookie.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(cookie.sameSite, 'Lax');

    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
    const names = await page.$$eval('table tbody tr', rows => rows.map(r => r.textContent));
    assert.ok(names.some(n => n.includes('open to all')), names.join('|'));
    assert.ok(!names.some(n => n.includes('secret plans')), 'a denied experiment is not listed');
    // A READ user is offered no rename or delete.
    assert.equal(await page.$$eval('#experiments td.actions button', bs => bs.length), 0);
    await page.screenshot({ path: `${shots}signed-in.png` });

    await page.goto(`${url}/experiments/${secret}`);
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
    assert.match(await page.textContent('main'), /You do not have permission/);
    assert.doesNotMatch(await page.textContent('main'), /server function/);

    await page.click('.signed-in button');
    await page.waitForURL(/\/login$/);
    await page.screenshot({ path: `${shots}login.png` });
    // The old session is over, and a made-up one is no better.
    await page.context().addCookies([{ ...cookie }]);
    await page.goto(`${url}/experiments/${open}`);
    assert.match(page.url(), /\/login\?next=/);
    await page.context().addCookies([{ ...cookie, value: 'mls_' + '0'.repeat(64) }]);
    await page.goto(`${url}/`);
    assert.match(page.url(), /\/login\?next=/);
  } finally {
    // Leave the page first: a request it still makes must not meet a stopped server.
    await page.goto('about:blank').catch(() => {});
    server.kill('SIGKILL');
  }
}, { allow: /status of 40[13]/ });

await test('unknown pages say so, with a 404', async page => {
  const response = await page.goto(base + '/no/such/page');
  assert.equal(response.status(), 404);
  await hydrated(page);
  assert.match(await page.textContent('main'), /Page not found/);
}, { allow: /status of 404/ });

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
