// Small geometry helpers for the client, on WGS-84 lon/lat in GeoJSON
// order. Pure functions: no map, no DOM.

/** EARTH_RADIUS_M is the mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6371008.8;

// positions yields every position of a GeoJSON geometry.
function* positions(geometry) {
  const walk = function* (c) {
    if (typeof c[0] === 'number') yield c;
    else for (const x of c) yield* walk(x);
  };
  if (!geometry) return;
  if (geometry.type === 'GeometryCollection') {
    for (const g of geometry.geometries ?? []) yield* positions(g);
  } else if (geometry.coordinates) {
    yield* walk(geometry.coordinates);
  }
}

/** bboxOf returns [minLon, minLat, maxLon, maxLat] of a GeoJSON geometry, or null if it has no positions. */
export function bboxOf(geometry) {
  let b = null;
  for (const [x, y] of positions(geometry)) {
    if (!b) b = [x, y, x, y];
    else {
      if (x < b[0]) b[0] = x;
      if (y < b[1]) b[1] = y;
      if (x > b[2]) b[2] = x;
      if (y > b[3]) b[3] = y;
    }
  }
  return b;
}

/** pointInPolygon says whether p lies inside the polygon (rings: exterior then holes; even-odd rule). */
export function pointInPolygon([x, y], rings) {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

// ringArea is the planar area of a ring in square degrees (absolute).
function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
  return Math.abs(a / 2);
}

// polygonsOf returns the polygons (arrays of rings) of a Polygon or MultiPolygon.
function polygonsOf(geometry) {
  if (geometry?.type === 'Polygon') return [geometry.coordinates];
  if (geometry?.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

/**
 * interiorPoint returns a position inside a (Multi)Polygon, for a popup or a
 * "where is this grid" query: the centre of the largest polygon's box when
 * that lies inside it, otherwise the middle of the widest inside stretch of
 * a few horizontal lines across it. A Point gives itself; any other geometry
 * the centre of its box. Null for an empty geometry.
 */
export function interiorPoint(geometry) {
  if (geometry?.type === 'Point') return geometry.coordinates;
  const polys = polygonsOf(geometry).filter((p) => p.length && p[0].length >= 4);
  if (!polys.length) {
    const b = bboxOf(geometry);
    return b ? [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] : null;
  }
  const poly = polys.reduce((best, p) => (ringArea(p[0]) > ringArea(best[0]) ? p : best));
  const [w, s, e, n] = bboxOf({ type: 'Polygon', coordinates: poly });
  const centre = [(w + e) / 2, (s + n) / 2];
  if (pointInPolygon(centre, poly)) return centre;
  let best = null;
  for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
    const y = s + (n - s) * t;
    const xs = [];
    for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const width = xs[i + 1] - xs[i];
      if (!best || width > best.width) best = { width, point: [(xs[i] + xs[i + 1]) / 2, y] };
    }
  }
  return best?.point ?? centre;
}

const rad = (d) => (d * Math.PI) / 180;
const deg = (r) => (r * 180) / Math.PI;

/** destination returns the position at distance metres from [lon, lat] on bearing degrees (sphere). */
export function destination([lon, lat], metres, bearing) {
  const d = metres / EARTH_RADIUS_M;
  const t = rad(bearing);
  const p1 = rad(lat);
  const l1 = rad(lon);
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(t));
  const l2 = l1 + Math.atan2(Math.sin(t) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [deg(l2), deg(p2)];
}

/** distance returns the great-circle distance in metres between two positions (haversine). */
export function distance([lon1, lat1], [lon2, lat2]) {
  const h = Math.sin(rad(lat2 - lat1) / 2) ** 2 +
    Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * circle returns a GeoJSON Polygon approximating the circle of radius metres
 * around centre with `steps` vertices (the ring is closed).
 */
export function circle(centre, metres, steps = 96) {
  const ring = [];
  for (let i = 0; i < steps; i++) ring.push(destination(centre, metres, (360 * i) / steps));
  ring.push(ring[0]);
  return { type: 'Polygon', coordinates: [ring] };
}

/** pathLength returns the length in metres of a line through positions (great circles). */
export function pathLength(positions) {
  let m = 0;
  for (let i = 1; i < positions.length; i++) m += distance(positions[i - 1], positions[i]);
  return m;
}

/**
 * sphericalArea returns the area in square metres of the polygon a ring of
 * positions encloses (closed or not), on the sphere (the spherical excess
 * formula MapLibre and turf use).
 */
export function sphericalArea(ring) {
  const n = ring.length;
  if (n < 3) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const [l1, p1] = ring[i];
    const [l2, p2] = ring[(i + 1) % n];
    sum += rad(l2 - l1) * (2 + Math.sin(rad(p1)) + Math.sin(rad(p2)));
  }
  return Math.abs((sum * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
}

