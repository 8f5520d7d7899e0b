// Browser tests: Debian's Chromium driven by playwright-core against a real
// mltrack populated through the real mlflow client (see end2end/run.sh).
// Usage: node end2end/e2e.mjs <base-url> '<ids json from populate.py>'
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import assert from 'node:assert/strict';

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

// The tests, a file per page (end2end/tests/), in this order: later files
// find what earlier ones left (a renamed experiment, a deleted version).
const context = { test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames };
for (const file of ['experiments', 'runs', 'compare', 'run', 'models', 'navigation', 'charts', 'dashboards', 'live', 'users']) {
  const { default: run } = await import(`./tests/${file}.mjs`);
  await run(context);
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
