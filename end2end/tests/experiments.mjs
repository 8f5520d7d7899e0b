// Browser tests: The experiments list: server rendering, hydration, search, create.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
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
}
