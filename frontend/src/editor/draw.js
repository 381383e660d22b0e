// Drawing with terra-draw: a new grid's boundary, a reshaped boundary
// (vertices moved, added and deleted) and a split line; each vertex snaps
// to the parent's and the siblings' vertices and edges (snap.js), with undo
// and redo while drawing.

import {
  TerraDraw, TerraDrawLineStringMode, TerraDrawModeUndoRedo, TerraDrawPolygonMode, TerraDrawSelectMode,
  TerraDrawSessionUndoRedo, TerraDrawUndoRedoKeyboardShortcuts,
} from 'terra-draw';
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter';
import { ringsOf, round9, snapPosition } from './snap.js';
import { $, CHILD_LEVEL, state, status } from './state.js';
import { EMPTY, fc, setData } from './overlays.js';
import { confirmLeave, fillForm, showGridSection } from './form.js';
import { clearProblems } from './save.js';
import { drawChildren } from './tree.js';
import { doSplit } from './edits.js';
import { w } from './words.js';

// snapRings are the rings a drawn vertex snaps to: the parent's and every
// sibling's but the grid's own.
function snapRings() {
  const own = state.selected?.id;
  const rings = [];
  if (state.parent) rings.push(...ringsOf(state.parent.geometry));
  for (const c of state.children) if (c.id !== own) rings.push(...ringsOf(c.geometry));
  return rings;
}

const snapping = {
  toCustom: (event, ctx) => snapPosition([event.lng, event.lat], snapRings(), ctx.project),
};

/** setupDraw starts terra-draw on the loaded map (state.draw). */
export function setupDraw(map) {
  const draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, coordinatePrecision: 9 }),
    modes: [
      new TerraDrawPolygonMode({ snapping, styles: { fillColor: '#f08c00', fillOpacity: 0.25, outlineColor: '#f08c00', outlineWidth: 2 } }),
      new TerraDrawLineStringMode({ snapping: {}, styles: { lineStringColor: '#c92a2a', lineStringWidth: 3 } }),
      new TerraDrawSelectMode({
        flags: {
          polygon: {
            feature: {
              draggable: false,
              coordinates: { midpoints: true, draggable: true, deletable: true, snappable: snapping },
            },
          },
        },
        styles: { selectedPolygonColor: '#f08c00', selectedPolygonFillOpacity: 0.25, selectedPolygonOutlineColor: '#f08c00' },
      }),
    ],
    undoRedo: {
      modeLevel: new TerraDrawModeUndoRedo(),
      sessionLevel: new TerraDrawSessionUndoRedo(),
      keyboardShortcuts: new TerraDrawUndoRedoKeyboardShortcuts(),
    },
  });
  state.draw = draw;
  draw.start();
  draw.on('finish', (id, ctx) => {
    if (state.mode === 'draw' && ctx.mode === 'polygon') {
      // Keep editing the drawn polygon: its vertices can still be moved.
      state.drawId = id;
      draw.setMode('select');
      draw.selectFeature(id);
      hint(w('hintDrawn'));
      showMine();
    } else if (state.mode === 'split' && ctx.mode === 'linestring') {
      state.drawId = id;
      doSplit(id);
    } else if (state.mode === 'reshape') {
      showMine();
    }
  });
}

/** drawnPolygon is the polygon being drawn or reshaped, or null. */
export function drawnPolygon() {
  if (!state.drawId) return null;
  const f = state.draw.getSnapshotFeature(state.drawId);
  return f && f.geometry.type === 'Polygon' ? f.geometry : null;
}

/** showMine draws my boundary as it is now. */
export function showMine() {
  const g = drawnPolygon();
  setData('ed-mine', g ? fc([{ type: 'Feature', geometry: g, properties: {} }]) : EMPTY);
}

function hint(text) {
  $('draw-hint').textContent = text;
}

function enterDrawing(mode) {
  state.mode = mode;
  $('draw-bar').hidden = false;
  document.body.dataset.mode = mode;
}

/** leaveDrawing throws away what is drawn and goes back to idle. */
export function leaveDrawing() {
  if (state.draw) {
    state.draw.setMode('select');
    state.draw.clear();
    state.draw.clearUndoRedoHistory();
  }
  state.mode = 'idle';
  state.drawId = null;
  $('draw-bar').hidden = true;
  document.body.dataset.mode = 'idle';
  setData('ed-mine', EMPTY);
}

/**
 * drawingDirty says whether a drawing holds work: a polygon or line being
 * drawn, or a reshaped boundary that differs from the stored one.
 */
export function drawingDirty() {
  if (!state.draw) return false;
  if (state.mode === 'draw' || state.mode === 'split') return state.draw.getSnapshot().length > 0;
  if (state.mode === 'reshape') return JSON.stringify(drawnPolygon()?.coordinates ?? null) !== state.shapeStart;
  return false;
}

/** startReshape puts the selected grid's boundary under the pointer. */
export function startReshape() {
  const g = state.selected;
  if (!g) return;
  const polys = g.geometry.type === 'MultiPolygon' ? g.geometry.coordinates : [g.geometry.coordinates];
  if (polys.length !== 1) {
    status(w('manyParts'), true);
    return;
  }
  if (!confirmLeave(drawingDirty())) return;
  leaveDrawing();
  clearProblems();
  const draw = state.draw;
  const ring = polys[0][0].map(round9);
  const id = draw.getFeatureId();
  const res = draw.addFeatures([{ id, type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties: { mode: 'polygon' } }]);
  if (!res[0]?.valid) {
    status(w('cannotReshape', res[0]?.reason ?? ''), true);
    return;
  }
  enterDrawing('reshape');
  state.drawId = id;
  state.shapeStart = JSON.stringify(drawnPolygon()?.coordinates ?? null);
  draw.setMode('select');
  draw.selectFeature(id);
  hint(w('hintReshape'));
  showMine();
}

/** startNew starts drawing a new child of the parent. */
export function startNew() {
  if (!state.parent || !confirmLeave()) return;
  leaveDrawing();
  clearProblems();
  state.selected = null;
  fillForm({ properties: { level: CHILD_LEVEL[state.parent.properties.level], parent_id: state.parent.id } });
  showGridSection(true);
  enterDrawing('draw');
  state.draw.setMode('polygon');
  hint(w('hintDraw'));
  drawChildren();
}

/** startSplit starts drawing the line that splits the selected grid. */
export function startSplit() {
  if (!state.selected || !confirmLeave(drawingDirty())) return;
  leaveDrawing();
  clearProblems();
  enterDrawing('split');
  state.draw.setMode('linestring');
  hint(w('hintSplit'));
}
