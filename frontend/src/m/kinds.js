// The public map's stations of one kind (the kind chosen in the chips), kept
// apart from the map so that they can be tested without a browser. Below
// zoom 14 the tiles gather nearby stations into one point that stands for
// several kinds: it carries the kind of the station it is drawn at and, per
// kind, how many it holds (point_count_kind_KIND, style.js KIND_COUNT). So a
// filter on the point's own kind would drop a cluster that holds a 卫生室
// but is drawn at a 警务室, and keep one drawn at a 卫生室 with its ring cut
// by every kind inside. With a kind chosen, a cluster shows when it holds
// that kind, as a ring of that kind's colour alone sized by how many of the
// kind it holds (one of them: the kind's badge).

import { KIND_COUNT } from '../style.js';

/** RING_STEPS is how finely style.js cuts a cluster's ring: a whole ring of one colour. */
const RING_STEPS = 24;

const kindCount = (kind) => ['coalesce', ['get', `${KIND_COUNT}${kind}`], 0];
const HAS_COUNT = ['has', 'point_count'];

/**
 * kindFilter returns the stations layer's filter for kind ('' every kind:
 * null): a single station of the kind, or a clustered point holding at
 * least one of it.
 */
export function kindFilter(kind) {
  if (!kind) return null;
  return ['any', ['all', ['!', HAS_COUNT], ['==', ['get', 'kind'], kind]], ['>', kindCount(kind), 0]];
}

/**
 * kindImage returns the stations layer's icon-image for kind, colour its
 * colour (#rrggbb), base the layer's own (every kind): a clustered point
 * holding several of the kind is a ring of the colour alone, one holding
 * one of it the kind's badge (not the badge of the station it is drawn
 * at), a single station as base draws it.
 */
export function kindImage(kind, colour, base) {
  if (!kind) return base;
  const hex = String(colour).replace('#', '').toLowerCase();
  return ['case', ['>', kindCount(kind), 1], `om-ring:circle:${hex}=${RING_STEPS}`,
    HAS_COUNT, `om-st:${kind}:#${hex}`, base];
}

/**
 * kindSize returns the stations layer's icon-size for kind from base (the
 * layer's own, sized by the point's count): the same expression with the
 * count of the kind in place of the count of every station, so that a ring
 * grows with what it shows, and a point holding one of the kind sized as a
 * single station.
 */
export function kindSize(kind, base) {
  if (!kind) return base;
  const swap = (e) => {
    if (!Array.isArray(e)) return e;
    if (e[0] === 'has' && e[1] === 'point_count' && e.length === 2) return ['>', kindCount(kind), 1];
    if (e[0] === 'get' && e[1] === 'point_count' && e.length === 2) return kindCount(kind);
    return e.map(swap);
  };
  return swap(base);
}
