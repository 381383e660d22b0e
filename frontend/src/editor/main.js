// The grid editor (/editor/): planners walk the grid tree (county →
// township → village → group), draw a new grid or reshape one with terra-draw
// (vertices added, moved and deleted, snapped to the neighbours' vertices and
// edges, undo and redo while drawing), split a grid along a drawn line, merge
// adjacent grids, check how a parent's children cover it, and read, show and
// restore old versions. Every save carries the version it was based on; a
// stale save opens the conflict dialog (mine against the current version), a
// refused save draws its problems in red. The server checks everything again
// (api/grids.go, migrations/0005_grid_editing.sql).

import 'maplibre-gl/dist/maplibre-gl.css';
import './editor.css';
import { Map, NavigationControl, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import {
  TerraDraw, TerraDrawLineStringMode, TerraDrawModeUndoRedo, TerraDrawPolygonMode, TerraDrawSelectMode,
  TerraDrawSessionUndoRedo, TerraDrawUndoRedoKeyboardShortcuts,
} from 'terra-draw';
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter';
import { fetchStyle } from '../style.js';
import { roleName } from '../i18n.js';
import * as api from './api.js';
import { ringsOf, round9, snapPosition } from './snap.js';

setWorkerUrl(workerUrl);

const $ = (id) => document.getElementById(id);
const CHILD_LEVEL = { county: 'township', township: 'village', village: 'group' };
const LEVEL_NAME = { county: '县', township: '乡镇', village: '村（社区）', group: '村民小组' };
const FIELDS = ['name', 'code', 'parent_id', 'worker_name', 'worker_phone', 'households', 'population'];
const FIELD_NAME = {
  name: '名称', code: '编码', parent_id: '上级网格', worker_name: '网格员', worker_phone: '网格员电话',
  households: '户数', population: '人口', geometry: '边界',
};
const PROBLEM_NAME = {
  empty: '无面积', not_polygon: '不是多边形', invalid: '边界自相交或无效', outside_parent: '超出上级网格',
  overlap: '与相邻网格重叠', child_outside: '下级网格将超出', child_straddles: '分割线穿过下级网格',
};
const EMPTY = { type: 'FeatureCollection', features: [] };
// Only planners and admins edit grids; commanders may look; the others may
// not even read the editor's views (the server answers 404).
const EDIT_ROLES = new Set(['planner', 'admin']);
const READ_ROLES = new Set(['planner', 'admin', 'commander']);
// The server's default reasons (api/grids.go reasonOr) in the history.
const REASON_NAME = { create: '新建', update: '修改', delete: '删除', split: '分割', merge: '合并', 'demo seed': '演示数据' };
// phoneOK is the server's rule for a phone field (validate.go phoneValue):
// one or more numbers apart by , ; 、 or /, each of 3 digits or more with
// + - ( ) and spaces, an extension after 转, 分机, ext or x; full-width
// characters count as their ASCII forms.
const PHONE = /^\s*\+?\(?[0-9][0-9 ()-]*(?:(?:转|分机|ext\.?|x)\s*[0-9]+)?\s*$/;
const phoneOK = (v) => v.normalize('NFKC').split(/[,;、/]/)
  .every((part) => PHONE.test(part) && (part.match(/[0-9]/g) ?? []).length >= 3);
const INT = (v) => (/^\d+$/.test(v) && Number(v) <= 2147483647 ? '' : '应为不小于 0 的整数');
// CHECKS are the form's field checks: an empty answer is a pass.
const CHECKS = {
  name: (v) => (!v ? '请填写名称' : [...v].length > 100 ? `名称最多 100 字（现有 ${[...v].length} 字）` : ''),
  code: (v, level) => {
    const n = level === 'group' ? 15 : 12;
    return new RegExp(`^\\d{${n}}$`).test(v) ? '' : `${LEVEL_NAME[level] ?? ''}编码应为 ${n} 位数字`;
  },
  worker_phone: (v) => (phoneOK(v) ? '' : '应为电话号码，如 13812345678 或 0878-1234567（多个号码用逗号分开）'),
  households: INT,
  population: INT,
};

const state = {
  chain: [],        // grids from the top to the current parent
  parent: null,     // the grid whose children are listed
  children: [],     // its children (GeoJSON features with version and area_m2)
  selected: null,   // the grid in the form, as last read (its version is the base of a save)
  mode: 'idle',     // idle | reshape | draw | split
  drawId: null,     // the terra-draw feature being drawn or reshaped
  merge: new Set(), // ids ticked for a merge
  oldVersion: null, // the history version shown over the current one
  pending: null,    // the body of the save that met a conflict
  canEdit: true,    // whether the session's role may edit grids
  shapeStart: '',   // the reshaped ring before any change, to know whether it changed
};

// status shows text at the foot of the panel; detail (the server's own
// words) goes to its tooltip.
function status(text, isError = false, detail = '') {
  const el = $('status');
  el.textContent = text;
  el.title = detail;
  el.classList.toggle('ed-error', isError);
}

const fmtArea = (m2) => (m2 >= 1e6 ? `${(m2 / 1e6).toFixed(3)} km²` : `${Math.round(m2).toLocaleString('zh-CN')} m²`);
const fmtTime = (t) => (t ? new Date(t).toLocaleString('zh-CN', { hour12: false }) : '');

// gridName names grid id as the planner knows it: by its name where the
// page has it.
function gridName(id) {
  const g = [state.parent, ...state.chain, ...state.children].find((x) => x && x.id === id);
  return g ? `「${g.properties.name}」` : `网格 ${id}`;
}

// whereText says which feature of an imported file is meant: the server's
// "feature 3 (line 40)" or "line 12" (or, once it sends them, feature and line).
function whereText(where, body = {}) {
  const m = /^(?:feature (\d+))?(?: ?\(?line (\d+)\)?)?/.exec(where ?? '');
  const feature = body.feature ?? m?.[1];
  const line = body.line ?? m?.[2];
  if (!feature && !line) return '';
  return feature ? `第 ${feature} 个要素${line ? `（第 ${line} 行）` : ''}` : `第 ${line} 行`;
}

// fieldOf is the field a refusal names (the answer's "field").
function fieldOf(e) {
  return e.body.field ?? null;
}

// errorText says in Chinese what went wrong, from the answer's status, code
// and fields; the server's own words are only a tooltip (status's detail).
function errorText(e) {
  if (!(e instanceof api.ApiError)) return e instanceof TypeError ? '无法连接服务器，请检查网络后重试' : (e.message || String(e));
  const field = fieldOf(e);
  switch (e.status) {
    case 400: return field ? `「${FIELD_NAME[field] ?? field}」的值不被接受` : '提交的内容不被接受，请检查各字段';
    case 401: return '未登录或登录已过期，请重新登录';
    case 403: return `无权编辑网格：只有规划员和管理员可以编辑（当前身份：${roleName(state.role) || '未知'}）；如刚登录，请刷新页面`;
    case 404: return '网格不存在或已被删除，请刷新';
    case 409: return field === 'code' || !field ? '与已有网格冲突（例如编码已被其他网格使用）' : `「${FIELD_NAME[field] ?? field}」与已有网格冲突`;
    case 412: return '网格已被他人修改';
    case 413: return '内容或文件太大';
    case 422: return '不符合网格规则';
    case 428: return '缺少所依据的版本，请刷新后重试';
    case 429: return '操作太频繁，请稍后再试';
    case 503: return '服务器暂时无法访问数据库，请稍后再试';
    default: return `服务器出错（${e.status}），请稍后再试`;
  }
}

// problemText is one refused save's problem in Chinese.
function problemText(p) {
  const where = p.kind === 'invalid' ? '（红点处）' : '';
  return `${PROBLEM_NAME[p.kind] ?? '不符合规则'}${p.with ? ` ${gridName(p.with)}` : ''}${where}${p.area_m2 ? `：${fmtArea(p.area_m2)}` : ''}`;
}

// ----- map -----

let map;
let draw;

function setData(id, data) {
  map.getSource(id)?.setData(data);
}

function fc(features) {
  return { type: 'FeatureCollection', features };
}

function addOverlays() {
  const add = (id, layers) => {
    map.addSource(id, { type: 'geojson', data: EMPTY });
    for (const l of layers) map.addLayer({ ...l, source: id });
  };
  add('ed-parent', [{ id: 'ed-parent-line', type: 'line', paint: { 'line-color': '#1d2430', 'line-width': 2.5 } }]);
  add('ed-children', [
    { id: 'ed-children-fill', type: 'fill', paint: { 'fill-color': ['case', ['boolean', ['get', 'selected'], false], '#ffd54a', '#5b8def'], 'fill-opacity': ['case', ['boolean', ['get', 'selected'], false], 0.35, 0.08] } },
    { id: 'ed-children-line', type: 'line', paint: { 'line-color': '#2f5fb3', 'line-width': 1.2 } },
  ]);
  add('ed-coverage', [
    { id: 'ed-coverage-fill', type: 'fill', paint: { 'fill-color': ['match', ['get', 'kind'], 'gap', '#d63384', '#e03131'], 'fill-opacity': 0.55 } },
    { id: 'ed-coverage-line', type: 'line', paint: { 'line-color': ['match', ['get', 'kind'], 'gap', '#d63384', '#e03131'], 'line-width': 2 } },
  ]);
  add('ed-old', [{ id: 'ed-old-line', type: 'line', paint: { 'line-color': '#f08c00', 'line-width': 3, 'line-dasharray': [2, 1.5] } }]);
  add('ed-theirs', [{ id: 'ed-theirs-line', type: 'line', paint: { 'line-color': '#7048e8', 'line-width': 3, 'line-dasharray': [1.5, 1.5] } }]);
  add('ed-mine', [{ id: 'ed-mine-line', type: 'line', paint: { 'line-color': '#f08c00', 'line-width': 2.5 } }]);
  add('ed-problems', [
    { id: 'ed-problems-fill', type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#e03131', 'fill-opacity': 0.6 } },
    { id: 'ed-problems-line', type: 'line', paint: { 'line-color': '#c92a2a', 'line-width': 2.5 } },
    { id: 'ed-problems-point', type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#e03131', 'circle-radius': 8, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
  ]);
}

function fitTo(geometry, padding = 40) {
  let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
  for (const r of ringsOf(geometry)) {
    for (const [x, y] of r) {
      minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    }
  }
  if (minX <= maxX) map.fitBounds([[minX, minY], [maxX, maxY]], { padding, duration: 0 });
}

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

function setupDraw() {
  draw = new TerraDraw({
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
  draw.start();
  draw.on('finish', (id, ctx) => {
    if (state.mode === 'draw' && ctx.mode === 'polygon') {
      // Keep editing the drawn polygon: its vertices can still be moved.
      state.drawId = id;
      draw.setMode('select');
      draw.selectFeature(id);
      hint('绘制完成：可拖动、删除（右键）或在边中点添加顶点；点“保存”提交。');
      showMine();
    } else if (state.mode === 'split' && ctx.mode === 'linestring') {
      state.drawId = id;
      doSplit(id);
    } else if (state.mode === 'reshape') {
      showMine();
    }
  });
}

// drawnPolygon is the polygon being drawn or reshaped, or null.
function drawnPolygon() {
  if (!state.drawId) return null;
  const f = draw.getSnapshotFeature(state.drawId);
  return f && f.geometry.type === 'Polygon' ? f.geometry : null;
}

function showMine() {
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

function leaveDrawing() {
  if (draw) {
    draw.setMode('select');
    draw.clear();
    draw.clearUndoRedoHistory();
  }
  state.mode = 'idle';
  state.drawId = null;
  $('draw-bar').hidden = true;
  document.body.dataset.mode = 'idle';
  setData('ed-mine', EMPTY);
}

// ----- tree and list -----

// Opening a parent or selecting a grid takes a ticket: when the planner
// clicks on before the answer comes, the slower, older answer is dropped, so
// that the list and the form always show the last click. Opening a parent
// also drops a grid's answer still on its way (a grid of the list it leaves).
const tickets = { parent: 0, grid: 0 };

async function openParent(id) {
  const mine = ++tickets.parent;
  tickets.grid++;
  leaveDrawing();
  clearProblems();
  const [parent, kids] = await Promise.all([id ? api.grid(id) : null, api.children(id || 0)]);
  // The chain from the top: walk up the parents.
  const chain = parent ? [parent] : [];
  for (let p = parent?.properties.parent_id; p;) {
    const g = await api.grid(p);
    if (mine !== tickets.parent) return;
    chain.unshift(g);
    p = g.properties.parent_id;
  }
  if (mine !== tickets.parent) return;
  state.parent = parent;
  state.children = kids.features;
  state.merge.clear();
  state.chain = chain;
  renderCrumbs();
  renderList();
  updateExportLink();
  setData('ed-parent', parent ? fc([parent]) : EMPTY);
  setData('ed-coverage', EMPTY);
  $('coverage-section').hidden = true;
  if (parent) fitTo(parent.geometry);
  else if (kids.features.length) fitTo(kids.features[0].geometry);
  const u = new URL(location.href);
  if (id) u.searchParams.set('parent', id); else u.searchParams.delete('parent');
  u.searchParams.delete('grid');
  history.replaceState(null, '', u);
}

function renderCrumbs() {
  const el = $('crumbs');
  el.replaceChildren();
  const top = document.createElement('button');
  top.type = 'button';
  top.textContent = '全部';
  top.addEventListener('click', leaving(() => openParent(0)));
  el.append(top);
  for (const g of state.chain) {
    const span = document.createElement('span');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = g.properties.name;
    b.addEventListener('click', leaving(() => openParent(g.id)));
    span.append(b);
    el.append(span);
  }
}

function renderList() {
  const ul = $('grid-list');
  ul.replaceChildren();
  const level = state.parent ? CHILD_LEVEL[state.parent.properties.level] : 'county';
  $('list-title').textContent = state.parent ? `${state.parent.properties.name}的${LEVEL_NAME[level] ?? ''}网格（${state.children.length}）` : '顶级网格';
  for (const c of state.children) {
    const li = document.createElement('li');
    li.dataset.id = c.id;
    li.setAttribute('aria-selected', String(state.selected?.id === c.id));
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.title = '选入合并';
    box.checked = state.merge.has(c.id);
    box.disabled = !state.canEdit;
    box.addEventListener('change', () => {
      if (box.checked) state.merge.add(c.id); else state.merge.delete(c.id);
      $('btn-merge').disabled = state.merge.size < 2;
    });
    const name = document.createElement('button');
    name.type = 'button';
    name.className = 'ed-name';
    name.textContent = c.properties.name;
    name.addEventListener('click', leaving(() => selectGrid(c.id)));
    const sub = document.createElement('span');
    sub.className = 'ed-sub';
    sub.textContent = `v${c.properties.version} · ${fmtArea(c.properties.area_m2)}`;
    li.append(box, name, sub);
    if (c.properties.level !== 'group') {
      const down = document.createElement('button');
      down.type = 'button';
      down.textContent = '下级';
      down.title = '查看下级网格';
      down.addEventListener('click', leaving(() => openParent(c.id)));
      li.append(down);
    }
    ul.append(li);
  }
  $('btn-merge').disabled = state.merge.size < 2;
  $('btn-new').disabled = !state.canEdit || !state.parent || !CHILD_LEVEL[state.parent.properties.level];
  $('btn-coverage').disabled = !state.parent;
  drawChildren();
}

function drawChildren() {
  setData('ed-children', fc(state.children.map((c) => ({
    ...c, properties: { ...c.properties, id: c.id, selected: state.selected?.id === c.id },
  }))));
}

// ----- the form -----

function fillForm(g) {
  const f = $('grid-form');
  for (const k of FIELDS) f.elements[k].value = g?.properties?.[k] ?? '';
  f.elements.level.value = g?.properties?.level ?? '';
  f.elements.reason.value = '';
  const pid = g?.properties?.parent_id;
  $('parent-name').textContent = pid ? gridName(pid).replace(/[「」]/g, '') : '—';
  $('area').textContent = g?.properties?.area_m2 ? fmtArea(g.properties.area_m2) : '—';
  $('version').textContent = g?.properties?.version ?? '新建';
  $('grid-title').textContent = g?.id ? `${g.properties.name}（${g.id}）` : '新建网格';
  $('btn-history').disabled = !g?.id;
  for (const id of ['btn-shape', 'btn-split', 'btn-delete']) $(id).disabled = !g?.id || !state.canEdit;
  showFieldErrors({});
}

function showGridSection(show) {
  $('grid-section').hidden = !show;
  $('save-row').hidden = !show || !state.canEdit;
}

// checkForm checks the fields a save would send and shows what is wrong
// next to each; true when all pass.
function checkForm(props) {
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

function showFieldErrors(errors) {
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

// ----- unsaved edits -----

// drawingDirty says whether a drawing holds work: a polygon or line being
// drawn, or a reshaped boundary that differs from the stored one.
function drawingDirty() {
  if (!draw) return false;
  if (state.mode === 'draw' || state.mode === 'split') return draw.getSnapshot().length > 0;
  if (state.mode === 'reshape') return JSON.stringify(drawnPolygon()?.coordinates ?? null) !== state.shapeStart;
  return false;
}

function formDirty() {
  if ($('grid-section').hidden || !state.canEdit) return false;
  const f = $('grid-form');
  if (!state.selected?.id) return FIELDS.some((k) => k !== 'parent_id' && f.elements[k].value.trim() !== '');
  return Object.keys(formProps()).length > 0;
}

const isDirty = () => drawingDirty() || formDirty();

// confirmLeave asks before unsaved edits are thrown away; true to go on.
function confirmLeave(dirty = isDirty()) {
  if (!dirty) return true;
  const name = state.selected?.id ? `网格「${state.selected.properties.name}」` : '新建的网格';
  return confirm(`${name}有未保存的修改，离开将丢失这些修改。确定放弃修改吗？`);
}

// leaving wraps a click that leaves the grid in the form: it asks first.
const leaving = (go) => () => {
  if (confirmLeave()) go().catch(fail);
};

// formProps returns the form's fields: every field for a new grid, only
// those that differ from the stored grid for an edit.
function formProps() {
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

async function selectGrid(id) {
  const mine = ++tickets.grid;
  leaveDrawing();
  clearProblems();
  const g = await api.grid(id);
  if (mine !== tickets.grid) return;
  state.selected = g;
  fillForm(g);
  showGridSection(true);
  for (const li of $('grid-list').children) li.setAttribute('aria-selected', String(Number(li.dataset.id) === id));
  drawChildren();
  const u = new URL(location.href);
  u.searchParams.set('grid', id);
  history.replaceState(null, '', u);
  status(`已选择 ${g.properties.name}，版本 ${g.properties.version}`);
}

// ----- drawing -----

function startReshape() {
  const g = state.selected;
  if (!g) return;
  const polys = g.geometry.type === 'MultiPolygon' ? g.geometry.coordinates : [g.geometry.coordinates];
  if (polys.length !== 1) {
    status('此网格由多个部分组成，不能直接修改边界；可先分割或合并。', true);
    return;
  }
  if (!confirmLeave(drawingDirty())) return;
  leaveDrawing();
  clearProblems();
  const ring = polys[0][0].map(round9);
  const id = draw.getFeatureId();
  const res = draw.addFeatures([{ id, type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties: { mode: 'polygon' } }]);
  if (!res[0]?.valid) {
    status(`无法编辑此边界：${res[0]?.reason ?? ''}`, true);
    return;
  }
  enterDrawing('reshape');
  state.drawId = id;
  state.shapeStart = JSON.stringify(drawnPolygon()?.coordinates ?? null);
  draw.setMode('select');
  draw.selectFeature(id);
  hint('拖动顶点修改边界；拖动边中点添加顶点；右键顶点删除。顶点会吸附到相邻网格的顶点和边。');
  showMine();
}

function startNew() {
  if (!state.parent || !confirmLeave()) return;
  leaveDrawing();
  clearProblems();
  state.selected = null;
  fillForm({ properties: { level: CHILD_LEVEL[state.parent.properties.level], parent_id: state.parent.id } });
  showGridSection(true);
  enterDrawing('draw');
  draw.setMode('polygon');
  hint('在地图上逐点绘制边界（会吸附到相邻网格），点击起点或按回车结束。');
  drawChildren();
}

function startSplit() {
  if (!state.selected || !confirmLeave(drawingDirty())) return;
  leaveDrawing();
  clearProblems();
  enterDrawing('split');
  draw.setMode('linestring');
  hint('从网格外开始画一条穿过网格的线，到网格外结束，按回车完成。');
}

async function doSplit(lineId) {
  const f = draw.getSnapshotFeature(lineId);
  const g = state.selected;
  document.body.dataset.state = 'saving';
  try {
    const out = await api.splitGrid(g.id, g.properties.version, f.geometry, $('grid-form').elements.reason.value || '分割');
    leaveDrawing();
    await openParent(state.parent?.id ?? 0);
    await selectGrid(out.features[0].id);
    status(`已分割为 ${out.features.length} 个网格`);
  } catch (e) {
    leaveDrawing();
    handleSaveError(e, null);
  } finally {
    document.body.dataset.state = 'ready';
  }
}

// ----- saving -----

function saveBody() {
  const reason = $('grid-form').elements.reason.value.trim() || (state.selected?.id ? '修改' : '新建');
  const body = { type: 'Feature', properties: formProps(), reason };
  body.clip = $('clip-siblings').checked ? ['parent', 'siblings'] : ['parent'];
  if (state.mode === 'reshape' || state.mode === 'draw') {
    const g = drawnPolygon();
    if (!g) throw new Error('请先完成绘制（点击起点或按回车）');
    body.geometry = g;
  }
  return body;
}

async function save(body = null) {
  clearProblems();
  let b;
  try {
    b = body ?? saveBody();
  } catch (e) {
    status(e.message, true);
    return;
  }
  if (!body && !checkForm(b.properties)) {
    status('未保存：请先改正标红的字段', true);
    return;
  }
  const isNew = !state.selected?.id;
  if (!isNew && !b.geometry && Object.keys(b.properties).length === 0) {
    status('没有修改');
    return;
  }
  document.body.dataset.state = 'saving';
  try {
    const out = isNew ? await api.createGrid(b) : await api.updateGrid(state.selected.id, state.selected.properties.version, b);
    leaveDrawing();
    await openParent(state.parent?.id ?? 0);
    await selectGrid(out.id);
    status(`已保存：${out.properties.name}，版本 ${out.properties.version}`);
  } catch (e) {
    handleSaveError(e, b);
  } finally {
    document.body.dataset.state = 'ready';
  }
}

function handleSaveError(e, body) {
  if (!(e instanceof api.ApiError)) {
    fail(e);
    return;
  }
  if (e.status === 412 && e.body.current) {
    showConflict(body, e);
  } else if (e.status === 401 || e.status === 403 && state.canEdit) {
    sessionEnded(e).catch(fail);
  } else if (e.status === 422) {
    showProblems(e.body.problems || [], e.message);
  } else {
    const field = e.status === 400 || e.status === 409 ? fieldOf(e) : null;
    if (field && CHECKS[field]) showFieldErrors({ [field]: errorText(e) });
    status(`保存失败：${errorText(e)}`, true, e.message);
  }
}

function showProblems(problems, message, prefix = '保存被拒绝') {
  $('problems').hidden = false;
  $('problems-title').textContent = prefix;
  const ul = $('problem-list');
  ul.replaceChildren();
  for (const p of problems) {
    const li = document.createElement('li');
    li.textContent = problemText(p);
    li.title = p.message ?? '';
    ul.append(li);
  }
  setData('ed-problems', fc(problems.filter((p) => p.geometry).map((p) => ({
    type: 'Feature', geometry: p.geometry, properties: { kind: p.kind, with: p.with ?? null, area_m2: p.area_m2 },
  }))));
  status(`${prefix}：${problems.length ? `${problems.length} 处不符合网格规则，见红色列表和地图` : '不符合网格规则'}`, true, message);
  document.body.dataset.problems = String(problems.length);
}

function clearProblems() {
  $('problems').hidden = true;
  if (map) setData('ed-problems', EMPTY);
  delete document.body.dataset.problems;
}

function showConflict(body, e) {
  const { current } = e.body;
  const p = current.properties;
  state.pending = body;
  $('conflict-text').textContent = `网格「${p.name}」已被 ${p.updated_by ?? '他人'} 于 ${fmtTime(p.updated_at)} 修改，` +
    `现为版本 ${p.version}；你的修改基于版本 ${e.body.based_on ?? state.selected?.properties?.version}。`;
  $('conflict-text').title = e.message;
  const rows = $('conflict-rows');
  rows.replaceChildren();
  const mine = body?.properties ?? {};
  for (const k of [...new Set([...Object.keys(mine), 'name', 'worker_name', 'population'])]) {
    const tr = document.createElement('tr');
    const theirs = current?.properties?.[k] ?? '';
    const yours = k in mine ? (mine[k] ?? '') : '（未改）';
    if (k in mine && String(yours) !== String(theirs)) tr.className = 'ed-diff';
    for (const v of [FIELD_NAME[k] ?? k, yours, theirs]) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    rows.append(tr);
  }
  const tr = document.createElement('tr');
  for (const v of ['版本', state.selected?.properties?.version ?? '', current?.properties?.version ?? '']) {
    const td = document.createElement('td');
    td.textContent = String(v);
    tr.append(td);
  }
  rows.append(tr);
  setData('ed-theirs', current ? fc([current]) : EMPTY);
  if (body?.geometry) setData('ed-mine', fc([{ type: 'Feature', geometry: body.geometry, properties: {} }]));
  state.conflictCurrent = current;
  // Only a save can be made again on top of the current version; a restore,
  // split or delete that met a newer version is reloaded and asked anew.
  $('conflict-overwrite').hidden = !body;
  $('conflict').showModal();
  status('保存冲突：网格已被他人修改', true);
}

function closeConflict() {
  $('conflict').close();
  setData('ed-theirs', EMPTY);
}

// ----- merge, delete, coverage, history -----

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
    label.append(radio, ` ${c.properties.name}（${c.properties.code}）`);
    box.append(label);
  }
  $('merge-text').textContent = `将 ${ids.length} 个相邻网格合并为一个：${ids.map((id) => childOf(id).properties.name).join('、')}。`;
  $('merge-name').value = childOf(first).properties.name;
  $('merge-error').textContent = '';
  $('merge-dialog').showModal();
}

async function doMerge(target, name) {
  const ids = [target, ...[...state.merge].filter((id) => id !== target)];
  const versions = ids.map((id) => childOf(id).properties.version);
  document.body.dataset.state = 'saving';
  try {
    const out = await api.mergeGrids(ids, versions, name, $('grid-form').elements.reason.value.trim() || '合并');
    await openParent(state.parent?.id ?? 0);
    await selectGrid(out.id);
    status(`已合并为「${out.properties.name}」（${out.id}）`);
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 412) {
      status('合并冲突：所选网格已被他人修改。列表已刷新，请重新选择。', true, e.message);
      await openParent(state.parent?.id ?? 0);
    } else {
      handleSaveError(e, null);
    }
  } finally {
    document.body.dataset.state = 'ready';
  }
}

async function doDelete() {
  const g = state.selected;
  if (!g || !confirm(`删除网格 ${g.properties.name}？`)) return;
  try {
    await api.deleteGrid(g.id, g.properties.version, $('grid-form').elements.reason.value.trim() || '删除');
    state.selected = null;
    showGridSection(false);
    await openParent(state.parent?.id ?? 0);
    status('已删除');
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
  for (const [kind, list, name] of [['gap', c.gaps, '空隙'], ['overlap', c.overlaps, '重叠'], ['outside', c.outside, '超出']]) {
    for (const p of list) {
      feats.push({ type: 'Feature', geometry: p.geometry, properties: { kind, area_m2: p.area_m2 } });
      const li = document.createElement('li');
      li.textContent = `${name}${p.grids.length ? `（网格 ${p.grids.join('、')}）` : ''}：${fmtArea(p.area_m2)}`;
      ul.append(li);
    }
  }
  setData('ed-coverage', fc(feats));
  $('coverage-summary').textContent = `上级面积 ${fmtArea(c.area_m2)}，${c.children} 个下级共 ${fmtArea(c.children_area_m2)}；` +
    `空隙 ${c.gaps.length} 处，重叠 ${c.overlaps.length} 处，超出 ${c.outside.length} 处（小于 ${c.tolerance_m2} m² 的忽略）。`;
  $('coverage-section').hidden = false;
}

async function openHistory() {
  const g = state.selected;
  if (!g) return;
  const h = await api.history(g.id);
  const ol = $('history-list');
  ol.replaceChildren();
  for (const v of h.versions) {
    const li = document.createElement('li');
    li.dataset.version = v.version;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'ed-name';
    const when = fmtTime(v.changed_at);
    const op = { insert: '新建', update: '修改', delete: '删除' }[v.op] ?? v.op;
    const why = reasonText(v.reason);
    b.textContent = `v${v.version} ${op} · ${v.changed_by} · ${when}${why && why !== op ? ` · ${why}` : ''}`;
    b.addEventListener('click', () => showVersion(v.version).catch(fail));
    li.append(b);
    ol.append(li);
  }
  $('history-section').hidden = false;
  $('btn-restore').disabled = true;
}

// reasonText is a version's reason, the server's English defaults in Chinese.
function reasonText(r) {
  const restore = /^restore version (\d+)$/.exec(r ?? '');
  const imported = /^import (.+)$/.exec(r ?? '');
  return REASON_NAME[r] ?? (restore ? `恢复版本 ${restore[1]}` : imported ? `导入 ${imported[1]}` : r ?? '');
}

async function showVersion(v) {
  const g = state.selected;
  const old = await api.versionAt(g.id, v);
  state.oldVersion = v;
  setData('ed-old', old.geometry ? fc([{ type: 'Feature', geometry: old.geometry, properties: { version: v } }]) : EMPTY);
  for (const li of $('history-list').children) li.setAttribute('aria-selected', String(Number(li.dataset.version) === v));
  $('btn-restore').disabled = !state.canEdit || v === g.properties.version;
  status(`橙色虚线：版本 ${v}（${old.properties.name}，${fmtArea(old.area_m2)}）`);
}

async function doRestore() {
  const g = state.selected;
  const v = state.oldVersion;
  if (!g || !v) return;
  try {
    const out = await api.restore(g.id, v, g.properties.version);
    closeHistory();
    await openParent(state.parent?.id ?? 0);
    await selectGrid(out.id);
    status(`已恢复版本 ${v}，成为版本 ${out.properties.version}`);
  } catch (e) {
    handleSaveError(e, null);
  }
}

function closeHistory() {
  $('history-section').hidden = true;
  state.oldVersion = null;
  setData('ed-old', EMPTY);
}

function fail(e) {
  console.warn(e);
  status(errorText(e), true, e.message);
}

// ----- import and export -----

function updateExportLink() {
  $('export-link').href = api.exportURL($('export-format').value, state.parent?.id ?? 0);
}

async function doImport(ev) {
  ev.preventDefault();
  const file = $('import-file').files[0];
  if (!file) return;
  clearProblems();
  const ol = $('import-report');
  ol.replaceChildren();
  document.body.dataset.state = 'saving';
  try {
    const rep = await api.importFile(file, {
      crs: $('import-crs').value, encoding: $('import-encoding').value,
      clip: $('clip-siblings').checked ? 'parent,siblings' : 'parent',
    });
    for (const f of rep.features) {
      const li = document.createElement('li');
      li.textContent = `${whereText(f.where, f) || f.where}：${f.name}（${f.code}）→ 网格 ${f.id}，${fmtArea(f.area_m2)}`;
      ol.append(li);
    }
    if (rep.ignored_fields?.length) {
      const li = document.createElement('li');
      li.textContent = `未导入的字段：${rep.ignored_fields.join('、')}`;
      ol.append(li);
    }
    await openParent(state.parent?.id ?? 0);
    status(`已导入 ${rep.imported} 个网格`);
  } catch (e) {
    const where = e instanceof api.ApiError ? whereText(e.message, e.body) : '';
    const prefix = `导入失败（未导入任何网格）${where ? `：${where}` : ''}`;
    if (e instanceof api.ApiError && e.status === 422) showProblems(e.body.problems || [], e.message, prefix);
    else if (e instanceof api.ApiError && e.status === 400 && !fieldOf(e)) status(`${prefix}：文件的格式、坐标系或内容有误`, true, e.message);
    else status(`${prefix}：${errorText(e)}`, true, e.message);
  } finally {
    document.body.dataset.state = 'ready';
  }
}

// ----- who is signed in -----

// showSession says who is signed in, with a button to sign in or out; a
// role that may not edit gets a notice with a sign-in form, and one that
// may not read grids gets nothing else.
function showSession(s, canRead) {
  const who = $('who');
  if (!s) return; // a server without sessions: it decides at each request
  who.hidden = false;
  const name = document.createElement('span');
  name.id = 'who-name';
  name.textContent = s.name ? `${s.display_name || s.name}（${roleName(s.role)}）` : `未登录（按「${roleName(s.role)}」身份）`;
  const b = document.createElement('button');
  b.type = 'button';
  b.id = s.name ? 'btn-sign-out' : 'btn-show-sign-in';
  b.textContent = s.name ? '退出' : '登录';
  b.addEventListener('click', async () => {
    if (!s.name) {
      $('role-notice').hidden = false;
      $('sign-in-form').elements.name.focus();
      return;
    }
    if (!confirmLeave()) return;
    await api.request('DELETE', '/api/session').catch(() => {});
    window.removeEventListener('beforeunload', onBeforeUnload);
    location.reload();
  });
  who.append(name, b);
  if (state.canEdit) return;
  const as = s.name ? `你以「${s.display_name || s.name}」（${roleName(s.role)}）登录` : `你尚未登录，按「${roleName(s.role)}」身份访问`;
  $('role-title').textContent = canRead ? '只能查看，不能编辑' : '不能使用网格编辑';
  $('role-text').textContent = `${as}，${canRead ? '只能查看网格' : '不能查看网格编辑'}。只有规划员和管理员可以编辑网格，请用其账号登录。`;
  $('role-notice').hidden = false;
  document.body.dataset.access = canRead ? 'read' : 'none';
  if (!canRead) {
    $('list-section').hidden = true;
    $('map-notice').hidden = false;
    $('map-notice').textContent = `「${roleName(s.role)}」身份不能查看网格编辑。请在右侧用规划员或管理员账号登录。`;
  }
}

// sessionEnded answers a refusal of an editor who could edit: when the
// session has ended meanwhile (401, or a 403 because the request came without
// it: signed out in another tab), it asks to sign in again; else the
// refusal stands.
async function sessionEnded(e) {
  const s = e.status === 401 ? null : await api.loadSession();
  if (s?.name && EDIT_ROLES.has(s.role)) {
    status(`保存失败：${errorText(e)}`, true, e.message);
    return;
  }
  askSignIn();
  status('保存失败：登录已过期，请重新登录后再保存', true, e.message);
}

// askSignIn shows the sign-in form when the session has ended (signed out
// in another tab, expired): the edit stays in the form, to be saved once
// signed in again.
function askSignIn() {
  $('role-title').textContent = '登录已过期';
  $('role-text').textContent = '请重新登录。你的修改仍在表单中，登录后再保存。';
  $('role-notice').hidden = false;
  $('sign-in-form').elements.name.focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const f = $('sign-in-form');
  const name = f.elements.name.value.trim();
  const password = f.elements.password.value;
  if (!name || !password) {
    $('sign-in-error').textContent = '请填写用户名和密码';
    return;
  }
  try {
    await api.request('POST', '/api/session', { name, password });
  } catch (e) {
    const why = { 401: '用户名或密码不正确', 429: '尝试次数太多，请稍后再试' }[e.status] ?? errorText(e);
    $('sign-in-error').textContent = `登录失败：${why}`;
    $('sign-in-error').title = e.message;
    return;
  }
  // Signed in again with a role that edits: the page stays as it is, with
  // the edit in the form; otherwise it starts over for the new role.
  const s = await api.loadSession();
  if (state.canEdit && EDIT_ROLES.has(s?.role)) {
    state.role = s.role;
    $('role-notice').hidden = true;
    f.elements.password.value = '';
    $('who-name').textContent = `${s.display_name || s.name}（${roleName(s.role)}）`;
    status(isDirty() ? '已重新登录：你的修改仍在，请再次保存' : '已重新登录');
    return;
  }
  location.reload();
}

function onBeforeUnload(ev) {
  if (!isDirty()) return;
  ev.preventDefault();
  ev.returnValue = '';
}

// ----- start -----

async function start() {
  const session = await api.loadSession();
  const role = session?.role ?? null;
  state.role = role;
  state.canEdit = !role || EDIT_ROLES.has(role);
  const canRead = !role || READ_ROLES.has(role);
  showSession(session, canRead);
  $('sign-in-form').addEventListener('submit', (ev) => signIn(ev).catch(fail));
  $('grid-fields').disabled = !state.canEdit;
  for (const id of ['btn-save', 'import-file', 'btn-import']) $(id).disabled = !state.canEdit;
  const style = await fetchStyle('all');
  map = new Map({ container: 'map', style, attributionControl: false, hash: false });
  map.addControl(new NavigationControl({ showCompass: false }), 'top-left');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  await new Promise((resolve) => map.on('load', resolve));
  addOverlays();
  setupDraw();
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

  $('btn-new').addEventListener('click', startNew);
  $('btn-shape').addEventListener('click', startReshape);
  $('btn-split').addEventListener('click', startSplit);
  $('btn-cancel').addEventListener('click', () => {
    leaveDrawing();
    clearProblems();
    if (state.selected) fillForm(state.selected);
    else showGridSection(false);
    status('已取消');
  });
  $('btn-undo').addEventListener('click', () => { draw.undo(); showMine(); });
  $('btn-redo').addEventListener('click', () => { draw.redo(); showMine(); });
  $('btn-merge').addEventListener('click', openMerge);
  $('merge-form').addEventListener('submit', (ev) => {
    if (ev.submitter?.value === 'cancel') return; // method=dialog closes it
    ev.preventDefault();
    const f = $('merge-form');
    const name = f.elements.name.value.trim();
    if (!name) {
      $('merge-error').textContent = '请填写合并后的名称';
      return;
    }
    $('merge-dialog').close();
    doMerge(Number(f.elements.target.value), name).catch(fail);
  });
  $('btn-delete').addEventListener('click', () => doDelete().catch(fail));
  $('btn-coverage').addEventListener('click', () => doCoverage().catch(fail));
  $('btn-history').addEventListener('click', () => openHistory().catch(fail));
  $('btn-history-close').addEventListener('click', closeHistory);
  $('btn-restore').addEventListener('click', () => doRestore().catch(fail));
  $('conflict-close').addEventListener('click', closeConflict);
  $('export-format').addEventListener('change', updateExportLink);
  $('import-form').addEventListener('submit', (ev) => doImport(ev).catch(fail));
  $('conflict-reload').addEventListener('click', async () => {
    closeConflict();
    const keep = state.selected?.id;
    leaveDrawing();
    await openParent(state.parent?.id ?? 0);
    if (keep) await selectGrid(keep);
    status('已载入当前版本');
  });
  $('conflict-overwrite').addEventListener('click', async () => {
    // The user saw the current version and chose to base the edit on it:
    // the save carries the current version, nothing is overwritten unseen.
    const current = state.conflictCurrent;
    closeConflict();
    if (state.selected && current) state.selected = { ...state.selected, properties: { ...current.properties } };
    await save(state.pending);
  });
  map.on('mouseup', () => { if (state.mode !== 'idle') setTimeout(showMine, 0); });

  const q = new URLSearchParams(location.search);
  await openParent(Number(q.get('parent')) || 0);
  if (q.get('grid')) await selectGrid(Number(q.get('grid')));
  document.body.dataset.state = 'ready';
  status(state.parent ? '' : '选择一个网格，或点“下级”进入');
}

// The browser tests read the map and the editor's state here.
window.onemap = { get map() { return map; } };
window.onemapEditor = { state, get map() { return map; }, get draw() { return draw; } };
start().catch((e) => {
  fail(e);
  document.body.dataset.state = 'error';
});
