// The grid worker's phone page (/m/work/) at 390×844 in headless Chromium,
// against the e2e server's demo county and accounts (scripts/e2e.sh). An
// operator of 狮山镇 files a case through the API, accepts it and assigns it
// to the demo grid worker's group; the grid worker signs in on the page,
// finds it among its tasks with its time limit, and handles it with a note.
// Then the phone goes offline: a visit and a report made there wait on the
// phone ("待发送 2") and reach the server once the network returns — once
// each, as the API then shows.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { account, openPhone, placeOfGroup, signInWork, WAIT_MS } from './browser.mjs';

test('the grid worker handles a task on the phone page, also after a spell offline', { timeout: 8 * WAIT_MS }, async () => {
  const gw = await account('gridworker');
  const op = await account('operator');
  const cmd = await account('commander');
  const grid = gw.session.grid_id;
  assert.ok(grid > 0, 'the demo grid worker is bound to a grid');
  // A household of the grid worker's group (or a risk point, or a station:
  // the demo's groups do not all have households): what is visited, where
  // the case is, and where the phone says it is.
  const { kind, feature } = await placeOfGroup(gw);
  const [lon, lat] = feature.geometry.coordinates;
  const stamp = Date.now().toString(36);
  const task = `e2e ${stamp}：村口路灯不亮`;
  let k = await op.request('POST', '/api/cases', { category: 'safety', description: task, lon, lat });
  k = (await op.request('POST', `/api/cases/${k.id}/actions`, { action: 'accept', version: 1 })).case;
  k = (await op.request('POST', `/api/cases/${k.id}/actions`, { action: 'assign', version: 2, grid_id: grid, assignee: '网格员' })).case;
  assert.equal(k.status, 'assigned');

  const phone = await openPhone({ geolocation: { longitude: lon, latitude: lat, accuracy: 20 }, permissions: ['geolocation'] });
  const { page, errors, foreign } = phone;
  try {
    const shot = phone.screenshot;

    // Sign in on the page.
    const res = await signInWork(page, 'gridworker');
    assert.equal(res.status(), 200);

    // The task: marked as the worker's, with its time limit counting down.
    const item = page.locator(`#tasks li[data-id="${k.id}"]`);
    await item.waitFor();
    assert.match(await item.textContent(), /村口路灯不亮/);
    assert.equal(await item.locator('.w-todo').count(), 1, 'the task is marked as the worker\'s');
    assert.match(await item.locator('[data-due]').textContent(), /^(剩|超时)/);
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(fits, 'the page scrolls sideways on a 390 px phone');
    await shot('worker-tasks');

    // Handle it with a note.
    await item.click();
    await page.locator('#action-form').waitFor();
    assert.deepEqual(await page.locator('#action-kind option').evaluateAll((os) => os.map((o) => o.value)), ['handle']);
    await page.fill('#action-note', '已到现场，联系供电所更换灯泡');
    await page.click('#action-submit');
    await page.locator('#timeline li', { hasText: '联系供电所更换灯泡' }).waitFor();
    await shot('worker-handled');
    const handled = await op.request('GET', `/api/cases/${k.id}`);
    assert.equal(handled.status, 'handling');
    assert.deepEqual(handled.timeline.filter((s) => s.action === 'handle').map((s) => s.actor), ['gridworker']);

    // The small map (MapLibre, this server's tiles): a tap picks the place
    // of a report.
    await page.click('.w-tabs button[data-tab="report"]');
    await page.click('#report-map');
    await page.waitForFunction(() => window.onemapWork?.map?.loaded?.(), null, { timeout: WAIT_MS });
    await page.evaluate((ms) => new Promise((resolve, reject) => {
      const { map } = window.onemapWork;
      const timer = setTimeout(() => reject(new Error('map not idle')), ms);
      map.once('idle', () => { clearTimeout(timer); resolve(); });
      map.triggerRepaint();
    }), WAIT_MS);
    const box = await page.locator('#map').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await shot('worker-map');
    await page.click('#map-ok');
    assert.match(await page.textContent('#report-where'), /位置：\d+\.\d+, \d+\.\d+/);

    // Offline: a visit and a report wait on the phone.
    await phone.setOffline(true);
    await page.locator('#net').waitFor();
    await page.click('.w-tabs button[data-tab="visit"]');
    await page.selectOption('#visit-kind', kind);
    await page.locator('#visit-subject option').first().waitFor({ state: 'attached' });
    const visitNote = `e2e ${stamp}：户主在家，家庭矛盾已缓和`;
    await page.fill('#visit-note', visitNote);
    await page.click('#visit-submit');
    await page.waitForFunction(() => document.getElementById('pending').textContent === '待发送 1');
    await page.click('.w-tabs button[data-tab="report"]');
    const reportText = `e2e ${stamp}：河道护栏松动`;
    await page.selectOption('#report-category', 'safety');
    await page.fill('#report-desc', reportText);
    await page.click('#report-gps');
    await page.waitForFunction(() => /\d+\.\d+, \d+\.\d+/.test(document.getElementById('report-where').textContent));
    await page.click('#report-submit');
    await page.waitForFunction(() => document.getElementById('pending').textContent === '待发送 2');
    await shot('worker-offline');
    const visitsBy = async () => (await cmd.request('GET', '/api/visits?account=gridworker&limit=500')).visits.filter((v) => v.note === visitNote);
    const reportsOf = async () => (await cmd.request('GET', '/api/cases?limit=500')).cases.filter((c) => c.description === reportText);
    assert.equal((await visitsBy()).length, 0, 'the visit reached the server while offline');
    assert.equal((await reportsOf()).length, 0, 'the report reached the server while offline');
    // Both are kept on the phone (localStorage), under the account's name.
    assert.equal(await page.evaluate(() => JSON.parse(localStorage.getItem('onemap.work.outbox.gridworker')).items.length), 2);

    // Back online: both are sent, once each.
    await phone.setOffline(false);
    await page.waitForFunction(() => document.getElementById('pending').hidden, null, { timeout: WAIT_MS });
    await page.waitForFunction(() => /跟踪码|已发送/.test(document.getElementById('status').textContent));
    await shot('worker-sent');
    // A second flush (the online event again) sends nothing more.
    await page.evaluate(() => window.onemapWork.outbox.flush({ force: true }));
    const visits = await visitsBy();
    assert.equal(visits.length, 1, `visits: ${JSON.stringify(visits)}`);
    assert.deepEqual([visits[0].subject_kind, visits[0].subject_id], [kind, feature.id]);
    assert.ok(visits[0].client_key, 'the visit carries the key the phone made');
    assert.ok(new Date(visits[0].at) < new Date(visits[0].recorded_at), 'the visit keeps the time it was made offline');
    const reports = await reportsOf();
    assert.equal(reports.length, 1, `reports: ${JSON.stringify(reports)}`);
    assert.equal(reports[0].source, 'grid_worker');
    assert.equal(reports[0].reported_by, 'gridworker');
    assert.deepEqual(await page.evaluate(() => window.onemapWork.outbox.failed()), []);
    assert.deepEqual(foreign, [], 'requests left the machine');
    assert.deepEqual(errors, [], 'errors on the page');
  } finally {
    await phone.close();
  }
});
