// OneMap's first page: every layer of the county that the caller may see, on
// one MapLibre map drawn from the server's vector tiles and style; a layer
// tree with live counts, legends and filters; a search box (names, codes,
// coordinates), a card per feature (for a grid: where it sits, what it
// holds, its children), "what's around here" (周边), measuring, the cursor's
// coordinates and a link to the view; live changes from the server's event
// stream. Nothing is fetched from anywhere but this server: no basemap, no
// glyph server (labels use a bundled font).
//
// This file loads what the page needs and holds the page's state (page,
// below); each part of the page is a controller in command/, made once here
// and reaching the others through page.

// map.js first: MapLibre's CSS goes before the page's, which overrides it.
import { createMap } from './map.js';
import './app.css';
import * as api from './api.js';
import { fetchSession } from './http.js';
import { fetchStyle, FONT, placesGeoJSON, useColours, withLabels } from './style.js';
import { createOverlays } from './overlay.js';
import { applyStatic, lang, layerTitle, setLang, t } from './i18n.js';
import { setupSession } from './session.js';
import { createStatus } from './command/status.js';
import { createLive } from './command/live.js';
import { createPanel } from './command/panel.js';
import { createCounts } from './command/counts.js';
import { collapseAttribution, createCamera, keepAttributionRoom, panelPadding } from './command/camera.js';
import { createCard } from './command/card.js';
import { createAround } from './command/around.js';
import { createGridPanel } from './command/gridpanel.js';
import { createSearch } from './command/search.js';
import { createTools } from './command/tools.js';
import { watchClicks } from './command/clicks.js';
import { watchGroupLabels } from './command/labels.js';
import { watchKeys } from './command/keys.js';
import { CASE_ROLES, createCases } from './command/cases.js';
import { ALARM_ROLES, createAlarms } from './command/alarms.js';
import { createAssess } from './command/assess.js';
import { createTags } from './command/tags.js';
import { createRegions } from './command/regions.js';
import { createAffected } from './command/affected.js';
import { createDock } from './command/dock.js';
import { FONT_URL, useOwnFontIfNeeded } from './font.js';

useOwnFontIfNeeded(); // before anything draws text: see font.css

const $ = (id) => document.getElementById(id);
const status = createStatus($('status'));

async function start() {
  applyStatic(document);
  status.show(t('loading'));
  // The event stream opens first, so that no change made while the map
  // loads is missed.
  const live = createLive($('live'));
  $('lang-switch').addEventListener('click', () => setLang(lang === 'en' ? 'zh' : 'en'));
  setupSession($('session'), $('sign-in-dialog'), { onError: (m) => status.notify(t('signInFailed', m)) });

  // The townships' and villages' label points are public data, the same
  // for every role; without them grids are labelled from the tiles.
  // A viewer sees a part of the county: its labels come from its tiles.
  // Both asked at once (not the places after the session: a round trip
  // less before the map starts); a viewer's places are dropped.
  // The session is read once, here: the controllers that depend on the
  // role (cases, alarms, tags) are made from the same answer below, without
  // another round trip after the map was made.
  const session = fetchSession().catch(() => null);
  const places = Promise.all([session, api.fetchPlaces().catch(() => null)])
    .then(([sess, list]) => (sess?.role === 'viewer' ? null : list));
  const [region, { layers }, serverStyle, placeList] = await Promise.all([
    api.fetchRegion(), api.fetchLayers(), fetchStyle('all'), places]);
  if (lang === 'en') {
    // Cards, search and "around" show layer and field titles from here.
    for (const l of layers) {
      l.title = layerTitle(l);
      for (const f of l.fields ?? []) f.title = f.title_en || f.title;
    }
  }
  document.title = `${region.name} · ${t('appName')}`;
  useColours(serverStyle);
  const style = withLabels(serverStyle, FONT_URL, { places: placeList && placesGeoJSON(placeList), groupLabels: true });

  // page is the page's state: what was loaded, and the controllers, each
  // added below as it is made.
  const page = { region, layers, layerById: new globalThis.Map(layers.map((l) => [l.id, l])), style, status, live: live.state };
  page.panel = createPanel(page, $('panel'));
  // The side panels on the right share one dock, one open at a time
  // (command/dock.js): the camera keeps clear of the open one.
  const dock = createDock();
  page.dock = dock;
  // On a phone the search box, the tools and the layer panel's heading lie
  // across the top of the map (camera.js).
  // Below, the zoom buttons (once the map has them: the first fit is made
  // again after they are there).
  const panels = { left: $('left'), right: dock.right, top: [$('search-input')?.parentElement, $('toolbar'), $('panel')],
    bottom: () => [...document.querySelectorAll('#map .maplibregl-ctrl-bottom-right')] };
  const map = createMap('map', style, {
    // The link's view (#map=zoom/lat/lon) wins over the region's box.
    hash: 'map',
    bounds: page.panel.hasCamera ? undefined : region.bounds,
    fitBoundsOptions: { padding: panelPadding(panels) },
    attributionControl: { compact: true },
    rotate: false,
    maxZoom: 19,
    navigation: 'bottom-right',
    scale: 'bottom-left',
    tileVersion: () => live.state.version,
    wholeFirst: true, // no half-drawn frames before the first picture (map.js)
  });
  page.map = map;
  if (!page.panel.hasCamera) map.fitBounds(region.bounds, { padding: panelPadding(panels), animate: false });
  page.overlay = createOverlays(map);
  window.onemap = { map, region, layers, style, state: page.panel.state, live: live.state };
  map.on('error', (e) => {
    console.error('地图错误：', e.error?.message ?? e.error ?? e);
    status.show(t('mapError', e.error?.message ?? '?'), true);
  });
  map.once('load', () => {
    status.show('');
    window.onemap.loadedAt = performance.now();
  });

  page.camera = createCamera(map, panels);
  // A panel opened over what the map was moved to show moves it clear.
  dock.onOpen(() => page.camera.refit());
  collapseAttribution(map);
  keepAttributionRoom(map);
  page.counts = createCounts(page);
  page.card = createCard(page);
  page.around = createAround(page, $('around'));
  page.gridPanel = createGridPanel(page, $('grid-side'));
  dock.add($('around'), () => page.around.close());
  // The statistics follow their grid's card: making way, they close it too
  // (its buttons would be under the panel on a phone).
  dock.add($('grid-side'), () => (page.card.isOpen() ? page.card.close() : page.gridPanel.close()));
  page.tools = createTools(page);
  page.measure = page.tools.measure;
  page.search = createSearch(page);
  // Many counties: the region picker (GET /api/regions); one county: none.
  page.regions = createRegions(page, $('toolbar'));
  watchClicks(page);
  watchGroupLabels(map);
  watchKeys(page);
  page.counts.refresh();
  // The case queue and the open cases' layer, for the roles that see cases.
  const sess = await session;
  if (sess && CASE_ROLES.includes(sess.role)) {
    page.cases = createCases(page, sess, { el: $('cases'), button: $('cases-button') });
    window.onemap.cases = page.cases.state;
  }
  // The alarms (预警), for the roles shown them.
  if (sess && ALARM_ROLES.includes(sess.role)) {
    page.alarms = createAlarms(page, sess, { toolbar: $('toolbar'), live });
    window.onemap.alarms = page.alarms.state;
  }
  // The reassessment form, from the cards, for the roles that assess.
  page.assess = createAssess(page, sess);
  if (page.assess) window.onemap.assess = page.assess.state;
  // Who is affected by a hazard zone or a drawn area, for the roles that see households or zones.
  page.affected = createAffected(page, { toolbar: $('toolbar') });
  if (page.affected) window.onemap.affected = page.affected.state;
  // The e-bike tags' live layer, for the roles that see tags.
  page.tags = createTags(page, sess, { font: FONT });
  if (page.tags) window.onemap.tags = page.tags.state;
  // The panels the controllers made (cases, alarms, who is affected, …) join the dock.
  dock.watch();
  live.attach(page);
}

start().catch((err) => {
  console.error('一张图加载失败：', err);
  status.show(t('loadFailed', err.message), true);
});
