// Browser tests: Debian's Chromium driven by playwright-core against a real
// mltrack populated through the real mlflow client (see end2end/run.sh).
// Usage: node end2end/e2e.mjs <base-url>
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

const base = process.argv[2] ?? 'http://127.0.0.1:5000';
const shots = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
let passed = 0, failed = 0;

async function test(name, fn, { allow = null } = {}) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await fn(page);
    assert.deepEqual(errors.filter(e => !(allow && allow.test(e))), [], 'console errors');
    console.log(`ok - ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAILED - ${name}\n${e.stack}`);
    await page.screenshot({ path: `${shots}FAILED-${name.replace(/\W+/g, '-')}.png` }).catch(() => {});
    failed++;
  } finally {
    await page.close();
  }
}

await test('experiments page renders on the server and hydrates', async page => {
  // Server-side rendering: the table is in the HTML before any script runs.
  const html = await (await fetch(base + '/')).text();
  assert.match(html, /<table[^>]*id="experiments"/);
  assert.match(html, /e2e-alpha/);

  await page.goto(base + '/');
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
  const names = await page.$$eval('#experiments td.name', tds => tds.map(t => t.textContent));
  assert.ok(names.includes('e2e-alpha') && names.includes('e2e-beta') && names.includes('Default'), names.join());
  await page.screenshot({ path: `${shots}experiments.png` });

  // Hydrated: typing in the search box filters the rows in the browser.
  await page.fill('#experiment-search', 'beta');
  await page.waitForFunction(() => document.querySelectorAll('#experiments tbody tr').length === 1);
  assert.equal(await page.textContent('#experiments td.name'), 'e2e-beta');
});

await test('unknown pages say so, with a 404', async page => {
  const response = await page.goto(base + '/no/such/page');
  assert.equal(response.status(), 404);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
  assert.match(await page.textContent('main'), /Page not found/);
}, { allow: /status of 404/ });

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
