// The command map's tools where the screen is short of room, in headless
// Chromium, measured by the boxes the page draws:
//
// On a phone (390×844, 360×640) the measuring tool's hint lies under the
// tools' row, which stays free to tap, and the layer column starts below
// the hint, folded or unfolded: it lay over the row's middle chips and the
// layers' heading (195×33 px of the row, 103×36 px of the column at
// 390×844).
//
// On a narrow desk (601–1000 px) the toolbar is one row right of the search
// box, scrolling sideways where its chips do not fit (a cue at the end with
// more beyond it): it wrapped its labels into two lines at 601 px and ran
// over the search box below about 975 px (the box cut at 800 px, its input
// covered by the 预警 chip), and over the layer column's top at 601 px.
// The cursor's coordinates sit above the scale where the attribution,
// on one line at the right, reaches the scale's side (601–760 px): they lay
// over its start (113×17 px at 601, 34×17 at 680).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMap, WAIT_MS } from './browser.mjs';
import { layout, lowContrast, onScreen } from './layout.mjs';

const box = (page, sel) => page.evaluate((s) => document.querySelector(s).getBoundingClientRect().toJSON(), sel);
const apart = (a, b) => a.right <= b.left + 0.5 || b.right <= a.left + 0.5 || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5;

// checkHintBar checks a phone's hint bar (sels[0], with its parts sels):
// the panels on the screen, apart and whole, and the hint between the
// tools and the layers; with a side panel (side) open, the panel still
// open, its parts extra whole, and the layers ending above it.
async function checkHintBar(page, what, sels, { side = null, extra = [] } = {}) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const boxes = {};
  for (const sel of [sels[0], '#toolbar', '#panel', ...(side ? [side] : [])]) boxes[sel] = await box(page, sel);
  const why = `${what} (${JSON.stringify(boxes)})`;
  if (side) assert.ok(await page.locator(side).isVisible(), `${what}: the side panel closed`);
  const got = await layout(page);
  assert.deepEqual([got.off, got.over, got.cut], [[], [], []], `${what}: panels off the screen, over one another or cut ${why}`);
  assert.deepEqual(await onScreen(page, [...sels, '#panel > details > summary', '#search-input', ...extra]), [], what);
  assert.ok(boxes[sels[0]].top >= boxes['#toolbar'].bottom, `${what}: the hint lies over the tools' row ${why}`);
  assert.ok(boxes['#panel'].top >= boxes[sels[0]].bottom, `${what}: the layers start over the hint ${why}`);
  if (side) assert.ok(boxes['#panel'].bottom <= boxes[side].top, `${what}: the layers run under the side panel ${why}`);
}

for (const [width, height] of [[390, 844], [360, 640]]) {
  test(`the measuring hint on a phone at ${width}×${height} leaves the tools and the layers free`, { timeout: 4 * WAIT_MS }, async () => {
    const b = await openMap({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const { page } = b;
    try {
      await page.locator('#measure-distance').click();
      await page.waitForSelector('#measure-hint:not([hidden])');
      await page.locator('#measure-centre').click();
      await page.evaluate(() => window.onemap.map.panBy([60, 40], { duration: 0 }));
      await page.locator('#measure-centre').click();
      await page.waitForFunction(() => document.querySelector('#measure-result').textContent.trim() !== '');
      const check = async (what) => {
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const boxes = {};
        for (const sel of ['#measure-hint', '#toolbar', '#panel', '.om-search-row']) boxes[sel] = await box(page, sel);
        const got = await layout(page);
        assert.deepEqual(got.over, [], `${what} at ${width}×${height}: panels over one another (${JSON.stringify(boxes)})`);
        assert.deepEqual(got.off, [], `${what} at ${width}×${height}: panels off the screen`);
        assert.deepEqual(await onScreen(page, ['#measure-hint', '#measure-result', '#measure-centre', '#measure-finish', '#measure-clear',
          '#panel > details > summary', '#search-input']), [], `${what} at ${width}×${height}`);
        // The tools' row: its chips in view are whole and free to tap.
        const row = await page.evaluate(() => {
          const bar = document.querySelector('#toolbar');
          const r = bar.getBoundingClientRect();
          return [...bar.children].filter((el) => el.offsetParent && !el.classList.contains('om-tools-more')).map((el) => {
            const c = el.getBoundingClientRect();
            if (c.right <= r.left || c.left >= r.right) return null;
            const hit = document.elementFromPoint(Math.max(c.left, r.left + 1) + 2, c.top + c.height / 2);
            return hit && (el.contains(hit) || hit.closest('.om-tools-more')) ? null : `${el.id || el.textContent.trim()} covered by ${hit?.id || hit?.className}`;
          }).filter(Boolean);
        });
        assert.deepEqual(row, [], `${what} at ${width}×${height}: tools covered`);
        assert.ok(boxes['#measure-hint'].top >= boxes['#toolbar'].bottom, `${what}: the hint lies over the tools' row (${JSON.stringify(boxes)})`);
        assert.ok(boxes['#panel'].top >= boxes['#measure-hint'].bottom, `${what}: the layers start over the hint (${JSON.stringify(boxes)})`);
        // The hint's help and its buttons keep their words on a line (用地图中心 was stacked a character a line).
        const centre = boxes['#measure-hint'] && await box(page, '#measure-centre');
        assert.ok(centre.height < 40, `${what}: 用地图中心 wraps (${centre.height} px tall)`);
        assert.deepEqual(await lowContrast(page, '#measure-hint'), [], `${what}: the hint's text too faint`);
      };
      await check('folded layers');
      await b.screenshot(`narrowtools-measure-${width}x${height}`);
      await page.locator('#panel > details > summary').click();
      await check('unfolded layers');
      const panel = await box(page, '#panel');
      assert.ok(panel.height >= 100, `the unfolded layers have ${panel.height} px under the hint`);
      await b.screenshot(`narrowtools-measure-open-${width}x${height}`);
      // Ended, the hint gives the room back to the layers.
      await page.locator('#measure-clear').click();
      await page.keyboard.press('Escape');
      await page.waitForSelector('#measure-hint', { state: 'hidden' });
      const after = await box(page, '#panel');
      assert.ok(after.top < panel.top - 20, `the layers stay low after measuring (${after.top} against ${panel.top})`);
      assert.deepEqual(b.foreign, [], 'requests left the machine');
      assert.deepEqual(b.errors, [], 'the page logged errors');
    } finally {
      await b.close();
    }
  });
}

// The other hints share the bar on a phone: picking the centre of 周边 and
// the view's link (its box held a 360 px field, wider than the phone's
// room for it).
test('the pick hint and the link box on a phone at 390×844 lie whole under the tools', { timeout: 4 * WAIT_MS }, async () => {
  const b = await openMap({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const { page } = b;
  try {
    const check = (what, sels) => checkHintBar(page, what, sels);
    await page.locator('#around-button').click();
    await page.waitForSelector('#pick-hint:not([hidden])');
    await check('picking 周边', ['#pick-hint', '#pick-centre', '#pick-cancel']);
    await b.screenshot('narrowtools-pick-390x844');
    await page.locator('#pick-cancel').click();
    await page.waitForSelector('#pick-hint', { state: 'hidden' });
    await page.locator('#copy-link').scrollIntoViewIfNeeded();
    await page.locator('#copy-link').click();
    await page.waitForSelector('#link-box:not([hidden])');
    await check('the view\'s link', ['#link-box', '#link-text', '#link-close']);
    await b.screenshot('narrowtools-link-390x844');
    assert.deepEqual(b.foreign, [], 'requests left the machine');
    assert.deepEqual(b.errors, [], 'the page logged errors');
  } finally {
    await b.close();
  }
});

// With a side panel open (the dock is the bottom of a phone's screen) the
// hints keep their bar between the tools and the layers, and the layers
// end above the panel: hint, layers, panel, search row and tools lie apart
// and whole, folded layers or unfolded (unchecked before).
test('the hints on a phone at 390×844 with a side panel open lie between the tools and the layers, above the panel', { timeout: 6 * WAIT_MS }, async () => {
  const b = await openMap({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const { page } = b;
  try {
    await page.locator('#around-button').click();
    await page.locator('#pick-centre').click();
    await page.locator('#around').waitFor({ state: 'visible' });
    const check = (what, sels) => checkHintBar(page, what, sels, { side: '#around', extra: ['#around-close', '#around-radius'] });
    for (const folded of [true, false]) {
      const state = folded ? 'folded layers' : 'unfolded layers';
      if (!folded) await page.locator('#panel > details > summary').click();
      await page.locator('#measure-distance').click();
      await page.waitForSelector('#measure-hint:not([hidden])');
      await page.locator('#measure-centre').click();
      await page.evaluate(() => window.onemap.map.panBy([60, 40], { duration: 0 }));
      await page.locator('#measure-centre').click();
      await page.waitForFunction(() => document.querySelector('#measure-result').textContent.trim() !== '');
      await check(`measuring with 周边 open, ${state}`, ['#measure-hint', '#measure-result', '#measure-centre', '#measure-finish', '#measure-clear']);
      await b.screenshot(`narrowtools-side-measure-${folded ? 'folded' : 'open'}-390x844`);
      // Ended by its button (Escape ends it too and leaves 周边 open: escape.test.mjs).
      await page.locator('#measure-distance').click();
      await page.waitForSelector('#measure-hint', { state: 'hidden' });
      await page.locator('#around-button').click();
      await page.waitForSelector('#pick-hint:not([hidden])');
      await check(`picking 周边 with 周边 open, ${state}`, ['#pick-hint', '#pick-centre', '#pick-cancel']);
      await b.screenshot(`narrowtools-side-pick-${folded ? 'folded' : 'open'}-390x844`);
      await page.locator('#pick-cancel').click();
      await page.waitForSelector('#pick-hint', { state: 'hidden' });
    }
    // The check bites: the search row (a panel for layout.mjs since it
    // looks through the unpainted boxes holding it) moved onto the tools.
    await page.evaluate(() => { document.querySelector('.om-search-row').style.transform = 'translateY(48px)'; });
    const moved = await layout(page);
    await page.evaluate(() => { document.querySelector('.om-search-row').style.transform = ''; });
    assert.ok(moved.over.some((pair) => /om-search-row/.test(pair) && /#toolbar/.test(pair)), `the search row over the tools went unseen: ${JSON.stringify(moved.over)}`);
    assert.deepEqual(b.foreign, [], 'requests left the machine');
    assert.deepEqual(b.errors, [], 'the page logged errors');
  } finally {
    await b.close();
  }
});

for (const width of [601, 680, 740, 800, 900, 1000]) {
  test(`the toolbar, the search box and the coordinates at ${width}×800`, { timeout: 4 * WAIT_MS }, async () => {
    const b = await openMap({ viewport: { width, height: 800 } });
    const { page } = b;
    try {
      // The coordinates show where the cursor is over the map.
      await page.mouse.move(Math.round(width * 0.7), 400);
      await page.waitForFunction(() => document.querySelector('#coords').textContent.trim() !== '');
      const sels = ['#toolbar', '.om-search-row', '#panel', '#coords', '.maplibregl-ctrl-attrib', '.maplibregl-ctrl-scale'];
      const boxes = {};
      for (const sel of sels) boxes[sel] = await box(page, sel);
      const why = JSON.stringify(boxes);
      const got = await layout(page);
      assert.deepEqual(got.over, [], `panels over one another at ${width}×800 (${why})`);
      assert.deepEqual(got.off, [], `panels off the screen at ${width}×800`);
      const bar = boxes['#toolbar'];
      assert.ok(bar.height < 40, `the toolbar wraps at ${width}×800: ${bar.height} px tall`);
      assert.ok(apart(bar, boxes['.om-search-row']), `the toolbar lies over the search box at ${width}×800 (${why})`);
      assert.ok(apart(bar, boxes['#panel']), `the toolbar lies over the layers at ${width}×800 (${why})`);
      assert.ok(apart(boxes['#coords'], boxes['.maplibregl-ctrl-attrib']), `the coordinates lie over the attribution at ${width}×800 (${why})`);
      assert.ok(apart(boxes['#coords'], boxes['.maplibregl-ctrl-scale']), `the coordinates lie over the scale at ${width}×800 (${why})`);
      assert.deepEqual(await onScreen(page, ['#search-input', '#around-button', '#coords', '.maplibregl-ctrl-attrib-inner', '.maplibregl-ctrl-scale']), [],
        `at ${width}×800`);
      // Every tool can be reached: chips past the row's end are announced by its cue.
      const row = await page.evaluate(() => {
        const el = document.querySelector('#toolbar');
        return { more: el.dataset.more ?? '', over: el.scrollWidth > el.clientWidth + 1, shows: getComputedStyle(el.querySelector('.om-tools-more-right')).display };
      });
      if (row.over) {
        assert.match(row.more, /right/, `tools past the toolbar's end with nothing saying so at ${width}×800`);
        assert.notEqual(row.shows, 'none', `the toolbar's cue is not shown at ${width}×800`);
      }
      await b.screenshot(`narrowtools-desk-${width}x800`);
      if (row.over) {
        await page.locator('#toolbar .om-tools-more-right span').click();
        await page.waitForFunction(() => /left/.test(document.querySelector('#toolbar').dataset.more ?? ''));
        await page.waitForTimeout(600); // the smooth scroll
        await b.screenshot(`narrowtools-desk-${width}x800-scrolled`);
      }
      assert.deepEqual(b.foreign, [], 'requests left the machine');
      assert.deepEqual(b.errors, [], 'the page logged errors');
    } finally {
      await b.close();
    }
  });
}
