// The map style: built in the browser from what /api/layers says the caller
// may see, so a layer the caller's role may not see never gets a style layer.
//
// No glyphs and no text: there is no glyph server, and a style with a
// text-field would make MapLibre fetch one. Labels come later with a bundled
// font.

/** SOURCE is the id of the one vector source, the server's "all" tileset. */
export const SOURCE = 'onemap';

/** META_LAYER is the metadata key that ties a style layer to a data layer. */
export const META_LAYER = 'onemap:layer';

export const BACKGROUND = '#dfe5ea';

// Colours. Risk levels follow the county's four-colour scheme: 红 重大,
// 橙 较大, 黄 一般, 蓝 低.
export const RISK_COLOURS = { red: '#d7191c', orange: '#fd8d3c', yellow: '#fecc5c', blue: '#2c7bb6' };
export const CAMERA_COLOURS = { online: '#1a9641', offline: '#9e9e9e', fault: '#7b3294' };
// Station kinds are reference data (table station_kinds): a kind not listed
// here is drawn in STATION_OTHER.
export const STATION_COLOURS = {
  governance_centre: '#283593',
  service_hall: '#00695c',
  service_station: '#4db6ac',
  mediation: '#8e24aa',
  police: '#263238',
  clinic: '#ec407a',
  hospital: '#ad1457',
  legal_aid: '#6d4c41',
};
export const STATION_OTHER = '#78909c';
const UNKNOWN = '#757575';

// Grid levels, coarse to fine: fill colour and opacity, outline colour and
// width (px at z8 and z14), and the zoom from which the level is drawn.
export const GRID_LEVELS = {
  county: { fill: '#f4efe1', fillOpacity: 0.55, line: '#3e2f1f', width: [2.2, 3.5], minzoom: 0 },
  township: { fill: '#e3b866', fillOpacity: 0.10, line: '#6d5536', width: [1.1, 2.2], minzoom: 0 },
  village: { fill: '#8cbf7f', fillOpacity: 0.07, line: '#8d7c68', width: [0.5, 1.1], minzoom: 8 },
  group: { fill: '#7fb2d1', fillOpacity: 0.05, line: '#a89c8e', width: [0.3, 0.6], minzoom: 11 },
};

// match builds ['match', ['get', prop], k1, v1, …, fallback] from an object.
function match(prop, table, fallback) {
  const expr = ['match', ['get', prop]];
  for (const [k, v] of Object.entries(table)) expr.push(k, v);
  expr.push(fallback);
  return expr;
}

// byZoom interpolates linearly between zoom stops [[z, value], …].
function byZoom(stops) {
  return ['interpolate', ['linear'], ['zoom'], ...stops.flat()];
}

// clustered grows a point's radius, given as zoom stops, with the points it
// stands for: at low zooms the server's tiles carry one point per small cell
// with the count of the points it stands for in point_count. (A zoom
// expression must stay at the top, so the growth goes into each stop.)
function clustered(stops) {
  const grow = ['*', 1.5, ['ln', ['coalesce', ['get', 'point_count'], 1]]];
  return byZoom(stops.map(([z, r]) => [z, ['+', r, grow]]));
}

const riskSortKey = match('level', { red: 4, orange: 3, yellow: 2, blue: 1 }, 0);

// Style layers per data layer, bottom to top within the layer.
const LAYER_STYLES = {
  grids: () => {
    const fills = Object.entries(GRID_LEVELS).map(([level, s]) => ({
      id: `grids-fill-${level}`,
      type: 'fill',
      minzoom: s.minzoom,
      filter: ['==', ['get', 'level'], level],
      paint: { 'fill-color': s.fill, 'fill-opacity': s.fillOpacity },
    }));
    // Outlines fine to coarse, so the county line is drawn over the rest.
    const lines = Object.entries(GRID_LEVELS).reverse().map(([level, s]) => ({
      id: `grids-line-${level}`,
      type: 'line',
      minzoom: s.minzoom,
      filter: ['==', ['get', 'level'], level],
      layout: { 'line-join': 'round' },
      paint: { 'line-color': s.line, 'line-width': byZoom([[8, s.width[0]], [14, s.width[1]]]) },
    }));
    return [...fills, ...lines];
  },
  cameras: () => [{
    id: 'cameras',
    type: 'circle',
    paint: {
      'circle-color': match('status', CAMERA_COLOURS, UNKNOWN),
      'circle-radius': clustered([[8, 1.3], [13, 3], [17, 5]]),
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': byZoom([[12, 0], [14, 0.8]]),
    },
  }],
  stations: () => [{
    id: 'stations',
    type: 'circle',
    paint: {
      'circle-color': match('kind', STATION_COLOURS, STATION_OTHER),
      'circle-radius': byZoom([
        [8, match('level', { county: 6, township: 5 }, 3.5)],
        [14, match('level', { county: 10, township: 9 }, 7.5)],
      ]),
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1.5,
    },
  }],
  households: () => [{
    id: 'households',
    type: 'circle',
    layout: { 'circle-sort-key': riskSortKey },
    paint: {
      'circle-color': match('level', RISK_COLOURS, UNKNOWN),
      'circle-radius': clustered([[8, 2], [13, 3.5], [17, 6]]),
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1,
    },
  }],
  risk_points: () => [{
    id: 'risk_points',
    type: 'circle',
    layout: { 'circle-sort-key': riskSortKey },
    paint: {
      'circle-color': match('level', RISK_COLOURS, UNKNOWN),
      'circle-radius': clustered([[8, 3], [13, 5.5], [17, 8]]),
      'circle-stroke-color': 'rgba(40, 20, 20, 0.55)',
      'circle-stroke-width': 0.8,
    },
  }],
};

/** DRAW_ORDER lists the known data layers bottom to top. */
export const DRAW_ORDER = ['grids', 'cameras', 'stations', 'households', 'risk_points'];

/**
 * buildStyle returns a MapLibre style for the data layers in `layers` (as
 * /api/layers returns them). Unknown layer ids are skipped. tileURL must be
 * absolute (MapLibre resolves tile templates only against absolute URLs);
 * bounds is [minLon, minLat, maxLon, maxLat] in WGS-84 and limits which
 * tiles are requested.
 */
export function buildStyle({ layers, tileURL, bounds, attribution }) {
  const byId = new Map(layers.map((l) => [l.id, l]));
  const styleLayers = [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } }];
  for (const id of DRAW_ORDER) {
    const layer = byId.get(id);
    if (!layer) continue;
    for (const sl of LAYER_STYLES[id]()) {
      const out = { ...sl, source: SOURCE, 'source-layer': id, metadata: { [META_LAYER]: id } };
      // The server's min_zoom for the layer wins over a lower style minzoom.
      if (layer.min_zoom > (out.minzoom ?? 0)) out.minzoom = layer.min_zoom;
      styleLayers.push(out);
    }
  }
  const source = { type: 'vector', tiles: [tileURL], minzoom: 0, maxzoom: 16 };
  if (bounds) source.bounds = padBounds(bounds, 0.02);
  if (attribution) source.attribution = attribution;
  return { version: 8, name: 'OneMap', sources: { [SOURCE]: source }, layers: styleLayers };
}

// padBounds widens b by d degrees on each side, within the valid range.
function padBounds([w, s, e, n], d) {
  return [Math.max(-180, w - d), Math.max(-85.0511, s - d), Math.min(180, e + d), Math.min(85.0511, n + d)];
}

/** styleLayerIds returns the ids of the style layers drawn for data layer id. */
export function styleLayerIds(style, id) {
  return style.layers.filter((l) => l.metadata?.[META_LAYER] === id).map((l) => l.id);
}
