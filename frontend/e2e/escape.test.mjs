// Escape on the command map undoes one thing a press, the innermost open
// first (as Google Maps, ArcGIS's sketch tools and QGIS's map tools do; the
// order is command/keys.js ESCAPES): with 周边 open, a measurement being
// drawn ends and 周边 stays; picking 周边's centre again ends and 周边
// stays; with a measurement left on the map and a card opened from 周边's
// list, the card closes first (the measurement went first, and the card
// stayed while 周边 closed), then the measurement, then 周边, the focus back
// on its button; 受影响's area being drawn ends before its panel closes (the
// panel was not reached). Headless Chromium at 1280×800.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openMap, WAIT_MS } from './browser.mjs';

test('Escape undoes one thing, the innermost first, and closes 周边 last', { timeout: 4 * WAIT_MS }, async () => {
  const b = await openMap({ viewport: { width: 1280, height: 800 } });
  const { page } = b;
  try {
    const state = () => page.evaluate(() => ({
      around: !document.getElementById('around').hidden,
      picking: document.getElementById('around-button').getAttribute('aria-pressed') === 'true',
      card: !!document.querySelector('.maplibregl-popup'),
      measure: window.onemap.measure?.mode ?? null,
      affected: !(document.getElementById('affected')?.hidden ?? true),
      drawing: !!window.onemap.affected?.drawing,
      focus: document.activeElement?.id || '',
    }));
    const escape = async (what, want) => {
      await page.keyboard.press('Escape');
      const got = await state();
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${what}: ${k} (${JSON.stringify(got)})`);
    };
    const measure = async ({ finish }) => {
      await page.locator('#measure-distance').click();
      await page.locator('#measure-centre').click();
      await page.evaluate(() => window.onemap.map.panBy([60, 40], { duration: 0 }));
      await page.locator('#measure-centre').click();
      await page.waitForFunction(() => document.querySelector('#measure-result').textContent.trim() !== '');
      if (finish) await page.locator('#measure-finish').click();
    };

    // 周边 at the map's centre.
    await page.locator('#around-button').click();
    await page.locator('#pick-centre').click();
    await page.locator('#around-body .om-summary').waitFor();

    // A measurement being drawn ends; 周边 stays.
    await measure({ finish: false });
    await escape('measuring with 周边 open', { measure: null, around: true });
    // Picking 周边's centre again ends; 周边 stays.
    await page.locator('#around-button').click();
    assert.equal((await state()).picking, true);
    await escape('picking with 周边 open', { picking: false, around: true });

    // A measurement left on the map, then a point's card opened from 周边's list.
    await measure({ finish: true });
    assert.equal((await state()).measure, 'distance');
    await page.locator('#around-body details.om-list:not(.om-grids) button.om-item').first().click();
    await page.waitForSelector('.maplibregl-popup');
    assert.deepEqual(await state().then(({ around, card, measure: m }) => ({ around, card, m })), { around: true, card: true, m: 'distance' });
    await escape('the card from 周边\'s list', { card: false, measure: 'distance', around: true });
    await escape('the measurement left on the map', { card: false, measure: null, around: true });
    await escape('周边', { around: false });
    await page.waitForFunction(() => document.activeElement?.id === 'around-button' ||
      document.activeElement?.id === 'measure-distance', null, { timeout: WAIT_MS });

    // 受影响: the area being drawn ends, then the panel closes and its button has the focus.
    await page.locator('#affected-button').click();
    await page.locator('#affected [data-affected="draw"]').click();
    const box = await page.locator('#map canvas').boundingBox();
    await page.mouse.click(box.x + box.width * 0.45, box.y + box.height * 0.45);
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.55);
    await page.waitForFunction(() => window.onemap.affected.corners.length === 2);
    await escape('drawing an area for 受影响', { drawing: false, affected: true });
    assert.equal(await page.evaluate(() => window.onemap.affected.corners.length), 0, 'the corners drawn are dropped');
    await page.locator('#affected h2').focus();
    await escape('受影响', { affected: false, focus: 'affected-button' });

    assert.deepEqual(b.foreign, [], 'requests left the machine');
    assert.deepEqual(b.errors, [], 'the page logged errors');
  } finally {
    await b.close();
  }
});

// Escape in the empty search box only leaves the box (it also closed the
// open panel), and the cases panel's 录入事件, waiting for the case's place
// to be clicked on the map, is left before the panel closes (Escape closed
// the panel and the map still waited for the click, its cursor a cross).
test('Escape leaves the empty search box and nothing else; it ends the wait for a case\'s place before the cases panel closes', { timeout: 4 * WAIT_MS }, async () => {
  const b = await openMap({ viewport: { width: 1280, height: 800 } });
  const { page } = b;
  try {
    const state = () => page.evaluate(() => ({
      cases: !document.getElementById('cases').hidden,
      placing: window.onemap.cases.placing,
      cursor: window.onemap.map.getCanvas().style.cursor,
      message: document.querySelector('#cases .om-cases-message').textContent,
      focus: document.activeElement?.id || document.activeElement?.dataset?.act || '',
    }));
    const escape = async (what, want) => {
      await page.keyboard.press('Escape');
      const got = await state();
      for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${what}: ${k} (${JSON.stringify(got)})`);
    };
    await page.waitForFunction(() => window.onemap.cases, null, { timeout: WAIT_MS });
    await page.locator('#cases-button').click();
    await page.locator('#cases .om-cases-list li').first().waitFor();

    // "/" goes to the search box; Escape in it, empty, leaves it: the panel stays.
    await page.locator('#cases h2').focus();
    await page.keyboard.press('/');
    assert.equal((await state()).focus, 'search-input');
    await escape('the empty search box', { focus: '', cases: true });

    // 录入事件: the map waits for the place; Escape ends the wait, the panel stays.
    await page.locator('#cases [data-act="enter"]').click();
    assert.deepEqual(await state().then(({ placing, cursor }) => ({ placing, cursor })), { placing: true, cursor: 'crosshair' });
    await escape('waiting for a case\'s place', { placing: false, cursor: '', cases: true, message: '', focus: 'enter' });

    // Closing the panel ends the wait too; then Escape has the panel to close.
    await page.locator('#cases [data-act="enter"]').click();
    await page.locator('#cases [data-act="close"]').click();
    assert.deepEqual(await state().then(({ cases, placing, cursor }) => ({ cases, placing, cursor })), { cases: false, placing: false, cursor: '' });
    await page.locator('#cases-button').click();
    await page.locator('#cases h2').focus();
    await escape('the cases panel', { cases: false, focus: 'cases-button' });

    assert.deepEqual(b.foreign, [], 'requests left the machine');
    assert.deepEqual(b.errors, [], 'the page logged errors');
  } finally {
    await b.close();
  }
});
