// The grid worker's small map for picking a place, loaded only when opened
// (a dynamic import: MapLibre is not part of what the phone downloads
// first). It draws the server's style for the worker's role (its tiles as
// absolute URLs and MapLibre's worker from this server: ../map.js) and a
// dot where the worker tapped.
import { createMap } from '../map.js';
import { mapLocale } from '../i18n.js';
import { fetchStyle, META_CENTER } from '../style.js';

const dot = (p) => ({ type: 'FeatureCollection', features: p ? [{ type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: {} }] : [] });

/**
 * createPicker shows the map in container, centred on center ([lon, lat],
 * or the style's centre). It returns { map, point(), set(p), resize() }:
 * point() is the point tapped last (null before).
 */
export async function createPicker(container, { center } = {}) {
  const style = await fetchStyle();
  const home = style.metadata?.[META_CENTER] ?? [0, 0, 2];
  const map = createMap(container, style, {
    center: center ?? [home[0], home[1]], zoom: center ? 15 : Math.max(home[2], 12),
    attributionControl: false, locale: mapLocale('zh'), rotate: false, navigation: 'top-right',
  });
  await map.once('load');
  map.addSource('w-pick', { type: 'geojson', data: dot(null) });
  map.addLayer({
    id: 'w-pick', type: 'circle', source: 'w-pick',
    paint: { 'circle-radius': 8, 'circle-color': '#d7191c', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 },
  });
  let picked = null;
  const set = (p) => {
    picked = p ?? null;
    map.getSource('w-pick').setData(dot(picked));
    if (picked) map.easeTo({ center: picked });
  };
  map.on('click', (e) => {
    picked = [e.lngLat.lng, e.lngLat.lat];
    map.getSource('w-pick').setData(dot(picked));
  });
  return { map, point: () => picked, set, resize: () => map.resize() };
}
