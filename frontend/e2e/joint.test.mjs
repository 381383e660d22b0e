// Joint handling (联动) end to end, against the e2e server's demo county and
// accounts (scripts/e2e.sh). A case at a place of the demo grid worker's
// group is entered and accepted through the API; the operator of 狮山镇
// organises its joint handling on the command map's case card (1366×768):
// a department named twice is refused and the refusal shows beside the
// second department; then two parts, the first worked in the grid worker's
// group with a time limit, the second for a department with no grid. The
// operator reports the second part back from the card (a missing note shown
// beside the part's note). The grid worker finds the first part among its
// tasks on /m/work/ (390×844) and, offline, handles it and reports it back:
// both wait on the phone and are sent once the network returns (the report,
// a version behind the handling, is sent again on the case's version), once
// each. The last part reported back moves the case to feedback, which the
// operator's card shows live. The phone page then opens again without
// network (its service worker), the account and its outbox with it. A phone's portrait photo (EXIF Orientation 6)
// sent with a case is served so that the browser shows it upright. No
// request leaves the machine and no error is logged but the refusals the
// test provokes.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { account, DEMO_PASSWORD as PASSWORD, openMap, openPhone, OUT, placeOfGroup, signInWork, WAIT_MS } from './browser.mjs';

// The refusals the test provokes on purpose, as Chromium logs them.
const PROVOKED = /status of (400|409) .*\/api\/cases\/\d+\/actions/;

// localInput formats an instant as a datetime-local input's value, in this
// machine's time zone (the browser's).
function localInput(t) {
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}

// openJointForm opens case k from the open queue of the command map's
// case panel and unfolds its card's joint form, once the page has its
// cases and its event stream. It returns the card and row(i), the form's
// row i.
async function openJointForm(page, k) {
  await page.waitForFunction(() => window.onemap.cases && window.onemap.live.connected, null, { timeout: WAIT_MS });
  await page.click('#cases-button');
  await page.click('#cases [data-queue="open"]');
  await page.locator('.om-case-item', { hasText: k.tracking_code }).click();
  await page.waitForFunction((id) => window.onemap.cases.card?.id === id, k.id, { timeout: WAIT_MS });
  const card = page.locator('.om-cases-card');
  await card.locator('.om-joint summary').click();
  return { card, row: (i) => card.locator(`.om-joint-row[data-row="${i}"]`) };
}

test('an operator organises joint handling on the map, the grid worker works its part on the phone', { timeout: 10 * WAIT_MS }, async () => {
  const gw = await account('gridworker');
  const op = await account('operator');
  const grid = gw.session.grid_id;
  assert.ok(grid > 0, 'the demo grid worker is bound to a grid');
  const [lon, lat] = (await placeOfGroup(gw)).feature.geometry.coordinates;
  const stamp = Date.now().toString(36);
  let k = await op.request('POST', '/api/cases', { category: 'safety', description: `e2e ${stamp}：桥面塌陷，排水沟堵塞`, lon, lat });
  k = (await op.request('POST', `/api/cases/${k.id}/actions`, { action: 'accept', version: 1 })).case;
  assert.equal(k.status, 'accepted');

  // --- the operator on the command map ---
  const b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'operator', password: PASSWORD } });
  let phone;
  try {
    const page = b.page;
    const { card, row } = await openJointForm(page, k);

    // A department named twice: the refusal shows beside the second one.
    await row(0).locator('[name="part-department"]').fill('县交通运输局');
    await row(0).locator('[name="part-task"]').fill('修复桥面');
    await row(1).locator('[name="part-department"]').fill('县交通运输局');
    await row(1).locator('[name="part-task"]').fill('疏通排水沟');
    await card.locator('.om-joint-form button[type="submit"]').click();
    const dupe = row(1).locator('[data-error-for="parts[1].department"]');
    await dupe.filter({ hasText: /县交通运输局/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await row(1).locator('[name="part-department"]').getAttribute('aria-invalid'), 'true');
    assert.equal(await row(0).locator('[data-error-for="parts[0].department"]').textContent(), '');
    await b.screenshot('joint-refused');

    // Three rows, one removed again; then the parts as they should be.
    await card.locator('[data-joint="add"]').click();
    assert.equal(await card.locator('.om-joint-row').count(), 3);
    await row(2).locator('[data-joint="remove"]').click();
    assert.equal(await card.locator('.om-joint-row').count(), 2);
    await row(0).locator('[name="part-grid"]').fill(String(grid));
    const due = new Date(Date.now() + 48 * 3600_000);
    await row(0).locator('[name="part-due"]').fill(localInput(due));
    await row(1).locator('[name="part-department"]').fill('县水务局');
    await card.locator('[name="joint-note"]').fill('交通、水务联动处置');
    await card.locator('.om-joint-form button[type="submit"]').click();
    await page.waitForFunction(() => window.onemap.cases.card?.parts?.length === 2, null, { timeout: WAIT_MS });
    let shown = await page.evaluate(() => window.onemap.cases.card);
    assert.equal(shown.status, 'handling');
    assert.deepEqual(shown.parts.map((p) => [p.department, p.grid_id ?? 0, p.status]), [['县交通运输局', grid, 'open'], ['县水务局', 0, 'open']]);
    // The limit typed is China time (the form's), whatever the zone the value was made in.
    assert.equal(Math.round(new Date(shown.parts[0].due) / 60_000), Math.round(new Date(`${localInput(due)}+08:00`) / 60_000));
    assert.equal(shown.parts[1].due, null);
    assert.equal(await card.locator('.om-joint').count(), 0, 'no second round while parts are open');
    await b.screenshot('joint-organised');

    // The operator reports part 2 back for its department: without a note
    // first (the refusal beside the part's note), then with one.
    const part2 = card.locator('.om-case-parts li[data-part="2"]');
    await part2.locator('[data-part-step="part_report"]').click();
    await part2.locator('[data-error-for="note"]').filter({ hasText: /note/ }).waitFor({ timeout: WAIT_MS });
    await part2.locator('[name="part-note"]').fill('水务局：排水沟已疏通');
    await part2.locator('[data-part-step="part_report"]').click();
    await page.waitForFunction(() => window.onemap.cases.card?.parts?.[1]?.status === 'reported', null, { timeout: WAIT_MS });
    shown = await page.evaluate(() => window.onemap.cases.card);
    assert.equal(shown.status, 'handling', 'one part is still open');
    assert.equal(shown.open_parts, 1);

    // A phone's portrait photo (landscape pixels, EXIF Orientation 6) sent
    // with a case shows upright when served: the browser honours the
    // orientation tag the photo keeps alone until the server turns its
    // pixels and drops the tag (photo/upright.go), then the pixels are.
    const upright = await page.evaluate(async ([lon, lat]) => {
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d');
      g.fillStyle = '#1e5aa8';
      g.fillRect(0, 0, 64, 48);
      const jpeg = new Uint8Array(await (await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.9))).arrayBuffer());
      // APP1 Exif after the start of the image: big-endian TIFF, IFD0 with Orientation 6.
      const exif = [0xFF, 0xE1, 0, 34, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1,
        0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
      const photo = new Blob([jpeg.slice(0, 2), new Uint8Array(exif), jpeg.slice(2)], { type: 'image/jpeg' });
      const form = new FormData();
      form.append('report', JSON.stringify({ category: 'safety', description: '竖拍的照片', lon, lat }));
      form.append('photo', photo, 'portrait.jpg');
      const s = await (await fetch('/api/session')).json();
      const made = await (await fetch('/api/cases', { method: 'POST', body: form, headers: { 'X-CSRF-Token': s.csrf } })).json();
      const got = await (await fetch(`/api/cases/${made.id}`)).json();
      const img = new Image();
      img.src = got.timeline[0].photos[0].url;
      await img.decode();
      return [img.naturalWidth, img.naturalHeight];
    }, [lon, lat]);
    assert.deepEqual(upright, [48, 64], 'the portrait photo is shown upright (48×64), not on its side (64×48)');

    // --- the grid worker on the phone ---
    phone = await openPhone({ ignore: PROVOKED });
    const { page: w, errors, foreign } = phone;
    await signInWork(w, 'gridworker');

    // The part is among the tasks, marked the worker's.
    const item = w.locator(`#tasks li[data-id="${k.id}"]`);
    await item.waitFor();
    assert.equal(await item.locator('.w-todo').count(), 1, 'the case with the worker\'s part is marked as the worker\'s');
    assert.deepEqual(await item.locator('.w-part').allTextContents(), ['联动：县交通运输局']);
    await w.screenshot({ path: path.join(OUT, 'joint-worker-tasks.png') });
    await item.click();
    const mine = w.locator('#parts li[data-part="1"]');
    await mine.locator('.w-part-form').waitFor();
    assert.equal(await w.locator('#parts li[data-part="2"] .w-part-form').count(), 0, 'part 2 is not the worker\'s');
    assert.match(await w.locator('#parts li[data-part="2"]').textContent(), /已反馈/);

    // Offline: the part handled, then (the case opened again from what the
    // phone read) reported back; both wait on the phone.
    await phone.setOffline(true);
    await w.locator('#net').waitFor();
    await mine.locator('select[name="action"]').selectOption('part_handle');
    await mine.locator('textarea[name="note"]').fill('已到现场，正在修复桥面');
    await mine.locator('button[type="submit"]').click();
    await w.waitForFunction(() => document.getElementById('pending').textContent === '待发送 1');
    await w.click('#detail-back');
    await item.click();
    await mine.locator('.w-part-form').waitFor();
    await mine.locator('select[name="action"]').selectOption('part_report');
    await mine.locator('textarea[name="note"]').fill('桥面已修复，恢复通行');
    await mine.locator('button[type="submit"]').click();
    await w.waitForFunction(() => document.getElementById('pending').textContent === '待发送 2');
    await w.screenshot({ path: path.join(OUT, 'joint-worker-offline.png') });
    assert.equal((await op.request('GET', `/api/cases/${k.id}`)).version, shown.version, 'nothing reached the server while offline');

    // Back online: both sent, once each; the last part moves the case to feedback.
    await phone.setOffline(false);
    await w.waitForFunction(() => document.getElementById('pending').hidden, null, { timeout: WAIT_MS });
    assert.deepEqual(await w.evaluate(() => window.onemapWork.outbox.failed()), []);
    await w.evaluate(() => window.onemapWork.outbox.flush({ force: true }));
    const done = await op.request('GET', `/api/cases/${k.id}`);
    assert.equal(done.status, 'feedback');
    assert.equal(done.open_parts ?? 0, 0);
    assert.deepEqual(done.timeline.filter((s) => s.part).map((s) => [s.action, s.part, s.actor, s.to]), [
      ['part_report', 2, 'operator', 'handling'],
      ['part_handle', 1, 'gridworker', 'handling'],
      ['part_report', 1, 'gridworker', 'feedback'],
    ]);

    // After a first visit the page opens without network (sw.js): the
    // account last seen, its outbox; nothing of the server's answers kept.
    await w.evaluate(() => navigator.serviceWorker.ready);
    await w.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: WAIT_MS });
    await phone.setOffline(true);
    const reloaded = await w.reload();
    assert.ok(reloaded.fromServiceWorker(), 'the page came from its service worker');
    await w.locator('#app').waitFor();
    assert.equal(await w.textContent('#who'), gw.session.display_name || 'gridworker');
    await w.locator('#net').waitFor();
    assert.equal(await w.locator('#signin').isVisible(), false);
    const kept = await w.evaluate(async () => (await Promise.all((await caches.keys())
      .map(async (k) => (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname)))).flat());
    assert.ok(kept.includes('/m/work/') && kept.some((p) => /^\/assets\/work-.*\.js$/.test(p)), `kept: ${kept}`);
    assert.deepEqual(kept.filter((p) => !/^\/(m\/work\/$|assets\/|fonts\/|favicon\.svg$)/.test(p)), [], 'only the page\'s own files are kept');
    await w.screenshot({ path: path.join(OUT, 'joint-worker-reloaded-offline.png') });
    await phone.setOffline(false);
    await w.waitForFunction(() => document.getElementById('net').hidden, null, { timeout: WAIT_MS });
    await w.locator(`#tasks li[data-id="${k.id}"]`).waitFor(); // the session known again, the tasks loaded

    // The operator's card follows live.
    await page.waitForFunction(() => window.onemap.cases.card?.status === 'feedback', null, { timeout: WAIT_MS });
    await b.screenshot('joint-feedback');
    assert.deepEqual(foreign, [], 'requests left the phone');
    assert.deepEqual(errors, [], 'errors on the phone');
    assert.deepEqual(b.foreign, [], 'requests left the map');
    assert.deepEqual(b.errors.filter((e) => !PROVOKED.test(e)), [], 'errors on the map');
  } finally {
    await phone?.close();
    await b.close();
  }
});

// A part's time limit is typed and shown in China time (Asia/Shanghai) on a
// map whose browser is set to another zone (New York, UTC−5 in December):
// the limit stored is the China time typed, and the card shows it as typed.
test('the joint form\'s limit is China time in a browser set to another zone', { timeout: 4 * WAIT_MS }, async () => {
  const gw = await account('gridworker');
  const op = await account('operator');
  const [feature] = (await gw.request('GET', '/api/layers/households/features?limit=1')).features;
  assert.ok(feature, 'the grid worker\'s group has a household');
  const [lon, lat] = feature.geometry.coordinates;
  let k = await op.request('POST', '/api/cases', { category: 'safety', description: `e2e ${Date.now().toString(36)}：时区`, lon, lat });
  k = (await op.request('POST', `/api/cases/${k.id}/actions`, { action: 'accept', version: 1 })).case;
  const b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, timezoneId: 'America/New_York',
    signIn: { name: 'operator', password: PASSWORD } });
  try {
    const page = b.page;
    const zone = await page.evaluate(() => [Intl.DateTimeFormat().resolvedOptions().timeZone, new Date('2026-12-20T18:00').getTimezoneOffset()]);
    assert.deepEqual(zone, ['America/New_York', 300], 'the browser is five hours behind UTC');
    const { card, row } = await openJointForm(page, k);
    assert.match(await row(0).locator('label', { has: page.locator('[name="part-due"]') }).textContent(), /北京时间/);
    await row(0).locator('[name="part-department"]').fill('县应急管理局');
    await row(0).locator('[name="part-task"]').fill('排查隐患');
    await row(0).locator('[name="part-due"]').fill('2026-12-20T18:00');
    await row(1).locator('[name="part-department"]').fill('县住建局');
    await row(1).locator('[name="part-task"]').fill('房屋鉴定');
    await card.locator('.om-joint-form button[type="submit"]').click();
    await page.waitForFunction(() => window.onemap.cases.card?.parts?.length === 2, null, { timeout: WAIT_MS });
    const stored = await op.request('GET', `/api/cases/${k.id}`);
    assert.equal(new Date(stored.parts[0].due).toISOString(), '2026-12-20T10:00:00.000Z',
      'the limit stored is 18:00 China time (10:00 UTC), not 18:00 in New York (23:00 UTC)');
    const shown = await card.locator('.om-case-parts li[data-part="1"] .om-part-due').textContent();
    assert.match(shown, /2026\/12\/20 18:00/, `the card shows the limit in China time: ${shown}`);
    await b.screenshot('joint-china-time');
    assert.deepEqual(b.foreign, [], 'requests left the map');
    assert.deepEqual(b.errors, [], 'errors on the map');
  } finally {
    await b.close();
  }
});
