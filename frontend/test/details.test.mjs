// The household details' section of a card (src/details.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detailsHTML, mayReadDetails, waitText } from '../src/details.js';

const purposes = [
  { code: 'visit', title: '走访核实', title_en: 'Visit or check' },
  { code: 'case', title: '案件办理', title_en: 'Case handling' },
];

test('the section is offered only to roles that see the responsible person unmasked', () => {
  const layers = (masked) => [{ id: 'households', fields: [{ name: 'responsible_name', masked }] }];
  assert.equal(mayReadDetails(layers(false)), true);
  assert.equal(mayReadDetails(layers(true)), false);
  assert.equal(mayReadDetails([{ id: 'grids', fields: [] }]), false);
  assert.equal(mayReadDetails(undefined), false);
  assert.equal(detailsHTML([], {}), '', 'no purposes, no section');
});

test('the form offers the server\'s purposes, no free text', () => {
  const html = detailsHTML(purposes, { purpose: 'case' });
  assert.match(html, /<select name="purpose"><option value="visit">走访核实<\/option><option value="case" selected>案件办理<\/option><\/select>/);
  assert.doesNotMatch(html, /<input/);
  assert.match(html, /data-action="details"/);
  assert.match(detailsHTML(purposes, { loading: true }), /disabled aria-busy="true"/);
  assert.match(detailsHTML(purposes, { error: '<b>x</b>' }), /role="alert">&lt;b&gt;x&lt;\/b&gt;/);
});

test('details are shown escaped, without empty rows', () => {
  const html = detailsHTML(purposes, { details: { head_name: '张<三>', head_phone: '13800001111', members: 4, address: '', notes: null } });
  assert.match(html, /data-state="shown"/);
  assert.match(html, /张&lt;三&gt;/);
  assert.match(html, /13800001111/);
  assert.doesNotMatch(html, /data-field="address"|data-field="notes"|<select/);
});

test('a wait is said in seconds, or minutes past a minute and a half', () => {
  assert.equal(waitText('60'), '60 秒');
  assert.equal(waitText('600'), '10 分钟');
  assert.equal(waitText(null), '1 秒');
});
