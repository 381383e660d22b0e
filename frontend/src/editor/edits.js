// Split, merge, delete and the coverage check of a parent. A reason is
// sent only when one was typed: otherwise the server records the change's
// own code (split, merge, delete).

import * as api from '../api.js';
import { HttpError } from '../http.js';
import { formatAreaM2 } from '../format.js';
import { $, busy, state, status } from './state.js';
import { fc, setData } from './overlays.js';
import { leaveDrawing } from './draw.js';
import { reason, showGridSection } from './form.js';
import { fail, handleSaveError } from './save.js';
import { reopen, selectGrid } from './tree.js';
import { w } from './words.js';

/** doSplit splits the selected grid along drawn line lineId. */
export async function doSplit(lineId) {
  const f = state.draw.getSnapshotFeature(lineId);
  const g = state.selected;
  busy(true);
  try {
    const out = await api.splitGrid(g.id, g.properties.version, f.geometry, reason());
    leaveDrawing();
    await reopen();
    await selectGrid(out.features[0].id);
    status(w('splitDone', out.features.length));
  } catch (e) {
    leaveDrawing();
    handleSaveError(e, null);
  } finally {
    busy(false);
  }
}

const childOf = (id) => state.children.find((c) => c.id === id);

// openMerge asks which of the ticked grids the merged grid is (it keeps
// that one's id and code) and its name.
function openMerge() {
  const ids = [...state.merge];
  const first = state.selected && state.merge.has(state.selected.id) ? state.selected.id : ids[0];
  const box = $('merge-choices');
  box.replaceChildren();
  for (const id of ids) {
    const c = childOf(id);
    const label = document.createElement('label');
    label.className = 'ed-check';
    const radio = document.createElement('input');
    radio.type = 'radio';
    radio.name = 'target';
    radio.value = String(id);
    radio.checked = id === first;
    radio.addEventListener('change', () => { $('merge-name').value = c.properties.name; });
    label.append(radio, w('mergeChoice', c.properties.name, c.properties.code));
    box.append(label);
  }
  $('merge-text').textContent = w('mergeText', ids.length, ids.map((id) => childOf(id).properties.name).join('、'));
  $('merge-name').value = childOf(first).properties.name;
  $('merge-error').textContent = '';
  $('merge-dialog').showModal();
}

async function doMerge(target, name) {
  const ids = [target, ...[...state.merge].filter((id) => id !== target)];
  const versions = ids.map((id) => childOf(id).properties.version);
  busy(true);
  try {
    const out = await api.mergeGrids(ids, versions, name, reason());
    await reopen();
    await selectGrid(out.id);
    status(w('merged', out.properties.name, out.id));
  } catch (e) {
    if (e instanceof HttpError && e.status === 412) {
      status(w('mergeConflict'), true, e.message);
      await reopen();
    } else {
      handleSaveError(e, null);
    }
  } finally {
    busy(false);
  }
}

async function doDelete() {
  const g = state.selected;
  if (!g || !confirm(w('confirmDelete', g.properties.name))) return;
  try {
    await api.deleteGrid(g.id, g.properties.version, reason());
    state.selected = null;
    showGridSection(false);
    await reopen();
    status(w('deleted'));
  } catch (e) {
    handleSaveError(e, null);
  }
}

async function doCoverage() {
  const id = state.parent?.id;
  if (!id) return;
  const c = await api.coverage(id);
  const feats = [];
  const ul = $('coverage-list');
  ul.replaceChildren();
  for (const [kind, list] of [['gap', c.gaps], ['overlap', c.overlaps], ['outside', c.outside]]) {
    for (const p of list) {
      feats.push({ type: 'Feature', geometry: p.geometry, properties: { kind, area_m2: p.area_m2 } });
      const li = document.createElement('li');
      li.textContent = w('coverageItem', w(kind), p.grids.length ? w('coverageGrids', p.grids.join('、')) : '', formatAreaM2(p.area_m2));
      ul.append(li);
    }
  }
  setData('ed-coverage', fc(feats));
  $('coverage-summary').textContent = w('coverageSummary', formatAreaM2(c.area_m2), c.children, formatAreaM2(c.children_area_m2),
    c.gaps.length, c.overlaps.length, c.outside.length, c.tolerance_m2);
  $('coverage-section').hidden = false;
}

/** watchEdits wires the buttons of merge, delete and coverage, and the merge dialog. */
export function watchEdits() {
  $('btn-merge').addEventListener('click', openMerge);
  $('merge-form').addEventListener('submit', (ev) => {
    if (ev.submitter?.value === 'cancel') return; // method=dialog closes it
    ev.preventDefault();
    const f = $('merge-form');
    const name = f.elements.name.value.trim();
    if (!name) {
      $('merge-error').textContent = w('mergeName');
      return;
    }
    $('merge-dialog').close();
    doMerge(Number(f.elements.target.value), name).catch(fail);
  });
  $('btn-delete').addEventListener('click', () => doDelete().catch(fail));
  $('btn-coverage').addEventListener('click', () => doCoverage().catch(fail));
}
