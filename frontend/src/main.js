// OneMap's first page: every layer of the county that the caller may see, on
// one MapLibre map, drawn from the server's vector tiles. Nothing is fetched
// from anywhere but this server: no basemap, no fonts, no glyphs.

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import { Map, NavigationControl, Popup, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { buildStyle, META_LAYER, styleLayerIds } from './style.js';
import { popupHTML } from './popup.js';
import { renderPanel } from './panel.js';

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

const statusEl = document.getElementById('status');

function showStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.hidden = !text;
  statusEl.classList.toggle('om-error', isError);
}

async function getJSON(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}：HTTP ${res.status}`);
  return res.json();
}

async function start() {
  showStatus('正在加载…');
  const [region, { layers }] = await Promise.all([getJSON('/api/region'), getJSON('/api/layers')]);
  document.title = `${region.name} · 一张图`;

  const style = buildStyle({
    layers,
    // MapLibre resolves tile templates only when they are absolute.
    tileURL: `${location.origin}/tiles/all/{z}/{x}/{y}.mvt`,
    bounds: region.bounds,
    attribution: 'OneMap 一张图',
  });
  const layerById = new globalThis.Map(layers.map((l) => [l.id, l]));

  const panel = document.getElementById('panel');
  renderPanel(panel, region, layers, (id, visible) => {
    for (const sl of styleLayerIds(style, id)) map.setLayoutProperty(sl, 'visibility', visible ? 'visible' : 'none');
  });

  const map = new Map({
    container: 'map',
    style,
    bounds: region.bounds,
    fitBoundsOptions: { padding: fitPadding(panel) },
    locale: LOCALE,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
    maxZoom: 19,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  window.onemap = { map, region, layers };

  map.on('error', (e) => {
    console.error('地图错误：', e.error?.message ?? e.error ?? e);
    showStatus(`地图错误：${e.error?.message ?? '未知'}`, true);
  });
  map.once('load', () => showStatus(''));

  // Clicks: points within a few pixels win over the grid under the cursor.
  const pointLayers = style.layers.filter((l) => l.type === 'circle').map((l) => l.id);
  const gridLayers = style.layers.filter((l) => l.type === 'fill').map((l) => l.id).reverse();
  const popup = new Popup({ maxWidth: '360px', className: 'om-popup' });
  let shown = 0;
  map.on('click', (e) => {
    const { x, y } = e.point;
    let hits = pointLayers.length ? map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers: pointLayers }) : [];
    if (!hits.length && gridLayers.length) hits = map.queryRenderedFeatures(e.point, { layers: gridLayers });
    const f = hits[0];
    if (!f) return;
    const layer = layerById.get(f.layer.metadata?.[META_LAYER] ?? f.sourceLayer);
    if (!layer) return;
    const at = f.geometry.type === 'Point' ? f.geometry.coordinates : e.lngLat;
    popup.setLngLat(at).setHTML(popupHTML(layer, f.properties, f.id)).addTo(map);
    // The tile has what the map needs; the full record comes from the API
    // (which also audits reads of personal data).
    const token = ++shown;
    if (f.id === undefined || f.id === null) return;
    fetchFeature(layer.id, f.id).then((feature) => {
      if (feature && token === shown && popup.isOpen()) popup.setHTML(popupHTML(layer, feature.properties ?? {}, f.id));
    });
  });
  for (const id of pointLayers) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
}

// fetchFeature returns the GeoJSON feature, or null when the server has none
// to give (it may withhold a layer's details from the caller's role).
async function fetchFeature(layerId, fid) {
  try {
    const res = await fetch(`/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(fid)}`, {
      headers: { Accept: 'application/geo+json, application/json' },
    });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

// fitPadding keeps the region clear of the panel on a wide screen.
function fitPadding(panel) {
  const side = 24;
  const left = Math.min(panel.offsetWidth + side, window.innerWidth / 3);
  return { top: side, bottom: side, right: side + 40, left: Math.max(side, left) };
}

start().catch((err) => {
  console.error('一张图加载失败：', err);
  showStatus(`加载失败：${err.message}`, true);
});

