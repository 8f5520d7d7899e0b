// Time to interactive of the runs table: from navigation to a hydrated page
// whose table rows respond (two checkbox clicks update the Compare button).
// Usage: node end2end/tti.mjs URL EXPERIMENT_ID
import { chromium } from 'playwright-core';
const [base, exp] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
for (const round of [1, 2, 3]) {
  const t0 = Date.now();
  await page.goto(`${base}/experiments/${exp}`, { waitUntil: 'commit' });
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120000 });
  const hydrated = Date.now() - t0;
  await page.locator('#runs tbody tr td.check input').nth(1).check();
  await page.locator('#runs tbody tr td.check input').nth(2).check();
  await page.waitForFunction(() => document.querySelector('#compare-button').textContent.includes('Compare 2'));
  const interactive = Date.now() - t0;
  const rows = await page.$$eval('#runs tbody tr[data-run-id]', r => r.length);
  const cols = await page.$$eval('#runs thead tr:last-child th[data-key]', t => t.length);
  const loaded = (await page.textContent('#run-count')).trim();
  // A second page of runs on demand.
  const t1 = Date.now();
  await page.click('.load-more');
  await page.waitForFunction(n => document.querySelector('#run-count').textContent.trim() !== n, loaded, { timeout: 120000 });
  const more = Date.now() - t1;
  console.log(`round ${round}: ${loaded}, ${rows} rows x ${cols} columns rendered; hydrated ${hydrated} ms, interactive ${interactive} ms; next page ${more} ms`);
}
await browser.close();
