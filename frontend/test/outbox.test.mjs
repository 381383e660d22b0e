// Unit tests of the grid worker's outbox (src/work/outbox.js) under a fake
// storage, clock and timers: what is made offline is kept with its key,
// sent when the network returns with the same key every try, dropped once
// taken, kept apart when refused, and retried with a doubling backoff.
// Also the countdown of a task's time limit (src/work/due.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoff, createOutbox, MAX_RETRY_MS, outcome, RETRY_MS } from '../src/work/outbox.js';
import { countdown, dueOf, isTask } from '../src/work/due.js';
import { HttpError } from '../src/http.js';

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), map: m };
}

// world is a fake phone: a clock, timers the test fires, a network that is
// up or down, and a server that takes each key once.
function world() {
  const w = {
    t: 1_000_000, online: false, timers: [], tries: [], taken: new Map(), storage: memoryStorage(), n: 0,
  };
  w.opts = {
    storage: w.storage,
    now: () => w.t,
    random: () => 0,
    setTimer: (fn, ms) => { const h = { fn, at: w.t + ms }; w.timers.push(h); return h; },
    clearTimer: (h) => { w.timers = w.timers.filter((x) => x !== h); },
    crypto: { randomUUID: () => `key-${++w.n}` },
    send: async (item) => {
      w.tries.push(item.key);
      if (!w.online) throw new TypeError('Failed to fetch');
      if (!w.taken.has(item.key)) w.taken.set(item.key, { id: w.taken.size + 1, body: item.body });
      return w.taken.get(item.key);
    },
  };
  // advance moves the clock and fires the timers that fall due.
  w.advance = async (ms) => {
    w.t += ms;
    for (const h of w.timers.filter((x) => x.at <= w.t)) {
      w.timers = w.timers.filter((x) => x !== h);
      h.fn();
    }
  };
  return w;
}

test('made offline: kept with its key, sent once the network returns, exactly once per key', async () => {
  const w = world();
  const sent = [];
  let changes = 0;
  const box = createOutbox('gridworker', { ...w.opts, onSent: (item, answer) => sent.push([item.key, answer.id]), onChange: () => changes++ });
  const visit = box.add({ kind: 'visit', label: '走访', path: '/api/visits', body: { note: '户主在家' } });
  const report = box.add({ kind: 'report', label: '上报', path: '/api/cases', body: { category: 'safety' } });
  await box.idle();
  assert.equal(box.pending().length, 2, 'both wait while offline');
  assert.ok(changes > 0);
  // Kept on the phone: a page loaded again finds them.
  const again = createOutbox('gridworker', { ...w.opts });
  assert.deepEqual(again.pending().map((i) => i.key), [visit.key, report.key]);
  assert.equal(createOutbox('someone-else', { ...w.opts }).pending().length, 0, 'another account sees none');

  // Still offline: the retry timer fires and fails again, with the same keys.
  await w.advance(RETRY_MS);
  await box.idle();
  assert.equal(box.pending().length, 2);
  // Online: a forced flush (the online event) sends both.
  w.online = true;
  await box.flush({ force: true });
  assert.equal(box.pending().length, 0);
  assert.deepEqual(sent, [[visit.key, 1], [report.key, 2]]);
  assert.deepEqual(new Set(w.tries), new Set([visit.key, report.key]), 'every try used the keys made offline');
  assert.equal(w.taken.size, 2);
  assert.equal(JSON.parse(w.storage.getItem('onemap.work.outbox.gridworker')).items.length, 0, 'the storage is emptied');
});

test('a refusal is kept apart with its reason and not sent again; dismiss removes it', async () => {
  const w = world();
  const box = createOutbox('gw', {
    ...w.opts, send: async () => { throw new HttpError(409, { error: 'case 7 has changed', field: 'version', code: 'conflict' }); },
  });
  box.add({ kind: 'action', label: '处置（案件 7）', path: '/api/cases/7/actions', body: {} });
  await box.idle();
  assert.equal(box.pending().length, 0);
  const [f] = box.failed();
  assert.equal(f.error, 'case 7 has changed');
  assert.equal(f.status, 409);
  box.dismiss(f.key);
  assert.equal(box.failed().length, 0);
});

test('outcome: what a try got', () => {
  assert.equal(outcome(undefined), 'sent');
  assert.equal(outcome(new TypeError('Failed to fetch')), 'retry');
  for (const s of [500, 502, 503, 401, 408, 429]) assert.equal(outcome(new HttpError(s, {})), 'retry', String(s));
  for (const s of [400, 403, 404, 422]) assert.equal(outcome(new HttpError(s, {})), 'failed', String(s));
  assert.equal(outcome(new HttpError(409, { field: 'version' })), 'failed');
  assert.equal(outcome(new HttpError(409, { field: 'idempotency_key' }, { retryAfter: 2 })), 'retry');
  assert.equal(outcome(new HttpError(409, { field: 'idempotency_key' })), 'sent', 'made, answer not kept');
});

test('backoff doubles from RETRY_MS up to MAX_RETRY_MS, jitter at most a fifth', () => {
  assert.equal(backoff(1, () => 0), RETRY_MS);
  assert.equal(backoff(2, () => 0), 2 * RETRY_MS);
  assert.equal(backoff(4, () => 0), 8 * RETRY_MS);
  assert.equal(backoff(40, () => 0), MAX_RETRY_MS);
  assert.equal(backoff(1, () => 1), Math.round(RETRY_MS * 0.8));
});

test('the retry waits as long as the backoff, or Retry-After if longer', async () => {
  const w = world();
  let fail = true;
  const box = createOutbox('gw', {
    ...w.opts,
    send: async (item) => {
      w.tries.push(w.t);
      if (fail) throw new HttpError(503, { error: 'unavailable' }, { retryAfter: 30 });
      return { id: 1, item };
    },
  });
  box.add({ kind: 'report', path: '/api/cases', body: {} });
  await box.idle();
  assert.equal(w.tries.length, 1);
  await w.advance(29_000);
  await box.idle();
  assert.equal(w.tries.length, 1, 'tried again before Retry-After');
  fail = false;
  await w.advance(1_000);
  await box.idle();
  assert.equal(w.tries.length, 2);
  assert.equal(box.pending().length, 0);
});

test('countdown and dueOf read the time limit from the server\'s clock', () => {
  assert.equal(countdown(25 * 60_000), '剩 25 分钟');
  assert.equal(countdown((3 * 24 + 4) * 3600_000), '剩 3 天 4 小时');
  assert.equal(countdown(-2 * 3600_000), '超时 2 小时');
  const now = '2026-12-01T08:00:00Z';
  assert.deepEqual(dueOf({ due: { next: '2026-12-01T09:30:00Z' }, overdue: false, due_soon: true }, now), { text: '剩 1 小时 30 分钟', cls: 'w-soon' });
  assert.deepEqual(dueOf({ due: { next: '2026-12-01T07:00:00Z' }, overdue: true }, now), { text: '超时 1 小时', cls: 'w-overdue' });
  assert.equal(dueOf({ due: { next: null } }, now), null);
  assert.ok(isTask({ assigned_grid_id: 5, status: 'assigned' }, 5));
  assert.ok(!isTask({ assigned_grid_id: 5, status: 'closed' }, 5));
  assert.ok(!isTask({ assigned_grid_id: 6, status: 'handling' }, 5));
});
