// The edit section of a feature's card (src/command/edit.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editHTML, mayEdit } from '../src/command/edit.js';

const layer = {
  id: 'risk_points',
  editable: ['level', 'name'],
  fields: [{ name: 'level', type: 'String', title: '风险等级', enum: ['red', 'orange', 'yellow', 'blue'] }, { name: 'name', type: 'String', title: '名称' }],
};

test('only a layer the caller edits has an edit section', () => {
  assert.equal(mayEdit(layer), true);
  assert.equal(mayEdit({ id: 'grids', fields: [] }), false);
  assert.equal(editHTML({ id: 'cameras', fields: [] }, {}, null), '');
  assert.match(editHTML(layer, {}, null), /data-action="edit"/);
});

test('the form holds the editable fields with their values, a refusal next to its field', () => {
  const html = editHTML(layer, { level: 'orange', name: '<b>点</b>' }, { open: true, error: { field: 'name', message: '太长' } });
  assert.match(html, /<select name="level">/);
  assert.match(html, /<option value="orange" selected>/);
  assert.match(html, /name="name" type="text" value="&lt;b&gt;点&lt;\/b&gt;"/);
  assert.match(html, /名称 <input[^>]*><span class="om-error" role="alert">太长<\/span>/);
  assert.match(html, /data-action="edit-save"/);
});
