// What the UI's static files cost a browser: the bytes a first visit
// downloads (wasm bundle, its JS, the CSS, plotly.js for the charts) and
// what a repeat visit in the same browser downloads and asks again.
// Usage: node bench/asset_bytes.mjs <base-url> [path]   (default path: an experiment's chart view)
import { launchBrowser } from './browser.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:5000';
const path = process.argv[3] ?? '/experiments/0?view=charts';
const browser = await launchBrowser();
const context = await browser.newContext();
async function visit() {
  const page = await context.newPage();
  await page.goto(base + path);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60000 });
  await page.waitForFunction(() => !document.querySelector('.chart') || window.Plotly, null, { timeout: 60000 });
  const files = await page.evaluate(() => performance.getEntriesByType('resource')
    .filter(e => /\/(pkg|vendor)\//.test(e.name))
    .map(e => ({ name: new URL(e.name).pathname, sent: e.transferSize, size: e.decodedBodySize })));
  await page.close();
  return files;
}

for (const label of ['first visit', 'repeat visit']) {
  const files = await visit();
  const sent = files.reduce((n, f) => n + f.sent, 0);
  const size = files.reduce((n, f) => n + f.size, 0);
  console.log(`${label}: ${files.length} files, ${(sent / 1e6).toFixed(2)} MB over the network (${(size / 1e6).toFixed(2)} MB unpacked); ` +
    `${files.filter(f => f.sent > 0).length} of them asked of the server (the rest from the browser's cache)`);
  for (const f of files) console.log(`  ${f.name}: ${(f.sent / 1e3).toFixed(0)} kB sent, ${(f.size / 1e3).toFixed(0)} kB`);
}
await browser.close();
