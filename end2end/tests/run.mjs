// Browser tests: A run's page: overview, charts, and the artifact browser.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
}
