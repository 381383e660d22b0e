// How every page writes values for people: HTML escaping, numbers, positions,
// distances, areas, dates and times. Pure functions; the language is the
// page's (i18n.js) unless one is given.

import { lang as pageLang, locale, t } from './i18n.js';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** escapeHtml makes any value safe to put into HTML text or a quoted attribute (null and undefined: ''). */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// ---- numbers ----

/** formatCount writes a count with the page's digit grouping ("12,345"); '' for anything but a number. */
export const formatCount = (n) => (Number.isFinite(n) ? n.toLocaleString(locale) : '');

/** formatLonLat shows a position as "102.40630, 25.53020" (lon, lat; 5 decimals ≈ 1 m). */
export function formatLonLat([lon, lat]) {
  return `${lon.toFixed(5)}, ${lat.toFixed(5)}`;
}

// ---- distances ----

/** formatDistance shows metres as "34 米" or "1.25 公里". */
export function formatDistance(metres) {
  if (!Number.isFinite(metres)) return '';
  if (metres < 1000) return `${Math.round(metres)} 米`;
  return `${Number((metres / 1000).toFixed(metres < 10_000 ? 2 : 1))} 公里`;
}

/** formatLength is formatDistance in the given language ("1.25 km" in English). */
export function formatLength(metres, lang = pageLang) {
  if (lang !== 'en') return formatDistance(metres);
  if (!Number.isFinite(metres)) return '';
  if (metres < 1000) return `${Math.round(metres)} m`;
  return `${Number((metres / 1000).toFixed(metres < 10_000 ? 2 : 1))} km`;
}

/**
 * formatDistanceRough writes metres as the public page's list does: whole
 * 米 below 1 km, then 公里 to a tenth below 10 km, whole 公里 beyond.
 */
export function formatDistanceRough(m) {
  if (m < 999.5) return `${Math.round(m)} 米`;
  if (m < 10_000) return `${(m / 1000).toFixed(1)} 公里`;
  return `${Math.round(m / 1000)} 公里`;
}

/** formatRadius names a search radius in the page's language: "500 米", "1 公里", "1.5 公里". */
export function formatRadius(metres) {
  return metres < 1000 ? t('metres', metres) : t('kilometres', Number((metres / 1000).toFixed(2)));
}

// ---- areas ----

/** formatArea shows square metres as "850 平方米", "3.2 公顷" or "12.5 平方公里" (en: m², ha, km²). */
export function formatArea(m2, lang = pageLang) {
  if (!Number.isFinite(m2)) return '';
  const [sqm, ha, sqkm] = lang === 'en' ? [' m²', ' ha', ' km²'] : [' 平方米', ' 公顷', ' 平方公里'];
  if (m2 < 10_000) return `${Math.round(m2)}${sqm}`;
  if (m2 < 1_000_000) return `${Number((m2 / 10_000).toFixed(2))}${ha}`;
  return `${Number((m2 / 1_000_000).toFixed(2))}${sqkm}`;
}

/** formatAreaM2 writes a grid's area as the editor lists it: "12,345 m²", or "1.234 km²" from a square kilometre on. */
export function formatAreaM2(m2) {
  return m2 >= 1e6 ? `${(m2 / 1e6).toFixed(3)} km²` : `${Math.round(m2).toLocaleString(locale)} m²`;
}

// ---- dates and times ----

// Times are written in China time (UTC+8, no daylight saving), the
// county's, whatever zone the browser is set to: the server reads dates
// and days in it (a period's 起/止, "today" on the wall), and a kiosk or a
// laptop left on UTC would otherwise show a case reported at 13:32 as
// 05:32 beside a day filter that counts it on China's day.
const CHINA = 'Asia/Shanghai';

/** formatDateTime writes an instant (a Date or what Date takes) as a date and a 24-hour time in China time, in the page's language; '' for none. */
export function formatDateTime(at) {
  return at ? new Date(at).toLocaleString(locale, { hourCycle: 'h23', timeZone: CHINA }) : '';
}

/** formatMonthDayTime writes an instant short, as a phone's list does: month/day and a 24-hour time in China time ("12/6 09:30" in zh-CN); '' for none. */
export function formatMonthDayTime(at, loc = locale) {
  if (!at) return '';
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString(loc, {
    month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: CHINA,
  });
}

/** formatTimeOfDay writes the time of an instant in China time, 24-hour ("14:05:09"). */
export function formatTimeOfDay(at = new Date()) {
  return new Date(at).toLocaleTimeString(locale, { hourCycle: 'h23', timeZone: CHINA });
}

/** formatClock writes an instant as the wall's clock: date, weekday and time to the second in China time, 24-hour. */
export function formatClock(at = new Date()) {
  return new Date(at).toLocaleString(locale, {
    year: 'numeric', month: 'long', day: 'numeric', weekday: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    timeZone: CHINA,
  });
}

// STAMP matches a time stamp with a zone: RFC 3339 as the API writes it,
// or PostgreSQL's text form ("2026-11-25 22:18:13.5+00") as tiles carry it.
const STAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)$/;

/** isStamp says whether text is such a time stamp. */
export const isStamp = (text) => typeof text === 'string' && STAMP.test(text);

/** formatStamp shows a time stamp as "YYYY-MM-DD HH:mm" in China time (text that is none, unchanged). */
export function formatStamp(text) {
  const m = STAMP.exec(text);
  if (!m) return text;
  const [, day, time, zone] = m;
  const z = zone === 'Z' ? zone : zone.length === 3 ? `${zone}:00` : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  return formatMinute(`${day}T${time}${z}`) || text;
}

/** formatMinute writes an instant (a Date or what Date takes) as "YYYY-MM-DD HH:mm" in China time; '' for none or an invalid one. */
export function formatMinute(at) {
  if (at === null || at === undefined || at === '') return '';
  const t = new Date(at).getTime();
  if (Number.isNaN(t)) return '';
  const p = (n) => String(n).padStart(2, '0');
  const c = new Date(t + 8 * 3600_000); // China time, read through the UTC fields
  return `${c.getUTCFullYear()}-${p(c.getUTCMonth() + 1)}-${p(c.getUTCDate())} ${p(c.getUTCHours())}:${p(c.getUTCMinutes())}`;
}

/** chinaToday returns the China date of an instant as [year, month (1–12), day]. */
export function chinaToday(at = new Date()) {
  const c = new Date(new Date(at).getTime() + 8 * 3600_000);
  return [c.getUTCFullYear(), c.getUTCMonth() + 1, c.getUTCDate()];
}
