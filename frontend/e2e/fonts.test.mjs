// The UI on a machine with no font of its own (a kiosk, a fresh Linux, a
// control-room PC without Chinese fonts): Chromium runs under a fontconfig
// that lists one Latin font only, so every Chinese character it draws comes
// from the fonts the pages ship. Every page must load "OneMap Sans" (src/font.css)
// and draw Chinese with it, and the font must hold every Chinese character
// written in the client's sources.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, noChineseFonts, openMap, WAIT_MS } from './browser.mjs';
import { boxedText } from './layout.mjs';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const HTML = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

// cjkOf returns the CJK and full-width characters written in the client's
// sources and pages.
function cjkOf() {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|css|html)$/.test(e.name)) files.push(p);
    }
  };
  walk(SRC);
  for (const page of ['index.html', 'editor/index.html', 'm/index.html', 'audit/index.html', 'screen/index.html']) {
    const p = path.join(HTML, page);
    if (fs.existsSync(p)) files.push(p);
  }
  const chars = new Set();
  for (const f of files) {
    for (const ch of fs.readFileSync(f, 'utf8')) {
      if (/[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]/u.test(ch)) chars.add(ch);
    }
  }
  return [...chars].join('');
}

// missingGlyphs returns, from the page, the characters of chars that
// "OneMap Sans" cannot draw: they fall back to whatever the machine has
// (here no Chinese) and come out as the box of a missing glyph.
async function missingGlyphs(page, chars) {
  return page.evaluate(async (text) => {
    await document.fonts.load('32px "OneMap Sans"', text);
    const canvas = document.createElement('canvas');
    canvas.width = 48;
    canvas.height = 48;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const pixels = (ch, family) => {
      ctx.clearRect(0, 0, 48, 48);
      ctx.font = `32px ${family}`;
      ctx.fillText(ch, 4, 36);
      return ctx.getImageData(0, 0, 48, 48).data.join(',');
    };
    // U+F0000 (a private use character) is in no font: what it draws is
    // the box of a missing glyph; blank is missing too.
    const box = pixels('\u{F0000}', '"OneMap Sans"');
    const blank = pixels(' ', '"OneMap Sans"');
    return [...text].filter((ch) => [box, blank].includes(pixels(ch, '"OneMap Sans"')));
  }, chars);
}

describe('the UI draws Chinese with its own font on a machine without one', { timeout: 8 * WAIT_MS }, () => {
  let b;
  let fonts;
  before(async () => {
    fonts = noChineseFonts();
    b = await openMap({ reducedMotion: 'reduce', signIn: { name: 'planner', password: 'onemap-demo' }, env: fonts.env });
  });
  after(async () => {
    await b?.close();
    fonts?.remove();
  });

  for (const [pagePath, sample, shot] of [
    ['/', '#search-input', 'fonts-map'],
    ['/editor/', 'h1', 'fonts-editor'],
    ['/m/', 'h1', 'fonts-public'],
    ['/audit/', 'h1', 'fonts-audit'],
    ['/screen/', 'h1', 'fonts-screen'],
  ]) {
    it(`${pagePath} loads OneMap Sans and draws its Chinese with it`, async () => {
      const { page } = b;
      if (pagePath !== '/') await page.goto(new URL(pagePath, BASE).href, { waitUntil: 'load' });
      await page.locator(sample).first().waitFor({ state: 'attached' });
      // font.js adds the face once its bytes have arrived, which on a busy
      // machine can be after the page's load event: wait for it (a face
      // never added or never loaded fails here).
      const loaded = await page.waitForFunction(
        () => [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'OneMap Sans' && f.status === 'loaded'),
        null, { timeout: WAIT_MS }).then(() => true, () => false);
      const got = await page.evaluate(async (sel) => {
        await document.fonts.ready;
        const el = document.querySelector(sel);
        const text = (el.textContent || el.getAttribute('placeholder') || '').trim();
        await document.fonts.load(`16px "OneMap Sans"`, text);
        return {
          text,
          family: getComputedStyle(el).fontFamily,
          own: document.documentElement.classList.contains('om-own-font'),
        };
      }, sample);
      assert.match(got.text, /[\u4e00-\u9fff]/u, `${sample} of ${pagePath} holds Chinese`);
      assert.match(got.family, /OneMap Sans/, `${pagePath}: ${sample}'s fonts name OneMap Sans`);
      assert.ok(loaded, `${pagePath}: OneMap Sans was not loaded`);
      assert.ok(got.own, `${pagePath}: font.js did not see that the machine has no Chinese font`);
      assert.match(got.family, /^"OneMap Sans"/, `${pagePath}: OneMap Sans is not the first font`);
      assert.deepEqual(await missingGlyphs(page, got.text.replace(/\s/g, '')), [], `${pagePath}: ${got.text}`);
      const { checked, boxed } = await boxedText(page);
      assert.ok(checked >= 3, `${pagePath}: only ${checked} elements with Chinese text`);
      assert.deepEqual(boxed, [], `${pagePath}: Chinese drawn without the page's font`);
      await b.screenshot(shot);
    });
  }

  // The font is one file fetched once per page: the UI's text and the map's
  // labels share it (font.js). Before, the page's CSS and MapLibre's
  // font-faces each downloaded it, at once (553 KB instead of 276 KB).
  for (const [pagePath, name, open] of [
    ['/', 'onemap'],
    ['/screen/', 'onemap'],
    ['/editor/', 'onemap'],
    ['/m/', 'onemapPublic', '#open-map'],
  ]) {
    it(`${pagePath} downloads the font once for its text and its map's labels`, async () => {
      const { page } = b;
      const from = b.requests.length;
      await page.goto(new URL(pagePath, BASE).href, { waitUntil: 'load' });
      if (open) await page.locator(open).first().click();
      await page.evaluate(async ({ ms, n }) => {
        const deadline = Date.now() + ms;
        while (!window[n]?.map?.isStyleLoaded?.()) {
          if (Date.now() > deadline) throw new Error('no map');
          await new Promise((r) => setTimeout(r, 50));
        }
        const { map } = window[n];
        await new Promise((resolve) => { map.once('idle', resolve); map.triggerRepaint(); });
        await document.fonts.ready;
      }, { ms: WAIT_MS, n: name });
      const labels = await page.evaluate((n) => window[n].map.getStyle().layers
        .filter((l) => l.type === 'symbol' && l.layout?.['text-field']).length, name);
      const fonts = b.requests.slice(from).filter((u) => new URL(u).pathname === '/fonts/onemap-sans.woff2');
      assert.ok(labels > 0, `${pagePath}: its map draws no text`);
      assert.equal(fonts.length, 1, `${pagePath}: the font was asked for ${fonts.length} times`);
      const own = await page.evaluate(() => [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'OneMap Sans' && f.status === 'loaded'));
      assert.ok(own, `${pagePath}: the page's text has no OneMap Sans`);
    });
  }

  it('OneMap Sans holds every Chinese character of the client', async () => {
    const chars = cjkOf();
    assert.ok(chars.length > 300, `only ${chars.length} characters found in ${SRC}`);
    assert.deepEqual(await missingGlyphs(b.page, chars), []);
  });

  it('the check sees a missing character', async () => {
    // U+9F98 (龘) is not in the subset: the check must name it.
    assert.deepEqual(await missingGlyphs(b.page, '网龘格'), ['龘']);
  });
});
