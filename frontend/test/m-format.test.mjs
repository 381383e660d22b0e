// Unit tests of what the public page's map and list use: the status line
// (src/m/format.js), the distance of a station the list does not hold
// (geo.js distance), and the colours of the kinds read from the server's
// public style (style.js legendOf).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distance as distanceM } from '../src/geo.js';
import { nearestText } from '../src/m/station.js';
import { legendOf } from '../src/style.js';

// kindColours is how the public map reads its colours (m/map.js).
function kindColours(style) {
  const legend = style && legendOf(style, 'stations');
  return {
    colours: Object.fromEntries((legend?.entries ?? []).map((e) => [e.value, e.colour])),
    other: legend?.other ?? '#78909c',
  };
}

test('nearestText names the kind and who the distance is from', () => {
  assert.equal(nearestText(20, '您', '卫生室'), '离您最近的 20 个卫生室');
  assert.equal(nearestText(3, '狮山镇东岳社区', '服务站'), '离狮山镇东岳社区最近的 3 个服务站');
  assert.equal(nearestText(0, '您', '卫生院'), '附近没有卫生院');
});

test('distanceM agrees with the geodesic distance to 0.5 %', () => {
  // The seat of Wuding to the first station the API lists for it: 116 m (geodesic, WGS-84).
  const d = distanceM([102.4063, 25.5302], [102.405616, 25.529352]);
  assert.ok(Math.abs(d - 116) < 1.5, `${d}`);
  // Beijing to Wuding: the API says 2,013,789 m.
  const far = distanceM([116.4, 39.9], [102.229057, 26.15339]);
  assert.ok(Math.abs(far - 2_013_789) / 2_013_789 < 0.005, `${far}`);
  assert.equal(distanceM([102.4, 25.5], [102.4, 25.5]), 0);
});

test('kindColours reads the match expression of the stations layer', () => {
  const style = {
    layers: [
      { id: 'grids-line', paint: { 'line-color': '#000' }, metadata: { 'onemap:layer': 'grids' } },
      { id: 'stations', type: 'circle', metadata: { 'onemap:layer': 'stations' },
        paint: { 'circle-color': ['match', ['get', 'kind'], 'clinic', '#ec407a', ['police', 'guard'], '#263238', '#78909c'] } },
    ],
  };
  assert.deepEqual(kindColours(style), { colours: { clinic: '#ec407a', police: '#263238', guard: '#263238' }, other: '#78909c' });
  // A style without the expression: one colour for every kind.
  assert.deepEqual(kindColours({ layers: [{ id: 'stations', type: 'circle', metadata: { 'onemap:layer': 'stations' }, paint: { 'circle-color': '#123456' } }] }), { colours: {}, other: '#78909c' });
  assert.deepEqual(kindColours(null), { colours: {}, other: '#78909c' });
});
