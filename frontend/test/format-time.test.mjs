// The staff pages write times in China time, the county's, whatever zone
// the browser is set to (this runs in the machine's own zone; run it with
// TZ=America/New_York or TZ=UTC to see it hold).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatClock, formatDateTime, formatStamp, formatTimeOfDay } from '../src/format.js';

const at = '2026-12-07T05:32:41Z'; // 13:32:41 in China

test('formatDateTime writes an instant in China time', () => {
  assert.equal(formatDateTime(at), '2026/12/7 13:32:41');
  assert.equal(formatDateTime('2026-12-07T16:00:00Z'), '2026/12/8 00:00:00', 'China midnight starts the next day');
  assert.equal(formatDateTime(null), '');
});

test('formatTimeOfDay and formatClock read the clock in China time', () => {
  assert.equal(formatTimeOfDay(new Date(at)), '13:32:41');
  assert.match(formatClock(new Date(at)), /2026年12月7日.*13:32:41/);
});

test('formatStamp writes a stamp of any zone as China time', () => {
  assert.equal(formatStamp('2026-11-25 22:18:13.5+00'), '2026-11-26 06:18');
  assert.equal(formatStamp('2026-11-25T22:18:13Z'), '2026-11-26 06:18');
  assert.equal(formatStamp('2026-11-26T06:18:00+08:00'), '2026-11-26 06:18');
  assert.equal(formatStamp('no stamp'), 'no stamp');
});
