// The layer panel's controller: which layers are shown and filtered (kept
// in the page's link, view.js: a layer switched off or on by hand, and the
// filters, so that a shared link restores them), the switches and filters acting on the map,
// and the counts drawn into the panel (../panel.js renders it).

import { filterExpr, META_LAYER, META_MINZOOM, styleLayerIds } from '../style.js';
import { renderPanel, updateCounts } from '../panel.js';
import { readViewState, writeViewState } from '../view.js';

const PHONE = '(max-width: 600px)'; // app.css's phone layout

/**
 * createPanel reads the view from the page's link (the layers switched off
 * and the filters), applies it to page.style before the map is made, and
 * renders the panel into el. It returns {state, hasCamera, save,
 * showCounts}: state is {visible, chosen, counts}; save() writes the view
 * into the link; showCounts(counts) draws new counts (the first answer
 * redraws the panel: it brings the values to filter by).
 */
export function createPanel(page, el) {
  const { layers, style } = page;
  const view = readViewState(location.hash, layers.map((l) => l.id));
  // hidden: the layers the style hides until they are switched on.
  const state = { visible: view.visible, chosen: view.chosen, counts: {}, hidden: {} };
  const baseFilter = Object.fromEntries(style.layers.map((l) => [l.id, l.filter]));
  for (const sl of style.layers) {
    const id = sl.metadata?.[META_LAYER];
    if (!id) continue;
    if (sl.layout?.visibility === 'none') state.hidden[id] = true;
    if (state.visible[id] === false) sl.layout = { ...sl.layout, visibility: 'none' };
    else if (state.visible[id] === true) sl.layout = { ...sl.layout, visibility: 'visible' };
    const f = filterExpr(baseFilter[sl.id], state.chosen[id]);
    if (f) sl.filter = f;
    else delete sl.filter;
  }
  const save = () => history.replaceState(history.state, '', writeViewState(location.href, state));

  const args = { region: page.region, layers, style, state };
  renderPanel(el, args, {
    onToggle: (id, visible) => {
      state.visible[id] = visible;
      for (const sl of styleLayerIds(style, id)) page.map.setLayoutProperty(sl, 'visibility', visible ? 'visible' : 'none');
      // A layer off at low zooms (cameras) is drawn at every zoom once
      // switched on.
      for (const sl of style.layers) {
        if (visible && sl.metadata?.[META_LAYER] === id && sl.metadata?.[META_MINZOOM]) page.map.setLayerZoomRange(sl.id, 0, 24);
      }
      save();
    },
    onFilter: (id, field, values) => {
      state.chosen[id] = { ...state.chosen[id], [field]: values };
      for (const sl of styleLayerIds(style, id)) page.map.setFilter(sl, filterExpr(baseFilter[sl], state.chosen[id]));
      updateCounts(el, layers, state);
      save();
    },
  }, matchMedia(PHONE).matches); // on a phone the map comes first: the layers folded

  let hasCounts = false;
  function showCounts(counts) {
    state.counts = counts;
    if (hasCounts) {
      updateCounts(el, layers, state);
      return;
    }
    const focused = document.activeElement?.id;
    renderPanel(el, args, {});
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    hasCounts = true;
  }

  return { state, hasCamera: view.hasCamera, save, showCounts };
}
