// The layer panel: one checkbox per data layer (it shows or hides every style
// layer drawn for it) and a small legend under each.

import { escapeHtml } from './popup.js';
import { valueLabel } from './labels.js';
import { CAMERA_COLOURS, GRID_LEVELS, RISK_COLOURS, STATION_COLOURS, STATION_OTHER } from './style.js';

const dot = (colour, cls = '') =>
  `<span class="om-dot ${cls}" style="background:${escapeHtml(colour)}"></span>`;

function item(symbol, text) {
  return `<li>${symbol}<span>${escapeHtml(text)}</span></li>`;
}

// legendHTML returns the legend of one data layer.
export function legendHTML(id) {
  switch (id) {
    case 'grids':
      return Object.entries(GRID_LEVELS).map(([level, s]) => item(
        `<span class="om-line" style="border-top:${Math.max(1, Math.round(s.width[1]))}px solid ${escapeHtml(s.line)}"></span>`,
        valueLabel('grids', 'level', level))).join('');
    case 'risk_points':
    case 'households':
      return Object.entries(RISK_COLOURS).map(([level, c]) =>
        item(dot(c, id === 'households' ? 'om-dot-small om-dot-stroke' : ''), valueLabel(id, 'level', level))).join('');
    case 'cameras':
      return Object.entries(CAMERA_COLOURS).map(([status, c]) =>
        item(dot(c, 'om-dot-small'), valueLabel('cameras', 'status', status))).join('');
    case 'stations':
      return [
        ...Object.entries(STATION_COLOURS).map(([kind, c]) => item(dot(c, 'om-dot-stroke'), valueLabel('stations', 'kind', kind))),
        item(dot(STATION_OTHER, 'om-dot-stroke'), '其他'),
      ].join('');
    default:
      return '';
  }
}

/**
 * renderPanel fills el with the region's name and a checkbox per layer.
 * onToggle(id, visible) is called when a checkbox changes.
 */
export function renderPanel(el, region, layers, onToggle) {
  const count = (n) => (Number.isFinite(n) ? n.toLocaleString('zh-CN') : '');
  el.innerHTML =
    `<details open><summary><h1>${escapeHtml(region.name)}<small>一张图</small></h1></summary>` +
    '<ul class="om-layers">' +
    layers.map((l) => {
      const legend = legendHTML(l.id);
      return `<li class="om-layer" data-layer="${escapeHtml(l.id)}">` +
        `<label><input type="checkbox" id="layer-toggle-${escapeHtml(l.id)}" data-layer="${escapeHtml(l.id)}" checked>` +
        `<span class="om-layer-title">${escapeHtml(l.title || l.id)}</span>` +
        `<span class="om-count">${escapeHtml(count(l.count))}</span></label>` +
        (legend ? `<ul class="om-legend">${legend}</ul>` : '') +
        '</li>';
    }).join('') +
    '</ul></details>';
  el.addEventListener('change', (e) => {
    const input = e.target;
    if (input instanceof HTMLInputElement && input.dataset.layer) onToggle(input.dataset.layer, input.checked);
  });
}
