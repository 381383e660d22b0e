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
          { layers: map.getStyle().layers.filter((l) => l.type === 'circle').map((l) => l.id) })[0];
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

  it('made no request off this machine and logged no error', () => {
    assert.ok(b.requests.some((u) => u.includes('/tiles/all/')), 'no tile was requested');
    assert.deepEqual(b.foreign, [], `requests to other hosts:\n${b.foreign.join('\n')}`);
    assert.deepEqual(b.errors, [], `errors in the browser:\n${b.errors.join('\n')}`);
  });
});
