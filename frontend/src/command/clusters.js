// The layer panel's filters over clustered points (the command map), kept
// apart from the map so that they can be tested without a browser. Below
// zoom 14 the tiles gather nearby points into one that stands for several:
// it carries the fields of the point it is drawn at (the most severe) and,
// for some fields, how many of each value it holds (the tiles'
// point_count_LEVEL for a layer's levels, point_count_kind_KIND for the
// stations' kinds). A filter on the point's own value would drop a cluster
// that holds a 黄色 risk point but is drawn at a 红色 one, and keep one drawn
// at a 红色 point with its ring and its count of every level. So, for a
// field a cluster counts, a cluster shows when it holds one of the chosen
// values, its ring cut by the chosen values alone and its size and count
// those of the chosen values it holds (the same as src/m/kinds.js does on
// the public map). A station cluster holding one station of the chosen
// kinds draws that kind's badge, sized as a single station (as the public
// map does), not a ring round one. A field a cluster does not count (a risk
// point's kind, a camera's status) is filtered by the value of the point it
// is drawn at.

import { filterExpr } from '../style.js';

const HAS_COUNT = ['has', 'point_count'];

// COUNTED lists, per data layer, the fields whose values its clusters count
// (the server's layer.go: a clustered layer's level, ClusterCountBy) and
// the one its rings are cut by (style.js withSymbols).
// badge: the layer draws its clusters and single points in one style layer
// (its icon-image ['case', has point_count, cluster's, single's], its
// icon-size telling them apart by has point_count too), and a cluster holding one point of the chosen values of its
// ring's field draws that value's badge, as a single point of it (and as
// src/m/kinds.js draws it), not a ring round one.
const COUNTED = {
  risk_points: { fields: ['level'], ring: 'level' },
  households: { fields: ['level'], ring: 'level' },
  stations: { fields: ['kind', 'level'], ring: 'kind', badge: true },
};

/** countProp returns the tiles' property of how many points of a cluster hold value in field. */
export const countProp = (field, value) => (field === 'level' ? `point_count_${value}` : `point_count_${field}_${value}`);

const countOf = (field, value) => ['coalesce', ['get', countProp(field, value)], 0];

// chosenSum is how many of a cluster's points hold one of values in field.
const chosenSum = (field, values) => ['+', 0, ...values.map((v) => countOf(field, v))];

// countedChoices returns the fields of layer's clusters that count their
// values and have values chosen, as [field, values], the ring's field first.
function countedChoices(layer, chosen) {
  const c = COUNTED[layer];
  if (!c) return [];
  const out = [];
  for (const field of [c.ring, ...c.fields.filter((f) => f !== c.ring)]) {
    const values = chosen?.[field];
    if (values) out.push([field, [...values]]);
  }
  return out;
}

/**
 * clusterFilter returns the filter of a style layer of data layer layer
 * whose own filter is base, with chosen ({field: [values] | null}): a
 * single point whose value is chosen, a cluster holding at least one point
 * of a chosen value for every field it counts (and drawn at a chosen value
 * for a field it does not).
 */
export function clusterFilter(layer, base, chosen) {
  const counted = countedChoices(layer, chosen);
  if (!counted.length) return filterExpr(base, chosen);
  const rest = Object.fromEntries(Object.entries(chosen).filter(([f]) => !counted.some(([c]) => c === f)));
  const holds = (field, values) => ['in', ['coalesce', ['get', field], ''], ['literal', values]];
  const conds = counted.map(([field, values]) => ['case', HAS_COUNT, ['>', chosenSum(field, values), 0], holds(field, values)]);
  const others = filterExpr(undefined, rest);
  // A count layer's least count (style.js clusterCounts) is of the chosen values.
  const [field, values] = counted[0];
  const own = base ? countSwap(base, field, values, null) : null;
  const all = [...(own ? [own] : []), ...conds, ...(others ? [others] : [])];
  return all.length === 1 ? all[0] : ['all', ...all];
}

// countSwap returns expression e with a cluster's count (point_count) read
// as how many of its points hold one of values in field and, with zeroed
// (a field), its counts of the other values of that field as 0.
function countSwap(e, field, values, zeroed) {
  const sum = ['case', HAS_COUNT, chosenSum(field, values), 1];
  const prefix = zeroed ? countProp(zeroed, '') : null;
  const unchosen = (prop) => prefix && prop.startsWith(prefix) && !values.some((v) => prop === countProp(field, v));
  const swap = (x) => {
    if (!Array.isArray(x)) return x;
    if (x[0] === 'get' && x.length === 2 && x[1] === 'point_count') return sum;
    if (x[0] === 'get' && x.length === 2 && typeof x[1] === 'string' && unchosen(x[1])) return 0;
    return x.map(swap);
  };
  return swap(e);
}

// LAYOUT are the layout properties whose expressions read a cluster's count.
const LAYOUT = ['icon-image', 'icon-size', 'text-field', 'symbol-sort-key'];

/**
 * clusterLayout returns the layout properties of a style layer of data
 * layer layer, whose own layout is base, with chosen: {property: value},
 * the properties to set (each base's where nothing counted is chosen).
 * A cluster's count (point_count) reads as how many of the chosen values
 * it holds: of the ring's field where it is chosen (and the ring shows
 * those values alone), else of the first counted field chosen (the ring
 * stays the mix of every value). With two counted fields chosen the count
 * is the ring field's: the tiles count each field apart, not together. In a
 * badge layer (COUNTED) a cluster holding one of the ring field's chosen
 * values draws that value's badge at a single point's size.
 */
export function clusterLayout(layer, base, chosen) {
  const out = {};
  const props = LAYOUT.filter((p) => base?.[p] !== undefined);
  const counted = countedChoices(layer, chosen);
  const ring = COUNTED[layer]?.ring;
  for (const p of props) {
    if (!counted.length) {
      out[p] = base[p];
      continue;
    }
    const [field, values] = counted[0];
    // The ring's shares are of the whole cluster unless its own field is chosen.
    if (p === 'icon-image' && field !== ring) {
      out[p] = base[p];
      continue;
    }
    const one = field === ring && COUNTED[layer].badge && splitCase(base['icon-image']);
    if (one && p === 'icon-image') out[p] = oneBadge(countSwap(base[p], field, values, field), one.single, field, values);
    else if (one && p === 'icon-size') out[p] = countSwap(swapHasCount(base[p], ['>', chosenSum(field, values), 1]), field, values, null);
    else out[p] = countSwap(base[p], field, values, field === ring && p === 'icon-image' ? field : null);
  }
  return out;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// splitCase returns {single} of e when e is ['case', has point_count,
// cluster's, single's], the form a badge layer's images are in; else null.
function splitCase(e) {
  return Array.isArray(e) && e[0] === 'case' && e.length === 4 && same(e[1], HAS_COUNT) ? { single: e[3] } : null;
}

// swapHasCount returns e with each test of has point_count read as cond
// (an icon-size: a cluster holding one chosen point sized as a single one).
function swapHasCount(e, cond) {
  if (!Array.isArray(e)) return e;
  if (same(e, HAS_COUNT)) return cond;
  return e.map((x) => swapHasCount(x, cond));
}

// oneBadge returns the icon-image image (the rings of the chosen values)
// with a cluster holding one point of the chosen values in field drawn as
// single (the image of a single point) draws for a point of that value.
function oneBadge(image, single, field, values) {
  const asValue = (e, v) => {
    if (!Array.isArray(e)) return e;
    if (e[0] === 'get' && e.length === 2 && e[1] === field) return v;
    return e.map((x) => asValue(x, v));
  };
  const one = ['all', HAS_COUNT, ['==', chosenSum(field, values), 1]];
  return ['case', ...values.flatMap((v) => [['all', one, ['>', countOf(field, v), 0]], asValue(single, v)]), image];
}
