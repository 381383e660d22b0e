// Escape's order on the command map (command/keys.js ESCAPES): one thing a
// press, the innermost open first, over a page of plain objects that keep
// what is open and what each press undid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escape } from '../src/command/keys.js';

// fakePage has everything open that ESCAPES looks at; open (names) says
// what is.
function fakePage(open) {
  const is = new Set(open);
  const undid = [];
  const off = (name) => () => { is.delete(name); undid.push(name); };
  return {
    is, undid,
    tools: {
      linkOpen: () => is.has('link'), closeLink: off('link'),
      measure: { active: () => is.has('measuring'), mode: () => (is.has('measuring') || is.has('measured') ? 'distance' : null),
        cancel: () => { for (const n of ['measuring', 'measured']) if (is.has(n)) off(n)(); } },
      measureButtons: {},
    },
    around: { picking: () => is.has('picking'), setPicking: off('picking'), focusButton: () => {} },
    affected: { drawing: () => is.has('drawing'), stopDrawing: off('drawing') },
    cases: { placing: () => is.has('placing'), stopPlacing: off('placing') },
    card: { isOpen: () => is.has('card'), close: off('card') },
    dock: { open: () => (is.has('panel') ? {} : null), closeOpen: off('panel') },
    overlay: () => {},
  };
}

test('Escape undoes one thing a press: the tool in hand, the card, the measurement left, the panel', () => {
  const page = fakePage(['panel', 'measured', 'card', 'picking', 'link']);
  const names = [];
  while (page.is.size) names.push(escape(page));
  assert.deepEqual(names, ['link', 'picking', 'card', 'measured', 'panel']);
  assert.deepEqual(page.undid, names, 'each press undid exactly what it named');
  assert.equal(escape(page), 'mark', 'with nothing open, the picked place\'s mark goes');
});

test('a measurement being drawn ends before 周边 closes; a card goes before a measurement left on the map', () => {
  let page = fakePage(['panel', 'measuring']);
  assert.equal(escape(page), 'measuring');
  assert.ok(page.is.has('panel'), '周边 stays while a measurement ends');
  page = fakePage(['panel', 'measured', 'card']);
  assert.equal(escape(page), 'card');
  assert.deepEqual([...page.is].sort(), ['measured', 'panel']);
  page = fakePage(['panel', 'drawing']);
  assert.equal(escape(page), 'drawing');
  assert.deepEqual([...page.is], ['panel']);
});

test('the wait for a case\'s place ends before the card and the cases panel; a page without cases skips it', () => {
  let page = fakePage(['panel', 'card', 'placing']);
  assert.equal(escape(page), 'placing');
  assert.deepEqual([...page.is].sort(), ['card', 'panel'], 'the card and the cases panel stay');
  assert.equal(escape(page), 'card');
  assert.equal(escape(page), 'panel');
  page = fakePage(['measuring', 'placing', 'panel']);
  assert.deepEqual([escape(page), escape(page), escape(page)], ['measuring', 'placing', 'panel']);
  page = fakePage(['panel']);
  delete page.cases;
  assert.equal(escape(page), 'panel');
});
