// Every page at every size of issue 18 (1366×768 laptop, 1920×1080 desk,
// 3840×2160 wall, 390×844 and 360×640 phones): the command map (its county
// view, and z16 in 狮山镇), the wall (/screen/), the grid editor, the public
// page (/m/) and the grid worker's page (/m/work/). Each is opened afresh,
// waited for (its map drawn, its list read), photographed for a reviewer
// (e2e/out/sizes-PAGE-WxH.png) and its layout checked: the page does not
// scroll sideways, every panel (a positioned box outside the map's canvas)
// lies within the screen, no two panels cover one another, and no panel
// cuts off what it holds (one that does not scroll hides what is below its
// edge).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { BASE, CHROMIUM, isLocal, OUT, watchPolicy } from './browser.mjs';

const SIZES = [[1366, 768], [1920, 1080], [3840, 2160], [390, 844], [360, 640]];
const PASSWORD = 'onemap-demo';
// A 4K map under SwiftShader on a loaded machine takes minutes (one that
// does not come to rest in this time is photographed as it stands).
const READY_MS = 150_000;
// The county seat, in 狮山镇.
const SEAT = [102.4063, 25.5302];

// mapIdle waits until window[name].map has drawn every tile it asked for.
function mapIdle(page, name) {
  return page.evaluate(async ({ ms, n }) => {
    const deadline = Date.now() + ms;
    while (!window[n]?.map?.isStyleLoaded?.()) {
      if (Date.now() > deadline) throw new Error('no map');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { map } = window[n];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('map not idle')), Math.max(1, deadline - Date.now()));
      map.once('idle', () => { clearTimeout(timer); resolve(); });
      map.triggerRepaint();
    });
  }, { ms: READY_MS, n: name });
}

// PAGES: each page's path, the account it needs, and how to wait for its
// first picture.
const PAGES = [
  { name: 'map', path: '/', ready: (p) => mapIdle(p, 'onemap') },
  { name: 'wall', path: '/screen/', ready: async (p) => {
    await mapIdle(p, 'onemap');
    await p.waitForFunction(() => window.onemap.figures, null, { timeout: READY_MS });
  } },
  { name: 'editor', path: '/editor/', account: 'planner', ready: (p) => mapIdle(p, 'onemap') },
  { name: 'public', path: '/m/', ready: (p) => p.waitForSelector('#list > li', { timeout: READY_MS }) },
  { name: 'worker', path: '/m/work/', account: 'gridworker', ready: (p) => p.waitForSelector('#tasks li, #tasks-empty:not([hidden])', { timeout: READY_MS }) },
];

// layout reads, in the page, what breaks a layout: a page wider than the
// screen, panels off the screen, panels over one another and panels that
// cut off what they hold. A panel is a visible box that paints (a
// background, a border or a shadow) of at least 8 px each way: one
// positioned fixed, absolute or sticky, or a child of such a box that does
// not paint itself (a column holding a search box and a panel); not the
// map, nothing inside the map's canvas, a marker or a popup.
function layout(page) {
  return page.evaluate(() => {
    const vw = innerWidth;
    const vh = innerHeight;
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${[...el.classList].slice(0, 2).map((c) => `.${c}`).join('')}`;
    const paints = (cs) => !/rgba\(\d+, \d+, \d+, 0\)|transparent/.test(cs.backgroundColor) || cs.backgroundImage !== 'none' ||
      cs.boxShadow !== 'none' || ['Top', 'Right', 'Bottom', 'Left'].some((e) => parseFloat(cs[`border${e}Width`]) > 0 && cs[`border${e}Style`] !== 'none');
    const shown = (el, cs) => !el.closest('[hidden]') && cs.display !== 'none' && cs.visibility !== 'hidden' && Number(cs.opacity) > 0 &&
      (cs.clip === 'auto' || cs.clip === '') && cs.clipPath === 'none';
    const panels = [];
    const seen = new Set();
    const take = (el, cs) => {
      const r = el.getBoundingClientRect();
      if (r.width < 8 || r.height < 8 || seen.has(el)) return;
      // A panel inside a scrolling box is where the box scrolls it.
      let scroller = el.parentElement;
      while (scroller && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowY + getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
      if (scroller && scroller !== document.body && scroller !== document.documentElement) return;
      seen.add(el);
      panels.push({ el, r, cs });
    };
    for (const el of document.body.querySelectorAll('*')) {
      const cs = getComputedStyle(el);
      if (!['fixed', 'absolute', 'sticky'].includes(cs.position)) continue;
      if (el.id === 'map' || el.classList.contains('maplibregl-map') || el.closest('.maplibregl-canvas-container, .maplibregl-marker, .maplibregl-popup')) continue;
      if (!shown(el, cs)) continue;
      if (paints(cs)) take(el, cs);
      else {
        for (const child of el.children) {
          const c = getComputedStyle(child);
          if (shown(child, c) && paints(c)) take(child, c);
        }
      }
    }
    const off = panels.filter(({ r }) => r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
      .map(({ el, r }) => `${name(el)} [${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)},${Math.round(r.bottom)}]`);
    const over = [];
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        const a = panels[i];
        const b = panels[j];
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        if (w > 2 && h > 2) over.push(`${name(a.el)} × ${name(b.el)} (${Math.round(w)}×${Math.round(h)})`);
      }
    }
    // Cut off: a panel that does not scroll and holds more than it shows.
    const cut = panels.filter(({ el, cs }) => /hidden|clip/.test(cs.overflowY + cs.overflowX) &&
      (el.scrollHeight > el.clientHeight + 2 || el.scrollWidth > el.clientWidth + 2))
      .map(({ el }) => `${name(el)} (${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight})`);
    return { wide: document.documentElement.scrollWidth > vw + 1 ? document.documentElement.scrollWidth : 0, off, over, cut, panels: panels.length };
  });
}

for (const pg of PAGES) {
  describe(`${pg.path} at every size`, { timeout: SIZES.length * 4 * READY_MS }, () => {
    for (const [width, height] of SIZES) {
      const phone = width < 800;
      it(`${width}×${height}`, { timeout: 4 * READY_MS }, async () => {
        const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'onemap-e2e-sizes-'));
        const context = await chromium.launchPersistentContext(profile, {
          executablePath: CHROMIUM, headless: true, timeout: READY_MS, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
          args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'],
          viewport: { width, height }, reducedMotion: 'reduce',
          ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
          geolocation: { longitude: SEAT[0], latitude: SEAT[1], accuracy: 20 }, permissions: ['geolocation'],
        });
        const errors = [];
        const foreign = [];
        try {
          if (pg.account) {
            const res = await context.request.post(new URL('/api/session', BASE).href, { data: { name: pg.account, password: PASSWORD } });
            assert.ok(res.ok(), `sign in as ${pg.account}: ${res.status()}`);
          }
          await watchPolicy(context);
          await context.route('**/*', (route) => {
            if (isLocal(route.request().url())) return route.continue();
            foreign.push(route.request().url());
            return route.abort('blockedbyclient');
          });
          const page = context.pages()[0] ?? await context.newPage();
          page.setDefaultTimeout(READY_MS);
          page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
          page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
          const t0 = Date.now();
          await page.goto(new URL(pg.path, BASE).href, { waitUntil: 'load' });
          try {
            await pg.ready(page);
          } catch (err) {
            // A map may not come to rest in time under SwiftShader on a
            // loaded machine (a 4K one least; e2e/figures.test.mjs measures
            // time): its layout is checked and photographed as it stands.
            if (!/not idle/.test(err.message)) throw err;
            console.log(`${pg.path} at ${width}×${height}: ${err.message} after ${Date.now() - t0} ms; photographed as it stands`);
          }
          const shot = path.join(OUT, `sizes-${pg.name}-${width}x${height}.png`);
          fs.mkdirSync(OUT, { recursive: true });
          await page.screenshot({ path: shot });
          const got = await layout(page);
          console.log(`${pg.path} at ${width}×${height}: ready after ${Date.now() - t0} ms, ${got.panels} panels; screenshot: ${shot}`);
          if (pg.name === 'map') {
            await page.evaluate((c) => window.onemap.map.jumpTo({ center: c, zoom: 16 }), SEAT);
            await mapIdle(page, 'onemap').catch((err) => {
              if (!/not idle/.test(err.message)) throw err;
              console.log(`/ at z16, ${width}×${height}: ${err.message}; photographed as it stands`);
            });
            await page.screenshot({ path: path.join(OUT, `sizes-map-z16-${width}x${height}.png`) });
          }
          assert.equal(got.wide, 0, `${pg.path} at ${width}×${height} scrolls sideways (${got.wide} px wide)`);
          assert.deepEqual(got.off, [], `${pg.path} at ${width}×${height}: panels off the screen`);
          assert.deepEqual(got.over, [], `${pg.path} at ${width}×${height}: panels over one another`);
          assert.deepEqual(got.cut, [], `${pg.path} at ${width}×${height}: panels that cut off what they hold`);
          assert.deepEqual(foreign, []);
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
          fs.rmSync(profile, { recursive: true, force: true });
        }
      });
    }
  });
}

