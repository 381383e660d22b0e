// The feature card: the popup of popup.js, and for a grid also where it sits
// (county → township → village → group), what it holds (/api/stats/grids/{id})
// and its children to drill down to. HTML strings, every value escaped; the
// buttons carry data-grid-id / data-action for main.js to act on.

import { popupHTML } from './popup.js';
import { escapeHtml, formatCount, formatLonLat } from './format.js';
import { orderedCounts, valueLabel } from './labels.js';
import { colourOf } from './style.js';
import { t } from './i18n.js';

/** STATS_ORDER is the order of the point layers in a grid's statistics. */
export const STATS_ORDER = ['risk_points', 'households', 'cameras', 'stations'];

// Short names of the point layers, for one-line summaries.
const SHORT = t('short');

const CHILD_LEVEL = { county: 'township', township: 'village', village: 'group' };

/**
 * chainTo cuts a chain of grids (county first, as /api/locate answers) just
 * above gridId: it returns the ancestors of gridId, or null when gridId is
 * not in the chain (the point was not inside that grid).
 */
export function chainTo(chain, gridId) {
  const i = (chain ?? []).findIndex((g) => String(g.id) === String(gridId));
  return i < 0 ? null : chain.slice(0, i);
}

// countColour is the legend colour of a tallied code, if it has one: the
// colour the server's style gives it.
function countColour(layer, field, key) {
  return colourOf(layer, field, key);
}

/** countsHTML renders a tally {code: n} of field of layer as chips: "● 重大 4". */
export function countsHTML(layer, field, counts) {
  return orderedCounts(layer, field, counts).map(({ key, label, count }) => {
    const colour = countColour(layer, field, key);
    const dot = colour ? `<span class="om-dot om-dot-small" style="background:${escapeHtml(colour)}"></span>` : '';
    return `<span class="om-chip" data-key="${escapeHtml(key)}" data-count="${count}">${dot}${escapeHtml(label)} <b>${formatCount(count)}</b></span>`;
  }).join('');
}

// statLayers returns the layer ids of a stats object in STATS_ORDER, then others.
function statLayers(stats) {
  const ids = Object.keys(stats ?? {});
  return [...STATS_ORDER.filter((id) => ids.includes(id)), ...ids.filter((id) => !STATS_ORDER.includes(id)).sort()];
}

const titleOf = (layerById, id) => layerById?.get(id)?.title || id;

/**
 * breadcrumbHTML renders where a grid sits: its ancestors (county first) as
 * buttons, then the grid itself.
 */
export function breadcrumbHTML(ancestors, grid) {
  const items = (ancestors ?? []).map((g) =>
    `<li><button type="button" class="om-link" data-grid-id="${escapeHtml(g.id)}" title="${escapeHtml(valueLabel('grids', 'level', g.level))}">${escapeHtml(g.name || `#${g.id}`)}</button></li>`);
  items.push(`<li aria-current="location">${escapeHtml(grid.name || `#${grid.id}`)}</li>`);
  return `<nav class="om-crumbs" aria-label="${escapeHtml(t('gridOf'))}"><ol>${items.join('')}</ol></nav>`;
}

/**
 * gridStatsHTML renders one grid's statistics: a row per point layer with
 * its total and its tally (risk points and households by level, cameras by
 * status, stations by kind).
 */
export function gridStatsHTML(gridId, stats, layerById) {
  const ids = statLayers(stats);
  if (!ids.length) return `<section class="om-stats" data-stats-for="${escapeHtml(gridId)}"><p class="om-muted">${escapeHtml(t('noStats'))}</p></section>`;
  const rows = ids.map((id) => {
    const s = stats[id];
    return `<tr data-stat-layer="${escapeHtml(id)}" data-total="${escapeHtml(s.total ?? 0)}">` +
      `<th>${escapeHtml(titleOf(layerById, id))}</th><td class="om-num">${formatCount(s.total ?? 0)}</td>` +
      `<td>${countsHTML(id, s.by, s.count)}</td></tr>`;
  });
  return `<section class="om-stats" data-stats-for="${escapeHtml(gridId)}"><h4>${escapeHtml(t('gridStats'))}</h4>` +
    `<table><tbody>${rows.join('')}</tbody></table></section>`;
}

// shortName drops the parent's name from the front of a child's name
// ("东岳社区第四居民小组" under 东岳社区 → "第四居民小组").
function shortName(name, parent) {
  return name && parent && name.length > parent.length && name.startsWith(parent) ? name.slice(parent.length) : name;
}

/** childrenHTML renders a grid's children as drill-down buttons with a one-line summary each. */
export function childrenHTML(grid, children) {
  if (!children?.length) return '';
  const level = valueLabel('grids', 'level', children[0].level ?? CHILD_LEVEL[grid.level] ?? '');
  const items = children.map((c) => {
    const summary = statLayers(c.stats).map((id) => `${SHORT[id] ?? id} ${formatCount(c.stats[id].total ?? 0)}`).join(' · ');
    return `<li><button type="button" class="om-child" data-grid-id="${escapeHtml(c.id)}" title="${escapeHtml(c.name ?? '')}">` +
      `<span>${escapeHtml(shortName(c.name, grid.name) || `#${c.id}`)}</span><small>${escapeHtml(summary)}</small></button></li>`;
  });
  return `<section class="om-children"><h4>${escapeHtml(t('children'))} <small>${escapeHtml(t('childCount', children.length, level))}</small></h4>` +
    `<ul>${items.join('')}</ul></section>`;
}

/** workerHTML renders "网格员 name phone" with the phone as a tel: link; empty without a name. */
export function workerHTML(name, phone) {
  if (!name) return '';
  const tel = phone ? ` <a href="tel:${escapeHtml(String(phone).replace(/[^\d+]/g, ''))}">${escapeHtml(phone)}</a>` : '';
  return `<p class="om-worker">${escapeHtml(t('worker', name))}${tel}</p>`;
}

const ACTIONS = '<div class="om-card-actions">' +
  `<button type="button" data-action="around" title="${escapeHtml(t('aroundHereTitle'))}">${escapeHtml(t('aroundHere'))}</button>` +
  `<button type="button" data-action="zoom">${escapeHtml(t('zoomTo'))}</button></div>`;

/**
 * cardHTML renders the card of a feature of layer: the popup of popup.js,
 * and for a grid its breadcrumb (grid.ancestors) above and its worker,
 * statistics and children between the heading and the (folded) table;
 * then the actions; with grid.inPanel (the command map) the statistics
 * are in the side panel and the card links to it. grid.error says why a grid's statistics are missing;
 * without stats or error they are loading. gridNames (a Map of grid id →
 * name, which main.js fills) names the feature's grid; a grid's ancestors
 * name its parent. now is today (for overdue assessments).
 */
export function cardHTML({ layer, properties, id, pointCount, grid, layerById, gridNames = null, now = new Date() }) {
  const parts = [];
  const names = new Map(gridNames ?? []);
  for (const g of grid?.ancestors ?? []) if (g.name) names.set(String(g.id), g.name);
  const opts = { pointCount, gridNames: names, now };
  if (layer.id !== 'grids') {
    parts.push(popupHTML(layer, properties, id, opts));
  } else {
    const self = { id, name: properties.name, level: properties.level };
    if (grid?.ancestors) parts.push(breadcrumbHTML(grid.ancestors, self));
    const extra = [workerHTML(properties.worker_name, properties.worker_phone)];
    if (grid?.inPanel) {
      // The statistics and children are in the side panel; the card says so.
      extra.push(`<p class="om-card-note"><button type="button" class="om-link" data-action="grid-panel">${escapeHtml(t('showGridPanel'))} ›</button></p>`);
    } else if (grid?.stats) {
      extra.push(gridStatsHTML(id, grid.stats, layerById), childrenHTML(self, grid.children));
    } else if (grid?.error) {
      extra.push(`<p class="om-muted om-card-note">${escapeHtml(t('statsFailed', grid.error))}</p>`);
    } else {
      extra.push(`<p class="om-muted om-card-note" aria-busy="true">${escapeHtml(t('statsLoading'))}</p>`);
    }
    parts.push(popupHTML(layer, properties, id, { ...opts, before: extra.join(''), collapse: true }));
  }
  parts.push(ACTIONS);
  return `<div class="om-card" data-layer="${escapeHtml(layer.id)}" data-id="${escapeHtml(id ?? '')}">${parts.join('')}</div>`;
}

/**
 * pointCardHTML renders the card of a point found by its coordinates: the
 * grids that hold it (county first) as buttons, the worker of the deepest,
 * and the "around" action.
 */
export function pointCardHTML(point, grids) {
  const chain = grids?.length
    ? `<nav class="om-crumbs" aria-label="${escapeHtml(t('gridsAt'))}"><ol>${grids.map((g) =>
      `<li><button type="button" class="om-link" data-grid-id="${escapeHtml(g.id)}" title="${escapeHtml(valueLabel('grids', 'level', g.level))}">${escapeHtml(g.name || `#${g.id}`)}</button></li>`).join('')}</ol></nav>`
    : `<p class="om-muted">${escapeHtml(t('outside'))}</p>`;
  const last = grids?.[grids.length - 1];
  return `<div class="om-card" data-point="${escapeHtml(point.join(','))}">` +
    `<h3><span class="om-popup-layer">${escapeHtml(t('coordinate'))}</span> ${escapeHtml(formatLonLat(point))}</h3>${chain}` +
    workerHTML(last?.worker_name, last?.worker_phone) +
    `<div class="om-card-actions"><button type="button" data-action="around" title="${escapeHtml(t('aroundHereTitle'))}">${escapeHtml(t('aroundHere'))}</button></div></div>`;
}
