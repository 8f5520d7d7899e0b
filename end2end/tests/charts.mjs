// Browser tests: The experiment chart view: colours, panels, grouping, zoom, parallel coordinates, eye toggles.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
    const xs = await page.$eval('#importance-scatter', el => el.data.flatMap(t => [...t.x]));
    assert.equal(xs.length, 8, 'one point per run with lr and val_loss');
    // Four runs share lr = 0.01: spread a little apart, not stacked on one dot.
    assert.equal(new Set(xs).size, 8, `${xs}`);
    assert.ok(await page.$$eval('#importance-scatter .legendtext', t => t.length) >= 8, 'a legend of the runs');
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
  await test('chart view: metrics in one chart, bars (grouped with their spread), scatters and notes added by the link', async page => {
    await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss`);
    await hydrated(page);
    await page.waitForSelector('figure.chart-card[data-metric="val_loss"] .chart[data-drawn="true"]');
    const add = async (kind, text) => {
      if (!(await page.$eval('#add-chart-panel', d => d.open))) await page.click('#add-chart-panel summary');
      await page.selectOption('#add-chart-panel-form select', kind);
      await page.fill('#add-chart-panel-form input', text);
      await page.click('#add-chart-panel-form button[type=submit]');
    };
    // One metric is not an overlay: said in a sentence, nothing added.
    await add('overlay', 'train_loss');
    await page.waitForFunction(() => /two metric keys/.test(document.querySelector('#add-chart-panel')?.parentElement?.textContent ?? ''));
    assert.ok(!page.url().includes('add='));
    // train_loss and val_loss in one chart: each run in its colour, each metric in its style.
    await add('overlay', 'train_loss, val_loss');
    await page.waitForURL(/add=/);
    const overlay = 'figure.chart-card[data-overlay="train_loss,val_loss"] .chart';
    await page.waitForSelector(`${overlay}[data-drawn="true"]`);
    const lines = await page.$eval(overlay, el => el.data.filter(t => t.mode === 'lines' && !t.name.includes('raw')).map(t => ({ name: t.name, color: t.line.color, dash: t.line.dash ?? 'solid' })));
    assert.equal(lines.length, 16, lines.map(l => l.name).join());
    const train = lines.find(l => l.name === 'run-00 · train_loss'), val = lines.find(l => l.name === 'run-00 · val_loss');
    assert.equal(train.color, val.color);
    assert.equal(train.dash, 'solid');
    assert.equal(val.dash, 'dot');
    assert.match(await page.textContent('figure.chart-card.overlay figcaption'), /train_loss\s*val_loss/);
    // The added panels come first on the page, above the panel per metric.
    const [addedTop, metricTop] = await page.evaluate(() => [document.querySelector('#added-panels').getBoundingClientRect().top,
      document.querySelector('figure.chart-card[data-metric="val_loss"]').getBoundingClientRect().top]);
    assert.ok(addedTop < metricTop);
    // Bars of a value logged once: a bar per run, then grouped: a bar per group with its spread.
    await add('bar', 'test_accuracy');
    // The newest added panel comes first.
    const bars = '#added-panels .bar-panel .chart';
    await page.waitForSelector(`${bars}[data-drawn="true"]`);
    assert.equal(await page.$eval(bars, el => el.data.filter(t => t.type === 'bar').length), 4);
    await page.selectOption('#group-by', 'params.optimizer');
    await page.waitForFunction(sel => document.querySelector(sel)?.data?.length === 2, bars);
    const groups = await page.$eval(bars, el => el.data.map(t => ({ x: t.x[0], y: t.y[0], plus: t.error_y?.array?.[0], minus: t.error_y?.arrayminus?.[0] })));
    const adam = groups.find(g => g.x === 'adam'), sgd = groups.find(g => g.x === 'sgd');
    assert.ok(Math.abs(adam.y - 0.875) < 1e-9 && Math.abs(adam.plus - 0.025) < 1e-9 && Math.abs(adam.minus - 0.025) < 1e-9, JSON.stringify(groups));
    assert.ok(Math.abs(sgd.y - 0.775) < 1e-9, JSON.stringify(groups));
    // A scatter and a note.
    await add('scatter', 'params.lr, val_loss');
    await add('note', 'Why **lr** matters');
    await page.waitForSelector('#added-panels .added-note strong');
    await page.waitForSelector('#added-panels .scatter-panel .chart[data-drawn="true"]');
    assert.deepEqual(await page.$$eval('#added-panels .added-panel > :nth-child(2)', p => p.map(e => e.className.split(' ').at(-1))), ['added-note', 'scatter-panel', 'bar-panel', 'overlay']);
    const points = await page.$eval('#added-panels .scatter-panel .chart', el => el.data.reduce((n, t) => n + t.x.length, 0));
    assert.ok(points >= 4, `${points}`);
    // The link reopens all four; a panel's × takes it away.
    await page.reload();
    await hydrated(page);
    await page.waitForSelector(`${overlay}[data-drawn="true"]`);
    assert.equal(await page.$$eval('#added-panels .added-panel', p => p.length), 4);
    await page.screenshot({ path: `${shots}chart-view-added-panels.png` });
    await page.click('#added-panels .added-panel[data-added-index="0"] .remove-added');
    await page.waitForFunction(() => document.querySelectorAll('#added-panels .added-panel').length === 3);
    assert.equal(await page.$('#added-panels .added-note'), null);
    // Saved as a dashboard, the overlay is one chart there too, and the bars stay grouped.
    await page.click('#save-dashboard');
    await page.fill('#save-dashboard-name', 'added panels');
    await page.click('#save-dashboard-form button[type=submit]');
    await page.waitForURL(/\/dashboards\/d-[0-9a-f]+$/);
    await hydrated(page);
    await page.waitForSelector('figure.chart-card[data-overlay="train_loss,val_loss"] .chart[data-drawn="true"]');
    await page.waitForFunction(() => [...document.querySelectorAll('figure.bar-panel .chart')].some(c => c.data?.length === 2 && c.data[0].error_y));
    // A link whose added panels cannot be read says so and draws the rest.
    await page.goto(`${base}/experiments/${exp}?view=charts&q=val_loss&add=${encodeURIComponent('[{"type":"table","columns":["params.lr"]},{"type":"bar","metric":"test_accuracy"}]')}`);
    await hydrated(page);
    await page.waitForSelector('#added-bar-0[data-drawn="true"]');
    assert.match(await page.textContent('.error'), /added panels in this link could not be read/);
    // A metric logged once is a bar panel of its own, and Group by applies to it too.
    await page.goto(`${base}/experiments/${exp}?view=charts&q=test_accuracy&group=params.optimizer`);
    await hydrated(page);
    const own = 'figure.chart-card[data-metric="test_accuracy"] .chart';
    await page.waitForSelector(`${own}[data-drawn="true"]`);
    const grouped = await page.$eval(own, el => el.data.map(t => ({ type: t.type, x: t.x[0], spread: !!t.error_y })));
    assert.deepEqual(grouped, [{ type: 'bar', x: 'adam', spread: true }, { type: 'bar', x: 'sgd', spread: true }]);
  });

  await test('chart view of a sweep of 260 runs: bands and representative lines from the server, groups, parallel coordinates over all', async page => {
    const post = async (path, body) => {
      const r = await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (r.status !== 200) assert.fail(`${path}: ${r.status} ${await r.text()}`);
      return r.json();
    };
    const RUNS = 260, LRS = ['0.001', '0.01', '0.1', '1'];
    const { experiment_id: sweep } = await post('experiments/create', { name: `sweep-${Date.now()}` });
    // Run r: lr LRS[r % 4], loss (1 + r % 4) e^(-s/20) + r/1000 at steps 0-49.
    const loss = (r, s) => (1 + r % 4) * Math.exp(-s / 20) + r / 1000;
    const made = [];
    for (let first = 0; first < RUNS; first += 20) {
      made.push(...await Promise.all(Array.from({ length: Math.min(20, RUNS - first) }, async (_, i) => {
        const r = first + i;
        const { run } = await post('runs/create', { experiment_id: sweep, run_name: `trial-${r}`, start_time: 1_700_000_000_000 + r });
        await post('runs/log-batch', { run_id: run.info.run_id, params: [{ key: 'lr', value: LRS[r % 4] }],
          metrics: Array.from({ length: 50 }, (_, s) => ({ key: 'loss', value: loss(r, s), timestamp: 1_700_000_000_000 + s, step: s })) });
        return run.info.run_id;
      })));
    }
    const median = values => {
      const v = [...values].sort((a, b) => a - b);
      return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    };
    const at0 = Array.from({ length: RUNS }, (_, r) => loss(r, 0));
    await page.goto(`${base}/experiments/${sweep}?view=charts`);
    await hydrated(page);
    const panel = 'figure.chart-card.sweep[data-metric="loss"] .chart';
    await page.waitForSelector(`${panel}[data-drawn="true"]`);
    assert.match(await page.textContent('#charts-run-count'), /^260 runs$/);
    const note = await page.textContent('figure.chart-card[data-metric="loss"] .sweep-note');
    const drawn = Number(/and (\d+) of their lines/.exec(note)?.[1]);
    assert.match(note, /^260 runs: their median, middle half and range by step/);
    assert.ok(drawn >= 24 && drawn <= 31, note);
    const traces = await page.$eval(panel, el => el.data.map(t => ({ name: t.name, x: t.x, y: t.y, fill: t.fill ?? '', color: t.line?.color })));
    // The median of all 260 runs at each step, computed on the server.
    const mid = traces.find(t => t.name === 'all 260 runs: median, middle half' && !t.fill);
    assert.equal(mid.x.length, 50);
    assert.ok(Math.abs(mid.y[0] - median(at0)) < 1e-9, `${mid.y[0]} vs ${median(at0)}`);
    // The range band reaches the highest run at step 0; the middle half lies inside it.
    const range = traces.filter(t => t.name === 'all 260 runs: range band');
    assert.equal(range.length, 2);
    assert.ok(Math.abs(range[0].y[0] - Math.max(...at0)) < 1e-9 && Math.abs(range[1].y[0] - Math.min(...at0)) < 1e-9);
    const half = traces.filter(t => t.name === 'all 260 runs: median, middle half band');
    assert.ok(half[0].y[0] < range[0].y[0] && half[1].y[0] > range[1].y[0]);
    // A few runs' lines, not 260: the lowest and the highest last value among them, each in its run's colour.
    const lines = traces.filter(t => /^trial-\d+$/.test(t.name));
    assert.equal(lines.length, drawn);
    const names = lines.map(t => t.name);
    assert.ok(names.includes('trial-0') && names.includes('trial-259') && names.includes('trial-255'), names.join());
    await page.screenshot({ path: `${shots}chart-view-sweep.png` });
    // trial-259 started last: the table's first row, with the line's colour.
    const color = lines.find(t => t.name === 'trial-259').color;
    const rgb = hex => `rgb(${[1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    await page.goto(`${base}/experiments/${sweep}`);
    await hydrated(page);
    const dot = await page.$eval(`tr[data-run-id="${made[259]}"] .run-dot`, d => getComputedStyle(d).backgroundColor);
    assert.equal(dot, rgb(color));
    // Grouped by lr: each group's mean and band over its 65 runs, in the group's colour.
    await page.goto(`${base}/experiments/${sweep}?view=charts&group=params.lr`);
    await hydrated(page);
    await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => /params.lr = 0.001/.test(t.name)), panel);
    const groups = await page.$eval(panel, el => el.data.filter(t => t.showlegend !== false).map(t => ({ name: t.name, y0: t.y[0] })));
    assert.deepEqual(groups.map(g => g.name), LRS.map(lr => `params.lr = ${lr} (65 runs)`));
    LRS.forEach((_, g) => {
      const members = at0.filter((_, r) => r % 4 === g);
      const mean = members.reduce((a, b) => a + b, 0) / members.length;
      assert.ok(Math.abs(groups[g].y0 - mean) < 1e-9, `${groups[g].name}: ${groups[g].y0} vs ${mean}`);
    });
    assert.match(await page.textContent('figure.chart-card[data-metric="loss"] .sweep-note'), /^260 runs by group/);
    // The middle half as a band, by the link.
    await page.goto(`${base}/experiments/${sweep}?view=charts&group=params.lr&agg=median&band=iqr&pc=1`);
    await hydrated(page);
    await page.waitForFunction(sel => document.querySelector(sel)?.data?.some(t => /params.lr = 1 /.test(t.name)), panel);
    assert.equal(await page.$eval('#group-band', s => s.value), 'iqr');
    // The parallel coordinates draw every one of the 260 runs.
    await page.waitForFunction(() => document.querySelectorAll('#parallel .pc-line').length === 260);
    await page.screenshot({ path: `${shots}chart-view-sweep-grouped.png`, fullPage: true });
  });
}
