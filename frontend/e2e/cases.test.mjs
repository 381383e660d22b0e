// End-to-end test of the case work on the command map and the wall, in
// headless Chromium at 1366×768 against a running OneMap server with the
// demo accounts (scripts/e2e.sh): a public report filed through
// POST /api/public/reports shows in the operator's queue (operator of
// 狮山镇, signed in) and on the map's case layer; the operator accepts it
// and assigns it to the grid holding the place, from the case card; the
// period's day fields read 年-月-日; search by tracking code shows the code; the
// wall's reported-today figure follows a second report live. No request
// leaves this machine and no console error is logged. Screenshots go to
// e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, openMap, WAIT_MS } from './browser.mjs';

// A place in 狮山镇 near the county seat of the demo county, lon/lat.
const PLACE = [102.4063, 25.5302];

async function fileReport(description, from) {
  const res = await fetch(new URL('/api/public/reports', BASE), {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': from },
    body: JSON.stringify({ category: 'sanitation', description, lon: PLACE[0], lat: PLACE[1] }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `report: ${text}`);
  return JSON.parse(text).tracking_code;
}

describe('cases: the operator\'s queue and the wall', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;
  let code;

  before(async () => {
    code = await fileReport('垃圾桶满了，没人清运', '192.0.2.10');
    b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'operator', password: 'onemap-demo' } });
    page = b.page;
    await page.waitForFunction(() => window.onemap.cases && window.onemap.live.connected, null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('the new report is in the queue and on the map', async () => {
    await page.click('#cases-button');
    const item = page.locator('.om-case-item', { hasText: code });
    await item.waitFor({ timeout: WAIT_MS });
    await page.evaluate(([lng, lat]) => window.onemap.map.jumpTo({ center: [lng, lat], zoom: 16 }), PLACE);
    await b.waitIdle();
    const onMap = await page.evaluate((c) => window.onemap.map.querySourceFeatures('om-cases', { sourceLayer: 'cases' })
      .filter((f) => f.properties.tracking_code === c).map((f) => f.properties.status), code);
    assert.ok(onMap.length > 0 && onMap[0] === 'reported', `the case on the map: ${JSON.stringify(onMap)}`);
    await b.screenshot('cases-queue');
  });

  it('the period\'s days are written 年-月-日, and a day that is not one says so', async () => {
    const from = page.locator('#cases input[name="from"]');
    assert.equal(await from.getAttribute('type'), 'text', 'the browser\'s date input writes mm/dd/yyyy in an English browser');
    assert.equal(await from.getAttribute('placeholder'), '年-月-日');
    const asked = (day) => page.waitForRequest((r) => new URL(r.url()).pathname === '/api/cases' && new URL(r.url()).searchParams.get('from') === day,
      { timeout: WAIT_MS });
    let req = asked('2020-01-05');
    await from.fill('2020年1月5日');
    await from.dispatchEvent('change');
    await req;
    await page.locator('.om-case-item', { hasText: code }).waitFor({ timeout: WAIT_MS });
    await from.fill('2020-13-05');
    await from.dispatchEvent('change');
    assert.match(await page.locator('.om-cases-message').textContent(), /“2020-13-05”不是日期/);
    assert.equal(await from.getAttribute('aria-invalid'), 'true');
    await b.screenshot('cases-bad-day');
    // The filters lie on a grid: 起 and 止 side by side, their fields of one
    // width, no field wrapped onto a line of its own or out of the panel.
    const grid = await page.evaluate(() => {
      const form = document.querySelector('#cases .om-cases-filters');
      const r = (el) => el.getBoundingClientRect().toJSON();
      return { form: r(form), from: r(form.querySelector('input[name="from"]')), to: r(form.querySelector('input[name="to"]')),
        days: [...form.querySelectorAll('.om-day')].map(r), controls: [...form.children].map(r) };
    });
    assert.equal(Math.round(grid.from.top), Math.round(grid.to.top), `起 and 止 are not on one row: ${JSON.stringify(grid)}`);
    assert.ok(Math.abs(grid.from.width - grid.to.width) < 1, `起 and 止 differ in width: ${grid.from.width} and ${grid.to.width}`);
    for (const d of grid.days) assert.ok(d.height < 40, `a day field wraps (${d.height} px tall)`);
    for (const c of grid.controls) assert.ok(c.left >= grid.form.left - 0.5 && c.right <= grid.form.right + 0.5, `a filter lies outside the panel: ${JSON.stringify(c)}`);
    req = asked(null);
    await from.fill('');
    await from.dispatchEvent('change');
    await req;
    assert.equal(await from.getAttribute('aria-invalid'), null);
    await page.locator('.om-case-item', { hasText: code }).waitFor({ timeout: WAIT_MS });
  });

  it('the operator accepts it and assigns it to the grid that holds the place', async () => {
    await page.locator('.om-case-item', { hasText: code }).click();
    await page.locator('.om-cases-card [data-step="accept"]').click();
    await page.locator('.om-cases-card [data-step="assign"]').waitFor({ timeout: WAIT_MS });
    const grid = await page.locator('.om-cases-card [name="grid_id"]').inputValue();
    assert.ok(Number(grid) > 0, 'the assignment names the place\'s grid by default');
    await page.fill('.om-cases-card [name="assignee"]', '网格员张三');
    await page.locator('.om-cases-card [data-step="assign"]').click();
    await page.waitForFunction(() => window.onemap.cases.card?.status === 'assigned', null, { timeout: WAIT_MS });
    const card = await page.evaluate(() => window.onemap.cases.card);
    assert.equal(card.assigned_grid_id, Number(grid));
    assert.deepEqual(card.timeline.map((s) => s.action), ['report', 'accept', 'assign']);
    assert.match(await page.locator('.om-cases-message').textContent(), /分拨|Assign/);
    // The map's layer follows the step (live).
    await page.waitForFunction((c) => window.onemap.map.querySourceFeatures('om-cases', { sourceLayer: 'cases' })
      .some((f) => f.properties.tracking_code === c && f.properties.status === 'assigned'), code, { timeout: WAIT_MS });
    await b.screenshot('cases-assigned');
  });

  it('a step on a version someone else moved on says so and reloads', async () => {
    // Another operator's step first, straight to the API: the card still shows the old version.
    const stale = await page.evaluate(() => window.onemap.cases.card.version);
    const r = await page.evaluate(async ([id, v]) => {
      const s = await (await fetch('/api/session')).json();
      const res = await fetch(`/api/cases/${id}/actions`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
        body: JSON.stringify({ action: 'assign', version: v, grid_id: window.onemap.cases.card.assigned_grid_id, department: '环卫站' }) });
      return res.status;
    }, [await page.evaluate(() => window.onemap.cases.card.id), stale]);
    assert.equal(r, 200);
    // The other step reaches this map live and the open card reloads by
    // itself; wait for that, or the reload would undo the stale version set
    // below and the step would go through.
    await page.waitForFunction((v) => window.onemap.cases.card?.version > v, stale, { timeout: WAIT_MS });
    await page.evaluate((v) => { window.onemap.cases.card.version = v; }, stale);
    await page.locator('.om-cases-card [data-step="assign"]').click();
    await page.waitForFunction(() => /他人|Someone else/.test(window.onemap.cases.message), null, { timeout: WAIT_MS });
    // The card says so first, then reloads: wait for the reload.
    await page.waitForFunction((v) => window.onemap.cases.card?.version > v, stale, { timeout: WAIT_MS });
  });

  it('search finds the case by its tracking code and opens it in the case panel', async () => {
    await page.evaluate(() => { window.onemap.cases.card = null; });
    await page.fill('#search-input', code.replaceAll('-', ''));
    const option = page.locator('#search-results [role="option"][data-layer="cases"]');
    await option.first().waitFor({ timeout: WAIT_MS });
    await option.first().click();
    await page.waitForFunction((c) => window.onemap.cases.card?.tracking_code?.replaceAll('-', '') === c.replaceAll('-', ''), code, { timeout: WAIT_MS });
    assert.equal(await page.locator('#cases').isHidden(), false, 'the case panel is open');
    // The box shows the case's tracking code (not its category), and no
    // coordinate system: the code's digits are not coordinates.
    assert.equal((await page.inputValue('#search-input')).replaceAll('-', ''), code.replaceAll('-', ''));
    assert.equal(await page.locator('#search-crs').isHidden(), true, 'the coordinate system is offered for a tracking code');
    await page.fill('#search-input', code);
    await page.dispatchEvent('#search-input', 'input');
    assert.equal(await page.locator('#search-crs').isHidden(), true, 'the coordinate system is offered while a tracking code is typed');
  });

  it('a report\'s photo shows on its card', async () => {
    const photoCode = await page.evaluate(async ([lon, lat]) => {
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d');
      g.fillStyle = '#c0392b';
      g.fillRect(0, 0, 64, 48);
      const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
      const form = new FormData();
      form.append('report', JSON.stringify({ category: 'sanitation', description: '河道里有死鱼', lon, lat }));
      form.append('photo', blob, 'fish.png');
      const s = await (await fetch('/api/session')).json();
      const res = await fetch('/api/public/reports', { method: 'POST', body: form, headers: s.csrf ? { 'X-CSRF-Token': s.csrf } : {} });
      return (await res.json()).tracking_code;
    }, PLACE);
    assert.ok(photoCode, 'the report with a photo was filed');
    // Back to the list, which lists it (the list follows the live feed).
    await page.evaluate(() => document.querySelector('#cases [data-act="back"]')?.click());
    const item = page.locator('.om-case-item', { hasText: photoCode });
    await item.waitFor({ timeout: WAIT_MS });
    await item.click();
    await page.waitForFunction(() => {
      const img = document.querySelector('.om-cases-card .om-case-photos img');
      return img && img.complete && img.naturalWidth === 64;
    }, null, { timeout: WAIT_MS });
  });

  it('the wall\'s reported-today figure follows a new report live', async () => {
    const wall = await b.context.newPage();
    await wall.setViewportSize({ width: 1366, height: 768 });
    await wall.goto(new URL('/screen/', BASE).href);
    await wall.waitForFunction(() => window.onemap?.cases?.today, null, { timeout: WAIT_MS });
    // The report below must come after the wall's event stream opened.
    await wall.waitForFunction(() => document.getElementById('live')?.dataset.state === 'on', null, { timeout: WAIT_MS });
    const before = await wall.evaluate(() => window.onemap.cases.today.reported);
    assert.ok(before >= 1, `reported today: ${before}`);
    const second = await fileReport('路灯不亮', '192.0.2.11');
    await wall.waitForFunction((n) => window.onemap.cases.today.reported === n + 1, before, { timeout: WAIT_MS });
    await wall.waitForFunction((c) => [...document.querySelectorAll('#case-live li')].some((li) => li.textContent.includes(c)), second, { timeout: WAIT_MS });
    const shown = await wall.locator('#case-today [data-figure="reported"] b').textContent();
    assert.equal(Number(shown), before + 1);
    await wall.screenshot({ path: new URL('./out/cases-wall.png', import.meta.url).pathname });
    await wall.close();
  });

  it('no request left this machine and no error was logged', () => {
    assert.deepEqual(b.foreign, []);
    // The browser logs the 409 that the conflict test provoked on purpose.
    assert.deepEqual(b.errors.filter((e) => !/status of 409 .*\/api\/cases\/\d+\/actions/.test(e)), []);
  });
});
