// Unit tests of the case work's page-free logic (src/cases-core.js): the
// queues as list queries, the action bodies with their version, the
// default grid of an assignment, the wall's figures and live list.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  actionBody, chinaDay, conflictMessage, defaultGrid, inQueue, liveItems, missing, percent, queryString, queueQuery, wallFigures,
} from '../src/cases-core.js';

describe('queueQuery', () => {
  it('asks for the queue\'s statuses, narrowed by the filters', () => {
    assert.equal(queueQuery('new').status, 'reported');
    assert.equal(queueQuery('open').status, 'reported,accepted,assigned,handling,feedback');
    assert.equal(queueQuery('overdue').overdue, 'true');
    assert.equal(queueQuery('open', { status: 'handling' }).status, 'handling');
    // A status outside the queue narrows it to nothing, never widens it.
    assert.equal(queueQuery('new', { status: 'handling' }).status, '');
    const q = queueQuery('open', { category: 'dispute', grid: '12', from: '2026-12-01', to: '2026-12-05', overdue: true, level: 'village' });
    assert.deepEqual([q.category, q.grid, q.from, q.to, q.overdue, q.level], ['dispute', '12', '2026-12-01', '2026-12-05', 'true', 'village']);
  });
  it('escalated to my level: accepted cases held at my level that were escalated', () => {
    const q = queueQuery('escalated', {}, 'township');
    assert.equal(q.status, 'accepted');
    assert.equal(q.level, 'township');
    assert.equal(inQueue('escalated', { status: 'accepted', escalations: 1 }), true);
    assert.equal(inQueue('escalated', { status: 'accepted', escalations: 0 }), false);
    assert.equal(inQueue('open', { status: 'accepted', escalations: 0 }), true);
  });
  it('queryString leaves out empty values and the page size', () => {
    assert.equal(queryString({ status: 'reported', category: '', grid: undefined, limit: 200, overdue: 'true' }), 'status=reported&overdue=true');
  });
});

describe('actions', () => {
  const c = { id: 7, version: 3, grid_id: 42, holder_grid_id: 40 };
  it('send the version the card shows', () => {
    assert.deepEqual(actionBody('accept', c), { action: 'accept', version: 3 });
  });
  it('assign goes by default to the deepest grid holding the place', () => {
    assert.equal(defaultGrid('assign', c), 42);
    assert.deepEqual(actionBody('assign', c, { assignee: ' 张三 ', department: '' }), { action: 'assign', version: 3, grid_id: 42, assignee: '张三' });
    assert.deepEqual(actionBody('assign', c, { grid_id: '41' }).grid_id, 41);
    assert.equal(defaultGrid('assign', { grid_id: 0, holder_grid_id: 40 }), 40);
  });
  it('hand down has no default when the place is the holder', () => {
    assert.equal(defaultGrid('hand_down', { grid_id: 40, holder_grid_id: 40 }), '');
    assert.equal(missing('hand_down', actionBody('hand_down', { version: 1, grid_id: 40, holder_grid_id: 40 })), 'grid_id');
  });
  it('refuse, escalate and reopen need a reason; check sends pass', () => {
    assert.equal(missing('refuse', actionBody('refuse', c, { note: '  ' })), 'note');
    assert.equal(missing('escalate', actionBody('escalate', c, { note: '跨部门' })), '');
    assert.deepEqual(actionBody('check', c, { pass: false }), { action: 'check', version: 3, pass: false });
    assert.deepEqual(actionBody('handle', c, { note: '已到场', public: true }), { action: 'handle', version: 3, note: '已到场', public: true });
  });
  it('a conflict says the case was reloaded', () => {
    assert.match(conflictMessage({ status: 409, body: {} }), /已被他人先一步更新/);
    assert.match(conflictMessage({ status: 409, body: {} }, 'en'), /reloaded/);
  });
});

describe('the wall', () => {
  it('figures and rates', () => {
    const f = wallFigures({ reported: 10, accepted: 8, closed: 5, closure_rate: 0.5, overdue: 2, escalated: 1, settlement_rate: null });
    assert.deepEqual(f, { reported: 10, accepted: 8, closed: 5, closureRate: 0.5, overdue: 2, escalated: 1, settlementRate: null });
    assert.equal(percent(0.939), '93.9%');
    assert.equal(percent(null), '—');
  });
  it('China\'s day of an instant', () => {
    assert.equal(chinaDay(new Date('2026-12-05T17:00:00Z')), '2026-12-06');
    assert.equal(chinaDay(new Date('2026-12-05T15:59:00Z')), '2026-12-05');
  });
  it('the live list keeps new and escalated cases, newest first', () => {
    const seen = new Map();
    const ev = (id, op, p) => ({ layer: 'cases', id, op, properties: { tracking_code: `C${id}`, category: 'safety', level: 'village', escalations: 0, ...p } });
    let list = liveItems([], [ev(1, 'insert', { status: 'reported' })], seen);
    list = liveItems(list, [ev(1, 'update', { status: 'accepted' })], seen); // accepted: not listed
    list = liveItems(list, [ev(1, 'update', { status: 'accepted', escalations: 1, level: 'township' })], seen);
    list = liveItems(list, [{ layer: 'grids', id: 9, op: 'update', properties: {} }], seen);
    assert.deepEqual(list.map((i) => [i.kind, i.id, i.level]), [['escalated', 1, 'township'], ['new', 1, 'village']]);
    const many = liveItems([], Array.from({ length: 20 }, (_, i) => ev(i + 10, 'insert', {})), seen, 5);
    assert.deepEqual(many.map((i) => i.id), [29, 28, 27, 26, 25]);
  });
});
