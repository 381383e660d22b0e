// End-to-end test of the shelters (避难场所) on the public page (/m/) on a
// phone of 390×844 (touch, mobile), in headless Chromium against a running
// OneMap server (ONEMAP_E2E_URL; the page reads only the public API): the
// chip after the kinds of station lists the shelters nearest the user, as
// /api/public/shelters answers, nearest first, each with its kind, how many
// it takes, its address and a route to it in the map apps (GCJ-02 for
// AMap); the map shows them as numbered markers and names them in its
// legend. Every request stays on this machine; no console or page error.
// Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, OUT, WAIT_MS, getJSON, isLocal, openBrowser } from './browser.mjs';
import { wgs84ToGcj02 } from '../src/m/coords.js';

// The county seat of the demo county (武定县 狮山镇).
const SEAT = { longitude: 102.4063, latitude: 25.5302 };
const LIMIT = 20;

describe('public page: the nearest shelters on a phone of 390×844', { timeout: 10 * 60_000 }, () => {
  let browser;
  let page;
  let foreign;
  const requests = [];
  const errors = [];

  before(async () => {
    browser = await openBrowser({
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
      geolocation: { ...SEAT, accuracy: 20 }, permissions: ['geolocation'],
    }, async ({ context, page }) => {
      context.on('request', (r) => requests.push(r.url()));
      context.on('requestfailed', (r) => {
        if (isLocal(r.url()) && !new URL(r.url()).pathname.startsWith('/tiles/')) errors.push(`request failed: ${r.url()}: ${r.failure()?.errorText}`);
      });
      page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
      page.on('pageerror', (e) => errors.push(`page error: ${e.stack || e.message}`));
      const res = await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
      assert.equal(res.status(), 200);
      await page.waitForSelector('#list > li');
    });
    ({ page, foreign } = browser);
  });
  after(async () => {
    await browser?.close();
  });

  it('lists the shelters nearest the user with their capacity and a route to each', async () => {
    const want = await getJSON(`/api/public/shelters?lon=${SEAT.longitude.toFixed(6)}&lat=${SEAT.latitude.toFixed(6)}&limit=${LIMIT}`);
    assert.ok(want.shelters.length > 0, 'the demo county has shelters');
    const chip = page.locator('#kinds button[data-kind="shelter"]');
    assert.equal(await chip.innerText(), '避难场所');
    await chip.tap();
    const ids = want.shelters.map((s) => s.id);
    await page.waitForFunction((w) => {
      const got = [...document.querySelectorAll('#list > li.m-shelter')].map((li) => Number(li.dataset.id));
      return got.length === w.length && got.every((id, i) => id === w[i]);
    }, ids, { timeout: WAIT_MS });
    assert.equal(await page.textContent('#status'), `离您最近的 ${want.shelters.length} 个避难场所`);
    const cards = await page.$$eval('#list > li', (lis) => lis.map((li) => ({
      name: li.querySelector('.m-name').textContent,
      kind: li.querySelector('.m-kind').textContent,
      capacity: li.querySelector('.m-capacity')?.textContent ?? '',
      distance: Number(li.querySelector('.m-dist').dataset.m),
      address: li.querySelector('.m-addr')?.textContent ?? '',
      tel: li.querySelectorAll('a.m-call').length,
      amap: li.querySelector('a[data-app=amap]').href,
    })));
    for (const [i, s] of want.shelters.entries()) {
      const c = cards[i];
      assert.equal(c.name, s.name);
      assert.equal(c.kind, s.kind_name);
      assert.equal(c.capacity, `可容纳 ${s.capacity.toLocaleString('zh-CN')} 人`);
      assert.equal(c.distance, s.distance_m);
      if (s.address) assert.equal(c.address, `地址：${s.address}`);
      assert.equal(c.tel, 0, 'a shelter has no phone on the public page');
      const g = wgs84ToGcj02(s.lon, s.lat).map((v) => v.toFixed(6));
      assert.equal(new URL(c.amap).searchParams.get('to'), `${g[0]},${g[1]},${s.name.replace(/[,|;:，]/g, ' ').trim()}`);
      if (i > 0) assert.ok(c.distance >= cards[i - 1].distance, 'nearest first');
    }
    // Nothing of a shelter beyond its public fields reaches the page.
    assert.deepEqual(Object.keys(want.shelters[0]).sort(),
      ['address', 'capacity', 'distance_m', 'id', 'kind', 'kind_name', 'kind_name_en', 'lat', 'lon', 'name', 'synthetic']);
    // The list fits the phone's width.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'the page is wider than the phone');
    await page.screenshot({ path: path.join(OUT, 'shelters-list.png') });
  });

  it('shows the shelters on the map as numbered markers, named in the legend', async () => {
    await page.locator('#open-map').tap();
    await page.waitForFunction(() => window.onemapPublic?.map?.loaded(), null, { timeout: WAIT_MS });
    await page.evaluate(() => new Promise((resolve) => {
      const { map } = window.onemapPublic;
      map.once('idle', resolve);
      map.triggerRepaint();
    }));
    const want = await getJSON(`/api/public/shelters?lon=${SEAT.longitude.toFixed(6)}&lat=${SEAT.latitude.toFixed(6)}&limit=${LIMIT}`);
    const pins = await page.$$eval('.m-pin[data-id]', (ps) => ps.map((p) => ({ id: Number(p.dataset.id), label: p.getAttribute('aria-label') })));
    assert.deepEqual(pins, want.shelters.map((s, i) => ({ id: s.id, label: `${i + 1}. ${s.name}` })));
    assert.equal(await page.getAttribute('#map-kinds button[data-kind="shelter"]', 'aria-pressed'), 'true');
    assert.deepEqual(await page.$$eval('#map-legend li[data-kind]', (ls) => ls.map((l) => l.textContent)), ['避难场所']);
    const apis = requests.map((u) => new URL(u).pathname).filter((p) => p.startsWith('/api/'));
    assert.deepEqual(apis.filter((p) => !p.startsWith('/api/public/')), [], 'the page asked beyond /api/public/');
    assert.ok(apis.includes('/api/public/shelters'));
    await page.screenshot({ path: path.join(OUT, 'shelters-map.png') });
    assert.deepEqual(foreign, [], 'requests off this machine');
    assert.deepEqual(errors, []);
  });
});
