// Browser tests: Dashboards: saved from the chart view and compare, notes, snapshots, editing.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
}
