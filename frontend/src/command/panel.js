// The layer panel's controller: which layers are shown and filtered (kept
// in the page's link, view.js: a layer switched off or on by hand, and the
// filters, so that a shared link restores them), the switches and filters acting on the map,
// and the counts drawn into the panel (../panel.js renders it).
//
// "Overdue only" (households, risk points): the vector tiles cluster these
// layers below zoom 14, and a cluster carries no due day, so no filter of the
// tiles could tell an overdue point from the rest at every zoom. The switch
// draws instead an overlay of the layer's overdue features, as the server
// lists them (GET /api/layers/{layer}/features?overdue=true: the server's
// clock and the caller's scope, every page of it) — a few per cent of the
// layer, small enough for a GeoJSON source — and hides the layer's tiles
// while it is on. The overlay is one of the layer's style layers, so the
// level and kind filters act on it too; it is read again whenever the
// counts are (after each live change).

import { filterExpr, legendOf, META_LAYER, META_MINZOOM, styleLayerIds } from '../style.js';
import { clusterFilter, clusterLayout } from './clusters.js';
import { hasDue, overdueId, renderPanel, updateCounts } from '../panel.js';
import { readViewState, writeViewState } from '../view.js';
import { getJSON } from '../http.js';
import { formatCount } from '../format.js';
import { t } from '../i18n.js';

/** META_OVERDUE marks the style layer of a layer's overdue overlay. */
export const META_OVERDUE = 'onemap:overdue';

/** overdueSource is the id of a layer's overdue overlay (its GeoJSON source and its style layer). */
export const overdueSource = (layer) => `om-overdue-${layer}`;

const EMPTY = { type: 'FeatureCollection', features: [] };

// OVERDUE_PAGES bounds the pages of an overdue list read for the overlay
// (10,000 features each).
const OVERDUE_PAGES = 10;

/**
 * fetchOverdue returns the overdue features of layer as one FeatureCollection,
 * every page of the server's list.
 */
export async function fetchOverdue(layer, get = getJSON) {
  const features = [];
  let after = '';
  for (let i = 0; i < OVERDUE_PAGES; i++) {
    const page = await get(`/api/layers/${encodeURIComponent(layer)}/features`,
      { overdue: 'true', limit: '10000', ...(after ? { after } : {}) });
    features.push(...(page.features ?? []));
    if (!page.next) break;
    after = page.next;
  }
  return { type: 'FeatureCollection', features };
}

/**
 * overdueLayer returns the style layer of data layer id's overdue overlay:
 * circles in the layer's legend colours ringed in dark red, hidden until
 * switched on, filtered as the layer is.
 */
export function overdueLayer(style, id, chosen) {
  const lg = legendOf(style, id);
  const colour = lg?.entries.length
    ? ['match', ['get', lg.field], ...lg.entries.flatMap((e) => [e.value, e.colour]), lg.other ?? '#757575'] : '#757575';
  const layer = {
    id: overdueSource(id), type: 'circle', source: overdueSource(id),
    metadata: { [META_LAYER]: id, [META_OVERDUE]: true },
    layout: { visibility: 'none' },
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 14, 6.5, 17, 8],
      'circle-color': colour, 'circle-stroke-color': '#b71c1c', 'circle-stroke-width': 2.5,
    },
  };
  const f = filterExpr(undefined, chosen);
  if (f) layer.filter = f;
  return layer;
}

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
  // The layouts as the style draws them: a filter on a clustered layer
  // redraws its clusters' rings, sizes and counts from them (clusters.js).
  const baseLayout = Object.fromEntries(style.layers.map((l) => [l.id, { ...l.layout }]));
  for (const sl of style.layers) {
    const id = sl.metadata?.[META_LAYER];
    if (!id) continue;
    if (sl.layout?.visibility === 'none') state.hidden[id] = true;
    if (state.visible[id] === false) sl.layout = { ...sl.layout, visibility: 'none' };
    else if (state.visible[id] === true) sl.layout = { ...sl.layout, visibility: 'visible' };
    const f = clusterFilter(id, baseFilter[sl.id], state.chosen[id]);
    if (f) sl.filter = f;
    else delete sl.filter;
    const layout = clusterLayout(id, baseLayout[sl.id], state.chosen[id]);
    if (Object.keys(layout).length) sl.layout = { ...sl.layout, ...layout };
  }
  // The overdue overlays, added after the layers' own (so they draw on
  // top, and the legends stay those of the tiles).
  const overdue = {};
  state.overdue = overdue;
  for (const l of layers.filter(hasDue)) {
    style.sources[overdueSource(l.id)] = { type: 'geojson', data: EMPTY };
    style.layers.push(overdueLayer(style, l.id, state.chosen[l.id]));
    baseFilter[overdueSource(l.id)] = undefined;
    baseLayout[overdueSource(l.id)] = {};
  }
  // shows says whether style layer sl of data layer id is drawn: the
  // layer is on, and the overlay is drawn instead of the tiles while its
  // layer's overdue switch is on.
  const shows = (sl, id) => (state.visible[id] ?? !state.hidden[id]) &&
    Boolean(sl.metadata?.[META_OVERDUE]) === Boolean(overdue[id]?.on);
  const applyVisibility = (id) => {
    for (const sl of style.layers) {
      if (sl.metadata?.[META_LAYER] === id) page.map.setLayoutProperty(sl.id, 'visibility', shows(sl, id) ? 'visible' : 'none');
    }
  };
  // loadOverdue reads layer id's overdue features into its overlay.
  // A later read wins over an earlier one still under way.
  async function loadOverdue(id) {
    const seq = (overdue[id].seq ?? 0) + 1;
    overdue[id].seq = seq;
    try {
      const fc = await fetchOverdue(id);
      if (!overdue[id]?.on || overdue[id].seq !== seq) return;
      page.map.getSource(overdueSource(id))?.setData(fc);
      overdue[id].count = fc.features.length;
      const span = el.querySelector(`#${CSS.escape(`${overdueId(id)}-count`)}`);
      if (span) span.textContent = formatCount(fc.features.length);
    } catch (err) {
      page.status?.notify?.(t('overdueFailed', err.message));
    }
  }
  const save = () => history.replaceState(history.state, '', writeViewState(location.href, state));

  const args = { region: page.region, layers, style, state };
  renderPanel(el, args, {
    onToggle: (id, visible) => {
      state.visible[id] = visible;
      applyVisibility(id);
      // A layer off at low zooms (cameras) is drawn at every zoom once
      // switched on.
      for (const sl of style.layers) {
        if (visible && sl.metadata?.[META_LAYER] === id && sl.metadata?.[META_MINZOOM]) page.map.setLayerZoomRange(sl.id, 0, 24);
      }
      save();
    },
    onFilter: (id, field, values) => {
      state.chosen[id] = { ...state.chosen[id], [field]: values };
      for (const sl of styleLayerIds(style, id)) {
        page.map.setFilter(sl, clusterFilter(id, baseFilter[sl], state.chosen[id]));
        const layout = clusterLayout(id, baseLayout[sl] ?? {}, state.chosen[id]);
        for (const [p, v] of Object.entries(layout)) page.map.setLayoutProperty(sl, p, v);
      }
      updateCounts(el, layers, state);
      save();
    },
    onOverdue: (id, on) => {
      overdue[id] = { ...overdue[id], on };
      if (!on) page.map.getSource(overdueSource(id))?.setData(EMPTY);
      applyVisibility(id);
      if (on) loadOverdue(id);
    },
  }, matchMedia(PHONE).matches); // on a phone the map comes first: the layers folded

  let hasCounts = false;
  function showCounts(counts) {
    state.counts = counts;
    // The overdue lists change with the layers: read again.
    for (const id of Object.keys(overdue)) if (overdue[id].on) loadOverdue(id);
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
