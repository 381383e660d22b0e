// 周边 in English (?lang=en): the open cases are counted as cases where the
// count stands without its title ("nearest 20 cases listed"), the other
// layers as before. The page's language is read once, as the modules load:
// this file sets the address before it loads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';

globalThis.location = { search: '?lang=en' };
const { aroundHTML, counted } = await import('../src/around.js');

test('English 周边 says "cases" where the Chinese counts in 件', () => {
  const brief = { id: 4, tracking_code: 'BCDE-FGHJ-KL', category: 'safety', status: 'reported', level: 'group', position: [102.41, 25.5], distance_m: 20 };
  const text = aroundHTML({ layers: { cases: { count: 3, truncated: true, features: [brief] } } }, new Map()).replace(/<[^>]*>/g, ' ');
  assert.match(text, /Cases\s+3, nearest 1 cases listed/);
  assert.match(text, /counted over the nearest 1 cases/);
  assert.doesNotMatch(text, /[\u4e00-\u9fff]/);
  assert.equal(counted('listedNearest', 'risk_points', 2), ', nearest 2 listed');
  assert.equal(counted('places', 'cases', 3), '3');
});
