// End-to-end test of the grid editor (/editor/) in headless Chromium against
// a running OneMap server, signed in as its demo planner (scripts/e2e.sh
// serves the demo accounts): draw a grid with snapping against its
// neighbours and save it; reshape a grid; split a grid and merge the pieces
// back; a stale save opens the conflict dialog; an overlapping save is
// refused with the overlap drawn in red; the result of a save shows in the
// viewport (1440×900); leaving unsaved edits asks first; errors read in
// Chinese; a merge sends the chosen grid and name; a commander and a viewer
// see a notice and cannot edit. The database is read with psql
// (browser.mjs sql) to check what was stored. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, databaseURL, openMap, sql } from './browser.mjs';

// The planner's session, for the requests the test makes from Node.
const planner = { name: 'planner', password: 'onemap-demo' };
const VIEWPORT = { width: 1440, height: 900 };
// ENGLISH matches what users should not read: two English words in a row
// (server or database text) or an ISO time.
const ENGLISH = /[A-Za-z]{2,}\s+[A-Za-z]{2,}|\d{4}-\d\d-\d\dT\d/;
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
  const dialogs = []; // "type: message" of every dialog (confirm, beforeunload), in order
  let dismissNext = false; // answer the next confirm() with "cancel"

  before(async () => {
    db = databaseURL();
    assert.ok(db, 'the database of the server under test (run through scripts/e2e.sh)');
    await signIn();
    const role = await api('GET', '/api/grids?parent=0');
    assert.equal(role.status, 200, 'the server lets its callers read grids');
    [[village]] = sql(db, `SELECT parent_id FROM grids WHERE level = 'group' GROUP BY parent_id
      HAVING count(*) >= 8 ORDER BY count(*) DESC, parent_id LIMIT 1`);
    kids = sql(db, `SELECT id FROM grids WHERE parent_id = ${Number(village)} ORDER BY id`).map((r) => Number(r[0]));
    b = await openMap({ reducedMotion: 'reduce', signIn: planner, viewport: VIEWPORT }, `/editor/?parent=${village}`);
    page = b.page;
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      const dismiss = dismissNext && d.type() === 'confirm';
      dismissNext = false;
      return dismiss ? d.dismiss() : d.accept();
    });
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

  // inView asserts that selector is shown wholly inside the viewport.
  async function inView(selector) {
    const box = await page.locator(selector).boundingBox();
    assert.ok(box && box.height > 0, `${selector} is shown`);
    assert.ok(box.y >= 0 && box.y + box.height <= VIEWPORT.height && box.x + box.width <= VIEWPORT.width,
      `${selector} at ${JSON.stringify(box)} lies inside the ${VIEWPORT.width}×${VIEWPORT.height} viewport`);
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
    // The merge dialog names the grids and lets the planner choose which
    // one the result is and its name.
    await page.click('#btn-merge');
    await page.waitForSelector('#merge-dialog[open]');
    const names = sql(db, `SELECT name FROM grids WHERE id IN (${pieces.join(',')})`).map((r) => r[0]);
    const text = await page.locator('#merge-dialog').textContent();
    for (const n of names) assert.ok(text.includes(n), `the merge dialog names ${n}: ${text}`);
    await page.check(`#merge-choices input[value="${g}"]`);
    await page.fill('#merge-name', 'e2e 合并后的小组');
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/grids/merge') && r.method() === 'POST');
    await page.click('#merge-ok');
    const body = (await sent).postDataJSON();
    assert.equal(body.name, 'e2e 合并后的小组', 'the merge sends the chosen name');
    assert.equal(body.ids[0], g, 'the chosen grid goes first: the others merge into it');
    await waitStatus(/已合并|失败|拒绝|冲突/);
    assert.match(await statusText(), /已合并为「e2e 合并后的小组」/);
    const [[merged, mergedName]] = sql(db, `SELECT grid_area_m2(geom), name FROM grids WHERE id = ${g}`);
    assert.ok(Math.abs(Number(merged) - Number(area)) / Number(area) < 1e-4, `merged ${merged} m², was ${area} m²`);
    assert.equal(mergedName, 'e2e 合并后的小组');
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
    const why = await page.locator('#conflict-text').textContent();
    assert.match(why, /已被 planner 于 .+ 修改，现为版本 \d+；你的修改基于版本 \d+/);
    assert.doesNotMatch(why, ENGLISH, 'the conflict reads in Chinese');
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
    const report = await page.locator('#import-report').textContent();
    assert.match(report, /^第 1 个要素/);
    assert.doesNotMatch(report, ENGLISH, 'the import report reads in Chinese');
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
    const problems = await page.locator('#problem-list').textContent();
    assert.match(problems, /与相邻网格重叠/);
    assert.doesNotMatch(problems + await statusText(), ENGLISH, 'the refusal reads in Chinese');
    await inView('#problems-title');
    await inView('#status');
    await b.waitIdle();
    await b.screenshot('editor-overlap');
    const [[after]] = sql(db, `SELECT version FROM grids WHERE id = ${e}`);
    assert.equal(Number(after), Number(version), 'the refused save wrote nothing');
    assert.deepEqual(b.foreign, [], 'no request left this machine');
    assert.deepEqual(b.errors.filter((x) => !/status of 4(12|22)/.test(x)), [], 'no console or page error');
  });

  it('shows the result of a save in the viewport, and history in Chinese', async () => {
    const g = kids[7];
    await open(g);
    await page.fill('#grid-form input[name=worker_name]', 'e2e 网格员');
    await page.click('#btn-save');
    await waitStatus(/已保存|失败|拒绝/);
    assert.match(await statusText(), /已保存/);
    await inView('#status');
    await inView('#btn-save');
    await b.screenshot('editor-saved');
    assert.equal(sql(db, `SELECT worker_name FROM grids WHERE id = ${g}`)[0][0], 'e2e 网格员');
    // Saved without a reason: the history says 修改, not the server's "update".
    await page.click('#btn-history');
    await page.waitForSelector('#history-section:not([hidden]) #history-list li');
    const history = await page.locator('#history-list').textContent();
    assert.match(history, /修改/);
    assert.doesNotMatch(history, /update|insert|create/);
    await page.click('#btn-history-close');
  });

  it('checks fields, saves with Enter and shows server errors in Chinese', async () => {
    const g = kids[7];
    const [[version]] = sql(db, `SELECT version FROM grids WHERE id = ${g}`);
    await open(g);
    await page.fill('#grid-form input[name=worker_phone]', 'abc');
    await page.fill('#grid-form input[name=population]', '1.5');
    await page.press('#grid-form input[name=name]', 'Enter');
    await waitStatus(/请先改正/);
    assert.match(await page.locator('#err-worker_phone').textContent(), /电话号码/);
    assert.match(await page.locator('#err-population').textContent(), /不小于 0 的整数/);
    assert.equal(await page.getAttribute('#grid-form input[name=worker_phone]', 'aria-invalid'), 'true');
    assert.equal(sql(db, `SELECT version FROM grids WHERE id = ${g}`)[0][0], version, 'nothing was sent');
    await inView('#status');
    await b.screenshot('editor-field-checks');
    // Fixed, Enter saves.
    await page.fill('#grid-form input[name=worker_phone]', '13800001234');
    await page.fill('#grid-form input[name=population]', '120');
    await page.press('#grid-form input[name=population]', 'Enter');
    await waitStatus(/已保存|失败|拒绝/);
    assert.match(await statusText(), /已保存/);
    assert.deepEqual(sql(db, `SELECT worker_phone, population FROM grids WHERE id = ${g}`)[0], ['13800001234', '120']);
    // A code another grid has: the server refuses it; the page says so in Chinese.
    const [[taken]] = sql(db, `SELECT code FROM grids WHERE id = ${kids[6]}`);
    await page.fill('#grid-form input[name=code]', taken);
    await page.evaluate(() => { document.getElementById('status').textContent = ''; }); // wait for this save's answer
    await page.click('#btn-save');
    await waitStatus(/已保存|失败|拒绝/);
    const text = await statusText();
    assert.match(text, /保存失败：.*编码/);
    assert.doesNotMatch(text, ENGLISH, `the error reads in Chinese: ${text}`);
    await inView('#status');
    await page.fill('#grid-form input[name=code]', sql(db, `SELECT code FROM grids WHERE id = ${g}`)[0][0]);
  });

  it('asks before unsaved edits are thrown away, and keeps them when cancelled', async () => {
    const [g, other] = [kids[7], kids[6]];
    const [[name]] = sql(db, `SELECT name FROM grids WHERE id = ${g}`);
    await open(g);
    await page.fill('#grid-form input[name=worker_name]', '未保存的网格员');
    for (const click of [`#grid-list li[data-id="${other}"] .ed-name`, '#crumbs button >> nth=0', `#grid-list li[data-id="${other}"] button:has-text("下级")`]) {
      if (!(await page.locator(click).count())) continue;
      const asked = dialogs.length;
      dismissNext = true;
      await page.click(click);
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.ok(dialogs.length > asked, `${click} asked`);
      assert.ok(dialogs.at(-1).includes(name), `the question names the grid: ${dialogs.at(-1)}`);
      assert.equal(await page.inputValue('#grid-form input[name=worker_name]'), '未保存的网格员', `${click} cancelled kept the edit`);
      assert.equal(await page.evaluate(() => window.onemapEditor.state.selected.id), g);
    }
    // Leaving the page asks too (beforeunload).
    const atUnload = dialogs.length;
    await open();
    assert.match(dialogs.slice(atUnload).join('\n'), /^beforeunload:/m, 'reloading with unsaved edits asked');
    // A drawing in progress asks too.
    await zoomTo([g, other]);
    await page.click('#btn-new');
    const c = await px(sql(db, `SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids WHERE id = ${g}`)[0].map(Number));
    await page.mouse.click(c[0], c[1]);
    await page.mouse.click(c[0] + 30, c[1]);
    dismissNext = true;
    const before = dialogs.length;
    await page.click(`#grid-list li[data-id="${other}"] .ed-name`);
    assert.equal(dialogs.length, before + 1, 'leaving a drawing asked');
    assert.match(dialogs.at(-1), /新建的网格有未保存的修改/);
    assert.equal(await page.evaluate(() => window.onemapEditor.state.mode), 'draw', 'cancelled: still drawing');
    // Accepted: the other grid opens.
    await page.click(`#grid-list li[data-id="${other}"] .ed-name`);
    await waitStatus(/已选择/);
    assert.equal(await page.evaluate(() => window.onemapEditor.state.mode), 'idle');
    assert.deepEqual(b.foreign, [], 'no request left this machine');
    assert.deepEqual(b.errors.filter((x) => !/status of 4(09|12|22)/.test(x)), [], 'no console or page error but the refused saves');
  });

  it('a session ended meanwhile (signed out in another tab) asks to sign in again and keeps the edit', async () => {
    const g = kids[7];
    await open(g);
    const errorsBefore = b.errors.length;
    await page.fill('#grid-form input[name=worker_name]', '重新登录后保存');
    await page.evaluate(async () => {
      const s = await (await fetch('/api/session')).json();
      await fetch('/api/session', { method: 'DELETE', headers: { 'X-CSRF-Token': s.csrf } });
    });
    await page.click('#btn-save');
    await page.waitForSelector('#role-notice:not([hidden])');
    assert.match(await page.locator('#role-notice').textContent(), /登录已过期/);
    await waitStatus(/登录已过期/);
    assert.equal(await page.inputValue('#grid-form input[name=worker_name]'), '重新登录后保存', 'the edit stays');
    await page.fill('#sign-in-form input[name=name]', planner.name);
    await page.fill('#sign-in-form input[name=password]', planner.password);
    await page.click('#btn-sign-in');
    await waitStatus(/已重新登录/);
    assert.equal(await page.isVisible('#role-notice'), false);
    await page.click('#btn-save');
    await waitStatus(/已保存|失败|拒绝/);
    assert.match(await statusText(), /已保存/);
    assert.equal(sql(db, `SELECT worker_name FROM grids WHERE id = ${g}`)[0][0], '重新登录后保存');
    // The only errors since: the save refused after the sign-out.
    assert.deepEqual(b.errors.slice(errorsBefore).filter((x) => !/status of 403/.test(x)), [], 'no other console or page error');
  });

  // asRole opens the editor in a browser of its own, signed in as who.
  async function asRole(who, pagePath) {
    const r = await openMap({ reducedMotion: 'reduce', signIn: { name: who, password: 'onemap-demo' }, viewport: VIEWPORT }, pagePath);
    await r.page.waitForFunction(() => document.body.dataset.state === 'ready');
    return r;
  }

  it('a commander sees the grids, a notice and no way to edit', async () => {
    const r = await asRole('commander', `/editor/?parent=${village}&grid=${kids[7]}`);
    try {
      const p = r.page;
      assert.match(await p.locator('#who-name').textContent(), /指挥/);
      assert.ok(await p.isVisible('#role-notice'), 'the notice shows');
      assert.match(await p.locator('#role-notice').textContent(), /只能查看.*规划员和管理员/s);
      assert.ok(await p.isVisible('#sign-in-form'), 'with a sign-in form');
      for (const sel of ['#btn-new', '#btn-shape', '#btn-split', '#btn-delete', '#btn-import',
        '#grid-form input[name=name]', `#grid-list li[data-id="${kids[7]}"] input[type=checkbox]`]) {
        assert.ok(await p.isDisabled(sel), `${sel} is disabled`);
      }
      assert.ok(!(await p.isVisible('#btn-save')), 'no save button');
      assert.ok(await p.isVisible(`#grid-list li[data-id="${kids[7]}"]`), 'the grids are listed');
      await r.screenshot('editor-commander');
      assert.deepEqual(r.foreign, []);
      assert.deepEqual(r.errors, [], 'no console or page error');
    } finally {
      await r.close();
    }
  });

  it('a viewer is told the editor is not for them and may sign in as a planner', async () => {
    const r = await asRole('viewer', '/editor/');
    try {
      const p = r.page;
      assert.match(await p.locator('#who-name').textContent(), /网格员/);
      assert.match(await p.locator('#role-notice').textContent(), /不能使用网格编辑/);
      assert.ok(await p.isVisible('#map-notice'), 'the map says why it shows no grids');
      assert.ok(!(await p.isVisible('#list-section')), 'no grid list');
      assert.ok(!r.requests.some((u) => u.includes('/api/grids')), 'the page asks nothing it may not read');
      assert.doesNotMatch(await p.locator('#side').textContent(), ENGLISH);
      await r.screenshot('editor-viewer');
      assert.deepEqual(r.errors, [], 'no console or page error');
      // Signing in as the planner here opens the editor.
      await p.fill('#sign-in-form input[name=name]', 'planner');
      await p.fill('#sign-in-form input[name=password]', 'onemap-demo');
      await Promise.all([p.waitForNavigation(), p.click('#btn-sign-in')]);
      await p.waitForFunction(() => document.body.dataset.state === 'ready');
      assert.match(await p.locator('#who-name').textContent(), /规划员/);
      assert.ok(!(await p.isVisible('#role-notice')), 'no notice for a planner');
      assert.ok(await p.isVisible('#grid-list li'), 'the grids are listed');
      assert.deepEqual(r.foreign, []);
    } finally {
      await r.close();
    }
  });
});
