// The grid's form: filled from a grid, checked field by field before a
// save (checks.js), read back as what a save sends, and asked about before
// unsaved edits are thrown away.

import { formatAreaM2 } from '../format.js';
import { CHECKS } from './checks.js';
import { $, FIELDS, gridName, state } from './state.js';
import { drawingDirty } from './draw.js';
import { fail } from './save.js';
import { w } from './words.js';

/** fillForm shows grid g in the form (a new grid: only its level and parent). */
export function fillForm(g) {
  const f = $('grid-form');
  for (const k of FIELDS) f.elements[k].value = g?.properties?.[k] ?? '';
  f.elements.level.value = g?.properties?.level ?? '';
  f.elements.reason.value = '';
  const pid = g?.properties?.parent_id;
  $('parent-name').textContent = pid ? gridName(pid, { quoted: false }) : '—';
  $('area').textContent = g?.properties?.area_m2 ? formatAreaM2(g.properties.area_m2) : '—';
  $('version').textContent = g?.properties?.version ?? w('newVersion');
  $('grid-title').textContent = g?.id ? w('titleOf', g.properties.name, g.id) : w('newGrid');
  $('btn-history').disabled = !g?.id;
  for (const id of ['btn-shape', 'btn-split', 'btn-delete']) $(id).disabled = !g?.id || !state.canEdit;
  showFieldErrors({});
}

/** showGridSection shows or hides the form (and its save button, for those who may edit). */
export function showGridSection(show) {
  $('grid-section').hidden = !show;
  $('save-row').hidden = !show || !state.canEdit;
}

/** reason is the reason typed in the form, '' for none (the server then records the change's code). */
export const reason = () => $('grid-form').elements.reason.value.trim();

/**
 * checkForm checks the fields a save would send and shows what is wrong
 * next to each; true when all pass.
 */
export function checkForm(props) {
  const level = $('grid-form').elements.level.value;
  const errors = {};
  for (const [k, v] of Object.entries(props)) {
    if (CHECKS[k] && (v !== null || k === 'name' || k === 'code')) errors[k] = CHECKS[k](v === null ? '' : String(v), level);
  }
  showFieldErrors(errors);
  const bad = Object.keys(errors).find((k) => errors[k]);
  if (bad) $('grid-form').elements[bad].focus();
  return !bad;
}

/** showFieldErrors writes each checked field's error next to it ({} clears them). */
export function showFieldErrors(errors) {
  const f = $('grid-form');
  for (const k of Object.keys(CHECKS)) {
    const input = f.elements[k];
    let span = input.parentElement.querySelector('.ed-err');
    if (!span) {
      span = document.createElement('span');
      span.className = 'ed-err';
      span.id = `err-${k}`;
      input.parentElement.append(span);
      input.setAttribute('aria-describedby', span.id);
    }
    span.textContent = errors[k] || '';
    input.setAttribute('aria-invalid', String(Boolean(errors[k])));
  }
}

/**
 * formProps returns the form's fields: every field for a new grid, only
 * those that differ from the stored grid for an edit.
 */
export function formProps() {
  const f = $('grid-form');
  const out = {};
  for (const k of FIELDS) {
    const raw = f.elements[k].value.trim();
    let v = raw === '' ? null : raw;
    if (v !== null && ['parent_id', 'households', 'population'].includes(k)) v = Number(v);
    const cur = state.selected?.properties?.[k] ?? null;
    if (!state.selected?.id || v !== cur) out[k] = v;
  }
  if (!state.selected?.id) out.level = f.elements.level.value;
  return out;
}

function formDirty() {
  if ($('grid-section').hidden || !state.canEdit) return false;
  const f = $('grid-form');
  if (!state.selected?.id) return FIELDS.some((k) => k !== 'parent_id' && f.elements[k].value.trim() !== '');
  return Object.keys(formProps()).length > 0;
}

/** isDirty says whether the page holds unsaved edits (drawn or typed). */
export const isDirty = () => drawingDirty() || formDirty();

/** confirmLeave asks before unsaved edits are thrown away; true to go on. */
export function confirmLeave(dirty = isDirty()) {
  if (!dirty) return true;
  const name = state.selected?.id ? w('unsavedGrid', state.selected.properties.name) : w('unsavedNew');
  return confirm(w('unsaved', name));
}

/** leaving wraps a click that leaves the grid in the form: it asks first. */
export const leaving = (go) => () => {
  if (confirmLeave()) go().catch(fail);
};
