// The grid editor's state: what the page shows and edits, shared by its
// modules, and the few helpers every module uses (the status line, a grid's
// name). The browser tests read state through window.onemapEditor.

import { w } from './words.js';

/**
 * CHILD_LEVEL is the level of the grids under a grid of each level. The top
 * of the tree is a province, a prefecture or a county, whichever the
 * deployment holds (migrations/0026_regions.sql).
 */
export const CHILD_LEVEL = { province: 'prefecture', prefecture: 'county', county: 'township', township: 'village', village: 'group' };
/** FIELDS are the grid's fields the form edits. */
export const FIELDS = ['name', 'code', 'parent_id', 'worker_name', 'worker_phone', 'households', 'population'];
// Only planners and admins edit grids; commanders may look; the others may
// not even read the editor's views (the server answers 404).
export const EDIT_ROLES = new Set(['planner', 'admin']);
export const READ_ROLES = new Set(['planner', 'admin', 'commander']);

/** state is the page's state. */
export const state = {
  chain: [],        // grids from the top to the current parent
  parent: null,     // the grid whose children are listed
  children: [],     // its children (GeoJSON features with version and area_m2)
  selected: null,   // the grid in the form, as last read (its version is the base of a save)
  mode: 'idle',     // idle | reshape | draw | split
  drawId: null,     // the terra-draw feature being drawn or reshaped
  merge: new Set(), // ids ticked for a merge
  oldVersion: null, // the history version shown over the current one
  pending: null,    // the body of the save that met a conflict
  conflictCurrent: null, // the current version a conflict showed
  canEdit: true,    // whether the session's role may edit grids
  role: null,       // the session's role (null: a server without sessions)
  shapeStart: '',   // the reshaped ring before any change, to know whether it changed
  map: null,        // the MapLibre map, once made
  draw: null,       // terra-draw, once started
};

// Opening a parent or selecting a grid takes a ticket: when the planner
// clicks on before the answer comes, the slower, older answer is dropped, so
// that the list and the form always show the last click. Opening a parent
// also drops a grid's answer still on its way (a grid of the list it leaves).
export const tickets = { parent: 0, grid: 0 };

/** $ is the element of id. */
export const $ = (id) => document.getElementById(id);

/** status shows text at the foot of the panel; detail (the server's own words) goes to its tooltip. */
export function status(text, isError = false, detail = '') {
  const el = $('status');
  el.textContent = text;
  el.title = detail;
  el.classList.toggle('ed-error', isError);
}

/** gridName names grid id as the planner knows it: 「name」 where the page has it (quoted: false, without the quotes). */
export function gridName(id, { quoted = true } = {}) {
  const g = [state.parent, ...state.chain, ...state.children].find((x) => x && x.id === id);
  if (!g) return w('gridN', id);
  return quoted ? w('quoted', g.properties.name) : g.properties.name;
}

/** busy marks the page as saving (true) or ready (false), for the tests and the styles. */
export function busy(on) {
  document.body.dataset.state = on ? 'saving' : 'ready';
}
