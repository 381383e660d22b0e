// Saving a grid (created or updated) and what a refusal shows: the fields
// it names, the problems of a refused save drawn in red, the conflict
// dialog of a stale save (mine against the current version), or the
// sign-in form of a session that has ended.

import * as api from '../api.js';
import { HttpError } from '../http.js';
import { formatDateTime } from '../format.js';
import { CHECKS } from './checks.js';
import { $, busy, gridName, state, status } from './state.js';
import { EMPTY, fc, setData } from './overlays.js';
import { drawnPolygon, leaveDrawing } from './draw.js';
import { checkForm, formProps, reason, showFieldErrors } from './form.js';
import { reopen, selectGrid } from './tree.js';
import { sessionEnded } from './session.js';
import { errorText, fieldName, problemText, w } from './words.js';

/** fail shows an error that no step handled. */
export function fail(e) {
  console.warn(e);
  status(errorText(e, state.role), true, e.message);
}

// saveBody is what a save sends: the changed fields, the drawn boundary,
// the clipping asked for and the reason when one was typed (without one the
// server records the change's own code).
function saveBody() {
  const body = { type: 'Feature', properties: formProps() };
  if (reason()) body.reason = reason();
  body.clip = $('clip-siblings').checked ? ['parent', 'siblings'] : ['parent'];
  if (state.mode === 'reshape' || state.mode === 'draw') {
    const g = drawnPolygon();
    if (!g) throw new Error(w('finishDrawing'));
    body.geometry = g;
  }
  return body;
}

/** save saves the form (or body, a save made again after a conflict). */
export async function save(body = null) {
  clearProblems();
  let b;
  try {
    b = body ?? saveBody();
  } catch (e) {
    status(e.message, true);
    return;
  }
  if (!body && !checkForm(b.properties)) {
    status(w('fixFields'), true);
    return;
  }
  const isNew = !state.selected?.id;
  if (!isNew && !b.geometry && Object.keys(b.properties).length === 0) {
    status(w('noChange'));
    return;
  }
  busy(true);
  try {
    const out = isNew ? await api.createGrid(b) : await api.updateGrid(state.selected.id, state.selected.properties.version, b);
    leaveDrawing();
    await reopen();
    await selectGrid(out.id);
    status(w('saved', out.properties.name, out.properties.version));
  } catch (e) {
    handleSaveError(e, b);
  } finally {
    busy(false);
  }
}

/** handleSaveError shows a refused change; body is the save's, to make again after a conflict (null: not a save). */
export function handleSaveError(e, body) {
  if (!(e instanceof HttpError)) {
    fail(e);
    return;
  }
  if (e.status === 412 && e.body.current) {
    showConflict(body, e);
  } else if (e.status === 401 || e.status === 403 && state.canEdit) {
    sessionEnded(e).catch(fail);
  } else if (e.status === 422) {
    showProblems(e.body.problems || [], e.message);
    offerClip(e.body.problems || [], body);
  } else {
    const field = e.status === 400 || e.status === 409 ? e.field : null;
    if (field && CHECKS[field]) showFieldErrors({ [field]: errorText(e, state.role) });
    status(w('saveFailed', errorText(e, state.role)), true, e.message);
  }
}

/** showProblems lists a refusal's problems and draws them in red; prefix heads them. */
export function showProblems(problems, message, prefix = w('refused')) {
  $('problems').hidden = false;
  $('problems-title').textContent = prefix;
  const ul = $('problem-list');
  ul.replaceChildren();
  for (const p of problems) {
    const li = document.createElement('li');
    li.textContent = problemText(p, gridName);
    li.title = p.message ?? '';
    ul.append(li);
  }
  setData('ed-problems', fc(problems.filter((p) => p.geometry).map((p) => ({
    type: 'Feature', geometry: p.geometry, properties: { kind: p.kind, with: p.with ?? null, area_m2: p.area_m2 },
  }))));
  status(problems.length ? w('refusedCount', prefix, problems.length) : w('refusedRules', prefix), true, message);
  document.body.dataset.problems = String(problems.length);
}

// refusedBody is the body of the save refused for overlapping its
// neighbours, which the refusal's button saves again with them clipped.
let refusedBody = null;

// offerClip offers, in the refusal itself, to save again with the overlap
// cut away: one click instead of a checkbox further up the form. Only a
// save refused for overlapping its neighbours that did not already clip
// them is offered it.
function offerClip(problems, body) {
  const can = Boolean(body) && state.canEdit && problems.some((p) => p.kind === 'overlap') &&
    !(body.clip ?? []).includes('siblings');
  refusedBody = can ? body : null;
  $('btn-clip-save').hidden = !can;
}

/** saveClipped saves the refused save again, clipped to its neighbours. */
export async function saveClipped() {
  const body = refusedBody;
  if (!body) return;
  $('clip-siblings').checked = true;
  await save({ ...body, clip: [...new Set([...(body.clip ?? []), 'parent', 'siblings'])] });
}

/** clearProblems hides the problems of the last refusal. */
export function clearProblems() {
  refusedBody = null;
  $('btn-clip-save').hidden = true;
  $('problems').hidden = true;
  setData('ed-problems', EMPTY);
  delete document.body.dataset.problems;
}

function showConflict(body, e) {
  const { current } = e.body;
  const p = current.properties;
  state.pending = body;
  $('conflict-text').textContent = w('conflictText', p.name, p.updated_by ?? w('someoneElse'), formatDateTime(p.updated_at),
    p.version, e.body.based_on ?? state.selected?.properties?.version);
  $('conflict-text').title = e.message;
  const rows = $('conflict-rows');
  rows.replaceChildren();
  const row = (cells, cls = '') => {
    const tr = document.createElement('tr');
    if (cls) tr.className = cls;
    for (const v of cells) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    rows.append(tr);
  };
  const mine = body?.properties ?? {};
  for (const k of [...new Set([...Object.keys(mine), 'name', 'worker_name', 'population'])]) {
    const theirs = current?.properties?.[k] ?? '';
    const yours = k in mine ? (mine[k] ?? '') : w('unchanged');
    row([fieldName(k), yours, theirs], k in mine && String(yours) !== String(theirs) ? 'ed-diff' : '');
  }
  row([w('field_version'), state.selected?.properties?.version ?? '', current?.properties?.version ?? '']);
  setData('ed-theirs', current ? fc([current]) : EMPTY);
  if (body?.geometry) setData('ed-mine', fc([{ type: 'Feature', geometry: body.geometry, properties: {} }]));
  state.conflictCurrent = current;
  // Only a save can be made again on top of the current version; a restore,
  // split or delete that met a newer version is reloaded and asked anew.
  $('conflict-overwrite').hidden = !body;
  $('conflict').showModal();
  status(w('conflict'), true);
}

function closeConflict() {
  $('conflict').close();
  setData('ed-theirs', EMPTY);
}

/** watchConflict wires the conflict dialog's buttons. */
export function watchConflict() {
  $('conflict-close').addEventListener('click', closeConflict);
  $('conflict-reload').addEventListener('click', async () => {
    closeConflict();
    const keep = state.selected?.id;
    leaveDrawing();
    await reopen();
    if (keep) await selectGrid(keep);
    status(w('reloaded'));
  });
  $('conflict-overwrite').addEventListener('click', async () => {
    // The user saw the current version and chose to base the edit on it:
    // the save carries the current version, nothing is overwritten unseen.
    const current = state.conflictCurrent;
    closeConflict();
    if (state.selected && current) state.selected = { ...state.selected, properties: { ...current.properties } };
    await save(state.pending);
  });
}
