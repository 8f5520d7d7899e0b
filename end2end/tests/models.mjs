// Browser tests: The registry: models, versions, logged models, and editing them.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
}
