// Overlays drawn by the client over the data: the circle of "what's around
// here", the selected feature, and a point found by coordinates. Each is a
// GeoJSON source held in the page, so nothing is fetched for them.

/** OVERLAYS are the ids of the overlay sources. */
export const OVERLAYS = { around: 'om-around', selection: 'om-selection', pick: 'om-pick' };

const EMPTY = { type: 'FeatureCollection', features: [] };
const SELECT = '#0b6bcb';
const AROUND = '#c62828';

const LAYERS = [
  { id: 'om-around-fill', type: 'fill', source: OVERLAYS.around, filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'fill-color': AROUND, 'fill-opacity': 0.06 } },
  { id: 'om-around-line', type: 'line', source: OVERLAYS.around, filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'line-color': AROUND, 'line-width': 2, 'line-dasharray': [3, 2] } },
  { id: 'om-around-centre', type: 'circle', source: OVERLAYS.around, filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 5, 'circle-color': AROUND, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
  { id: 'om-selection-line', type: 'line', source: OVERLAYS.selection,
    filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]],
    layout: { 'line-join': 'round' },
    paint: { 'line-color': SELECT, 'line-width': 3, 'line-opacity': 0.9 } },
  { id: 'om-selection-point', type: 'circle', source: OVERLAYS.selection, filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': SELECT, 'circle-stroke-width': 3 } },
  { id: 'om-pick', type: 'circle', source: OVERLAYS.pick,
    paint: { 'circle-radius': 7, 'circle-color': SELECT, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2.5 } },
];

/** overlayLayerIds lists the style layers of the overlays. */
export const overlayLayerIds = LAYERS.map((l) => l.id);

/**
 * createOverlays adds the overlay sources and layers on top of map's style
 * once it is loaded, and returns set(id, geometries): it replaces what
 * overlay id shows with the given GeoJSON geometries (none: clears it).
 * A set before the style has loaded is applied when it has.
 */
export function createOverlays(map) {
  const data = {};
  let ready = false;
  const collection = (geoms) => ({
    type: 'FeatureCollection',
    features: geoms.filter(Boolean).map((geometry) => ({ type: 'Feature', properties: {}, geometry })),
  });
  const add = () => {
    for (const id of Object.values(OVERLAYS)) map.addSource(id, { type: 'geojson', data: data[id] ?? EMPTY });
    for (const l of LAYERS) map.addLayer(l);
    ready = true;
  };
  if (map.isStyleLoaded()) add();
  else map.once('load', add);
  return function set(id, ...geoms) {
    data[id] = collection(geoms);
    if (ready) map.getSource(id).setData(data[id]);
  };
}
