// OneMap's first page: every layer of the county that the caller may see, on
// one MapLibre map, drawn from the server's vector tiles; a search box (names,
// codes, coordinates), a card per feature (for a grid: where it sits, what
// it holds, its children) and "what's around here" (周边). Nothing is fetched
// from anywhere but this server: no basemap, no fonts, no glyphs.

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import { Map, NavigationControl, Popup, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { buildStyle, META_LAYER, styleLayerIds } from './style.js';
import { renderPanel } from './panel.js';
import * as api from './api.js';
import { cardHTML, chainTo, pointCardHTML } from './card.js';
import { setupSearch } from './search.js';
import { createOverlays, OVERLAYS } from './overlay.js';
import { bboxOf, circle, formatLonLat, interiorPoint } from './geo.js';
import { aroundHTML, aroundLayers, csvFileName, csvRows, CSV_HEADER, DEFAULT_RADIUS, formatRadius, RADII } from './around.js';
import { toCSV } from './csv.js';

setWorkerUrl(workerUrl);

// MapLibre's own UI strings, in Chinese.
const LOCALE = {
  'AttributionControl.ToggleAttribution': '显示/隐藏数据说明',
  'FullscreenControl.Enter': '全屏',
  'FullscreenControl.Exit': '退出全屏',
  'NavigationControl.ResetBearing': '拖动旋转地图，点击恢复正北',
  'NavigationControl.ZoomIn': '放大',
  'NavigationControl.ZoomOut': '缩小',
  'Popup.Close': '关闭',
  'ScaleControl.Meters': '米',
  'ScaleControl.Kilometers': '公里',
};

// A point picked from the search box or a list is shown from this zoom on:
// cameras are clustered below 16 (risk points, households, stations below 14).
const POINT_ZOOM = 16;

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
  showStatus('正在加载…');
  const [region, { layers }] = await Promise.all([api.fetchRegion(), api.fetchLayers()]);
  document.title = `${region.name} · 一张图`;

  const style = buildStyle({
    layers,
    // MapLibre resolves tile templates only when they are absolute.
    tileURL: `${location.origin}/tiles/all/{z}/{x}/{y}.mvt`,
    bounds: region.bounds,
    attribution: 'OneMap 一张图',
  });
  const layerById = new globalThis.Map(layers.map((l) => [l.id, l]));

  const panel = $('panel');
  renderPanel(panel, region, layers, (id, visible) => {
    for (const sl of styleLayerIds(style, id)) map.setLayoutProperty(sl, 'visibility', visible ? 'visible' : 'none');
  });
  const side = $('around');

  // padding keeps what the map shows clear of the panels on a wide screen.
  const padding = () => {
    const gap = 24;
    const left = Math.min($('left').offsetWidth + gap, window.innerWidth / 3);
    const right = side.hidden ? gap : Math.min(side.offsetWidth + gap, window.innerWidth / 3);
    return { top: gap, bottom: gap, right: Math.max(gap, right), left: Math.max(gap, left) };
  };

  const map = new Map({
    container: 'map',
    style,
    bounds: region.bounds,
    fitBoundsOptions: { padding: padding() },
    locale: LOCALE,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
    maxZoom: 19,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'bottom-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  const setOverlay = createOverlays(map);
  window.onemap = { map, region, layers };

  map.on('error', (e) => {
    console.error('地图错误：', e.error?.message ?? e.error ?? e);
    showStatus(`地图错误：${e.error?.message ?? '未知'}`, true);
  });
  map.once('load', () => showStatus(''));

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
  let card = null; // what the popup shows: {layer, id, properties, pointCount, at, geometry, grid}
  let cardSeq = 0;
  popup.on('close', () => {
    cardSeq++;
    card = null;
    setOverlay(OVERLAYS.selection);
  });

  const renderCard = () => {
    if (!card || !popup.isOpen()) return;
    popup.setHTML(card.point ? pointCardHTML(card.point, card.grids) : cardHTML({ ...card, layerById }));
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
    card = { layer, id, properties, pointCount, at, geometry: null, grid: layerId === 'grids' ? { ancestors } : null };
    const mine = () => n === cardSeq;
    if (at) popup.setLngLat(at).setHTML(cardHTML({ ...card, layerById })).addTo(map);

    // The tile has what the map needs; the full record comes from the API
    // (which also audits reads of personal data).
    const feature = await api.fetchFeature(layerId, id);
    if (!mine()) return;
    if (feature) {
      card.properties = feature.properties ?? {};
      card.geometry = feature.geometry;
      setOverlay(OVERLAYS.selection, feature.geometry);
      if (!at) card.at = at = interiorPoint(feature.geometry);
      if (fly) flyToBbox(bboxOf(feature.geometry));
    }
    if (!at) card.at = at = near;
    if (!at) {
      notify(`无法显示 ${layer.title} #${id}`);
      return;
    }
    if (!popup.isOpen()) popup.setLngLat(at).setHTML('').addTo(map);
    renderCard();
    if (layerId !== 'grids') return;

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
    }
  });

  // ---- clicks on the map ----

  // Points within a few pixels win over the grid under the cursor.
  const pointLayers = style.layers.filter((l) => l.type === 'circle').map((l) => l.id);
  const gridLayers = style.layers.filter((l) => l.type === 'fill').map((l) => l.id).reverse();
  map.on('click', (e) => {
    if (picking) {
      setPicking(false);
      runAround([e.lngLat.lng, e.lngLat.lat]);
      return;
    }
    const { x, y } = e.point;
    let hits = pointLayers.length ? map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers: pointLayers }) : [];
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
    aroundTitle.textContent = `周边 ${formatRadius(radius)}`;
    $('around-centre').textContent = `中心 ${formatLonLat(point)}`;
    exportButton.disabled = true;
    aroundBody.setAttribute('aria-busy', 'true');
    aroundBody.innerHTML = '<p class="om-muted">正在查询…</p>';
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
      $('around-announce').textContent = `周边 ${formatRadius(radius)}：` + aroundLayers(resp)
        .map((id) => `${layerById.get(id)?.title ?? id} ${resp.layers[id].count ?? 0} 处`).join('，');
    } catch (err) {
      if (n !== aroundState.seq) return;
      aroundBody.innerHTML = '';
      notify(`周边查询失败：${err.message}`);
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
    onError: (err) => notify(`搜索失败：${err.message}`),
    onPick: (o) => {
      if (o.kind === 'point') {
        setOverlay(OVERLAYS.pick, { type: 'Point', coordinates: o.point });
        map.flyTo({ center: o.point, zoom: Math.max(map.getZoom(), 15), offset: offset() });
        openPointCard(o.point, o.grids);
        return;
      }
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
    const t = e.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement ||
      t instanceof HTMLSelectElement || t?.isContentEditable;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      box.focus();
    } else if (e.key === 'Escape') {
      if (picking) {
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
  showStatus(`加载失败：${err.message}`, true);
});
