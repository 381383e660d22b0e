// E-bike tags (电动车防盗标签) on the command map: the live layer of their
// last positions (the server's /tiles/tags, clustered below zoom 12; drawn
// from TAG_MINZOOM, where they no longer crowd the county view), for the
// roles that may see tags. A tag that moves comes as a "tag" event on the
// page's one event stream (command/live.js); the layer's tiles are then
// asked for again, at most once a second.

/** TAG_ROLES are the roles the server shows tags to (README: E-bike tags). */
export const TAG_ROLES = ['operator', 'commander'];

/** TAG_SOURCE is the map source of the tags layer. */
export const TAG_SOURCE = 'om-tags';

/**
 * TAG_MINZOOM is the zoom from which the tags are drawn (and their tiles
 * asked for). At the county view their clusters' teal discs sat over the
 * hazards (e2e/picture.test.mjs measures the crowding); a tag is an e-bike
 * to follow close in, not a hazard to see from the county.
 */
export const TAG_MINZOOM = 12;

/** tagLayers returns the style layers of the tags: clusters, then tags, then their codes close in; none below TAG_MINZOOM. */
export function tagLayers(font) {
  const colour = '#00838f';
  return [
    { id: 'om-tags-clusters', type: 'circle', source: TAG_SOURCE, 'source-layer': 'tags', filter: ['has', 'point_count'], minzoom: TAG_MINZOOM,
      paint: { 'circle-color': colour, 'circle-opacity': 0.75, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5,
        'circle-radius': ['interpolate', ['linear'], ['get', 'point_count'], 2, 7, 50, 13, 300, 18] } },
    { id: 'om-tags', type: 'circle', source: TAG_SOURCE, 'source-layer': 'tags', filter: ['!', ['has', 'point_count']], minzoom: TAG_MINZOOM,
      paint: { 'circle-color': colour, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 3, 16, 6],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 } },
    ...(font ? [{ id: 'om-tags-codes', type: 'symbol', source: TAG_SOURCE, 'source-layer': 'tags', minzoom: 15,
      filter: ['!', ['has', 'point_count']],
      layout: { 'text-field': ['get', 'code'], 'text-font': [font], 'text-size': 11, 'text-offset': [0, 1.1], 'text-anchor': 'top' },
      paint: { 'text-color': '#006064', 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.2 } }] : []),
  ];
}

/**
 * createTags adds the tags layer to page.map for a role that may see tags
 * (null for the others). It returns {state, moved}: moved(event) takes a
 * "tag" event ({tags: [{code, position, at, …}]}); state is what tests read
 * ({moves, last}).
 */
export function createTags(page, session, { origin = globalThis.location?.origin, font } = {}) {
  if (!session || !TAG_ROLES.includes(session.role)) return null;
  const { map } = page;
  const state = { moves: 0, last: null, refreshed: 0 };
  const add = () => {
    if (map.getSource(TAG_SOURCE)) return;
    // An absolute template: MapLibre fetches nothing for a relative one.
    map.addSource(TAG_SOURCE, { type: 'vector', tiles: [`${origin}/tiles/tags/{z}/{x}/{y}.mvt`], minzoom: TAG_MINZOOM, maxzoom: 16 });
    for (const l of tagLayers(font)) map.addLayer(l);
  };
  if (map.loaded()) add();
  else map.once('load', add);
  let timer = null;
  const refresh = () => {
    timer = null;
    if (map.getSource(TAG_SOURCE)) {
      map.refreshTiles(TAG_SOURCE);
      state.refreshed++;
    }
  };
  function moved(e) {
    const tags = e?.tags ?? [];
    if (!tags.length) return;
    state.moves += tags.length;
    state.last = tags[tags.length - 1];
    timer ??= setTimeout(refresh, 1000);
  }
  return { state, moved };
}
