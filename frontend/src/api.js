// The server's JSON APIs as the client uses them. Every request goes to the
// page's own origin.

/**
 * getJSON fetches path with query params (undefined values are left out)
 * and returns the parsed answer. A non-2xx answer throws an Error with the
 * server's message ({"error": …}) when it sent one.
 */
export async function getJSON(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) qs.set(k, String(v));
  const url = qs.size ? `${path}?${qs}` : path;
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (body?.error) message = body.error;
    } catch {
      // Not JSON: keep the status.
    }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

export const fetchRegion = () => getJSON('/api/region');
export const fetchLayers = () => getJSON('/api/layers');
export const search = (q, limit = 20) => getJSON('/api/search', { q, limit });
export const locate = ([lon, lat]) => getJSON('/api/locate', { lon, lat });
export const around = ([lon, lat], radius) => getJSON('/api/around', { lon, lat, radius });
export const gridStats = (id) => getJSON(`/api/stats/grids/${encodeURIComponent(id)}`);

/**
 * fetchFeature returns one GeoJSON feature, or null when the server has
 * none to give (it may withhold a layer's details from the caller's role).
 */
export async function fetchFeature(layerId, id) {
  try {
    return await getJSON(`/api/layers/${encodeURIComponent(layerId)}/features/${encodeURIComponent(id)}`);
  } catch {
    return null;
  }
}
