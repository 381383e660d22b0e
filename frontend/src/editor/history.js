// A grid's history: its versions, each with who, when and why (the reason
// typed, else the change's code in words: words.js reasonText); a version
// shown over the current boundary, and restored.

import * as api from '../api.js';
import { formatAreaM2 } from '../format.js';
import { $, state, status } from './state.js';
import { EMPTY, fc, setData } from './overlays.js';
import { fail, handleSaveError } from './save.js';
import { reopen, selectGrid } from './tree.js';
import { versionText, w } from './words.js';

async function openHistory() {
  const g = state.selected;
  if (!g) return;
  const h = await api.gridHistory(g.id);
  const ol = $('history-list');
  ol.replaceChildren();
  for (const v of h.versions) {
    const li = document.createElement('li');
    li.dataset.version = v.version;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'ed-name';
    b.textContent = versionText(v);
    b.addEventListener('click', () => showVersion(v.version).catch(fail));
    li.append(b);
    ol.append(li);
  }
  $('history-section').hidden = false;
  $('btn-restore').disabled = true;
}

async function showVersion(v) {
  const g = state.selected;
  const old = await api.versionAt(g.id, v);
  state.oldVersion = v;
  setData('ed-old', old.geometry ? fc([{ type: 'Feature', geometry: old.geometry, properties: { version: v } }]) : EMPTY);
  for (const li of $('history-list').children) li.setAttribute('aria-selected', String(Number(li.dataset.version) === v));
  $('btn-restore').disabled = !state.canEdit || v === g.properties.version;
  status(w('oldVersion', v, old.properties.name, formatAreaM2(old.area_m2)));
}

async function doRestore() {
  const g = state.selected;
  const v = state.oldVersion;
  if (!g || !v) return;
  try {
    const out = await api.restore(g.id, v, g.properties.version);
    closeHistory();
    await reopen();
    await selectGrid(out.id);
    status(w('restored', v, out.properties.version));
  } catch (e) {
    handleSaveError(e, null);
  }
}

function closeHistory() {
  $('history-section').hidden = true;
  state.oldVersion = null;
  setData('ed-old', EMPTY);
}

/** watchHistory wires the history's buttons. */
export function watchHistory() {
  $('btn-history').addEventListener('click', () => openHistory().catch(fail));
  $('btn-history-close').addEventListener('click', closeHistory);
  $('btn-restore').addEventListener('click', () => doRestore().catch(fail));
}
