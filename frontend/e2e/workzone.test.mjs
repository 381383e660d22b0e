// The grid worker's phone page (/m/work/) shows a part's time limit in
// China time (Asia/Shanghai, 北京时间), like the command map's joint form,
// on a phone set to another zone (New York, UTC−5 in December). An operator
// of 狮山镇 organises joint handling through the API with a part in the
// demo grid worker's grid due at 10:00 UTC (18:00 China time, 05:00 in New
// York); the phone shows 18:00 labelled 北京时间, and the case's report time
// and its timeline in China time too. Against the e2e server's
// demo county and accounts (scripts/e2e.sh).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { account, openPhone, OUT, placeOfGroup, signInWork, WAIT_MS } from './browser.mjs';

test('the work page shows a part\'s limit in China time on a phone set to another zone', { timeout: 4 * WAIT_MS }, async () => {
  const gw = await account('gridworker');
  const op = await account('operator');
  const grid = gw.session.grid_id;
  assert.ok(grid > 0, 'the demo grid worker is bound to a grid');
  const [lon, lat] = (await placeOfGroup(gw)).feature.geometry.coordinates;
  let k = await op.request('POST', '/api/cases', { category: 'safety', description: `e2e ${Date.now().toString(36)}：分工时限`, lon, lat });
  k = (await op.request('POST', `/api/cases/${k.id}/actions`, { action: 'accept', version: 1 })).case;
  k = (await op.request('POST', `/api/cases/${k.id}/actions`, {
    action: 'joint', version: k.version, parts: [
      { department: '县交通运输局', task: '桥面检修', grid_id: grid, due: '2026-12-20T10:00:00Z' },
      { department: '县水务局', task: '疏通排水沟' },
    ],
  })).case;
  assert.equal(k.parts.length, 2);

  const phone = await openPhone({ timezoneId: 'America/New_York' });
  const { page, errors, foreign } = phone;
  try {
    const zone = await page.evaluate(() => [Intl.DateTimeFormat().resolvedOptions().timeZone, new Date('2026-12-20T18:00').getTimezoneOffset()]);
    assert.deepEqual(zone, ['America/New_York', 300], 'the phone is five hours behind UTC');
    await signInWork(page, 'gridworker');
    const item = page.locator(`#tasks li[data-id="${k.id}"]`);
    await item.waitFor();
    await item.click();
    const due = page.locator('#parts li[data-part="1"] .w-meta');
    await due.waitFor();
    const shown = await due.textContent();
    assert.match(shown, /北京时间/, `the limit says it is China time: ${shown}`);
    assert.match(shown, /2026\/12\/20 18:00/, `the limit is 18:00 China time, not 05:00 in New York: ${shown}`);
    assert.equal(await page.locator('#parts li[data-part="2"] .w-meta').count(), 0, 'part 2 has no limit');
    // The case's report time and its timeline read in China time too ("12/7 13:32"), not New York's.
    const china = (at) => {
      const c = new Date(new Date(at).getTime() + 8 * 3600_000);
      const p = (n) => String(n).padStart(2, '0');
      return `${c.getUTCMonth() + 1}/${c.getUTCDate()} ${p(c.getUTCHours())}:${p(c.getUTCMinutes())}`;
    };
    const meta = await page.locator('#detail-body .w-meta').textContent();
    assert.ok(meta.includes(`上报于 ${china(k.created_at)}`), `reported at ${k.created_at}, shown as: ${meta}`);
    const { timeline } = await op.request('GET', `/api/cases/${k.id}`);
    const times = await page.locator('#timeline li time').allTextContents();
    assert.ok(times.length >= 3, `the timeline: ${times}`);
    assert.deepEqual(times, timeline.map((step) => china(step.at)), `the timeline's steps (${timeline.map((step) => step.at)})`);
    await page.screenshot({ path: path.join(OUT, 'work-part-china-time.png') });
    assert.deepEqual(foreign, [], 'requests left the phone');
    assert.deepEqual(errors, [], 'errors on the phone');
  } finally {
    await phone.close();
  }
});
