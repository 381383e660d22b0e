// End-to-end test of the grid editor (/editor/) in headless Chromium against
// a running OneMap server, signed in as its demo planner (scripts/e2e.sh
// serves the demo accounts): draw a grid with snapping against its
// neighbours and save it; reshape a grid; split a grid and merge the pieces
// back; a stale save opens the conflict dialog; an overlapping save is
// refused with the overlap drawn in red. The database is read with psql
// (browser.mjs sql) to check what was stored. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, databaseURL, openMap, sql } from './browser.mjs';

// The planner's session, for the requests the test makes from Node.
const planner = { name: 'planner', password: 'onemap-demo' };
let session = { cookie: '', csrf: '' };

async function signIn() {
  const res = await fetch(new URL('/api/session', BASE), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(planner),
  });
  assert.equal(res.status, 200, `sign in as the demo planner: ${await res.clone().text()}`);
  session = { cookie: res.headers.get('set-cookie').split(';')[0], csrf: (await res.json()).csrf };
}

async function api(method, path, body, headers = {}) {
  const res = await fetch(new URL(path, BASE), {
    method,
    headers: { 'Content-Type': 'application/json', Cookie: session.cookie, 'X-CSRF-Token': session.csrf, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, etag: res.headers.get('ETag') };
}

describe('grid editor', { timeout: 15 * 60_000 }, () => {
  let b;
  let page;
  let db;
  let village; // a village with many groups
  let kids; // its groups, by id

  before(async () => {
    db = databaseURL();
    assert.ok(db, 'the database of the server under test (run through scripts/e2e.sh)');
    await signIn();
    const role = await api('GET', '/api/grids?parent=0');
    assert.equal(role.status, 200, 'the server lets its callers read grids');
    [[village]] = sql(db, `SELECT parent_id FROM grids WHERE level = 'group' GROUP BY parent_id
      HAVING count(*) >= 8 ORDER BY count(*) DESC, parent_id LIMIT 1`);
    kids = sql(db, `SELECT id FROM grids WHERE parent_id = ${Number(village)} ORDER BY id`).map((r) => Number(r[0]));
    b = await openMap({ reducedMotion: 'reduce', signIn: planner }, `/editor/?parent=${village}`);
    page = b.page;
    page.on('dialog', (d) => d.accept());
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
  });
  after(async () => {
    await b?.close();
  });

  // open shows the village with grid id selected (if any).
  async function open(id) {
    await page.goto(new URL(`/editor/?parent=${village}${id ? `&grid=${id}` : ''}`, BASE).href);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    await b.waitIdle();
  }

  // zoomTo fits the map to the grids' bounds.
  async function zoomTo(ids, padding = 80) {
    const [[x0, y0, x1, y1]] = sql(db, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
      FROM (SELECT ST_Extent(geom)::geometry AS e FROM grids WHERE id IN (${ids.map(Number).join(',')})) s`);
    await page.evaluate(([bb, p]) => window.onemap.map.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: p, duration: 0 }),
      [[x0, y0, x1, y1].map(Number), padding]);
    await b.waitIdle();
  }

  const px = (lngLat) => page.evaluate((c) => {
    const p = window.onemap.map.project(c);
    return [p.x, p.y];
  }, lngLat);

  async function statusText() {
    return page.locator('#status').textContent();
  }

  async function waitStatus(re) {
    await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), re.source);
  }

  async function drag(from, to) {
    await page.mouse.move(from[0], from[1]);
    await page.mouse.down();
    const steps = 12;
    for (let i = 1; i <= steps; i++) {
      await page.mouse.move(from[0] + (to[0] - from[0]) * i / steps, from[1] + (to[1] - from[1]) * i / steps);
    }
    await page.mouse.up();
  }

  it('draws a grid snapped to its neighbours and saves it', async () => {
    const a = kids[0];
    const [[code, name, area]] = sql(db, `SELECT code, name, grid_area_m2(geom) FROM grids WHERE id = ${a}`);
    const ring = sql(db, `SELECT ST_X(d.geom), ST_Y(d.geom) FROM grids g, ST_DumpPoints(g.geom) d
      WHERE g.id = ${a} AND d.path[2] = 1 ORDER BY d.path[3]`).map((r) => r.map(Number));
    // Make room: the grid goes, leaving a hole among its neighbours.
    const cur = await api('GET', `/api/grids/${a}`);
    const del = await api('DELETE', `/api/grids/${a}`, { reason: 'e2e' }, { 'If-Match': cur.etag });
    assert.equal(del.status, 204, JSON.stringify(del.body));
    await open();
    await zoomTo([a].concat(kids.slice(1, 2)), 60);
    await zoomTo([kids[1]], 0); // refit below
    await page.evaluate((r) => {
      const xs = r.map((c) => c[0]);
      const ys = r.map((c) => c[1]);
      window.onemap.map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 60, duration: 0 });
    }, ring);
    await b.waitIdle();
    await page.click('#btn-new');
    // Click each corner of the hole 4 px off: the editor snaps it onto the
    // neighbours' vertex. Corners closer than 18 px to the last one clicked
    // are left out (the save then clips what would overlap).
    let last = null;
    const clicked = [];
    for (const c of ring.slice(0, -1)) {
      const p = await px(c);
      if (last && Math.hypot(p[0] - last[0], p[1] - last[1]) < 18) continue;
      if (clicked.length && Math.hypot(p[0] - clicked[0][0], p[1] - clicked[0][1]) < 18) continue;
      await page.mouse.click(p[0] + 4, p[1] - 3);
      last = p;
      clicked.push(p);
      if (clicked.length === 3) {
        // Undo and redo while drawing: the last corner goes and comes back.
        const count = () => page.evaluate(() => window.onemapEditor.draw.getSnapshot()
          .find((f) => f.properties.mode === 'polygon' && f.properties.currentlyDrawing)?.geometry.coordinates[0].length ?? 0);
        const before = await count();
        await page.click('#btn-undo');
        const undone = await count();
        await page.click('#btn-redo');
        const redone = await count();
        assert.ok(undone < before && redone === before, `corners while drawing: ${before}, undo ${undone}, redo ${redone}`);
      }
    }
    assert.ok(clicked.length >= 3, `clicked ${clicked.length} corners`);
    await page.mouse.click(clicked[0][0] + 2, clicked[0][1] + 2); // close on the first corner
    await page.waitForFunction(() => window.onemapEditor.state.drawId && window.onemapEditor.draw.getMode() === 'select');
    await page.fill('#grid-form input[name=name]', `${name}（重绘）`);
    await page.fill('#grid-form input[name=code]', code);
    await page.fill('#grid-form input[name=reason]', 'e2e 重绘');
    await page.check('#clip-siblings');
    await b.screenshot('editor-draw');
    await page.click('#btn-save');
    await waitStatus(/已保存|失败|拒绝/);
    assert.match(await statusText(), /已保存/);
    const [[id, newArea, snapped, total]] = sql(db, `SELECT g.id, grid_area_m2(g.geom),
        (SELECT count(*) FROM ST_DumpPoints(g.geom) d WHERE EXISTS (SELECT 1 FROM grids n, ST_DumpPoints(n.geom) nd
           WHERE n.id <> g.id AND (n.parent_id = g.parent_id OR n.id = g.parent_id) AND n.geom && g.geom
             AND ST_Equals(nd.geom, d.geom))),
        ST_NPoints(g.geom)
      FROM grids g WHERE g.code = '${code}'`);
    assert.ok(Math.abs(Number(newArea) - Number(area)) / Number(area) < 0.05,
      `the redrawn grid has ${newArea} m², the old one had ${area} m²`);
    // Every clicked corner lies exactly on a neighbour's vertex.
    assert.ok(Number(snapped) >= clicked.length, `${snapped} of ${total} vertices are a neighbour's or the parent's, ${clicked.length} clicked`);
    const [[overlaps]] = sql(db, `SELECT count(*) FROM grids a JOIN grids n ON n.parent_id = a.parent_id AND n.id <> a.id
      WHERE a.id = ${Number(id)} AND grid_area_m2(ST_Intersection(a.geom, n.geom)) >= 1`);
    assert.equal(Number(overlaps), 0, 'the redrawn grid overlaps no neighbour');
    kids[0] = Number(id);
  });

  it('reshapes a grid by dragging a vertex', async () => {
    const g = kids[2];
    const [[x, y, cx, cy, area, version]] = sql(db, `SELECT ST_X(d.geom), ST_Y(d.geom),
        ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)), grid_area_m2(g.geom), g.version
      FROM grids g, ST_DumpPoints(g.geom) d WHERE g.id = ${g} AND d.path[3] = 1`);
    await open(g);
    await zoomTo([g]);
    await page.click('#btn-shape');
    await page.waitForFunction(() => window.onemapEditor.state.mode === 'reshape');
    const from = await px([Number(x), Number(y)]);
    const c = await px([Number(cx), Number(cy)]);
    await drag(from, [from[0] + (c[0] - from[0]) * 0.3, from[1] + (c[1] - from[1]) * 0.3]);
    // Undo puts the vertex back, redo moves it again.
    const first = () => page.evaluate(() => {
      const { state, draw } = window.onemapEditor;
      return draw.getSnapshotFeature(state.drawId).geometry.coordinates[0][0];
    });
    const moved = await first();
    assert.ok(Math.abs(moved[0] - Number(x)) + Math.abs(moved[1] - Number(y)) > 1e-6, `the vertex did not move: ${moved}`);
    await page.click('#btn-undo');
    const undone = await first();
    assert.ok(Math.abs(undone[0] - Number(x)) + Math.abs(undone[1] - Number(y)) < 1e-8, `undo left the vertex at ${undone}, not ${x},${y}`);
    await page.click('#btn-redo');
    assert.deepEqual(await first(), moved, 'redo moves the vertex again');
    await page.fill('#grid-form input[name=reason]', 'e2e 调整边界');
    await page.click('#btn-save');
    await waitStatus(/已保存|失败|拒绝/);
    assert.match(await statusText(), /已保存/);
    const [[newArea, newVersion]] = sql(db, `SELECT grid_area_m2(geom), version FROM grids WHERE id = ${g}`);
    assert.equal(Number(newVersion), Number(version) + 1);
    assert.ok(Number(newArea) < Number(area) - 1, `area ${newArea} m², was ${area} m²: the drag moved the vertex inwards`);
    await b.screenshot('editor-reshape');
  });

  it('splits a grid along a drawn line and merges the pieces back', async () => {
    const g = kids[3];
    const [[x0, y0, x1, y1, cy, area]] = sql(db, `SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom),
      ST_Y(ST_PointOnSurface(geom)), grid_area_m2(geom) FROM grids WHERE id = ${g}`);
    await open(g);
    await zoomTo([g], 120);
    await page.click('#btn-split');
    const w = Number(x1) - Number(x0);
    const left = await px([Number(x0) - w * 0.15, Number(cy)]);
    const right = await px([Number(x1) + w * 0.15, Number(cy)]);
    await page.mouse.click(left[0], left[1]);
    await page.mouse.click(right[0], right[1]);
    await page.mouse.click(right[0], right[1]); // a second click on the last point ends the line
    await waitStatus(/已分割|失败|拒绝/);
    assert.match(await statusText(), /已分割为 \d+ 个网格/);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    const pieces = sql(db, `SELECT id FROM grids WHERE parent_id = ${Number(village)} AND (id = ${g} OR id > ${Math.max(...kids)}) ORDER BY id`)
      .map((r) => Number(r[0]));
    assert.ok(pieces.length >= 2, `pieces ${pieces}`);
    await b.screenshot('editor-split');
    for (const id of pieces) await page.check(`#grid-list li[data-id="${id}"] input[type=checkbox]`);
    assert.deepEqual(await page.evaluate(() => [...window.onemapEditor.state.merge].sort((x, y) => x - y)), pieces);
    await page.click('#btn-merge');
    await waitStatus(/已合并|失败|拒绝|冲突/);
    assert.match(await statusText(), /已合并/);
    const [[merged]] = sql(db, `SELECT grid_area_m2(geom) FROM grids WHERE id = ${g}`);
    assert.ok(Math.abs(Number(merged) - Number(area)) / Number(area) < 1e-4, `merged ${merged} m², was ${area} m²`);
    await b.screenshot('editor-merge');
  });

  it('a stale save opens the conflict dialog', async () => {
    const g = kids[4];
    await open(g);
    await page.fill('#grid-form input[name=name]', '我的名字');
    // Meanwhile somebody else saves the grid.
    const cur = await api('GET', `/api/grids/${g}`);
    const other = await api('PATCH', `/api/grids/${g}`, { properties: { name: '他人修改' } }, { 'If-Match': cur.etag });
    assert.equal(other.status, 200);
    await page.click('#btn-save');
    await page.waitForSelector('#conflict[open]');
    const text = await page.locator('#conflict').textContent();
    assert.match(text, /他人修改/);
    assert.match(text, /我的名字/);
    await b.screenshot('editor-conflict');
    const [[name]] = sql(db, `SELECT name FROM grids WHERE id = ${g}`);
    assert.equal(name, '他人修改', 'the stale save wrote nothing');
    await page.click('#conflict-reload');
    await waitStatus(/已载入当前版本/);
    assert.equal(await page.inputValue('#grid-form input[name=name]'), '他人修改');
  });

  it('two quick clicks select the second grid, however late the first answer', async () => {
    const [first, second] = [kids[5], kids[6]];
    await open();
    const [[name]] = sql(db, `SELECT name FROM grids WHERE id = ${second}`);
    // The first grid's answer is held until the second one is shown.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    let answered;
    const firstAnswered = new Promise((resolve) => { answered = resolve; });
    const url = new URL(`/api/grids/${first}`, BASE).href;
    await page.route(url, async (route) => {
      await held;
      await route.continue();
      answered();
    });
    try {
      const done = page.waitForResponse(url);
      await page.click(`#grid-list li[data-id="${first}"] .ed-name`);
      await page.click(`#grid-list li[data-id="${second}"] .ed-name`);
      await waitStatus(new RegExp(`已选择 ${name}`));
      release();
      await firstAnswered;
      await done;
      // Let the page handle the late answer, then read the form.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
    } finally {
      release();
      await page.unroute(url);
    }
    assert.equal(await page.inputValue('#grid-form input[name=name]'), name, 'the form shows the grid clicked last');
    assert.match(await statusText(), new RegExp(`已选择 ${name}`));
    assert.equal(await page.getAttribute(`#grid-list li[data-id="${second}"]`, 'aria-selected'), 'true');
    assert.equal(await page.getAttribute(`#grid-list li[data-id="${first}"]`, 'aria-selected'), 'false');
  });

  it('exports a grid and imports the file again', async () => {
    const g = kids[1];
    const [[code, area]] = sql(db, `SELECT code, grid_area_m2(geom) FROM grids WHERE id = ${g}`);
    await open();
    await page.click('.ed-io summary');
    await page.selectOption('#export-format', 'geojson');
    const href = await page.getAttribute('#export-link', 'href');
    assert.match(href, new RegExp(`format=geojson&parent=${village}`));
    const file = await (await fetch(new URL(`/api/grids/export?format=geojson&parent=${g}`, BASE))).text();
    const cur = await api('GET', `/api/grids/${g}`);
    assert.equal((await api('DELETE', `/api/grids/${g}`, {}, { 'If-Match': cur.etag })).status, 204);
    await page.setInputFiles('#import-file', { name: 'grid.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(file) });
    await page.click('#btn-import');
    await waitStatus(/已导入|导入失败|拒绝/);
    assert.match(await statusText(), /已导入 1 个网格/);
    const [[n, newArea]] = sql(db, `SELECT count(*), max(grid_area_m2(geom)) FROM grids WHERE code = '${code}'`);
    assert.equal(Number(n), 1);
    assert.ok(Math.abs(Number(newArea) - Number(area)) / Number(area) < 1e-6, `imported ${newArea} m², exported ${area} m²`);
    await b.screenshot('editor-import');
  });

  it('an overlapping save is refused with the overlap drawn', async () => {
    // Two neighbours of the village; a vertex of one on their border is
    // dragged deep into the other.
    const [[e, f]] = sql(db, `SELECT a.id, b.id FROM grids a JOIN grids b ON a.parent_id = b.parent_id AND a.id <> b.id
      WHERE a.parent_id = ${Number(village)} AND a.id IN (${kids.slice(5).join(',')})
        AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0.002 ORDER BY a.id, b.id LIMIT 1`);
    const [[x, y, fx, fy, version]] = sql(db, `SELECT ST_X(d.geom), ST_Y(d.geom), ST_X(ST_PointOnSurface(b.geom)),
        ST_Y(ST_PointOnSurface(b.geom)), a.version
      FROM grids a, grids b, ST_DumpPoints(a.geom) d
      WHERE a.id = ${e} AND b.id = ${f} AND d.path[2] = 1 AND d.path[3] > 1 AND ST_Intersects(d.geom, b.geom)
      ORDER BY d.path[3] LIMIT 1`);
    await open(Number(e));
    await zoomTo([Number(e), Number(f)]);
    await page.click('#btn-shape');
    await page.waitForFunction(() => window.onemapEditor.state.mode === 'reshape');
    const from = await px([Number(x), Number(y)]);
    const to = await px([Number(fx), Number(fy)]);
    await drag(from, [from[0] + (to[0] - from[0]) * 0.7, from[1] + (to[1] - from[1]) * 0.7]);
    await page.click('#btn-save');
    await waitStatus(/已保存|失败|拒绝/);
    assert.match(await statusText(), /保存被拒绝/);
    await page.waitForSelector('#problems:not([hidden])');
    const drawn = await page.evaluate(async () => {
      const data = await window.onemap.map.getSource('ed-problems').getData();
      return data.features.map((x) => ({ kind: x.properties.kind, with: x.properties.with, type: x.geometry.type }));
    });
    assert.ok(drawn.some((p) => p.kind === 'overlap' && p.with === Number(f) && /Polygon/.test(p.type)),
      `drawn problems ${JSON.stringify(drawn)}`);
    await b.waitIdle();
    await b.screenshot('editor-overlap');
    const [[after]] = sql(db, `SELECT version FROM grids WHERE id = ${e}`);
    assert.equal(Number(after), Number(version), 'the refused save wrote nothing');
    assert.deepEqual(b.foreign, [], 'no request left this machine');
    assert.deepEqual(b.errors.filter((x) => !/status of 4(12|22)/.test(x)), [], 'no console or page error');
  });
});
