// What the browser benchmarks share: Debian's Chromium, headless, without
// the background traffic that would skew a timing, and the in-page record
// of each chart's moment of drawing.
import { chromium } from 'playwright-core';

export const launchBrowser = () => chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

// An init script: each chart's moment of drawing (its `data-drawn` turning
// true) goes into `window.__drawn`, in milliseconds since the navigation
// started. Polling from outside waits for a main thread that is busy
// drawing and reports late.
export const drawnMarks = () => {
  window.__drawn = [];
  new MutationObserver(ms => {
    for (const m of ms) if (m.target.getAttribute('data-drawn') === 'true') window.__drawn.push(performance.now());
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-drawn'] });
};
