// End-to-end test of the e-bike tags on the command map, in headless
// Chromium against a running OneMap server with the demo county and
// accounts (scripts/e2e.sh): a source made with `onemap source add` signs
// tag positions and sends them to POST /api/ingest/events; the commander's
// map draws the tag where it was sent (through the event stream's "tag"
// event and the live tags layer); the planner's map has no tags layer.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseURL, ingestSigned, openMap, WAIT_MS } from './browser.mjs';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'onemap');
const TAG = 'TAG-000001'; // a demo tag of 狮山镇

/** ingest sends a batch signed as source name (browser.mjs ingestSigned) and wants it taken. */
async function ingest(name, key, events) {
  const got = await ingestSigned(name, key, events);
  assert.equal(got.status, 200, `ingest: ${got.text}`);
  return got.answer;
}

describe('e-bike tags on the command map', { timeout: 10 * 60_000 }, () => {
  let b;
  let page;
  let key;
  const source = `e2e-tags-${process.pid}`;

  before(async () => {
    const out = execFileSync(BIN, ['source', 'add', source, '--kinds', 'tag_position', '--region', '532329000000'],
      { env: { ...process.env, ONEMAP_DATABASE_URL: databaseURL() }, encoding: 'utf8' });
    key = out.match(/key: (omk_\S+)/)?.[1];
    assert.ok(key, `source add printed no key: ${out}`);
    b = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'commander', password: 'onemap-demo' } });
    page = b.page;
    await page.waitForFunction(() => window.onemap.tags && window.onemap.map.getSource('om-tags'), null, { timeout: WAIT_MS });
  });
  after(async () => {
    await b?.close();
  });

  it('a position sent through the signed ingest moves the tag on the map', async () => {
    // Where the tag is now, then a place 300 m east of it.
    const now = await (await page.evaluate(async (code) => (await fetch(`/api/tags/${code}`)).json(), TAG));
    const from = now.position ?? now.home;
    assert.ok(Array.isArray(from), `GET /api/tags/${TAG}: ${JSON.stringify(now)}`);
    const to = [from[0] + 0.003, from[1]];
    await page.evaluate((c) => window.onemap.map.jumpTo({ center: c, zoom: 16 }), to);
    await b.waitIdle();
    const moves = await page.evaluate(() => window.onemap.tags.moves);
    const answer = await ingest(source, key, [{ id: `e2e-tag-${Date.now()}`, kind: 'tag_position', tag: TAG,
      at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lon: to[0], lat: to[1] }]);
    assert.equal(answer.results[0].result, 'taken', JSON.stringify(answer));
    // The stream says it moved, and the layer draws it where it was sent.
    await page.waitForFunction((n) => window.onemap.tags.moves > n, moves, { timeout: WAIT_MS });
    await page.waitForFunction(([code, at]) => window.onemap.map.querySourceFeatures('om-tags', { sourceLayer: 'tags' })
      .some((f) => f.properties.code === code && Math.abs(f.geometry.coordinates[0] - at[0]) < 2e-4 && Math.abs(f.geometry.coordinates[1] - at[1]) < 2e-4),
    [TAG, to], { timeout: WAIT_MS });
    await b.screenshot('tags-moved');
  });

  it('a planner\'s map has no tags layer', async () => {
    const p = await openMap({ reducedMotion: 'reduce', viewport: { width: 1366, height: 768 }, signIn: { name: 'planner', password: 'onemap-demo' } });
    try {
      await p.page.waitForFunction(() => window.onemap?.map?.loaded(), null, { timeout: WAIT_MS });
      await p.waitIdle();
      assert.equal(await p.page.evaluate(() => Boolean(window.onemap.map.getSource('om-tags'))), false);
      assert.ok(!p.requests.some((u) => new URL(u).pathname.startsWith('/tiles/tags/')), 'the planner asked for tags tiles');
    } finally {
      await p.close();
    }
  });
});
