// The phone toolbar's scroll cues (src/command/toolrow.js): which ends of a
// sideways-scrolled row have tools beyond them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moreSides } from '../src/command/toolrow.js';

test('moreSides names the ends with tools beyond them', () => {
  assert.equal(moreSides({ scrollLeft: 0, scrollWidth: 370, clientWidth: 370 }), '', 'everything fits');
  assert.equal(moreSides({ scrollLeft: 0, scrollWidth: 505, clientWidth: 370 }), 'right');
  assert.equal(moreSides({ scrollLeft: 60, scrollWidth: 505, clientWidth: 370 }), 'left right');
  assert.equal(moreSides({ scrollLeft: 135, scrollWidth: 505, clientWidth: 370 }), 'left');
  // Fractional scrolling (a phone's device pixels) ends a hair short of the end.
  assert.equal(moreSides({ scrollLeft: 134.5, scrollWidth: 505, clientWidth: 370 }), 'left');
  assert.equal(moreSides({ scrollLeft: 0.5, scrollWidth: 505, clientWidth: 370 }), 'right');
});
