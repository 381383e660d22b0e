// The toolbar's scroll cues (src/command/toolrow.js): which ends of a
// sideways-scrolled row have tools beyond them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hintHeight, moreSides } from '../src/command/toolrow.js';

test('moreSides names the ends with tools beyond them', () => {
  assert.equal(moreSides({ scrollLeft: 0, scrollWidth: 370, clientWidth: 370 }), '', 'everything fits');
  assert.equal(moreSides({ scrollLeft: 0, scrollWidth: 505, clientWidth: 370 }), 'right');
  assert.equal(moreSides({ scrollLeft: 60, scrollWidth: 505, clientWidth: 370 }), 'left right');
  assert.equal(moreSides({ scrollLeft: 135, scrollWidth: 505, clientWidth: 370 }), 'left');
  // Fractional scrolling (a phone's device pixels) ends a hair short of the end.
  assert.equal(moreSides({ scrollLeft: 134.5, scrollWidth: 505, clientWidth: 370 }), 'left');
  assert.equal(moreSides({ scrollLeft: 0.5, scrollWidth: 505, clientWidth: 370 }), 'right');
});

test('hintHeight is the room the shown hint takes', () => {
  assert.equal(hintHeight([]), 0);
  assert.equal(hintHeight([{ hidden: true, height: 0 }, { hidden: true, height: 0 }]), 0, 'no hint shows');
  assert.equal(hintHeight([{ hidden: true, height: 0 }, { hidden: false, height: 86.4 }]), 87, 'whole pixels, rounded up');
  assert.equal(hintHeight([{ hidden: false, height: 40 }, { hidden: false, height: 62 }]), 62, 'the tallest of two shown');
});
