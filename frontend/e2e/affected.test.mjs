// End-to-end test of the emergency picture on the command map, in headless
// Chromium against a running OneMap server with the demo accounts
// (scripts/e2e.sh): the names of the hazard zones and shelters layers (and
// their kinds) in the layer panel, in Chinese and in English; the
// "overdue only" switch of the households and risk points, drawn at the
// county's zoom (where the tiles cluster); and "who is affected" for a
// hazard zone clicked on the map and for a drawn area, as a commander
// (with the households' members) and as an operator (without them).
// Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openMap, WAIT_MS } from './browser.mjs';

// panelText returns the layer panel's text of a layer, its folded filters opened.
async function panelText(page, layer) {
  const li = page.locator(`#panel li.om-layer[data-layer="${layer}"]`);
  await li.evaluate((el) => { for (const d of el.querySelectorAll('details')) d.open = true; });
  return li.innerText();
}

// findZone returns, of the hazard zones the page's caller reads, one whose
// "who is affected" lists households and shelters: {id, answer}.
async function findZone(page) {
  return page.evaluate(async () => {
    const zones = (await (await fetch('/api/layers/hazard_zones/features?limit=400')).json()).features;
    for (const z of zones) {
      const a = await (await fetch(`/api/affected?zone=${z.id}`)).json();
      if (a.households?.count > 0 && a.shelters?.count > 0) return { id: z.id, answer: a };
    }
    return null;
  });
}

// clickZone brings hazard zone id into view and clicks a point of it
// where no point feature lies on top.
async function clickZone(b, id, geometry) {
  const { page } = b;
  const ring = geometry.coordinates[0][0];
  const c = ring.reduce((s, p) => [s[0] + p[0] / ring.length, s[1] + p[1] / ring.length], [0, 0]);
  await page.evaluate((centre) => window.onemap.map.jumpTo({ center: centre, zoom: 15.5 }), c);
  await b.waitIdle();
  const at = await page.evaluate((zid) => {
    const { map } = window.onemap;
    const r = map.getCanvas().getBoundingClientRect();
    const cx = r.width / 2;
    const cy = r.height / 2;
    for (let d = 0; d < 120; d += 6) {
      for (const [dx, dy] of [[0, 0], [d, 0], [-d, 0], [0, d], [0, -d], [d, d], [-d, -d], [d, -d], [-d, d]]) {
        const x = cx + dx;
        const y = cy + dy;
        const under = map.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]]);
        if (under.some((f) => f.geometry.type === 'Point')) continue;
        const top = map.queryRenderedFeatures([x, y]).find((f) => f.layer.type === 'fill');
        if (top?.layer.metadata?.['onemap:layer'] === 'hazard_zones' && top.id === zid) return { x: r.left + x, y: r.top + y };
      }
    }
    return null;
  }, id);
  assert.ok(at, `no free point of hazard zone ${id} to click`);
  await page.mouse.click(at.x, at.y);
}

// figures reads the panel's figures: {households, people, members, shelters, shortfall}.
async function figures(page) {
  return page.evaluate(() => {
    const side = document.getElementById('affected');
    const num = (k) => {
      const td = side.querySelector(`[data-figure="${k}"] td.om-num`);
      return td ? Number(td.textContent.replace(/[^\d]/g, '')) : null;
    };
    const sf = side.querySelector('[data-shortfall]');
    return {
      households: num('households'), people: num('people'), members: num('members'), shelters: num('shelters'),
      shortfall: sf ? Number(sf.dataset.shortfall) : null,
      listed: side.querySelectorAll('.om-affected-shelters li').length,
    };
  });
}

// expected is what the panel should read of an /api/affected answer.
const expected = (a) => ({
  households: a.households?.count ?? null, people: a.people?.count ?? null,
  members: a.people?.household_members ?? null, shelters: a.shelters?.count ?? null,
  shortfall: a.shelters?.shortfall ?? null, listed: a.shelters?.features?.length ?? 0,
});

describe('the emergency picture on the command map, as a commander', { timeout: 15 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'commander', password: 'onemap-demo' } });
    page = b.page;
    await page.waitForFunction(() => window.onemap.affected && window.onemap.state.counts?.hazard_zones, null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('names the hazard zones and shelters and their kinds in the layer panel', async () => {
    const zones = await panelText(page, 'hazard_zones');
    assert.match(zones, /危险区/);
    assert.match(zones, /地质灾害威胁区/);
    assert.doesNotMatch(zones, /geological_hazard|forest_fire/);
    const shelters = await panelText(page, 'shelters');
    assert.match(shelters, /避难安置点/);
    assert.match(shelters, /学校|应急避难场所|村委会活动场所/);
    assert.doesNotMatch(shelters, /emergency_shelter|village_hall|\bschool\b/);
  });

  it('draws only the overdue households at the county zoom, where the tiles cluster', async () => {
    await page.evaluate(() => window.onemap.map.fitBounds(window.onemap.region.bounds, { duration: 0 }));
    await b.waitIdle();
    assert.ok(await page.evaluate(() => window.onemap.map.getZoom() < 14), 'the county view clusters the households');
    const want = await page.evaluate(async () => {
      const fc = await (await fetch('/api/layers/households/features?overdue=true&limit=10000')).json();
      return fc.features.map((f) => f.id).sort((x, y) => x - y);
    });
    assert.ok(want.length > 0, 'the demo has overdue households');
    await page.locator('#overdue-households').check();
    await page.waitForFunction((n) => window.onemap.state.overdue?.households?.count === n, want.length, { timeout: WAIT_MS });
    await b.waitIdle();
    const drawn = await page.evaluate(() => {
      const { map } = window.onemap;
      const ids = [...new Set(map.querySourceFeatures('om-overdue-households').map((f) => f.id))].sort((x, y) => x - y);
      const tiles = map.getStyle().layers.filter((l) => l['source-layer'] === 'households').map((l) => map.getLayoutProperty(l.id, 'visibility'));
      const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
      const late = map.querySourceFeatures('om-overdue-households').every((f) => f.properties.next_assessment_due < today);
      return { ids, tiles, late, shown: map.queryRenderedFeatures({ layers: ['om-overdue-households'] }).length };
    });
    assert.deepEqual(drawn.ids, want);
    assert.ok(drawn.late, 'every household drawn is overdue');
    assert.ok(drawn.shown > 0, 'the overdue households are drawn at the county zoom');
    assert.ok(drawn.tiles.every((v) => v === 'none'), 'the households\' tiles are hidden while the switch is on');
    const count = await page.locator('#overdue-households-count').innerText();
    assert.equal(Number(count.replace(/[^\d]/g, '')), want.length);
    await b.screenshot('affected-overdue');
    await page.locator('#overdue-households').uncheck();
    const back = await page.evaluate(() => {
      const { map } = window.onemap;
      return { overlay: map.getLayoutProperty('om-overdue-households', 'visibility'),
        tiles: map.getStyle().layers.filter((l) => l['source-layer'] === 'households').map((l) => map.getLayoutProperty(l.id, 'visibility') ?? 'visible') };
    });
    assert.equal(back.overlay, 'none');
    assert.ok(back.tiles.every((v) => v === 'visible'));
  });

  it('tells who is affected by a hazard zone clicked on the map, members included', async () => {
    const z = await findZone(page);
    assert.ok(z, 'a demo hazard zone with households and shelters');
    await page.locator('#affected-button').click();
    assert.ok(await page.locator('#affected').isVisible());
    await clickZone(b, z.id, z.answer.zone.geometry);
    await page.waitForFunction((id) => window.onemap.affected.answer && window.onemap.affected.ask?.zone === id, z.id, { timeout: WAIT_MS });
    const got = await figures(page);
    assert.deepEqual(got, expected(z.answer));
    assert.ok(got.members !== null, 'a commander sees the households\' members');
    assert.ok(got.shelters > 0 && got.listed === got.shelters);
    const text = await page.locator('#affected').innerText();
    assert.match(text, new RegExp(z.answer.shelters.features[0].properties.name));
    // Laid out as the other panels: each button, the reach and each
    // figure's name on one line, the hint within the panel's margins (圈选范围
    // and 清除 broke in two, the hint began at the panel's edge).
    const laid = await page.evaluate(() => {
      // The lines el's text and controls lie on (a select's options aside).
      const lines = (el) => {
        const tops = new Set();
        const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          if (n.parentElement.closest('select')) continue;
          const range = document.createRange();
          range.selectNodeContents(n);
          for (const x of range.getClientRects()) if (x.width > 0) tops.add(Math.round(x.bottom));
        }
        for (const c of el.querySelectorAll('select')) tops.add(Math.round(c.getBoundingClientRect().bottom));
        return [...tops].sort((a, b) => a - b).filter((t, i, all) => i === 0 || t - all[i - 1] > 6).length;
      };
      const side = document.getElementById('affected').getBoundingClientRect();
      const text = document.createRange();
      text.selectNodeContents(document.querySelector('#affected [data-affected="hint"]'));
      const hint = text.getBoundingClientRect();
      const parts = [...document.querySelectorAll('#affected .om-side-tools > *, #affected .om-affected-figures th')];
      return {
        broken: parts.filter((el) => lines(el) > 1).map((el) => el.textContent.trim()),
        hint: [Math.round(hint.left - side.left), Math.round(side.right - hint.right)],
      };
    });
    assert.deepEqual(laid.broken, [], 'broken onto two lines');
    assert.ok(laid.hint[0] >= 10 && laid.hint[1] >= 10, `the hint's text is ${laid.hint} px from the panel's sides`);
    await b.screenshot('affected-zone-commander');
  });

  it('tells who is affected by an area drawn on the map', async () => {
    await page.locator('#affected [data-affected="draw"]').click();
    const box = await page.evaluate(() => {
      const r = window.onemap.map.getCanvas().getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    for (const [dx, dy] of [[-140, -110], [140, -110], [140, 110], [-140, 110]]) await page.mouse.click(box.x + dx, box.y + dy);
    assert.equal(await page.evaluate(() => window.onemap.affected.corners.length), 4);
    assert.equal(await page.locator('.maplibregl-popup').count(), 0, 'a corner opens no card');
    await page.locator('#affected [data-affected="finish"]').click();
    await page.waitForFunction(() => window.onemap.affected.answer && window.onemap.affected.ask?.geometry, null, { timeout: WAIT_MS });
    const { ask, answer } = await page.evaluate(() => ({ ask: window.onemap.affected.ask, answer: window.onemap.affected.answer }));
    assert.equal(ask.geometry.coordinates[0].length, 5);
    // The same question asked directly gets the answer the panel shows.
    const direct = await page.evaluate(async (g) => {
      const token = (await (await fetch('/api/session')).json()).csrf;
      const res = await fetch('/api/affected', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token ?? '' },
        body: JSON.stringify({ geometry: g, reach: 3000 }) });
      return res.json();
    }, ask.geometry);
    assert.deepEqual(expected(answer), expected(direct));
    assert.deepEqual(await figures(page), expected(direct));
    assert.ok(direct.households.count > 0, 'the drawn area holds households');
    await b.screenshot('affected-area-commander');
    assert.deepEqual(b.errors, []);
    assert.deepEqual(b.foreign, []);
  });
});

describe('who is affected, as an operator: no household members', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'operator', password: 'onemap-demo' } });
    page = b.page;
    await page.waitForFunction(() => window.onemap.affected, null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('answers for a hazard zone of its township without the members', async () => {
    const z = await findZone(page);
    assert.ok(z, 'a hazard zone of 狮山镇 with households and shelters');
    assert.equal(z.answer.people?.household_members, undefined, 'the server gives an operator no members');
    await page.locator('#affected-button').click();
    await clickZone(b, z.id, z.answer.zone.geometry);
    await page.waitForFunction((id) => window.onemap.affected.answer && window.onemap.affected.ask?.zone === id, z.id, { timeout: WAIT_MS });
    const got = await figures(page);
    assert.deepEqual(got, expected(z.answer));
    assert.equal(got.members, null, 'no members row for an operator');
    assert.equal(await page.locator('#affected [data-figure="members"]').count(), 0);
    await b.screenshot('affected-zone-operator');
    assert.deepEqual(b.errors, []);
  });
});

describe('the emergency layers in English', { timeout: 5 * 60_000 }, () => {
  let b;

  before(async () => {
    b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 } }, '/?lang=en');
  });
  after(async () => {
    await b?.close();
  });

  it('names the layers, their kinds and the switches in English', async () => {
    const { page } = b;
    await page.waitForFunction(() => window.onemap.state.counts?.hazard_zones, null, { timeout: WAIT_MS });
    const zones = await panelText(page, 'hazard_zones');
    assert.match(zones, /Hazard zones/);
    assert.match(zones, /geological hazard threat area/);
    assert.doesNotMatch(zones, /[\u4e00-\u9fff]/, 'no Chinese left in the hazard zones\' panel');
    assert.match(await panelText(page, 'shelters'), /Shelters/);
    assert.match(await panelText(page, 'households'), /Overdue for assessment only/);
    assert.equal(await page.locator('#affected-button').innerText(), 'Affected');
    assert.deepEqual(b.errors, []);
  });
});
