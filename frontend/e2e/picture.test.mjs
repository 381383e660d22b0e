// The command picture in a real browser (issue 18, items 1 and 2): hazards
// first (triangles and squares in 红橙黄蓝, clusters ringed by their mix,
// cameras off at the county view) and a base map to find the way by (the
// demo county's synthetic base: roads, rivers, settlement names) under the
// data on all four maps. The county view reads at a glance (item 3 of the
// wall, here on the command map): households' squares and the live tags are
// drawn from the zoom where they separate, and few hazard symbols sit on
// another, measured at 1366×768 and 1920×1080. Screenshots for a reviewer:
// the command map at 1366×768 over the county, at z13 and z16 in 狮山镇, at
// 1920×1080 over the county; the public page at 390×844.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, databaseURL, openBrowser, OUT, openMap, sql, WAIT_MS } from './browser.mjs';

// The county seat, in 狮山镇 (the demo's 东岳社区).
const SEAT = { lng: 102.4063, lat: 25.5302 };
const ROADS = ['base-primary', 'base-secondary', 'base-minor'];
const NAMES = ['base-place-town', 'base-place-village', 'base-place-hamlet'];

// rendered returns, per style layer id, the features the map draws in view.
function rendered(page, ids) {
  return page.evaluate((layers) => {
    const { map } = window.onemap;
    const have = layers.filter((id) => map.getLayer(id));
    const out = Object.fromEntries(layers.map((id) => [id, []]));
    for (const f of have.length ? map.queryRenderedFeatures({ layers: have }) : []) out[f.layer.id].push(f.properties);
    return out;
  }, ids);
}

// POINTS are the command map's point symbols measured for crowding: the
// hazards (risk points, households, their clusters) and the live tags;
// stations are counted apart (their badges and rings sit by the hazards).
const HAZARDS = ['risk_points', 'risk_points-cluster', 'households', 'households-cluster', 'om-tags', 'om-tags-clusters'];

// crowding measures the point symbols the map draws in view, in CSS pixels,
// as e2e/wall.test.mjs does for the wall: per style layer how many are
// drawn, and the share of them that sit on another (centres closer than 60 %
// of the sum of their radii: more than about half of one covered), among
// the hazards and tags, and among those with the stations. A symbol's
// radius is MapLibre's own evaluation of the layer's size at the map's zoom
// for that feature (icon-size × the image's size, or circle-radius plus half
// the stroke).
function crowding(page) {
  return page.evaluate((hazards) => {
    const { map } = window.onemap;
    const ids = [...hazards, 'stations'].filter((id) => map.getLayer(id));
    const syms = [];
    for (const f of map.queryRenderedFeatures({ layers: ids })) {
      const layer = map.style.getLayer(f.layer.id);
      const feature = { type: 1, id: f.id, properties: f.properties };
      let r;
      if (layer.type === 'circle') {
        r = layer.paint.get('circle-radius').evaluate(feature, {}) + layer.paint.get('circle-stroke-width').evaluate(feature, {}) / 2;
      } else {
        const name = layer.layout.get('icon-image').evaluate(feature, {});
        const img = map.style.getImage(name?.name ?? String(name));
        r = (layer.layout.get('icon-size').evaluate(feature, {}) * (img ? img.data.width / img.pixelRatio : 0)) / 2;
      }
      const p = map.project(f.geometry.coordinates);
      syms.push({ id: f.layer.id, x: p.x, y: p.y, r });
    }
    if (syms.some((x) => !Number.isFinite(x.r) || x.r <= 0)) throw new Error('crowding: a symbol without a size');
    const share = (of) => {
      const on = of.filter((a) => of.some((b) => b !== a && Math.hypot(a.x - b.x, a.y - b.y) < 0.6 * (a.r + b.r)));
      return of.length ? on.length / of.length : 0;
    };
    const drawn = {};
    for (const x of syms) drawn[x.id] = (drawn[x.id] ?? 0) + 1;
    const hz = syms.filter((x) => hazards.includes(x.id));
    return { zoom: map.getZoom(), drawn, hazards: hz.length, crowded: share(hz), withStations: share(syms) };
  }, HAZARDS);
}

describe('the command map: hazards first, over a base map', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openMap({ viewport: { width: 1366, height: 768 } });
    page = b.page;
  });
  after(async () => {
    await b?.close();
  });

  it('draws hazards as shapes in 红橙黄蓝, clusters ringed by their mix, no cameras over the county', async () => {
    const style = await page.evaluate(() => {
      const s = window.onemap.map.getStyle();
      return { layers: s.layers.map((l) => ({ id: l.id, type: l.type, minzoom: l.minzoom, image: l.layout?.['icon-image'] })), base: s.sources.basemap };
    });
    const layer = (id) => style.layers.find((l) => l.id === id);
    assert.equal(layer('risk_points').image, 'om-tri');
    assert.equal(layer('households').image, 'om-square');
    assert.equal(layer('cameras').minzoom, 13);
    assert.equal(style.base?.type, 'vector', 'the demo county has its synthetic base');
    const zoom = await page.evaluate(() => window.onemap.map.getZoom());
    assert.ok(zoom < 12, `the county view is at zoom ${zoom}`);
    const got = await rendered(page, ['cameras', 'risk_points-cluster', 'households-cluster', 'risk_points']);
    assert.equal(got.cameras.length, 0, 'cameras drawn over the county');
    const clusters = got['risk_points-cluster'];
    assert.ok(clusters.length > 10, `${clusters.length} risk clusters drawn`);
    // Each cluster carries its mix, and the ring image drawn for it.
    const mixed = clusters.filter((p) => p.point_count > 1 && Object.keys(p).some((k) => k.startsWith('point_count_')));
    assert.equal(mixed.length, clusters.length, 'a cluster without its counts by level');
    const images = await page.evaluate(() => window.onemap.map.listImages());
    assert.ok(images.some((n) => n.startsWith('om-ring:triangle:')), 'no ring drawn for risk clusters');
    assert.ok(images.includes('om-tri') || got.risk_points.length === 0);
    // Reds are not everywhere: most rings are mostly not red.
    const red = clusters.reduce((s, p) => s + (p.point_count_red ?? 0), 0);
    const all = clusters.reduce((s, p) => s + p.point_count, 0);
    assert.ok(red < all / 5, `${red} of ${all} clustered risk points are 重大`);
    // A station cluster is ringed by its kinds: the tiles count them
    // (point_count_kind_KIND, adding up to at most point_count, no name),
    // and its ring is cut in the kinds' colours.
    const st = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['stations'] })
      .filter((f) => f.properties.point_count > 1).map((f) => f.properties));
    assert.ok(st.length > 5, `${st.length} station clusters drawn over the county`);
    for (const p of st) {
      const kinds = Object.entries(p).filter(([k]) => k.startsWith('point_count_kind_'));
      const sum = kinds.reduce((n, [, v]) => n + v, 0);
      assert.ok(kinds.length > 0 && sum <= p.point_count, `a station cluster's counts by kind: ${JSON.stringify(p)}`);
      assert.equal(p.name, undefined, 'a station cluster carries a station\'s name');
    }
    assert.ok(st.some((p) => Object.keys(p).filter((k) => k.startsWith('point_count_kind_')).length > 1), 'no station cluster of several kinds');
    const cut = images.filter((n) => n.startsWith('om-ring:circle:') && n.split(',').filter((part) => !part.endsWith('=0')).length > 1);
    assert.ok(cut.length > 0, `no station ring cut by kind among ${images.filter((n) => n.startsWith('om-ring:circle:')).join(' ')}`);
    assert.deepEqual(b.foreign, []);
    assert.deepEqual(b.errors, []);
    await b.screenshot('picture-county-1366x768');
  });

  it('reads at a glance over the county: no households\' squares or tags\' discs there, few hazards on one another', async () => {
    // The tags layer is added once the session is read (the commander's).
    await page.waitForFunction(() => window.onemap.tags && window.onemap.map.getSource('om-tags'), null, { timeout: WAIT_MS });
    await b.waitIdle();
    const c = await crowding(page);
    console.log(`county view at 1366×768: ${JSON.stringify(c)}`);
    assert.ok(c.zoom < 11, `the county view is at zoom ${c.zoom}`);
    // Before: 2,400 households' squares and the tags' clusters drawn here,
    // and over half of these symbols sat on another (53 % at 1920×1080).
    for (const id of ['households', 'households-cluster', 'om-tags', 'om-tags-clusters']) {
      assert.equal(c.drawn[id] ?? 0, 0, `${id} drawn over the county`);
    }
    assert.ok(!b.requests.some((u) => new URL(u).pathname.startsWith('/tiles/tags/')), 'tags tiles asked for at the county view');
    assert.ok(c.hazards > 50, `only ${c.hazards} hazard symbols drawn`);
    assert.ok(c.crowded <= 0.2, `${(c.crowded * 100).toFixed(0)} % of the hazard symbols sit on another`);
    // Closer in, where they separate, households and tags are drawn.
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: 13 }), SEAT);
    await b.waitIdle();
    const near = await crowding(page);
    console.log(`z13 in 狮山镇 at 1366×768: ${JSON.stringify(near)}`);
    assert.ok((near.drawn.households ?? 0) + (near.drawn['households-cluster'] ?? 0) > 0, 'no household at z13');
    assert.ok((near.drawn['om-tags'] ?? 0) + (near.drawn['om-tags-clusters'] ?? 0) > 0, 'no tag at z13');
    await b.screenshot('picture-shishan-z13-1366x768');
  });

  it('shows roads and settlement names of the base at z15 in 狮山镇, and stations as badges at z16', async () => {
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: 15 }), SEAT);
    await b.waitIdle();
    const got = await rendered(page, [...ROADS, ...NAMES, 'base-river', 'base-stream']);
    const roads = ROADS.flatMap((id) => got[id]);
    const names = NAMES.flatMap((id) => got[id]).map((p) => p.name);
    console.log(`z15 in 狮山镇: ${roads.length} road pieces, names ${names.join('、')}`);
    assert.ok(roads.length > 0, 'no road of the base drawn at z15 in 狮山镇');
    assert.ok(names.length > 0 && names.every(Boolean), 'no settlement name drawn at z15 in 狮山镇');
    assert.ok(b.requests.some((u) => new URL(u).pathname.startsWith('/basemap/15/')), 'no base tile asked for');
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: 16 }), SEAT);
    await b.waitIdle();
    const images = await page.evaluate(() => window.onemap.map.listImages());
    assert.ok(images.some((n) => n.startsWith('om-st:')), 'no station badge drawn at z16');
    const cams = await rendered(page, ['cameras']);
    assert.ok(cams.cameras.length > 0, 'no camera at z16 in the county seat');
    assert.deepEqual(b.errors, []);
    await b.screenshot('picture-shishan-z16-1366x768');
  });
});

describe('the command map\'s county view at 1920×1080', { timeout: 10 * 60_000 }, () => {
  it('reads at a glance: no households or tags drawn, few hazards on one another', async () => {
    const b = await openMap({ viewport: { width: 1920, height: 1080 } });
    try {
      await b.page.waitForFunction(() => window.onemap.tags && window.onemap.map.getSource('om-tags'), null, { timeout: WAIT_MS });
      await b.waitIdle();
      const c = await crowding(b.page);
      console.log(`county view at 1920×1080: ${JSON.stringify(c)}`);
      assert.ok(c.zoom < 11, `the county view is at zoom ${c.zoom}`);
      for (const id of ['households', 'households-cluster', 'om-tags', 'om-tags-clusters']) {
        assert.equal(c.drawn[id] ?? 0, 0, `${id} drawn over the county`);
      }
      assert.ok(c.hazards > 100, `only ${c.hazards} hazard symbols drawn`);
      assert.ok(c.crowded <= 0.2, `${(c.crowded * 100).toFixed(0)} % of the hazard symbols sit on another`);
      // The panel's 低 households are the database's. In a whole e2e run
      // this screenshot reads 低 1,319 where the seed said 1,320: no
      // household lies outside every grid and the panel counts by the
      // server's rule; the runs share one database, and e2e/assess.test.mjs
      // (run before this file) reassesses household 1 from 低 to 较大.
      await b.page.waitForFunction(() => window.onemap.state.counts?.households?.level, null, { timeout: WAIT_MS });
      const url = databaseURL();
      if (url) {
        const [[low, outside]] = sql(url, `SELECT count(*) FILTER (WHERE level = 'blue'),
          count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM grids g WHERE g.level = 'county' AND ST_Intersects(g.geom, h.geom))) FROM households h`);
        assert.equal(Number(outside), 0, 'households outside the county\'s grid');
        const shown = await b.page.locator('#count-households-level-blue').textContent();
        assert.equal(shown.replace(/\D/g, ''), low, `the panel's 低 households (${shown}) against the database's ${low}`);
      }
      assert.deepEqual(b.errors, []);
      await b.screenshot('picture-county-1920x1080');
    } finally {
      await b.close();
    }
  });
});

describe('the base map on the wall and in the editor', { timeout: 10 * 60_000 }, () => {
  for (const [name, pagePath] of [['wall', '/screen/'], ['editor', '/editor/']]) {
    it(`draws the base under the data on the ${name}`, async () => {
      const b = await openMap({ viewport: { width: 1366, height: 768 }, signIn: { name: 'planner', password: 'onemap-demo' } }, pagePath);
      try {
        const ids = await b.page.evaluate(() => window.onemap.map.getStyle().layers.map((l) => l.id));
        const first = ids.findIndex((id) => id.startsWith('base-'));
        assert.ok(first > 0, `no base layer on the ${name}`);
        const outlines = ids.indexOf('grids-line-county');
        assert.ok(outlines > 0 && first < outlines, `the base is not under the data: ${ids.join(', ')}`);
        assert.ok(b.requests.some((u) => new URL(u).pathname.startsWith('/basemap/')), `no base tile asked for on the ${name}`);
        assert.deepEqual(b.errors, []);
      } finally {
        await b.close();
      }
    });
  }
});

describe('the public page\'s map on a phone has the base map', { timeout: 10 * 60_000 }, () => {
  let b;
  const errors = [];

  before(async () => {
    b = await openBrowser({
      locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
      geolocation: { longitude: SEAT.lng, latitude: SEAT.lat, accuracy: 20 }, permissions: ['geolocation'],
    }, async ({ page }) => {
      page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
      page.on('pageerror', (err) => errors.push(err.message));
    });
  });
  after(async () => {
    await b?.close();
  });

  it('draws roads and names under the stations at 390×844', async () => {
    const { page } = b;
    await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
    await page.waitForSelector('#list > li', { timeout: WAIT_MS });
    await page.locator('#open-map').tap();
    await page.waitForFunction(() => window.onemapPublic?.map?.loaded(), null, { timeout: WAIT_MS });
    await page.evaluate((c) => window.onemapPublic.map.jumpTo({ center: [c.lng, c.lat], zoom: 15 }), SEAT);
    await page.evaluate(async (ms) => {
      const { map } = window.onemapPublic;
      const idle = map.once('idle');
      map.triggerRepaint();
      await Promise.race([idle, new Promise((_, reject) => setTimeout(() => reject(new Error(`map not idle after ${ms} ms`)), ms))]);
    }, WAIT_MS);
    const got = await page.evaluate((ids) => {
      const { map } = window.onemapPublic;
      const have = ids.filter((id) => map.getLayer(id));
      return map.queryRenderedFeatures({ layers: have }).map((f) => f.layer.id);
    }, [...ROADS, ...NAMES]);
    assert.ok(got.some((id) => ROADS.includes(id)), 'no road on the public map');
    assert.ok(got.some((id) => NAMES.includes(id)), 'no place name on the public map');
    assert.deepEqual(errors, []);
    const file = path.join(OUT, 'picture-public-390x844.png');
    await page.screenshot({ path: file });
    console.log(`screenshot: ${file}`);
    // Below zoom 14 nearby stations are one point: a ring cut by their
    // kinds, not the badge of the kind of the one it is drawn at.
    await page.evaluate((c) => window.onemapPublic.map.jumpTo({ center: [c.lng, c.lat], zoom: 11 }), SEAT);
    await page.evaluate(async (ms) => {
      const { map } = window.onemapPublic;
      const idle = map.once('idle');
      map.triggerRepaint();
      await Promise.race([idle, new Promise((_, reject) => setTimeout(() => reject(new Error(`map not idle after ${ms} ms`)), ms))]);
    }, WAIT_MS);
    const clusters = await page.evaluate(() => {
      const { map } = window.onemapPublic;
      return { many: map.queryRenderedFeatures({ layers: ['stations'] }).filter((f) => f.properties.point_count > 1).length, images: map.listImages() };
    });
    assert.ok(clusters.many > 0, 'no clustered stations at z11');
    assert.ok(clusters.images.some((n) => n.startsWith('om-ring:circle:') && n.split(',').filter((part) => !part.endsWith('=0')).length > 1),
      `no ring cut by kind among ${clusters.images.join(', ')}`);
    assert.match(await page.locator('#map-legend li[data-many]').textContent(), /附近多个服务站/, 'the legend does not say what a ring is');
    // Its key is such a ring: cut in the colours of the kinds the legend
    // lists (before: one grey ring while the map's rings were coloured).
    const key = await page.evaluate(() => {
      const legend = document.getElementById('map-legend');
      const ring = getComputedStyle(legend.querySelector('li[data-many] .m-many-key')).backgroundImage;
      const kinds = [...legend.querySelectorAll('li[data-kind] .m-dot')].map((d) => getComputedStyle(d).backgroundColor);
      return { ring, kinds };
    });
    assert.ok(key.kinds.length > 3, `the legend lists ${key.kinds.length} kinds`);
    assert.match(key.ring, /conic-gradient/, `the clusters' key is not a ring cut by kind: ${key.ring}`);
    for (const c of key.kinds) assert.ok(key.ring.includes(c), `the clusters' key lacks the colour ${c} of a listed kind: ${key.ring}`);
    await page.screenshot({ path: path.join(OUT, 'picture-public-z11-390x844.png') });
    assert.deepEqual(errors, []);
  });
});
