// The open cases on a map: the vector source of /tiles/cases (the server's
// tile layer "cases": status, category, level, tracking code, overdue, due
// soon, escalated; clustered below zoom 14 with point_count) and its
// layers: a circle per case coloured by status, ringed red when overdue and
// orange when due soon, a count on a cluster. Kept apart from style.js
// (the server's style for the catalogue's layers): the cases are added to a
// map only for the roles that see them.

/** CASE_SOURCE is the id of the cases' vector source. */
export const CASE_SOURCE = 'om-cases';

/** CASE_LAYERS are the ids of the style layers drawing cases, bottom first. */
export const CASE_LAYERS = ['om-cases-points', 'om-cases-counts'];

/** CASE_COLOURS are the status colours of cases on the map and in the lists. */
export const CASE_COLOURS = {
  reported: '#d93025', accepted: '#f29900', assigned: '#1a73e8', handling: '#7b1fa2', feedback: '#188038',
};

/** caseSource returns the vector source of the open cases on the server at origin. */
export function caseSource(origin) {
  return { type: 'vector', tiles: [`${origin}/tiles/cases/{z}/{x}/{y}.mvt`], minzoom: 0, maxzoom: 16 };
}

/** caseLayers returns the style layers of the open cases (font: the text font of the counts). */
export function caseLayers(font) {
  const status = ['match', ['get', 'status'], ...Object.entries(CASE_COLOURS).flat(), '#5f6368'];
  return [{
    id: CASE_LAYERS[0], type: 'circle', source: CASE_SOURCE, 'source-layer': 'cases',
    paint: {
      'circle-color': status,
      'circle-radius': ['case', ['has', 'point_count'], ['interpolate', ['linear'], ['get', 'point_count'], 2, 9, 50, 16, 500, 22], 6],
      'circle-stroke-width': ['case', ['==', ['get', 'overdue'], true], 3, ['==', ['get', 'due_soon'], true], 2.5, 1.5],
      'circle-stroke-color': ['case', ['==', ['get', 'overdue'], true], '#b00020', ['==', ['get', 'due_soon'], true], '#ff9800', '#ffffff'],
    },
  }, {
    id: CASE_LAYERS[1], type: 'symbol', source: CASE_SOURCE, 'source-layer': 'cases', filter: ['has', 'point_count'],
    layout: { 'text-field': ['to-string', ['get', 'point_count']], 'text-font': [font], 'text-size': 11, 'text-allow-overlap': true },
    paint: { 'text-color': '#ffffff' },
  }];
}

/** addCases adds the open cases' source and layers to a loaded map (once). */
export function addCases(map, origin, font) {
  if (map.getSource(CASE_SOURCE)) return;
  map.addSource(CASE_SOURCE, caseSource(origin));
  for (const l of caseLayers(font)) map.addLayer(l);
}
