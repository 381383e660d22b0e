// Unit tests of the client's one HTTP client (src/http.js) against a fake
// fetch: JSON both ways, the CSRF token on changing requests only, and the
// error a refusal throws. Run with `npm test` under Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchSession, getJSON, HttpError, request, setCSRF } from '../src/http.js';

// fake replaces fetch with one that records the requests and answers them in turn.
function fake(...answers) {
  const asked = [];
  globalThis.fetch = async (url, init) => {
    asked.push({ url, ...init });
    const a = answers.shift() ?? { status: 200, body: {} };
    const text = a.text ?? (a.body === undefined ? '' : JSON.stringify(a.body));
    return {
      ok: a.status >= 200 && a.status < 300,
      status: a.status,
      headers: new Headers(a.headers ?? {}),
      text: async () => text,
    };
  };
  return asked;
}

test('getJSON leaves out empty parameters and parses the answer', async () => {
  const asked = fake({ status: 200, body: { ok: 1 } });
  assert.deepEqual(await getJSON('/api/search', { q: '东岳', limit: 20, after: undefined, x: null }), { ok: 1 });
  assert.equal(asked[0].url, '/api/search?q=%E4%B8%9C%E5%B2%B3&limit=20');
  assert.equal(asked[0].method, 'GET');
  assert.equal(asked[0].credentials, 'same-origin');
  assert.equal(asked[0].headers['X-CSRF-Token'], undefined);
});

test('the session\'s CSRF token goes with changing requests only', async () => {
  const asked = fake({ status: 200, body: { name: 'p', role: 'planner', csrf: 'tok' } }, { status: 204 }, { status: 200, body: [] });
  assert.equal((await fetchSession()).role, 'planner');
  assert.equal(await request('PATCH', '/api/grids/1', { body: { reason: 'x' }, headers: { 'If-Match': '"3"' } }), null);
  assert.equal(asked[1].headers['X-CSRF-Token'], 'tok');
  assert.equal(asked[1].headers['If-Match'], '"3"');
  assert.equal(asked[1].headers['Content-Type'], 'application/json');
  assert.equal(asked[1].body, '{"reason":"x"}');
  await getJSON('/api/grids');
  assert.equal(asked[2].headers['X-CSRF-Token'], undefined);
  setCSRF('');
});

test('a file is sent as it is', async () => {
  const asked = fake({ status: 200, body: { imported: 1 } });
  const file = new Blob(['{"type":"FeatureCollection"}']);
  await request('POST', '/api/grids/import', { query: { filename: 'a.geojson' }, body: file });
  assert.equal(asked[0].url, '/api/grids/import?filename=a.geojson');
  assert.equal(asked[0].body, file);
  assert.equal(asked[0].headers['Content-Type'], 'application/octet-stream');
});

test('a refusal throws an HttpError carrying what the server said', async () => {
  fake({ status: 400, body: { error: 'feature 2 (line 9): bad code', code: 'invalid', field: 'code', feature: 2, line: 9 } });
  const err = await getJSON('/api/x').catch((e) => e);
  assert.ok(err instanceof HttpError);
  assert.equal(err.message, 'feature 2 (line 9): bad code');
  assert.deepEqual([err.status, err.code, err.field, err.feature, err.line], [400, 'invalid', 'code', 2, 9]);
  assert.equal(err.body.error, 'feature 2 (line 9): bad code');

  fake({ status: 429, body: { error: 'slow down' }, headers: { 'Retry-After': '120' } });
  const slow = await getJSON('/api/x').catch((e) => e);
  assert.equal(slow.retryAfter, 120);

  fake({ status: 503, text: 'the web client is not built' });
  const plain = await getJSON('/api/x').catch((e) => e);
  assert.equal(plain.message, 'HTTP 503');
  assert.deepEqual([plain.field, plain.feature, plain.line], [null, null, null]);
});

test('fetchSession: a server without sessions answers null, other failures throw', async () => {
  fake({ status: 404, body: { error: 'not found' } });
  assert.equal(await fetchSession(), null);
  fake({ status: 500, body: { error: 'boom' } });
  await assert.rejects(fetchSession(), HttpError);
});
