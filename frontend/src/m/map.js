// The public page's map, loaded only when the user opens it (a dynamic
// import, so that MapLibre is not part of what a phone downloads first). It
// draws the server's public style (/styles/public.json: stations and
// township/village outlines, nothing else), the stations of the list and the
// point they are measured from; a tap picks a new point.
import 'maplibre-gl/dist/maplibre-gl.css';
import { Map, NavigationControl, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';

setWorkerUrl(workerUrl);

const LOCALE = {
  'NavigationControl.ZoomIn': '放大',
  'NavigationControl.ZoomOut': '缩小',
  'NavigationControl.ResetBearing': '恢复正北',
};

const empty = () => ({ type: 'FeatureCollection', features: [] });

/**
 * createMap shows the public map in container, centred on center ([lon,
 * lat], or the county when null), and calls onPick([lon, lat]) on a tap. It
 * returns { map, update(point, stations), resize() }.
 */
export async function createMap(container, { center, onPick }) {
  const get = async (path) => (await fetch(new URL(path, location.href))).json();
  const [style, tilejson] = await Promise.all([get('/styles/public.json'), get('/tiles/public.json')]);
  const home = tilejson.center ?? [0, 0, 2];
  const map = new Map({
    container,
    style,
    center: center ?? [home[0], home[1]],
    zoom: center ? 13 : home[2],
    attributionControl: false,
    locale: LOCALE,
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  await map.once('load');
  map.addSource('m-stations', { type: 'geojson', data: empty() });
  map.addSource('m-here', { type: 'geojson', data: empty() });
  map.addLayer({
    id: 'm-stations', type: 'circle', source: 'm-stations',
    paint: { 'circle-radius': 9, 'circle-color': '#1e5aa8', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 },
  });
  map.addLayer({
    id: 'm-here', type: 'circle', source: 'm-here',
    paint: { 'circle-radius': 8, 'circle-color': '#d7191c', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 },
  });
  map.on('click', (e) => onPick([e.lngLat.lng, e.lngLat.lat]));

  function update(point, stations) {
    map.getSource('m-here').setData(point
      ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: point } }] }
      : empty());
    map.getSource('m-stations').setData({
      type: 'FeatureCollection',
      features: (stations ?? []).map((s) => ({
        type: 'Feature', id: s.id, properties: { name: s.name },
        geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
      })),
    });
  }
  return { map, update, resize: () => map.resize() };
}
