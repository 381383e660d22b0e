// End-to-end test of a feature edit from its card (src/command/edit.js):
// the demo's operator (狮山镇综治中心) opens a risk point of its township on
// the command map, edits its level in the card and saves; the card shows
// the new version, the database holds it, and the map's point follows (the
// change comes back through the live feed and the tiles).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseURL, openMap, sql, WAIT_MS } from './browser.mjs';

// The county seat of the demo county (武定县 狮山镇), lon/lat.
const SEAT = [102.4063, 25.5302];

describe('edit: an operator edits a risk point from its card', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;
  let db;

  before(async () => {
    db = databaseURL();
    assert.ok(db, 'no database: set ONEMAP_E2E_DATABASE_URL or run through scripts/e2e.sh');
    b = await openMap({ reducedMotion: 'reduce', signIn: { name: 'operator', password: 'onemap-demo' } });
    page = b.page;
  });
  after(async () => {
    await b?.close();
  });

  const propertyOf = (layer, id, name) => page.evaluate(([l, i, n]) => {
    const fs = window.onemap.map.querySourceFeatures('onemap', { sourceLayer: l, filter: ['==', ['id'], i] });
    return fs.length ? fs[0].properties[n] ?? null : undefined;
  }, [layer, id, name]);

  it('the level saved in the card is the map\'s', async () => {
    // A risk point of the operator's township near the county seat, alone
    // within 40 m so that a click hits it.
    const [[idText, lon, lat, level]] = sql(db, `WITH RECURSIVE sub AS (
        SELECT g.id FROM grids g JOIN accounts a ON a.grid_id = g.id WHERE a.name = 'operator'
        UNION ALL SELECT g.id FROM grids g JOIN sub ON g.parent_id = sub.id)
      SELECT r.id, ST_X(r.geom), ST_Y(r.geom), r.level FROM risk_points r WHERE r.grid_id IN (SELECT id FROM sub)
      AND NOT EXISTS (SELECT 1 FROM (SELECT geom FROM cameras UNION ALL SELECT geom FROM risk_points WHERE id <> r.id
        UNION ALL SELECT geom FROM households UNION ALL SELECT geom FROM stations) o
        WHERE ST_DWithin(o.geom::geography, r.geom::geography, 40))
      ORDER BY r.geom <-> ST_SetSRID(ST_MakePoint(${SEAT[0]}, ${SEAT[1]}), 4326) LIMIT 1`);
    const id = Number(idText);
    const next = level === 'red' ? 'blue' : 'red';
    await page.evaluate(([c]) => window.onemap.map.jumpTo({ center: c, zoom: 17 }), [[Number(lon), Number(lat)]]);
    await b.waitIdle();
    assert.equal(await propertyOf('risk_points', id, 'level'), level, `risk point ${id} is not in the tiles`);
    const px = await page.evaluate((c) => {
      const { map } = window.onemap;
      const r = map.getCanvas().getBoundingClientRect();
      const p = map.project(c);
      return { x: r.left + p.x, y: r.top + p.y };
    }, [Number(lon), Number(lat)]);
    // The click opens what is drawn within a few pixels (clicks.js): on a
    // loaded machine the source can hold the point before it is drawn.
    await page.waitForFunction(([i, c]) => {
      const { map } = window.onemap;
      const p = map.project(c);
      return map.queryRenderedFeatures([[p.x - 5, p.y - 5], [p.x + 5, p.y + 5]])
        .some((f) => f.sourceLayer === 'risk_points' && f.id === i);
    }, [id, [Number(lon), Number(lat)]], { timeout: WAIT_MS });
    const record = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/layers/risk_points/features/${id}`);
    await page.mouse.click(px.x, px.y);
    await record;
    const popup = page.locator('.maplibregl-popup');
    await popup.locator('button[data-action="edit"]').click();
    await popup.locator('form.om-edit select[name="level"]').selectOption(next);
    await popup.locator('form.om-edit input[name="__reason"]').fill('复核调整');
    const saved = page.waitForResponse((r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === `/api/layers/risk_points/features/${id}`);
    await popup.locator('button[data-action="edit-save"]').click();
    assert.equal((await saved).status(), 200);
    await popup.locator('.om-edit [role="status"]').waitFor();
    assert.match(await popup.locator('.om-edit [role="status"]').innerText(), /已保存/);
    const [[stored, version]] = sql(db, `SELECT level, version FROM risk_points WHERE id = ${id}`);
    assert.equal(stored, next);
    assert.ok(Number(version) >= 2);
    // The map follows: the point in the tiles has the new level.
    await page.waitForFunction(([i, want]) => {
      const fs = window.onemap.map.querySourceFeatures('onemap', { sourceLayer: 'risk_points', filter: ['==', ['id'], i] });
      return fs.length > 0 && fs[0].properties.level === want;
    }, [id, next], { timeout: WAIT_MS });
    await b.screenshot('edit-risk-point');
    assert.deepEqual(b.errors, []);
    assert.deepEqual(b.foreign, []);
  });
});
