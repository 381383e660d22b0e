// Unit tests of the public report page's pure parts (src/m/reportutil.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldOf, myReports, parsePosition, rememberReport, scaledSize } from '../src/m/reportutil.js';

test('parsePosition reads what people paste', () => {
  for (const [text, want] of [
    ['102.404,25.53', { lon: 102.404, lat: 25.53 }],
    ['102.404, 25.53', { lon: 102.404, lat: 25.53 }],
    ['102.404，25.53', { lon: 102.404, lat: 25.53 }],
    ['25.53 102.404', { lon: 102.404, lat: 25.53 }], // latitude first, told by the ranges
    ['https://uri.amap.com/marker?position=102.4041,25.5302&name=x', { lon: 102.4041, lat: 25.5302 }],
    ['https://m.amap.com/navi/?dest=1&location=102.4,25.5', { lon: 102.4, lat: 25.5 }],
    ['geo:25.53,102.404', { lon: 102.404, lat: 25.53 }],
  ]) {
    assert.deepEqual(parsePosition(text), want, text);
  }
  for (const text of ['', '狮山镇', '102.4', '200,95', 'abc,def', '1,2,3']) {
    assert.equal(parsePosition(text), null, text);
  }
});

test('scaledSize bounds the longer side and keeps the shape', () => {
  assert.deepEqual(scaledSize(4032, 3024), [2048, 1536]);
  assert.deepEqual(scaledSize(3024, 4032), [1536, 2048]);
  assert.deepEqual(scaledSize(800, 600), [800, 600]);
  assert.deepEqual(scaledSize(2048, 10), [2048, 10]);
  assert.deepEqual(scaledSize(100000, 1), [2048, 1]);
});

test('the codes this phone filed are kept, newest first, without repeats', () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v) };
  assert.deepEqual(myReports(storage), []);
  for (let i = 0; i < 12; i++) rememberReport({ code: `C${i}`, at: '', category: '' }, storage);
  rememberReport({ code: 'C5', at: '', category: '' }, storage);
  const codes = myReports(storage).map((r) => r.code);
  assert.equal(codes.length, 10);
  assert.equal(codes[0], 'C5');
  assert.equal(new Set(codes).size, 10);
  const broken = { getItem: () => '{not json', setItem: () => { throw new Error('quota'); } };
  assert.deepEqual(myReports(broken), []);
  rememberReport({ code: 'X' }, broken); // no throw
});

test('a refusal names the part of the form', () => {
  assert.equal(fieldOf('lon'), 'place');
  assert.equal(fieldOf('position'), 'place');
  assert.equal(fieldOf('photo'), 'photos');
  assert.equal(fieldOf('phone'), 'phone');
  assert.equal(fieldOf(null), '');
});
