// The command map's first picture (src/map.js wholeFirst, src/renderer.js):
// under software rendering (headless Chromium draws with SwiftShader) the
// map's canvas is hidden until its first picture is whole, sparing the
// half-drawn frames that cost more than the map's own work there; on a GPU
// (here a browser whose WebGL names an NVIDIA renderer) the canvas shows
// from the start, the map drawing as it comes. Before, it was hidden on a
// GPU too, which only put off the first pixels.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BASE, openBrowser, WAIT_MS } from './browser.mjs';

const GPU = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11 vs_5_0 ps_5_0, D3D11)';

// firstPicture opens the command map and returns how its canvas stood when
// the map was made, the renderer's name and whether it was hidden.
async function firstPicture(gpu) {
  const b = await openBrowser({ viewport: { width: 1280, height: 800 } }, async ({ context, page }) => {
    if (gpu) {
      // A GPU's name, as Chromium gives it through WEBGL_debug_renderer_info.
      await context.addInitScript((name) => {
        const UNMASKED_RENDERER = 0x9246;
        const get = WebGL2RenderingContext.prototype.getParameter;
        WebGL2RenderingContext.prototype.getParameter = function getParameter(p) {
          return p === UNMASKED_RENDERER ? name : get.call(this, p);
        };
      }, GPU);
    }
    // The canvas as it stands once the page's script has made the map (a
    // mutation is seen after the script that made it has run on).
    await context.addInitScript(() => {
      const seen = new MutationObserver(() => {
        const el = document.querySelector('#map .maplibregl-canvas-container');
        if (!el) return;
        seen.disconnect();
        window.firstCanvas = { hidden: el.style.visibility === 'hidden' };
      });
      seen.observe(document, { childList: true, subtree: true });
    });
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(new URL('/', BASE).href, { waitUntil: 'load' });
    await page.waitForFunction(() => window.onemap?.loadedAt > 0, null, { timeout: WAIT_MS });
    return { errors };
  });
  try {
    return {
      ...await b.page.evaluate(() => {
        const gl = window.onemap.map.getCanvas().getContext('webgl2');
        const info = gl.getExtension('WEBGL_debug_renderer_info');
        return {
          renderer: info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
          atStart: window.firstCanvas,
          wholeFirst: window.onemap.map.wholeFirst,
          // Once loaded the map shows, either way.
          shownAfter: getComputedStyle(document.querySelector('#map .maplibregl-canvas-container')).visibility,
        };
      }),
      errors: b.errors,
    };
  } finally {
    await b.close();
  }
}

test('the command map hides its half-drawn frames under software rendering only', { timeout: 4 * WAIT_MS }, async () => {
  const soft = await firstPicture(false);
  console.log(`headless Chromium's renderer: ${soft.renderer}`);
  assert.match(soft.renderer, /SwiftShader|llvmpipe|Software/i, 'the browser tests expect software rendering');
  assert.equal(soft.atStart?.hidden, true, `under software rendering the canvas shows its half-drawn frames: ${JSON.stringify(soft)}`);
  assert.equal(soft.wholeFirst, true);
  assert.equal(soft.shownAfter, 'visible');
  assert.deepEqual(soft.errors, []);

  const gpu = await firstPicture(true);
  assert.equal(gpu.renderer, GPU);
  assert.equal(gpu.atStart?.hidden, false, `on a GPU the canvas is hidden until the first picture is whole: ${JSON.stringify(gpu)}`);
  assert.equal(gpu.wholeFirst, false);
  assert.equal(gpu.shownAfter, 'visible');
  assert.deepEqual(gpu.errors, []);
});
