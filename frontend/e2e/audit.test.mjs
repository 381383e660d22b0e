// The auditor's page in headless Chromium: an auditor account made with
// `onemap user add` signs in at /audit/, reads the trail newest first (its
// own sign-in and a failed one are there, the seed's records hidden until
// asked for), reads a planner's edit in words, pages on, filters it, checks
// the hash chain, and the page makes no request beyond this machine and logs
// no error.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BASE, OUT, WAIT_MS, databaseURL, getJSON, openBrowser } from './browser.mjs';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'onemap');

// shows waits until the trail's table shows the rows of filter (not those of
// the query before it) and no load is under way.
async function shows(page, filter) {
  const want = new URLSearchParams(filter).toString();
  await page.waitForFunction((q) => {
    const rows = document.getElementById('rows');
    return rows.dataset.query === q && rows.getAttribute('aria-busy') === 'false';
  }, want);
}

test('an auditor reads and verifies the audit trail at /audit/', { timeout: 4 * WAIT_MS }, async () => {
  const db = databaseURL();
  assert.ok(db, 'the e2e database is not found: run through scripts/e2e.sh');
  const name = `auditor${process.pid}`;
  const password = 'e2e-审计-password';
  execFileSync(BIN, ['user', 'add', name, '--role', 'auditor', '--password-stdin'],
    { input: `${password}\n`, env: { ...process.env, ONEMAP_DATABASE_URL: db }, encoding: 'utf8' });

  // A planner changes a village's worker and population, with a reason.
  const village = (await getJSON(`/api/search?q=${encodeURIComponent('东岳社区')}&limit=1`)).results[0];
  {
    const signed = await fetch(new URL('/api/session', BASE), { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'planner', password: 'onemap-demo' }) });
    assert.equal(signed.status, 200, 'the demo planner signs in');
    const cookie = signed.headers.get('set-cookie').split(';')[0];
    const { csrf } = await signed.json();
    const g = await (await fetch(new URL(`/api/grids/${village.id}`, BASE), { headers: { cookie } })).json();
    const res = await fetch(new URL(`/api/grids/${village.id}`, BASE), { method: 'PATCH',
      headers: { cookie, 'content-type': 'application/json', 'X-CSRF-Token': csrf, 'If-Match': `"${g.properties.version}"` },
      body: JSON.stringify({ properties: { worker_name: '王小明', population: (g.properties.population ?? 0) + 1 }, reason: '网格员调整' }) });
    assert.equal(res.status, 200, `the planner's edit: ${await res.text()}`);
  }

  // Ten households' details read at once (as the server's anonymous
  // commander) make a burst, flagged to the auditor.
  const { features } = await getJSON('/api/layers/households/features?limit=10');
  for (const f of features) {
    const res = await fetch(new URL(`/api/households/${f.id}/details?purpose=visit`, BASE));
    assert.equal(res.status, 200, `details of household ${f.id}`);
  }

  const errors = [];
  const { page, foreign, close } = await openBrowser({ viewport: { width: 1280, height: 800 } }, async ({ page }) => {
    page.on('console', (msg) => {
      // A refused sign-in is a 401 the browser logs as a failed resource.
      if (msg.type() === 'error' && !/status of 401/.test(msg.text())) errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(err.message));
  });
  try {
    await page.goto(new URL('/audit/', BASE).href);
    await page.locator('#signin').waitFor({ state: 'visible' });

    // A wrong password is refused, and says nothing about which was wrong.
    await page.fill('#name', name);
    await page.fill('#password', 'not-the-password');
    await page.click('#signin button[type=submit]');
    await page.waitForFunction(() => document.getElementById('signin-error').textContent !== '');
    assert.match(await page.textContent('#signin-error'), /账号或密码错误/);

    await page.fill('#password', password);
    await page.click('#signin button[type=submit]');
    await page.locator('#trail').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#who'), new RegExp(name));
    assert.equal(await page.isVisible('#signin'), false, 'the sign-in form stays on the page after signing in');

    // The trail opens newest first, on its own sign-in, the system's own
    // records (the demo seed's 21,000 edits) hidden.
    await shows(page, { order: 'desc', system: 'hide' });
    const first = await page.$eval('#rows tr', (tr) => ({ action: tr.dataset.action, text: tr.textContent, shown: tr.cells[5].textContent }));
    assert.equal(first.action, 'login', `the newest record: ${first.text}`);
    assert.equal(first.shown, '登录', 'the action is named as the filter names it');
    assert.ok(first.text.includes(name), `the newest record: ${first.text}`);
    const roles = await page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.cells[2].textContent));
    assert.ok(!roles.includes('seed') && !roles.includes('system'), `the seed's records are shown: ${roles.slice(0, 20)}`);
    assert.equal(await page.isChecked('#f-system'), false);

    // The planner's edit in words: the object named, the fields changed by
    // their Chinese names, the boundary, the versions and the reason.
    await page.selectOption('#f-action', 'edit');
    await page.click('#filter button[type=submit]');
    await shows(page, { order: 'desc', action: 'edit', system: 'hide' });
    const edit = page.locator('#rows tr[data-action="edit"]').first();
    const cells = await edit.evaluate((tr) => [...tr.cells].map((td) => td.querySelector('.au-words')?.textContent ?? td.textContent));
    assert.equal(cells[2], 'planner');
    assert.equal(cells[6], `网格 #${village.id}`, 'the object is named in words');
    assert.match(cells[7], /^修改 人口、网格员姓名；边界未变；第 \d+ → \d+ 版；原因：网格员调整$/, cells[7]);
    assert.doesNotMatch(cells[7], /population|worker_name|updated_at/, 'no raw field name in the words');
    assert.equal(await edit.locator('details summary').textContent(), '原始记录', 'the record as written is folded under the words');
    const grid = page.locator('#rows tr[data-action="grid.update"]');
    assert.equal(await grid.count(), 0, 'the filter shows edits only');
    await page.screenshot({ path: path.join(OUT, 'audit-edit-words.png') });

    // The seed's records come back when asked for; 更多 reads on into older records.
    await page.selectOption('#f-action', '');
    await page.check('#f-system');
    await page.click('#filter button[type=submit]');
    await shows(page, { order: 'desc' });
    await page.click('#more');
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 400);
    const seqs = await page.$$eval('#rows tr', (trs) => trs.map((tr) => Number(tr.cells[0].textContent)));
    assert.ok(seqs.every((s, i) => i === 0 || s < seqs[i - 1]), 'two pages, newest first, without a repeat');

    // Its own sign-in and the failed attempt are in the trail: today, as a
    // day of the browser's time zone, from and to both inclusive.
    const today = await page.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    await page.fill('#f-actor', name);
    await page.fill('#f-from', today);
    await page.fill('#f-to', today);
    await page.click('#filter button[type=submit]');
    const day = await page.evaluate((date) => {
      const [y, m, d] = date.split('-').map(Number);
      return { from: new Date(y, m - 1, d).toISOString(), to: new Date(y, m - 1, d + 1).toISOString() };
    }, today);
    await shows(page, { order: 'desc', actor: name, ...day });
    const actions = await page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.dataset.action));
    assert.ok(actions.includes('login'), `the trail of ${name} lacks its sign-in: ${actions}`);

    // A day range that ends before it begins is refused, and says so.
    const tomorrow = await page.evaluate((date) => {
      const [y, m, d] = date.split('-').map(Number);
      const t = new Date(y, m - 1, d + 1);
      return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, '0')}-${String(t.getDate()).padStart(2, '0')}`;
    }, today);
    await page.fill('#f-from', tomorrow);
    await page.click('#filter button[type=submit]');
    await page.waitForFunction(() => document.getElementById('trail-error').textContent !== '');
    assert.match(await page.textContent('#trail-error'), /晚于结束日期/);
    await page.fill('#f-from', '');
    await page.fill('#f-to', '');

    await page.fill('#f-actor', '');
    await page.selectOption('#f-action', 'login.failed');
    await page.click('#filter button[type=submit]');
    await shows(page, { order: 'desc', action: 'login.failed' });
    const failed = await page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.textContent));
    assert.ok(failed.some((t) => t.includes(name)), `the failed sign-in of ${name} is not listed`);
    // Why it failed, in the page's words: not the server's English reason.
    const why = await page.$$eval('#rows tr[data-action="login.failed"]', (trs) => trs.map((tr) => tr.cells[7].querySelector('.au-words')?.textContent ?? ''));
    assert.ok(why.some((t) => /^原因：密码错误；第 \d+ 次失败$/.test(t)), `the failed sign-ins say: ${why.slice(0, 5)}`);
    assert.ok(why.every((t) => !/wrong password/.test(t)), `a reason in English: ${why.slice(0, 5)}`);
    await page.screenshot({ path: path.join(OUT, 'audit-signin-failed.png') });
    const csv = await page.getAttribute('#csv', 'href');
    assert.match(csv, /format=csv/);
    assert.doesNotMatch(csv, /limit=/, 'the export holds every record the filter selects');
    const res = await page.request.get(new URL(csv, BASE).href);
    assert.equal(res.status(), 200);
    assert.match(await res.text(), new RegExp(`accounts/${name}`));

    await page.click('#verify');
    await page.waitForFunction(() => document.getElementById('verify-result').dataset.ok !== undefined);
    assert.equal(await page.getAttribute('#verify-result', 'data-ok'), 'true', await page.textContent('#verify-result'));
    await page.screenshot({ path: path.join(OUT, 'audit.png') });

    // The burst of reads stands out, said in words with its purpose.
    await page.fill('#f-actor', '');
    await page.selectOption('#f-action', 'personal.burst');
    await page.click('#filter button[type=submit]');
    await shows(page, { order: 'desc', action: 'personal.burst' });
    const burst = page.locator('#rows tr[data-action="personal.burst"]').first();
    assert.match(await burst.innerText(), /10 分钟内查阅 10 户个人信息（走访核实 10）/);
    assert.equal(await burst.evaluate((tr) => getComputedStyle(tr).backgroundColor), 'rgb(254, 243, 199)', 'the flag is highlighted');
    await page.screenshot({ path: path.join(OUT, 'audit-burst.png') });

    // A filter that selects nothing says so.
    await page.fill('#f-actor', `nobody${process.pid}`);
    await page.click('#filter button[type=submit]');
    await shows(page, { order: 'desc', actor: `nobody${process.pid}`, action: 'personal.burst' });
    assert.equal(await page.isVisible('#empty'), true, 'an empty result says so');

    // When the session ends meanwhile, the next query shows the sign-in form.
    await page.evaluate(async () => {
      const s = await (await fetch('/api/session')).json();
      await fetch('/api/session', { method: 'DELETE', headers: { 'X-CSRF-Token': s.csrf } });
    });
    await page.click('#filter button[type=submit]');
    await page.locator('#signin').waitFor({ state: 'visible' });
    assert.match(await page.textContent('#signin-error'), /登录已过期/);
    assert.equal(await page.isVisible('#trail'), false);

    assert.deepEqual(foreign, [], 'requests left the machine');
    assert.deepEqual(errors, [], 'the page logged errors');
  } finally {
    await close();
  }
});
