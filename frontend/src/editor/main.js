// The grid editor (/editor/): planners walk the grid tree (province →
// prefecture → county → township → village → group, from whichever the
// deployment's top is), draw a new grid or reshape one with terra-draw
// (vertices added, moved and deleted, snapped to the neighbours' vertices and
// edges, undo and redo while drawing), split a grid along a drawn line, merge
// adjacent grids, check how a parent's children cover it, and read, show and
// restore old versions. Every save carries the version it was based on; a
// stale save opens the conflict dialog (mine against the current version), a
// refused save draws its problems in red. The server checks everything again
// (api/grids.go, migrations/0005_grid_editing.sql).
//
// This file starts the page and wires its controls; the parts are modules
// of their own: state.js (the page's state), words.js (its words), checks.js
// and form.js (the form), tree.js (the list), draw.js (terra-draw),
// save.js, edits.js (split, merge, delete, coverage), history.js, io.js
// (import and export) and session.js.

// map.js first: MapLibre's CSS goes before the page's, which overrides it.
import { createMap } from '../map.js';
import './editor.css';
import { fetchSession } from '../http.js';
import { applyStatic } from '../i18n.js';
import { fetchStyle, FONT } from '../style.js';
import { CHECKS } from './checks.js';
import { $, EDIT_ROLES, READ_ROLES, state, status } from './state.js';
import { addOverlays } from './overlays.js';
import { leaveDrawing, setupDraw, showMine, startNew, startReshape, startSplit } from './draw.js';
import { fillForm, leaving, showFieldErrors, showGridSection } from './form.js';
import { clearProblems, fail, save, saveClipped, watchConflict } from './save.js';
import { openParent, selectGrid } from './tree.js';
import { watchEdits } from './edits.js';
import { watchHistory } from './history.js';
import { watchIO } from './io.js';
import { onBeforeUnload, showSession, submitSignIn } from './session.js';
import { w } from './words.js';
import { FONT_URL, useOwnFontIfNeeded } from '../font.js';

useOwnFontIfNeeded(); // before anything draws text: see font.css

async function start() {
  applyStatic(document, w);
  document.title = w('pageTitle');
  const session = await fetchSession().catch(() => null);
  const role = session?.role ?? null;
  state.role = role;
  state.canEdit = !role || EDIT_ROLES.has(role);
  const canRead = !role || READ_ROLES.has(role);
  showSession(session, canRead);
  $('sign-in-form').addEventListener('submit', (ev) => submitSignIn(ev).catch(fail));
  $('grid-fields').disabled = !state.canEdit;
  for (const id of ['btn-save', 'import-file', 'btn-import']) $(id).disabled = !state.canEdit;
  // Grid names are drawn with the bundled font (overlays.js), as the map's.
  const style = await fetchStyle('all');
  style['font-faces'] = { ...style['font-faces'], [FONT]: FONT_URL };
  const map = createMap('map', style, { attributionControl: false, hash: false, navigation: 'top-left', scale: 'bottom-left' });
  state.map = map;
  await new Promise((resolve) => map.on('load', resolve));
  addOverlays(map);
  setupDraw(map);
  if (!canRead) {
    document.body.dataset.state = 'ready';
    return;
  }
  map.on('click', 'ed-children-fill', (e) => {
    if (state.mode !== 'idle') return;
    const id = Number(e.features?.[0]?.properties?.id);
    if (id && id !== state.selected?.id) leaving(() => selectGrid(id))();
  });
  window.addEventListener('beforeunload', onBeforeUnload);
  $('grid-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (state.canEdit) save();
  });
  $('grid-form').addEventListener('input', (ev) => {
    if (CHECKS[ev.target.name]) showFieldErrors({});
  });

  $('btn-clip-save').addEventListener('click', () => saveClipped().catch(fail));
  $('btn-new').addEventListener('click', startNew);
  $('btn-shape').addEventListener('click', startReshape);
  $('btn-split').addEventListener('click', startSplit);
  $('btn-cancel').addEventListener('click', () => {
    leaveDrawing();
    clearProblems();
    if (state.selected) fillForm(state.selected);
    else showGridSection(false);
    status(w('cancelled'));
  });
  $('btn-undo').addEventListener('click', () => { state.draw.undo(); showMine(); });
  $('btn-redo').addEventListener('click', () => { state.draw.redo(); showMine(); });
  watchEdits();
  watchHistory();
  watchConflict();
  watchIO();
  map.on('mouseup', () => { if (state.mode !== 'idle') setTimeout(showMine, 0); });

  const q = new URLSearchParams(location.search);
  await openParent(Number(q.get('parent')) || 0);
  if (q.get('grid')) await selectGrid(Number(q.get('grid')));
  document.body.dataset.state = 'ready';
  status(state.parent ? '' : w('pickOne'));
}

// The browser tests read the map and the editor's state here.
window.onemap = { get map() { return state.map; } };
window.onemapEditor = { state, get map() { return state.map; }, get draw() { return state.draw; } };
start().catch((e) => {
  fail(e);
  document.body.dataset.state = 'error';
});
