// End-to-end test of live changes in headless Chromium against a running
// OneMap server (ONEMAP_E2E_URL, a role that sees every layer, as
// map.test.mjs): a change written to the server's database (the change feed
// every write goes through, the API's included) shows on an open page within
// seconds and without a reload: a camera going offline changes its dot, the
// layer panel's counts and its open card; a new risk point appears on the map and in the
// counts. The control-room wall (/screen/) draws the county with its key
// figures, which follow a change too. The test writes with psql to the
// database of ONEMAP_E2E_DATABASE_URL, or the one scripts/e2e.sh made.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseURL, getJSON, openMap, sql, WAIT_MS } from './browser.mjs';

// The county seat of the demo county (武定县 狮山镇), lon/lat.
const SEAT = [102.4063, 25.5302];
// A change must show within this long (the target is "a few seconds";
// swiftshader draws slowly, so the bound is loose and the time is printed).
const LIVE_MS = 20_000;

describe('live: changes reach an open map without a reload', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;
  let db;

  before(async () => {
    db = databaseURL();
    assert.ok(db, 'no database to write to: set ONEMAP_E2E_DATABASE_URL or run through scripts/e2e.sh');
    b = await openMap({ reducedMotion: 'reduce' });
    page = b.page;
    await page.waitForFunction(() => window.onemap.live.connected && window.onemap.countsAt, null, { timeout: WAIT_MS });
    // A reload would lose this.
    await page.evaluate(() => { window.__notReloaded = true; });
  });
  after(async () => {
    await b?.close();
  });

  const countOf = (id) => page.evaluate((i) => {
    const text = document.getElementById(i)?.textContent ?? '';
    return Number(text.replace(/[^\d]/g, ''));
  }, id);

  async function jumpTo([lng, lat], zoom) {
    await page.evaluate(([c, z]) => window.onemap.map.jumpTo({ center: c, zoom: z }), [[lng, lat], zoom]);
    await b.waitIdle();
  }

  // propertyOf returns a property of feature id of a layer in the loaded tiles.
  const propertyOf = (layer, id, name) => page.evaluate(([l, i, n]) => {
    const fs = window.onemap.map.querySourceFeatures('onemap', { sourceLayer: l, filter: ['==', ['id'], i] });
    return fs.length ? fs[0].properties[n] ?? null : undefined;
  }, [layer, id, name]);

  it('a camera going offline changes on the map, in the counts and in its open card', async () => {
    // An online camera near the county seat with no other point within
    // 40 m, so that a click at z17 hits it alone.
    const [[idText, lon, lat]] = sql(db, `SELECT c.id, ST_X(c.geom), ST_Y(c.geom) FROM cameras c WHERE c.status = 'online'
      AND NOT EXISTS (SELECT 1 FROM (SELECT geom FROM cameras WHERE id <> c.id UNION ALL SELECT geom FROM risk_points
        UNION ALL SELECT geom FROM households UNION ALL SELECT geom FROM stations) o
        WHERE ST_DWithin(o.geom::geography, c.geom::geography, 40))
      ORDER BY c.geom <-> ST_SetSRID(ST_MakePoint(${SEAT[0]}, ${SEAT[1]}), 4326) LIMIT 1`);
    const id = Number(idText);
    await jumpTo([Number(lon), Number(lat)], 17);
    assert.equal(await propertyOf('cameras', id, 'status'), 'online', `camera ${id} is not in the tiles as online`);
    const px = await page.evaluate((c) => {
      const { map } = window.onemap;
      const r = map.getCanvas().getBoundingClientRect();
      const p = map.project(c);
      return { x: r.left + p.x, y: r.top + p.y };
    }, [Number(lon), Number(lat)]);
    // The card is drawn from the tile, then from the camera's record.
    const record = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/layers/cameras/features/${id}`);
    await page.mouse.click(px.x, px.y);
    const card = page.locator('.maplibregl-popup .om-popup-body[data-layer="cameras"]');
    await card.waitFor();
    await record;
    await page.waitForFunction(() => /在线/.test(document.querySelector('.maplibregl-popup')?.innerText ?? ''));
    const offline = await countOf('count-cameras-status-offline');
    const online = await countOf('count-cameras-status-online');
    await b.screenshot('live-camera-before');

    const started = Date.now();
    sql(db, `UPDATE cameras SET status = 'offline' WHERE id = ${id}`);
    await page.waitForFunction(([i]) => window.onemap.map.querySourceFeatures('onemap',
      { sourceLayer: 'cameras', filter: ['==', ['id'], i] })[0]?.properties.status === 'offline', [id], { timeout: LIVE_MS });
    const onMap = Date.now() - started;
    await page.waitForFunction(([n]) => Number(document.getElementById('count-cameras-status-offline').textContent
      .replace(/[^\d]/g, '')) === n, [offline + 1], { timeout: LIVE_MS });
    const inCounts = Date.now() - started;
    console.log(`camera ${id} offline: on the map after ${onMap} ms, in the counts after ${inCounts} ms`);
    await page.waitForFunction(() => /离线/.test(document.querySelector('.maplibregl-popup')?.innerText ?? ''), null,
      { timeout: LIVE_MS });
    assert.equal(await countOf('count-cameras-status-online'), online - 1, 'online count did not go down by one');
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page reloaded');
    const last = await page.evaluate(() => window.onemap.live.last);
    assert.equal(last.layer, 'cameras');
    assert.equal(last.id, id);
    await b.waitIdle();
    await b.screenshot('live-camera-offline');
    await page.keyboard.press('Escape');
  });

  it('a new risk point appears on the map and in the counts', async () => {
    const at = [SEAT[0] + 0.0012, SEAT[1] - 0.0009];
    await jumpTo(at, 16);
    const red = await countOf('count-risk_points-level-red');
    const total = await countOf('count-risk_points');
    const started = Date.now();
    const [[idText]] = sql(db, `INSERT INTO risk_points (kind, name, level, geom)
      VALUES ('flood', 'e2e 新增风险点', 'red', ST_SetSRID(ST_MakePoint(${at[0]}, ${at[1]}), 4326)) RETURNING id`);
    const id = Number(idText);
    await page.waitForFunction(([i]) => window.onemap.map.querySourceFeatures('onemap',
      { sourceLayer: 'risk_points', filter: ['==', ['id'], i] }).length > 0, [id], { timeout: LIVE_MS });
    const onMap = Date.now() - started;
    await page.waitForFunction(([n]) => Number(document.getElementById('count-risk_points-level-red').textContent
      .replace(/[^\d]/g, '')) === n, [red + 1], { timeout: LIVE_MS });
    console.log(`risk point ${id} added: on the map after ${onMap} ms, in the counts after ${Date.now() - started} ms`);
    assert.equal(await countOf('count-risk_points'), total + 1);
    assert.equal(await propertyOf('risk_points', id, 'name'), 'e2e 新增风险点');
    // Drawn, not only loaded.
    await b.waitIdle();
    const drawn = await page.evaluate(([i]) => window.onemap.map.queryRenderedFeatures({ layers: ['risk_points'] })
      .some((f) => f.id === i), [id]);
    assert.ok(drawn, `risk point ${id} is in the tiles but not drawn`);
    assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page reloaded');
    await b.screenshot('live-new-risk-point');
  });

  it('made no request off this machine and logged no error', () => {
    assert.ok(b.requests.some((u) => u.includes('/api/events')), 'the page did not open the event stream');
    assert.deepEqual(b.foreign, [], `requests to other hosts:\n${b.foreign.join('\n')}`);
    assert.deepEqual(b.errors, [], `errors in the browser:\n${b.errors.join('\n')}`);
  });
});

describe('control-room wall (/screen/)', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;
  let db;

  before(async () => {
    db = databaseURL();
    assert.ok(db, 'no database to write to');
    b = await openMap({ viewport: { width: 1920, height: 1080 } }, '/screen/');
    page = b.page;
    console.log(`/screen/ drawn after ${b.drawnMs} ms`);
    await page.waitForFunction(() => window.onemap.figures, null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('shows the key figures, equal to the server\'s counts, and follows a change', async () => {
    const figures = await page.evaluate(() => window.onemap.figures);
    const ids = figures.map((f) => f.id);
    // 网格员 only when the server counts people (wall.test.mjs); never from grids.
    // The grids' card gives way to the camera faults by township when the
    // column cannot hold both (src/screen/main.js); when shown, it counts.
    const faults = await page.locator('#figures [data-figure="faults"]').count();
    const want = ['major', 'risk_points', 'cameras', 'grids'].filter((id) => id !== 'grids' || !faults || ids.includes('grids'));
    assert.deepEqual(ids.filter((id) => id !== 'workers' && id !== 'overdue'), want, `figures ${ids}`);
    const fig = (id) => figures.find((f) => f.id === id);
    const layers = (await getJSON('/api/layers')).layers;
    const grids = layers.find((l) => l.id === 'grids').count;
    if (ids.includes('grids')) assert.equal(fig('grids').value.replace(/[^\d]/g, ''), String(grids), 'grids figure differs from /api/layers');
    const text = await page.locator('#figures').innerText();
    assert.match(text, /重大隐患/);
    assert.match(text, /视频在线率[\s\S]*%/);
    // The wall's clock reads in Chinese, 24-hour, whatever the browser's language.
    assert.match(await page.locator('#screen-clock').innerText(), /^\d{4}年\d{1,2}月\d{1,2}日.*\d{2}:\d{2}:\d{2}$/);
    await b.screenshot('screen');

    const online = () => page.evaluate(() => window.onemap.figures.find((f) => f.id === 'cameras')
      .parts.find((p) => p.key === 'online').count);
    const before = await online();
    assert.equal(fig('cameras').value, `${(100 * before / layers.find((l) => l.id === 'cameras').count).toFixed(1)}%`);
    sql(db, `UPDATE cameras SET status = 'fault' WHERE id = (SELECT min(id) FROM cameras WHERE status = 'online')`);
    await page.waitForFunction((n) => window.onemap.figures.find((f) => f.id === 'cameras')
      .parts.find((p) => p.key === 'online').count === n, before - 1, { timeout: LIVE_MS });
    console.log(`cameras online: ${before} → ${await online()} without a reload`);
  });

  it('is dark, read-only and clean', async () => {
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(11, 22, 32)');
    assert.equal(await page.evaluate(() => window.onemap.map.scrollZoom.isEnabled()), false, 'the wall map takes input');
    assert.equal(await page.locator('input, select, textarea').count(), 0, 'the wall has form controls');
    assert.deepEqual(b.foreign, [], `requests to other hosts:\n${b.foreign.join('\n')}`);
    assert.deepEqual(b.errors, [], `errors in the browser:\n${b.errors.join('\n')}`);
  });
});
