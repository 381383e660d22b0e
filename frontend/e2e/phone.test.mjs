// The command map on a phone (390×844) in headless Chromium: the search box
// is free to tap, the tools are one row under it that does not wrap, and
// the layers open folded so that the map comes first, the whole county
// above the zoom buttons.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMap, WAIT_MS } from './browser.mjs';

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
    assert.deepEqual(b.foreign, [], 'requests left the machine');
    assert.deepEqual(b.errors, [], 'the page logged errors');
  } finally {
    await b.close();
  }
});
