// The feature popup: the layer's title and a table of the feature's
// properties, as an HTML string in which every value is escaped. Numbers
// carry their field's unit, opening hours read as words, grids are named,
// an assessment date that has passed is flagged, and the bookkeeping
// (id, version, who changed it last) goes to a discreet footer.

import { valueLabel } from './labels.js';
import { lang, t } from './i18n.js';
import { chinaToday, escapeHtml, formatCount, formatStamp, isStamp } from './format.js';
import { hoursText } from './hours.js';

// GRID_REFS are the fields that hold the id of a grid, shown by its name.
const GRID_REFS = new Set(['grid_id', 'parent_id']);

// parseList reads a String[] value from a tile, which cannot hold arrays:
// JSON text ('["a","b"]') or items joined with ';' ("a;b").
function parseList(text) {
  if (text.startsWith('[')) {
    try {
      const list = JSON.parse(text);
      if (Array.isArray(list)) return list;
    } catch {
      // Not JSON after all.
    }
  }
  return text.split(';').map((s) => s.trim()).filter(Boolean);
}

// formatValue turns a property value into display text (not yet escaped).
export function formatValue(layerId, field, value) {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'boolean') return value ? t('yes') : t('no');
  if (field?.type === 'String[]' && typeof value === 'string') value = parseList(value);
  if (Array.isArray(value)) return value.map((v) => valueLabel(layerId, field?.name, String(v))).join('、');
  if (typeof value === 'object') return JSON.stringify(value);
  if (isStamp(value)) return formatStamp(value);
  if (field?.name === 'opening_hours' && typeof value === 'string' && lang !== 'en') return hoursText(value);
  if (typeof value === 'number') {
    const n = Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
    // Signs such as ° and % sit on the number; words (米, 人) after a space.
    return field?.unit ? `${n}${/^[°%‰′″]/.test(field.unit) ? '' : ' '}${field.unit}` : n;
  }
  return String(valueLabel(layerId, field?.name, value));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * overdueText says how long ago a due date ("YYYY-MM-DD") passed, as of
 * today in China time (the county's day, whatever zone the browser is set
 * to): "逾期 N 个月" from a whole month on, else "逾期 N 天"; '' when it
 * is today or later, or not a date.
 */
export function overdueText(due, now = new Date()) {
  const m = DATE.exec(String(due));
  if (!m) return '';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [ty, tm, td] = chinaToday(now);
  const days = Math.round((Date.UTC(ty, tm - 1, td) - Date.UTC(y, mo - 1, d)) / 864e5);
  if (!(days > 0)) return '';
  const months = (ty - y) * 12 + (tm - mo) - (td < d ? 1 : 0);
  return months >= 1 ? t('overdueMonths', months) : t('overdueDays', days);
}

// footerHTML is the bookkeeping line: "#87 · v3 · 更新于 2026-11-26 19:07 由 seed".
function footerHTML(properties, id) {
  const p = properties;
  const at = p.updated_at ?? p.created_at;
  const by = p.updated_at ? p.updated_by : p.created_by;
  const parts = [];
  if (id !== undefined && id !== null) parts.push(`#${id}`);
  if (p.version !== undefined && p.version !== null) parts.push(`v${p.version}`);
  const when = [at ? t('updatedAt', formatValue('', null, at)) : '', by ? t('changedBy', by) : ''].filter(Boolean).join(' ');
  if (when) parts.push(when);
  return parts.length ? `<p class="om-popup-meta">${escapeHtml(parts.join(' · '))}</p>` : '';
}

/**
 * popupHTML renders a feature of layer (an entry of /api/layers) as HTML:
 * a heading with the layer's title and the feature's name, then one row per
 * non-empty property, in the layer's field order, with the field's Chinese
 * title. Properties the catalogue does not list follow under their own name;
 * fields the server withholds are simply absent, and masked values are shown
 * as the server masked them. Bookkeeping and the id go to a footer.
 * pointCount (by default the tile's point_count) above 1 marks a clustered
 * point: the popup says how many points it stands for. before is HTML (already
 * escaped) put between the heading and the table; collapse folds the table
 * into a <details>. gridNames (a Map of grid id → name) names grid_id and
 * parent_id; a grid not in it is left out rather than shown as a bare id.
 * now is today, for flagging due dates that have passed.
 */
export function popupHTML(layer, properties, id, { pointCount = properties.point_count, before = '', collapse = false, gridNames = null, now = new Date() } = {}) {
  const fields = layer.fields ?? [];
  // point_count is not a property of the feature: a clustered point in a
  // low-zoom tile stands for that many points (itself and its neighbours).
  const known = new Set([...fields.map((f) => f.name), 'point_count']);
  const rows = [];
  const row = (title, text, name, flag = '') => {
    if (text === null) return;
    const note = flag ? ` <span class="om-overdue">${escapeHtml(flag)}</span>` : '';
    rows.push(`<tr data-field="${escapeHtml(name)}"><th>${escapeHtml(title)}</th><td>${escapeHtml(text)}${note}</td></tr>`);
  };
  for (const f of fields) {
    // Bookkeeping (class "system": version, who changed it and when) goes to the footer.
    if (!(f.name in properties) || f.class === 'system') continue;
    let value = properties[f.name];
    if (GRID_REFS.has(f.name) && value !== null && value !== undefined) value = gridNames?.get(String(value)) ?? null;
    const flag = f.type === 'Date' && /_due$/.test(f.name) ? overdueText(value, now) : '';
    row(f.title || f.name, formatValue(layer.id, f, value), f.name, flag);
  }
  for (const [name, value] of Object.entries(properties)) {
    if (!known.has(name)) row(name, formatValue(layer.id, null, value), name);
  }
  const name = properties.name ? ` · ${escapeHtml(properties.name)}` : '';
  let body = rows.length ? `<table><tbody>${rows.join('')}</tbody></table>` : `<p class="om-muted">${escapeHtml(t('noProps'))}</p>`;
  if (collapse && rows.length) body = `<details class="om-props"><summary>${escapeHtml(t('allProps'))}</summary>${body}</details>`;
  const count = Number(pointCount);
  const cluster = Number.isInteger(count) && count > 1
    ? `<p class="om-cluster" data-point-count="${count}">${escapeHtml(t('cluster', formatCount(count)))}<span class="om-muted">${escapeHtml(t('clusterHint'))}</span></p>`
    : '';
  return `<div class="om-popup-body" data-layer="${escapeHtml(layer.id)}">` +
    `<h3><span class="om-popup-layer">${escapeHtml(layer.title || layer.id)}</span>${name}</h3>${cluster}${before}${body}` +
    `${footerHTML(properties, id)}</div>`;
}
