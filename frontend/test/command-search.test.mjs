// The command map's search box offers the coordinate system only for text
// that may be a position: a case's tracking code has digits apart too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCoordinates } from '../src/command/search.js';

test('coordinates offer the coordinate system, tracking codes do not', () => {
  for (const pos of ['102.4063 25.5302', '25.53,102.41', '102°24′22″ 25°31′49″', '2534 5678']) assert.equal(isCoordinates(pos), true, pos);
  for (const code of ['2345-6789-23', '2345 6789 23', 'ABCD-EF23-45', 'abcd-ef23-45', 'ABCDEF2345', '  2345-6789-23 ']) {
    assert.equal(isCoordinates(code), false, code);
  }
  // Ten characters with a 0 or a 1 are no tracking code: still a position.
  assert.equal(isCoordinates('1023-4063-25'), true);
  assert.equal(isCoordinates('狮山镇'), false);
});
