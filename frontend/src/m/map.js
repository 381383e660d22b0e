// The public page's map, loaded only when the user opens it (a dynamic
// import, so that MapLibre is not part of what a phone downloads first). It
// draws the server's public style (/styles/public.json: stations and
// township/village outlines, nothing else), coloured by kind and filtered to
// the kind chosen; the stations of the list as numbered, ringed markers (the
// numbers of the list); the point they are measured from; and a legend. The
// style has no glyphs and the page asks for no fonts, so every word on the
// map is HTML: markers, the popup and the legend. A tap on a station shows
// its name, kind and distance; a tap elsewhere picks a new point.
import { LngLatBounds, Marker, Popup } from 'maplibre-gl';
import { createMap as createBaseMap } from '../map.js';
import { mapLocale } from '../i18n.js';
import { distance } from '../geo.js';
import { fetchStyle, legendOf, META_CENTER } from '../style.js';
import { escapeHtml, formatDistanceRough as formatDistance } from '../format.js';
import { kindFilter, kindImage, kindSize } from './kinds.js';

const TOUCH = 14; // px around a tap that still hits a station dot
const UNCLUSTERED = 14; // the tiles gather nearby stations into one dot below this zoom (layer.go ClusterBelow)
/** HERE is the colour of the user's position on the map. */
export const HERE = '#1a73e8';

const empty = () => ({ type: 'FeatureCollection', features: [] });

/**
 * FOLD_LEGEND is the media query of a small phone, where the legend (a
 * strip under the map, m.css) opens folded: its summary opens it, and the
 * map keeps the room until then.
 */
export const FOLD_LEGEND = '(max-width: 480px)';

/**
 * createMap shows the public map in container, centred on center ([lon,
 * lat], or the county when null). kinds() gives the kinds ([{code, name,
 * count}], in the chips' order);
 * legend is the <details> the legend is written into. A tap on empty map
 * calls onPick([lon, lat]); the popup of a station calls onPick([lon, lat],
 * name) to search from it, or onShow(id) for a station of the list. It
 * returns { map, update(point, stations, fit), setKind(code), resize() }.
 */
export async function createMap(container, { center, kinds, legend, onPick, onShow }) {
  const style = await fetchStyle('public');
  // The kinds' colours, as the server's style draws the stations.
  const byKind = legendOf(style, 'stations');
  const colours = new globalThis.Map((byKind?.entries ?? []).map((e) => [e.value, e.colour]));
  const colourOf = (kind) => colours.get(kind) ?? byKind?.other ?? '#78909c';
  const nameOf = (kind) => kinds().find((k) => k.code === kind)?.name ?? '服务站';
  const home = style.metadata?.[META_CENTER] ?? [0, 0, 2];
  const map = createBaseMap(container, style, {
    center: center ?? [home[0], home[1]],
    zoom: center ? 13 : home[2],
    attributionControl: false,
    locale: mapLocale('zh'), // the public page speaks Chinese only
    rotate: false,
    navigation: 'top-right',
  });
  if (globalThis.matchMedia?.(FOLD_LEGEND).matches) legend.open = false;
  await map.once('load');
  map.addSource('m-here', { type: 'geojson', data: empty() });
  // The user's position: a blue dot in a pale halo, as the phone's own map
  // apps draw it (red is for hazards).
  map.addLayer({
    id: 'm-here-halo', type: 'circle', source: 'm-here',
    paint: { 'circle-radius': 18, 'circle-color': 'rgba(26, 115, 232, 0.18)', 'circle-stroke-color': 'rgba(26, 115, 232, 0.35)', 'circle-stroke-width': 1 },
  });
  map.addLayer({
    id: 'm-here', type: 'circle', source: 'm-here',
    paint: { 'circle-radius': 8, 'circle-color': HERE, 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 },
  });

  let here = null; // the point the list is measured from
  let listed = []; // the stations of the list, nearest first
  let markers = [];
  const popup = new Popup({ maxWidth: '260px', offset: 16, focusAfterOpen: false });

  // show opens the popup of a station: one of the list (with its number)
  // or a dot of the tiles ({id, name, kind, lon, lat}).
  function show(s) {
    const n = listed.findIndex((x) => x.id === s.id) + 1;
    const d = s.distance_m ?? (here ? distance(here, [s.lon, s.lat]) : null);
    const el = document.createElement('div');
    el.className = 'm-pop';
    el.dataset.id = s.id;
    el.innerHTML = `<div class="m-pop-name">${n ? `<span class="m-num">${n}</span>` : ''}${escapeHtml(s.name)}</div>
<div class="m-pop-meta"><span class="m-dot" style="background:${escapeHtml(colourOf(s.kind))}"></span>${escapeHtml(nameOf(s.kind))}${d == null ? '' : ` · 距离 ${formatDistance(d)}`}</div>
<button type="button">${n ? '在列表中查看' : '查找这里附近的服务站'}</button>`;
    el.querySelector('button').addEventListener('click', () => {
      popup.remove();
      if (n) onShow(s.id);
      else onPick([s.lon, s.lat], s.name);
    });
    popup.setLngLat([s.lon, s.lat]).setDOMContent(el).addTo(map);
  }

  map.on('click', (e) => {
    const { x, y } = e.point;
    const hits = map.getLayer('stations')
      ? map.queryRenderedFeatures([[x - TOUCH, y - TOUCH], [x + TOUCH, y + TOUCH]], { layers: ['stations'] })
      : [];
    if (!hits.length) {
      popup.remove();
      onPick([e.lngLat.lng, e.lngLat.lat]);
      return;
    }
    const near = (f) => {
      const p = map.project(f.geometry.coordinates);
      return Math.hypot(p.x - x, p.y - y);
    };
    const f = hits.reduce((a, b) => (near(b) < near(a) ? b : a));
    const [lon, lat] = f.geometry.coordinates;
    if (f.properties.point_count > 1) {
      // One dot for several stations: come closer, where each has its own.
      map.easeTo({ center: [lon, lat], zoom: Math.max(UNCLUSTERED, map.getZoom() + 2) });
      return;
    }
    show(listed.find((s) => s.id === f.id) ?? { id: f.id, name: f.properties.name, kind: f.properties.kind, lon, lat });
  });

  // pin is the marker of the n-th station of the list: its number, ringed in its kind's colour.
  function pin(s, n) {
    const el = document.createElement('button');
    el.type = 'button';
    el.className = 'm-pin';
    el.textContent = String(n);
    el.style.borderColor = colourOf(s.kind);
    el.style.zIndex = String(100 - n); // the nearest on top
    el.setAttribute('aria-label', `${n}. ${s.name}`);
    el.dataset.id = s.id;
    el.addEventListener('click', (e) => {
      e.stopPropagation(); // not a tap on the map
      show(s);
    });
    return new Marker({ element: el }).setLngLat([s.lon, s.lat]).addTo(map);
  }

  /** update draws the point and the stations of the list; fit brings them into view. */
  function update(point, stations, fit = false) {
    here = point;
    map.getSource('m-here').setData(point
      ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: point } }] }
      : empty());
    listed = stations ?? [];
    for (const m of markers) m.remove();
    markers = listed.map((s, i) => pin(s, i + 1));
    popup.remove();
    if (fit && point) {
      const b = new LngLatBounds(point, point);
      for (const s of listed.slice(0, 5)) b.extend([s.lon, s.lat]);
      // The legend is under the map, not over it (m.css): no room kept for it.
      map.fitBounds(b, { padding: { top: 40, bottom: 40, left: 40, right: 56 }, maxZoom: 15, duration: 0 });
    }
  }

  // The stations layer's own image and size (every kind), for setKind.
  const stationLayer = style.layers.find((l) => l.id === 'stations');
  const baseImage = structuredClone(stationLayer?.layout?.['icon-image']);
  const baseSize = structuredClone(stationLayer?.layout?.['icon-size']);

  /**
   * setKind shows only the stations of one kind ('' every kind), the
   * clustered points that hold it as rings of its colour (kinds.js), and
   * says so in the legend.
   */
  function setKind(kind) {
    if (map.getLayer('stations')) {
      map.setFilter('stations', kindFilter(kind));
      if (baseImage !== undefined) map.setLayoutProperty('stations', 'icon-image', kindImage(kind, colourOf(kind), baseImage));
      if (baseSize !== undefined) map.setLayoutProperty('stations', 'icon-size', kindSize(kind, baseSize));
    }
    const shown = kinds().filter((k) => (kind ? k.code === kind : k.count > 0));
    legend.querySelector('ul').innerHTML = [
      '<li><span class="m-pin m-pin-key">1</span>列表中的服务站（编号同列表）</li>',
      '<li><span class="m-dot m-here-key"></span>您的位置</li>',
      // Below zoom 14 nearby stations are one ring cut by their kinds'
      // colours (style.js, icons.js ringImage): the key is such a ring.
      `<li data-many><span class="m-dot m-many-key" style="${escapeHtml(ringKeyStyle(shown.map((k) => colourOf(k.code))))}"></span>附近多个服务站，放大查看</li>`,
      ...shown.map((k) => `<li data-kind="${escapeHtml(k.code)}"><span class="m-dot" style="background:${escapeHtml(colourOf(k.code))}"></span>${escapeHtml(k.name)}</li>`),
    ].join('');
    legend.hidden = false;
  }

  return { map, update, setKind, resize: () => map.resize() };
}

/**
 * ringKeyStyle returns the style attribute of the legend's key for a
 * cluster of stations: a white disc in a ring cut into equal arcs of the
 * colours, clockwise from the top, as the map's rings are cut (icons.js
 * ringImage); the neutral grey when there are none.
 */
export function ringKeyStyle(colours) {
  const cs = colours.length ? colours : ['#78909c'];
  const step = 100 / cs.length;
  const arcs = cs.map((c, i) => `${c} ${(i * step).toFixed(2)}% ${((i + 1) * step).toFixed(2)}%`).join(', ');
  return `background-image: radial-gradient(circle closest-side, #fff 0 58%, transparent 60%), conic-gradient(${arcs})`;
}
