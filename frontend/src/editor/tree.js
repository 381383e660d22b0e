// The grid tree: the chain of parents (crumbs), a parent's children (the
// list and the map), and the grid selected into the form. Each is kept in
// the page's address (?parent=…&grid=…).

import * as api from '../api.js';
import { formatAreaM2 } from '../format.js';
import { $, CHILD_LEVEL, state, status, tickets } from './state.js';
import { EMPTY, fc, fitTo, labelPoints, setData } from './overlays.js';
import { leaveDrawing } from './draw.js';
import { fillForm, leaving, showGridSection } from './form.js';
import { clearProblems } from './save.js';
import { updateExportLink } from './io.js';
import { levelName, topTitle, w } from './words.js';

/** openParent lists the children of grid id (0: the top grids) and walks up its chain. */
export async function openParent(id) {
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

/** reopen lists the current parent's children again. */
export const reopen = () => openParent(state.parent?.id ?? 0);

function renderCrumbs() {
  const el = $('crumbs');
  el.replaceChildren();
  const top = document.createElement('button');
  top.type = 'button';
  top.textContent = w('top');
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
  $('list-title').textContent = state.parent
    ? w('childrenOf', state.parent.properties.name, levelName(CHILD_LEVEL[state.parent.properties.level]), state.children.length)
    : topTitle(state.children);
  for (const c of state.children) {
    const li = document.createElement('li');
    li.dataset.id = c.id;
    li.setAttribute('aria-selected', String(state.selected?.id === c.id));
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.title = w('pickForMerge');
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
    sub.textContent = `v${c.properties.version} · ${formatAreaM2(c.properties.area_m2)}`;
    li.append(box, name, sub);
    if (c.properties.level !== 'group') {
      const down = document.createElement('button');
      down.type = 'button';
      down.textContent = w('down');
      down.title = w('downTitle');
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

/** drawChildren draws the children, the selected one filled. */
export function drawChildren() {
  setData('ed-children', fc(state.children.map((c) => ({
    ...c, properties: { ...c.properties, id: c.id, selected: state.selected?.id === c.id },
  }))));
  setData('ed-labels', labelPoints(state.children, state.selected?.id ?? null, state.parent?.properties?.name ?? ''));
}

/** selectGrid reads grid id into the form. */
export async function selectGrid(id) {
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
  status(w('selected', g.properties.name, g.properties.version));
}
