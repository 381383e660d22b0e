// What the editor draws over the style: the parent's outline, the children
// (the selected one filled), the coverage's gaps and overlaps, an old
// version, the conflicting version, my boundary and a refused save's
// problems, and the children's names (once each, at a point inside). Each
// is a GeoJSON source of the page.

import { interiorPoint } from '../geo.js';
import { FONT } from '../style.js';
import { ringsOf } from './snap.js';
import { state } from './state.js';

/** EMPTY is an empty feature collection. */
export const EMPTY = { type: 'FeatureCollection', features: [] };

/** fc is a feature collection of features. */
export const fc = (features) => ({ type: 'FeatureCollection', features });

/** setData shows data in overlay id (nothing before the map has loaded). */
export function setData(id, data) {
  state.map?.getSource(id)?.setData(data);
}

/** addOverlays adds the overlays' sources and layers to the loaded map. */
export function addOverlays(map) {
  const add = (id, layers) => {
    map.addSource(id, { type: 'geojson', data: EMPTY });
    for (const l of layers) map.addLayer({ ...l, source: id });
  };
  add('ed-parent', [{ id: 'ed-parent-line', type: 'line', paint: { 'line-color': '#1d2430', 'line-width': 2.5 } }]);
  add('ed-children', [
    { id: 'ed-children-fill', type: 'fill', paint: { 'fill-color': ['case', ['boolean', ['get', 'selected'], false], '#ffd54a', '#5b8def'], 'fill-opacity': ['case', ['boolean', ['get', 'selected'], false], 0.35, 0.08] } },
    { id: 'ed-children-line', type: 'line', paint: { 'line-color': '#2f5fb3', 'line-width': 1.2 } },
  ]);
  add('ed-labels', [{
    id: 'ed-labels', type: 'symbol',
    layout: {
      'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': ['case', ['boolean', ['get', 'selected'], false], 15, 13],
      'text-max-width': 8, 'text-padding': 2,
    },
    paint: { 'text-color': '#1d2430', 'text-halo-color': 'rgba(255, 255, 255, 0.92)', 'text-halo-width': 1.6 },
  }]);
  add('ed-coverage', [
    { id: 'ed-coverage-fill', type: 'fill', paint: { 'fill-color': ['match', ['get', 'kind'], 'gap', '#d63384', '#e03131'], 'fill-opacity': 0.55 } },
    { id: 'ed-coverage-line', type: 'line', paint: { 'line-color': ['match', ['get', 'kind'], 'gap', '#d63384', '#e03131'], 'line-width': 2 } },
  ]);
  add('ed-old', [{ id: 'ed-old-line', type: 'line', paint: { 'line-color': '#f08c00', 'line-width': 3, 'line-dasharray': [2, 1.5] } }]);
  add('ed-theirs', [{ id: 'ed-theirs-line', type: 'line', paint: { 'line-color': '#7048e8', 'line-width': 3, 'line-dasharray': [1.5, 1.5] } }]);
  add('ed-mine', [{ id: 'ed-mine-line', type: 'line', paint: { 'line-color': '#f08c00', 'line-width': 2.5 } }]);
  add('ed-problems', [
    { id: 'ed-problems-fill', type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#e03131', 'fill-opacity': 0.6 } },
    { id: 'ed-problems-line', type: 'line', paint: { 'line-color': '#c92a2a', 'line-width': 2.5 } },
    { id: 'ed-problems-point', type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': '#e03131', 'circle-radius': 8, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
  ]);
}

/**
 * labelPoints returns a label point per grid: its name at a point inside
 * it (the selected one marked, drawn larger), without the parent's name
 * in front (庄良村第一村民小组 under 庄良村 reads 第一村民小组).
 */
export function labelPoints(grids, selectedId = null, parentName = '') {
  const short = (n) => (parentName && n.length > parentName.length && n.startsWith(parentName) ? n.slice(parentName.length) : n);
  return fc(grids.map((g) => {
    const at = g.geometry && interiorPoint(g.geometry);
    return at && { type: 'Feature', geometry: { type: 'Point', coordinates: at },
      properties: { id: g.id, name: short(g.properties?.name ?? ''), full: g.properties?.name ?? '', selected: g.id === selectedId } };
  }).filter(Boolean));
}

/** fitTo brings a geometry into view at once. */
export function fitTo(geometry, padding = 40) {
  let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
  for (const r of ringsOf(geometry)) {
    for (const [x, y] of r) {
      minX = Math.min(minX, x); minY = Math.min(minY, y); maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    }
  }
  if (minX <= maxX) state.map.fitBounds([[minX, minY], [maxX, maxY]], { padding, duration: 0 });
}
