// End-to-end test of the public page (/m/) in headless Chromium with a
// phone's viewport (375×667, touch, mobile), against a running OneMap server
// (ONEMAP_E2E_URL; its anonymous role does not matter: the page reads only
// the public API). Two visitors:
//
//  - one whose browser gives a location (mocked at the county seat): the list
//    of nearest stations, the same as /api/public/stations answers, sorted by
//    distance; the kind filter; the tel: link and the hand-off links to AMap,
//    Baidu and Tencent with the station's WGS-84 point converted to GCJ-02 /
//    BD-09 (src/m/coords.js, whose formulas test/m-coords.test.js checks
//    against googollee/eviltransform's and wandergis/coordtransform's
//    published control values), compared here with the same conversion of
//    the API's coordinates; the JavaScript sent before the map is opened
//    (measured and printed; under 100 KB gzipped); the map opened, then a tap
//    on it picking a new point;
//  - one whose browser refuses the location: the township/village picker
//    from the real list, and the stations near the chosen village.
//
// Every request must stay on this machine (the hand-off links are hrefs, never
// requested); no console or page error. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, CHROMIUM, OUT, WAIT_MS, getJSON, isLocal } from './browser.mjs';
import { wgs84ToBd09, wgs84ToGcj02 } from '../src/m/coords.js';

// The county seat of the demo county (武定县 狮山镇).
const SEAT = { longitude: 102.4063, latitude: 25.5302 };
const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const LIMIT = 20;

// openPhone starts Chromium as a phone with the given context options and
// records every request (aborting any off this machine) and every error.
async function openPhone(options) {
  fs.mkdirSync(OUT, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-e2e-m-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'],
    timeout: WAIT_MS,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    ...PHONE,
    ...options,
  });
  const requests = []; // { url, request }
  const foreign = [];
  const errors = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLocal(url)) return route.continue();
    foreign.push(url);
    return route.abort('blockedbyclient');
  });
  context.on('request', (request) => requests.push({ url: request.url(), request }));
  context.on('requestfailed', (req) => {
    if (isLocal(req.url()) && !new URL(req.url()).pathname.startsWith('/tiles/')) {
      errors.push(`request failed: ${req.url()}: ${req.failure()?.errorText}`);
    }
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.stack || err.message}`));
  page.setDefaultTimeout(WAIT_MS);
  const profileDir = profile;
  return {
    context, page, requests, foreign, errors,
    async screenshot(name) {
      const file = path.join(OUT, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      console.log(`screenshot: ${file}`);
    },
    async close() {
      await context.close();
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

// listed returns the stations the page lists: id, kind, distance (m) and links.
function listed(page) {
  return page.$$eval('#list > li', (lis) => lis.map((li) => ({
    id: Number(li.dataset.id),
    kind: li.dataset.kind,
    distance: Number(li.querySelector('.m-dist').dataset.m),
    name: li.querySelector('.m-name').textContent,
    tel: li.querySelector('a.m-call')?.getAttribute('href') ?? '',
    amap: li.querySelector('a[data-app=amap]').href,
    baidu: li.querySelector('a[data-app=baidu]').href,
    tencent: li.querySelector('a[data-app=tencent]').href,
  })));
}

// stationsAt asks the API, from Node, what the page should list.
function stationsAt(lon, lat, kind = '') {
  const q = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), limit: String(LIMIT) });
  if (kind) q.set('kind', kind);
  return getJSON(`/api/public/stations?${q}`);
}

// waitListed waits until the page lists exactly the ids of want.
async function waitListed(page, want) {
  const ids = want.stations.map((s) => s.id);
  await page.waitForFunction((w) => {
    const got = [...document.querySelectorAll('#list > li')].map((li) => Number(li.dataset.id));
    return got.length === w.length && got.every((id, i) => id === w[i]);
  }, ids, { timeout: WAIT_MS });
}

describe('public page on a phone, location granted', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openPhone({ geolocation: { ...SEAT, accuracy: 20 }, permissions: ['geolocation'] });
    page = b.page;
    const res = await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
    assert.equal(res.status(), 200);
  });
  after(async () => {
    await b?.close();
  });

  it('lists the nearest stations, sorted by distance, as the API answers', async () => {
    const want = await stationsAt(SEAT.longitude, SEAT.latitude);
    assert.ok(want.stations.length === LIMIT, `the API lists ${want.stations.length} stations near the seat`);
    await waitListed(page, want);
    const got = await listed(page);
    for (let i = 1; i < got.length; i++) {
      assert.ok(got[i].distance >= got[i - 1].distance, `not sorted by distance at ${i}: ${got[i - 1].distance} then ${got[i].distance}`);
    }
    assert.match(await page.textContent('#where'), /您的位置/);
    const card = page.locator('#list > li').first();
    for (const sel of ['.m-name', '.m-dist', '.m-kind', '.m-open', '.m-hours', '.m-addr', '.m-services']) {
      assert.ok((await card.locator(sel).textContent()).trim(), `the first card has no ${sel}`);
    }
    assert.match(await card.locator('.m-open').textContent(), /^(办公中|已下班|时间未知)$/);
    assert.equal(await page.title(), '附近服务站');
    await b.screenshot('public-granted');
  });

  it('sends little JavaScript before the map is opened, and no MapLibre', async () => {
    let js = 0;
    const files = [];
    for (const { url, request } of b.requests) {
      if (!/\.m?js(\?|$)/.test(new URL(url).pathname)) continue;
      const sizes = await request.sizes();
      js += sizes.responseBodySize;
      files.push(`${new URL(url).pathname} ${sizes.responseBodySize} B`);
    }
    console.log(`JavaScript before the map: ${js} bytes over the wire (gzip): ${files.join(', ')}`);
    assert.ok(js > 0 && js < 100 * 1024, `${js} bytes of JavaScript before the map; the target is under 100 KB`);
    assert.ok(!b.requests.some(({ url }) => /maplibre/.test(url)), 'MapLibre was loaded before the map was opened');
  });

  it('filters by kind', async () => {
    for (const [code, name] of [['police', '警务室'], ['clinic', '卫生室'], ['mediation', '调解委员会'], ['service_station', '政务服务站']]) {
      await page.getByRole('button', { name, exact: true }).tap();
      const want = await stationsAt(SEAT.longitude, SEAT.latitude, code);
      assert.ok(want.stations.length > 0, `no ${code} stations`);
      await waitListed(page, want);
      const got = await listed(page);
      assert.ok(got.every((s) => s.kind === code), `filter ${name}: kinds ${[...new Set(got.map((s) => s.kind))]}`);
      assert.equal(await page.getAttribute(`#kinds button[data-kind=${code}]`, 'aria-pressed'), 'true');
    }
    await b.screenshot('public-filter');
  });

  it('hands off to AMap, Baidu and Tencent with converted coordinates, and calls by tel:', async () => {
    const want = await stationsAt(SEAT.longitude, SEAT.latitude, 'service_station');
    const got = await listed(page);
    for (const [i, s] of want.stations.entries()) {
      const g = wgs84ToGcj02(s.lon, s.lat).map((v) => v.toFixed(6));
      const bd = wgs84ToBd09(s.lon, s.lat).map((v) => v.toFixed(6));
      const amap = new URL(got[i].amap);
      assert.equal(amap.host, 'uri.amap.com');
      assert.equal(amap.searchParams.get('position'), `${g[0]},${g[1]}`, 'AMap: GCJ-02 lon,lat');
      assert.equal(amap.searchParams.get('coordinate'), 'gaode');
      const baidu = new URL(got[i].baidu);
      assert.equal(baidu.host, 'api.map.baidu.com');
      assert.equal(baidu.searchParams.get('location'), `${bd[1]},${bd[0]}`, 'Baidu: BD-09 lat,lng');
      assert.equal(baidu.searchParams.get('coord_type'), 'bd09ll');
      const qq = new URL(got[i].tencent);
      assert.equal(qq.host, 'apis.map.qq.com');
      assert.ok(qq.searchParams.get('marker').startsWith(`coord:${g[1]},${g[0]};title:`), 'Tencent: GCJ-02 lat,lng');
      // Not WGS-84 passed through: in Wuding GCJ-02 lies 100–1000 m off.
      const off = Math.hypot((Number(g[0]) - s.lon) * 100_600, (Number(g[1]) - s.lat) * 110_800);
      assert.ok(off > 100 && off < 1000, `GCJ-02 offset ${off.toFixed(0)} m`);
      assert.equal(got[i].tel, `tel:${s.phone.replace(/[^\d+-]/g, '')}`);
    }
    assert.deepEqual(b.foreign, [], 'requests off this machine');
  });

  it('opens the map on demand, and a tap picks a new point', async () => {
    await page.getByRole('button', { name: '全部', exact: true }).tap();
    await page.locator('#open-map').tap();
    await page.waitForFunction(() => window.onemapPublic?.map?.loaded(), null, { timeout: WAIT_MS });
    assert.ok(b.requests.some(({ url }) => /maplibre/.test(url)), 'MapLibre not loaded after opening the map');
    await page.evaluate(() => new Promise((resolve) => {
      const { map } = window.onemapPublic;
      map.once('idle', resolve);
      map.triggerRepaint();
    }));
    assert.ok(b.requests.some(({ url }) => url.includes('/tiles/public/')), 'no public tiles requested');
    assert.ok(!b.requests.some(({ url }) => /\/tiles\/(all|cameras|households|risk_points)/.test(url)), 'a non-public tileset was requested');
    await b.screenshot('public-map');
    const box = await page.locator('#map').boundingBox();
    const at = { x: box.x + box.width * 0.3, y: box.y + box.height * 0.35 };
    const lngLat = await page.evaluate(({ x, y }) => {
      const { map } = window.onemapPublic;
      const r = map.getContainer().getBoundingClientRect();
      const p = map.unproject([x - r.left, y - r.top]);
      return [p.lng, p.lat];
    }, at);
    await page.touchscreen.tap(at.x, at.y);
    await page.waitForFunction(() => document.getElementById('where').textContent.includes('地图上选的位置'));
    await waitListed(page, await stationsAt(lngLat[0], lngLat[1]));
    await page.locator('#close-map').tap();
    assert.ok(await page.locator('#list > li').first().isVisible());
    await b.screenshot('public-picked-on-map');
    assert.deepEqual(b.foreign, [], 'requests off this machine');
    assert.deepEqual(b.errors, []);
  });
});

describe('public page on a phone, location refused', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openPhone({}); // no permission: the browser refuses the location
    page = b.page;
    await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
  });
  after(async () => {
    await b?.close();
  });

  it('offers the township and village list, and lists the stations near the village picked', async () => {
    await page.waitForSelector('#picker:not([hidden])');
    assert.match(await page.textContent('#where'), /请选择您所在的村/);
    const { townships } = await getJSON('/api/public/places');
    const town = townships.find((t) => t.name === '狮山镇') ?? townships[0];
    const village = town.villages[Math.min(2, town.villages.length - 1)];
    await page.waitForFunction(() => document.querySelectorAll('#township option').length > 1);
    const townOptions = await page.$$eval('#township option', (os) => os.map((o) => o.textContent));
    assert.deepEqual(townOptions.slice(1), townships.map((t) => t.name), 'the townships offered are the real list');
    await page.selectOption('#township', { label: town.name });
    await page.waitForFunction((n) => document.querySelectorAll('#village option').length === n + 1, town.villages.length);
    await page.selectOption('#village', { label: village.name });
    await page.locator('#picker-ok').tap();
    await waitListed(page, await stationsAt(village.lon, village.lat));
    assert.equal(await page.textContent('#where'), `位置：${town.name}${village.name}`);
    assert.ok(await page.locator('#picker').isHidden(), 'the picker stays open');
    await b.screenshot('public-denied-village');

    // Then a kind.
    await page.getByRole('button', { name: '卫生室', exact: true }).tap();
    await waitListed(page, await stationsAt(village.lon, village.lat, 'clinic'));
    assert.deepEqual(b.foreign, [], 'requests off this machine');
    assert.deepEqual(b.errors, []);
  });
});
