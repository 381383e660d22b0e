// The control-room wall (大屏, /screen/): full screen, dark and read-only,
// built to be read from across the room at 1920×1080 and at 3840×2160. The
// county's map fills the screen, drawn larger by the screen's height (its
// symbols and labels take the same share of a 4K wall as of a 1080p one:
// wall.js wallScale); beside it, sized by the viewport (screen.css), the
// figures that matter — 重大 hazards, assessments overdue and grid workers
// when the server counts them, camera faults by township, risk points and
// cameras — and on the other side today's cases and alarms and the live list
// of changes, with a legend under the map. Everything refreshes by itself: at
// once when the event stream brings a change or an alarm, and every minute.

// map.js first: MapLibre's CSS goes before the page's, which overrides it.
import { createMap } from '../map.js';
import '../app.css';
import './screen.css';
import * as api from '../api.js';
import { countsQuery } from '../counts.js';
import { darkStyle, dataLayerIds, fetchStyle, FONT, legendOf, SOURCE, withLabels } from '../style.js';
import { applyStatic, t } from '../i18n.js';
import { formatClock, formatCount, formatTimeOfDay } from '../format.js';
import { mergeCounts } from '../counts.js';
import { figuresHTML, keyFigures } from '../figures.js';
import { connectLive } from '../live.js';
import { getJSON } from '../http.js';
import { FONT_URL, useOwnFontIfNeeded } from '../font.js';
import { createCaseWall } from './cases.js';
import {
  alarmState, alarmsHTML, changeItems, changesHTML, faultsHTML, fitZoom, legendHTML, paintIcons, phoneMapHeight, townshipFaults, w,
  wallFigures, wallLegend, wallScale, wallSymbols, wallZoom,
} from './wall.js';

useOwnFontIfNeeded(); // before anything draws text: see font.css

const REFRESH_MS = 60_000;
// The alarms the wall reads when it opens and after the stream was lost.
const ALARM_PAGE = 500;

const $ = (id) => document.getElementById(id);

// PHONE is the media query of screen.css's phone layout; PHONE_GAP the
// margin, CSS pixels, the county keeps in the phone's map.
const PHONE = '(max-width: 600px)';
const PHONE_GAP = 8;

// townshipLabels returns a point inside each township, with its name, from
// the public list of places (a few KB; the grids' shapes would be 600 KB),
// so that each township is labelled once (labels cut from tiles would repeat
// on every tile a township spans).
async function townshipLabels() {
  const { townships } = await api.fetchPlaces();
  return {
    type: 'FeatureCollection',
    features: (townships ?? []).filter((t) => t.name && Number.isFinite(t.lon) && Number.isFinite(t.lat)).map((t) => ({
      type: 'Feature', properties: { name: t.name }, geometry: { type: 'Point', coordinates: [t.lon, t.lat] },
    })),
  };
}

// readStats reads the grid statistics: the top grids' (with whatever
// figures the server adds to the answer) and the townships' (for a caller
// whose top grid is the county, the county's children).
async function readStats() {
  const top = await getJSON('/api/stats/grids');
  let townships = top.children ?? [];
  if (townships.length === 1 && townships[0].level === 'county') {
    townships = (await api.gridStats(townships[0].id)).children ?? [];
  }
  return { top, townships };
}

// readCounts reads the counts of every layer the caller may count in the
// region (and the grid statistics, for a caller who may read grids).
async function readCounts(bounds, withGrids) {
  const [within, stats] = await Promise.all([
    getJSON('/api/within', countsQuery(bounds)),
    withGrids ? readStats().catch(() => null) : null,
  ]);
  return { counts: mergeCounts(within, stats?.top), stats };
}

// withAlarms returns an EventSource class that also hands every "alarm"
// event to onAlarm and says when the stream (re)opens, so that the wall
// follows alarms on the one stream that brings it the changes.
function withAlarms(onAlarm, onOpen) {
  const Base = globalThis.EventSource;
  if (!Base) return undefined;
  return class extends Base {
    constructor(url) {
      super(url);
      this.addEventListener('alarm', (e) => {
        try {
          onAlarm(JSON.parse(e.data));
        } catch { /* not ours */ }
      });
      this.addEventListener('open', onOpen);
    }
  };
}

async function start() {
  applyStatic(document);
  const [region, serverStyle] = await Promise.all([api.fetchRegion(), fetchStyle('all')]);
  document.title = `${region.name} · ${t('appName')} · ${t('screen')}`;
  $('screen-title').textContent = `${region.name} · ${t('appName')}`;
  $('change-title').textContent = w('changes');
  $('legend-title').textContent = w('legend');
  // No households at the county view: not crowded (wall.js WALL_MINZOOM).
  const style = wallSymbols(withLabels(darkStyle(serverStyle), FONT_URL, { dark: true, skip: ['grids'] }));
  style.sources['om-townships'] = { type: 'geojson', data: { type: 'FeatureCollection', features: [] } };
  style.layers.push({
    id: 'om-township-labels', type: 'symbol', source: 'om-townships',
    layout: { 'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': 17, 'text-padding': 2 },
    paint: { 'text-color': '#e6edf3', 'text-halo-color': 'rgba(10,20,30,0.9)', 'text-halo-width': 1.6 },
  });
  const layers = dataLayerIds(serverStyle);
  const colours = {};
  for (const id of ['risk_points', 'households', 'cameras', 'stations']) {
    const lg = legendOf(serverStyle, id);
    if (lg && layers.includes(id)) colours[id] = Object.fromEntries(lg.entries.map((e) => [e.value, e.colour]));
  }

  // The map is drawn at 1/k of the screen's CSS size and scaled up by k, at
  // k times the pixel ratio: the same picture as on a k times smaller
  // screen, every symbol, label and line k times larger, and sharp.
  // On a phone (screen.css: the page is one column that scrolls) the map
  // is a block of the page, as wide as it and phoneMapHeight tall, not
  // scaled.
  const mapEl = $('map');
  const phone = matchMedia(PHONE);
  let k = wallScale(innerHeight);
  const size = () => {
    if (phone.matches) {
      k = 1;
      Object.assign(mapEl.style, { right: '', bottom: '', width: '100%', height: `${phoneMapHeight(innerWidth, innerHeight)}px`, transform: '', transformOrigin: '' });
      return;
    }
    k = wallScale(innerHeight);
    Object.assign(mapEl.style, { right: 'auto', bottom: 'auto', width: `${innerWidth / k}px`, height: `${innerHeight / k}px`,
      transform: `scale(${k})`, transformOrigin: '0 0' });
  };
  size();

  // The legend keys everything the map draws at the zoom the county fits
  // at (between the columns, under the header: the legend's own height
  // aside, known once it is drawn); checked again at that zoom once the
  // map stands (showLegend's answer: whether it changed).
  let legendKey = '';
  const showLegend = (zoom) => {
    const legends = wallLegend(style, zoom);
    const key = legends.map((l) => l.id).join();
    if (key === legendKey) return false;
    legendKey = key;
    $('legend-body').innerHTML = legendHTML(legends);
    paintIcons($('legend-body'));
    $('legend').hidden = !legends.length;
    window.onemap && (window.onemap.legend = legends.map((l) => l.id));
    return true;
  };
  if (phone.matches) {
    showLegend(fitZoom(region.bounds, mapEl.clientWidth - 2 * PHONE_GAP, mapEl.clientHeight - 2 * PHONE_GAP));
  } else {
    const left = $('wall-left').getBoundingClientRect();
    const right = $('figures').getBoundingClientRect();
    const head = document.querySelector('.om-screen-head').getBoundingClientRect();
    showLegend(fitZoom(region.bounds, (right.left - left.right) / k, (innerHeight - head.bottom) / k));
  }
  // The county fits between the two columns, under the header and over the
  // legend; on a phone, the map's own block.
  const padding = () => {
    if (phone.matches) return { top: PHONE_GAP, bottom: PHONE_GAP, left: PHONE_GAP, right: PHONE_GAP };
    const left = $('wall-left').getBoundingClientRect();
    const right = $('figures').getBoundingClientRect();
    const head = document.querySelector('.om-screen-head').getBoundingClientRect();
    const legend = $('legend');
    const gap = 0.01 * innerWidth;
    const bottom = legend.hidden ? 0.06 * innerHeight : innerHeight - legend.getBoundingClientRect().top + gap;
    return { top: (head.bottom + gap) / k, bottom: bottom / k,
      left: (left.right + gap) / k, right: (innerWidth - right.left + gap) / k };
  };

  let version = 0;
  const map = createMap(mapEl, style, {
    bounds: region.bounds,
    fitBoundsOptions: { padding: padding() },
    interactive: false,
    attributionControl: false,
    pixelRatio: (globalThis.devicePixelRatio || 1) * k,
    tileVersion: () => version,
  });
  // Just over a whole zoom, just under it: the same picture from half the
  // tiles' bytes (wall.js wallZoom). Before the style loads, so no tile of
  // the zoom over is asked for.
  const snap = () => { if (wallZoom(map.getZoom()) !== map.getZoom()) map.setZoom(wallZoom(map.getZoom())); };
  snap();
  window.onemap = { map, region, style, figures: null, scale: k, alarms: null, changes: [], legend: legendKey ? legendKey.split(',') : [] };
  // The zoom it stands at: if that draws other layers than the estimate's,
  // the legend follows and the county is fitted again around it.
  map.once('load', () => {
    if (showLegend(map.getZoom())) {
      map.fitBounds(region.bounds, { padding: padding(), duration: 0 });
      snap();
    }
  });
  map.on('error', (e) => console.error('地图错误：', e.error?.message ?? e.error ?? e));
  let resized;
  let width = innerWidth;
  window.addEventListener('resize', () => {
    // A phone's browser shows and hides its bars as the page scrolls (a
    // resize each time): its map keeps its size until the width changes.
    if (phone.matches && innerWidth === width) return;
    width = innerWidth;
    clearTimeout(resized);
    resized = setTimeout(() => {
      size();
      window.onemap.scale = k;
      map.setPixelRatio((globalThis.devicePixelRatio || 1) * k);
      map.resize();
      map.fitBounds(region.bounds, { padding: padding(), duration: 0 });
      snap();
    }, 200);
  });

  // The township labels, read once and again after a grid changed.
  let labelsStale = true;
  function readLabels() {
    labelsStale = false;
    townshipLabels().then((labels) => {
      const put = () => map.getSource('om-townships')?.setData(labels);
      if (map.isStyleLoaded()) put();
      else map.once('load', put);
    }, () => { labelsStale = true; });
  }
  const withGrids = layers.includes('grids');
  let seq = 0;
  async function refresh() {
    const n = ++seq;
    try {
      if (labelsStale && withGrids) readLabels();
      const { counts, stats } = await readCounts(region.bounds, withGrids);
      if (n !== seq) return;
      // 网格员 are people: the roster's count when the server has one,
      // otherwise no card (grids are not people).
      const first = wallFigures(counts, stats?.top);
      const order = ['risk_points', 'cameras', 'grids'];
      const rest = keyFigures(counts, null).sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
      const figures = [...first, ...rest];
      // The camera faults by township follow the cameras' figure.
      const faultRows = stats ? townshipFaults(stats.townships) : [];
      const faults = (max) => (counts.cameras && stats
        ? `<div class="om-figure om-figure-faults" data-figure="faults"><div class="om-figure-label">${w('faults')}</div>${faultsHTML(faultRows, max)}</div>`
        : '');
      const at = figures.findIndex((f) => f.id === 'cameras') + 1;
      const column = $('figures');
      // Every card stays whole (the column does not scroll on a wall): the
      // township table takes the rows that fit, the rest summed in a last
      // row; below five rows, the grids' card gives way to it; on a screen
      // too small for even one row (a phone), the table gives way too.
      let shown = figures;
      const noGrids = figures.slice(at).filter((f) => f.id !== 'grids');
      fit: for (const [rest, table] of [[figures.slice(at), true], [noGrids, true], [noGrids, false]]) {
        shown = [...figures.slice(0, at), ...rest];
        const least = !table ? 0 : rest.length < figures.length - at ? 1 : Math.min(5, faultRows.length);
        for (let max = table ? Math.max(1, faultRows.length) : 0; max >= least; max--) {
          column.innerHTML = figuresHTML(figures.slice(0, at), colours) + (table ? faults(max) : '') + figuresHTML(rest, colours);
          if (column.scrollHeight <= column.clientHeight) break fit;
        }
      }
      for (const f of shown) if (f.alert) column.querySelector(`[data-figure="${f.id}"]`)?.classList.add('om-alert');
      $('screen-updated').textContent = t('updatedAt', formatTimeOfDay());
      window.onemap.figures = shown;
      window.onemap.faults = stats ? townshipFaults(stats.townships) : null;
      window.onemap.figuresAt = Date.now();
    } catch (err) {
      console.warn('大屏指标刷新失败：', err);
    }
  }
  refresh();
  setInterval(refresh, REFRESH_MS);

  // Alarms, for the roles shown them (those who may read the cameras
  // layer, as the server's rule): today's count, how many wait, and the
  // open ones as they come.
  const seesAlarms = layers.includes('cameras');
  const byId = new Map();
  const showAlarms = (list) => {
    const s = alarmState(byId, list);
    $('alarm-today').textContent = formatCount(s.today);
    $('alarm-open').textContent = formatCount(s.open);
    $('alarm-live').innerHTML = alarmsHTML(s.list);
    window.onemap.alarms = { today: s.today, open: s.open, ids: s.list.map((a) => a.id) };
  };
  async function loadAlarms() {
    try {
      const { alarms } = await getJSON('/api/alarms', { limit: ALARM_PAGE });
      byId.clear();
      showAlarms(alarms ?? []);
    } catch (err) {
      console.warn('大屏预警读取失败：', err);
    }
  }
  if (seesAlarms) {
    $('alarm-label').textContent = w('alarms');
    $('alarm-open-label').textContent = w('alarmsOpen');
    $('alarm-title').textContent = w('alarmLive');
    $('alarm-wall').hidden = false;
    await loadAlarms();
  }
  let opened = false;
  const EventSourceImpl = seesAlarms ? withAlarms((a) => showAlarms([a]), () => {
    if (opened) loadAlarms(); // back after a break: what was missed
    opened = true;
  }) : undefined;

  // The case figures and the live list of new and escalated cases.
  const cases = await createCaseWall($('case-wall'));
  window.onemap.cases = cases?.state ?? null;
  let changes = [];
  $('change-live').innerHTML = changesHTML(changes);
  let timer;
  connectLive({
    ...(EventSourceImpl ? { EventSourceImpl } : {}),
    onChanges: (all) => {
      cases?.changed(all);
      const features = all.filter((c) => c.layer !== 'cases');
      if (!features.length) return;
      changes = changeItems(changes, features);
      $('change-live').innerHTML = changesHTML(changes);
      window.onemap.changes = changes;
      version++;
      if (map.getSource(SOURCE)) map.refreshTiles(SOURCE);
      if (features.some((c) => c.layer === 'grids')) labelsStale = true;
      clearTimeout(timer);
      timer = setTimeout(refresh, 800);
    },
    onReset: () => {
      labelsStale = true;
      refresh();
      if (seesAlarms) loadAlarms();
    },
    onState: (on) => {
      // The figures were read before the stream opened (or before a
      // break): read them again for what came in between.
      if (on) cases?.refresh();
      $('live').dataset.state = on ? 'on' : 'off';
    },
  });

  // The wall's clock in the page's language, 24-hour, whatever the browser's.
  const clock = () => { $('screen-clock').textContent = formatClock(); };
  clock();
  setInterval(clock, 1000);
  const full = $('screen-full');
  full.textContent = t('fullScreen');
  full.title = `${t('fullScreen')} (F)`;
  full.addEventListener('click', () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'f' && !e.ctrlKey && !e.metaKey && !e.altKey) full.click();
  });
}

start().catch((err) => {
  console.error('大屏加载失败：', err);
  const s = $('status');
  s.textContent = t('loadFailed', err.message);
  s.hidden = false;
});
