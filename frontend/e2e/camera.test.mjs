// The command map's camera on a 390×844 phone (command/camera.js): the side
// panels open at the bottom of the screen there (45 % of it), the search
// box, the tools and the layer panel's heading across the top. What the map
// is moved to show lands in the part between them, at least MARGIN px clear
// of the open panel: a case opened from the queue, a case found by its
// tracking code (the panel opens with it), a township found by name (its
// statistics open after the map moved: the camera moves again), an alarm
// opened from the alarm list. Before, the camera centred the target on the
// screen, on the panel's top edge or under it. The compact attribution
// starts folded (MapLibre opened it on a narrow map, over the scale or over
// the open panel's top) and opens from its button. Screenshots:
// e2e/out/camera-*-390x844.png.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, databaseURL, getJSON, ingestSigned, openMap, WAIT_MS } from './browser.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
// A place in 狮山镇 near the county seat of the demo county, lon/lat.
const PLACE = [102.4063, 25.5302];
// How far above the open panel's top a target must land (a marker and its card take room).
const MARGIN = 40;
const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'onemap');
const CAMERA = '53232901001320000001'; // a camera of 狮山镇 in the demo county

async function fileReport(description) {
  const res = await fetch(new URL('/api/public/reports', BASE), {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '192.0.2.44' },
    body: JSON.stringify({ category: 'sanitation', description, lon: PLACE[0] + 0.01, lat: PLACE[1] - 0.008 }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, `report: ${text}`);
  return JSON.parse(text).tracking_code;
}

// settle waits until the map stands still with every tile drawn.
async function settle(page) {
  await page.waitForFunction(() => !window.onemap.map.isMoving(), null, { timeout: WAIT_MS });
  await page.evaluate(() => new Promise((resolve) => {
    const { map } = window.onemap;
    map.once('idle', resolve);
    map.triggerRepaint();
  }));
}

// where returns, for positions [lon, lat], where they are on the screen
// and the clear band: below the top controls, above the open panel.
function where(page, positions) {
  return page.evaluate((ps) => {
    const { map } = window.onemap;
    const bottom = (sel) => document.querySelector(sel)?.getBoundingClientRect().bottom ?? 0;
    const panel = [...document.querySelectorAll('aside.om-side')].find((el) => !el.hidden);
    return {
      points: ps.map((p) => map.project(p)).map(({ x, y }) => ({ x: Math.round(x), y: Math.round(y) })),
      top: Math.max(bottom('.om-search-row'), bottom('#toolbar'), bottom('#panel')),
      panelTop: panel ? panel.getBoundingClientRect().top : innerHeight,
      panel: panel?.id ?? null,
      width: innerWidth,
    };
  }, positions);
}

function assertClear(w, what, margin = MARGIN) {
  assert.ok(w.panel, `${what}: no panel open`);
  for (const p of w.points) {
    assert.ok(p.x >= 0 && p.x <= w.width, `${what}: at x ${p.x} of ${w.width}`);
    assert.ok(p.y >= w.top - 1, `${what}: at y ${p.y}, under the controls at the top (to ${w.top})`);
    assert.ok(p.y <= w.panelTop - margin, `${what}: at y ${p.y}, under or at the edge of the ${w.panel} panel (from ${w.panelTop})`);
  }
}

describe('the command map\'s camera on a 390×844 phone', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;
  let code;

  before(async () => {
    code = await fileReport('路灯不亮（镜头测试）');
    b = await openMap({ ...PHONE, reducedMotion: 'reduce', locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    page = b.page;
    await page.waitForFunction(() => window.onemap.cases && window.onemap.alarms, null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('starts with the attribution folded, and opens it from its button', async () => {
    const attrib = () => page.evaluate(() => {
      const el = document.querySelector('.maplibregl-ctrl-attrib');
      const r = el.getBoundingClientRect();
      return { compact: el.classList.contains('maplibregl-compact'), open: el.classList.contains('maplibregl-compact-show'),
        width: Math.round(r.width), text: el.textContent.trim() };
    });
    const a = await attrib();
    assert.ok(a.text.length > 0, 'no attribution');
    assert.equal(a.compact, true, JSON.stringify(a));
    assert.equal(a.open, false, `the attribution starts open: ${JSON.stringify(a)}`);
    assert.ok(a.width <= 30, `the folded attribution is ${a.width} px wide`);
    await b.screenshot('camera-start-390x844');
    await page.locator('.maplibregl-ctrl-attrib-button').click();
    assert.equal((await attrib()).open, true, 'the button does not open it');
    await page.locator('.maplibregl-ctrl-attrib-button').click();
    assert.equal((await attrib()).open, false, 'the button does not fold it again');
  });

  it('shows a case opened from the queue above the panel', async () => {
    await page.click('#cases-button');
    const item = page.locator('.om-case-item', { hasText: code });
    await item.waitFor({ timeout: WAIT_MS });
    await item.click();
    await page.waitForFunction((c) => window.onemap.cases.card?.tracking_code === c, code, { timeout: WAIT_MS });
    await settle(page);
    const position = await page.evaluate(() => window.onemap.cases.card.position);
    assertClear(await where(page, [position]), 'the case from the queue');
    await b.screenshot('camera-case-390x844');
    await page.click('#cases .om-close');
  });

  it('shows a case found by its tracking code above the panel it opens in', async () => {
    await page.evaluate(() => window.onemap.map.jumpTo({ center: [102.2, 25.9], zoom: 10 }));
    await page.fill('#search-input', code.replaceAll('-', ''));
    const option = page.locator('#search-results [role="option"][data-layer="cases"]');
    await option.first().waitFor({ timeout: WAIT_MS });
    await option.first().click();
    await page.waitForFunction((c) => window.onemap.cases.card?.tracking_code === c, code, { timeout: WAIT_MS });
    await settle(page);
    const position = await page.evaluate(() => window.onemap.cases.card.position);
    assertClear(await where(page, [position]), 'the case found by its code');
    await b.screenshot('camera-case-search-390x844');
  });

  it('shows a township found by name whole above its statistics', async () => {
    await page.evaluate(() => window.onemap.map.jumpTo({ center: [102.2, 25.9], zoom: 9 }));
    const { results } = await getJSON('/api/search?q=shishan&limit=20');
    const hit = results.find((r) => r.layer === 'grids' && r.bbox);
    assert.ok(hit, `no grid found for shishan: ${JSON.stringify(results.slice(0, 3))}`);
    await page.fill('#search-input', 'shishan');
    await page.locator('#search-results [role="option"]').first().waitFor({ timeout: WAIT_MS });
    await page.keyboard.press('Enter');
    await page.locator('#grid-side .om-stats').waitFor({ timeout: WAIT_MS });
    await settle(page);
    const [w, s, e, n] = hit.bbox;
    const got = await where(page, [[w, s], [e, n], [(w + e) / 2, (s + n) / 2]]);
    assert.equal(got.panel, 'grid-side');
    // The box fits the band (its corners on it, not under the panel).
    assertClear(got, `${hit.name} (${hit.bbox})`, 0);
    await b.screenshot('camera-grid-390x844');
  });

  it('shows an alarm opened from the alarm list above the panel', { skip: !databaseURL() && 'no database of the server under test' }, async () => {
    const source = `e2e-camera-${process.pid}`;
    const out = execFileSync(BIN, ['source', 'add', source, '--kinds', 'smoke_fire', '--region', '532329000000'],
      { env: { ...process.env, ONEMAP_DATABASE_URL: databaseURL() }, encoding: 'utf8' });
    const key = out.match(/key: (omk_\S+)/)?.[1];
    assert.ok(key, `source add printed no key: ${out}`);
    const got = await ingestSigned(source, key, [{ id: `e2e-camera-${Date.now()}`, kind: 'smoke_fire', device: CAMERA,
      at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), description: '浓烟（镜头测试）' }]);
    assert.equal(got.status, 200, got.text);
    const id = got.answer.results[0].alarm_id;
    await page.evaluate(() => window.onemap.map.jumpTo({ center: [102.2, 25.9], zoom: 10 }));
    await page.click('#alarms-button');
    const item = page.locator(`.om-alarm-item[data-alarm="${id}"]`);
    await item.waitFor({ timeout: WAIT_MS });
    await item.click();
    await settle(page);
    const position = await page.evaluate((i) => window.onemap.alarms.list.find((a) => a.id === i).position, id);
    assertClear(await where(page, [position]), 'the alarm');
    await b.screenshot('camera-alarm-390x844');
  });

  it('no request left this machine and no error was logged', () => {
    assert.deepEqual(b.foreign, []);
    assert.deepEqual(b.errors, []);
  });
});
