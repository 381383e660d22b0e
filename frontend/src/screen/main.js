// The control-room wall (大屏, /screen/): full screen, dark and read-only; the
// county's map with the key figures (grids, grid workers, risk points by
// level, cameras online) beside it, refreshed by themselves: at once when
// the event stream brings a change, and every minute in any case.

// map.js first: MapLibre's CSS goes before the page's, which overrides it.
import { createMap } from '../map.js';
import '../app.css';
import './screen.css';
import * as api from '../api.js';
import { darkStyle, dataLayerIds, fetchStyle, FONT, FONT_PATH, legendOf, SOURCE, withLabels } from '../style.js';
import { interiorPoint } from '../geo.js';
import { applyStatic, t } from '../i18n.js';
import { formatClock, formatTimeOfDay } from '../format.js';
import { fetchCounts } from '../counts.js';
import { figuresHTML, keyFigures } from '../figures.js';
import { connectLive } from '../live.js';
import { useOwnFontIfNeeded } from '../font.js';
import { createCaseWall } from './cases.js';

useOwnFontIfNeeded(); // before anything draws text: see font.css

const REFRESH_MS = 60_000;

const $ = (id) => document.getElementById(id);

// gridRecords reads every grid the caller may see (properties and shapes)
// through /api/within over the region, a page at a time: the wall counts
// their workers and labels the townships once each (labels cut from tiles
// would repeat on every tile a township spans).
async function gridRecords(bounds) {
  const out = [];
  let after = 0;
  for (let page = 0; page < 20; page++) {
    const r = await api.within({ bbox: bounds.join(','), layers: 'grids', limit: 1000, after: after || undefined });
    const g = r.layers?.grids;
    out.push(...(g?.features ?? []));
    if (!g?.next) break;
    after = g.next;
  }
  return out;
}

// workersOf counts the distinct grid workers (by name and phone).
function workersOf(grids) {
  const names = new Set();
  for (const f of grids) {
    const n = f.properties?.worker_name;
    if (n) names.add(`${n}\u0000${f.properties?.worker_phone ?? ''}`);
  }
  return names.size;
}

// townshipLabels returns a point inside each township, with its name.
function townshipLabels(grids) {
  return {
    type: 'FeatureCollection',
    features: grids.filter((f) => f.properties?.level === 'township' && f.properties?.name).map((f) => ({
      type: 'Feature', properties: { name: f.properties.name }, geometry: { type: 'Point', coordinates: interiorPoint(f.geometry) },
    })).filter((f) => f.geometry.coordinates),
  };
}

async function start() {
  applyStatic(document);
  const [region, serverStyle] = await Promise.all([api.fetchRegion(), fetchStyle('all')]);
  document.title = `${region.name} · ${t('appName')} · ${t('screen')}`;
  $('screen-title').textContent = `${region.name} · ${t('appName')}`;
  const style = withLabels(darkStyle(serverStyle), `${location.origin}${FONT_PATH}`, { dark: true, skip: ['grids'] });
  style.sources['om-townships'] = { type: 'geojson', data: { type: 'FeatureCollection', features: [] } };
  style.layers.push({
    id: 'om-township-labels', type: 'symbol', source: 'om-townships',
    layout: { 'text-field': ['get', 'name'], 'text-font': [FONT], 'text-size': 17, 'text-padding': 2 },
    paint: { 'text-color': '#e6edf3', 'text-halo-color': 'rgba(10,20,30,0.9)', 'text-halo-width': 1.6 },
  });
  const colours = {};
  for (const id of ['risk_points', 'cameras']) {
    const lg = legendOf(serverStyle, id);
    if (lg) colours[id] = Object.fromEntries(lg.entries.map((e) => [e.value, e.colour]));
  }

  let version = 0;
  const map = createMap('map', style, {
    bounds: region.bounds,
    fitBoundsOptions: { padding: { top: 80, bottom: 40, left: 40, right: 380 } },
    interactive: false,
    attributionControl: false,
    tileVersion: () => version,
  });
  window.onemap = { map, region, style, figures: null };
  map.on('error', (e) => console.error('地图错误：', e.error?.message ?? e.error ?? e));

  // The grids' workers are read again only after a grid changed; every
  // refresh meanwhile awaits the same read (a refresh that starts while it is
  // under way does not go without them). A failed read is tried again.
  let workersRead = null;
  let workersStale = true;
  function readWorkers() {
    workersStale = false;
    const read = gridRecords(region.bounds).then((grids) => {
      if (read !== workersRead) return null; // a newer read is under way
      const labels = townshipLabels(grids);
      const put = () => map.getSource('om-townships')?.setData(labels);
      if (map.isStyleLoaded()) put();
      else map.once('load', put);
      return workersOf(grids);
    }, () => {
      if (read === workersRead) workersStale = true;
      return null;
    });
    workersRead = read;
  }
  let seq = 0;
  async function refresh() {
    const n = ++seq;
    try {
      if (workersStale) readWorkers();
      const [workers, counts] = await Promise.all([workersRead,
        fetchCounts(region.bounds, { withStatus: dataLayerIds(serverStyle).includes('grids') })]);
      if (n !== seq) return;
      const figures = keyFigures(counts, workers);
      $('figures').innerHTML = figuresHTML(figures, colours);
      $('screen-updated').textContent = t('updatedAt', formatTimeOfDay());
      window.onemap.figures = figures;
      window.onemap.figuresAt = Date.now();
    } catch (err) {
      console.warn('大屏指标刷新失败：', err);
    }
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
  // The case figures and the live list of new and escalated cases.
  const cases = await createCaseWall($('case-wall'));
  window.onemap.cases = cases?.state ?? null;
  let timer;
  connectLive({
    onChanges: (all) => {
      cases?.changed(all);
      const changes = all.filter((c) => c.layer !== 'cases');
      if (!changes.length) return;
      version++;
      if (map.getSource(SOURCE)) map.refreshTiles(SOURCE);
      if (changes.some((c) => c.layer === 'grids')) workersStale = true;
      clearTimeout(timer);
      timer = setTimeout(refresh, 800);
    },
    onReset: () => {
      workersStale = true;
      refresh();
    },
    onState: (on) => { $('live').dataset.state = on ? 'on' : 'off'; },
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
