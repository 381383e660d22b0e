// The grid editor's calls to /api/grids. Every changing request carries the
// session's CSRF token (when the server has sessions) and, where it edits a
// version, If-Match with that version's ETag. An answer that is not 2xx
// throws an ApiError holding the status and the server's body ({error,
// code, problems, current}).

let csrf = '';

/** ApiError is a refused request: status and the server's JSON body. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** loadSession reads the session's CSRF token; a server without sessions has none. */
export async function loadSession() {
  try {
    const res = await fetch('/api/session', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!res.ok) return null;
    const s = await res.json();
    csrf = s?.csrf || '';
    return s;
  } catch {
    return null;
  }
}

/** etagOf returns the ETag of a version. */
export const etagOf = (version) => `"${version}"`;

/** request sends method path with a JSON body and headers; returns the parsed answer (null for 204). */
export async function request(method, path, body, headers = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) h['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method, headers: h, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const children = (parent) => request('GET', `/api/grids?parent=${parent || 0}`);
export const grid = (id) => request('GET', `/api/grids/${id}`);
export const createGrid = (feature) => request('POST', '/api/grids', feature);
export const updateGrid = (id, version, feature) => request('PATCH', `/api/grids/${id}`, feature, { 'If-Match': etagOf(version) });
export const deleteGrid = (id, version, reason) => request('DELETE', `/api/grids/${id}`, { reason }, { 'If-Match': etagOf(version) });
export const validateGrid = (feature) => request('POST', '/api/grids/validate', feature);
export const splitGrid = (id, version, line, reason) => request('POST', `/api/grids/${id}/split`, { line, reason }, { 'If-Match': etagOf(version) });
export const mergeGrids = (ids, versions, name, reason) => request('POST', '/api/grids/merge', { ids, versions, name, reason });
export const coverage = (id) => request('GET', `/api/grids/${id}/coverage`);
export const history = (id) => request('GET', `/api/grids/${id}/history`);
export const versionAt = (id, v) => request('GET', `/api/grids/${id}/history/${v}`);
export const restore = (id, v, version) => request('POST', `/api/grids/${id}/restore/${v}`, {}, { 'If-Match': etagOf(version) });

/** importFile posts a file to /api/grids/import with the query's options (crs, encoding, clip, reason). */
export async function importFile(file, options = {}) {
  const qs = new URLSearchParams({ filename: file.name });
  for (const [k, v] of Object.entries(options)) if (v) qs.set(k, v);
  const h = { Accept: 'application/json', 'Content-Type': 'application/octet-stream' };
  if (csrf) h['X-CSRF-Token'] = csrf;
  const res = await fetch(`/api/grids/import?${qs}`, { method: 'POST', headers: h, credentials: 'same-origin', body: file });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** exportURL is the address of an export of grid parent and its subtree (0: all). */
export const exportURL = (format, parent) => `/api/grids/export?format=${encodeURIComponent(format)}${parent ? `&parent=${parent}` : ''}`;
