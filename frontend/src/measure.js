// Measuring on the map: a distance along a line or the area of a polygon,
// on the sphere. Clicks add points (or "add the map centre" from the
// keyboard), a double-click or Enter finishes, Escape cancels. What is drawn
// is a GeoJSON source in the page.

import { pathLength, sphericalArea } from './geo.js';
import { formatArea, formatLength } from './format.js';

const SOURCE = 'om-measure';
const COLOUR = '#e65100';
const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * measureGeoJSON returns what the overlay shows for points (and a moving
 * cursor position, not yet added) in mode "distance" or "area".
 */
export function measureGeoJSON(mode, points, cursor = null) {
  const pts = cursor ? [...points, cursor] : points;
  const features = points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } }));
  if (mode === 'area' && pts.length >= 3) {
    features.push({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[...pts, pts[0]]] } });
  } else if (pts.length >= 2) {
    features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: pts } });
  }
  return { type: 'FeatureCollection', features };
}

/** measureText returns the result of a measurement as text. */
export function measureText(mode, points, lang = 'zh') {
  if (mode === 'area') return points.length >= 3 ? formatArea(sphericalArea(points), lang) : '';
  return points.length >= 2 ? formatLength(pathLength(points), lang) : '';
}

/**
 * createMeasure wires the measuring tool to map. onChange({mode, points,
 * text, done}) reports each step; it returns {start(mode), addCentre(),
 * finish(), cancel(), active()}.
 */
export function createMeasure(map, { lang = 'zh', onChange = () => {} } = {}) {
  let mode = null;
  let points = [];
  let done = false;
  let ready = false;
  const add = () => {
    map.addSource(SOURCE, { type: 'geojson', data: EMPTY });
    map.addLayer({ id: 'om-measure-fill', type: 'fill', source: SOURCE, filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': COLOUR, 'fill-opacity': 0.12 } });
    map.addLayer({ id: 'om-measure-line', type: 'line', source: SOURCE, filter: ['!=', ['geometry-type'], 'Point'],
      paint: { 'line-color': COLOUR, 'line-width': 2.5, 'line-dasharray': [2, 1] } });
    map.addLayer({ id: 'om-measure-point', type: 'circle', source: SOURCE, filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-color': COLOUR, 'circle-stroke-width': 2 } });
    ready = true;
  };
  if (map.isStyleLoaded()) add();
  else map.once('load', add);

  const draw = (cursor) => {
    if (ready) map.getSource(SOURCE).setData(mode ? measureGeoJSON(mode, points, done ? null : cursor) : EMPTY);
  };
  const report = () => onChange({ mode, points: [...points], text: mode ? measureText(mode, points, lang) : '', done });

  map.on('click', (e) => {
    if (!mode || done) return;
    points.push([e.lngLat.lng, e.lngLat.lat]);
    draw();
    report();
  });
  map.on('dblclick', (e) => {
    if (!mode || done) return;
    e.preventDefault();
    finish();
  });
  map.on('mousemove', (e) => {
    if (mode && !done && points.length) draw([e.lngLat.lng, e.lngLat.lat]);
  });

  function start(m) {
    mode = m;
    points = [];
    done = false;
    map.doubleClickZoom.disable();
    map.getCanvas().style.cursor = 'crosshair';
    draw();
    report();
  }
  function finish() {
    if (!mode) return;
    // A double-click has added its point twice.
    points = points.filter((p, i) => i === 0 || p[0] !== points[i - 1][0] || p[1] !== points[i - 1][1]);
    done = true;
    map.doubleClickZoom.enable();
    map.getCanvas().style.cursor = '';
    draw();
    report();
  }
  function cancel() {
    mode = null;
    points = [];
    done = false;
    map.doubleClickZoom.enable();
    map.getCanvas().style.cursor = '';
    draw();
    report();
  }
  function addCentre() {
    if (!mode || done) return;
    const c = map.getCenter();
    points.push([c.lng, c.lat]);
    draw();
    report();
  }
  return { start, finish, cancel, addCentre, active: () => mode !== null && !done, mode: () => mode };
}
