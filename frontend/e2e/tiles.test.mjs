// The tile service as other map clients meet it, against a running OneMap
// server whose base URL is in ONEMAP_E2E_URL (as map.test.mjs): TileJSON 3.0
// and the MapLibre style are valid and absolute, a tile decodes with
// @mapbox/vector-tile (a decoder independent of the server's), and MapLibre
// in headless Chromium renders every layer from the server's own style.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { BASE, openBrowser, WAIT_MS } from './browser.mjs';

const LAYERS = ['grids', 'risk_points', 'households', 'cameras', 'stations', 'hazard_zones', 'shelters'];

async function getJSON(url) {
  const resp = await fetch(url);
  assert.equal(resp.status, 200, `GET ${url}`);
  return resp.json();
}

// lonLatToTile returns the tile at zoom z that holds a point.
function lonLatToTile(lon, lat, z) {
  const n = 2 ** z;
  const s = Math.sin((lat * Math.PI) / 180);
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n);
  return { x, y, z };
}

describe('tile service', { timeout: 5 * 60_000 }, () => {
  it('serves TileJSON 3.0 whose tiles decode with an independent decoder', async () => {
    const tj = await getJSON(`${BASE}/tiles/all.json`);
    assert.equal(tj.tilejson, '3.0.0');
    assert.equal(tj.tiles.length, 1);
    assert.ok(tj.tiles[0].startsWith(`${BASE}/tiles/all/`), tj.tiles[0]);
    assert.deepEqual(tj.vector_layers.map((l) => l.id).sort(), [...LAYERS].sort());
    const [w, s, e, n] = tj.bounds;
    const t = lonLatToTile((w + e) / 2, (s + n) / 2, 10);
    const url = tj.tiles[0].replace('{z}', t.z).replace('{x}', t.x).replace('{y}', t.y);
    const resp = await fetch(url);
    assert.equal(resp.status, 200, url);
    assert.equal(resp.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
    const tile = new VectorTile(new PbfReader(new Uint8Array(await resp.arrayBuffer())));
    for (const id of LAYERS) {
      const layer = tile.layers[id];
      assert.ok(layer && layer.length > 0, `tile ${url} has no ${id}`);
      assert.equal(layer.extent, 4096);
      const declared = new Set(Object.keys(tj.vector_layers.find((l) => l.id === id).fields));
      for (let i = 0; i < layer.length; i++) {
        const f = layer.feature(i);
        assert.ok(typeof f.id === 'number' && f.id > 0, `${id} feature ${i} has no id`);
        for (const k of Object.keys(f.properties)) {
          assert.ok(declared.has(k), `${id} feature ${f.id} carries ${k}, which TileJSON does not declare`);
        }
        const geom = f.loadGeometry();
        assert.ok(geom.length > 0 && geom[0].length > 0, `${id} feature ${f.id} has no geometry`);
      }
    }
  });

  it('serves a valid MapLibre style with absolute URLs and no glyphs', async () => {
    const style = await getJSON(`${BASE}/styles/all.json`);
    const errors = validateStyleMin(style);
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(style.glyphs, undefined);
    for (const src of Object.values(style.sources)) assert.ok(src.url.startsWith(`${BASE}/`), src.url);
    const drawn = new Set(style.layers.map((l) => l['source-layer']).filter(Boolean));
    assert.deepEqual([...drawn].sort(), [...LAYERS].sort());
  });

  describe('MapLibre renders every layer from the server style', () => {
    let browser;
    before(async () => {
      browser = await openBrowser({ viewport: { width: 1024, height: 768 } });
    });
    after(async () => {
      await browser?.close();
    });

    it('draws grids, risk points, households, cameras and stations', async () => {
      const { page } = browser;
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(`${BASE}/`);
      await page.waitForFunction(() => window.onemap?.map?.loaded(), null, { timeout: WAIT_MS });
      const style = await (await fetch(`${BASE}/styles/all.json`)).json();
      const { rendered, layers } = await page.evaluate(async ({ base, ms }) => {
        const { map } = window.onemap;
        const within = (event) => new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${event} after ${ms} ms`)), ms);
          map.once(event, () => { clearTimeout(timer); resolve(); });
        });
        // The server's style replaces the page's own whole (no diff, which
        // would keep drawing the old style until the new one has come).
        const loaded = within('style.load');
        map.setStyle(`${base}/styles/all.json`, { diff: false });
        await loaded;
        const idle = within('idle');
        map.jumpTo({ center: [102.40, 25.53], zoom: 13 });
        await idle;
        const out = {};
        for (const f of map.queryRenderedFeatures()) out[f.sourceLayer] = (out[f.sourceLayer] || 0) + 1;
        return { rendered: out, layers: map.getStyle().layers.map((l) => l.id) };
      }, { base: BASE, ms: WAIT_MS });
      assert.deepEqual(layers, style.layers.map((l) => l.id), 'the map draws the server\'s style');
      for (const id of LAYERS) assert.ok(rendered[id] > 0, `nothing rendered of ${id}: ${JSON.stringify(rendered)}`);
      assert.deepEqual(errors, []);
    });
  });
});
