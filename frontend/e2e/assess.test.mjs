// End-to-end test of the reassessment (风险评估) on the command map, in
// headless Chromium against a running OneMap server with the demo accounts
// (scripts/e2e.sh): the operator of 狮山镇 opens a household's card, opens
// the form from it — it starts from the household's last assessment, its
// ticks and notes — ticks one dispute situation alone and saves; the
// household's level and next due day change on the map (its vector tile
// and its card) and in the layer panel's counts. Opened again, the form
// holds what was saved. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openMap, WAIT_MS } from './browser.mjs';

describe('assess: an operator reassesses a household from its card', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;

  before(async () => {
    b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'operator', password: 'onemap-demo' } });
    page = b.page;
    await page.waitForFunction(() => window.onemap.assess && window.onemap.live.connected && window.onemap.state.counts?.households,
      null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('the level and the due day change on the map and in the counts', async () => {
    // A household of the operator's township, clicked where it is drawn.
    const first = await page.evaluate(async () => (await (await fetch('/api/layers/households/features?limit=1')).json()).features[0]);
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: c, zoom: 17 }), first.geometry.coordinates);
    await b.waitIdle();
    const target = await page.evaluate(() => {
      const { map } = window.onemap;
      const canvas = map.getCanvas().getBoundingClientRect();
      const layers = map.getStyle().layers.filter((l) => l['source-layer'] === 'households' && (l.type === 'circle' || l.metadata?.['onemap:shape'])).map((l) => l.id);
      for (const f of map.queryRenderedFeatures({ layers })) {
        if (f.properties.point_count > 1) continue;
        const p = map.project(f.geometry.coordinates);
        const top = map.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]])[0];
        if (top?.layer?.['source-layer'] === 'households') return { x: canvas.left + p.x, y: canvas.top + p.y };
      }
      return null;
    });
    assert.ok(target, 'no household can be clicked at z17');
    await page.mouse.click(target.x, target.y);
    const cardEl = page.locator('.maplibregl-popup .om-card[data-layer="households"]');
    await cardEl.waitFor({ timeout: WAIT_MS });
    const id = Number(await cardEl.getAttribute('data-id'));
    const before = await page.evaluate(async (i) => (await (await fetch(`/api/layers/households/features/${i}`)).json()).properties, id);
    const want = before.level === 'orange' ? 'yellow' : 'orange';
    const tick = want === 'orange' ? 'expropriation' : 'neighbour';
    const countsBefore = await page.evaluate(() => ({ ...window.onemap.state.counts.households.level }));

    // The card offers the form, started from the last assessment (the
    // seed's): its ticks with their notes, and its remark.
    const last = await page.evaluate(async (i) => (await (await fetch(`/api/households/${i}/assessments`)).json()).assessments[0], id);
    const ticksOf = (a) => [...a.situations, ...a.categories].map((t) => `${t.code}:${t.note ?? ''}`).sort();
    const formTicks = () => page.locator('dialog.om-assess form').evaluate((f) => [...f.querySelectorAll('input[type="checkbox"]:checked')]
      .map((c) => `${c.value}:${f.querySelector(`[data-note-for="${CSS.escape(c.value)}"]`).value}`).sort());
    await cardEl.locator('button[data-action="assess"]').click();
    const form = page.locator('dialog.om-assess form');
    await form.waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await formTicks(), ticksOf(last), 'the form starts from the last assessment\'s ticks and notes');
    assert.equal(await form.locator('[name="note"]').inputValue(), last.note);
    // The remark is written in the page's font (a textarea's own draws no CJK).
    const fonts = await form.evaluate((f) => [getComputedStyle(f).fontFamily, getComputedStyle(f.querySelector('[name="note"]')).fontFamily]);
    assert.equal(fonts[1], fonts[0], 'the remark\'s font');

    // The operator finds one situation alone: the others are unticked.
    for (const box of await form.locator('input[type="checkbox"]:checked').all()) await box.uncheck();
    await form.locator(`input[name="situations"][value="${tick}"]`).check();
    await form.locator(`[data-note-for="${tick}"]`).fill('村民反映补偿分配');
    await b.screenshot('assess-form');
    await form.locator('[data-assess="save"]').click();
    await page.waitForFunction(() => window.onemap.assess.last, null, { timeout: WAIT_MS });
    const saved = await page.evaluate(() => window.onemap.assess.last);
    assert.equal(saved.level, want);
    assert.equal(saved.status, 'applied', 'an operator records without confirmation');
    assert.notEqual(saved.next_due, before.next_assessment_due);
    assert.ok(!(await page.locator('dialog.om-assess').evaluate((d) => d.open)), 'the form closes');

    // On the map: the household's vector tile carries the new level, its
    // card the new due day (live).
    await page.waitForFunction(([i, lv]) => window.onemap.map.querySourceFeatures('onemap', { sourceLayer: 'households' })
      .some((f) => f.id === i && f.properties.level === lv), [id, want], { timeout: WAIT_MS });
    await page.locator('.maplibregl-popup .om-card', { hasText: saved.next_due }).waitFor({ timeout: WAIT_MS });
    // In the counts: one more of the new level, one fewer of the old.
    await page.waitForFunction(([lv, n]) => (window.onemap.state.counts.households.level[lv] ?? 0) === n,
      [want, (countsBefore[want] ?? 0) + 1], { timeout: WAIT_MS });
    const countsAfter = await page.evaluate(() => window.onemap.state.counts.households.level);
    assert.equal(countsAfter[before.level], countsBefore[before.level] - 1);
    await b.screenshot('assess-saved');

    // Opened again, the form holds what was saved: saved unchanged, the
    // level stays.
    await page.evaluate(() => { window.onemap.assess.last = null; });
    await page.locator('.maplibregl-popup .om-card button[data-action="assess"]').click();
    await form.locator(`[data-last-assessment="${saved.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await formTicks(), [`${tick}:村民反映补偿分配`]);
    await form.locator('[data-assess="save"]').click();
    await page.waitForFunction(() => window.onemap.assess.last, null, { timeout: WAIT_MS });
    const again = await page.evaluate(() => window.onemap.assess.last);
    assert.equal(again.level, want);
    assert.deepEqual(again.situations, [{ code: tick, note: '村民反映补偿分配' }]);
    assert.deepEqual(again.categories, []);
    assert.deepEqual(b.errors, []);
  });
});
