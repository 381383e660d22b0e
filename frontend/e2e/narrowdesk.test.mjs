// The command map on a narrow desk (601–1000 px wide, where the side panels
// still open on the right) and beside it a laptop and a phone, in headless
// Chromium:
//
// With the cases' panel open, the zoom buttons lie to the panel's left and
// the opened attribution stays at the right in the strip below the panel,
// on one line, clear of the scale and of the layer column. (Moved beside
// the panel with the zoom buttons, the attribution wrapped under the layer
// column and over the scale at 800×900, and at 601 px the layer column lay
// under the panel.) The layer column is 236 px wide on a desk (190 px on a
// narrow desk with a panel open), 190 px on a phone.
//
// The measuring tool's hint bar: its result and its help read on the dark
// bar (the result was #e65100 at 3.9:1, the help the page's grey at 2.2:1);
// the contrast check is shown to judge the result by giving it the old
// orange back. On a narrow desk the hint lies beside the layer column, not
// over its counts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMap, WAIT_MS } from './browser.mjs';
import { layout, lowContrast, onScreen } from './layout.mjs';

for (const [width, height] of [[601, 800], [800, 900], [1000, 700], [1366, 768]]) {
  test(`the cases' panel open at ${width}×${height}: zoom buttons, attribution and layers clear of one another`, { timeout: 4 * WAIT_MS }, async () => {
    const b = await openMap({ viewport: { width, height } });
    const { page } = b;
    try {
      const wide = await page.evaluate(() => document.querySelector('#panel').getBoundingClientRect().width);
      assert.equal(Math.round(wide), 236, `the layer column at ${width}×${height} with no panel open`);
      await page.locator('#cases-button').click();
      await page.waitForSelector('#cases:not([hidden])');
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const boxes = await page.evaluate(() => Object.fromEntries(['#panel', '#cases', '.maplibregl-ctrl-attrib', '.maplibregl-ctrl-scale',
        '.maplibregl-ctrl-bottom-right .maplibregl-ctrl-group'].map((sel) => [sel, document.querySelector(sel).getBoundingClientRect().toJSON()])));
      const got = await layout(page);
      assert.deepEqual(got.off, [], `panels off the screen at ${width}×${height}`);
      assert.deepEqual(got.over, [], `panels over one another at ${width}×${height} (${JSON.stringify(boxes)})`);
      const attrib = boxes['.maplibregl-ctrl-attrib'];
      assert.ok(attrib.height < 30, `the attribution wraps at ${width}×${height}: ${attrib.height} px tall`);
      assert.ok(attrib.top >= boxes['#cases'].bottom, `the attribution lies under the cases' panel at ${width}×${height}`);
      assert.deepEqual(await onScreen(page, ['.maplibregl-ctrl-attrib-inner', '.maplibregl-ctrl-bottom-right .maplibregl-ctrl-group']), []);
      const zoom = boxes['.maplibregl-ctrl-bottom-right .maplibregl-ctrl-group'];
      assert.ok(zoom.right <= boxes['#cases'].left && zoom.left >= boxes['#panel'].right,
        `the zoom buttons at ${width}×${height} are not between the layers and the panel (${JSON.stringify(boxes)})`);
      if (width <= 700) assert.equal(Math.round(boxes['#panel'].width), 190, `the layer column at ${width}×${height} with a panel open`);
      await b.screenshot(`narrowdesk-cases-${width}x${height}`);
      assert.deepEqual(b.foreign, [], 'requests left the machine');
      assert.deepEqual(b.errors, [], 'the page logged errors');
    } finally {
      await b.close();
    }
  });
}

for (const [width, height, phone] of [[800, 900, false], [390, 844, true]]) {
  test(`the measuring tool's hint reads at ${width}×${height}`, { timeout: 4 * WAIT_MS }, async () => {
    const b = await openMap({ viewport: { width, height }, ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
    const { page } = b;
    try {
      if (phone) {
        const w = await page.evaluate(() => document.querySelector('#panel').getBoundingClientRect().width);
        assert.equal(Math.round(w), 190, `the layer column on a phone at ${width}×${height}`);
      }
      // The tool started from its button (scrolled into the phone's row), two points taken at the map's centre and beside it.
      await page.locator('#measure-distance').click();
      await page.waitForSelector('#measure-hint:not([hidden])');
      await page.locator('#measure-centre').click();
      await page.evaluate(() => window.onemap.map.panBy([80, 40], { duration: 0 }));
      await page.locator('#measure-centre').click();
      await page.waitForFunction(() => document.querySelector('#measure-result').textContent.trim() !== '');
      assert.deepEqual(await lowContrast(page, '#measure-hint'), [], `the hint's text too faint at ${width}×${height}`);
      // The result wraps the phone's bar a line taller; the layer column follows it (a ResizeObserver, run after
      // the frame's animation callbacks, where waitForFunction returned): two frames later it has.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      // Centred over the map beside the layer column (at 800 px it lay over the column's counts); on a phone a
      // bar under the tools' row, the layers below it (narrowtools.test.mjs).
      assert.deepEqual((await layout(page)).over.filter((pair) => /measure-hint/.test(pair)), [], `the hint over a panel at ${width}×${height}`);
      await b.screenshot(`narrowdesk-measure-${width}x${height}`);
      // The check judges the result on the bar: the old orange fails it.
      await page.evaluate(() => { document.querySelector('#measure-result').style.color = '#e65100'; });
      const old = await lowContrast(page, '#measure-hint');
      assert.equal(old.length, 1, `the old orange passed the check: ${JSON.stringify(old)}`);
      assert.match(old[0], /measure-result/);
      assert.deepEqual(b.foreign, [], 'requests left the machine');
      assert.deepEqual(b.errors, [], 'the page logged errors');
    } finally {
      await b.close();
    }
  });
}
