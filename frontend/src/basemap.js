// The base map under the data, to find the way by. The server names it in
// its style as the source "basemap" (api/basemapfile.go): a raster source
// with its own layer (an MBTiles or PMTiles of images, or an online
// basemap), or a vector source (an archive of vector tiles, or the demo
// county's synthetic base), which this module styles. Vector bases are read
// in the OpenMapTiles schema, the usual one of OpenStreetMap extracts and
// the one the demo base is written in: water and waterway, transportation by
// class, place by class with a name. The look is quiet: pale water, white
// roads with a soft edge, grey-brown names, so that the data stays on top.

/** BASE is the id of the base map's source in the style. */
export const BASE = 'basemap';

/** META_BASE marks the style layers of the base map. */
export const META_BASE = 'onemap:base';

/** FONT is the bundled label font (the same as style.js's, which imports this module). */
const FONT = 'OneMap Sans';

const meta = { [META_BASE]: true };
const byZoom = (...stops) => ['interpolate', ['linear'], ['zoom'], ...stops];
const cls = (...classes) => ['in', ['get', 'class'], ['literal', classes]];
const lines = ['==', ['geometry-type'], 'LineString'];
const polygons = ['==', ['geometry-type'], 'Polygon'];

// Colours of the light and the dark (the wall's) base.
const LIGHT = { water: '#b9d3e6', waterLine: '#9cc0dc', road: '#ffffff', roadEdge: '#cbbfa9', major: '#fff4d6', majorEdge: '#c7a970',
  text: '#5a5044', halo: 'rgba(255,255,255,0.9)', waterText: '#4f7fa6' };
const DARK = { water: '#163049', waterLine: '#1f4a6e', road: '#34495e', roadEdge: '#22313f', major: '#4a5f73', majorEdge: '#2a3a49',
  text: '#9fb3c8', halo: 'rgba(10,20,30,0.85)', waterText: '#6f9cc4' };

/**
 * baseLayers returns the style layers of a vector base in three bands: fills
 * (water areas, right above the background), lines (rivers and roads, above
 * the grids' fills, under their outlines) and labels (places and rivers,
 * under the data's points).
 */
export function baseLayers(c = LIGHT) {
  const src = { source: BASE, metadata: meta };
  const road = (id, classes, minzoom, edge, fill, w) => [
    { ...src, id: `base-${id}-edge`, type: 'line', 'source-layer': 'transportation', minzoom, filter: ['all', lines, cls(...classes)],
      layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': edge, 'line-width': byZoom(8, w[0] + 0.6, 12, w[1] + 1.2, 16, w[2] + 2) } },
    { ...src, id: `base-${id}`, type: 'line', 'source-layer': 'transportation', minzoom, filter: ['all', lines, cls(...classes)],
      layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': fill, 'line-width': byZoom(8, w[0], 12, w[1], 16, w[2]) } },
  ];
  return {
    fills: [
      { ...src, id: 'base-water-area', type: 'fill', 'source-layer': 'water', filter: polygons, paint: { 'fill-color': c.water } },
    ],
    lines: [
      { ...src, id: 'base-waterway', type: 'line', 'source-layer': 'waterway', filter: lines,
        paint: { 'line-color': c.waterLine, 'line-width': byZoom(8, 0.6, 14, 2, 17, 4) } },
      { ...src, id: 'base-river', type: 'line', 'source-layer': 'water', filter: ['all', lines, cls('river', 'canal')],
        layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': c.waterLine, 'line-width': byZoom(8, 1.2, 12, 2.5, 16, 7) } },
      { ...src, id: 'base-stream', type: 'line', 'source-layer': 'water', filter: ['all', lines, cls('stream', 'ditch', 'drain')], minzoom: 9,
        layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': c.waterLine, 'line-width': byZoom(9, 0.5, 13, 1.2, 16, 3) } },
      ...road('minor', ['minor', 'service', 'track', 'path', 'tertiary'], 13, c.roadEdge, c.road, [0.4, 0.8, 4]),
      ...road('secondary', ['secondary'], 10, c.roadEdge, c.road, [0.6, 1.4, 6]),
      ...road('primary', ['motorway', 'trunk', 'primary'], 7, c.majorEdge, c.major, [1, 2.2, 8]),
    ],
    labels: [
      { ...src, id: 'base-river-name', type: 'symbol', 'source-layer': 'water', minzoom: 11, filter: ['all', lines, ['has', 'name']],
        layout: { 'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': 11, 'symbol-spacing': 400 },
        paint: { 'text-color': c.waterText, 'text-halo-color': c.halo, 'text-halo-width': 1.2 } },
      { ...src, id: 'base-place-town', type: 'symbol', 'source-layer': 'place', minzoom: 10, filter: cls('city', 'town'),
        layout: { 'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': byZoom(10, 11, 15, 14), 'text-padding': 6,
          'text-variable-anchor': ['top', 'bottom', 'left', 'right'], 'text-radial-offset': 0.6 },
        paint: { 'text-color': c.text, 'text-halo-color': c.halo, 'text-halo-width': 1.4 } },
      { ...src, id: 'base-place-village', type: 'symbol', 'source-layer': 'place', minzoom: 12.5, filter: cls('village', 'suburb', 'neighbourhood'),
        layout: { 'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': byZoom(12.5, 10.5, 16, 13), 'text-padding': 4,
          'text-variable-anchor': ['top', 'bottom', 'left', 'right'], 'text-radial-offset': 0.5 },
        paint: { 'text-color': c.text, 'text-halo-color': c.halo, 'text-halo-width': 1.3 } },
      { ...src, id: 'base-place-hamlet', type: 'symbol', 'source-layer': 'place', minzoom: 14, filter: cls('hamlet', 'isolated_dwelling', 'locality'),
        layout: { 'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': byZoom(14, 10, 17, 12), 'text-padding': 3,
          'text-variable-anchor': ['top', 'bottom', 'left', 'right'], 'text-radial-offset': 0.4 },
        paint: { 'text-color': c.text, 'text-halo-color': c.halo, 'text-halo-width': 1.2 } },
    ],
  };
}

/**
 * withBasemap returns the style with a vector base map's layers, when the
 * style has a vector source BASE: its fills above the background (and any
 * raster), its lines above the last fill of the data (under the grids'
 * outlines, so that roads show through the grids' tints), its labels under
 * the first point of the data. Its names need the bundled font (fontURL),
 * which it adds to the style's font-faces. Other styles come back as they
 * are.
 */
export function withBasemap(style, fontURL, colours = LIGHT) {
  if (style.sources?.[BASE]?.type !== 'vector') return style;
  const { fills, lines: ls, labels } = baseLayers(colours);
  const layers = [...style.layers];
  const isData = (l) => Boolean(l.metadata?.['onemap:layer']);
  let at = layers.findIndex((l) => l.type !== 'background' && l.type !== 'raster');
  if (at < 0) at = layers.length;
  layers.splice(at, 0, ...fills);
  let lastFill = -1;
  layers.forEach((l, i) => { if (l.type === 'fill' && !l.metadata?.[META_BASE]) lastFill = i; });
  layers.splice(Math.max(lastFill + 1, at + fills.length), 0, ...ls);
  let firstPoint = layers.findIndex((l) => isData(l) && (l.type === 'circle' || l.type === 'symbol'));
  if (firstPoint < 0) firstPoint = layers.length;
  layers.splice(firstPoint, 0, ...labels);
  return { ...style, layers, 'font-faces': { ...style['font-faces'], [FONT]: fontURL } };
}

/** darkBase returns a base map's layer for the wall's dark style: a vector one in the dark colours, a raster dimmed. */
export function darkBase(l) {
  if (l.type === 'raster') return { ...l, paint: { ...l.paint, 'raster-brightness-max': 0.45, 'raster-saturation': -0.5 } };
  const dark = [...Object.values(baseLayers(DARK))].flat().find((d) => d.id === l.id);
  return dark ? { ...l, paint: dark.paint } : l;
}
