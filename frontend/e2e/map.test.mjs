// End-to-end test of the first page in a real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against a running OneMap
// server whose base URL is in ONEMAP_E2E_URL, e.g.
//
//   ONEMAP_E2E_URL=http://127.0.0.1:8099 npm run test:e2e
//
// The server must let the caller see all five layers (for example
// ONEMAP_ANONYMOUS_ROLE=commander). The test fails on any request to a host
// other than this machine's loopback, on any console error or page error, on
// a blank map, on a missing layer, and when the layer toggle or the feature
// popup do not work. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { openMap } from './browser.mjs';

const LAYERS = ['grids', 'risk_points', 'households', 'cameras', 'stations'];
// The county seat of the demo county (武定县 狮山镇), lon/lat.
const SEAT = { lng: 102.40, lat: 25.53, zoom: 13 };

describe('first page: the county on one map', { timeout: 10 * 60_000 }, () => {
  let b; // the browser session (browser.mjs)
  let page;
  let screenshot;
  let waitIdle;

  async function jumpTo(camera) {
    await page.evaluate((c) => {
      window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: c.zoom });
    }, camera);
    await waitIdle();
  }

  // sourceCounts returns, per layer, how many features the loaded tiles hold.
  function sourceCounts() {
    return page.evaluate((ids) => Object.fromEntries(ids.map((id) =>
      [id, window.onemap.map.querySourceFeatures('onemap', { sourceLayer: id }).length])), LAYERS);
  }

  before(async () => {
    b = await openMap();
    ({ page, screenshot, waitIdle } = b);
    // The panel's figures (and the values to filter by) come with the counts.
    await page.waitForFunction(() => window.onemap.countsAt);
    console.log(`time to a drawn map (navigation to the first idle frame, every tile drawn): ${b.drawnMs} ms`);
  });

  after(async () => {
    await b?.close();
  });

  it('shows every layer the role may see', async () => {
    const ids = await page.evaluate(() => window.onemap.layers.map((l) => l.id));
    for (const id of LAYERS) {
      assert.ok(ids.includes(id), `/api/layers lacks ${id} (got ${ids.join(', ')}): run the server with ONEMAP_ANONYMOUS_ROLE=commander`);
    }
    const title = await page.title();
    assert.match(title, /一张图/);
  });

  it('draws the county over the whole window, not a blank canvas', async () => {
    const file = await screenshot('overview');
    const png = fs.readFileSync(file).toString('base64');
    // Decode the screenshot in the page and count the pixels that are not
    // the map's background colour, and how many colours there are.
    const stats = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(bmp, 0, 0);
      const { data } = ctx.getImageData(0, 0, bmp.width, bmp.height);
      const bg = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
      let other = 0;
      const colours = new Set();
      for (let i = 0; i < data.length; i += 4) {
        const d = Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]);
        if (d > 12) other++;
        colours.add((data[i] >> 3) << 10 | (data[i + 1] >> 3) << 5 | (data[i + 2] >> 3));
      }
      return { pixels: data.length / 4, other, colours: colours.size };
    }, png);
    console.log(`overview: ${stats.other} of ${stats.pixels} pixels differ from the background, ${stats.colours} colours`);
    assert.ok(stats.other / stats.pixels > 0.15, `map looks blank: only ${stats.other} of ${stats.pixels} pixels drawn`);
    assert.ok(stats.colours > 20, `map looks flat: ${stats.colours} colours`);
  });

  it('loads features of every layer from the vector tiles', async () => {
    const overview = await sourceCounts();
    console.log(`features in loaded tiles, overview z${await page.evaluate(() => window.onemap.map.getZoom().toFixed(2))}:`, overview);
    // Low zooms may thin points out; the county seat has them all.
    await jumpTo(SEAT);
    await screenshot('county-seat');
    const seat = await sourceCounts();
    console.log(`features in loaded tiles, county seat z${SEAT.zoom}:`, seat);
    for (const id of LAYERS) {
      assert.ok(overview[id] + seat[id] > 0, `no ${id} features in the tiles (overview ${overview[id]}, county seat ${seat[id]})`);
    }
  });

  it('hides and shows cameras with the layer checkbox', async () => {
    await jumpTo(SEAT);
    const rendered = () => page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['cameras'] }).length);
    const visibility = () => page.evaluate(() => window.onemap.map.getLayoutProperty('cameras', 'visibility') ?? 'visible');
    assert.equal(await visibility(), 'visible');
    const before = await rendered();
    assert.ok(before > 0, 'no cameras drawn at the county seat');

    const box = page.locator('#layer-toggle-cameras');
    await box.uncheck();
    assert.equal(await box.isChecked(), false);
    assert.equal(await visibility(), 'none');
    await waitIdle();
    assert.equal(await rendered(), 0, 'cameras still drawn after unchecking');
    await screenshot('cameras-off');

    await box.check();
    assert.equal(await visibility(), 'visible');
    await waitIdle();
    assert.equal(await rendered(), before, 'cameras not all back after checking');
  });

  it('opens a popup with the properties of a clicked station', async () => {
    await jumpTo(SEAT);
    // Find a station drawn on top at its own pixel, clear of the panel and
    // controls; if none is in view, centre the map on one.
    const findTarget = () => page.evaluate(() => {
      const { map } = window.onemap;
      const canvas = map.getCanvas().getBoundingClientRect();
      for (const f of map.queryRenderedFeatures({ layers: ['stations'] })) {
        const p = map.project(f.geometry.coordinates);
        const x = canvas.left + p.x;
        const y = canvas.top + p.y;
        if (document.elementFromPoint(x, y) !== map.getCanvas()) continue;
        const top = map.queryRenderedFeatures([[p.x - 5, p.y - 5], [p.x + 5, p.y + 5]],
          { layers: map.getStyle().layers.filter((l) => (l.type === 'circle' || l.metadata?.['onemap:shape'])).map((l) => l.id) })[0];
        if (top?.layer.id === 'stations' && top.id === f.id) {
          return { x, y, id: f.id, name: f.properties.name ?? null, coordinates: f.geometry.coordinates };
        }
      }
      return null;
    });
    let target = await findTarget();
    if (!target) {
      const c = await page.evaluate(() =>
        window.onemap.map.querySourceFeatures('onemap', { sourceLayer: 'stations' })[0]?.geometry.coordinates);
      assert.ok(c, 'no station in the loaded tiles');
      await jumpTo({ lng: c[0], lat: c[1], zoom: 15 });
      target = await findTarget();
    }
    assert.ok(target, 'no station can be clicked');
    console.log('clicking station', target);

    const detail = page.waitForResponse((r) => r.url().includes(`/api/layers/stations/features/${target.id}`),
      { timeout: 15_000 }).catch(() => null);
    await page.mouse.click(target.x, target.y);
    const popup = page.locator('.maplibregl-popup');
    await popup.waitFor({ state: 'visible' });
    const body = popup.locator('.om-popup-body');
    assert.equal(await body.getAttribute('data-layer'), 'stations');
    const text = await popup.innerText();
    assert.match(text, /服务站点/);
    if (target.name) assert.ok(text.includes(target.name), `popup lacks the station's name ${target.name}: ${text}`);
    assert.ok(await popup.locator('table tr').count() > 0, 'popup has no property rows');
    // The full record comes from /api/layers/stations/features/{id}.
    const res = await detail;
    assert.ok(res, `the popup did not ask for /api/layers/stations/features/${target.id}`);
    assert.equal(res.status(), 200, `GET ${res.url()}: status ${res.status()}`);
    await screenshot('popup');
  });

  it('filters a layer by level at once, and its count follows; the link keeps the filter', async () => {
    await jumpTo(SEAT);
    const levels = () => page.evaluate(() => [...new Set(window.onemap.map.queryRenderedFeatures({ layers: ['risk_points'] })
      .map((f) => f.properties.level))].sort());
    assert.ok((await levels()).includes('blue'), 'no blue risk point drawn at the county seat');
    const total = Number((await page.locator('#count-risk_points').innerText()).replace(/[^\d]/g, ''));
    const blue = Number((await page.locator('#count-risk_points-level-blue').innerText()).replace(/[^\d]/g, ''));
    assert.ok(total > 0 && blue > 0 && blue < total, `counts ${blue} of ${total}`);

    const box = page.locator('input[data-layer="risk_points"][data-field="level"][data-value="blue"]');
    await box.uncheck();
    // The filter is on the map at once, before any tile comes again.
    assert.match(JSON.stringify(await page.evaluate(() => window.onemap.map.getFilter('risk_points'))), /"red","orange","yellow"/);
    await waitIdle();
    assert.ok(!(await levels()).includes('blue'), 'blue risk points still drawn');
    const shown = (await page.locator('#count-risk_points').innerText()).replace(/[^\d/]/g, '');
    assert.equal(shown, `${total - blue}/${total}`, 'the layer count does not follow the filter');
    await screenshot('filter-no-blue');

    // The link reopens the same view with the same filter.
    const url = await page.evaluate(() => location.href);
    assert.match(url, /#map=13\/25\.53\/102\.4&f=risk_points\.level:red\+orange\+yellow$/);
    const other = await b.context.newPage();
    try {
      await other.goto(url);
      await other.waitForFunction(() => window.onemap?.map?.isStyleLoaded?.() && window.onemap.countsAt, null, { timeout: 90_000 });
      const v = await other.evaluate(() => ({
        center: window.onemap.map.getCenter().toArray(), zoom: window.onemap.map.getZoom(),
        checked: document.querySelector('input[data-layer="risk_points"][data-value="blue"]').checked,
        filter: JSON.stringify(window.onemap.map.getFilter('risk_points')),
      }));
      assert.ok(Math.abs(v.center[0] - SEAT.lng) < 1e-3 && Math.abs(v.center[1] - SEAT.lat) < 1e-3 && Math.abs(v.zoom - SEAT.zoom) < 0.01,
        `the link opened ${JSON.stringify(v)}`);
      assert.equal(v.checked, false);
      assert.match(v.filter, /"red","orange","yellow"/);
      // Closed only once it has drawn, so that no request of its own (a
      // font, a tile's label) is cut off and counted as a failure.
      await other.evaluate(() => new Promise((resolve) => {
        const { map } = window.onemap;
        if (map.loaded() && map.areTilesLoaded()) resolve();
        else map.once('idle', resolve);
      }));
    } finally {
      await other.close();
    }

    await box.check();
    await waitIdle();
    assert.ok((await levels()).includes('blue'), 'blue risk points not back');
    assert.equal((await page.locator('#count-risk_points').innerText()).replace(/[^\d]/g, ''), String(total));
  });

  it('a level filter keeps every cluster that holds the level, counted for it', async () => {
    // Zoom 10 at the county seat: the risk points gathered into clusters,
    // each drawn at its most severe point and counting every level it holds.
    await jumpTo({ ...SEAT, zoom: 10 });
    const boxes = (v) => page.locator(`input[data-layer="risk_points"][data-field="level"][data-value="${v}"]`);
    for (const v of ['red', 'orange', 'blue']) await boxes(v).uncheck();
    await waitIdle();
    const drawn = await page.evaluate(() => {
      const { map } = window.onemap;
      const props = (layer) => map.queryRenderedFeatures({ layers: [layer] }).map((f) => f.properties);
      return { clusters: props('risk_points-cluster'), counts: props('count-risk_points-cluster'), singles: props('risk_points') };
    });
    await screenshot('filter-yellow-clusters');
    for (const v of ['red', 'orange', 'blue']) await boxes(v).check();
    const { clusters, counts, singles } = drawn;
    assert.ok(clusters.length > 0, 'no cluster drawn at zoom 10 with 黄色 chosen');
    assert.deepEqual(clusters.filter((p) => !(p.point_count_yellow > 0)), [], 'a cluster holding no 黄色 point is drawn');
    assert.deepEqual(singles.filter((p) => p.level !== 'yellow'), [], 'a single point of another level is drawn');
    // The bug: a cluster drawn at a 红色 or 橙色 point that holds 黄色 ones was dropped.
    assert.ok(clusters.some((p) => p.level !== 'yellow'),
      `no cluster drawn at another level holding 黄色 (${clusters.length} clusters, all drawn at 黄色)`);
    // A count is of the 黄色 points (5 or more of them), not of the whole cluster.
    assert.deepEqual(counts.filter((p) => !(p.point_count_yellow >= 5)), [], 'a count is drawn for fewer than 5 黄色 points');
  });

  it('a kind filter draws a cluster holding one station of the kind as its badge', async () => {
    // Zoom 10 at the county seat, 卫生院 alone chosen: clusters holding one
    // 卫生院 (drawn at whichever station) show its badge, as one station does;
    // clusters holding several, a ring of its colour.
    await page.evaluate(() => document.querySelector('.maplibregl-popup-close-button')?.click()); // the station's card above
    await jumpTo({ ...SEAT, zoom: 10 });
    const kinds = await page.locator('input[data-layer="stations"][data-field="kind"]').evaluateAll((els) => els.map((el) => el.dataset.value));
    const box = (v) => page.locator(`input[data-layer="stations"][data-field="kind"][data-value="${v}"]`);
    for (const v of kinds) if (v !== 'hospital') await box(v).uncheck();
    await waitIdle();
    const drawn = await page.evaluate(() => {
      const { map } = window.onemap;
      // The icon MapLibre draws each for (the layer's evaluated icon-image).
      const image = map.style.getLayer('stations').layout.get('icon-image');
      return map.queryRenderedFeatures({ layers: ['stations'] }).map((f) => ({
        count: f.properties.point_count ?? 0, hospitals: f.properties.point_count_kind_hospital ?? 0, kind: f.properties.kind,
        image: String(image.evaluate({ type: 1, properties: f.properties }, {})?.name ?? ''),
      }));
    });
    await screenshot('filter-hospital-stations');
    for (const v of kinds) await box(v).check();
    const one = drawn.filter((d) => d.count > 0 && d.hospitals === 1);
    assert.ok(one.length > 0, `no cluster holding one 卫生院 drawn at zoom 10: ${JSON.stringify(drawn)}`);
    assert.deepEqual(one.filter((d) => !d.image.startsWith('om-st:hospital:')), [], 'a cluster holding one 卫生院 is not its badge');
    assert.deepEqual(drawn.filter((d) => d.count === 0 && !d.image.startsWith('om-st:hospital:')), [], 'a single 卫生院 is not its badge');
    assert.deepEqual(drawn.filter((d) => d.hospitals > 1 && !d.image.startsWith('om-ring:')), [], 'a cluster of several 卫生院 is not a ring');
  });

  it('draws Chinese labels with the bundled font, asking no glyph server', async () => {
    // The whole county: its townships named, not buried under cluster counts.
    await page.evaluate(() => {
      const [w, s, e, n] = window.onemap.region.bounds;
      window.onemap.map.fitBounds([[w, s], [e, n]], { duration: 0 });
    });
    await waitIdle();
    const townships = await page.evaluate(() => new Set(window.onemap.map.queryRenderedFeatures({ layers: ['label-grids-township'] })
      .map((f) => f.properties.name)).size);
    assert.ok(townships >= 8, `${townships} of 11 townships named at the county's view`);
    await jumpTo(SEAT);
    const labels = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['label-grids-village'] })
      .map((f) => f.properties.name));
    assert.ok(labels.length > 0 && labels.every((n) => /[\u4e00-\u9fff]/.test(n)), `village labels: ${labels}`);
    // Closer in, each group is labelled once, however many tiles cut it.
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: 15.5 }), SEAT);
    await waitIdle();
    await page.waitForFunction(() => window.onemap.map.getSource('group-labels')?.serialize().data.features.length > 0);
    await waitIdle();
    const groups = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['label-grids-group'] })
      .map((f) => f.properties.name));
    assert.ok(groups.length > 3, `group labels: ${groups}`);
    assert.deepEqual(groups.filter((n, i) => groups.indexOf(n) !== i), [], 'a group labelled twice');
    assert.ok(b.requests.some((u) => new URL(u).pathname === '/fonts/onemap-sans.woff2'), 'the bundled font was not loaded');
    // (The demo base's vector tiles are .pbf too: /basemap/… is no glyph server.)
    assert.ok(!b.requests.some((u) => !new URL(u).pathname.startsWith('/basemap/') && /\.pbf($|\?)|glyphs|fonts\/.*\/\d+-\d+/.test(u)), 'a glyph range was requested');
    await screenshot('labels');
  });

  it('measures a distance and an area, and shows the cursor\'s coordinates', async () => {
    await jumpTo(SEAT);
    const rect = await page.locator('#map canvas').boundingBox();
    const at = (dx, dy) => ({ x: rect.x + rect.width / 2 + dx, y: rect.y + rect.height / 2 + dy });
    await page.locator('#measure-distance').click();
    assert.equal(await page.locator('#measure-distance').getAttribute('aria-pressed'), 'true');
    const p1 = at(-100, 0);
    const p2 = at(100, 60);
    await page.mouse.click(p1.x, p1.y);
    await page.mouse.click(p2.x, p2.y);
    await page.keyboard.press('Enter');
    const want = await page.evaluate(([a, b, r]) => {
      const { map } = window.onemap;
      return map.unproject([a.x - r.x, a.y - r.y]).distanceTo(map.unproject([b.x - r.x, b.y - r.y]));
    }, [p1, p2, rect]);
    const text = await page.locator('#measure-result').innerText();
    const m = /距离 ([\d.]+) (米|公里)/.exec(text);
    assert.ok(m, `measure result ${text}`);
    const got = Number(m[1]) * (m[2] === '公里' ? 1000 : 1);
    assert.ok(Math.abs(got - want) / want < 0.01, `measured ${got} m, want ${want} m`);
    await screenshot('measure-distance');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#measure-hint').isHidden(), true, 'Escape does not end measuring');

    await page.locator('#measure-area').click();
    for (const [dx, dy] of [[-80, -60], [80, -60], [80, 60], [-80, 60]]) {
      const p = at(dx, dy);
      await page.mouse.click(p.x, p.y);
    }
    await page.locator('#measure-finish').click();
    assert.match(await page.locator('#measure-result').innerText(), /面积 [\d.]+ (平方米|公顷|平方公里)/);
    await page.locator('#measure-clear').click();
    assert.equal(await page.locator('#measure-hint').isHidden(), true);

    const p = at(37, -21);
    await page.mouse.move(p.x, p.y);
    const shown = await page.locator('#coords').innerText();
    const expected = await page.evaluate(([q, r]) => {
      const ll = window.onemap.map.unproject([q.x - r.x, q.y - r.y]);
      return `${ll.lng.toFixed(5)}, ${ll.lat.toFixed(5)}`;
    }, [p, rect]);
    assert.equal(shown, expected);
  });

  it('speaks English on demand and Chinese again', async () => {
    await Promise.all([page.waitForEvent('load'), page.locator('#lang-switch').click()]);
    await page.waitForFunction(() => window.onemap?.map?.isStyleLoaded?.(), null, { timeout: 90_000 });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.locator('#measure-distance').innerText(), 'Distance');
    assert.match(await page.locator('#panel').innerText(), /Cameras/);
    await waitIdle();
    // The "around" panel speaks English too.
    const rect = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(rect.x + rect.width / 2, rect.y + rect.height / 2, { button: 'right' });
    await page.locator('#around-body [data-layer]').first().waitFor();
    assert.match(await page.locator('#around-title').innerText(), /^Around, 1 km$/);
    assert.doesNotMatch(await page.locator('#around').innerText(), /[处个级]/);
    await screenshot('english');
    await page.locator('#around-close').click();
    await Promise.all([page.waitForEvent('load'), page.locator('#lang-switch').click()]);
    await page.waitForFunction(() => window.onemap?.map?.isStyleLoaded?.(), null, { timeout: 90_000 });
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.equal(await page.locator('#measure-distance').innerText(), '测距离');
    await waitIdle();
  });

  it('made no request off this machine and logged no error', () => {
    assert.ok(b.requests.some((u) => u.includes('/tiles/all/')), 'no tile was requested');
    assert.deepEqual(b.foreign, [], `requests to other hosts:\n${b.foreign.join('\n')}`);
    assert.deepEqual(b.errors, [], `errors in the browser:\n${b.errors.join('\n')}`);
  });
});
