// The public page (/m/), the grid worker's phone (/work/) and the feature
// popup write times and days in China time, the county's, whatever zone
// the device is set to. These run in the machine's own zone: run them with
// TZ=UTC or TZ=America/New_York to see them hold (on a phone left on UTC,
// a case reported at 13:32 China time read 05:32, and a due date read as
// not yet passed for the first eight hours of China's next day).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMinute, formatMonthDayTime } from '../src/format.js';
import { formatTime } from '../src/m/reportutil.js';
import { overdueText } from '../src/popup.js';

test('the public page writes a report\'s times in China time', () => {
  assert.equal(formatTime('2026-12-07T05:32:41Z'), '2026-12-07 13:32');
  assert.equal(formatTime('2026-12-07T13:32:41+08:00'), '2026-12-07 13:32');
  assert.equal(formatTime('2026-12-06T16:00:00.123456Z'), '2026-12-07 00:00', 'China midnight starts the next day');
  assert.equal(formatTime('2026-12-06T15:59:59Z'), '2026-12-06 23:59');
  assert.equal(formatTime('2026-12-31T17:30:00Z'), '2027-01-01 01:30', 'and the next year');
  assert.equal(formatTime('not a time'), '');
  assert.equal(formatTime(undefined), '');
});

test('formatMinute takes what Date takes', () => {
  assert.equal(formatMinute(new Date('2026-12-07T05:32:41Z')), '2026-12-07 13:32');
  assert.equal(formatMinute(Date.UTC(2026, 11, 7, 5, 32)), '2026-12-07 13:32');
  assert.equal(formatMinute(null), '');
});

test('the grid worker\'s phone writes month/day and time in China time', () => {
  assert.equal(formatMonthDayTime('2026-12-07T05:32:41Z', 'zh-CN'), '12/7 13:32');
  assert.equal(formatMonthDayTime('2026-12-06T16:05:00Z', 'zh-CN'), '12/7 00:05', 'a 24-hour clock from China midnight');
  assert.equal(formatMonthDayTime('2026-12-06T15:05:00Z', 'zh-CN'), '12/6 23:05');
  assert.equal(formatMonthDayTime('', 'zh-CN'), '');
  assert.equal(formatMonthDayTime('soon', 'zh-CN'), '');
});

test('a due date has passed from China midnight on, in any zone', () => {
  // 01:00 on 27 Nov in China is still 26 Nov in UTC and in New York.
  assert.equal(overdueText('2026-11-26', new Date('2026-11-26T17:00:00Z')), '逾期 1 天');
  assert.equal(overdueText('2026-11-26', new Date('2026-11-26T15:59:59Z')), '', 'the last second of the due day in China');
  assert.equal(overdueText('2026-11-26', new Date('2026-11-26T16:00:00Z')), '逾期 1 天', 'China midnight');
  // 07:00 on 27 Nov in China (the 26th's 23:00 in UTC) counts a whole month after 27 Oct.
  assert.equal(overdueText('2026-10-27', new Date('2026-11-26T23:00:00Z')), '逾期 1 个月');
  // 23:30 on 26 Nov in China is already the 27th in Tokyo and the 26th's afternoon in UTC: the 26th it is.
  assert.equal(overdueText('2026-11-25', new Date('2026-11-26T15:30:00Z')), '逾期 1 天');
});
