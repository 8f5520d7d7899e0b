// Browser tests: The runs table: filter, sort, nested runs, selection, big tables.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
}
