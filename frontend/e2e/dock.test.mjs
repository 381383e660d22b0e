// The command map's dock (issue 18): its side panels (周边, a grid's
// statistics, cases, alarms, who is affected) share one place, one open at
// a time. At 1366×768 and on a 390×844 phone each is opened in turn, each
// while another is open: then only it is open (the one before closed, its
// toolbar button released), its header, close button and first tool are
// shown whole and uncovered, so are the search box, the layer panel's
// heading, the zoom buttons and the toolbar, and no two panels lie over one
// another (e2e/layout.mjs). Photographed as dock-PANEL-WxH.png. Before the
// dock, a panel opened over the one already open (both shown, one covering
// the other's controls).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openMap, WAIT_MS } from './browser.mjs';
import { layout, onScreen } from './layout.mjs';

const SIZES = [
  { size: '1366x768', options: { viewport: { width: 1366, height: 768 } } },
  { size: '390x844', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
];

// OPEN opens each panel as a user does; the button that opened it (null
// where none stays pressed).
const OPEN = {
  around: { button: '#around-button', async open(page) {
    await page.click('#around-button');
    await page.click('#pick-centre');
  }, pressed: null },
  'grid-side': { async open(page) {
    await page.fill('#search-input', 'shishan');
    await page.locator('#search-results [role="option"]').first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#grid-side .om-stats').waitFor();
  }, pressed: null },
  cases: { async open(page) { await page.click('#cases-button'); }, pressed: '#cases-button' },
  alarms: { async open(page) { await page.click('#alarms-button'); }, pressed: '#alarms-button' },
  affected: { async open(page) { await page.click('#affected-button'); }, pressed: '#affected-button' },
};
// The order they are opened in: each while the one before is open, the
// last (周边 again) closing the first's successor.
const ORDER = ['around', 'grid-side', 'cases', 'alarms', 'affected', 'around'];

for (const { size, options } of SIZES) {
  const phone = size === '390x844';
  describe(`the command map's dock at ${size}`, { timeout: 10 * 60_000 }, () => {
    it('shows one side panel at a time, none hiding another\'s controls', async () => {
      const b = await openMap({ ...options, reducedMotion: 'reduce', locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
      const { page } = b;
      try {
        await page.waitForFunction(() => window.onemap.cases && window.onemap.alarms && window.onemap.affected &&
          document.getElementById('affected-button') && document.getElementById('alarms-button'), null, { timeout: WAIT_MS });
        for (const [i, id] of ORDER.entries()) {
          const p = OPEN[id];
          await p.open(page);
          await page.locator(`#${id}`).waitFor({ state: 'visible' });
          // The dock closes the one before on the next turn of the event loop.
          await page.waitForFunction((want) => [...document.querySelectorAll('aside.om-side')].filter((el) => !el.hidden).length === 1 &&
            document.body.dataset.dock === want, id, { timeout: WAIT_MS });
          const open = await page.evaluate(() => [...document.querySelectorAll('aside.om-side')].filter((el) => !el.hidden).map((el) => el.id));
          assert.deepEqual(open, [id], `after opening ${id}${i ? ` over ${ORDER[i - 1]}` : ''}`);
          const pressed = await page.evaluate(() => [...document.querySelectorAll('#toolbar [aria-pressed="true"]')].map((el) => `#${el.id}`));
          assert.deepEqual(pressed, p.pressed ? [p.pressed] : [], `toolbar buttons pressed with ${id} open`);

          const own = [`#${id} .om-side-head h2`, `#${id} .om-close`];
          if (await page.locator(`#${id} .om-side-tools`).count()) own.push(`#${id} .om-side-tools > :first-child`);
          const others = ['#search-input', '#around-button', '#panel summary', '.maplibregl-ctrl-zoom-in', '#toolbar'];
          if (!phone) others.push('#cases-button', '#alarms-button', '#affected-button', '#measure-distance');
          await b.screenshot(`dock-${id}-${size}`);
          assert.deepEqual(await onScreen(page, [...own, ...others]), [], `${id} open at ${size}: controls hidden`);
          if (phone) {
            // The map's card (the grid's, with the statistics) waits behind the panel, not over or under it.
            const cardOver = await page.evaluate((side) => {
              const s = document.getElementById(side).getBoundingClientRect();
              return [...document.querySelectorAll('.maplibregl-popup')].some((p) => {
                const r = p.getBoundingClientRect();
                return getComputedStyle(p).visibility !== 'hidden' && r.width > 0 &&
                  r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
              });
            }, id);
            assert.equal(cardOver, false, `${id} open at ${size}: the map's card lies over the panel`);
          }
          const got = await layout(page);
          assert.deepEqual(got.over, [], `${id} open at ${size}: panels over one another`);
          assert.deepEqual(got.off, [], `${id} open at ${size}: panels off the screen`);
          assert.equal(got.wide, 0, `${id} open at ${size}: the page scrolls sideways`);
        }
        // Its close button closes the open panel: the dock is empty.
        await page.click('#around-close');
        await page.waitForFunction(() => [...document.querySelectorAll('aside.om-side')].every((el) => el.hidden) && !document.body.dataset.dock);
        assert.deepEqual(b.foreign, []);
        assert.deepEqual(b.errors, []);
      } finally {
        await b.close();
      }
    });
  });
}
