// The key figures of the control-room wall (大屏): grids by level, grid
// workers, risk points by level and the cameras' online rate, from the live
// counts (counts.js) and the number of grid workers.

import { orderedCounts } from './labels.js';
import { t } from './i18n.js';
import { escapeHtml, formatCount } from './format.js';

/**
 * keyFigures returns the figures to show: [{id, label, value, parts:
 * [{key, label, count}]}]; a layer the caller may not see is left out.
 */
export function keyFigures(counts, workers) {
  const out = [];
  if (counts.grids) {
    out.push({ id: 'grids', label: t('grids'), value: formatCount(counts.grids.total),
      parts: orderedCounts('grids', 'level', counts.grids.level) });
  }
  if (Number.isFinite(workers)) out.push({ id: 'workers', label: t('gridWorkers'), value: formatCount(workers), parts: [] });
  if (counts.risk_points) {
    out.push({ id: 'risk_points', label: t('riskPoints'), value: formatCount(counts.risk_points.total),
      parts: orderedCounts('risk_points', 'level', counts.risk_points.level) });
  }
  const cams = counts.cameras;
  if (cams) {
    const online = cams.status?.online ?? 0;
    const rate = cams.total ? (100 * online) / cams.total : 0;
    out.push({ id: 'cameras', label: t('camerasOnline'), value: `${rate.toFixed(1)}%`,
      parts: orderedCounts('cameras', 'status', cams.status) });
  }
  return out;
}

/** figuresHTML renders the figures, each part with the colour the style gives its value (colours: {key: colour}). */
export function figuresHTML(figures, colours = {}) {
  return figures.map((f) => `<div class="om-figure" data-figure="${escapeHtml(f.id)}">` +
    `<div class="om-figure-label">${escapeHtml(f.label)}</div>` +
    `<div class="om-figure-value">${escapeHtml(f.value)}</div>` +
    (f.parts.length ? '<ul class="om-figure-parts">' + f.parts.map((p) => {
      const c = colours[f.id]?.[p.key];
      return `<li>${c ? `<span class="om-dot" style="background:${escapeHtml(c)}"></span>` : ''}` +
        `${escapeHtml(p.label)} <b>${escapeHtml(formatCount(p.count))}</b></li>`;
    }).join('') + '</ul>' : '') +
    '</div>').join('');
}
