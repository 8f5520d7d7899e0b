// Browser tests: Links and errors: MLflow's hash links, security headers, sentences, 404.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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

  await test('unknown pages say so, with a 404', async page => {
    const response = await page.goto(base + '/no/such/page');
    assert.equal(response.status(), 404);
    await hydrated(page);
    assert.match(await page.textContent('main'), /Page not found/);
    // A run that is not there: the server's sentence, typed by its code, and no "Try again" (it would not help).
    const missing = await page.goto(`${base}/experiments/${exp}/runs/${'0'.repeat(32)}`);
    assert.equal(missing.status(), 404);
    await hydrated(page);
    const error = await page.waitForSelector('p.error[data-error-code="RESOURCE_DOES_NOT_EXIST"]');
    assert.match(await error.textContent(), /not found|does not exist/i);
    assert.equal(await page.$('p.error .try-again'), null);
  }, { allow: /status of 404/ });
}
