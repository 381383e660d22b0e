// End-to-end test of the commander's tools in headless Chromium against a
// running OneMap server (ONEMAP_E2E_URL, a role that sees every layer, as
// map.test.mjs): the search box (a township by name, a point by its
// coordinates), the grid card with its statistics, breadcrumb and drill-down,
// a clustered point's card, "what's around here" from a right-click with its
// counts checked against /api/around fetched directly, the CSV export, the
// keyboard ("/" and Escape), no request off this machine and no console
// error. The browser prefers reduced motion, so the map jumps instead of
// flying. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { getJSON, openMap } from './browser.mjs';
import { BOM, parseCSV } from '../src/csv.js';
import { CSV_HEADER } from '../src/around.js';

// The county seat of the demo county (武定县 狮山镇), lon/lat.
const SEAT = { lng: 102.4063, lat: 25.5302 };
const DMS = `102°24'23"E 25°31'49"N`;

describe('commander: search, cards and what is around', { timeout: 10 * 60_000 }, () => {
  let b; // the browser session of openMap
  let page;

  before(async () => {
    b = await openMap({ reducedMotion: 'reduce' });
    page = b.page;
  });
  after(async () => {
    await b?.close();
  });

  // search types q into the box (focused with "/"), replacing what is there.
  async function search(q) {
    await page.locator('#map canvas').focus();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'search-input', '"/" focuses the search box');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(q);
  }

  // closeAll presses Escape until no popup, panel or list is open.
  async function closeAll() {
    for (let i = 0; i < 5; i++) {
      const open = await page.evaluate(() => !!document.querySelector('.maplibregl-popup') ||
        !document.getElementById('around').hidden || !document.getElementById('search-results').hidden);
      if (!open) return;
      await page.keyboard.press('Escape');
    }
    assert.fail('Escape did not close the popup, the panel and the list');
  }

  const card = () => page.locator('.maplibregl-popup .om-card');

  it('search "狮山镇" flies to the township and opens its card with statistics', async () => {
    const expected = await getJSON(`/api/search?q=${encodeURIComponent('狮山镇')}&limit=20`);
    const town = expected.results[0];
    assert.equal(town.layer, 'grids', 'the whole match comes first');
    const zoomBefore = await page.evaluate(() => window.onemap.map.getZoom());

    await search('狮山镇');
    const options = page.locator('#search-results [role="option"]');
    // The answer to the whole text, not to a prefix typed on the way.
    await page.waitForFunction((q) => {
      const list = document.getElementById('search-results');
      return list.dataset.query === q && !list.hasAttribute('aria-busy');
    }, '狮山镇');
    assert.equal(await options.count(), expected.results.length);
    const listed = await options.evaluateAll((els) => els.map((el) => `${el.dataset.layer}/${el.dataset.id}`));
    assert.deepEqual(listed, expected.results.map((r) => `${r.layer}/${r.id}`), 'the list is the server\'s answer, in order');
    assert.match(await options.first().innerText(), /狮山镇[\s\S]*网格 · 乡镇[\s\S]*532329101000/);
    await b.screenshot('search-list');

    await page.keyboard.press('Enter');
    const side = page.locator('#grid-side');
    await side.locator(`.om-stats[data-stats-for="${town.id}"]`).waitFor();
    await b.waitIdle();
    assert.equal(await page.locator('#search-results').isHidden(), true, 'the list closes');

    // The map shows the township's box, zoomed in from the county.
    const view = await page.evaluate(() => {
      const { map } = window.onemap;
      return { zoom: map.getZoom(), bounds: map.getBounds().toArray().flat() };
    });
    const [w, s, e, n] = town.bbox;
    const slack = 0.01;
    assert.ok(view.zoom > zoomBefore, `zoom ${view.zoom} not above ${zoomBefore}`);
    assert.ok(view.bounds[0] <= w + slack && view.bounds[1] <= s + slack && view.bounds[2] >= e - slack && view.bounds[3] >= n - slack,
      `view ${view.bounds} does not hold the township ${town.bbox}`);
    assert.ok(view.bounds[2] - view.bounds[0] < 3 * (e - w), 'view is about the township, not the county');

    // The card: breadcrumb; the grid's statistics as /api/stats/grids says
    // and its children in the side panel (item 6 of issue 18: the card no
    // longer covers the township).
    const stats = await getJSON(`/api/stats/grids/${town.id}`);
    assert.equal(await card().getAttribute('data-layer'), 'grids');
    assert.equal(await card().getAttribute('data-id'), String(town.id));
    assert.match(await card().innerText(), /狮山镇/);
    assert.deepEqual(await card().locator('.om-crumbs li').allInnerTexts(), ['武定县', '狮山镇']);
    assert.equal(await card().locator('.om-stats, .om-children').count(), 0, 'the statistics are not in the card');
    assert.equal(await side.getAttribute('data-grid'), String(town.id));
    assert.match(await side.locator('#grid-side-title').innerText(), /狮山镇/);
    const text = await side.innerText();
    for (const [layer, s] of Object.entries(stats.grid.stats)) {
      const row = side.locator(`tr[data-stat-layer="${layer}"]`);
      assert.equal(await row.getAttribute('data-total'), String(s.total), `${layer} total`);
      for (const [key, count] of Object.entries(s.count)) {
        if (count) assert.equal(await row.locator(`.om-chip[data-key="${key}"]`).getAttribute('data-count'), String(count), `${layer} ${key}`);
      }
    }
    assert.match(text, /在线/);
    const kids = side.locator('.om-children button[data-grid-id]');
    assert.equal(await kids.count(), stats.children.length);
    // Ranked by risk: the most 重大 (hazards and households) first, then 较大 …
    const risk = (c) => ['red', 'orange', 'yellow', 'blue'].map((l) =>
      (c.stats.risk_points?.count?.[l] ?? 0) + (c.stats.households?.count?.[l] ?? 0));
    const ranked = await kids.evaluateAll((els) => els.map((el) => Number(el.dataset.gridId)));
    const byId = new Map(stats.children.map((c) => [c.id, c]));
    for (let i = 1; i < ranked.length; i++) {
      const [a, z] = [risk(byId.get(ranked[i - 1])), risk(byId.get(ranked[i]))];
      const k = a.findIndex((v, j) => v !== z[j]);
      assert.ok(k < 0 || a[k] > z[k], `child ${i} (${ranked[i]}: ${z}) ranks above child ${i - 1} (${ranked[i - 1]}: ${a})`);
    }
    // Levels as coloured badges, as many as the child holds.
    const top = byId.get(ranked[0]);
    const red = side.locator(`li[data-grid-id="${ranked[0]}"] .om-badge[data-level="red"]`);
    if (risk(top)[0] > 0) {
      assert.equal(await red.getAttribute('data-count'), String(risk(top)[0]));
      assert.notEqual(await red.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgba(0, 0, 0, 0)');
    }
    // The side panel leaves the card and most of the township in view.
    const box = await side.boundingBox();
    const vp = page.viewportSize();
    assert.ok(box.width <= vp.width * 0.3, `the panel is ${box.width} px wide of ${vp.width}`);
    await b.screenshot('search-township');

    // Drill down to the riskiest village from the panel, then back up with the breadcrumb.
    const child = byId.get(ranked[0]);
    await kids.first().click();
    await side.locator(`.om-stats[data-stats-for="${child.id}"]`).waitFor();
    await b.waitIdle();
    assert.deepEqual(await card().locator('.om-crumbs li').allInnerTexts(), ['武定县', '狮山镇', child.name]);
    const childStats = await getJSON(`/api/stats/grids/${child.id}`);
    for (const [layer, s] of Object.entries(childStats.grid.stats)) {
      assert.equal(await side.locator(`tr[data-stat-layer="${layer}"]`).getAttribute('data-total'), String(s.total));
    }
    await b.screenshot('drill-down');
    await card().locator('.om-crumbs button', { hasText: '狮山镇' }).click();
    await side.locator(`.om-stats[data-stats-for="${town.id}"]`).waitFor();
    // Closing the card closes its panel.
    await page.keyboard.press('Escape');
    await side.waitFor({ state: 'hidden' });
  });

  it('coordinates from AMap or WeChat (GCJ-02) name the grid they are in once the box is told so', async () => {
    await closeAll();
    // WGS-84 (102.4017, 25.5371) is in 东岳社区第二居民小组; its GCJ-02 form,
    // read as WGS-84, lands in another group.
    const gcj = '102.403312,25.534293';
    const right = await getJSON('/api/locate?lon=102.4017&lat=25.5371');
    const wrong = await getJSON('/api/locate?lon=102.403312&lat=25.534293');
    const group = right.grids.at(-1).name;
    assert.notEqual(wrong.grids.at(-1).name, group, 'the GCJ-02 numbers read as WGS-84 are elsewhere');
    assert.equal(await page.locator('#search-crs').isHidden(), true, 'no system to pick before coordinates are typed');

    await search(gcj);
    const crs = page.locator('#search-crs');
    await crs.waitFor({ state: 'visible' });
    const answered = page.waitForResponse((r) => r.url().includes('/api/search?') && r.url().includes('crs=gcj02'));
    await crs.selectOption('gcj02');
    const resp = await answered;
    assert.equal(resp.headers()['content-crs'], '<http://www.opengis.net/def/crs/OGC/1.3/CRS84>');
    await page.waitForFunction((g) => [...document.querySelectorAll('#search-results [role="option"][data-layer="grids"]')]
      .some((li) => li.textContent.includes(g)), group);
    await page.keyboard.press('Enter');
    const pointCard = page.locator('.maplibregl-popup .om-card[data-point]');
    await pointCard.waitFor();
    assert.equal((await pointCard.locator('.om-crumbs li').allInnerTexts()).at(-1), group);
    await b.screenshot('coordinates-gcj02');
    await crs.selectOption('');
    await closeAll();
  });

  it('typing coordinates flies there and shows the chain of grids', async () => {
    await closeAll();
    const expected = await getJSON(`/api/search?q=${encodeURIComponent(DMS)}`);
    assert.ok(Array.isArray(expected.point), 'the server reads the DMS text as a point');
    const chain = await getJSON(`/api/locate?lon=${expected.point[0]}&lat=${expected.point[1]}`);
    assert.ok(chain.grids.length >= 3, 'the point lies in the county, a township and a village at least');

    await search(DMS);
    await page.keyboard.press('Enter');
    const pointCard = page.locator('.maplibregl-popup .om-card[data-point]');
    await pointCard.waitFor();
    await b.waitIdle();
    const names = chain.grids.map((g) => g.name);
    assert.deepEqual(await pointCard.locator('.om-crumbs li').allInnerTexts(), names);
    // The list shows the point and the same chain, with the grid workers.
    const options = await page.locator('#search-results [role="option"][data-layer="grids"]').allInnerTexts();
    assert.equal(options.length, names.length);
    options.forEach((t, i) => assert.ok(t.includes(names[i]), `option ${i}: ${t}`));
    const last = chain.grids.at(-1);
    if (last.worker_name) assert.ok((await pointCard.innerText()).includes(last.worker_name));
    // The point is in the middle of the map that the left column leaves clear.
    const seen = await page.evaluate((p) => {
      const { map } = window.onemap;
      const { x, y } = map.project(p);
      const left = document.getElementById('left').getBoundingClientRect().right;
      const { width, height } = map.getCanvas().getBoundingClientRect();
      return { x, y, left, width, height };
    }, expected.point);
    assert.ok(seen.x > seen.left && seen.x < seen.width && seen.y > 0 && seen.y < seen.height, `point off view: ${JSON.stringify(seen)}`);
    assert.ok(Math.abs(seen.y - seen.height / 2) < 30, `point not centred: ${JSON.stringify(seen)}`);
    await b.screenshot('coordinates');

    // The deepest grid's card opens from the chain with its breadcrumb known.
    await pointCard.locator(`button[data-grid-id="${last.id}"]`).click();
    await page.locator(`#grid-side .om-stats[data-stats-for="${last.id}"]`).waitFor();
    assert.deepEqual(await card().locator('.om-crumbs li').allInnerTexts(), names);
  });

  it('right-click: the around panel lists features nearest first, counts as /api/around', async () => {
    await closeAll();
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: 14 }), SEAT);
    await b.waitIdle();
    const canvas = await page.locator('#map canvas').boundingBox();
    const x = canvas.x + canvas.width / 2;
    const y = canvas.y + canvas.height / 2;

    const answer = page.waitForResponse((r) => r.url().includes('/api/around?'));
    await page.mouse.click(x, y, { button: 'right' });
    const res = await answer;
    assert.equal(res.status(), 200);
    const url = new URL(res.url());
    assert.equal(url.searchParams.get('radius'), '1000', 'the default radius is 1 km');
    await page.locator('#around-body .om-summary').waitFor();
    await b.waitIdle();
    await checkAround(url);
    // The circle is drawn from a GeoJSON source held in the page.
    const drawn = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['om-around-line'] }).length);
    assert.ok(drawn > 0, 'the circle is not drawn');
    // The zoom buttons stay clear of the panel.
    const side = await page.locator('#around').boundingBox();
    const zoom = await page.locator('.maplibregl-ctrl-zoom-in').boundingBox();
    assert.ok(zoom.x + zoom.width <= side.x || zoom.y + zoom.height <= side.y,
      `the zoom buttons ${JSON.stringify(zoom)} are under the panel ${JSON.stringify(side)}`);
    await b.screenshot('around');

    // Another radius asks again.
    const again = page.waitForResponse((r) => r.url().includes('/api/around?') && r.url().includes('radius=500'));
    await page.locator('#around-radius').selectOption('500');
    const res500 = await again;
    await page.waitForFunction(() => document.getElementById('around-title').textContent.includes('500 米') &&
      !document.getElementById('around-body').hasAttribute('aria-busy'));
    await checkAround(new URL(res500.url()));

    // A place searched for meanwhile: the panel follows it, at the same radius.
    const moved = page.waitForResponse((r) => r.url().includes('/api/around?') && r.url().includes('lon=102.25'));
    await search('25.95 102.25');
    await page.keyboard.press('Enter');
    const resMoved = await moved;
    assert.equal(new URL(resMoved.url()).searchParams.get('radius'), '500');
    await page.waitForFunction(() => document.getElementById('around-centre').textContent.includes('102.25') &&
      !document.getElementById('around-body').hasAttribute('aria-busy'));
  });

  // checkAround compares the panel with /api/around fetched directly.
  async function checkAround(url) {
    const direct = await getJSON(url.pathname + url.search);
    for (const [layer, l] of Object.entries(direct.layers)) {
      const row = page.locator(`#around-body tr[data-layer="${layer}"]`);
      assert.equal(await row.getAttribute('data-count'), String(l.count), `${layer} count`);
      // Cameras by status, stations by kind, the rest by level: the
      // server's counts over everything within the radius, not the listed.
      const by = { cameras: l.by_status, stations: l.by_kind }[layer] ?? l.by_level;
      for (const [key, n] of Object.entries(by ?? {})) {
        if (n) assert.equal(await row.locator(`.om-chip[data-key="${key}"]`).getAttribute('data-count'), String(n), `${layer} ${key}`);
      }
      const items = await page.locator(`#around-body details[data-layer="${layer}"] button.om-item`)
        .evaluateAll((els) => els.map((el) => ({ id: Number(el.dataset.id), d: Number(el.dataset.distance) })));
      const features = l.features ?? [];
      assert.equal(items.length, features.length, `${layer}: listed ${items.length} of ${features.length}`);
      for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].d <= items[i].d, `${layer} not sorted by distance at ${i}`);
      const dist = (f) => (f.properties ?? f).distance_m; // cases come as briefs
      const byDistance = [...features].sort((a, b) => dist(a) - dist(b) || a.id - b.id);
      assert.deepEqual(items.map((it) => it.id), byDistance.map((f) => f.id), `${layer} order`);
    }
    const cams = direct.layers.cameras?.features ?? [];
    if (cams.length) {
      const nearest = Math.min(...cams.map((f) => f.properties.distance_m));
      const first = await page.locator('#around-body details[data-layer="cameras"] button.om-item').first().getAttribute('data-distance');
      assert.equal(Number(first), nearest, 'the nearest camera comes first');
    }
    const grids = await page.locator('#around-body .om-grids li[data-grid-id]').count();
    assert.equal(grids, direct.grids.length, 'every grid within the radius is listed');
    return direct;
  }

  it('exports the lists as a UTF-8 CSV with a BOM, the same rows as the panel', async () => {
    const download = page.waitForEvent('download');
    await page.locator('#around-export').click();
    const file = await (await download).path();
    const bytes = fs.readFileSync(file);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    const text = bytes.toString('utf8');
    assert.ok(text.startsWith(BOM));
    const rows = parseCSV(text);
    assert.deepEqual(rows[0], CSV_HEADER);
    const titles = Object.fromEntries(await page.evaluate(() => window.onemap.layers.map((l) => [l.id, l.title])));
    const panel = await page.locator('#around-body button.om-item').evaluateAll((els) =>
      els.map((el) => [el.dataset.layer, el.dataset.id, el.dataset.distance]));
    assert.deepEqual(rows.slice(1).map((r) => [r[0], r[1], r[6]]), panel.map(([l, id, d]) => [titles[l], id, String(Number(d))]));
    console.log(`CSV: ${rows.length - 1} rows, ${bytes.length} bytes, first: ${rows[1].join(',')}`);
  });

  it('a clustered point says how many it stands for', async () => {
    await closeAll();
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: [c.lng, c.lat], zoom: 11 }), SEAT);
    await b.waitIdle();
    const target = await page.evaluate(() => {
      const { map } = window.onemap;
      const canvas = map.getCanvas().getBoundingClientRect();
      const circles = map.getStyle().layers.filter((l) => (l.type === 'circle' || l.metadata?.['onemap:shape']) && !l.id.startsWith('om-')).map((l) => l.id);
      for (const f of map.queryRenderedFeatures({ layers: circles })) {
        if (!(f.properties.point_count > 1)) continue;
        const p = map.project(f.geometry.coordinates);
        const x = canvas.left + p.x;
        const y = canvas.top + p.y;
        if (document.elementFromPoint(x, y) !== map.getCanvas()) continue;
        const top = map.queryRenderedFeatures([[p.x - 5, p.y - 5], [p.x + 5, p.y + 5]], { layers: circles })[0];
        if (top && top.id === f.id && top.layer.id === f.layer.id) return { x, y, n: f.properties.point_count, layer: f.layer.id };
      }
      return null;
    });
    assert.ok(target, 'no clustered point can be clicked at z11');
    // Clusters of 5 and more write their count on the map.
    const counted = await page.evaluate(() => {
      const { map } = window.onemap;
      const layers = map.getStyle().layers.filter((l) => l.id.startsWith('count-')).map((l) => l.id);
      return map.queryRenderedFeatures({ layers }).map((f) => f.properties.point_count);
    });
    assert.ok(counted.length > 0 && counted.every((n) => n >= 5), `cluster counts drawn: ${counted.slice(0, 20)}`);
    await page.mouse.click(target.x, target.y);
    const note = page.locator('.maplibregl-popup .om-cluster');
    await note.waitFor();
    assert.equal(await note.getAttribute('data-point-count'), String(target.n));
    assert.match(await note.innerText(), new RegExp(`及附近共 ${target.n.toLocaleString('zh-CN')} 处`));
    await b.screenshot('cluster');
  });

  it('周边 button, then the map centre, from the keyboard; Escape closes the panels', async () => {
    await closeAll();
    await page.locator('#around-button').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#around-button').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'pick-centre');
    const answer = page.waitForResponse((r) => r.url().includes('/api/around?'));
    await page.keyboard.press('Enter');
    await answer;
    await page.locator('#around-body .om-summary').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'around-title', 'focus moves to the panel');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#around').isHidden(), true, 'Escape closes the panel');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'around-button', 'focus returns to the button');
    const left = await page.evaluate(() => window.onemap.map.getSource('om-around').serialize().data.features.length);
    assert.equal(left, 0, 'the circle is cleared');
  });

  it('a household\'s card reads its personal details for a purpose from the list', async () => {
    await closeAll();
    // A household on the map, clicked where it is drawn.
    const { features } = await getJSON('/api/layers/households/features?limit=1');
    const [lng, lat] = features[0].geometry.coordinates;
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: c, zoom: 17 }), [lng, lat]);
    await b.waitIdle();
    const target = await page.evaluate(() => {
      const { map } = window.onemap;
      const canvas = map.getCanvas().getBoundingClientRect();
      const layers = map.getStyle().layers.filter((l) => l['source-layer'] === 'households' && (l.type === 'circle' || l.metadata?.['onemap:shape'])).map((l) => l.id);
      // The one nearest the centre first: a household near the edge opens
      // its card under the layer panel.
      const c = map.project(map.getCenter());
      const near = (f) => { const p = map.project(f.geometry.coordinates); return Math.hypot(p.x - c.x, p.y - c.y); };
      for (const f of map.queryRenderedFeatures({ layers }).sort((a, b) => near(a) - near(b))) {
        if (f.properties.point_count > 1) continue;
        const p = map.project(f.geometry.coordinates);
        const top = map.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]])[0];
        if (top?.layer?.['source-layer'] === 'households') return { x: canvas.left + p.x, y: canvas.top + p.y, id: top.id };
      }
      return null;
    });
    assert.ok(target, 'no household can be clicked at z17');
    await page.mouse.click(target.x, target.y);
    await page.locator('.maplibregl-popup .om-card[data-layer="households"]').waitFor();
    const hh = { id: await page.locator('.maplibregl-popup .om-card').getAttribute('data-id') };
    const section = page.locator('.maplibregl-popup .om-details');
    await section.waitFor();
    // The card offers the read in one button that says a purpose is needed;
    // nothing is read before it is taken and a purpose given.
    assert.equal(await section.getAttribute('data-state'), 'offer');
    const offer = section.locator('button[data-action="ask-details"]');
    assert.equal(await offer.innerText(), '查看详情（需填写用途）');
    assert.ok(!b.requests.some((u) => u.includes(`/api/households/${hh.id}/details`)), 'details read before they were asked for');
    await b.screenshot('household-offer');
    await offer.click();
    await page.locator('.maplibregl-popup .om-details[data-state="form"]').waitFor();
    const offered = await section.locator('select[name="purpose"] option').evaluateAll((os) => os.map((o) => o.value));
    assert.deepEqual(offered, (await getJSON('/api/purposes')).purposes.map((p) => p.code), 'the purposes are the server\'s');
    await section.locator('select[name="purpose"]').selectOption('case');
    const answer = page.waitForResponse((r) => r.url().includes(`/api/households/${hh.id}/details?purpose=case`));
    await section.locator('button[data-action="details"]').click();
    assert.equal((await answer).status(), 200);
    await page.locator('.maplibregl-popup .om-details[data-state="shown"]').waitFor();
    assert.match(await page.locator('.maplibregl-popup .om-details').innerText(), /户主/);
    await b.screenshot('household-details');
  });

  it('made no request off this machine and logged no error', () => {
    assert.ok(b.requests.some((u) => u.includes('/api/search?')), 'no search was requested');
    assert.deepEqual(b.foreign, [], `requests to other hosts:\n${b.foreign.join('\n')}`);
    assert.deepEqual(b.errors, [], `errors in the browser:\n${b.errors.join('\n')}`);
  });
});
