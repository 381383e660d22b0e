// Pure parts of the control-room wall (/screen/), kept apart from the page so
// that they can be tested without a browser: how much the wall scales its map
// for the screen it is on, the figures it reads from the statistics (members
// that other parts of the server add when they have them: a card shows only
// when its member is there), the cameras out of order by township, the live
// lists (alarms, changes) and the legend. Words are the wall's own, in the
// page's language.

import { escapeHtml, formatCount, formatTimeOfDay } from '../format.js';
import { iconImage } from '../icons.js';
import { lang, translate } from '../i18n.js';
import { valueLabel } from '../labels.js';
import { dataLayerIds, legendOf, META_LAYER } from '../style.js';

const W = {
  zh: {
    major: '重大隐患', majorHouseholds: '重大风险户', overdue: '逾期未评估', due: '待评估', workers: '网格员',
    faults: '视频故障（按乡镇）', fault: '故障', offline: '离线', noFaults: '各乡镇视频均正常',
    alarms: '今日预警', alarmsOpen: '待处置', alarmLive: '新预警', noAlarms: '暂无新预警',
    changes: '实时变更', noChanges: '等待数据变更…', legend: '图例',
    insert: '新增', update: '更新', delete: '删除',
    risk_points: '风险点', households: '风险户', cameras: '视频', stations: '服务站', grids: '网格',
    hazard_zones: '危险区', shelters: '安置点', threatened: '威胁 %h 户 %p 人', capacity: '可容纳 %d 人',
    new: '新', acknowledged: '已确认',
    township: '乡镇', otherTownships: '其余 %d 个乡镇',
    stationMany: '相邻多个（按类型分色）', shelterKey: '圆越大可容纳越多',
  },
  en: {
    major: 'Major hazards', majorHouseholds: 'Major-risk households', overdue: 'Assessments overdue', due: 'Due',
    workers: 'Grid workers', faults: 'Camera faults by township', fault: 'Fault', offline: 'Offline',
    noFaults: 'Every township\'s cameras work', alarms: 'Alarms today', alarmsOpen: 'Open', alarmLive: 'New alarms',
    noAlarms: 'No new alarm', changes: 'Live changes', noChanges: 'Waiting for changes…', legend: 'Legend',
    insert: 'New', update: 'Changed', delete: 'Deleted',
    risk_points: 'Risk point', households: 'Household', cameras: 'Camera', stations: 'Station', grids: 'Grid',
    hazard_zones: 'Hazard zone', shelters: 'Shelter', threatened: 'threatens %h households, %p people', capacity: 'holds %d people',
    new: 'New', acknowledged: 'Acknowledged',
    township: 'Township', otherTownships: '%d other townships',
    stationMany: 'Several nearby (by kind)', shelterKey: 'Larger holds more',
  },
};
const L = lang === 'en' ? 'en' : 'zh';

/**
 * w names a word of the wall in the page's language: every layer the wall
 * draws has one (hazard_zones 危险区, shelters 安置点); a layer added later
 * without one is named as the command map's cards name it (i18n.js's short
 * names) until it gets its own.
 */
export const w = (k) => W[L][k] ?? translate(L, 'short')?.[k] ?? k;

/**
 * wallScale is how much larger the wall draws its map than the command map
 * does (symbols, labels, lines: all of it), for a screen innerHeight CSS
 * pixels tall: 1.25 at 1920×1080, 2.5 at 3840×2160 (the map's symbols then
 * take the same share of the screen at both), never below 1. Larger, the
 * county's clusters would cover one another.
 */
export function wallScale(innerHeight) {
  return Math.max(1, Math.round((innerHeight / 864) * 100) / 100);
}

/**
 * phoneMapHeight is the height, CSS pixels, of the wall's map on a phone
 * of width × height (the page then scrolls: screen.css): three fifths of
 * the screen, at most 1.4 times its width (a county taller than wide fills
 * it; the figures start within the first screen).
 */
export function phoneMapHeight(width, height) {
  return Math.round(Math.min(0.6 * height, 1.4 * width));
}

/**
 * ZOOM_SNAP is how far above a whole zoom the wall's fitted view may land
 * and still be drawn from the tiles of the zoom below (see wallZoom).
 */
export const ZOOM_SNAP = 0.05;

/**
 * wallZoom returns the zoom the wall draws its county at, given the zoom
 * that fits it: the same, but when that lies just above a whole zoom n
 * (within ZOOM_SNAP), just under n. MapLibre draws a vector source from the
 * tiles of the whole zoom below the map's, and the demo county fits the
 * 1920×1080 wall at 8.997: a header or legend a few pixels shorter (the
 * font loaded earlier or later) tips it over 9, and the wall asks for the
 * z9 tiles, half as many bytes again (153 KB against 102, data and base) for
 * a picture under 1 % larger. Under n the county still fits, with a margin at
 * most 3.5 % wider.
 */
export function wallZoom(z) {
  const n = Math.floor(z);
  return z - n < ZOOM_SNAP && n > 0 ? n - 0.001 : z;
}

/**
 * WALL_MINZOOM are the layers the wall leaves out of its county view (drawn
 * from the zoom given): with the 2,400 risk households' squares, nearly half
 * of the hazard symbols sat on another (e2e/wall.test.mjs measures it), the
 * 900 risk points' alone under a tenth; the households' 重大 count is on the
 * 重大 card.
 */
export const WALL_MINZOOM = { households: 11 };

/**
 * wallSymbols returns the style with the point layers of minzoom (their
 * points, clusters and counts; not their outlines or fills) drawn only from
 * the zoom given.
 */
export function wallSymbols(style, minzoom = WALL_MINZOOM) {
  return {
    ...style,
    layers: style.layers.map((l) => {
      const id = l.metadata?.[META_LAYER];
      if (!id || !Number.isFinite(minzoom[id]) || (l.type !== 'symbol' && l.type !== 'circle')) return l;
      return { ...l, minzoom: Math.max(l.minzoom ?? 0, minzoom[id]) };
    }),
  };
}

/**
 * statFigure reads a figure that the statistics (/api/stats/grids) carry
 * when the server has it: the answer's own member, or else the sum of its
 * top grids' members; null when neither has it (the card is then hidden,
 * never made up from something else).
 */
export function statFigure(stats, member) {
  const own = stats?.[member];
  if (Number.isFinite(own)) return own;
  let sum = null;
  for (const g of stats?.children ?? []) {
    const v = g?.[member];
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

/**
 * wallFigures are the figures that matter most, first on the wall:
 * 重大 hazards (risk points of level red, with the red households), the
 * assessments overdue and the grid workers when the statistics carry them.
 * Each is {id, label, value, parts: [{key, label, count}], alert}.
 */
export function wallFigures(counts, stats) {
  const out = [];
  const red = counts?.risk_points?.level?.red;
  if (counts?.risk_points) {
    const parts = [];
    if (counts.households) parts.push({ key: 'households', label: w('majorHouseholds'), count: counts.households.level?.red ?? 0 });
    out.push({ id: 'major', label: w('major'), value: formatCount(red ?? 0), parts, alert: (red ?? 0) > 0 });
  }
  const overdue = statFigure(stats, 'assessments_overdue');
  if (overdue !== null) {
    const due = statFigure(stats, 'assessments_due');
    out.push({ id: 'overdue', label: w('overdue'), value: formatCount(overdue),
      parts: due === null ? [] : [{ key: 'due', label: w('due'), count: due }], alert: overdue > 0 });
  }
  const workers = statFigure(stats, 'grid_workers');
  if (workers !== null) out.push({ id: 'workers', label: w('workers'), value: formatCount(workers), parts: [] });
  return out;
}

/**
 * townshipFaults lists, from the statistics of the townships (their grid
 * statistics), each township's cameras at fault and offline, most faults
 * first; those with none are left out.
 */
export function townshipFaults(townships) {
  const out = [];
  for (const g of townships ?? []) {
    const c = g?.stats?.cameras?.count;
    if (!c) continue;
    const fault = c.fault ?? 0;
    const offline = c.offline ?? 0;
    if (fault + offline > 0) out.push({ id: g.id, name: String(g.name ?? g.code ?? g.id), fault, offline });
  }
  out.sort((a, b) => b.fault - a.fault || b.offline - a.offline || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/**
 * faultsHTML renders the township faults as a table of at most max rows;
 * the townships left out are summed in a last row (其余 N 个乡镇), so the
 * table's figures always add up to the county's.
 */
export function faultsHTML(rows, max = 8) {
  if (!rows.length) return `<p class="om-wall-empty">${escapeHtml(w('noFaults'))}</p>`;
  const shown = rows.length > max ? rows.slice(0, Math.max(0, max - 1)) : rows;
  const rest = rows.slice(shown.length);
  const row = (attr, name, fault, offline) => `<tr ${attr}><td>${name}</td><td class="om-n om-fault">${formatCount(fault)}</td><td class="om-n">${formatCount(offline)}</td></tr>`;
  return `<table class="om-faults"><thead><tr><th>${escapeHtml(w('township'))}</th><th>${escapeHtml(w('fault'))}</th><th>${escapeHtml(w('offline'))}</th></tr></thead><tbody>` +
    shown.map((r) => row(`data-grid="${r.id}"`, escapeHtml(r.name), r.fault, r.offline)).join('') +
    (rest.length ? row(`class="om-faults-rest" data-rest="${rest.length}"`, escapeHtml(w('otherTownships').replace('%d', formatCount(rest.length))),
      rest.reduce((n, r) => n + r.fault, 0), rest.reduce((n, r) => n + r.offline, 0)) : '') +
    '</tbody></table>';
}

/** chinaMidnight is the start of today in China (UTC+8), in ms since the epoch, for the clock now. */
export function chinaMidnight(now = Date.now()) {
  const day = 86_400_000;
  const shift = 8 * 3_600_000;
  return Math.floor((now + shift) / day) * day - shift;
}

// An alarm stays on the wall's list while it waits for someone.
const OPEN = new Set(['new', 'acknowledged']);

/**
 * alarmState folds alarms (as GET /api/alarms and the "alarm" events give
 * them) into the wall's state {byId: Map, today, open, list}: today is how
 * many were first raised since China's midnight, open how many wait (new or
 * acknowledged), list the open ones, newest first, at most max.
 */
export function alarmState(byId, alarms, { now = Date.now(), max = 8 } = {}) {
  for (const a of alarms) {
    if (!a || !Number.isFinite(a.id)) continue;
    const had = byId.get(a.id);
    if (had && (had.version ?? 0) > (a.version ?? 0)) continue; // an older version arrived late
    byId.set(a.id, a);
  }
  const start = chinaMidnight(now);
  let today = 0;
  const open = [];
  for (const a of byId.values()) {
    if (Date.parse(a.first_at) >= start) today++;
    if (OPEN.has(a.status)) open.push(a);
  }
  open.sort((a, b) => Date.parse(b.last_at) - Date.parse(a.last_at) || b.id - a.id);
  return { byId, today, open: open.length, list: open.slice(0, max) };
}

/** alarmsHTML renders the open alarms, the most severe in red. */
export function alarmsHTML(list) {
  if (!list.length) return `<li class="om-wall-empty">${escapeHtml(w('noAlarms'))}</li>`;
  return list.map((a) => `<li data-alarm="${a.id}" class="om-alarm om-sev-${Math.min(4, Math.max(1, a.severity | 0))}">` +
    `<span class="om-tag om-alarm-${escapeHtml(a.status)}">${escapeHtml(w(a.status))}</span>` +
    `${escapeHtml(a.kind_name || a.kind)}${a.count > 1 ? ` ×${a.count}` : ''} · ${escapeHtml(a.camera_name || a.device_code || '')}` +
    ` <small>${escapeHtml(a.last_at ? formatTimeOfDay(new Date(a.last_at)) : '')}</small></li>`).join('');
}

/**
 * changeItems puts the feature changes of a batch (the event stream's
 * "change" events, cases left out: they have their own list) before list,
 * newest first, at most max: {key, layer, op, name, at}.
 */
export function changeItems(list, changes, { at = Date.now(), max = 10 } = {}) {
  const fresh = [];
  for (const c of changes) {
    if (!c || c.layer === 'cases') continue;
    const p = c.properties ?? {};
    fresh.unshift({ key: `${c.layer}:${c.id}:${c.seq ?? at}`, layer: c.layer, id: c.id, op: c.op,
      name: String(p.name ?? p.code ?? p.device_code ?? `#${c.id}`), detail: changeDetail(c.layer, p), at });
  }
  return [...fresh, ...list].slice(0, max);
}

// changeDetail is what a change's feature now is, in a word: a risk
// point's, household's or hazard zone's level (a zone's with whom it
// threatens), a camera's status, a shelter's capacity.
function changeDetail(layer, p) {
  if (layer === 'cameras' && p.status) return valueLabel('cameras', 'status', p.status);
  if (layer === 'hazard_zones') {
    const threat = Number.isFinite(p.threatened_people) && Number.isFinite(p.threatened_households) && p.threatened_people > 0
      ? w('threatened').replace('%h', formatCount(p.threatened_households)).replace('%p', formatCount(p.threatened_people)) : '';
    return [p.level ? valueLabel(layer, 'level', p.level) : '', threat].filter(Boolean).join(' · ');
  }
  if ((layer === 'risk_points' || layer === 'households') && p.level) return valueLabel(layer, 'level', p.level);
  if (layer === 'shelters' && Number.isFinite(p.capacity)) return w('capacity').replace('%d', formatCount(p.capacity));
  return '';
}

/** changesHTML renders the live list of changes. */
export function changesHTML(list) {
  if (!list.length) return `<li class="om-wall-empty">${escapeHtml(w('noChanges'))}</li>`;
  return list.map((c) => `<li data-change="${escapeHtml(c.key)}"><span class="om-tag om-op-${escapeHtml(c.op)}">${escapeHtml(w(c.op))}</span>` +
    `${escapeHtml(w(c.layer))} · ${escapeHtml(c.name)}${c.detail ? ` · ${escapeHtml(c.detail)}` : ''}` +
    ` <small>${escapeHtml(formatTimeOfDay(new Date(c.at)))}</small></li>`).join('');
}

/**
 * fitZoom returns the zoom at which bounds ([w, s, e, n]) just fit a view of
 * width × height CSS pixels (MapLibre's 512 px tiles, Web Mercator): what
 * the wall's map will be fitted at, known before the map is made.
 */
export function fitZoom(bounds, width, height) {
  const [w, s, e, n] = bounds;
  const y = (lat) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  const zx = Math.log2((width * 360) / (512 * Math.max(1e-9, e - w)));
  const zy = Math.log2((height * 2 * Math.PI) / (512 * Math.max(1e-9, y(n) - y(s))));
  return Math.min(zx, zy);
}

// drawnAt says whether the style draws data layer id at zoom (a layer of
// it, not a label, shown and within its zoom range).
function drawnAt(style, id, zoom) {
  return style.layers.some((l) => l.metadata?.[META_LAYER] === id && !l.metadata?.['onemap:label'] &&
    l.layout?.visibility !== 'none' && (l.minzoom ?? 0) <= zoom && zoom < (l.maxzoom ?? 24));
}

// matchEntries reads ["match", ["get", field], v1, c1, …, other] into {field, entries}.
function matchEntries(expr) {
  if (!Array.isArray(expr) || expr[0] !== 'match' || expr[1]?.[0] !== 'get') return null;
  const entries = [];
  for (let i = 2; i + 1 < expr.length - 1; i += 2) {
    for (const value of [expr[i]].flat()) entries.push({ value, colour: expr[i + 1] });
  }
  return { field: expr[1][1], entries };
}

// ringOf names a cluster ring image (icons.js) cut into equal arcs of colours.
const ringOf = (colours) => `om-ring:circle:${colours.map((c) => `${String(c).replace('#', '').toLowerCase()}=1`).join(',')}`;

/**
 * wallLegend returns the legend of what the wall's map draws at zoom: per
 * data layer it draws there (grids left out: their outlines and the
 * townships' names need no key), {id, label, legend: {field, shape,
 * entries: [{value, colour, label?, icon?}]}}, in the map's order, hazards
 * first: risk points (triangles) and households (squares) by level, hazard
 * zones (dashed outlines) by level, stations (badges by kind, icon the
 * badge's image name, and their clusters' ring), shelters (a dot sized by
 * capacity), cameras by status. A layer drawn only from a closer zoom (the
 * households from 11, cameras from 13: WALL_MINZOOM, style.js) has no row
 * unless the county fits at that zoom.
 */
export function wallLegend(style, zoom) {
  const order = ['risk_points', 'households', 'hazard_zones', 'stations', 'shelters', 'cameras'];
  const ids = dataLayerIds(style).filter((id) => id !== 'grids' && drawnAt(style, id, zoom))
    .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
  const out = [];
  for (const id of ids) {
    const own = style.layers.filter((l) => l.metadata?.[META_LAYER] === id);
    let legend = null;
    if (id === 'stations') {
      const lg = legendOf(style, id);
      if (lg) {
        legend = { field: lg.field, shape: 'badge', entries: [
          ...lg.entries.map((e) => ({ ...e, icon: `om-st:${e.value}:${e.colour}` })),
          { value: null, colour: null, label: w('stationMany'), icon: ringOf(lg.entries.map((e) => e.colour)) },
        ] };
      }
    } else if (own.some((l) => l.type === 'fill' || l.type === 'line') && !own.some((l) => l.type === 'circle' || l.type === 'symbol')) {
      const line = own.find((l) => l.type === 'line');
      const m = matchEntries(line?.paint?.['line-color']) ?? matchEntries(own.find((l) => l.type === 'fill')?.paint?.['fill-color']);
      if (m) legend = { field: m.field, shape: 'zone', entries: m.entries };
    } else {
      legend = legendOf(style, id);
      const circle = own.find((l) => l.type === 'circle');
      if (!legend && typeof circle?.paint?.['circle-color'] === 'string') {
        legend = { field: null, shape: 'dot', entries: [{ value: null, colour: circle.paint['circle-color'], label: id === 'shelters' ? w('shelterKey') : w(id) }] };
      }
    }
    if (legend?.entries?.length) out.push({ id, label: w(id), legend });
  }
  return out;
}

/**
 * legendHTML renders the legend of the layers drawn: per layer ({id, label,
 * legend} as wallLegend gives them; style.js's legendOf's form too) its
 * shape in each colour with the value's name: an entry with an icon is a
 * canvas the page paints with that image (paintIcons), a zone a dashed box.
 */
export function legendHTML(layers) {
  return layers.filter((l) => l.legend?.entries?.length).map((l) => {
    const shape = escapeHtml(l.legend.shape ?? 'dot');
    const key = (e) => {
      if (e.icon) return `<canvas class="om-key-icon" data-icon="${escapeHtml(e.icon)}" width="1" height="1" aria-hidden="true"></canvas>`;
      if (shape === 'zone') return `<span class="om-zone" style="border-color:${escapeHtml(e.colour)};background:${escapeHtml(e.colour)}33"></span>`;
      return `<span class="om-dot om-shape-${shape}" style="background:${escapeHtml(e.colour)}"></span>`;
    };
    return `<div class="om-legend-row" data-layer="${escapeHtml(l.id)}"><b>${escapeHtml(l.label)}</b>` +
      l.legend.entries.map((e) => `<span class="om-key"${e.value == null ? '' : ` data-value="${escapeHtml(e.value)}"`}>${key(e)}` +
        `${escapeHtml(e.label ?? valueLabel(l.id, l.legend.field, e.value))}</span>`).join('') + '</div>';
  }).join('');
}

/**
 * paintIcons draws each legend canvas of root (legendHTML's data-icon) with
 * the map's own image of that name (icons.js), so the key shows what the
 * map draws: a station's badge with its pictogram, a cluster's ring.
 */
export function paintIcons(root) {
  for (const c of root.querySelectorAll('canvas[data-icon]')) {
    const icon = iconImage(c.dataset.icon);
    const ctx = c.getContext?.('2d');
    if (!icon || !ctx) continue;
    const { width, height, data } = icon.image;
    c.width = width;
    c.height = height;
    ctx.putImageData(new ImageData(new Uint8ClampedArray(data), width, height), 0, 0);
  }
}
