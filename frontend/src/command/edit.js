// Editing a feature from its card on the command map (PATCH
// /api/layers/{layer}/features/{id}): the roles the access policy lets edit
// a layer (the layers answer lists the fields they may set, "editable")
// open a form in the card and save it, based on the version the card shows
// (If-Match). A feature changed by someone else meanwhile (412) is said so
// and reloaded; a refused value is shown next to its field.

import { escapeHtml } from '../format.js';
import { dictionary } from '../i18n.js';
import { request } from '../http.js';
import { etagOf } from '../api.js';
import { valueLabel } from '../labels.js';

const WORDS = {
  zh: {
    edit: '编辑', save: '保存', cancel: '取消', reason: '修改原因', saving: '保存中…', saved: '已保存（版本 {0}）',
    conflict: '该要素已被他人修改（现为版本 {0}），已重新载入，请核对后再改。', failed: '保存失败：{0}', none: '（空）',
  },
  en: {
    edit: 'Edit', save: 'Save', cancel: 'Cancel', reason: 'Reason', saving: 'Saving…', saved: 'Saved (version {0})',
    conflict: 'Someone else changed this feature (now version {0}); it was reloaded: check it and edit again.', failed: 'Could not save: {0}', none: '(none)',
  },
};

const w = dictionary(WORDS);

/** mayEdit reports whether the caller may edit the features of layer (the layers answer's "editable"). */
export const mayEdit = (layer) => Array.isArray(layer?.editable) && layer.editable.length > 0;

/** editFeature sends an edit of feature id of layerId based on version; it returns the feature as saved. */
export const editFeature = (layerId, id, version, body) =>
  request('PATCH', `/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(id)}`, { body, headers: { 'If-Match': etagOf(version) } });

// inputHTML renders the input of field f holding value v.
function inputHTML(layerId, f, v, error) {
  const name = escapeHtml(f.name);
  const label = escapeHtml(f.title || f.name);
  const cur = v === undefined || v === null ? '' : v;
  let input;
  if (f.enum?.length) {
    input = `<select name="${name}">${f.enum.map((e) => `<option value="${escapeHtml(e)}"${e === cur ? ' selected' : ''}>${escapeHtml(valueLabel(layerId, f.name, e))}</option>`).join('')}</select>`;
  } else {
    const type = f.type === 'Date' ? 'date' : (f.type === 'Number' || f.type === 'Integer') ? 'number' : 'text';
    const val = Array.isArray(cur) ? cur.join('、') : String(cur);
    input = `<input name="${name}" type="${type}"${type === 'number' ? ' step="any"' : ''} value="${escapeHtml(val)}">`;
  }
  const err = error?.field === f.name ? `<span class="om-error" role="alert">${escapeHtml(error.message)}</span>` : '';
  return `<label class="om-edit-field">${label} ${input}${err}</label>`;
}

/**
 * editHTML renders the card's edit section for layer: nothing for a layer
 * the caller does not edit, an "edit" button, or the form (edit.open) with
 * the card's properties, a reason, and the last answer (edit.message,
 * edit.error {field, message}).
 */
export function editHTML(layer, properties, edit) {
  if (!mayEdit(layer)) return '';
  const note = edit?.message ? `<p class="om-card-note" role="status">${escapeHtml(edit.message)}</p>` : '';
  if (!edit?.open) {
    return `<div class="om-edit">${note}<button type="button" data-action="edit">${escapeHtml(w('edit'))}</button></div>`;
  }
  const fields = layer.editable.map((n) => layer.fields?.find((f) => f.name === n) ?? { name: n, type: 'String' });
  const general = edit.error && !fields.some((f) => f.name === edit.error.field)
    ? `<p class="om-error" role="alert">${escapeHtml(edit.error.message)}</p>` : '';
  return `<form class="om-edit" data-layer="${escapeHtml(layer.id)}">${note}${general}` +
    fields.map((f) => inputHTML(layer.id, f, properties?.[f.name], edit.error)).join('') +
    `<label class="om-edit-field">${escapeHtml(w('reason'))} <input name="__reason" type="text" maxlength="500"></label>` +
    `<div class="om-card-actions"><button type="button" data-action="edit-save"${edit.saving ? ' disabled' : ''}>${escapeHtml(edit.saving ? w('saving') : w('save'))}</button>` +
    `<button type="button" data-action="edit-cancel">${escapeHtml(w('cancel'))}</button></div></form>`;
}

/**
 * formChanges reads the form: the members whose values differ from
 * properties (numbers as numbers, an emptied field as null, a list split
 * at 、 or ,), and the reason.
 */
export function formChanges(form, layer, properties) {
  const out = {};
  for (const name of layer.editable) {
    const el = form.querySelector(`[name="${name}"]`);
    if (!el) continue;
    const f = layer.fields?.find((x) => x.name === name) ?? {};
    let v = el.value.trim();
    if (v === '') v = null;
    else if (f.type === 'Number' || f.type === 'Integer') v = Number(v);
    else if (f.type === 'String[]') v = v.split(/[、,，]/).map((s) => s.trim()).filter(Boolean);
    const old = properties?.[name] ?? null;
    if (JSON.stringify(v) !== JSON.stringify(old)) out[name] = v;
  }
  const reason = form.querySelector('[name="__reason"]')?.value.trim() ?? '';
  return { properties: out, reason };
}

/**
 * saveEdit saves the open card's form. card is {layer, id, properties};
 * it returns {properties, message} after a save, {properties, message,
 * reloaded: true} after a conflict (the current feature), or {error}.
 */
export async function saveEdit(card, form) {
  const { properties, reason } = formChanges(form, card.layer, card.properties);
  const body = reason ? { properties, reason } : { properties };
  try {
    const f = await editFeature(card.layer.id, card.id, card.properties.version, body);
    return { properties: f.properties, message: w('saved', f.properties?.version ?? '') };
  } catch (err) {
    if (err.status === 412 && err.body?.current) {
      const cur = err.body.current.properties ?? {};
      return { properties: cur, message: w('conflict', cur.version ?? ''), reloaded: true };
    }
    return { error: { field: err.field, message: w('failed', err.message) } };
  }
}
