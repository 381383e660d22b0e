// Unit tests of the reassessment form (command/assess.js): it starts from
// the last assessment that was not rejected — its ticks with their notes,
// its grade and its remark — so that the worker changes only what changed;
// with none, it starts blank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formHTML, lastOf } from '../src/command/assess.js';

const REF = {
  situations: [{ code: 'neighbour', name: '邻里纠纷' }, { code: 'expropriation', name: '征地拆迁纠纷' },
    { code: 'retired', name: '已停用', active: false }],
  categories: [{ code: 'hardship', name: '困难群众' }, { code: 'petitioner', name: '重点信访人员' }],
  rules: { grades: { dilapidated_housing: { A: 'blue', B: 'yellow', C: 'orange', D: 'red' } } },
};
const HOUSEHOLD = { id: 7, properties: { kind: 'neighbour', level: 'orange', next_assessment_due: '2027-01-05', version: 3 } };

// ticked returns the codes the form ticks, with the note each shows.
function ticked(html) {
  const out = {};
  for (const m of html.matchAll(/value="([^"]+)" checked>.*? data-note-for="\1"[^>]*? value="([^"]*)"/g)) out[m[1]] = m[2];
  return out;
}

test('lastOf: the newest assessment not rejected', () => {
  const list = [{ id: 9, status: 'rejected' }, { id: 8, status: 'pending' }, { id: 5, status: 'applied' }];
  assert.equal(lastOf(list).id, 8);
  assert.equal(lastOf([{ id: 9, status: 'rejected' }]), null);
  assert.equal(lastOf([]), null);
  assert.equal(lastOf(undefined), null);
});

test('a household: the last assessment\'s ticks, notes and remark', () => {
  const last = { id: 5, status: 'applied', assessed_on: '2026-10-05', level: 'orange', note: '已调解，继续跟踪 <b>',
    situations: [{ code: 'expropriation', note: '补偿款 "分配" 未谈妥' }], categories: [{ code: 'petitioner', note: '多次到县信访' }, { code: 'hardship' }] };
  const html = formHTML('households', HOUSEHOLD, REF, last);
  assert.deepEqual(ticked(html), { expropriation: '补偿款 &quot;分配&quot; 未谈妥', petitioner: '多次到县信访', hardship: '' });
  assert.match(html, /data-note-for="neighbour"[^>]* hidden>/, 'an unticked situation hides its note');
  assert.match(html, /<textarea name="note"[^>]*>已调解，继续跟踪 &lt;b&gt;<\/textarea>/);
  assert.match(html, /data-last-assessment="5">按上次评估（2026-10-05，/);
  assert.doesNotMatch(html, /retired/, 'an inactive situation is not offered');
});

test('a household never assessed: a blank form', () => {
  const html = formHTML('households', HOUSEHOLD, REF, null);
  assert.deepEqual(ticked(html), {});
  assert.doesNotMatch(html, / checked/);
  assert.match(html, /<textarea name="note"[^>]*><\/textarea>/);
  assert.doesNotMatch(html, /data-last-assessment/);
});

test('a pending last assessment says so', () => {
  const html = formHTML('households', HOUSEHOLD, REF, { id: 6, status: 'pending', assessed_on: '2026-12-01', level: 'red', categories: [] });
  assert.match(html, /data-last-assessment="6">[^<]*待确认/);
});

test('a risk point: the last grade, or the last level of a kind without grades', () => {
  const house = { id: 3, properties: { kind: 'dilapidated_housing', level: 'orange' } };
  let html = formHTML('risk_points', house, REF, { id: 2, status: 'applied', assessed_on: '2026-11-01', level: 'red', grade: 'D', note: 'D级危房' });
  assert.match(html, /<option value="D" selected>D级/);
  assert.doesNotMatch(html, /<option value="(red|orange|yellow|blue)" selected/, 'a graded kind\'s level follows from its grade');
  assert.match(html, />D级危房<\/textarea>/);
  html = formHTML('risk_points', house, REF, null);
  assert.doesNotMatch(html, / selected/, 'never assessed: no grade chosen for the worker');

  const flood = { id: 4, properties: { kind: 'flood', level: 'yellow' } };
  html = formHTML('risk_points', flood, REF, { id: 1, status: 'applied', assessed_on: '2026-11-01', level: 'orange' });
  assert.match(html, /<option value="orange" selected>/);
  assert.doesNotMatch(html, /name="grade"/);
  html = formHTML('risk_points', flood, REF, null);
  assert.match(html, /<option value="yellow" selected>/, 'without an assessment: the current level');
});
