// The feature popup: the layer's title and a table of the feature's
// properties, as an HTML string in which every value is escaped.

import { valueLabel } from './labels.js';
import { formatCount, t } from './i18n.js';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** escapeHtml makes any value safe to put into HTML text or a quoted attribute. */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// ISO_TIME matches a time stamp with a zone: RFC 3339 as the API writes it,
// or PostgreSQL's text form ("2026-11-25 22:18:13.5+00") as tiles carry it.
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)$/;

// formatTime shows such a time stamp as "YYYY-MM-DD HH:mm" in the browser's
// time zone.
function formatTime(text) {
  const [, day, time, zone] = text.match(ISO_TIME);
  const z = zone === 'Z' ? zone : zone.length === 3 ? `${zone}:00` : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const t = new Date(`${day}T${time}${z}`);
  if (Number.isNaN(t.getTime())) return text;
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}`;
}

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
  if (typeof value === 'string' && ISO_TIME.test(value)) return formatTime(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Math.round(value * 1e6) / 1e6);
  return String(valueLabel(layerId, field?.name, value));
}

/**
 * popupHTML renders a feature of layer (an entry of /api/layers) as HTML:
 * a heading with the layer's title and the feature's name, then one row per
 * non-empty property, in the layer's field order, with the field's Chinese
 * title. Properties the catalogue does not list follow under their own name.
 * pointCount (by default the tile's point_count) above 1 marks a clustered
 * point: the popup says how many points it stands for. before is HTML (already
 * escaped) put between the heading and the table; collapse folds the table
 * into a <details>.
 */
export function popupHTML(layer, properties, id, { pointCount = properties.point_count, before = '', collapse = false } = {}) {
  const fields = layer.fields ?? [];
  // point_count is not a property of the feature: a clustered point in a
  // low-zoom tile stands for that many points (itself and its neighbours).
  const known = new Set([...fields.map((f) => f.name), 'point_count']);
  const rows = [];
  const row = (title, text, name) => {
    if (text === null) return;
    rows.push(`<tr data-field="${escapeHtml(name)}"><th>${escapeHtml(title)}</th><td>${escapeHtml(text)}</td></tr>`);
  };
  for (const f of fields) {
    if (f.name in properties) row(f.title || f.name, formatValue(layer.id, f, properties[f.name]), f.name);
  }
  for (const [name, value] of Object.entries(properties)) {
    if (!known.has(name)) row(name, formatValue(layer.id, null, value), name);
  }
  const name = properties.name ? ` · ${escapeHtml(properties.name)}` : '';
  const idNote = id !== undefined && id !== null ? `<span class="om-popup-id">#${escapeHtml(id)}</span>` : '';
  let body = rows.length ? `<table><tbody>${rows.join('')}</tbody></table>` : `<p class="om-muted">${escapeHtml(t('noProps'))}</p>`;
  if (collapse && rows.length) body = `<details class="om-props"><summary>${escapeHtml(t('allProps'))}</summary>${body}</details>`;
  const count = Number(pointCount);
  const cluster = Number.isInteger(count) && count > 1
    ? `<p class="om-cluster" data-point-count="${count}">${escapeHtml(t('cluster', formatCount(count)))}<span class="om-muted">${escapeHtml(t('clusterHint'))}</span></p>`
    : '';
  return `<div class="om-popup-body" data-layer="${escapeHtml(layer.id)}">` +
    `<h3><span class="om-popup-layer">${escapeHtml(layer.title || layer.id)}</span>${name}${idNote}</h3>${cluster}${before}${body}</div>`;
}
