// OneMap's first page: every layer of the county that the caller may see, on
// one MapLibre map drawn from the server's vector tiles and style; a layer
// tree with live counts, legends and filters; a search box (names, codes,
// coordinates), a card per feature (for a grid: where it sits, what it
// holds, its children), "what's around here" (周边), measuring, the cursor's
// coordinates and a link to the view; live changes from the server's event
// stream. Nothing is fetched from anywhere but this server: no basemap, no
// glyph server (labels use a bundled font).

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import { Map, NavigationControl, Popup, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { fetchStyle, FONT_PATH, filterExpr, GROUP_LABELS, groupLabelPoints, META_LAYER, placesGeoJSON, SOURCE, styleLayerIds, useColours, withLabels } from './style.js';
import { renderPanel, updateCounts } from './panel.js';
import * as api from './api.js';
import { cardHTML, chainTo, pointCardHTML } from './card.js';
import { setupSearch } from './search.js';
import { createOverlays, OVERLAYS } from './overlay.js';
import { bboxOf, circle, formatLonLat, interiorPoint } from './geo.js';
import { aroundHTML, aroundLayers, csvFileName, csvRows, CSV_HEADER, DEFAULT_RADIUS, formatRadius, RADII } from './around.js';
import { toCSV } from './csv.js';
import { applyStatic, lang, layerTitle, mapLocale, setLang, t } from './i18n.js';
import { fetchCounts } from './counts.js';
import { connectLive } from './live.js';
import { createMeasure } from './measure.js';
import { fetchSession, setupSession } from './session.js';
import { detailsHTML, fetchPurposes, mayReadDetails, readDetails } from './details.js';
import { readViewState, writeViewState } from './view.js';

setWorkerUrl(workerUrl);

// A point picked from the search box or a list is shown from this zoom on:
// cameras are clustered below 16 (risk points, households, stations below 14).
const POINT_ZOOM = 16;
// Counts are asked for again this long after the last change of a burst.
const COUNTS_DELAY_MS = 800;

const $ = (id) => document.getElementById(id);
const statusEl = $('status');
let statusTimer;

function showStatus(text, isError = false) {
  clearTimeout(statusTimer);
  statusEl.textContent = text;
  statusEl.hidden = !text;
  statusEl.classList.toggle('om-error', isError);
}

// notify shows a passing message (an error of one action, not of the page).
function notify(text, isError = true) {
  showStatus(text, isError);
  statusTimer = setTimeout(() => showStatus(''), 5000);
}

async function start() {
  applyStatic(document);
  showStatus(t('loading'));
  // The event stream opens first, so that no change made while the map
  // loads is missed.
  const live = { connected: false, events: 0, version: 0, last: null, pending: [] };
  let onLive = (changes) => live.pending.push(...changes);
  let onReset = () => {};
  connectLive({
    onChanges: (changes) => onLive(changes),
    onReset: () => onReset(),
    onState: (on) => {
      live.connected = on;
      const el = $('live');
      el.dataset.state = on ? 'on' : 'off';
      el.title = on ? t('liveOn') : t('liveOff');
    },
  });
  $('lang-switch').addEventListener('click', () => setLang(lang === 'en' ? 'zh' : 'en'));
  setupSession($('session'), $('sign-in-dialog'), { onError: (m) => notify(t('signInFailed', m)) });

  // The townships' and villages' label points are public data, the same
  // for every role; without them grids are labelled from the tiles.
  // A viewer sees a part of the county: its labels come from its tiles.
  const places = fetchSession().catch(() => null).then((sess) => (sess?.role === 'viewer' ? null
    : fetch('/api/public/places').then((r) => (r.ok ? r.json() : null))))
    .catch(() => null);
  const [region, { layers }, serverStyle, placeList] = await Promise.all([
    api.fetchRegion(), api.fetchLayers(), fetchStyle('all'), places]);
  if (lang === 'en') {
    // Cards, search and "around" show layer and field titles from here.
    for (const l of layers) {
      l.title = layerTitle(l);
      for (const f of l.fields ?? []) f.title = f.title_en || f.title;
    }
  }
  document.title = `${region.name} · ${t('appName')}`;
  useColours(serverStyle);
  const style = withLabels(serverStyle, `${location.origin}${FONT_PATH}`, { places: placeList && placesGeoJSON(placeList), groupLabels: true });
  const layerById = new globalThis.Map(layers.map((l) => [l.id, l]));
  // The purposes a read of a household's details may give, for the roles
  // that may read them; none for the others (the card offers no read).
  let purposes = [];
  if (mayReadDetails(layers)) fetchPurposes().then((p) => { purposes = p; });

  // What the panel shows and the map draws: from the link, else everything.
  const view = readViewState(location.hash, layers.map((l) => l.id));
  const state = { visible: view.visible, chosen: view.chosen, counts: {} };
  const baseFilter = Object.fromEntries(style.layers.map((l) => [l.id, l.filter]));
  for (const sl of style.layers) {
    const id = sl.metadata?.[META_LAYER];
    if (!id) continue;
    if (state.visible[id] === false) sl.layout = { ...sl.layout, visibility: 'none' };
    const f = filterExpr(baseFilter[sl.id], state.chosen[id]);
    if (f) sl.filter = f;
    else delete sl.filter;
  }
  const saveView = () => history.replaceState(history.state, '', writeViewState(location.href, state));

  const panel = $('panel');
  const side = $('around');
  const PHONE = '(max-width: 600px)'; // app.css's phone layout
  const panelArgs = { region, layers, style, state };
  renderPanel(panel, panelArgs, {
    onToggle: (id, visible) => {
      state.visible[id] = visible;
      for (const sl of styleLayerIds(style, id)) map.setLayoutProperty(sl, 'visibility', visible ? 'visible' : 'none');
      saveView();
    },
    onFilter: (id, field, values) => {
      state.chosen[id] = { ...state.chosen[id], [field]: values };
      for (const sl of styleLayerIds(style, id)) map.setFilter(sl, filterExpr(baseFilter[sl], state.chosen[id]));
      updateCounts(panel, layers, state);
      saveView();
    },
  }, matchMedia(PHONE).matches); // on a phone the map comes first: the layers folded

  // padding keeps what the map shows clear of the panels on a wide screen.
  const padding = () => {
    const gap = 24;
    const left = Math.min($('left').offsetWidth + gap, window.innerWidth / 3);
    const right = side.hidden ? gap : Math.min(side.offsetWidth + gap, window.innerWidth / 3);
    return { top: gap + 36, bottom: gap, right: Math.max(gap, right), left: Math.max(gap, left) };
  };

  const map = new Map({
    container: 'map',
    style,
    // The link's view (#map=zoom/lat/lon) wins over the region's box.
    hash: 'map',
    bounds: view.hasCamera ? undefined : region.bounds,
    fitBoundsOptions: { padding: padding() },
    locale: mapLocale(),
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
    maxZoom: 19,
    // Tiles carry the live version, so that a reload after a change
    // passes the browser's cache (tiles may be cached for 30 s).
    transformRequest: (url, type) => {
      if (type === 'Tile' && live.version && url.startsWith(`${location.origin}/tiles/`)) {
        return { url: `${url}${url.includes('?') ? '&' : '?'}v=${live.version}` };
      }
      return undefined;
    },
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'bottom-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  const setOverlay = createOverlays(map);
  window.onemap = { map, region, layers, style, state, live };

  map.on('error', (e) => {
    console.error('地图错误：', e.error?.message ?? e.error ?? e);
    showStatus(t('mapError', e.error?.message ?? '?'), true);
  });
  map.once('load', () => {
    showStatus('');
    window.onemap.loadedAt = performance.now();
  });

  // ---- counts and live changes ----

  // Each refresh takes a ticket and an answer older than the latest one
  // asked for is dropped. The first answer shown redraws the panel: it
  // brings the values to filter by; later ones only change the figures.
  let countsSeq = 0;
  let panelHasCounts = false;
  async function refreshCounts() {
    const n = ++countsSeq;
    try {
      const counts = await fetchCounts(region.bounds, { withStatus: layerById.has('grids') });
      if (n !== countsSeq) return;
      state.counts = counts;
      if (panelHasCounts) {
        updateCounts(panel, layers, state);
      } else {
        const focused = document.activeElement?.id;
        renderPanel(panel, panelArgs, {});
        if (focused && $(focused)) $(focused).focus();
        panelHasCounts = true;
      }
      window.onemap.countsAt = Date.now();
    } catch (err) {
      if (n === countsSeq) notify(`${t('layers')}: ${err.message}`);
    }
  }
  refreshCounts();

  let countsTimer;
  onLive = (changes) => {
    live.events += changes.length;
    live.last = changes[changes.length - 1];
    live.version++;
    // Every tile in view comes again (the server's cache keeps those that
    // did not change), and the tiles out of view are forgotten.
    if (map.getSource(SOURCE)) map.refreshTiles(SOURCE);
    clearTimeout(countsTimer);
    countsTimer = setTimeout(refreshCounts, COUNTS_DELAY_MS);
    // A grid renamed is named anew on the next card.
    for (const c of changes) if (c.layer === 'grids') gridNames.delete(String(c.id));
    // The open card shows the feature as it is now.
    if (card && !card.point && changes.some((c) => c.layer === card.layer.id && String(c.id) === String(card.id))) {
      const c = changes.findLast((x) => x.layer === card.layer.id && String(x.id) === String(card.id));
      if (c.op === 'delete') {
        popup.remove();
      } else {
        card.live = { ...card.live, ...c.properties };
        card.properties = { ...card.properties, ...c.properties };
        renderCard();
      }
    }
    const c = changes[changes.length - 1];
    const op = { insert: t('opInsert'), update: t('opUpdate'), delete: t('opDelete') }[c.op] ?? c.op;
    $('live').title = t('liveChange', layerTitle(layerById.get(c.layer)), c.id, op);
  };
  onReset = () => {
    live.version++;
    if (map.getSource(SOURCE)) map.refreshTiles(SOURCE);
    refreshCounts();
  };
  if (live.pending.length) map.once('load', () => onLive(live.pending.splice(0)));

  // ---- the groups' labels: one a group, from the tiles in view ----

  const GROUP_LABEL_ZOOM = 13.5;
  let groupLabelsShown = '';
  map.on('idle', () => {
    const source = map.getSource(GROUP_LABELS);
    if (!source) return;
    const data = map.getZoom() < GROUP_LABEL_ZOOM ? { type: 'FeatureCollection', features: [] }
      : groupLabelPoints(map.querySourceFeatures(SOURCE, { sourceLayer: 'grids', filter: ['==', ['get', 'level'], 'group'] }),
        map.getBounds().toArray().flat());
    const key = JSON.stringify(data.features.map((f) => [f.id, f.properties.name, f.geometry.coordinates]));
    if (key === groupLabelsShown) return; // the same labels: no render, so no idle again
    groupLabelsShown = key;
    source.setData(data);
  });

  // ---- the cursor's coordinates, the link, measuring ----

  const coords = $('coords');
  map.on('mousemove', (e) => { coords.textContent = formatLonLat([e.lngLat.lng, e.lngLat.lat]); });
  map.on('mouseout', () => { coords.textContent = ''; });

  const linkBox = $('link-box');
  const linkText = $('link-text');
  $('copy-link').addEventListener('click', async () => {
    saveView();
    linkText.value = location.href;
    linkBox.hidden = false;
    linkText.focus();
    linkText.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(location.href);
      copied = true;
    } catch {
      copied = document.execCommand?.('copy') ?? false; // the selected text
    }
    $('link-done').textContent = copied ? t('linkCopied') : '';
  });
  const closeLink = () => {
    linkBox.hidden = true;
    $('copy-link').focus();
  };
  $('link-close').addEventListener('click', closeLink);

  const measureHint = $('measure-hint');
  const measureButtons = { distance: $('measure-distance'), area: $('measure-area') };
  const measure = createMeasure(map, {
    lang,
    onChange: ({ mode, text, done }) => {
      for (const [m, b] of Object.entries(measureButtons)) b.setAttribute('aria-pressed', String(mode === m));
      measureHint.hidden = !mode;
      $('measure-result').textContent = text ? t(mode === 'area' ? 'area' : 'distance', text) : '';
      $('measure-finish').disabled = done;
      $('measure-centre').disabled = done;
      window.onemap.measure = { mode, text, done };
    },
  });
  for (const [m, b] of Object.entries(measureButtons)) {
    b.addEventListener('click', () => {
      if (measure.mode() === m) measure.cancel();
      else {
        setPicking(false);
        popup.remove(); // a card would hide where one clicks
        measure.start(m);
      }
    });
  }
  $('measure-centre').addEventListener('click', () => measure.addCentre());
  $('measure-finish').addEventListener('click', () => measure.finish());
  $('measure-clear').addEventListener('click', () => {
    const m = measure.mode();
    measure.cancel();
    measureButtons[m]?.focus();
  });

  // ---- moving the map ----

  // offset moves a centre into the middle of the part of the map that the
  // panels leave clear. (A camera's padding would stay on the map after the
  // move; an offset does not.)
  const offset = () => {
    const p = padding();
    return [(p.left - p.right) / 2, (p.top - p.bottom) / 2];
  };

  // flyToBbox shows a box, or a single position when the box is a point.
  function flyToBbox(b, { pointZoom = POINT_ZOOM } = {}) {
    if (!b) return;
    if (b[0] === b[2] && b[1] === b[3]) {
      map.flyTo({ center: [b[0], b[1]], zoom: Math.max(map.getZoom(), pointZoom), offset: offset() });
    } else {
      map.fitBounds(b, { padding: padding(), maxZoom: 17 });
    }
  }

  // inView says whether every position lies in the part of the map that
  // the panels leave clear.
  function inView(...positions) {
    const { width, height } = map.getCanvas().getBoundingClientRect();
    const pad = padding();
    return positions.every((p) => {
      const { x, y } = map.project(p);
      return x >= pad.left && x <= width - pad.right && y >= pad.top && y <= height - pad.bottom;
    });
  }

  // showPoint pans to a position if it is out of view, keeping the zoom.
  function showPoint(p) {
    if (!inView(p)) map.easeTo({ center: p, offset: offset() });
  }

  // ---- the feature card (popup) ----

  const popup = new Popup({ maxWidth: '380px', className: 'om-popup', focusAfterOpen: false });
  let card = null; // what the popup shows: {layer, id, properties, live, pointCount, at, geometry, grid}
  let cardSeq = 0;
  const gridNames = new globalThis.Map(); // grid id → name, for the cards' 所属网格
  popup.on('close', () => {
    cardSeq++;
    card = null;
    setOverlay(OVERLAYS.selection);
  });

  // A household's card ends with its personal details' section (details.js).
  const cardWithDetails = (c) => cardHTML({ ...c, layerById, gridNames }) +
    (c.layer.id === 'households' ? detailsHTML(purposes, c.details) : '');
  const renderCard = () => {
    if (!card || !popup.isOpen()) return;
    popup.setHTML(card.point ? pointCardHTML(card.point, card.grids) : cardWithDetails(card));
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
   * openCard opens the card of feature id of layerId. at is where the popup
   * points (for a grid, a position inside it; by default a point inside its
   * geometry, or near when the server gives no geometry); properties are
   * what is known before the full record comes;
   * ancestors are the grids above a grid when known; fly moves the map to
   * the feature.
   */
  async function openCard({ layerId, id, properties = {}, at = null, near = null, pointCount, ancestors = null, fly = false }) {
    const layer = layerById.get(layerId);
    if (!layer || id === undefined || id === null) return;
    popup.remove();
    const n = ++cardSeq;
    // live: what changes since the card opened said, kept over a record
    // that was read before them but answered after.
    card = { layer, id, properties, live: {}, pointCount, at, geometry: null, grid: layerId === 'grids' ? { ancestors } : null };
    const mine = () => n === cardSeq;
    if (at) popup.setLngLat(at).setHTML(cardWithDetails(card)).addTo(map);

    // The tile has what the map needs; the full record comes from the API
    // (which also audits reads of personal data).
    const feature = await api.fetchFeature(layerId, id);
    if (!mine()) return;
    if (feature) {
      card.properties = { ...feature.properties, ...card.live };
      card.geometry = feature.geometry;
      setOverlay(OVERLAYS.selection, feature.geometry);
      if (!at) card.at = at = interiorPoint(feature.geometry);
      if (fly) flyToBbox(bboxOf(feature.geometry));
    }
    if (!at) card.at = at = near;
    if (!at) {
      notify(t('cannotShow', layer.title, id));
      return;
    }
    if (!popup.isOpen()) popup.setLngLat(at).setHTML('').addTo(map);
    renderCard();
    if (layerId !== 'grids') {
      // The card names the feature's grid once its record has come.
      const g = card.properties.grid_id;
      if (g === undefined || g === null || gridNames.has(String(g))) return;
      const f = await api.fetchFeature('grids', g);
      if (f?.properties?.name) gridNames.set(String(g), f.properties.name);
      if (mine()) renderCard();
      return;
    }

    try {
      const [stats, up] = await Promise.all([api.gridStats(id), ancestors ?? ancestorsOf(id, at, card.properties)]);
      if (!mine()) return;
      card.grid = { ancestors: up, stats: stats.grid?.stats ?? {}, children: stats.children ?? [] };
    } catch (err) {
      if (!mine()) return;
      card.grid = { ancestors: card.grid.ancestors, error: err.message };
    }
    renderCard();
  }

  // showDetails reads the open household card's details for purpose.
  async function showDetails(purpose) {
    if (!purpose || card?.layer?.id !== 'households' || card.details?.loading) return;
    const mine = card;
    mine.details = { loading: true, purpose };
    renderCard();
    const got = await readDetails(mine.id, purpose);
    if (card !== mine) return;
    mine.details = { ...got, purpose };
    renderCard();
  }

  // openPointCard opens the card of a position found by its coordinates.
  function openPointCard(point, grids) {
    popup.remove();
    cardSeq++;
    card = { point, grids, at: point };
    setOverlay(OVERLAYS.selection);
    popup.setLngLat(point).setHTML(pointCardHTML(point, grids)).addTo(map);
  }

  // Buttons in the card: a grid of the breadcrumb or a child, and actions.
  map.getContainer().addEventListener('click', (e) => {
    const btn = e.target.closest?.('.om-popup button');
    if (!btn || !card) return;
    const gridId = btn.dataset.gridId;
    if (gridId) {
      let ancestors = null;
      if (card.point) {
        ancestors = chainTo(card.grids, gridId);
      } else if (card.grid?.ancestors) {
        const chain = [...card.grid.ancestors, { id: card.id, ...card.properties }];
        ancestors = chainTo(chain, gridId) ?? chain; // not above: a child
      }
      openCard({ layerId: 'grids', id: Number(gridId), ancestors, fly: true });
    } else if (btn.dataset.action === 'around') {
      runAround(card.at, { keyboard: e.detail === 0 });
    } else if (btn.dataset.action === 'zoom') {
      flyToBbox(card.geometry ? bboxOf(card.geometry) : [...card.at, ...card.at]);
    } else if (btn.dataset.action === 'details') {
      showDetails(btn.closest('.om-details')?.querySelector('select[name="purpose"]')?.value);
    }
  });

  // ---- clicks on the map ----

  // Points within a few pixels win over the grid under the cursor.
  const pointLayers = style.layers.filter((l) => l.type === 'circle').map((l) => l.id);
  const gridLayers = style.layers.filter((l) => l.type === 'fill').map((l) => l.id).reverse();
  map.on('click', (e) => {
    if (measure.mode()) return;
    if (picking) {
      setPicking(false);
      runAround([e.lngLat.lng, e.lngLat.lat]);
      return;
    }
    const { x, y } = e.point;
    // Of the points within reach, the one nearest the click: clusters and
    // points a few pixels apart overlap, and the topmost is not always the
    // one aimed at.
    let hits = pointLayers.length ? map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers: pointLayers }) : [];
    if (hits.length > 1) {
      const away = (f) => {
        const p = map.project(f.geometry.coordinates);
        return (p.x - x) ** 2 + (p.y - y) ** 2;
      };
      hits = hits.map((f) => [away(f), f]).sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    }
    if (!hits.length && gridLayers.length) hits = map.queryRenderedFeatures(e.point, { layers: gridLayers });
    const f = hits[0];
    if (!f) return;
    const layerId = f.layer.metadata?.[META_LAYER] ?? f.sourceLayer;
    const at = f.geometry.type === 'Point' ? f.geometry.coordinates : [e.lngLat.lng, e.lngLat.lat];
    openCard({ layerId, id: f.id, properties: f.properties, at, pointCount: f.properties.point_count });
  });
  for (const id of pointLayers) {
    map.on('mouseenter', id, () => { if (!picking) map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { if (!picking) map.getCanvas().style.cursor = ''; });
  }

  // ---- what's around here (周边) ----

  const aroundButton = $('around-button');
  const radiusSelect = $('around-radius');
  const exportButton = $('around-export');
  const aroundBody = $('around-body');
  const aroundTitle = $('around-title');
  const hint = $('pick-hint');
  radiusSelect.innerHTML = RADII.map((r) =>
    `<option value="${r}"${r === DEFAULT_RADIUS ? ' selected' : ''}>${formatRadius(r)}</option>`).join('');
  const aroundState = { point: null, radius: DEFAULT_RADIUS, resp: null, seq: 0 };
  let picking = false;

  function setPicking(on) {
    picking = on;
    aroundButton.setAttribute('aria-pressed', String(on));
    hint.hidden = !on;
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
    if (on) $('pick-centre').focus();
  }

  async function runAround(point, { radius = aroundState.radius, keyboard = false } = {}) {
    const n = ++aroundState.seq;
    Object.assign(aroundState, { point, radius, resp: null });
    side.hidden = false;
    aroundTitle.textContent = t('aroundOf', formatRadius(radius));
    $('around-centre').textContent = t('centreAt', formatLonLat(point));
    exportButton.disabled = true;
    aroundBody.setAttribute('aria-busy', 'true');
    aroundBody.innerHTML = `<p class="om-muted">${t('querying')}</p>`;
    const ring = circle(point, radius);
    setOverlay(OVERLAYS.around, ring, { type: 'Point', coordinates: point });
    const b = bboxOf(ring);
    if (!inView([b[0], b[1]], [b[2], b[3]])) map.fitBounds(b, { padding: padding() });
    if (keyboard) aroundTitle.focus();
    try {
      const resp = await api.around(point.map((v) => Number(v.toFixed(6))), radius);
      if (n !== aroundState.seq) return;
      aroundState.resp = resp;
      aroundBody.innerHTML = aroundHTML(resp, layerById);
      exportButton.disabled = false;
      $('around-announce').textContent = `${t('aroundOf', formatRadius(radius))}: ` + aroundLayers(resp)
        .map((id) => `${layerById.get(id)?.title ?? id} ${t('places', resp.layers[id].count ?? 0)}`).join(t('listSep'));
    } catch (err) {
      if (n !== aroundState.seq) return;
      aroundBody.innerHTML = '';
      notify(t('aroundFailed', err.message));
    } finally {
      if (n === aroundState.seq) aroundBody.removeAttribute('aria-busy');
    }
  }

  function closeAround() {
    aroundState.seq++;
    aroundState.resp = null;
    const hadFocus = side.contains(document.activeElement);
    side.hidden = true;
    setOverlay(OVERLAYS.around);
    if (hadFocus) aroundButton.focus();
  }

  map.on('contextmenu', (e) => {
    e.preventDefault();
    if (measure.mode()) return;
    setPicking(false);
    runAround([e.lngLat.lng, e.lngLat.lat]);
  });
  aroundButton.addEventListener('click', () => setPicking(!picking));
  $('pick-centre').addEventListener('click', () => {
    setPicking(false);
    const c = map.getCenter();
    runAround([c.lng, c.lat], { keyboard: true });
  });
  $('pick-cancel').addEventListener('click', () => {
    setPicking(false);
    aroundButton.focus();
  });
  $('around-close').addEventListener('click', closeAround);
  radiusSelect.addEventListener('change', () => {
    const radius = Number(radiusSelect.value);
    aroundState.radius = radius;
    if (aroundState.point) runAround(aroundState.point, { radius });
  });
  exportButton.addEventListener('click', () => {
    const { resp, point, radius } = aroundState;
    if (!resp) return;
    const text = toCSV(CSV_HEADER, csvRows(resp, layerById));
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = csvFileName(point, radius);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  aroundBody.addEventListener('click', (e) => {
    const btn = e.target.closest('button.om-item');
    if (!btn) return;
    const { layer, id, lon, lat } = btn.dataset;
    const at = lon !== undefined ? [Number(lon), Number(lat)] : null;
    if (at) showPoint(at);
    openCard({ layerId: layer, id: Number(id), at, fly: !at });
  });

  // ---- search ----

  const searchInput = $('search-input');
  const box = setupSearch({
    input: searchInput,
    list: $('search-results'),
    layerById,
    search: (q) => api.search(q),
    onError: (err) => notify(t('searchFailed', err.message)),
    onPick: (o) => {
      // An open 周边 panel follows the place picked, at the same radius.
      const around = !side.hidden && aroundState.point;
      if (o.kind === 'point') {
        setOverlay(OVERLAYS.pick, { type: 'Point', coordinates: o.point });
        map.flyTo({ center: o.point, zoom: Math.max(map.getZoom(), 15), offset: offset() });
        openPointCard(o.point, o.grids);
        if (around) runAround(o.point);
        return;
      }
      if (around && o.center) runAround(o.center);
      setOverlay(OVERLAYS.pick);
      const isPoint = o.bbox && o.bbox[0] === o.bbox[2] && o.bbox[1] === o.bbox[3];
      if (o.bbox) flyToBbox(o.bbox);
      const known = Object.fromEntries(Object.entries({ name: o.name, level: o.level, kind: o.featureKind })
        .filter(([, v]) => v !== undefined && v !== null));
      openCard({ layerId: o.layer, id: o.id, properties: known, at: isPoint ? o.center : null, near: o.center, fly: !o.bbox });
    },
  });

  // ---- keyboard ----

  document.addEventListener('keydown', (e) => {
    const target = e.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || target?.isContentEditable;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      box.focus();
    } else if (e.key === 'Enter' && measure.active() && !typing && !target?.closest?.('#measure-hint')) {
      // Enter ends the measurement, wherever the focus is (but on the
      // hint's own buttons, which do what they say).
      e.preventDefault();
      measure.finish();
    } else if (e.key === 'Escape') {
      if (document.querySelector('dialog[open]')) {
        return; // the dialog closes itself
      } else if (!linkBox.hidden) {
        closeLink();
      } else if (measure.mode()) {
        const m = measure.mode();
        measure.cancel();
        measureButtons[m]?.focus();
      } else if (picking) {
        setPicking(false);
        aroundButton.focus();
      } else if (!side.hidden && side.contains(document.activeElement)) {
        closeAround();
      } else if (popup.isOpen()) {
        popup.remove();
        setOverlay(OVERLAYS.pick);
      } else if (!side.hidden) {
        closeAround();
      } else {
        setOverlay(OVERLAYS.pick);
      }
    }
  });
}

start().catch((err) => {
  console.error('一张图加载失败：', err);
  showStatus(t('loadFailed', err.message), true);
});
