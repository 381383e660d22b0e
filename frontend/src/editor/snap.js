// Snapping of drawn vertices to the neighbouring grids: to a neighbour's
// vertex within VERTEX_PX pixels first (so that a shared corner is the very
// same coordinate), else to the nearest point of a neighbour's edge within
// EDGE_PX. The point on an edge is interpolated in lon/lat, so it lies on the
// straight lon/lat segment that PostGIS stores; the server then snaps every
// saved vertex to its neighbours' within 0.000001° (ST_Snap), and inserts
// their vertices into edges that run along theirs.

export const VERTEX_PX = 14;
export const EDGE_PX = 10;

/**
 * snapPosition returns the position [lng, lat] that lngLat snaps to among
 * rings (arrays of [lng, lat]), or undefined; project(lng, lat) gives
 * pixels {x, y}.
 */
export function snapPosition(lngLat, rings, project, vertexPx = VERTEX_PX, edgePx = EDGE_PX) {
  const p = project(lngLat[0], lngLat[1]);
  let best;
  let bestD = vertexPx;
  const projected = rings.map((ring) => ring.map((c) => project(c[0], c[1])));
  rings.forEach((ring, r) => {
    ring.forEach((c, i) => {
      const q = projected[r][i];
      const d = Math.hypot(q.x - p.x, q.y - p.y);
      if (d < bestD) {
        bestD = d;
        best = [c[0], c[1]];
      }
    });
  });
  if (best) return best;
  bestD = edgePx;
  rings.forEach((ring, r) => {
    for (let i = 0; i + 1 < ring.length; i++) {
      const a = projected[r][i];
      const b = projected[r][i + 1];
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len2 = dx * dx + dy * dy;
      if (len2 === 0) continue;
      const t = Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
      const d = Math.hypot(a.x + t * dx - p.x, a.y + t * dy - p.y);
      if (d < bestD) {
        bestD = d;
        const c0 = ring[i];
        const c1 = ring[i + 1];
        best = [c0[0] + t * (c1[0] - c0[0]), c0[1] + t * (c1[1] - c0[1])];
      }
    }
  });
  return best;
}

/** ringsOf returns every ring of a GeoJSON Polygon or MultiPolygon geometry. */
export function ringsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

/** round9 rounds a coordinate to 9 decimals (0.1 mm), the precision the drawing tools keep. */
export const round9 = (c) => [Math.round(c[0] * 1e9) / 1e9, Math.round(c[1] * 1e9) / 1e9];
