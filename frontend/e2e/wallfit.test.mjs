// The control-room wall (/screen/) as a wall shows it, at 1920×1080 and at
// 3840×2160, and in English at 1366×768 and 1280×720 (laptops: the longer
// words in the least room), in headless Chromium with no Chinese font of the machine's (a
// control-room PC may have none): measured by the boxes it draws, nothing
// overflows or overlaps. The header's title, clock, live mark and button
// lie apart within it; the left column's cards (cases, alarms, changes),
// the figures' cards and the legend each lie whole within the screen and
// their column, apart from one another and from the header, and what a
// card holds stays within the card; the county the map draws lies between
// the two columns, under the header and above the legend. Every Chinese
// character shown, the data's names too, is drawn with the UI's own font
// (OneMap Sans), not as a box; in English only the data's names are
// Chinese. Figures that share a row have room beside them (1.5 of the
// wall's rem: at 1366×768 in English "Assessments overdue" and "Grid
// workers" had 5 px, and a longer count sent one onto a row of its own). The live list of new and escalated cases says when it has none
// (it was an empty box). A figure's label stays on one line. Screenshots
// for a reviewer: e2e/out/wallfit-1920x1080.png, wallfit-3840x2160.png,
// wallfit-1366x768-en.png, wallfit-1280x720-en.png.
//
// On a phone (360×800, 390×844; and 360×800 in English) the wall is one
// column that scrolls: the header, the map with the whole county, the
// figures, the legend, then cases, alarms and changes. Nothing is cut: no
// figure's digits or label and no list line is wider than its box (they
// were: 143, 3,296 and 92.0% cut in a quarter of the screen, 暂无新上报与提级
// ended in "…"), nothing runs past the screen's sides, and a long change
// wraps onto a second line. Screenshots (the whole page):
// e2e/out/wallfit-phone-360x800.png, wallfit-phone-390x844.png,
// wallfit-phone-360x800-en.png.
//
// Both read the page with one measure (wallBoxes) and open the wall the
// same way (onWall).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { databaseURL, noChineseFonts, openMap, OUT, sql, WAIT_MS } from './browser.mjs';
import { boxedText, layout } from './layout.mjs';

// wallBoxes reads, in the page, the wall as both checks see it. At a desk
// (bad): what overlaps or overflows, the header's parts, the columns, the
// legend and the cards; room: the least room beside the figures that share
// a row, in px, and the wall's rem. On a phone (cut): every part of the
// header, the figures, the lists and the legend whose content is wider than
// its box (scrollWidth over clientWidth: digits cut, a line that ends in
// "…") or that runs past the screen's sides; lines: the live lists' lines.
// For both: where the header, the columns, the legend, the map and the
// county it draws lie (the map is scaled on a wall).
function wallBoxes(page) {
  return page.evaluate(() => {
    const r = (el) => {
      const b = el.getBoundingClientRect();
      return { left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height };
    };
    const name = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.dataset.figure ? `[data-figure=${el.dataset.figure}]`
      : [...el.classList].slice(0, 2).map((c) => `.${c}`).join('')}`;
    const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    const meets = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
    const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 && a.bottom <= b.bottom + 0.5;
    const screen = { left: 0, top: 0, right: innerWidth, bottom: innerHeight };
    const head = document.querySelector('.om-screen-head');
    const headParts = [...head.children].filter(shown);
    const left = document.getElementById('wall-left');
    const figures = document.getElementById('figures');
    const leftCards = [...left.querySelectorAll(':scope > section, :scope > section > *')].filter((el) => shown(el) && getComputedStyle(el).backgroundColor !== 'rgba(0, 0, 0, 0)');
    const figureCards = [...figures.children].filter(shown);
    const legend = document.getElementById('legend');
    const updated = document.getElementById('screen-updated');
    const blocks = [{ el: left, col: true }, { el: figures, col: true }, { el: legend }, { el: updated }].filter(({ el }) => shown(el));
    const bad = [];
    // The header's parts: apart, in the header, on the screen.
    for (let i = 0; i < headParts.length; i++) {
      if (!inside(r(headParts[i]), r(head))) bad.push(`${name(headParts[i])} out of the header`);
      for (let j = i + 1; j < headParts.length; j++) if (meets(r(headParts[i]), r(headParts[j]))) bad.push(`${name(headParts[i])} × ${name(headParts[j])}`);
    }
    // The blocks: on the screen, under the header, apart.
    for (let i = 0; i < blocks.length; i++) {
      const a = r(blocks[i].el);
      if (!inside(a, screen)) bad.push(`${name(blocks[i].el)} off the screen ${JSON.stringify(a)}`);
      if (a.top < r(head).bottom - 0.5 && blocks[i].el !== updated) bad.push(`${name(blocks[i].el)} under the header`);
      for (let j = i + 1; j < blocks.length; j++) if (meets(a, r(blocks[j].el))) bad.push(`${name(blocks[i].el)} × ${name(blocks[j].el)}`);
    }
    // The cards: whole in their column, apart; what they hold stays in them.
    for (const [col, cards] of [[left, leftCards], [figures, figureCards]]) {
      for (let i = 0; i < cards.length; i++) {
        const a = r(cards[i]);
        if (!inside(a, r(col))) bad.push(`${name(cards[i])} cut by its column (${JSON.stringify(a)} in ${JSON.stringify(r(col))})`);
        for (let j = i + 1; j < cards.length; j++) {
          if (!cards[i].contains(cards[j]) && !cards[j].contains(cards[i]) && meets(a, r(cards[j]))) bad.push(`${name(cards[i])} × ${name(cards[j])}`);
        }
      }
    }
    // Text that runs out of its card or the legend (a live list's line is cut
    // with an ellipsis on purpose: its own box stays in the card).
    for (const card of [...figureCards, ...leftCards, legend].filter(shown)) {
      const c = r(card);
      for (const el of card.querySelectorAll('*')) {
        if (!shown(el)) continue;
        const e = r(el);
        if (e.width < 1 || e.height < 1) continue;
        if (e.right > c.right + 0.5 || e.left < c.left - 0.5) bad.push(`${name(el)} '${el.textContent.trim().slice(0, 16)}' runs out of ${name(card)} sideways`);
        if (e.bottom > c.bottom + 0.5 && getComputedStyle(card).overflow === 'visible') bad.push(`${name(el)} runs out of ${name(card)} below`);
      }
    }
    // A figure's label stays on one line ("Assessments overdue" broke onto
    // two in half of the 1366 px column).
    for (const label of [...figures.querySelectorAll('.om-figure-label'), ...left.querySelectorAll('.om-figure-label')].filter(shown)) {
      const range = document.createRange();
      range.selectNodeContents(label);
      const lines = new Set([...range.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size;
      if (lines > 1) bad.push(`label '${label.textContent.trim()}' on ${lines} lines`);
    }
    // The room beside the figures that share a row: the column's width less
    // what each needs (its width with nothing shared out) and the gaps.
    const rows = new Map();
    for (const card of figureCards) {
      const top = Math.round(r(card).top);
      rows.set(top, [...(rows.get(top) ?? []), card]);
    }
    let room = null;
    for (const row of rows.values()) {
      if (row.length < 2) continue;
      const need = row.reduce((sum, card) => {
        const free = card.cloneNode(true);
        free.style.cssText = 'position: absolute; visibility: hidden; width: max-content; flex: none';
        figures.append(free);
        const w = free.getBoundingClientRect().width;
        free.remove();
        return sum + w;
      }, 0) + (row.length - 1) * parseFloat(getComputedStyle(figures).columnGap || '0');
      const spare = figures.clientWidth - need;
      if (room === null || spare < room.px) room = { px: spare, row: row.map((card) => card.dataset.figure) };
    }
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
    // What a phone cuts, and what runs past the screen's sides.
    const width = document.documentElement.clientWidth;
    const cut = [];
    let lines = 0;
    for (const el of document.querySelectorAll(['.om-screen-head, .om-screen-head *', '#figures, #figures *', '#wall-left, #wall-left *',
      '#legend, #legend *', '#screen-updated'].join(', '))) {
      if (!shown(el)) continue;
      const text = el.textContent.trim().slice(0, 20);
      if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth) cut.push(`${name(el)} '${text}' cut: ${el.scrollWidth} px in ${el.clientWidth}`);
      const b = r(el);
      if (b.left < -0.5 || b.right > width + 0.5) cut.push(`${name(el)} '${text}' runs past the screen [${Math.round(b.left)}, ${Math.round(b.right)}] of ${width}`);
      if (el.matches('#case-live > li, #alarm-live > li, #change-live > li')) lines++;
    }
    // The county the map draws, on the screen (the map is scaled for the wall).
    const { map } = window.onemap;
    const canvas = map.getCanvas();
    const cb = canvas.getBoundingClientRect();
    const k = cb.width / canvas.clientWidth;
    let county = null;
    for (const f of map.queryRenderedFeatures().filter((x) => x.sourceLayer === 'grids' && x.properties.level === 'county')) {
      const rings = f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat();
      for (const ring of rings) {
        for (const c of ring) {
          const p = map.project(c);
          const x = cb.left + p.x * k;
          const y = cb.top + p.y * k;
          county = county ? { left: Math.min(county.left, x), right: Math.max(county.right, x), top: Math.min(county.top, y), bottom: Math.max(county.bottom, y) }
            : { left: x, right: x, top: y, bottom: y };
        }
      }
    }
    return {
      bad, room, rem, cut, lines, county, width, wide: document.documentElement.scrollWidth > width ? document.documentElement.scrollWidth : 0,
      head: r(head), left: r(left), figures: r(figures), legend: shown(legend) ? r(legend) : null, map: r(document.getElementById('map')),
      below: [...(shown(legend) ? [legend] : []), figures, left].map((el) => ({ name: name(el), ...r(el) })),
      cards: leftCards.length + figureCards.length,
    };
  });
}

// onWall opens the wall at width×height in lang in a browser without the
// machine's Chinese fonts, once its figures are in (and on a phone, its
// event stream), for the tests checks adds (wall() is the opened page's
// openMap handle), then checks that nothing left the machine and the page
// logged no error.
function onWall(title, { width, height, lang, phone }, checks) {
  describe(title, { timeout: 10 * 60_000 }, () => {
    let b;
    let fonts;

    before(async () => {
      fonts = noChineseFonts();
      b = await openMap({ viewport: { width, height }, env: fonts.env }, `/screen/?lang=${lang}`);
      await b.page.waitForFunction((live) => window.onemap.figures && window.onemap.alarms && window.onemap.faults &&
        (!live || document.getElementById('live').dataset.state === 'on'), phone, { timeout: WAIT_MS });
      await b.page.evaluate(() => document.fonts.ready);
      await b.waitIdle();
    });
    after(async () => {
      await b?.close();
      fonts?.remove();
    });

    checks(() => b);

    it('made no request off this machine and logged no error', () => {
      assert.deepEqual(b.foreign, []);
      assert.deepEqual(b.errors, []);
    });
  });
}

// drawsChinese checks that no Chinese character shows as a box (drawn
// without the UI's font) outside the map, and returns how many elements
// with Chinese it checked.
async function drawsChinese(page) {
  const { checked, boxed } = await boxedText(page, '.maplibregl-map');
  assert.deepEqual(boxed, [], 'Chinese drawn without the UI\'s font (boxes)');
  return checked;
}

// The screens measured: the two a wall has, and small ones (laptops) in
// English, whose longer words must fit the same columns.
for (const [width, height, lang] of [[1920, 1080, 'zh'], [3840, 2160, 'zh'], [1366, 768, 'en'], [1280, 720, 'en']]) {
  const shot = `wallfit-${width}x${height}${lang === 'zh' ? '' : `-${lang}`}`;
  onWall(`the wall fits a ${width}×${height} screen (${lang})`, { width, height, lang }, (wall) => {
    it('lays its parts out apart and whole, the county between the columns, room beside the figures that share a row', async () => {
      const b = wall();
      const m = await wallBoxes(b.page);
      console.log(`${width}×${height}: ${m.cards} cards; county ${JSON.stringify(m.county)}; room beside ${JSON.stringify(m.room)} (rem ${m.rem} px)`);
      assert.deepEqual(m.bad, [], `the wall at ${width}×${height}`);
      assert.ok(m.cards >= 6, `only ${m.cards} cards`);
      assert.ok(m.room, 'no figures share a row');
      assert.ok(m.room.px >= 1.5 * m.rem, `${m.room.row.join(' and ')} share a row with ${Math.round(m.room.px)} px to spare, under 1.5 rem (${1.5 * m.rem} px)`);
      // The panels layout.mjs knows: none off the screen, over another or cut.
      const got = await layout(b.page);
      assert.deepEqual([got.wide, got.off, got.over], [0, [], []], `the wall at ${width}×${height}`);
      const c = m.county;
      assert.ok(c, 'no county drawn');
      assert.ok(c.left >= m.left.right && c.right <= m.figures.left, `the county runs under a column: ${JSON.stringify(m)}`);
      assert.ok(c.top >= m.head.bottom, `the county runs under the header: ${JSON.stringify(m)}`);
      if (m.legend) assert.ok(c.bottom <= m.legend.top, `the county runs under the legend: ${JSON.stringify(m)}`);
      // The county fills the room between the columns, from 5 m a map, not a stamp.
      assert.ok(c.bottom - c.top >= 0.6 * (height - m.head.bottom), `the county is ${Math.round(c.bottom - c.top)} px tall of ${height}`);
      await b.screenshot(shot);
      // The check bites: the legend stretched under the figures' column is reported.
      await b.page.evaluate(() => { document.getElementById('legend').style.right = '0'; });
      const moved = await wallBoxes(b.page);
      await b.page.evaluate(() => { document.getElementById('legend').style.right = ''; });
      assert.ok(moved.bad.includes('#figures × #legend'), `the legend over the figures went unseen: ${JSON.stringify(moved.bad)}`);
    });

    it('says when no case is new or escalated yet (the card was an empty box)', async () => {
      // The list holds what the event stream brought since the page opened: none yet.
      const live = await wall().page.evaluate(() => [...document.querySelectorAll('#case-live > li')].map((li) => ({ text: li.textContent.trim(), cls: li.className })));
      assert.deepEqual(live, [{ text: lang === 'en' ? 'No new or escalated case yet' : '暂无新上报与提级', cls: 'om-wall-empty' }]);
    });

    it(`draws every Chinese character it shows with the UI's own font${lang === 'en' ? ', Chinese only in the data\'s names' : ''}`, async () => {
      const { page } = wall();
      const fonts = await page.evaluate(() => [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'OneMap Sans').map((f) => f.status));
      assert.ok(fonts.includes('loaded'), `OneMap Sans is not loaded: ${fonts}`);
      const checked = await drawsChinese(page);
      if (lang === 'zh') {
        assert.ok(checked > 20, `only ${checked} elements with Chinese text`);
        return;
      }
      // In English the Chinese left is the data's names (the county's in the
      // title, the townships'), never the wall's own words.
      const words = await page.evaluate(() => [...document.querySelectorAll('[data-font-probe]')]
        .filter((el) => !el.closest('#screen-title, .om-faults [data-grid], #alarm-live, #change-live, #case-live'))
        .map((el) => el.textContent.trim()));
      assert.ok(checked >= 1, 'no data name in Chinese on the English wall');
      assert.deepEqual(words, [], 'Chinese words on the English wall');
    });
  });
}

for (const [width, height, lang] of [[360, 800, 'zh'], [390, 844, 'zh'], [360, 800, 'en']]) {
  const shot = `wallfit-phone-${width}x${height}${lang === 'zh' ? '' : `-${lang}`}`;
  onWall(`the wall on a ${width}×${height} phone (${lang}): one column, nothing cut`, { width, height, lang, phone: true }, (wall) => {
    it('cuts no figure, label or list line and runs past neither side; the map holds the county above the rest', async () => {
      const { page } = wall();
      const m = await wallBoxes(page);
      console.log(`${width}×${height} ${lang}: map ${JSON.stringify(m.map)}; county ${JSON.stringify(m.county)}; ${m.lines} list lines`);
      assert.deepEqual(m.cut, [], `the wall at ${width}×${height}`);
      assert.equal(m.wide, 0, 'the page scrolls sideways');
      assert.ok(m.lines >= 3, `only ${m.lines} list lines (cases, alarms, changes: each says when it has none)`);
      // The map: under the header, the width of the screen, most of its height.
      assert.ok(m.map.top >= m.head.bottom - 0.5, `the map runs under the header: ${JSON.stringify(m)}`);
      assert.ok(m.map.left >= -0.5 && m.map.right <= m.width + 0.5 && m.map.width >= m.width - 1, `the map is not the screen's width: ${JSON.stringify(m.map)}`);
      assert.ok(m.map.height >= 0.5 * height, `the map is ${Math.round(m.map.height)} px tall of ${height}`);
      for (const x of m.below) assert.ok(x.top >= m.map.bottom - 0.5, `${x.name} over the map: ${JSON.stringify(m)}`);
      // The county: whole in the map, and filling it (a map, not a stamp).
      const c = m.county;
      assert.ok(c, 'no county drawn');
      assert.ok(c.left >= m.map.left - 0.5 && c.right <= m.map.right + 0.5 && c.top >= m.map.top - 0.5 && c.bottom <= m.map.bottom + 0.5,
        `the county runs out of the map: ${JSON.stringify(m)}`);
      assert.ok(c.bottom - c.top >= 0.8 * m.map.height || c.right - c.left >= 0.8 * m.map.width, `the county is small in its map: ${JSON.stringify(m)}`);
      // The layout of layout.mjs: no panel off the screen, over another or cut.
      const got = await layout(page);
      assert.deepEqual([got.wide, got.off, got.over, got.cut], [0, [], [], []], `the wall at ${width}×${height}`);
    });

    // (Before a change comes: it draws the figures and the list anew.)
    it('draws every Chinese character it shows with the UI\'s own font', async () => {
      await drawsChinese(wall().page);
    });

    it('wraps a long change onto lines of its own width, cut nowhere', async () => {
      const { page } = wall();
      const db = databaseURL();
      assert.ok(db, 'no database to write to');
      // The values wall.test.mjs writes: whichever runs first, the same zone's.
      const [[zone]] = sql(db, `UPDATE hazard_zones SET threatened_households = 23, threatened_people = 71
        WHERE id = (SELECT min(id) FROM hazard_zones WHERE level = 'red') RETURNING id`);
      await page.waitForFunction((z) => window.onemap.changes.some((x) => x.layer === 'hazard_zones' && x.id === z), Number(zone), { timeout: WAIT_MS });
      const line = await page.evaluate(() => {
        const li = document.querySelector('#change-live > li');
        const range = document.createRange();
        range.selectNodeContents(li);
        return { text: li.textContent.trim(), lines: new Set([...range.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.bottom))).size };
      });
      assert.match(line.text, lang === 'zh' ? /威胁 23 户 71 人/ : /threatens 23 households, 71 people/);
      assert.ok(line.lines >= 2, `the change is on ${line.lines} line: ${JSON.stringify(line)}`);
      const m = await wallBoxes(page);
      assert.deepEqual(m.cut, [], `the wall at ${width}×${height} with a change listed`);
      await page.screenshot({ path: `${OUT}/${shot}.png`, fullPage: true });
      console.log(`screenshot: ${OUT}/${shot}.png`);
    });
  });
}
