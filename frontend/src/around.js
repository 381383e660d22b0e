// "What's around here" (周边): the pure parts of the side panel over
// /api/around: radius parsing and naming, the rows of the lists (nearest
// first), the panel's HTML and the CSV export. The DOM and the map are
// handled in main.js.

import { escapeHtml, formatCount, formatLength } from './format.js';
import { valueLabel } from './labels.js';
import { countsHTML, workerHTML } from './card.js';
import { lang, t } from './i18n.js';

/** RADII are the radii offered, metres. */
export const RADII = [500, 1000, 3000, 5000];
export const DEFAULT_RADIUS = 1000;
/** MAX_RADIUS is the largest radius /api/around accepts, metres. */
export const MAX_RADIUS = 50_000;

/**
 * AROUND_ORDER is the order of the layers in the panel: the hazards and the
 * people at risk first, then the shelters and stations to call on, then the cameras
 * (often hundreds) to look at the scene.
 */
export const AROUND_ORDER = ['risk_points', 'hazard_zones', 'households', 'shelters', 'stations', 'cameras'];

// TALLY names, per layer, the count the summary breaks the layer down by:
// cameras by status (how many can be watched), stations by kind (what help
// is near), the open cases by status (the server's by_status), the others
// by level.
const TALLY = { cameras: 'status', stations: 'kind', shelters: 'kind', cases: 'status' };

// layerTitle names a layer of the answer: its title in the layer list, else
// the panel's own word (the open cases are no layer of the list: the panel
// showed their id, "cases"), else its id.
const layerTitle = (layerById, id) => layerById?.get(id)?.title || (id === 'cases' ? t('aroundCases') : id);

/**
 * counted says n of a layer in the words of key (places, tallyOfNearest,
 * listedNearest): the open cases in their own (i18n's key + "Cases": 件,
 * not 处; "cases" in English where the count stands without its title).
 */
export const counted = (key, layer, n) => t(layer === 'cases' ? `${key}Cases` : key, n);

const UNITS = { '': 1, m: 1, '米': 1, km: 1000, '公里': 1000, '千米': 1000 };

/**
 * parseRadius reads a radius as metres: "500", "500 m", "500米", "1km",
 * "1.5 公里", "3 千米". It returns null for anything else, and for a radius
 * that is not above 0 or is beyond MAX_RADIUS.
 */
export function parseRadius(text) {
  const m = String(text ?? '').trim().toLowerCase().match(/^(\d+(?:\.\d+)?|\.\d+)\s*(m|km|米|公里|千米)?$/);
  if (!m) return null;
  const metres = Number(m[1]) * UNITS[m[2] ?? ''];
  return metres > 0 && metres <= MAX_RADIUS ? Math.round(metres) : null;
}

/** aroundLayers returns the layer ids of an /api/around answer in panel order. */
export function aroundLayers(resp) {
  const ids = Object.keys(resp?.layers ?? {});
  return [...AROUND_ORDER.filter((id) => ids.includes(id)), ...ids.filter((id) => !AROUND_ORDER.includes(id)).sort()];
}

// CONTACT names, per layer, the properties holding a contact and a phone.
const CONTACT = {
  risk_points: ['responsible_name', 'responsible_phone'],
  households: ['responsible_name', 'responsible_phone'],
  stations: [null, 'phone'],
};

/**
 * aroundRows returns the features listed in an /api/around answer as flat
 * rows, in panel order: layer by layer (aroundLayers), nearest first (ties
 * by id). A layer the caller may only count lists nothing.
 */
export function aroundRows(resp) {
  const rows = [];
  for (const layer of aroundLayers(resp)) {
    const features = resp.layers[layer].features ?? [];
    const [contactKey, phoneKey] = CONTACT[layer] ?? [];
    const list = features.map((f) => {
      // Cases come as the case list's briefs, not as GeoJSON features.
      const p = f.properties ?? f;
      return {
        layer,
        id: f.id,
        name: p.name ?? p.tracking_code ?? '',
        level: p.level ?? '',
        kind: p.kind ?? p.category ?? '',
        status: p.status ?? '',
        distance: Number(p.distance_m),
        position: f.geometry?.type === 'Point' ? f.geometry.coordinates : (Array.isArray(f.position) ? f.position : null),
        contact: contactKey ? p[contactKey] ?? '' : '',
        phone: phoneKey ? p[phoneKey] ?? '' : '',
      };
    });
    list.sort((a, b) => a.distance - b.distance || a.id - b.id);
    rows.push(...list);
  }
  return rows;
}

/** aroundGrids returns the grids of an /api/around answer: those holding the point first (county down), then by distance. */
export function aroundGrids(resp) {
  return [...(resp?.grids ?? [])].sort((a, b) => (a.distance_m ?? 0) - (b.distance_m ?? 0));
}

/** CSV_HEADER is the header of the exported CSV. */
export const CSV_HEADER = t('csvHeader');

/**
 * csvRows returns the rows of the CSV export of an /api/around answer: the
 * grids first, then the features, in the panel's order, with layer titles
 * and coded values in Chinese and the distance in metres.
 */
export function csvRows(resp, layerById) {
  const title = (id) => layerTitle(layerById, id);
  const grids = aroundGrids(resp).map((g) => [title('grids'), g.id, g.name ?? '',
    valueLabel('grids', 'level', g.level ?? ''), '', '', g.distance_m ?? 0, g.worker_name ?? '', g.worker_phone ?? '']);
  const features = aroundRows(resp).map((r) => [title(r.layer), r.id, r.name,
    r.level ? valueLabel(r.layer, 'level', r.level) : '', r.kind ? valueLabel(r.layer, 'kind', r.kind) : '',
    r.status ? valueLabel(r.layer, 'status', r.status) : '', r.distance, r.contact, r.phone]);
  return [...grids, ...features];
}

/** csvFileName names the export: onemap-around-LON-LAT-RADIUSm.csv. */
export function csvFileName([lon, lat], radius) {
  return `onemap-around-${lon.toFixed(5)}-${lat.toFixed(5)}-${radius}m.csv`;
}

/** tally counts the values of property key over rows. */
export function tally(rows, key) {
  const out = {};
  for (const r of rows) if (r[key]) out[r[key]] = (out[r[key]] ?? 0) + 1;
  return out;
}

// rowLabel returns the main and secondary text of a listed feature.
function rowLabel(r) {
  const kind = r.kind ? valueLabel(r.layer, 'kind', r.kind) : '';
  const level = r.level ? valueLabel(r.layer, 'level', r.level) : '';
  const status = r.status ? valueLabel(r.layer, 'status', r.status) : '';
  const name = r.name || kind || `#${r.id}`;
  const rest = [status, level, r.name ? kind : ''].filter(Boolean).join(' · ');
  return { name, rest };
}

/**
 * aroundHTML renders the body of the side panel for an /api/around answer:
 * a summary per layer (count, and counts per level, per status for cameras,
 * per kind for stations: the server's counts over everything within the
 * radius), the grids that hold the point and those within the radius
 * (folded) with their workers, and a list per layer, nearest first. Items carry data-layer, data-id, data-lon, data-lat, data-distance.
 */
export function aroundHTML(resp, layerById) {
  const title = (id) => layerTitle(layerById, id);
  const ids = aroundLayers(resp);
  const rows = aroundRows(resp);
  const byLayer = (id) => rows.filter((r) => r.layer === id);

  const summary = ids.map((id) => {
    const l = resp.layers[id];
    const field = TALLY[id] ?? 'level';
    let counts = l[`by_${field}`];
    let note = '';
    if (!counts) {
      // An answer without the server's counts: tally the listed features,
      // and say so when they are not all of them.
      const listed = byLayer(id);
      counts = tally(listed, field);
      if (l.truncated && listed.length) note = `<small class="om-muted">${escapeHtml(counted('tallyOfNearest', id, formatCount(listed.length)))}</small>`;
    }
    const chips = countsHTML(id, field, counts);
    return `<tr data-layer="${escapeHtml(id)}" data-count="${escapeHtml(l.count ?? 0)}">` +
      `<th>${escapeHtml(title(id))}</th><td class="om-num">${formatCount(l.count ?? 0)}</td><td>${chips}${note}</td></tr>`;
  }).join('');

  const grids = aroundGrids(resp);
  const gridItem = (g) => {
    const where = g.distance_m > 0 ? formatLength(g.distance_m, lang) : t('here');
    return `<li data-grid-id="${escapeHtml(g.id)}" data-distance="${escapeHtml(g.distance_m ?? 0)}">` +
      `<button type="button" class="om-item" data-layer="grids" data-id="${escapeHtml(g.id)}" data-distance="${escapeHtml(g.distance_m ?? 0)}">` +
      `<span class="om-item-name"><small>${escapeHtml(valueLabel('grids', 'level', g.level ?? ''))}</small> ${escapeHtml(g.name ?? `#${g.id}`)}</span>` +
      `<span class="om-item-dist">${escapeHtml(where)}</span></button>` +
      `${workerHTML(g.worker_name, g.worker_phone)}</li>`;
  };
  const holding = grids.filter((g) => !(g.distance_m > 0));
  const nearby = grids.filter((g) => g.distance_m > 0);
  const gridLists =
    (holding.length ? `<details class="om-list om-grids" data-grids="holding" open><summary>${escapeHtml(t('gridsAt'))} <small>${escapeHtml(t('levels', holding.length))}</small></summary><ol>${holding.map(gridItem).join('')}</ol></details>` : '') +
    (nearby.length ? `<details class="om-list om-grids" data-grids="nearby"><summary>${escapeHtml(t('otherGrids'))} <small>${escapeHtml(t('gridsCount', nearby.length))}</small></summary><ol>${nearby.map(gridItem).join('')}</ol></details>` : '');

  const lists = ids.map((id) => {
    const l = resp.layers[id];
    const listed = byLayer(id);
    if (!listed.length) return '';
    const more = l.truncated ? counted('listedNearest', id, formatCount(listed.length)) : '';
    const items = listed.map((r) => {
      const { name, rest } = rowLabel(r);
      const [lon, lat] = r.position ?? [];
      return `<li><button type="button" class="om-item" data-layer="${escapeHtml(id)}" data-id="${escapeHtml(r.id)}"` +
        (r.position ? ` data-lon="${lon}" data-lat="${lat}"` : '') + ` data-distance="${escapeHtml(r.distance)}">` +
        `<span class="om-item-name">${escapeHtml(name)}${rest ? ` <small>${escapeHtml(rest)}</small>` : ''}</span>` +
        `<span class="om-item-dist">${escapeHtml(formatLength(r.distance, lang))}</span></button></li>`;
    }).join('');
    return `<details class="om-list" data-layer="${escapeHtml(id)}" open><summary>${escapeHtml(title(id))} ` +
      `<small>${escapeHtml(counted('places', id, formatCount(l.count ?? 0)))}${escapeHtml(more)}</small></summary><ol>${items}</ol></details>`;
  }).join('');

  const empty = !rows.length && !grids.length ? `<p class="om-muted">${escapeHtml(t('nothingAround'))}</p>` : '';
  return `<table class="om-summary"><tbody>${summary}</tbody></table>${empty}${gridLists}${lists}`;
}
