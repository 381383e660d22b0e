// The feature card (a MapLibre popup) of the command map: opened from a
// click, the search box or a list; for a grid also where it sits, with what
// it holds and its children in the side panel (gridpanel.js); for a
// household its personal details, read for a purpose. ../card.js renders it; this keeps what it shows, answers its
// buttons and follows live changes of the feature shown.

import { Popup } from 'maplibre-gl';
import * as api from '../api.js';
import { cardHTML, chainTo, pointCardHTML } from '../card.js';
import { detailsHTML, fetchPurposes, mayReadDetails, readDetails } from '../details.js';
import { bboxOf, interiorPoint } from '../geo.js';
import { OVERLAYS } from '../overlay.js';
import { t } from '../i18n.js';
import { liveButtonHTML, openLive } from './video.js';
import { editHTML, saveEdit } from './edit.js';

/**
 * createCard returns the card's controller: open(…), openPoint(point,
 * grids), close(), isOpen(), changed(changes) (live changes) and at() (where
 * the open card points). It uses page.map, page.layerById, page.overlay,
 * page.camera, page.status and page.around.
 */
export function createCard(page) {
  const { map, layerById } = page;
  const popup = new Popup({ maxWidth: '380px', className: 'om-popup', focusAfterOpen: false });
  let card = null; // what the popup shows: {layer, id, properties, live, pointCount, at, geometry, grid, details}
  let seq = 0;
  const gridNames = new globalThis.Map(); // grid id → name, for the cards' 所属网格
  // The purposes a read of a household's details may give, for the roles
  // that may read them; none for the others (the card offers no read).
  let purposes = [];
  if (mayReadDetails(page.layers)) fetchPurposes().then((p) => { purposes = p; });

  popup.on('close', () => {
    seq++;
    card = null;
    page.overlay(OVERLAYS.selection);
    page.gridPanel?.close();
  });

  // A household's card ends with its personal details' section (details.js).
  // A camera's card, for the roles that read cameras, ends with its live
  // video (video.js); a feature the caller may edit, with its edit section
  // (edit.js).
  const withDetails = (c) => cardHTML({ ...c, layerById, gridNames }) +
    (c.layer.id === 'households' ? detailsHTML(purposes, c.details) : '') +
    (c.layer.id === 'cameras' ? liveButtonHTML() : '') +
    (c.layer.id !== 'grids' ? editHTML(c.layer, c.properties, c.edit) : '');
  const render = () => {
    if (!card || !popup.isOpen()) return;
    popup.setHTML(card.point ? pointCardHTML(card.point, card.grids) : withDetails(card));
  };

  // ancestorsOf finds the grids above grid id: the chain that /api/locate
  // gives at a point inside it, else by walking up parent_id.
  async function ancestorsOf(id, at, properties) {
    if (at) {
      const chain = chainTo((await api.locate(at)).grids, id);
      if (chain) return chain;
    }
    const up = [];
    let parent = properties.parent_id;
    for (let depth = 0; parent !== undefined && parent !== null && depth < 8; depth++) {
      const f = await api.fetchFeature('grids', parent);
      if (!f) break;
      up.unshift({ id: f.id ?? parent, ...f.properties });
      parent = f.properties?.parent_id;
    }
    return up;
  }

  /**
   * open opens the card of feature id of layerId. at is where the popup
   * points (for a grid, a position inside it; by default a point inside its
   * geometry, or near when the server gives no geometry); properties are
   * what is known before the full record comes; ancestors are the grids
   * above a grid when known; fly moves the map to the feature.
   */
  async function open({ layerId, id, properties = {}, at = null, near = null, pointCount, ancestors = null, fly = false }) {
    const layer = layerById.get(layerId);
    if (!layer || id === undefined || id === null) return;
    popup.remove();
    const n = ++seq;
    // live: what changes since the card opened said, kept over a record
    // that was read before them but answered after.
    card = { layer, id, properties, live: {}, pointCount, at, geometry: null, grid: layerId === 'grids' ? { ancestors, inPanel: true } : null };
    const mine = () => n === seq;
    const gridOf = () => ({ id, ...card.properties });
    if (layerId === 'grids') page.gridPanel.show({ grid: gridOf() });
    if (at) popup.setLngLat(at).setHTML(withDetails(card)).addTo(map);

    // The tile has what the map needs; the full record comes from the API
    // (which also audits reads of personal data).
    const feature = await api.fetchFeature(layerId, id);
    if (!mine()) return;
    if (feature) {
      card.properties = { ...feature.properties, ...card.live };
      card.geometry = feature.geometry;
      page.overlay(OVERLAYS.selection, feature.geometry);
      if (!at) card.at = at = interiorPoint(feature.geometry);
      if (fly) page.camera.flyToBbox(bboxOf(feature.geometry));
    }
    if (!at) card.at = at = near;
    if (!at) {
      page.status.notify(t('cannotShow', layer.title, id));
      return;
    }
    if (!popup.isOpen()) popup.setLngLat(at).setHTML('').addTo(map);
    render();
    if (layerId !== 'grids') {
      // The card names the feature's grid once its record has come.
      const g = card.properties.grid_id;
      if (g === undefined || g === null || gridNames.has(String(g))) return;
      const f = await api.fetchFeature('grids', g);
      if (f?.properties?.name) gridNames.set(String(g), f.properties.name);
      if (mine()) render();
      return;
    }

    // The statistics and the children go to the side panel; the card
    // keeps where the grid sits.
    try {
      const [stats, up] = await Promise.all([api.gridStats(id), ancestors ?? ancestorsOf(id, at, card.properties)]);
      if (!mine()) return;
      card.grid = { ancestors: up, inPanel: true };
      page.gridPanel.show({ grid: gridOf(), stats: stats.grid?.stats ?? {}, children: stats.children ?? [] });
    } catch (err) {
      if (!mine()) return;
      card.grid = { ancestors: card.grid.ancestors, inPanel: true };
      page.gridPanel.show({ grid: gridOf(), error: err.message });
    }
    render();
  }

  // openGrid opens the card of grid gridId from the open card (its
  // breadcrumb, or its children in the side panel): the chain above it is
  // known from the card.
  function openGrid(gridId) {
    let ancestors = null;
    if (card?.point) {
      ancestors = chainTo(card.grids, gridId);
    } else if (card?.grid?.ancestors) {
      const chain = [...card.grid.ancestors, { id: card.id, ...card.properties }];
      ancestors = chainTo(chain, gridId) ?? chain; // not above: a child
    }
    open({ layerId: 'grids', id: Number(gridId), ancestors, fly: true });
  }

  // showDetails reads the open household card's details for purpose.
  async function showDetails(purpose) {
    if (!purpose || card?.layer?.id !== 'households' || card.details?.loading) return;
    const mine = card;
    mine.details = { asking: true, loading: true, purpose };
    render();
    const got = await readDetails(mine.id, purpose);
    if (card !== mine) return;
    mine.details = { asking: true, ...got, purpose };
    render();
  }

  // saveOpenEdit saves the open card's edit form: the card shows the
  // feature as saved, or as it is now after someone else's edit (the map
  // follows through the live changes).
  async function saveOpenEdit(form) {
    if (!form || !card || card.edit?.saving) return;
    const mine = card;
    mine.edit = { ...mine.edit, saving: true, error: null };
    const got = await saveEdit(mine, form);
    if (card !== mine) return;
    if (got.error) {
      mine.edit = { open: true, error: got.error };
    } else {
      mine.properties = { ...mine.properties, ...got.properties };
      mine.live = {};
      mine.edit = { message: got.message };
      if (got.reloaded) page.status.notify(got.message);
    }
    render();
  }

  // openPoint opens the card of a position found by its coordinates.
  function openPoint(point, grids) {
    popup.remove();
    seq++;
    card = { point, grids, at: point };
    page.overlay(OVERLAYS.selection);
    popup.setLngLat(point).setHTML(pointCardHTML(point, grids)).addTo(map);
  }

  // changed follows live changes: a grid renamed is named anew on the next
  // card, and the open card shows its feature as it is now.
  function changed(changes) {
    for (const c of changes) if (c.layer === 'grids') gridNames.delete(String(c.id));
    if (!card || card.point) return;
    const c = changes.findLast((x) => x.layer === card.layer.id && String(x.id) === String(card.id));
    if (!c) return;
    if (c.op === 'delete') {
      popup.remove();
    } else {
      card.live = { ...card.live, ...c.properties };
      card.properties = { ...card.properties, ...c.properties };
      render();
    }
  }

  // Buttons in the card: a grid of the breadcrumb or a child, and actions.
  map.getContainer().addEventListener('click', (e) => {
    const btn = e.target.closest?.('.om-popup button');
    if (!btn || !card) return;
    const gridId = btn.dataset.gridId;
    if (gridId) {
      openGrid(gridId);
    } else if (btn.dataset.action === 'grid-panel') {
      if (card.layer?.id === 'grids') open({ layerId: 'grids', id: card.id, ancestors: card.grid?.ancestors ?? null, at: card.at });
    } else if (btn.dataset.action === 'around') {
      page.around.run(card.at, { keyboard: e.detail === 0 });
    } else if (btn.dataset.action === 'zoom') {
      page.camera.flyToBbox(card.geometry ? bboxOf(card.geometry) : [...card.at, ...card.at]);
    } else if (btn.dataset.action === 'ask-details') {
      if (card.layer?.id !== 'households') return;
      card.details = { asking: true };
      render();
      popup.getElement()?.querySelector('.om-details select[name="purpose"]')?.focus();
    } else if (btn.dataset.action === 'camera-live') {
      if (card.layer?.id === 'cameras') openLive(card.id, (m) => page.status.notify(m));
    } else if (btn.dataset.action === 'details') {
      showDetails(btn.closest('.om-details')?.querySelector('select[name="purpose"]')?.value);
    } else if (btn.dataset.action === 'edit') {
      card.edit = { open: true };
      render();
    } else if (btn.dataset.action === 'edit-cancel') {
      card.edit = null;
      render();
    } else if (btn.dataset.action === 'edit-save') {
      saveOpenEdit(btn.closest('form'));
    }
  });

  return { open, openGrid, openPoint, changed, close: () => popup.remove(), isOpen: () => popup.isOpen() };
}
