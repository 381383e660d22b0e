// The server's routes as the pages call them, each one line over http.js
// (which holds the requests, the CSRF token and the errors).

import { getJSON, postJSON, request } from './http.js';

// ---- the commander's map, the wall ----

export const fetchRegion = () => getJSON('/api/region');
export const fetchLayers = () => getJSON('/api/layers');
export const search = (q, limit = 20, crs = '') => getJSON('/api/search', crs ? { q, limit, crs } : { q, limit });
export const locate = ([lon, lat]) => getJSON('/api/locate', { lon, lat });
export const around = ([lon, lat], radius) => getJSON('/api/around', { lon, lat, radius });
export const gridStats = (id) => getJSON(`/api/stats/grids/${encodeURIComponent(id)}`);
export const within = (query) => getJSON('/api/within', query);
export const fetchPlaces = () => getJSON('/api/public/places');
export const fetchPurposes = () => getJSON('/api/purposes');
export const householdDetails = (id, purpose) => getJSON(`/api/households/${encodeURIComponent(id)}/details`, { purpose });

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

// ---- the grid editor (/api/grids) ----
// Where a request edits a version, If-Match carries that version's ETag. A
// reason left empty is not sent: the server records the change's own code.

/** etagOf returns the ETag of a version. */
export const etagOf = (version) => `"${version}"`;
const ifMatch = (version) => ({ 'If-Match': etagOf(version) });
const withReason = (body, reason) => (reason ? { ...body, reason } : body);

export const children = (parent) => getJSON('/api/grids', { parent: parent || 0 });
export const grid = (id) => getJSON(`/api/grids/${id}`);
export const createGrid = (feature) => postJSON('/api/grids', feature);
export const updateGrid = (id, version, feature) => request('PATCH', `/api/grids/${id}`, { body: feature, headers: ifMatch(version) });
export const deleteGrid = (id, version, reason) => request('DELETE', `/api/grids/${id}`, { body: withReason({}, reason), headers: ifMatch(version) });
export const validateGrid = (feature) => postJSON('/api/grids/validate', feature);
export const splitGrid = (id, version, line, reason) => postJSON(`/api/grids/${id}/split`, withReason({ line }, reason), ifMatch(version));
export const mergeGrids = (ids, versions, name, reason) => postJSON('/api/grids/merge', withReason({ ids, versions, name }, reason));
export const coverage = (id) => getJSON(`/api/grids/${id}/coverage`);
export const gridHistory = (id) => getJSON(`/api/grids/${id}/history`);
export const versionAt = (id, v) => getJSON(`/api/grids/${id}/history/${v}`);
export const restore = (id, v, version) => postJSON(`/api/grids/${id}/restore/${v}`, {}, ifMatch(version));

/** importFile posts a file to /api/grids/import with the query's options (crs, encoding, clip, reason; empty ones left out). */
export function importFile(file, options = {}) {
  const query = { filename: file.name };
  for (const [k, v] of Object.entries(options)) if (v) query[k] = v;
  return request('POST', '/api/grids/import', { query, body: file });
}

/** exportURL is the address of an export of grid parent and its subtree (0: all). */
export const exportURL = (format, parent) => `/api/grids/export?format=${encodeURIComponent(format)}${parent ? `&parent=${parent}` : ''}`;

// ---- the audit trail ----

export const auditPage = (query) => getJSON(`/api/audit?${query}`);
export const auditVerify = () => getJSON('/api/audit/verify');
