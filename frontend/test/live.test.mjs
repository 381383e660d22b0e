// Unit tests of the layer counts, the view in the link, measuring, the
// event stream client, the wall's figures and the word table; no browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeCounts, shownCount } from '../src/counts.js';
import { readViewState, viewHash, writeViewState } from '../src/view.js';
import { measureGeoJSON, measureText } from '../src/measure.js';
import { pathLength, sphericalArea } from '../src/geo.js';
import { formatArea, formatLength } from '../src/format.js';
import { changeBounds, connectLive } from '../src/live.js';
import { keyFigures } from '../src/figures.js';
import { translate, t } from '../src/i18n.js';

const WITHIN = {
  layers: {
    grids: { count: 4, by_level: { county: 1, township: 1, village: 1, group: 1 } },
    risk_points: { count: 10, by_level: { red: 2, blue: 8 }, by_kind: { flood: 6, forest_fire: 4 } },
    cameras: { count: 5, by_kind: { dome: 5 } },
  },
};
const STATS = {
  children: [
    { id: 1, stats: { cameras: { total: 3, by: 'status', count: { online: 2, fault: 1 } }, risk_points: { total: 10, by: 'level', count: { red: 2 } } } },
    { id: 2, stats: { cameras: { total: 2, by: 'status', count: { online: 1, offline: 1 } } } },
  ],
};

test('mergeCounts: totals and tallies from /api/within, statuses summed over the top grids', () => {
  const c = mergeCounts(WITHIN, STATS);
  assert.deepEqual(c.risk_points, { total: 10, level: { red: 2, blue: 8 }, kind: { flood: 6, forest_fire: 4 } });
  assert.deepEqual(c.cameras, { total: 5, kind: { dome: 5 }, status: { online: 3, fault: 1, offline: 1 } });
  assert.deepEqual(c.grids.level, { county: 1, township: 1, village: 1, group: 1 });
  assert.deepEqual(mergeCounts(WITHIN, null).cameras, { total: 5, kind: { dome: 5 } });
});

test('shownCount: exact for one narrowed field, a bound for several', () => {
  const c = mergeCounts(WITHIN, STATS).risk_points;
  assert.deepEqual(shownCount(c, {}), { n: 10, exact: true });
  assert.deepEqual(shownCount(c, { level: null }), { n: 10, exact: true });
  assert.deepEqual(shownCount(c, { level: ['red'] }), { n: 2, exact: true });
  assert.deepEqual(shownCount(c, { level: ['red', 'blue'], kind: ['forest_fire'] }), { n: 4, exact: false });
  assert.deepEqual(shownCount(c, { level: [] }), { n: 0, exact: true });
});

test('the view survives the link: layers off and filters', () => {
  const state = { visible: { cameras: false, grids: true }, chosen: { risk_points: { level: ['red', 'orange'], kind: null } } };
  const hash = viewHash('#map=13/25.53/102.4', state);
  assert.equal(hash, '#map=13/25.53/102.4&off=cameras&f=risk_points.level:red+orange');
  const back = readViewState(hash, ['grids', 'cameras', 'risk_points']);
  assert.deepEqual(back.visible, { cameras: false });
  assert.deepEqual(back.chosen, { risk_points: { level: ['red', 'orange'] } });
  assert.equal(back.hasCamera, true);
  assert.equal(readViewState('#off=nonsense', ['grids']).visible.nonsense, undefined, 'unknown layers are ignored');
  assert.equal(readViewState('', null).hasCamera, false);
  assert.equal(viewHash('#map=1/2/3&off=x&f=y', {}), '#map=1/2/3', 'cleared state leaves only the camera');
  assert.equal(writeViewState('http://h/?a=1#map=1/2/3', { visible: { x: false } }), 'http://h/?a=1#map=1/2/3&off=x');
});

test('measuring: lengths and areas on the sphere', () => {
  // One degree of latitude is 111.2 km on the mean sphere.
  assert.ok(Math.abs(pathLength([[102, 25], [102, 26]]) - 111_195) < 10);
  assert.ok(Math.abs(pathLength([[102, 25], [102, 25.5], [102, 26]]) - 111_195) < 10);
  // A 0.01° square at 25°N: (1111.95 m)² · cos 25°.
  const sq = [[102, 25], [102.01, 25], [102.01, 25.01], [102, 25.01]];
  const want = 1111.95 * 1111.95 * Math.cos((25.005 * Math.PI) / 180);
  assert.ok(Math.abs(sphericalArea(sq) - want) / want < 0.001, `area ${sphericalArea(sq)} want ${want}`);
  assert.equal(sphericalArea(sq), sphericalArea([...sq].reverse()), 'either winding');
  assert.equal(sphericalArea(sq.slice(0, 2)), 0);
  assert.equal(formatArea(850), '850 平方米');
  assert.equal(formatArea(32_000), '3.2 公顷');
  assert.equal(formatArea(12_500_000, 'en'), '12.5 km²');
  assert.equal(formatLength(1250, 'en'), '1.25 km');
  assert.equal(formatLength(1250), '1.25 公里');
  assert.equal(measureText('distance', [[102, 25]]), '');
  assert.equal(measureText('distance', [[102, 25], [102, 26]]), '111.2 公里');
  assert.equal(measureText('area', sq.slice(0, 2)), '');
  assert.equal(measureText('area', sq), '1.12 平方公里');
  const gj = measureGeoJSON('area', sq.slice(0, 2), [102.01, 25.01]);
  assert.deepEqual(gj.features.map((f) => f.geometry.type), ['Point', 'Point', 'Polygon']);
  assert.deepEqual(measureGeoJSON('distance', [[1, 2]]).features.map((f) => f.geometry.type), ['Point']);
});

test('connectLive batches the changes of a burst and reports resets and the connection', async () => {
  const listeners = {};
  let closed = false;
  class FakeEventSource {
    constructor(url) { this.url = url; }
    addEventListener(type, fn) { listeners[type] = fn; }
    close() { closed = true; }
  }
  const batches = [];
  const states = [];
  let resets = 0;
  const close = connectLive({
    EventSourceImpl: FakeEventSource, batchMs: 20,
    onChanges: (b) => batches.push(b), onReset: () => resets++, onState: (s) => states.push(s),
  });
  listeners.open();
  listeners.change({ data: JSON.stringify({ layer: 'cameras', id: 1, op: 'update', bbox: [1, 2, 1, 2] }) });
  listeners.change({ data: 'not json' });
  listeners.change({ data: JSON.stringify({ layer: 'cameras', id: 2, op: 'update', bbox: [3, 4, 3, 4], old_bbox: [5, 6, 5, 6] }) });
  await new Promise((r) => setTimeout(r, 50));
  listeners.reset();
  listeners.error();
  assert.equal(batches.length, 1, 'one batch for the burst');
  assert.deepEqual(batches[0].map((c) => c.id), [1, 2]);
  assert.deepEqual(changeBounds(batches[0]), [[1, 2, 1, 2], [3, 4, 3, 4], [5, 6, 5, 6]]);
  assert.equal(resets, 1);
  assert.deepEqual(states, [true, false]);
  close();
  assert.ok(closed);
});

test('keyFigures: grids, workers, risk points by level, cameras online rate', () => {
  const counts = mergeCounts(WITHIN, STATS);
  const f = keyFigures(counts, 3);
  assert.deepEqual(f.map((x) => x.id), ['grids', 'workers', 'risk_points', 'cameras']);
  assert.equal(f[3].value, '60.0%');
  assert.deepEqual(f[2].parts.map((p) => [p.key, p.count]), [['red', 2], ['blue', 8]]);
  assert.deepEqual(keyFigures({ grids: counts.grids }, null).map((x) => x.id), ['grids'], 'what the role cannot see is left out');
});

test('words: Chinese by default, English on demand, placeholders filled', () => {
  assert.equal(t('measureDistance'), '测距离');
  assert.equal(translate('en', 'measureDistance'), 'Distance');
  assert.equal(translate('en', 'shown', 3, 9), 'showing 3 of 9');
  assert.equal(translate('fr', 'copyLink'), '复制链接', 'an unknown language falls back to Chinese');
  assert.equal(translate('en', 'no-such-key'), 'no-such-key');
});
