// Page figures (issue 18, item 11): for each page, opened afresh (empty
// cache) in headless Chromium, what it downloads — bytes over the wire
// (compressed as sent), by kind: script, style, font, tiles, API, other —
// and how long it takes: to the load event, and to its first picture (a
// map with every tile drawn; the public page's list, then its map once
// opened). It prints a table for the README (frontend/README.md, Figures);
// it asserts nothing about times (they vary with the machine's load), only
// that each page drew and asked nothing off this machine.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BASE, openBrowser, OUT, signInContext, WAIT_MS } from './browser.mjs';

const DESK = { viewport: { width: 1920, height: 1080 } };
// How long a page may take to its first picture: the figures assert no
// time, and on a 2-core machine under load 40 a map took longer than
// browser.mjs's WAIT_MS.
const READY_MS = 4 * WAIT_MS;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

// kindOf sorts a request into what the figures count.
function kindOf(url, type) {
  const p = new URL(url).pathname;
  if (p.startsWith('/tiles/') || p.startsWith('/basemap/')) return 'tiles';
  if (p.startsWith('/fonts/')) return 'font';
  if (p.startsWith('/api/')) return 'api';
  if (type === 'script' || /\.m?js$/.test(p)) return 'script';
  if (type === 'stylesheet' || /\.css$/.test(p)) return 'style';
  if (type === 'font' || /\.woff2?$/.test(p)) return 'font';
  return 'other';
}

// waitMap waits until window[name].map has drawn every tile it asked for.
function waitMap(page, name) {
  return page.evaluate(async ({ ms, name: n }) => {
    const deadline = Date.now() + ms;
    while (!window[n]?.map?.isStyleLoaded?.()) {
      if (Date.now() > deadline) throw new Error('no map');
      await new Promise((r) => setTimeout(r, 50));
    }
    const { map } = window[n];
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('map not idle')), Math.max(1, deadline - Date.now()));
      map.once('idle', () => { clearTimeout(timer); resolve(); });
      map.triggerRepaint();
    });
  }, { ms: READY_MS, name });
}

const rows = [];

// measure opens pagePath in a fresh browser and returns its figures; ready
// waits for the page's first picture, then steps (optional) a second one.
async function measure(label, pagePath, { signIn, ...options }, ready, step) {
  const done = [];
  const { page, foreign, close } = await openBrowser({ timeout: READY_MS, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...options },
    async ({ context }) => {
      if (signIn) await signInContext(context, signIn);
      context.on('requestfinished', (req) => done.push(req));
    });
  try {
    const t0 = Date.now();
    await page.goto(new URL(pagePath, BASE).href, { waitUntil: 'load' });
    const loadMs = Date.now() - t0;
    await ready(page);
    const readyMs = Date.now() - t0;
    const bytes = async () => {
      const by = { script: 0, style: 0, font: 0, tiles: 0, api: 0, other: 0 };
      for (const req of done.splice(0)) {
        if (req.url().startsWith('data:') || req.url().startsWith('blob:')) continue;
        const s = await req.sizes().catch(() => null);
        if (s) by[kindOf(req.url(), req.resourceType())] += s.responseBodySize + s.responseHeadersSize;
      }
      return by;
    };
    const first = await bytes();
    const row = { label, loadMs, readyMs, by: first };
    if (step) {
      const t1 = Date.now();
      await step(page);
      row.stepMs = Date.now() - t1;
      row.stepBy = await bytes();
    }
    assert.deepEqual(foreign, [], `${label}: requests off this machine`);
    rows.push(row);
    return row;
  } finally {
    await close();
  }
}

const kb = (n) => (n / 1024).toFixed(1);
const total = (by) => Object.values(by).reduce((a, b) => a + b, 0);

describe('page weight and time to a drawn map, per page', { timeout: 20 * 60_000 }, () => {
  before(() => fs.mkdirSync(OUT, { recursive: true }));
  after(() => {
    const lines = ['| page | load | first picture | total KB | script | style | font | tiles | API | other |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
    const line = (label, load, ready, by) => `| ${label} | ${load} | ${ready} | ${kb(total(by))} | ${kb(by.script)} | ${kb(by.style)} | ${kb(by.font)} | ${kb(by.tiles)} | ${kb(by.api)} | ${kb(by.other)} |`;
    for (const r of rows) {
      lines.push(line(r.label, `${(r.loadMs / 1000).toFixed(1)} s`, `${(r.readyMs / 1000).toFixed(1)} s`, r.by));
      if (r.stepBy) lines.push(line(`${r.label}, then its map`, '', `+${(r.stepMs / 1000).toFixed(1)} s`, r.stepBy));
    }
    const table = lines.join('\n');
    console.log(`\nPage figures (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}):\n${table}\n`);
    fs.writeFileSync(path.join(OUT, 'figures.md'), `${table}\n`);
  });

  it('the command map (/), 1920×1080', async () => {
    const r = await measure('command map `/`', '/', DESK, (p) => waitMap(p, 'onemap'));
    assert.ok(r.by.script > 0 && r.by.tiles > 0);
  });
  it('the wall (/screen/), 1920×1080', async () => {
    const r = await measure('wall `/screen/`', '/screen/', DESK, (p) => waitMap(p, 'onemap'));
    assert.ok(r.by.script > 0 && r.by.tiles > 0);
  });
  it('the editor (/editor/), 1920×1080', async () => {
    const r = await measure('editor `/editor/`', '/editor/', { ...DESK, signIn: { name: 'planner' } }, (p) => waitMap(p, 'onemap'));
    assert.ok(r.by.script > 0);
  });
  it('the public page (/m/), 390×844: the list, then the map', async () => {
    const r = await measure('public `/m/`', '/m/', { ...PHONE, geolocation: { longitude: 102.4063, latitude: 25.5302, accuracy: 20 }, permissions: ['geolocation'] },
      (p) => p.waitForSelector('#list > li'),
      async (p) => {
        await p.locator('#open-map').tap();
        await waitMap(p, 'onemapPublic');
      });
    assert.ok(r.by.script > 0 && r.stepBy.script > r.by.script, 'MapLibre came before the map was opened');
  });
  it('the audit page (/audit/), 1920×1080', async () => {
    const r = await measure('audit `/audit/`', '/audit/', DESK, (p) => p.waitForSelector('h1'));
    assert.ok(r.by.script > 0);
  });
});
