// The map style comes from the server (/styles/{tileset}.json, api/style.go):
// one source of colours for every client, cut for the caller's role, so a
// layer the role may not see never gets a style layer. The client only adds
// to it: its tiles as absolute URLs resolved from the TileJSON, text labels
// drawn with a bundled font (no glyph server), and the filters of the layer
// panel. The legend is read back from the style's own expressions.

import { darkBase, META_BASE, withBasemap } from './basemap.js';
import { bboxOf, interiorPoint } from './geo.js';
import { getJSON } from './http.js';
import { FONT, FONT_URL } from './font.js';

/** SOURCE is the id of the one vector source, the server's "all" tileset. */
export const SOURCE = 'onemap';

/** META_LAYER is the metadata key that ties a style layer to a data layer. */
export const META_LAYER = 'onemap:layer';

/** META_CENTER is the style's metadata key of its tileset's centre, [lon, lat, zoom] (fetchStyle). */
export const META_CENTER = 'onemap:center';

// FONT, the bundled label font's name in the style's font-faces, comes from
// font.js, the font's one source.
export { FONT } from './font.js';

/** FILTER_FIELDS are the fields the layer panel filters on, where a layer has them. */
export const FILTER_FIELDS = ['level', 'kind', 'status'];

/**
 * fetchStyle loads the server's style for a tileset and resolves its
 * TileJSON, so that the style holds absolute tile URLs and the bounds, and
 * MapLibre asks for no TileJSON of its own. Any failure throws (http.js's
 * HttpError for a refusal).
 */
export async function fetchStyle(tileset = 'all', fetchJSON = getJSON) {
  const style = await fetchJSON(`/styles/${encodeURIComponent(tileset)}.json`);
  for (const [id, src] of Object.entries(style.sources ?? {})) {
    if (src.type !== 'vector' || !src.url) continue;
    const tj = await fetchJSON(src.url);
    const { url: _url, ...rest } = src;
    style.sources[id] = {
      ...rest,
      tiles: tj.tiles,
      minzoom: tj.minzoom ?? 0,
      maxzoom: tj.maxzoom ?? 16,
      ...(tj.bounds ? { bounds: tj.bounds } : {}),
      ...(tj.attribution ? { attribution: tj.attribution } : {}),
    };
    // Where the tileset's TileJSON would open the map ([lon, lat, zoom]),
    // for a page that opens there (MapLibre ignores metadata).
    if (tj.center && id === SOURCE) style.metadata = { ...style.metadata, [META_CENTER]: tj.center };
  }
  // Points drawn as shapes and badges, a vector base map styled under the
  // data (basemap.js).
  return withBasemap(withSymbols(style), FONT_URL);
}

/** styleLayerIds returns the ids of the style layers drawn for data layer id. */
export function styleLayerIds(style, id) {
  return style.layers.filter((l) => l.metadata?.[META_LAYER] === id).map((l) => l.id);
}

/** dataLayerIds returns the data layers a style draws, bottom to top. */
export function dataLayerIds(style) {
  const out = [];
  for (const l of style.layers) {
    const id = l.metadata?.[META_LAYER];
    if (id && !out.includes(id)) out.push(id);
  }
  return out;
}

// matchPairs reads ["match", ["get", field], k1, v1, …, fallback].
function matchPairs(expr) {
  if (!Array.isArray(expr) || expr[0] !== 'match' || !Array.isArray(expr[1]) || expr[1][0] !== 'get') return null;
  const pairs = [];
  for (let i = 2; i + 1 < expr.length - 1; i += 2) {
    for (const k of Array.isArray(expr[i]) ? expr[i] : [expr[i]]) pairs.push([k, expr[i + 1]]);
  }
  return { field: expr[1][1], pairs, fallback: expr[expr.length - 1] };
}

// levelOf reads ["==", ["get", field], value] filters.
function eqFilter(filter) {
  if (Array.isArray(filter) && filter[0] === '==' && Array.isArray(filter[1]) && filter[1][0] === 'get') {
    return { field: filter[1][1], value: filter[2] };
  }
  return null;
}

/**
 * legendOf reads the legend of data layer id from the style: which field its
 * colour follows and the colour of each value. Polygons drawn one style layer
 * per value (grids per level) give a line colour and a fill per value; points
 * give a dot colour per value of their "match" expression and one for any
 * other value. It returns null when the style draws the layer otherwise.
 */
export function legendOf(style, id) {
  const layers = style.layers.filter((l) => l.metadata?.[META_LAYER] === id);
  // A point layer: a circle, or a symbol drawn from one (withSymbols), which
  // keeps the circle's colours and names its shape.
  const circle = layers.find((l) => l.type === 'circle' || l.metadata?.[META_COLOUR]);
  if (circle) {
    const m = matchPairs(circle.metadata?.[META_COLOUR] ?? circle.paint?.['circle-color']);
    if (!m) return null;
    return {
      field: m.field,
      shape: circle.metadata?.[META_SHAPE] ?? 'dot',
      entries: m.pairs.map(([value, colour]) => ({ value, colour })),
      other: typeof m.fallback === 'string' ? m.fallback : null,
    };
  }
  const byValue = new globalThis.Map();
  let field = null;
  for (const l of layers) {
    const f = eqFilter(l.filter);
    if (!f) continue;
    field ??= f.field;
    const e = byValue.get(f.value) ?? { value: f.value };
    if (l.type === 'fill') e.fill = l.paint?.['fill-color'];
    if (l.type === 'line') {
      e.colour = l.paint?.['line-color'];
      const w = l.paint?.['line-width'];
      e.width = Array.isArray(w) ? w[w.length - 1] : w;
    }
    byValue.set(f.value, e);
  }
  if (!field) return null;
  return { field, shape: 'line', entries: [...byValue.values()], other: null };
}

/**
 * filterExpr returns the filter of a style layer whose own filter is base,
 * keeping only features whose fields hold one of the chosen values:
 * chosen is {field: [values] | null}, null (or absent) meaning any value.
 */
export function filterExpr(base, chosen) {
  const conds = [];
  for (const [field, values] of Object.entries(chosen ?? {})) {
    if (!values) continue;
    conds.push(['in', ['coalesce', ['get', field], ''], ['literal', [...values]]]);
  }
  if (!conds.length) return base ?? null;
  return base ? ['all', base, ...conds] : conds.length === 1 ? conds[0] : ['all', ...conds];
}

// Labels: where each kind of name is drawn, and how.
const HALO = { 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.4 };
const LABELS = [
  { layer: 'grids', level: 'township', minzoom: 8.5, maxzoom: 12, size: [[9, 13], [12, 16]], colour: '#4a3a26' },
  { layer: 'grids', level: 'village', minzoom: 11, maxzoom: 14.5, size: [[11, 11], [14, 13]], colour: '#5d5243' },
  { layer: 'grids', level: 'group', minzoom: 14, maxzoom: 24, size: [[14, 10.5], [17, 12]], colour: '#6f6456' },
  { layer: 'stations', minzoom: 14, maxzoom: 24, size: [[14, 11], [17, 12.5]], colour: '#263238', offset: true },
];

/** PLACES is the GeoJSON source of the townships' and villages' label points. */
export const PLACES = 'places';

/**
 * GROUP_LABELS is the GeoJSON source of the groups' label points, one per
 * group, which the page fills from the tiles in view (groupLabelPoints).
 */
export const GROUP_LABELS = 'group-labels';

/**
 * placesGeoJSON turns the answer of /api/public/places (townships with
 * their villages, each with a point inside it) into label points.
 */
export function placesGeoJSON(places) {
  const features = [];
  const add = (p, level) => features.push({
    type: 'Feature', id: p.id, geometry: { type: 'Point', coordinates: [p.lon, p.lat] }, properties: { name: p.name, level },
  });
  for (const t of places?.townships ?? []) {
    add(t, 'township');
    for (const v of t.villages ?? []) add(v, 'village');
  }
  return { type: 'FeatureCollection', features };
}

/**
 * withLabels returns the style with text labels of grids and stations on
 * top, drawn with the bundled font (fontURL: font.js's FONT_URL, or an
 * absolute URL for a client of its own) through the style's
 * font-faces: MapLibre renders their glyphs in the browser, so the style
 * has no glyphs URL and nothing is fetched but the font, once. Layers the
 * style does not draw get no labels, nor those listed in skip. With places
 * (placesGeoJSON), townships and villages are labelled once each at their
 * point: a label of a polygon from the tiles would repeat in every tile the
 * polygon spans. With groupLabels, so are groups, at the points of the
 * GROUP_LABELS source.
 */
export function withLabels(style, fontURL, { dark = false, skip = [], places = null, groupLabels = false } = {}) {
  const has = new Set(dataLayerIds(style));
  const labels = [];
  const sources = { ...style.sources };
  if (places) sources[PLACES] = { type: 'geojson', data: places };
  if (groupLabels) sources[GROUP_LABELS] = { type: 'geojson', data: { type: 'FeatureCollection', features: [] } };
  for (const l of LABELS) {
    if (!has.has(l.layer) || skip.includes(l.layer)) continue;
    const fromPlaces = places && l.layer === 'grids' && (l.level === 'township' || l.level === 'village');
    const fromGroups = groupLabels && l.layer === 'grids' && l.level === 'group';
    const layout = {
      'text-field': ['get', 'name'],
      'text-font': [FONT],
      'text-size': ['interpolate', ['linear'], ['zoom'], ...l.size.flat()],
      'text-max-width': 8,
      'text-padding': 4,
    };
    if (l.offset) Object.assign(layout, { 'text-anchor': 'top', 'text-offset': [0, 0.8], 'text-optional': true });
    const label = {
      id: `label-${l.layer}${l.level ? `-${l.level}` : ''}`,
      type: 'symbol',
      ...(fromPlaces ? { source: PLACES } : fromGroups ? { source: GROUP_LABELS } : { source: SOURCE, 'source-layer': l.layer }),
      minzoom: l.minzoom,
      maxzoom: l.maxzoom,
      layout,
      paint: dark
        ? { 'text-color': '#e6edf3', 'text-halo-color': 'rgba(10,20,30,0.85)', 'text-halo-width': 1.4 }
        : { 'text-color': l.colour, ...HALO },
      metadata: { [META_LAYER]: l.layer, 'onemap:label': true },
    };
    const filters = [['has', 'name']];
    if (l.level) filters.push(['==', ['get', 'level'], l.level]);
    // A clustered point's name is one of many: no label.
    if (l.layer === 'stations') filters.push(['!', ['has', 'point_count']]);
    label.filter = ['all', ...filters];
    labels.push(label);
  }
  // The counts under the names: a symbol layer higher up is placed first,
  // and the townships' names matter more than a cluster's count.
  const out = { ...style, sources, layers: [...style.layers, ...clusterCounts(style), ...labels] };
  delete out.glyphs;
  out['font-faces'] = { [FONT]: fontURL };
  return out;
}

// CLUSTER_COUNT_MIN is the least count a clustered point shows as a number,
// CLUSTER_COUNT_ZOOM the least zoom (over the whole county the numbers would
// crowd out the places' names).
const CLUSTER_COUNT_MIN = 5;
const CLUSTER_COUNT_ZOOM = 10;

// countText writes a cluster's count short: 37, 1.2千, 1.5万.
const POINT_COUNT = ['coalesce', ['get', 'point_count'], 1];
const countText = ['case',
  ['>=', POINT_COUNT, 10000], ['concat', ['to-string', ['/', ['round', ['/', POINT_COUNT, 1000]], 10]], '万'],
  ['>=', POINT_COUNT, 1000], ['concat', ['to-string', ['/', ['round', ['/', POINT_COUNT, 100]], 10]], '千'],
  ['to-string', POINT_COUNT]];

// clusterCounts returns a symbol layer over each point layer of style that
// writes how many points a clustered point stands for (from
// CLUSTER_COUNT_MIN on), so that a cluster does not look like one point.
// It shares its point layer's data layer (META_LAYER), so the panel's
// switches and filters act on both.
function clusterCounts(style) {
  const counted = (l) => l['source-layer'] && l.metadata?.[META_LAYER] && !l.metadata?.[META_QUIET] &&
    (l.type === 'circle' || l.metadata?.[META_CLUSTER]);
  return style.layers.filter(counted).map((l) => {
    // Inside a cluster's white centre the count is dark, over a dot white.
    const ring = Boolean(l.metadata?.[META_CLUSTER]);
    return {
      id: `count-${l.id}`,
      type: 'symbol',
      source: l.source,
      'source-layer': l['source-layer'],
      minzoom: Math.max(l.minzoom ?? 0, CLUSTER_COUNT_ZOOM),
      ...(l.maxzoom !== undefined ? { maxzoom: l.maxzoom } : {}),
      filter: ['all', ...(l.filter ? [l.filter] : []), ['>=', POINT_COUNT, CLUSTER_COUNT_MIN]],
      layout: { 'text-field': countText, 'text-font': [FONT], 'text-size': ring ? 10.5 : 9.5, 'text-padding': ring ? 1 : 0,
        ...(ring ? { 'text-offset': [0, l.metadata[META_SHAPE] === 'triangle' ? 0.25 : 0], 'symbol-sort-key': ['-', 0, POINT_COUNT] } : {}) },
      paint: ring
        ? { 'text-color': '#1f2328', 'text-halo-color': 'rgba(255, 255, 255, 0.9)', 'text-halo-width': 0.8 }
        : { 'text-color': '#ffffff', 'text-halo-color': 'rgba(0, 0, 0, 0.45)', 'text-halo-width': 0.8 },
      metadata: { [META_LAYER]: l.metadata[META_LAYER], 'onemap:label': true },
    };
  });
}

/**
 * groupLabelPoints returns one label point per group among features (the
 * groups' pieces in the tiles in view, as querySourceFeatures gives them): at
 * a point inside its largest piece, so that a group the tiles cut in several
 * is labelled once, not once a tile. With view ([west, south, east, north]),
 * only pieces whose point lies in it count, so that the label is on screen
 * when any of the group's pieces can carry it.
 */
export function groupLabelPoints(features, view = null) {
  const inView = ([x, y]) => !view || (x >= view[0] && x <= view[2] && y >= view[1] && y <= view[3]);
  const largest = new globalThis.Map();
  for (const f of features) {
    const id = f.id ?? f.properties?.id;
    if (id === undefined || id === null || !f.properties?.name) continue;
    const b = bboxOf(f.geometry);
    const size = b ? (b[2] - b[0]) * (b[3] - b[1]) : 0;
    const best = largest.get(id);
    if (best && size <= best.size) continue;
    const at = interiorPoint(f.geometry);
    if (at && inView(at)) largest.set(id, { f, size, at });
  }
  const out = [];
  for (const [id, { f, at }] of [...largest].sort((a, b) => a[0] - b[0])) {
    out.push({ type: 'Feature', id, geometry: { type: 'Point', coordinates: at }, properties: { name: f.properties.name, level: f.properties.level } });
  }
  return { type: 'FeatureCollection', features: out };
}

/**
 * darkStyle returns the style for the control-room wall: a dark ground and
 * grid fills, the same point colours, and the same colours of fills and
 * lines coloured by a value (hazard zones by level: 红橙黄蓝 is what they say).
 */
export function darkStyle(style) {
  return {
    ...style,
    layers: style.layers.map((l) => {
      if (l.metadata?.[META_BASE] || l.type === 'raster') return darkBase(l);
      if (l.type === 'background') return { ...l, paint: { ...l.paint, 'background-color': '#0b1620' } };
      if (l.type === 'fill' && !matchPairs(l.paint?.['fill-color'])) return { ...l, paint: { ...l.paint, 'fill-color': '#16324a' } };
      if (l.type === 'line' && !matchPairs(l.paint?.['line-color'])) return { ...l, paint: { ...l.paint, 'line-color': '#5b7a99' } };
      return l;
    }),
  };
}

// The colours of the style in use, by layer, field and value, for the
// counts that cards and panels colour (set once the style is loaded).
const colours = new globalThis.Map();

/** useColours takes the legend colours of every data layer of a style. */
export function useColours(style) {
  colours.clear();
  for (const id of dataLayerIds(style)) {
    const lg = legendOf(style, id);
    if (lg) colours.set(id, { field: lg.field, byValue: Object.fromEntries(lg.entries.map((e) => [e.value, e.colour])), other: lg.other });
  }
}

/** colourOf returns the colour the style in use gives value of field of layer, or undefined. */
export function colourOf(layer, field, value) {
  const c = colours.get(layer);
  if (!c || c.field !== field) return undefined;
  return c.byValue[value] ?? undefined;
}

// Point symbology (withSymbols): what each data layer's points look like.

/** META_COLOUR is the metadata key of a symbol layer's colours, the match expression of the circle it replaced. */
export const META_COLOUR = 'onemap:colour';

/** META_SHAPE is the metadata key of a point layer's shape in the legend: triangle, square, badge or dot. */
export const META_SHAPE = 'onemap:shape';

/** META_CLUSTER marks a style layer that draws a point layer's clusters as rings (of their mix where the tiles give it). */
export const META_CLUSTER = 'onemap:cluster';

/** META_QUIET marks a point layer drawn small and muted, without counts (cameras). */
export const META_QUIET = 'onemap:quiet';

/** META_MINZOOM is the metadata key of the zoom below which a point layer (cameras, households) is off unless switched on. */
export const META_MINZOOM = 'onemap:minzoom';

/** CAMERA_MINZOOM is the zoom below which cameras are not drawn unless switched on. */
export const CAMERA_MINZOOM = 13;

/**
 * HOUSEHOLD_MINZOOM is the zoom below which the risk households' squares
 * and their clusters are not drawn unless switched on: at the county view
 * the 2,400 households' squares sat on the risk points and on one another
 * (over half of the hazard symbols covered another on the command map,
 * e2e/picture.test.mjs measures it); from zoom 11 they separate. Their
 * counts by level stay in the layer panel, the wall's on its 重大 card.
 */
export const HOUSEHOLD_MINZOOM = 11;

// The shape of each hazard layer's points; stations are badges by kind.
const SHAPES = { risk_points: 'triangle', households: 'square' };
const SDF_ICON = { triangle: 'om-tri', square: 'om-square' };
// How large a single shape is (×14 px) by zoom, per layer. Below zoom 8
// (the whole county on a phone) smaller still, or they cover the county.
const SHAPE_SIZE = { risk_points: [[6.5, 0.4], [8, 0.6], [12, 0.8], [16, 1.25]], households: [[6.5, 0.35], [8, 0.5], [12, 0.68], [16, 1.05]] };
// RING_STEPS is how finely a cluster's ring is cut: shares in 24ths.
const RING_STEPS = 24;

/** STATION_GREY is the neutral colour of a station cluster's ring where no kind is counted. */
const STATION_GREY = '#546e7a';

/** STATION_RING is the image of a clustered point of stations whose tiles count no kinds: a ring of one neutral colour (icons.js). */
export const STATION_RING = `om-ring:circle:${STATION_GREY.slice(1)}=${RING_STEPS}`;

/** isPointLayer says whether a style layer draws a data layer's points (a circle or a symbol that is not a label). */
export function isPointLayer(l) {
  return Boolean(l.metadata?.[META_LAYER]) && !l.metadata?.['onemap:label'] && (l.type === 'circle' || l.type === 'symbol');
}

const HAS_COUNT = ['has', 'point_count'];
const levelCount = (level, prefix = 'point_count_') => ['coalesce', ['get', `${prefix}${level}`], 0];

/** KIND_COUNT starts the tiles' counts of a station cluster's kinds: point_count_kind_clinic, … (tiles.CountByPrefix). */
export const KIND_COUNT = 'point_count_kind_';

/**
 * ringImageName returns the expression of a cluster's image name (icons.js
 * om-ring:SHAPE:RRGGBB=N,…): for each level of the colour match
 * (["match", ["get", "level"], level, colour, …, other]) its share of the
 * cluster in RING_STEPS ths, from the tiles' point_count_LEVEL, at least
 * one step for a level that is there at all (27 重大 among 900 still show),
 * and the rest in the other colour. With prefix and other (stations:
 * KIND_COUNT and their neutral grey), the same by the values of another
 * field (the tiles' point_count_kind_KIND), the rest (of no listed value,
 * or all of a cluster whose tiles count none) in other.
 */
export function ringImageName(shape, colourMatch, prefix = 'point_count_', otherColour = null) {
  const m = matchPairs(colourMatch);
  const pairs = m ? m.pairs : [];
  const share = (n) => ['case', ['>', n, 0], ['max', 1, ['round', ['*', RING_STEPS, ['/', n, POINT_COUNT]]]], 0];
  const parts = [];
  for (const [level, colour] of pairs) {
    if (parts.length) parts.push(',');
    parts.push(`${String(colour).replace('#', '')}=`, ['to-string', share(levelCount(level, prefix))]);
  }
  const rest = ['-', POINT_COUNT, ['+', 0, ...pairs.map(([level]) => levelCount(level, prefix))]];
  const other = otherColour ?? (typeof m?.fallback === 'string' ? m.fallback : '#757575');
  parts.push(`${parts.length ? ',' : ''}${other.replace('#', '')}=`, ['to-string', share(rest)]);
  return ['concat', `om-ring:${shape}:`, ...parts];
}

// byZoomStops is ["interpolate", ["linear"], ["zoom"], z, v × f, …]; f a
// number or an expression (a number times an array was NaN, which MapLibre
// took as no size: every cluster ring was drawn at its full 30 px).
const byZoomStops = (stops, f = 1) => ['interpolate', ['linear'], ['zoom'],
  ...stops.flatMap(([z, v]) => [z, typeof v === 'number' && typeof f === 'number' ? v * f : ['*', v, f]])];

/**
 * withSymbols returns the style with the points of the server's circle
 * layers drawn so that hazards read first: risk points as triangles and
 * risk households as squares in 红橙黄蓝 by level (the only layers that use
 * those colours), each cluster as its layer's shape ringed by the share of
 * each level it holds (the tiles' point_count_LEVEL), stations as badges of
 * their kind's colour with its pictogram (their clusters ringed by the
 * share of each kind in its colour), and cameras small and muted from
 * zoom CAMERA_MINZOOM on. The images are icons.js's, drawn in the browser
 * as the map asks for them. Layers it does not know are left as they are.
 */
export function withSymbols(style) {
  const layers = [];
  for (const l of style.layers) {
    const id = l.metadata?.[META_LAYER];
    if (l.type !== 'circle' || !id || !l['source-layer']) {
      layers.push(l);
      continue;
    }
    const colour = l.paint?.['circle-color'];
    const base = { source: l.source, 'source-layer': l['source-layer'],
      ...(l.minzoom !== undefined ? { minzoom: l.minzoom } : {}), ...(l.maxzoom !== undefined ? { maxzoom: l.maxzoom } : {}) };
    const only = (f) => (l.filter ? ['all', l.filter, f] : f);
    const shape = SHAPES[id];
    if (shape) {
      const sortKey = l.layout?.['circle-sort-key'];
      // Households from HOUSEHOLD_MINZOOM on, unless switched on (META_MINZOOM).
      const from = id === 'households' ? { minzoom: Math.max(l.minzoom ?? 0, HOUSEHOLD_MINZOOM) } : {};
      const late = id === 'households' ? { [META_MINZOOM]: HOUSEHOLD_MINZOOM } : {};
      layers.push({
        ...base, ...from, id: l.id, type: 'symbol', filter: only(['!', HAS_COUNT]),
        layout: { 'icon-image': SDF_ICON[shape], 'icon-size': byZoomStops(SHAPE_SIZE[id]), 'icon-allow-overlap': true,
          'icon-ignore-placement': true, ...(sortKey ? { 'symbol-sort-key': sortKey } : {}) },
        paint: { 'icon-color': colour, 'icon-halo-color': 'rgba(255, 255, 255, 0.95)', 'icon-halo-width': 1.3 },
        metadata: { ...l.metadata, [META_COLOUR]: colour, [META_SHAPE]: shape, ...late },
      });
      const grow = ['min', 1.6, ['+', 0.8, ['*', 0.09, ['ln', POINT_COUNT]]]];
      layers.push({
        ...base, ...from, id: `${l.id}-cluster`, type: 'symbol', filter: only(HAS_COUNT),
        layout: { 'icon-image': ringImageName(shape, colour), 'icon-size': byZoomStops([[6.5, 0.3], [8, 0.48], [12, 0.72], [16, 0.95]], grow),
          'icon-allow-overlap': true, 'icon-ignore-placement': true, 'symbol-sort-key': levelCount('red') },
        metadata: { ...l.metadata, [META_COLOUR]: undefined, [META_CLUSTER]: true, [META_SHAPE]: shape, ...late },
      });
      continue;
    }
    if (id === 'stations') {
      const big = (county, township, village) => ['match', ['get', 'level'], 'county', county, 'township', township, village];
      // A clustered point stands for stations of several kinds: a ring cut
      // by the share of each kind in the kind's colour (the tiles'
      // point_count_kind_KIND), not the badge of the one it is drawn at, and
      // (command map) its count inside; where the tiles count no kinds, a
      // ring of the neutral grey (STATION_RING's). One layer, so that the
      // pages' filters and clicks on "stations" take both.
      const ring = (z) => ['*', z < 8 ? 0.4 : 0.62 + 0.06 * (z - 8) / 4, ['min', 1.5, ['+', 0.8, ['*', 0.12, ['ln', POINT_COUNT]]]]];
      const size = (z, single) => ['case', HAS_COUNT, ring(z), single];
      layers.push({
        ...base, id: l.id, type: 'symbol', ...(l.filter ? { filter: l.filter } : {}),
        layout: { 'icon-image': ['case', HAS_COUNT, ringImageName('circle', colour, KIND_COUNT, STATION_GREY), ['concat', 'om-st:', ['coalesce', ['get', 'kind'], ''], ':', colour]],
          'icon-size': ['interpolate', ['linear'], ['zoom'], 6.5, size(6.5, big(0.45, 0.4, 0.35)), 8, size(8, big(0.7, 0.6, 0.5)), 13, size(12, big(0.9, 0.8, 0.7)), 16, size(16, big(1.1, 1, 0.95))],
          'icon-allow-overlap': true, 'icon-ignore-placement': true },
        metadata: { ...l.metadata, [META_COLOUR]: colour, [META_SHAPE]: 'badge', [META_CLUSTER]: true },
      });
      continue;
    }
    if (id === 'cameras') {
      layers.push({
        ...l, minzoom: Math.max(l.minzoom ?? 0, CAMERA_MINZOOM),
        paint: { ...l.paint,
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, ['+', 1.2, ['*', 0.4, ['ln', POINT_COUNT]]], 13, ['+', 1.8, ['*', 0.5, ['ln', POINT_COUNT]]], 17, ['+', 3.6, ['*', 0.6, ['ln', POINT_COUNT]]]],
          'circle-opacity': 0.8, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 14, 0, 16, 0.8] },
        metadata: { ...l.metadata, [META_QUIET]: true, [META_MINZOOM]: CAMERA_MINZOOM },
      });
      continue;
    }
    layers.push(l);
  }
  // Metadata keys set to undefined are dropped (a cluster layer has no legend colours).
  for (const l of layers) if (l.metadata) for (const k of Object.keys(l.metadata)) if (l.metadata[k] === undefined) delete l.metadata[k];
  return { ...style, layers };
}
