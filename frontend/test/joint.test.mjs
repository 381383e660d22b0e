// Unit tests of joint handling without a page: what the command map's form
// sends and where a refusal's field goes (src/joint-core.js), the parts a
// grid worker works, and a part step sent again on the case's version when
// the phone's is behind (src/work/parts.js).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chinaInstant, errorPlace, formatChinaTime, jointBody, partBody, workedParts } from '../src/joint-core.js';
import { partItem, REBASES, sendRebasing } from '../src/work/parts.js';
import { HttpError } from '../src/http.js';

describe('jointBody', () => {
  it('sends one part per row in the rows\' order, empty ones too, with the card\'s version', () => {
    const b = jointBody({ version: 4 }, '  交通、水务联动 ', [
      { department: ' 县交通运输局 ', task: '修复路面', grid_id: '17', due: '2026-12-08T18:00' },
      { department: '', task: '', grid_id: '', due: '' },
    ]);
    assert.equal(b.action, 'joint');
    assert.equal(b.version, 4);
    assert.equal(b.note, '交通、水务联动');
    assert.equal(b.parts.length, 2, 'an empty row is sent: the server names it');
    assert.deepEqual(Object.keys(b.parts[0]).sort(), ['department', 'due', 'grid_id', 'task']);
    assert.equal(b.parts[0].department, '县交通运输局');
    assert.equal(b.parts[0].grid_id, 17);
    assert.equal(b.parts[0].due, '2026-12-08T10:00:00.000Z', 'the limit typed is China time (UTC+8), whatever this machine\'s zone');
    assert.deepEqual(b.parts[1], { department: '', task: '' }, 'no grid and no limit: none sent');
    assert.equal('note' in jointBody({ version: 1 }, ' ', []), false);
  });
});

describe('China time', () => {
  it('reads a datetime-local value as China time and writes an instant in it, whatever the zone of the machine', () => {
    assert.equal(chinaInstant('2026-12-08T18:00'), '2026-12-08T10:00:00.000Z');
    assert.equal(chinaInstant('2026-12-09T07:30:15'), '2026-12-08T23:30:15.000Z', 'the day before in UTC');
    assert.equal(chinaInstant(' 2026-07-01T00:00 '), '2026-06-30T16:00:00.000Z', 'no daylight saving in summer');
    assert.equal(chinaInstant('tomorrow'), 'tomorrow', 'another form is sent as typed, for the server to refuse');
    assert.equal(formatChinaTime('2026-12-08T10:00:00Z', 'en-GB'), '08/12/2026, 18:00:00');
    assert.equal(formatChinaTime('2026-12-08T23:30:15Z', 'zh-CN'), '2026/12/9 07:30:15');
    assert.equal(formatChinaTime(null, 'zh-CN'), '');
  });
});

describe('errorPlace', () => {
  it('puts a part\'s field on its row, the others on the form', () => {
    assert.deepEqual(errorPlace('parts[1].department'), { row: 1, name: 'department' });
    assert.deepEqual(errorPlace('parts[0].grid_id'), { row: 0, name: 'grid_id' });
    assert.deepEqual(errorPlace('parts'), { row: -1, name: 'parts' });
    assert.deepEqual(errorPlace('note'), { row: -1, name: 'note' });
    assert.deepEqual(errorPlace(null), { row: -1, name: '' });
  });
});

describe('parts', () => {
  const k = {
    id: 9, version: 3, parts: [
      { part: 1, department: '县交通运输局', actions: ['part_handle', 'part_report'] },
      { part: 2, department: '县水务局', actions: [] },
    ],
  };
  it('workedParts lists the parts the server lets the caller work', () => {
    assert.deepEqual(workedParts([k, { id: 10 }]).map(({ kase, part }) => [kase.id, part.part]), [[9, 1]]);
  });
  it('a part step carries the part, the note and the version', () => {
    assert.deepEqual(partBody(k, 2, 'part_report', ' 好了 '), { action: 'part_report', version: 3, part: 2, note: '好了' });
    const item = partItem(k, 1, 'part_report', ' 路面已修复 ');
    assert.equal(item.path, '/api/cases/9/actions');
    assert.deepEqual(item.body, { action: 'part_report', version: 3, part: 1, note: '路面已修复' });
    assert.match(item.label, /县交通运输局/);
  });
});

// server is a fake case at a version; a step on another version is refused
// as the server does (409, field version).
function server(version) {
  const s = { version, sent: [], reads: 0 };
  s.request = async (method, path, { body, headers }) => {
    s.sent.push({ method, path, body, key: headers['Idempotency-Key'] });
    if (body.version !== s.version) throw new HttpError(409, { error: 'case has changed', code: 'conflict', field: 'version', current_version: s.version });
    s.version++;
    return { case: { id: 9, version: s.version } };
  };
  s.getJSON = async () => {
    s.reads++;
    return { id: 9, version: s.version };
  };
  return s;
}

describe('sendRebasing', () => {
  const item = (action, version) => ({ key: 'k-1', method: 'POST', path: '/api/cases/9/actions', body: { action, version, part: 1, note: 'x' } });
  it('sends a part step a version behind again on the case\'s version, under the same key', async () => {
    const s = server(5);
    const r = await sendRebasing(item('part_report', 3), s);
    assert.equal(r.case.version, 6);
    assert.deepEqual(s.sent.map((x) => [x.body.version, x.key]), [[3, 'k-1'], [5, 'k-1']]);
    assert.equal(s.reads, 1);
  });
  it('sends a step on the case as a whole once: it depends on the case as the worker saw it', async () => {
    const s = server(5);
    await assert.rejects(sendRebasing({ ...item('feedback', 3), body: { action: 'feedback', version: 3, note: 'x' } }, s),
      (e) => e.status === 409 && e.field === 'version');
    assert.equal(s.sent.length, 1);
  });
  it('passes any other refusal on, and gives up after REBASES tries', async () => {
    const bad = {
      request: async () => { throw new HttpError(400, { error: 'part 1 is reported back already', field: 'part' }); },
      getJSON: async () => assert.fail('read the case for a 400'),
    };
    await assert.rejects(sendRebasing(item('part_handle', 3), bad), (e) => e.status === 400 && e.field === 'part');
    const racing = server(5);
    racing.getJSON = async () => ({ id: 9, version: racing.version - 1 }); // always a step behind
    await assert.rejects(sendRebasing(item('part_report', 3), racing), (e) => e.status === 409);
    assert.equal(racing.sent.length, REBASES + 1);
  });
});
