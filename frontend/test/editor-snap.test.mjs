// Unit tests of the grid editor's snapping (src/editor/snap.js), run with
// `npm test` under Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ringsOf, round9, snapPosition } from '../src/editor/snap.js';

// A plain projection: 1° = 10,000 px, y down.
const project = (lng, lat) => ({ x: lng * 1e4, y: -lat * 1e4 });
const square = [[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]];

test('a point near a vertex takes the very vertex', () => {
  assert.deepEqual(snapPosition([0.0101, 0.0099], [square], project), [0.01, 0.01]);
});

test('a vertex wins over a nearer edge', () => {
  // 5 px from the vertex, 1 px from the edge: the shared corner matters more.
  assert.deepEqual(snapPosition([0.0103, 0.0099], [square], project, 14, 10), [0.01, 0.01]);
});

test('a point near an edge lands on the lon/lat segment', () => {
  const p = snapPosition([0.005, 0.0002], [square], project);
  assert.deepEqual(p, [0.005, 0]);
});

test('a point far from everything does not snap', () => {
  assert.equal(snapPosition([0.005, 0.005], [square], project), undefined);
});

test('ringsOf and round9', () => {
  assert.equal(ringsOf({ type: 'MultiPolygon', coordinates: [[square], [square, square]] }).length, 3);
  assert.deepEqual(ringsOf({ type: 'Point', coordinates: [0, 0] }), []);
  assert.deepEqual(round9([102.12345678912345, 25.0000000006]), [102.123456789, 25.000000001]);
});
