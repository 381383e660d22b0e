// A grid's statistics in the command map's side panel (like 周边): what the
// grid holds, then its children ranked by risk — the most 重大, then 较大,
// 一般 and 低 hazards and risk households first — each with its levels as
// coloured badges, and a button to drill down. HTML strings, every value
// escaped; buttons carry data-grid-id for the controller
// (command/gridpanel.js). The card on the map stays small: where the grid
// sits, its worker, its actions.

import { escapeHtml, formatCount } from './format.js';
import { gridStatsHTML, workerHTML } from './card.js';
import { valueLabel } from './labels.js';
import { colourOf } from './style.js';
import { t } from './i18n.js';

/** LEVELS are the risk levels, most severe first. */
export const LEVELS = ['red', 'orange', 'yellow', 'blue'];
// RISK_LAYERS are the layers whose levels rank a grid.
const RISK_LAYERS = ['risk_points', 'households'];
// Colours of the levels when the style gives none (its legend's).
const FALLBACK = { red: '#d7263d', orange: '#f08c00', yellow: '#f2c200', blue: '#1c7ed6' };

/**
 * riskLevels returns how many hazards and risk households of each level a
 * grid's stats hold: {red: {risk_points, households, all}, …}.
 */
export function riskLevels(stats) {
  const out = {};
  for (const level of LEVELS) {
    const by = {};
    let all = 0;
    for (const layer of RISK_LAYERS) {
      const s = stats?.[layer];
      const n = s?.by === 'level' ? Number(s.count?.[level] ?? 0) : 0;
      by[layer] = n;
      all += n;
    }
    out[level] = { ...by, all };
  }
  return out;
}

/**
 * byRisk orders children (of /api/stats/grids) by risk: more 重大 first,
 * then more 较大, 一般, 低, then by name.
 */
export function byRisk(children) {
  const key = (c) => riskLevels(c.stats);
  return [...(children ?? [])].map((c) => ({ c, k: key(c) })).sort((a, b) => {
    for (const l of LEVELS) {
      if (a.k[l].all !== b.k[l].all) return b.k[l].all - a.k[l].all;
    }
    return String(a.c.name ?? '').localeCompare(String(b.c.name ?? ''), 'zh-CN');
  }).map(({ c }) => c);
}

/** badgesHTML renders a grid's risk levels as coloured badges (重大 2), none for a level it has none of. */
export function badgesHTML(stats) {
  const levels = riskLevels(stats);
  const out = LEVELS.filter((l) => levels[l].all > 0).map((l) => {
    const colour = colourOf('risk_points', 'level', l) ?? FALLBACK[l];
    const title = t('badgeTitle', valueLabel('risk_points', 'level', l), levels[l].risk_points, levels[l].households);
    return `<span class="om-badge om-badge-${l}" data-level="${l}" data-count="${levels[l].all}" style="background:${escapeHtml(colour)}" ` +
      `title="${escapeHtml(title)}">${escapeHtml(valueLabel('risk_points', 'level', l))} ${formatCount(levels[l].all)}</span>`;
  });
  return out.length ? out.join('') : `<span class="om-badge om-badge-none">${escapeHtml(t('noRisk'))}</span>`;
}

// shortName drops the parent's name from the front of a child's name
// ("东岳社区第四居民小组" under 东岳社区 → "第四居民小组").
function shortName(name, parent) {
  return name && parent && name.length > parent.length && name.startsWith(parent) ? name.slice(parent.length) : name;
}

/**
 * gridPanelHTML renders the panel's body for grid ({id, name, level,
 * worker_name, worker_phone}): its statistics, then its children ranked by
 * risk with badges. error says why the statistics are missing; without
 * stats or error they are loading.
 */
export function gridPanelHTML({ grid, stats, children, error, layerById }) {
  const head = `<p class="om-muted om-grid-level">${escapeHtml(valueLabel('grids', 'level', grid.level ?? ''))}</p>` +
    workerHTML(grid.worker_name, grid.worker_phone);
  if (error) return `${head}<p class="om-muted">${escapeHtml(t('statsFailed', error))}</p>`;
  if (!stats) return `${head}<p class="om-muted" aria-busy="true">${escapeHtml(t('statsLoading'))}</p>`;
  const parts = [head, gridStatsHTML(grid.id, stats, layerById)];
  const kids = byRisk(children);
  if (kids.length) {
    const level = valueLabel('grids', 'level', kids[0].level ?? '');
    const items = kids.map((c, i) => {
      const risks = riskLevels(c.stats);
      const total = RISK_LAYERS.reduce((n, l) => n + Number(c.stats?.[l]?.total ?? 0), 0);
      return `<li data-grid-id="${escapeHtml(c.id)}" data-rank="${i + 1}" data-red="${risks.red.all}">` +
        `<button type="button" class="om-child om-rank-item" data-grid-id="${escapeHtml(c.id)}" title="${escapeHtml(c.name ?? '')}">` +
        `<span class="om-rank-name">${escapeHtml(shortName(c.name, grid.name) || `#${c.id}`)}</span>` +
        `<span class="om-rank-total">${escapeHtml(t('riskTotal', formatCount(total)))}</span>` +
        `<span class="om-badges">${badgesHTML(c.stats)}</span></button></li>`;
    });
    parts.push(`<section class="om-children om-ranked"><h4>${escapeHtml(t('children'))} ` +
      `<small>${escapeHtml(t('childCount', kids.length, level))} · ${escapeHtml(t('byRisk'))}</small></h4>` +
      `<ol>${items.join('')}</ol></section>`);
  }
  return parts.join('');
}
