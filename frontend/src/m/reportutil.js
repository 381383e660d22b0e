// The pure parts of the public report page (report.js, reporttrack.js):
// reading a position a user types or pastes, the status words the public
// reads, the size a photo is scaled down to, and the codes this phone has
// filed. No DOM here, so that test/m-report.test.mjs runs them in Node.

import { formatMinute } from '../format.js';

/** STATUS says each case status as the reporter reads it. */
export const STATUS = {
  reported: '待受理',
  accepted: '已受理',
  assigned: '已分派',
  handling: '处理中',
  feedback: '处理中',
  closed: '已办结',
  refused: '不予受理',
};

/** STEPS are the stages the follow-up shows, with the statuses each stands for. */
export const STEPS = [
  { name: '已上报', statuses: ['reported', 'accepted', 'assigned', 'handling', 'feedback', 'closed', 'refused'] },
  { name: '已受理', statuses: ['accepted', 'assigned', 'handling', 'feedback', 'closed'] },
  { name: '处理中', statuses: ['assigned', 'handling', 'feedback', 'closed'] },
  { name: '已办结', statuses: ['closed'] },
];

/** MAX_PHOTOS and MAX_SIDE bound the photos of a report (the server checks again). */
export const MAX_PHOTOS = 3;
export const MAX_SIDE = 2048;

/**
 * scaledSize returns [w, h] of a w×h photo scaled down so that its longer
 * side is at most max (unchanged if it already is).
 */
export function scaledSize(w, h, max = MAX_SIDE) {
  const long = Math.max(w, h);
  if (!(long > max)) return [w, h];
  const k = max / long;
  return [Math.max(1, Math.round(w * k)), Math.max(1, Math.round(h * k))];
}

// China lies between these longitudes and latitudes: a pair that fits only
// the other way round was written latitude first.
const inLon = (x) => x >= 73 && x <= 136;
const inLat = (y) => y >= 3 && y <= 54;

/**
 * parsePosition reads a position as people paste it: "102.404,25.53",
 * "25.53, 102.404" (latitude first, told apart by China's ranges), an AMap
 * link (…position=102.404,25.53 or …location=…), or "geo:25.53,102.404".
 * It returns { lon, lat } or null. It does not convert: the system the
 * numbers are in is the user's choice (GCJ-02 for AMap and WeChat).
 */
export function parsePosition(text) {
  const s = String(text ?? '').trim();
  if (!s) return null;
  let latFirst = false;
  let m = s.match(/[?&](?:position|location|q)=(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)/i);
  if (!m) {
    m = s.match(/^geo:\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)/i);
    latFirst = Boolean(m);
  }
  if (!m) m = s.match(/^(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)$/);
  if (!m) return null;
  let a = Number(m[1]);
  let b = Number(m[2]);
  if (latFirst || (!inLon(a) && inLat(a) && inLon(b))) [a, b] = [b, a];
  if (!(a >= -180 && a <= 180 && b >= -90 && b <= 90)) return null;
  return { lon: a, lat: b };
}

/**
 * formatTime says an RFC 3339 time in China time as 2026-12-06 09:30,
 * whatever zone the phone is set to: the county's offices work on China
 * time, and a reply "handled at 09:30" must read the same to everyone.
 */
export const formatTime = (iso) => formatMinute(iso);

// The codes this phone has filed, newest first, for 查进度 to offer.
const MINE = 'onemap.public.reports';
const KEEP = 10;

/** myReports returns [{ code, at, category }] this phone filed (none in private mode). */
export function myReports(storage = globalThis.localStorage) {
  try {
    const v = JSON.parse(storage.getItem(MINE));
    return Array.isArray(v) ? v.filter((r) => typeof r?.code === 'string').slice(0, KEEP) : [];
  } catch {
    return [];
  }
}

/** rememberReport keeps a code this phone filed. */
export function rememberReport(r, storage = globalThis.localStorage) {
  try {
    const list = [r, ...myReports(storage).filter((x) => x.code !== r.code)].slice(0, KEEP);
    storage.setItem(MINE, JSON.stringify(list));
  } catch { /* private mode: nothing to remember */ }
}

/**
 * fieldOf says which part of the form a refusal's field names: the place
 * for any position field, the photos, or the field itself.
 */
export function fieldOf(field) {
  if (['lon', 'lat', 'position', 'crs'].includes(field)) return 'place';
  if (field === 'photo') return 'photos';
  return field || '';
}
