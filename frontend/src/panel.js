// The layer panel: a tree of the data layers, each with a switch, a live
// count and its legend, and under it a checkbox per level, kind or status
// (with its colour where the style colours by it, and its own count). The
// checkboxes filter the map at once. Colours are read from the server's style
// (style.js legendOf), never kept here.

import { escapeHtml, formatCount } from './format.js';
import { orderedCounts, valueLabel } from './labels.js';
import { FILTER_FIELDS, legendOf } from './style.js';
import { layerTitle, t } from './i18n.js';
import { shownCount } from './counts.js';

// A value's symbol in the legend, in its layer's shape (style.js withSymbols).
const dot = (colour, shape = 'dot') =>
  `<span class="om-dot om-shape-${escapeHtml(shape)}" style="background:${escapeHtml(colour)}"></span>`;
const line = (colour, fill, width) =>
  `<span class="om-line" style="border-top:${Math.max(1, Math.round(width ?? 1))}px solid ${escapeHtml(colour)};` +
  `background:${escapeHtml(fill ?? 'transparent')}"></span>`;

// The grid levels above the county: a deployment of many counties has them.
const ABOVE_COUNTY = new Set(['province', 'prefecture']);

/**
 * panelFields returns, for a layer of /api/layers, the fields to filter on
 * and their values in order: the field the style colours by first (each
 * value with its symbol), then the others. Values come from the legend, the
 * field's enum and the counts.
 */
export function panelFields(layer, style, counts) {
  const legend = legendOf(style, layer.id);
  const names = new Set((layer.fields ?? []).map((f) => f.name));
  const fields = FILTER_FIELDS.filter((f) => names.has(f) || counts?.[f]);
  if (legend && fields.includes(legend.field)) fields.splice(fields.indexOf(legend.field), 1), fields.unshift(legend.field);
  return fields.map((field) => {
    // The region levels above the county (province, prefecture) are listed
    // only where grids of them are counted: a county alone shows none.
    const enumValues = ((layer.fields ?? []).find((f) => f.name === field)?.enum ?? [])
      .filter((v) => !(layer.id === 'grids' && field === 'level' && ABOVE_COUNTY.has(v)));
    const fromLegend = legend?.field === field ? legend.entries.map((e) => e.value) : [];
    const counted = orderedCounts(layer.id, field, counts?.[field] ?? {}).map((c) => c.key);
    const values = [...new Set([...fromLegend, ...enumValues, ...counted])];
    const symbol = (v) => {
      if (legend?.field !== field) return '';
      const e = legend.entries.find((x) => x.value === v);
      if (legend.shape === 'line') return e ? line(e.colour, e.fill, e.width) : '';
      return dot(e?.colour ?? legend.other ?? '#757575', legend.shape);
    };
    return { field, values, symbol, coloured: legend?.field === field };
  });
}

const countId = (layer, field, value) =>
  `count-${layer}${field ? `-${field}-${String(value).replace(/[^\w-]/g, '_')}` : ''}`;

function fieldHTML(layer, { field, values, symbol }, counts, chosen) {
  return `<fieldset class="om-classes" data-field="${escapeHtml(field)}">` +
    `<legend>${escapeHtml(t(field))}</legend>` +
    values.map((v) => {
      const on = !chosen?.[field] || chosen[field].includes(v);
      const n = counts?.[field]?.[v];
      return `<label class="om-class"><input type="checkbox" data-layer="${escapeHtml(layer.id)}" ` +
        `data-field="${escapeHtml(field)}" data-value="${escapeHtml(v)}"${on ? ' checked' : ''}>` +
        `${symbol(v)}<span class="om-class-name">${escapeHtml(valueLabel(layer.id, field, v))}</span>` +
        `<span class="om-count" id="${escapeHtml(countId(layer.id, field, v))}">${escapeHtml(formatCount(n ?? 0))}</span></label>`;
    }).join('') +
    '</fieldset>';
}

/**
 * renderPanel fills el with the region's name and the layer tree.
 * state is {visible: {layer: bool}, chosen: {layer: {field: [values]|null}},
 * counts, hidden: {layer: true} (hidden until switched on), overdue: {layer: {on, count}}}; onToggle(layer, visible),
 * onFilter(layer, field, values|null) and onOverdue(layer, on) are called when a switch, a class or a layer's
 * "overdue only" switch (layers with a next assessment due day) changes. The tree opens folded on a
 * phone (folded is false), and a redraw keeps it as the user left it.
 */
export function renderPanel(el, { region, layers, style, state }, { onToggle, onFilter, onOverdue }, folded = false) {
  const { visible = {}, chosen = {}, counts = {}, hidden = {}, overdue = {} } = state;
  const shown = el.querySelector(':scope > details');
  const open = shown ? shown.open : !folded;
  el.innerHTML =
    `<details${open ? ' open' : ''}><summary><h1>${escapeHtml(region.name)}<small>${escapeHtml(t('appName'))}</small></h1></summary>` +
    '<ul class="om-layers">' +
    layers.map((l) => {
      const fields = panelFields(l, style, counts[l.id]);
      const [first, ...rest] = fields;
      const on = visible[l.id] ?? !hidden[l.id]; // hidden: off until switched on
      return `<li class="om-layer" data-layer="${escapeHtml(l.id)}">` +
        `<div class="om-layer-head"><label><input type="checkbox" id="layer-toggle-${escapeHtml(l.id)}" ` +
        `data-layer="${escapeHtml(l.id)}"${on ? ' checked' : ''}>` +
        `<span class="om-layer-title">${escapeHtml(layerTitle(l))}</span></label>` +
        `<span class="om-count" id="${escapeHtml(countId(l.id))}" title="">${escapeHtml(countText(counts[l.id] ?? { total: l.count }, chosen[l.id]))}</span></div>` +
        (first ? fieldHTML(l, first, counts[l.id], chosen[l.id]) : '') +
        (hasDue(l) ? overdueHTML(l, overdue[l.id]) : '') +
        (rest.length ? `<details class="om-more"><summary>${escapeHtml(t('filters'))}</summary>` +
          rest.map((f) => fieldHTML(l, f, counts[l.id], chosen[l.id])).join('') + '</details>' : '') +
        '</li>';
    }).join('') +
    '</ul></details>';
  if (el.dataset.wired) return;
  el.dataset.wired = '1';
  el.addEventListener('change', (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement) || !input.dataset.layer) return;
    const layer = input.dataset.layer;
    if (input.dataset.overdue) {
      onOverdue?.(layer, input.checked);
      return;
    }
    if (!input.dataset.field) {
      onToggle(layer, input.checked);
      return;
    }
    const field = input.dataset.field;
    const boxes = [...el.querySelectorAll(`input[data-layer="${CSS.escape(layer)}"][data-field="${CSS.escape(field)}"]`)];
    const values = boxes.filter((b) => b.checked).map((b) => b.dataset.value);
    onFilter(layer, field, values.length === boxes.length ? null : values);
  });
}

/** hasDue says whether a layer of /api/layers has a next assessment due day (households, risk points). */
export const hasDue = (layer) => (layer.fields ?? []).some((f) => f.name === 'next_assessment_due');

/** overdueId is the id of a layer's "overdue only" switch. */
export const overdueId = (layer) => `overdue-${layer}`;

// overdueHTML is a layer's "overdue only" switch, with how many are overdue
// once they are known (o: {on, count}).
function overdueHTML(layer, o) {
  const n = o?.count;
  return `<label class="om-class om-overdue"><input type="checkbox" id="${escapeHtml(overdueId(layer.id))}" ` +
    `data-layer="${escapeHtml(layer.id)}" data-overdue="1"${o?.on ? ' checked' : ''}>` +
    `<span class="om-class-name">${escapeHtml(t('overdueOnly'))}</span>` +
    `<span class="om-count" id="${escapeHtml(`${overdueId(layer.id)}-count`)}">${n == null ? '' : escapeHtml(formatCount(n))}</span></label>`;
}

// countText is a layer's count: all of it, or how many of it the filters
// leave ("≤" when that is an upper bound).
function countText(counts, chosen) {
  const { n, exact } = shownCount(counts, chosen);
  const narrowed = Object.values(chosen ?? {}).some(Boolean);
  if (!narrowed) return formatCount(counts?.total);
  return `${exact ? '' : '≤'}${formatCount(n)} / ${formatCount(counts?.total)}`;
}

/** updateCounts writes new counts into a rendered panel, leaving its inputs (and the focus) alone. */
export function updateCounts(el, layers, { counts, chosen }) {
  for (const l of layers) {
    const c = counts[l.id];
    if (!c) continue;
    const total = el.querySelector(`#${CSS.escape(countId(l.id))}`);
    if (total) total.textContent = countText(c, chosen?.[l.id]);
    for (const field of FILTER_FIELDS) {
      for (const [v, n] of Object.entries(c[field] ?? {})) {
        const span = el.querySelector(`#${CSS.escape(countId(l.id, field, v))}`);
        if (span) span.textContent = formatCount(n);
      }
      // Values no longer counted read 0.
      for (const span of el.querySelectorAll(`[id^="${CSS.escape(countId(l.id, field, ''))}"]`)) {
        const v = span.closest('label')?.querySelector('input')?.dataset.value;
        if (v !== undefined && !(v in (c[field] ?? {}))) span.textContent = formatCount(0);
      }
    }
  }
}
