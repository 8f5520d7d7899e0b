// Browser tests: Compare: the overlaid chart, scatter and diff, and the report.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
    const pointColors = await page.$eval('#scatter-chart', el => el.data.map(t => t.marker.color));
    // Its legend names the groups the colours stand for.
    const scatterLegend = await page.$$eval('#scatter-chart .legendtext', ts => ts.map(t => t.textContent));
    assert.deepEqual(scatterLegend, ['params.optimizer = adam', 'params.optimizer = sgd']);
    // Hovering a point says its run and values once: no trace name, no raw coordinates.
    assert.equal(await page.$eval('#scatter-chart', el => el.data[0].hovertemplate), '%{text}<extra></extra>');
    assert.match(await page.$eval('#scatter-chart', el => el.data[0].text[0]), /^run-\d\d<br>params\./);
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
}
