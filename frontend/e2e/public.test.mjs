// End-to-end test of the public page (/m/) in headless Chromium with a
// phone's viewport (375×667, touch, mobile), against a running OneMap server
// (ONEMAP_E2E_URL; its anonymous role does not matter: the page reads only
// the public API). Two visitors:
//
//  - one whose browser gives a location (mocked at the county seat): the
//    village named as /api/public/locate names it; the list of nearest stations, the
//    same as /api/public/stations answers, sorted by distance and numbered;
//    the kind filter, named in the status line; the chip row's fade where it
//    scrolls; the tel: link and the hand-off links to AMap,
//    Baidu and Tencent with the station's WGS-84 point converted to GCJ-02 /
//    BD-09 (src/m/coords.js, whose formulas test/m-coords.test.js checks
//    against googollee/eviltransform's and wandergis/coordtransform's
//    published control values), compared here with the same conversion of
//    the API's coordinates; the JavaScript sent before the map is opened
//    (measured and printed; under 100 KB gzipped); the map opened: the kind
//    filter applied to the tiles' stations (getFilter, queryRenderedFeatures)
//    and the legend, the stations of the list as numbered markers, a tap on a
//    marker or on a station dot showing its name, kind and distance without
//    moving the position, "在列表中查看" back to its card, then a tap on
//    empty map picking a new point, named by its village;
//  - one whose browser refuses the location: the township/village picker
//    from the real list, and the stations near the chosen village;
//  - one whose browser puts them in Beijing: the warning that they are not
//    in the county (named as /api/public/locate names it) and the picker, no list.
//
// Every text of the list, the report sheet and the follow-up reads on its
// background (layout.mjs lowContrast: 查进度 was white on white, 我要上报
// white on orange at 2.5:1, the small print grey at 3.3:1).
//
// Every request must stay on this machine (the hand-off links are hrefs, never
// requested); no console or page error. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, OUT, WAIT_MS, getJSON, isLocal, openBrowser } from './browser.mjs';
import { lowContrast } from './layout.mjs';
import { wgs84ToBd09, wgs84ToGcj02 } from '../src/m/coords.js';
import { kindFilter } from '../src/m/kinds.js';

// The county seat of the demo county (武定县 狮山镇), and a place far outside it.
const SEAT = { longitude: 102.4063, latitude: 25.5302 };
const BEIJING = { longitude: 116.4074, latitude: 39.9042 };
const PHONE = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const LIMIT = 20;

// openPhone starts Chromium as a phone with the given context options
// (openBrowser: any request off this machine aborted, in foreign) and
// records every request and every error.
async function openPhone(options) {
  const requests = []; // { url, request }
  const errors = [];
  return openBrowser({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...PHONE, ...options }, async ({ context, page }) => {
    context.on('request', (request) => requests.push({ url: request.url(), request }));
    context.on('requestfailed', (req) => {
      if (isLocal(req.url()) && !new URL(req.url()).pathname.startsWith('/tiles/')) {
        errors.push(`request failed: ${req.url()}: ${req.failure()?.errorText}`);
      }
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`page error: ${err.stack || err.message}`));
    return {
      requests, errors,
      async screenshot(name) {
        const file = path.join(OUT, `${name}.png`);
        await page.screenshot({ path: file, fullPage: false });
        console.log(`screenshot: ${file}`);
      },
    };
  });
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

// placeAt asks the API, from Node, the township and village that hold a point ('' outside).
async function placeAt(lon, lat) {
  const { grids } = await getJSON(`/api/public/locate?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}`);
  const name = (level) => grids.find((g) => g.level === level)?.name ?? '';
  return name('township') + name('village');
}

// kindName names a kind code as /api/public/kinds does.
async function kindName(code) {
  const { kinds } = await getJSON('/api/public/kinds');
  return kinds.find((k) => k.code === code).name;
}

// mapIdle waits until the map has drawn everything it has asked for.
function mapIdle(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const { map } = window.onemapPublic;
    map.once('idle', resolve);
    map.triggerRepaint();
  }));
}

// renderedStations returns the station dots the map draws (from the tiles):
// id, kind, point_count and where on the page they are.
function renderedStations(page) {
  return page.evaluate(() => {
    const { map } = window.onemapPublic;
    const r = map.getContainer().getBoundingClientRect();
    return map.queryRenderedFeatures({ layers: ['stations'] }).map((f) => {
      const p = map.project(f.geometry.coordinates);
      const kinds = Object.fromEntries(Object.entries(f.properties).filter(([k]) => k.startsWith('point_count_kind_'))
        .map(([k, v]) => [k.slice('point_count_kind_'.length), v]));
      return { id: f.id, kind: f.properties.kind, name: f.properties.name, count: f.properties.point_count ?? 1, kinds, x: r.left + p.x, y: r.top + p.y };
    });
  });
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
    // The village the user is in, as the server locates it.
    const place = await placeAt(SEAT.longitude, SEAT.latitude);
    assert.ok(place.endsWith('东岳社区'), `the seat is located in ${place}`);
    await page.waitForFunction((w) => document.getElementById('where').textContent === w, `您的位置：${place}`);
    assert.equal(await page.textContent('#status'), `离您最近的 ${LIMIT} 个服务站`);
    assert.deepEqual(await page.$$eval('#list .m-num', (ns) => ns.map((n) => n.textContent)),
      want.stations.map((_, i) => String(i + 1)), 'the cards are numbered as the map numbers them');
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
      assert.equal(await page.textContent('#status'), `离您最近的 ${want.stations.length} 个${name}`, 'the status names the kind');
    }
    await b.screenshot('public-filter');
  });

  it('shows that the chip row scrolls: a fade on the side of the hidden chips', async () => {
    const row = () => page.$eval('#kinds', (n) => ({
      cls: [...n.classList], scrolls: n.scrollWidth > n.clientWidth + 1,
      mask: getComputedStyle(n).maskImage || getComputedStyle(n).webkitMaskImage,
    }));
    await page.$eval('#kinds', (n) => { n.scrollLeft = 0; });
    await page.waitForFunction(() => !document.getElementById('kinds').classList.contains('m-more-left'));
    let got = await row();
    assert.ok(got.scrolls, 'the chips fit the phone: nothing to show');
    assert.ok(got.cls.includes('m-more-right') && !got.cls.includes('m-more-left'), `at the start: ${got.cls}`);
    assert.match(got.mask, /gradient/, 'no fade at the right edge');
    await page.$eval('#kinds', (n) => { n.scrollLeft = n.scrollWidth; });
    await page.waitForFunction(() => !document.getElementById('kinds').classList.contains('m-more-right'));
    got = await row();
    assert.ok(got.cls.includes('m-more-left'), `at the end: ${got.cls}`);
    await page.$eval('#kinds', (n) => { n.scrollLeft = 0; });
  });

  it('hands off a route from the user to the station to AMap, Baidu and Tencent with converted coordinates, and calls by tel:', async () => {
    const want = await stationsAt(SEAT.longitude, SEAT.latitude, 'service_station');
    const got = await listed(page);
    const fg = wgs84ToGcj02(SEAT.longitude, SEAT.latitude).map((v) => v.toFixed(6));
    const fb = wgs84ToBd09(SEAT.longitude, SEAT.latitude).map((v) => v.toFixed(6));
    for (const [i, s] of want.stations.entries()) {
      const g = wgs84ToGcj02(s.lon, s.lat).map((v) => v.toFixed(6));
      const bd = wgs84ToBd09(s.lon, s.lat).map((v) => v.toFixed(6));
      const amap = new URL(got[i].amap);
      assert.equal(amap.host + amap.pathname, 'uri.amap.com/navigation', 'AMap: a route, not a marker');
      assert.equal(amap.searchParams.get('to'), `${g[0]},${g[1]},${s.name.replace(/[,|;:，]/g, ' ').trim()}`, 'AMap: GCJ-02 lon,lat');
      assert.equal(amap.searchParams.get('from'), `${fg[0]},${fg[1]},我的位置`, 'AMap: from the user');
      assert.equal(amap.searchParams.get('coordinate'), 'gaode');
      const baidu = new URL(got[i].baidu);
      assert.equal(baidu.host + baidu.pathname, 'api.map.baidu.com/direction');
      assert.ok(baidu.searchParams.get('destination').startsWith(`latlng:${bd[1]},${bd[0]}|name:`), 'Baidu: BD-09 lat,lng');
      assert.equal(baidu.searchParams.get('origin'), `latlng:${fb[1]},${fb[0]}|name:我的位置`);
      assert.equal(baidu.searchParams.get('coord_type'), 'bd09ll');
      const qq = new URL(got[i].tencent);
      assert.equal(qq.host + qq.pathname, 'apis.map.qq.com/uri/v1/routeplan');
      assert.equal(qq.searchParams.get('tocoord'), `${g[1]},${g[0]}`, 'Tencent: GCJ-02 lat,lng');
      assert.equal(qq.searchParams.get('fromcoord'), `${fg[1]},${fg[0]}`);
      // Not WGS-84 passed through: in Wuding GCJ-02 lies 100–1000 m off.
      const off = Math.hypot((Number(g[0]) - s.lon) * 100_600, (Number(g[1]) - s.lat) * 110_800);
      assert.ok(off > 100 && off < 1000, `GCJ-02 offset ${off.toFixed(0)} m`);
      assert.equal(got[i].tel, `tel:${s.phone.replace(/[^\d+-]/g, '')}`);
    }
    assert.deepEqual(b.foreign, [], 'requests off this machine');
  });

  it('opens the map on demand: the kind filter on the map, numbered markers of the list, a legend', async () => {
    await page.getByRole('button', { name: '卫生室', exact: true }).tap();
    const want = await stationsAt(SEAT.longitude, SEAT.latitude, 'clinic');
    await waitListed(page, want);
    await page.locator('#open-map').tap();
    await page.waitForFunction(() => window.onemapPublic?.map?.loaded(), null, { timeout: WAIT_MS });
    assert.ok(b.requests.some(({ url }) => /maplibre/.test(url)), 'MapLibre not loaded after opening the map');
    await mapIdle(page);
    assert.ok(b.requests.some(({ url }) => url.includes('/tiles/public/')), 'no public tiles requested');
    assert.ok(!b.requests.some(({ url }) => /\/tiles\/(all|cameras|households|risk_points)/.test(url)), 'a non-public tileset was requested');
    // The page asks only the public API (rate-limited, answered from memory).
    const apis = b.requests.map(({ url }) => new URL(url).pathname).filter((p) => p.startsWith('/api/'));
    assert.deepEqual(apis.filter((p) => !p.startsWith('/api/public/')), [], 'the page asked beyond /api/public/');

    // The tiles' stations: clinics only, and every clustered point that
    // holds one (whichever station it is drawn at: src/m/kinds.js).
    assert.deepEqual(await page.evaluate(() => window.onemapPublic.map.getFilter('stations')), kindFilter('clinic'));
    let dots = await renderedStations(page);
    assert.ok(dots.length > 0, 'no station drawn');
    const notClinic = (d) => (d.count > 1 ? !(d.kinds.clinic > 0) : d.kind !== 'clinic');
    assert.deepEqual(dots.filter(notClinic), [], 'the map draws other kinds than the one chosen');
    // Zoomed out, where the tiles gather stations: the clinics drawn (each
    // single one, and each cluster's count of them) are at least those the
    // API finds in the middle of the view (a cluster lies within its
    // radius of what it holds, so those of the middle are drawn in view).
    const view = await page.evaluate(() => ({ center: window.onemapPublic.map.getCenter().toArray(), zoom: window.onemapPublic.map.getZoom() }));
    await page.evaluate((c) => window.onemapPublic.map.jumpTo({ center: c, zoom: 11.5 }), [SEAT.longitude, SEAT.latitude]);
    await mapIdle(page);
    const zoomedOut = await renderedStations(page);
    assert.ok(zoomedOut.some((d) => d.count > 1), 'no cluster drawn at zoom 11.5');
    assert.deepEqual(zoomedOut.filter(notClinic), [], 'zoomed out, the map draws clusters with no 卫生室');
    const drawn = zoomedOut.reduce((n, d) => n + (d.count > 1 ? d.kinds.clinic : 1), 0);
    const middle = await page.evaluate(() => {
      const { map } = window.onemapPublic;
      const b = map.getBounds();
      const [w, h] = [b.getEast() - b.getWest(), b.getNorth() - b.getSouth()];
      return [b.getWest() + 0.25 * w, b.getSouth() + 0.25 * h, b.getEast() - 0.25 * w, b.getNorth() - 0.25 * h];
    });
    const near = (await getJSON(`/api/public/stations?lon=${SEAT.longitude}&lat=${SEAT.latitude}&kind=clinic&limit=50`)).stations
      .filter((s) => s.lon >= middle[0] && s.lon <= middle[2] && s.lat >= middle[1] && s.lat <= middle[3]);
    assert.ok(near.length > 1, `too few clinics in the middle of the view to tell: ${near.length}`);
    assert.ok(drawn >= near.length, `the map draws ${drawn} clinics where the middle of its view holds ${near.length}`);
    await b.screenshot('public-map-clinic-zoomed-out');
    // The map's buttons lie over the numbered markers: at this view the
    // marker of the 17th station sat over the zoom-out button.
    const covered = await page.evaluate(() => [...document.querySelectorAll('#map .maplibregl-ctrl button')].filter((el) => el.offsetParent)
      .flatMap((el) => {
        const r = el.getBoundingClientRect();
        const at = [[r.left + 3, r.top + 3], [r.right - 3, r.top + 3], [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3], [r.left + r.width / 2, r.top + r.height / 2]];
        return at.map(([x, y]) => document.elementFromPoint(x, y)).filter((hit) => !el.contains(hit))
          .map((hit) => `${el.className} under ${hit?.className || hit?.tagName}`);
      }));
    assert.deepEqual(covered, [], 'something lies over the map\'s buttons');
    await page.evaluate((v) => window.onemapPublic.map.jumpTo(v), view);
    await mapIdle(page);
    assert.equal(await page.getAttribute('#map-kinds button[data-kind=clinic]', 'aria-pressed'), 'true', 'the map does not show the kind chosen');
    assert.deepEqual(await page.$$eval('#map-legend li[data-kind]', (ls) => ls.map((l) => l.dataset.kind)), ['clinic']);

    // The stations of the list: numbered markers, named for screen readers.
    const pins = await page.$$eval('.m-pin[data-id]', (ps) => ps.map((p) => ({ id: Number(p.dataset.id), n: p.textContent, label: p.getAttribute('aria-label') })));
    assert.deepEqual(pins, want.stations.map((s, i) => ({ id: s.id, n: String(i + 1), label: `${i + 1}. ${s.name}` })));
    await b.screenshot('public-map-clinic');

    // Every kind again, from the map's own chips.
    await page.locator('#map-kinds button[data-kind=""]').tap();
    await waitListed(page, await stationsAt(SEAT.longitude, SEAT.latitude));
    await mapIdle(page);
    assert.equal(await page.evaluate(() => window.onemapPublic.map.getFilter('stations') ?? null), null);
    dots = await renderedStations(page);
    assert.ok(new Set(dots.map((d) => d.kind)).size > 1, `one kind drawn with 全部: ${[...new Set(dots.map((d) => d.kind))]}`);
    assert.ok((await page.$$('#map-legend li[data-kind]')).length > 3, 'the legend lists too few kinds');
    assert.equal(await page.getAttribute('#kinds button[data-kind=""]', 'aria-pressed'), 'true', 'the list chips did not follow the map chips');
    await b.screenshot('public-map');
  });

  it('shows a station\'s name, kind and distance on a tap, without moving the position', async () => {
    const want = await stationsAt(SEAT.longitude, SEAT.latitude);
    const where = await page.textContent('#where');
    const kinds = (await getJSON('/api/public/kinds')).kinds;
    const kindOf = (code) => kinds.find((k) => k.code === code).name;

    // A marker of the list: its number, name, kind and distance, and the way back to its card.
    const s = want.stations[1];
    await page.locator(`.m-pin[data-id="${s.id}"]`).tap();
    const pop = page.locator('.m-pop');
    await pop.waitFor();
    const text = await pop.textContent();
    for (const part of ['2', s.name, s.kind_name, '距离']) assert.ok(text.includes(part), `the popup "${text}" lacks ${part}`);
    assert.equal(await page.textContent('#where'), where, 'a tap on a station moved the position');
    await b.screenshot('public-map-station');
    // The popup lies over the markers: its button is what a tap there hits.
    const onTop = await page.evaluate(() => {
      const r = document.querySelector('.m-pop button').getBoundingClientRect();
      const el = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return !!el?.closest('.m-pop');
    });
    assert.ok(onTop, 'a marker lies over the popup\'s button');
    await pop.getByRole('button', { name: '在列表中查看' }).tap();
    await page.waitForSelector('#map-view', { state: 'hidden' });
    assert.equal(await page.getAttribute('#list > li.m-focus', 'data-id'), String(s.id));
    assert.ok(await page.locator('#list > li.m-focus').isVisible());

    // A station dot of the tiles, not in the list, not under a marker.
    await page.locator('#open-map').tap();
    await page.evaluate(() => window.onemapPublic.map.jumpTo({ zoom: 14 })); // the least zoom where each station has its own dot
    await mapIdle(page);
    const listed = new Set(want.stations.map((x) => x.id));
    const free = await page.evaluate((dots) => dots.filter((d) => {
      const el = document.elementFromPoint(d.x, d.y);
      return el?.tagName === 'CANVAS';
    }), (await renderedStations(page)).filter((d) => d.count === 1 && !listed.has(d.id)));
    assert.ok(free.length > 0, 'no station outside the list to tap');
    const dot = free[0];
    await page.touchscreen.tap(dot.x, dot.y);
    await page.waitForSelector(`.m-pop[data-id="${dot.id}"]`);
    const dotText = await page.textContent('.m-pop');
    assert.ok(dotText.includes(dot.name) && dotText.includes(kindOf(dot.kind)) && /距离 [\d.]+ (米|公里)/.test(dotText), `the popup says "${dotText}"`);
    assert.equal(await page.textContent('#where'), where, 'a tap on a station moved the position');
    await page.locator('.maplibregl-popup-close-button').tap();
  });

  it('picks a new point on a tap on empty map, and names its village', async () => {
    // A spot with no station or marker within reach of a finger.
    const at = await page.evaluate(() => {
      const { map } = window.onemapPublic;
      const r = map.getContainer().getBoundingClientRect();
      for (let fy = 0.3; fy < 0.8; fy += 0.05) {
        for (let fx = 0.2; fx < 0.8; fx += 0.05) {
          const x = r.width * fx, y = r.height * fy;
          if (document.elementFromPoint(r.left + x, r.top + y)?.tagName !== 'CANVAS') continue;
          if (map.queryRenderedFeatures([[x - 30, y - 30], [x + 30, y + 30]], { layers: ['stations'] }).length) continue;
          const p = map.unproject([x, y]);
          return { x: r.left + x, y: r.top + y, lngLat: [p.lng, p.lat] };
        }
      }
      return null;
    });
    assert.ok(at, 'no empty spot on the map');
    await page.touchscreen.tap(at.x, at.y);
    const place = await placeAt(...at.lngLat);
    assert.ok(place, 'the empty spot is outside the county');
    await page.waitForFunction((w) => document.getElementById('where').textContent === w, `地图选点：${place}`);
    await waitListed(page, await stationsAt(at.lngLat[0], at.lngLat[1]));
    assert.equal(await page.textContent('#status'), `离所选位置最近的 ${LIMIT} 个服务站`);
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

    // Then a kind, named in the status line.
    await page.getByRole('button', { name: '卫生室', exact: true }).tap();
    const clinics = await stationsAt(village.lon, village.lat, 'clinic');
    await waitListed(page, clinics);
    assert.equal(await page.textContent('#status'), `离${town.name}${village.name}最近的 ${clinics.stations.length} 个${await kindName('clinic')}`);
    assert.deepEqual(b.foreign, [], 'requests off this machine');
    assert.deepEqual(b.errors, []);
  });
});

describe('public page on a phone, outside the county', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openPhone({ geolocation: { ...BEIJING, accuracy: 20 }, permissions: ['geolocation'] });
    page = b.page;
    await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
  });
  after(async () => {
    await b?.close();
  });

  it('says the user is not in the county, lists nothing and offers the picker', async () => {
    const { county: name } = await getJSON('/api/public/locate?lon=116.4&lat=39.9');
    assert.equal(await placeAt(BEIJING.longitude, BEIJING.latitude), '', 'Beijing is in the county');
    await page.waitForFunction((w) => document.getElementById('where').textContent.includes(w), `您不在${name}范围内`);
    await page.waitForSelector('#picker:not([hidden])');
    assert.match(await page.textContent('#where'), /请选择您所在的村/);
    assert.match(await page.textContent('#status'), new RegExp(`${name}的服务站离这里最近也有 \\d+ 公里`));
    assert.equal(await page.locator('#list > li').count(), 0, 'stations thousands of kilometres away are listed');
    await b.screenshot('public-outside');

    // A chip changes nothing until a place is picked; then the list comes.
    await page.getByRole('button', { name: '卫生室', exact: true }).tap();
    assert.equal(await page.locator('#list > li').count(), 0);
    const { townships } = await getJSON('/api/public/places');
    await page.waitForFunction(() => document.querySelectorAll('#township option').length > 1);
    await page.selectOption('#township', { label: townships[0].name });
    await page.locator('#picker-ok').tap();
    await waitListed(page, await stationsAt(townships[0].lon, townships[0].lat, 'clinic'));
    assert.equal(await page.textContent('#where'), `位置：${townships[0].name}`);
    assert.deepEqual(b.foreign, [], 'requests off this machine');
    assert.deepEqual(b.errors, []);
  });
});

// Issue 18, item 5: the kinds looked for most first and the last choice
// remembered, the emergency numbers always in view, the user's position a
// blue dot, the map app last navigated with first.
for (const viewport of [{ width: 390, height: 844 }, { width: 360, height: 640 }]) {
  describe(`public page at ${viewport.width}×${viewport.height}: emergency numbers, blue dot, remembered choices`, { timeout: 10 * 60_000 }, () => {
    let b;
    let page;
    const size = `${viewport.width}x${viewport.height}`;

    before(async () => {
      b = await openPhone({ viewport, geolocation: { ...SEAT, accuracy: 20 }, permissions: ['geolocation'] });
      page = b.page;
      await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
      await waitListed(page, await stationsAt(SEAT.longitude, SEAT.latitude));
    });
    after(async () => {
      await b?.close();
    });

    // sos says where the emergency bar is and whether it is the top thing drawn there.
    const sos = () => page.evaluate(() => {
      const el = document.getElementById('sos');
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return { top: r.top, bottom: r.bottom, height: r.height, inner: innerHeight, onTop: el.contains(hit),
        text: el.textContent.replace(/\s+/g, ' ').trim(), tels: [...el.querySelectorAll('a')].map((a) => a.getAttribute('href')) };
    });
    const assertSOS = async (where) => {
      const s = await sos();
      assert.equal(s.text, '紧急情况请拨打 110 120 119', where);
      assert.deepEqual(s.tels, ['tel:110', 'tel:120', 'tel:119'], where);
      assert.ok(Math.abs(s.bottom - s.inner) < 1 && s.height >= 36, `${where}: the bar is not at the bottom of the screen: ${JSON.stringify(s)}`);
      assert.ok(s.onTop, `${where}: something covers the emergency numbers`);
      return s;
    };

    it('shows 卫生室 and 警务室 first and the emergency numbers over the list, scrolled or not', async () => {
      const chips = await page.$$eval('#kinds button', (bs) => bs.map((x) => x.textContent));
      assert.deepEqual(chips.slice(0, 3), ['全部', '卫生室', '警务室']);
      await assertSOS('the list');
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      const s = await assertSOS('the list scrolled to its end');
      // The last card is not hidden under the bar.
      const last = await page.$eval('#list > li:last-child', (li) => li.getBoundingClientRect().bottom);
      assert.ok(last <= s.top + 1, `the last card ends at ${last}, under the bar at ${s.top}`);
      await b.screenshot(`public-sos-${size}`);
      await page.evaluate(() => window.scrollTo(0, 0));
    });

    it('draws the user\'s position as a blue dot on the map, the map\'s own bar above the emergency numbers', async () => {
      await page.locator('#open-map').tap();
      await page.waitForFunction(() => window.onemapPublic?.map?.loaded(), null, { timeout: WAIT_MS });
      await mapIdle(page);
      const dot = await page.evaluate(() => {
        const { map } = window.onemapPublic;
        return { colour: map.getPaintProperty('m-here', 'circle-color'), drawn: map.queryRenderedFeatures({ layers: ['m-here'] }).length };
      });
      assert.equal(dot.colour, '#1a73e8', 'the position is not blue');
      assert.equal(dot.drawn, 1, 'the position is not drawn');
      assert.match(await page.locator('#map-legend').textContent(), /您的位置/); // folded on a phone
      const s = await assertSOS('the map');
      const bar = await page.$eval('#close-map', (x) => x.getBoundingClientRect().bottom);
      assert.ok(bar <= s.top + 1, `the map's 返回列表 (${bar}) lies under the emergency bar (${s.top})`);
      await b.screenshot(`public-map-dot-${size}`);
      await page.locator('#close-map').tap();
      await page.evaluate(() => { location.hash = '#report'; });
      await page.waitForSelector('#report-view:not([hidden])');
      await assertSOS('the report form');
      await page.evaluate(() => { location.hash = ''; });
      await page.waitForSelector('#report-view', { state: 'hidden' });
    });

    it('remembers the kind chosen and the map app navigated with', async () => {
      await page.getByRole('button', { name: '警务室', exact: true }).tap();
      await waitListed(page, await stationsAt(SEAT.longitude, SEAT.latitude, 'police'));
      // A tap on 百度导航: the page makes no request of it (the phone's app
      // opens); the test stops the browser from following it.
      await page.evaluate(() => document.addEventListener('click', (e) => { if (e.target.closest('a.m-nav')) e.preventDefault(); }, true));
      await page.locator('#list > li').first().locator('a[data-app=baidu]').tap();
      await page.reload({ waitUntil: 'load' });
      const want = await stationsAt(SEAT.longitude, SEAT.latitude, 'police');
      await waitListed(page, want);
      assert.equal(await page.getAttribute('#kinds button[data-kind=police]', 'aria-pressed'), 'true', 'the kind was not remembered');
      assert.equal(await page.textContent('#status'), `离您最近的 ${want.stations.length} 个警务室`);
      const apps = await page.$$eval('#list > li:first-child a.m-nav', (as) => as.map((a) => `${a.dataset.app}${a.classList.contains('m-nav-last') ? '*' : ''}`));
      assert.deepEqual(apps, ['baidu*', 'amap', 'tencent']);
      assert.deepEqual(b.foreign, [], 'requests off this machine');
      assert.deepEqual(b.errors, []);
    });
  });
}

describe('public page on a phone, every text read on its background', { timeout: 10 * 60_000 }, () => {
  it('the list, the report sheet and the follow-up', async () => {
    const b = await openPhone({ geolocation: SEAT, permissions: ['geolocation'] });
    const { page } = b;
    try {
      await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
      await page.waitForSelector('#list > li', { timeout: WAIT_MS });
      assert.deepEqual(await lowContrast(page), [], 'the list');
      for (const sheet of ['report', 'track']) {
        await page.locator(`#open-${sheet}`).tap();
        await page.waitForSelector(`#${sheet}-view:not([hidden])`);
        assert.deepEqual(await lowContrast(page), [], `the ${sheet} sheet`);
        await page.goBack();
        await page.waitForSelector(`#${sheet}-view`, { state: 'hidden' });
      }
      assert.deepEqual(b.foreign, [], 'requests off this machine');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
});
