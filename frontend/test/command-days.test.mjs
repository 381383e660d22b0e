// The cases panel's day fields (src/command/days.js) read a day as the
// Chinese page writes it, not as the browser's date input would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayFieldHTML, parseDay } from '../src/command/days.js';

test('parseDay reads 年-月-日 and its usual spellings', () => {
  assert.equal(parseDay(''), '');
  assert.equal(parseDay('   '), '');
  assert.equal(parseDay('2026-12-07'), '2026-12-07');
  assert.equal(parseDay(' 2026-1-5 '), '2026-01-05');
  assert.equal(parseDay('2026/1/5'), '2026-01-05');
  assert.equal(parseDay('2026.01.05'), '2026-01-05');
  assert.equal(parseDay('2026年1月5日'), '2026-01-05');
  assert.equal(parseDay('2026年12月7'), '2026-12-07');
  assert.equal(parseDay('20261207'), '2026-12-07');
  assert.equal(parseDay('2024-02-29'), '2024-02-29');
});

test('parseDay refuses what is not a day', () => {
  for (const bad of ['12/07/2026', '2026-13-01', '2026-02-29', '2026-04-31', '2026-12', 'abc', '2026-12-07T08:00', '202612070']) {
    assert.equal(parseDay(bad), null, bad);
  }
});

test('a day field is a text field with the page’s hint, not the browser’s date input', () => {
  const html = dayFieldHTML('from', '起', '年-月-日', '选日期');
  assert.match(html, /<input name="from" type="text"[^>]*placeholder="年-月-日"/);
  assert.match(html, /aria-label="起 选日期"/);
  // The date input the calendar opens from has no name: the form reads the text field.
  assert.match(html, /<input class="om-day-native" type="date" tabindex="-1" aria-hidden="true">/);
});
