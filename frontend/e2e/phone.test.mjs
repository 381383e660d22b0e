// The command map on a phone (390×844) in headless Chromium: the search box
// is free to tap, the tools are one row under it that does not wrap (a cue
// at an end with more tools beyond it, which scrolls the row), and
// the layers open folded so that the map comes first, the whole county
// above the zoom buttons. Unfolded, the layer column ends above the opened
// attribution, with a side panel open or none, at both phone sizes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMap, WAIT_MS } from './browser.mjs';
import { layout, lowContrast } from './layout.mjs';

test('the command map on a phone: search free, tools in a row, layers folded, the county clear of the zoom buttons', { timeout: 4 * WAIT_MS }, async () => {
  const b = await openMap({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const { page } = b;
  try {
    const layout = await page.evaluate(() => {
      const rect = (sel) => document.querySelector(sel).getBoundingClientRect().toJSON();
      const search = rect('#search-input');
      const hit = document.elementFromPoint(search.left + search.width / 2, search.top + search.height / 2);
      const buttons = [...document.querySelectorAll('#toolbar button')].filter((el) => el.offsetParent);
      return {
        searchFree: hit?.id === 'search-input',
        search, toolbar: rect('#toolbar'), panel: rect('#panel'),
        tallest: Math.max(...buttons.map((el) => el.getBoundingClientRect().height)),
        folded: !document.querySelector('#panel > details').open,
        // The county's outline under the zoom buttons (its lower edge sat there).
        underZoom: (() => {
          const z = rect('.maplibregl-ctrl-bottom-right .maplibregl-ctrl-group');
          return window.onemap.map.queryRenderedFeatures([[z.left - 4, z.top - 4], [z.right + 4, z.bottom + 4]])
            .filter((f) => f.sourceLayer === 'grids' && f.properties.level === 'county').length;
        })(),
      };
    });
    assert.ok(layout.searchFree, `something lies over the search box: ${JSON.stringify(layout)}`);
    assert.ok(layout.toolbar.top >= layout.search.bottom, 'the tools lie over the search box');
    assert.ok(layout.tallest < 40, `a tool's label wraps (${layout.tallest} px tall)`);
    assert.ok(layout.panel.top >= layout.toolbar.bottom, 'the tools lie over the layers');
    assert.ok(layout.folded, 'the layers open unfolded on a phone');
    assert.equal(layout.underZoom, 0, 'the county lies under the zoom buttons');
    await b.screenshot('phone');

    // Every tool can be reached and read: a chip that does not fit lies past
    // an end that shows its cue (over the chip cut there), and tapping the
    // cue brings the rest into the row, whole.
    const tools = () => page.evaluate(() => {
      const bar = document.querySelector('#toolbar');
      const box = bar.getBoundingClientRect();
      const y = box.top + box.height / 2;
      const chips = [...bar.children].filter((el) => el.offsetParent && !el.classList.contains('om-tools-more'))
        .map((el) => {
          const r = el.getBoundingClientRect();
          const seen = r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
          const hit = seen && document.elementFromPoint(r.left + r.width / 2, y);
          return { id: el.id || el.textContent.trim(), left: r.left, right: r.right, whole: seen && (hit === el || el.contains(hit)) };
        });
      const edge = document.elementFromPoint(box.right - 10, y);
      return { more: bar.dataset.more ?? null, left: box.left, right: box.right, chips, edgeCue: !!edge?.closest('.om-tools-more-right') };
    });
    let row = await tools();
    const beyond = row.chips.filter((c) => c.right > row.right + 0.5);
    assert.ok(beyond.length > 0, `the phone's tools all fit in a row: ${JSON.stringify(row)}`);
    assert.match(row.more ?? '', /right/, `tools lie past the right edge with nothing saying so: ${beyond.map((c) => c.id)}`);
    assert.ok(row.edgeCue, 'the cue is not over the right edge');
    for (let i = 0; i < 8 && /right/.test(row.more); i++) {
      // The cue takes no room in the row: its arrow (the span over the edge) is what a finger meets.
      await page.locator('#toolbar .om-tools-more-right span').click();
      await page.waitForFunction((x) => document.querySelector('#toolbar').scrollLeft !== x, await page.evaluate(() => document.querySelector('#toolbar').scrollLeft));
      await page.waitForTimeout(600); // the smooth scroll
      row = await tools();
    }
    assert.doesNotMatch(row.more, /right/, `the cue never brought the last tool in: ${JSON.stringify(row)}`);
    assert.match(row.more, /left/, 'scrolled, the row shows no cue at its left');
    const last = row.chips.at(-1);
    assert.ok(last.whole, `the last tool is not whole in the row: ${JSON.stringify(row)}`);
    assert.ok(row.chips.find((c) => c.id === 'copy-link')?.whole, `复制链接 is not whole in the row: ${JSON.stringify(row)}`);
    await b.screenshot('phone-tools-end');
    assert.deepEqual(b.foreign, [], 'requests left the machine');
    assert.deepEqual(b.errors, [], 'the page logged errors');
  } finally {
    await b.close();
  }
});

// The layers unfolded and the attribution opened (its ⓘ): the attribution,
// wrapped beside the zoom buttons, ran under the lower end of the layer
// column (142×44 px of it at 390×844 with the cases' panel open). No two
// panels may cover one another (layout.mjs), without a side panel and with
// one, and the attribution's text is whole on the screen.
for (const [width, height] of [[390, 844], [360, 640]]) {
  test(`the opened attribution lies clear of the unfolded layers at ${width}×${height}`, { timeout: 4 * WAIT_MS }, async () => {
    const b = await openMap({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const { page } = b;
    try {
      await page.locator('#panel > details > summary').click();
      await page.locator('.maplibregl-ctrl-attrib-button').click();
      await page.waitForFunction(() => document.querySelector('.maplibregl-ctrl-attrib').classList.contains('maplibregl-compact-show'));
      const check = async (what) => {
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const boxes = await page.evaluate(() => Object.fromEntries(['#panel', '.maplibregl-ctrl-attrib', '.maplibregl-ctrl-bottom-right .maplibregl-ctrl-group']
          .map((sel) => [sel, document.querySelector(sel).getBoundingClientRect().toJSON()])));
        const got = await layout(page);
        assert.deepEqual(got.over, [], `${what} at ${width}×${height}: panels over one another (${JSON.stringify(boxes)})`);
        assert.deepEqual(got.off, [], `${what} at ${width}×${height}: panels off the screen`);
        const panel = boxes['#panel'];
        assert.ok(panel.height >= 60, `${what} at ${width}×${height}: the layer column left ${panel.height} px for the layers`);
        const attrib = boxes['.maplibregl-ctrl-attrib'];
        assert.ok(attrib.left >= 0 && attrib.right <= width && attrib.top >= 0 && attrib.bottom <= height, `${what}: the attribution is off the screen`);
      };
      await check('no side panel');
      await b.screenshot(`phone-attribution-${width}x${height}`);
      await page.locator('#cases-button').click();
      await page.waitForSelector('#cases:not([hidden])');
      await check('the cases\' panel open');
      // Every text reads on its background (事件, pressed, was white on #e65100 at 3.8:1; the counts and 没有事件 grey at 3.6:1).
      assert.deepEqual(await lowContrast(page), [], `text too faint at ${width}×${height}`);
      await b.screenshot(`phone-attribution-side-${width}x${height}`);
      // Folded again, the attribution gives the room back.
      const before = await page.evaluate(() => document.querySelector('#left').getBoundingClientRect().bottom);
      await page.locator('.maplibregl-ctrl-attrib-button').click();
      await page.waitForFunction((y) => document.querySelector('#left').getBoundingClientRect().bottom > y + 10, before);
      assert.deepEqual(b.foreign, [], 'requests left the machine');
      assert.deepEqual(b.errors, [], 'the page logged errors');
    } finally {
      await b.close();
    }
  });
}
