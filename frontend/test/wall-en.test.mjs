// The wall in English (?lang=en): its own words for every layer it draws,
// the emergency layers too, with what a hazard zone threatens and what a
// shelter holds. The page's language is read once, as the modules load:
// this file sets the address before it loads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.location = { search: '?lang=en' };
const { changeItems, changesHTML, w } = await import('../src/screen/wall.js');
const { formatClock, formatTimeOfDay } = await import('../src/format.js');

// text is what a list shows, without its markup.
const text = (html) => html.replace(/<[^>]*>/g, ' ');

test('the English wall names hazard zones and shelters as it names the other layers', () => {
  assert.equal(w('hazard_zones'), 'Hazard zone');
  assert.equal(w('shelters'), 'Shelter');
  const list = changeItems([], [
    { seq: 1, layer: 'hazard_zones', id: 3, op: 'update', properties: { name: 'Longtan landslide', level: 'red', threatened_households: 22, threatened_people: 66 } },
    { seq: 2, layer: 'shelters', id: 4, op: 'insert', properties: { name: 'Shishan school', capacity: 1200 } },
  ], { at: 0 });
  const html = changesHTML(list);
  assert.match(html, /Hazard zone · Longtan landslide · major \(red\) · threatens 22 households, 66 people/);
  assert.match(html, /Shelter · Shishan school · holds 1,200 people/);
  assert.doesNotMatch(text(html), /hazard zones|shelters|[\u4e00-\u9fff]/);
});

test('the English wall\'s times run from 00:00 (en-US would write 24:00 after midnight)', () => {
  const midnight = new Date('2026-01-01T00:00:05+08:00'); // China's midnight, as the page writes times
  assert.equal(formatTimeOfDay(midnight), '00:00:05');
  assert.match(formatClock(midnight), /00:00:05/);
});

test('the English wall\'s live list of cases says when it has none yet', async () => {
  const { liveHTML } = await import('../src/screen/cases.js');
  assert.equal(liveHTML([]), '<li class="om-wall-empty">No new or escalated case yet</li>');
});
