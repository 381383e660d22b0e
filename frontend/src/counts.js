// Live counts of the layer panel: per layer the total and the counts per
// level, kind and status, from the replica through two answers of the
// server: /api/within over the region's box (count, by_level, by_kind) and
// /api/stats/grids (the top grids' tallies, which give cameras by status).

import { getJSON } from './http.js';

/**
 * mergeCounts turns the two answers into {layer: {total, level, kind,
 * status}}, each of level/kind/status a tally {value: n} (absent when the
 * layer has no such field).
 */
export function mergeCounts(within, stats) {
  const out = {};
  for (const [id, e] of Object.entries(within?.layers ?? {})) {
    const c = { total: e.count ?? 0 };
    if (e.by_level) c.level = { ...e.by_level };
    if (e.by_kind) c.kind = { ...e.by_kind };
    out[id] = c;
  }
  // The top grids add up to the region: sum their tallies of the fields
  // /api/within does not count.
  for (const g of stats?.children ?? []) {
    for (const [id, s] of Object.entries(g.stats ?? {})) {
      if (!out[id] || !s.by || out[id][s.by]) continue;
      out[id].__sum ??= {};
      const sum = (out[id].__sum[s.by] ??= {});
      for (const [k, n] of Object.entries(s.count ?? {})) sum[k] = (sum[k] ?? 0) + n;
    }
  }
  for (const c of Object.values(out)) {
    if (c.__sum) Object.assign(c, c.__sum);
    delete c.__sum;
  }
  return out;
}

/**
 * shownCount says how many features of a layer pass the chosen values
 * ({field: [values] | null}): exact when at most one field is narrowed
 * (the sum of its chosen values), otherwise an upper bound (the least of
 * the fields' sums), returned as {n, exact}.
 */
export function shownCount(counts, chosen) {
  if (!counts) return { n: 0, exact: true };
  const narrowed = Object.entries(chosen ?? {}).filter(([f, v]) => v && counts[f]);
  if (!narrowed.length) return { n: counts.total, exact: true };
  const sums = narrowed.map(([f, values]) => values.reduce((s, v) => s + (counts[f][v] ?? 0), 0));
  return { n: Math.min(...sums), exact: narrowed.length === 1 };
}

/**
 * countsQuery returns the query of /api/within that counts the layers over
 * bounds [w, s, e, n] (padded by 0.05°, within the world) without a
 * feature (limit=0): the panel and the wall show only counts, and the one
 * feature per layer of limit=1 (the county's whole outline among them) was
 * 10 of the answer's 11 KB.
 */
export function countsQuery(bounds) {
  const [w, s, e, n] = bounds;
  const pad = 0.05;
  const bbox = [Math.max(-180, w - pad), Math.max(-90, s - pad), Math.min(180, e + pad), Math.min(90, n + pad)]
    .map((v) => v.toFixed(6)).join(',');
  return { bbox, limit: 0 };
}

/**
 * fetchCounts asks the server for the counts of every layer the caller may
 * count within bounds; withStatus adds the grids' tallies (cameras by
 * status), which only a caller who may read grids can ask for.
 */
export async function fetchCounts(bounds, { withStatus = true } = {}) {
  const [within, stats] = await Promise.all([
    getJSON('/api/within', countsQuery(bounds)),
    withStatus ? getJSON('/api/stats/grids').catch(() => null) : null,
  ]);
  return mergeCounts(within, stats);
}
