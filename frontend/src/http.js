// The one HTTP client of every page: requests to this server's JSON APIs,
// the session's CSRF token on every changing request, and one error object
// for every refusal. Every request goes to the page's own origin (or to the
// absolute address the server itself gave, as in a style's TileJSON URL).
//
// A refusal (any answer that is not 2xx) throws an HttpError that carries
// what the server said: status, code, field (the field a refusal names),
// feature and line (where in an imported file), the Retry-After seconds and
// the whole JSON body. A request that cannot reach the server throws the
// browser's TypeError unchanged.

/** HttpError is a refused request: the answer's status and the server's JSON body, read into fields. */
export class HttpError extends Error {
  constructor(status, body = null, { retryAfter = null } = {}) {
    super((typeof body?.error === 'string' && body.error) || `HTTP ${status}`);
    this.name = 'HttpError';
    this.status = status;
    this.body = body && typeof body === 'object' ? body : {};
    this.code = this.body.code ?? null;
    this.field = this.body.field ?? null;
    this.feature = Number.isInteger(this.body.feature) ? this.body.feature : null;
    this.line = Number.isInteger(this.body.line) ? this.body.line : null;
    this.retryAfter = retryAfter;
  }
}

// csrf is the session's token, sent with every request that changes
// something; fetchSession keeps it, setCSRF sets it.
let csrf = '';

/** setCSRF sets the token sent as X-CSRF-Token ('' for none). */
export function setCSRF(token) {
  csrf = token || '';
}

const SAFE = new Set(['GET', 'HEAD']);

/**
 * request sends method path and returns the parsed JSON answer (null for a
 * 204 or an empty body). Options: query (an object; undefined and null
 * values are left out), body (a Blob or File is sent as it is, as
 * application/octet-stream; anything else as JSON) and headers.
 */
export async function request(method, path, { query = null, body, headers = {} } = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) qs.set(k, String(v));
  const url = qs.size ? `${path}${path.includes('?') ? '&' : '?'}${qs}` : path;
  const h = { Accept: 'application/json', ...headers };
  let payload;
  if (body instanceof Blob) {
    h['Content-Type'] ??= 'application/octet-stream';
    payload = body;
  } else if (body !== undefined) {
    h['Content-Type'] ??= 'application/json';
    payload = JSON.stringify(body);
  }
  if (!SAFE.has(method) && csrf) h['X-CSRF-Token'] = csrf;
  const res = await globalThis.fetch(url, { method, headers: h, credentials: 'same-origin', body: payload });
  let data = null;
  if (res.status !== 204) {
    try {
      const text = await res.text();
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null; // not JSON: the status says it
    }
  }
  if (!res.ok) {
    const wait = Number(res.headers?.get?.('Retry-After'));
    throw new HttpError(res.status, data, { retryAfter: Number.isFinite(wait) && wait > 0 ? wait : null });
  }
  return data;
}

/** getJSON fetches path with query params (undefined values left out) and returns the parsed answer. */
export const getJSON = (path, query = null) => request('GET', path, { query });

/**
 * getBytes fetches path (a file of this server, such as the bundled font)
 * and returns its body as an ArrayBuffer; a refusal throws HttpError.
 */
export async function getBytes(path) {
  const res = await globalThis.fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw new HttpError(res.status);
  return res.arrayBuffer();
}

/** postJSON, patchJSON and deleteJSON send body as JSON. */
export const postJSON = (path, body, headers) => request('POST', path, { body, headers });
export const patchJSON = (path, body, headers) => request('PATCH', path, { body, headers });
export const deleteJSON = (path, body, headers) => request('DELETE', path, { body, headers });

/**
 * fetchSession returns the caller's session ({name, role, csrf, …}, or
 * {role} for a caller not signed in) and keeps its CSRF token; null when
 * the server has no sessions (404 or 405). Other failures throw.
 */
export async function fetchSession() {
  try {
    const s = await getJSON('/api/session');
    setCSRF(s?.csrf);
    return s;
  } catch (err) {
    if (err instanceof HttpError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

/** signIn opens a session for name and password. */
export const signIn = (name, password) => postJSON('/api/session', { name, password });

/** signOut ends the session (with its CSRF token). */
export const signOut = () => request('DELETE', '/api/session');
