// Browser tests: Users and permissions in the browser.
// Run by end2end/e2e.mjs, which passes what every test file shares.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function ({ test, browser, base, ids, shots, hydrated, exp, runUrl, rowNames }) {
  await test('users: sign in, see only what you may, sign out; a stale session goes to the login page', async page => {
    // A server of this test's own, with users and permissions on.
    const dir = mkdtempSync(join(tmpdir(), 'mltrack-auth-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const url = `http://127.0.0.1:${port}`;
    const admin = 'Basic ' + Buffer.from('admin:admin-password-1').toString('base64');
    const server = spawn(process.env.MLTRACK_BIN, ['ui', '--port', String(port), '--app-name', 'basic-auth'], {
      cwd: dir, stdio: 'ignore',
      env: { ...process.env, MLTRACK_ADMIN_USERNAME: 'admin', MLTRACK_ADMIN_PASSWORD: 'admin-password-1' },
    });
    try {
      for (let i = 0; i < 300; i++) {
        try { if ((await fetch(`${url}/health`)).ok) break; } catch {}
        await new Promise(r => setTimeout(r, 100));
      }
      const call = async (path, body, version = '2.0') => {
        const r = await fetch(`${url}/api/${version}/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: admin }, body: JSON.stringify(body) });
        assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
        return r.json();
      };
      const open = (await call('experiments/create', { name: 'open to all' })).experiment_id;
      const secret = (await call('experiments/create', { name: 'secret plans' })).experiment_id;
      await call('users/create', { username: 'viewer', password: 'viewer-password-1' });
      await call('users/permissions/grant', { username: 'viewer', resource_type: 'experiment', resource_id: secret, permission: 'DENY' }, '3.0');

      const response = await page.goto(`${url}/experiments/${open}`);
      assert.match(page.url(), /\/login\?next=%2Fexperiments%2F/);
      assert.equal(response.status(), 200);
      await page.fill('input[name=username]', 'viewer');
      await page.fill('input[name=password]', 'wrong password');
      await page.click('button[type=submit]');
      assert.match(await page.textContent('.error'), /do not match/);
      await page.fill('input[name=username]', 'viewer');
      await page.fill('input[name=password]', 'viewer-password-1');
      await page.click('button[type=submit]');
      await page.waitForURL(`${url}/experiments/${open}`);
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
      assert.match(await page.textContent('.signed-in .user'), /viewer/);
      await page.waitForSelector('#live-badge[data-live="live"]', { timeout: 10000 });
      const cookie = (await page.context().cookies()).find(c => c.name === 'mltrack_session');
      assert.ok(cookie.httpOnly, 'the session cookie is HttpOnly');
      assert.equal(cookie.sameSite, 'Lax');

      await page.goto(`${url}/`);
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
      const names = await page.$$eval('table tbody tr', rows => rows.map(r => r.textContent));
      assert.ok(names.some(n => n.includes('open to all')), names.join('|'));
      assert.ok(!names.some(n => n.includes('secret plans')), 'a denied experiment is not listed');
      // A READ user is offered no rename or delete.
      assert.equal(await page.$$eval('#experiments td.actions button', bs => bs.length), 0);
      await page.screenshot({ path: `${shots}signed-in.png` });

      await page.goto(`${url}/experiments/${secret}`);
      await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30000 });
      assert.match(await page.textContent('main'), /You do not have permission/);
      assert.doesNotMatch(await page.textContent('main'), /server function/);

      await page.click('.signed-in button');
      await page.waitForURL(/\/login$/);
      await page.screenshot({ path: `${shots}login.png` });
      // The old session is over, and a made-up one is no better.
      await page.context().addCookies([{ ...cookie }]);
      await page.goto(`${url}/experiments/${open}`);
      assert.match(page.url(), /\/login\?next=/);
      await page.context().addCookies([{ ...cookie, value: 'mls_' + '0'.repeat(64) }]);
      await page.goto(`${url}/`);
      assert.match(page.url(), /\/login\?next=/);
    } finally {
      // Leave the page first: a request it still makes must not meet a stopped server.
      await page.goto('about:blank').catch(() => {});
      server.kill('SIGKILL');
    }
  }, { allow: /status of 40[13]/ });
}
