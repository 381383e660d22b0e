// The one map bootstrap of every page (the command map, the editor, the
// wall and the public page): MapLibre's worker from this server, the style
// from the server (style.js fetchStyle: its tiles as absolute URLs, the
// basemap under the data when the server has one), MapLibre's own words in
// the page's language, and the controls each page asks for.

import 'maplibre-gl/dist/maplibre-gl.css';
import { addProtocol, Map, NavigationControl, ScaleControl, prewarm, setWorkerUrl } from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { mapLocale } from './i18n.js';
import { addIcons } from './icons.js';
import { FONT_PROTOCOL, fontBytes } from './font.js';
import { softwareRendered } from './renderer.js';

// The worker comes from this server, as a file of the build (the CSP allows
// workers from 'self' only).
setWorkerUrl(workerUrl);
// Every page that loads this module makes a map: its workers start now,
// fetching and compiling their script while the page reads its style and
// settings, instead of once the map is made.
prewarm();

// The label font of every style (font-faces: FONT_URL) comes from font.js,
// which fetches it once for the page's text and its maps alike.
addProtocol(FONT_PROTOCOL, async () => ({ data: await fontBytes() }));

/** WHOLE_FIRST_MS bounds how long a wholeFirst map keeps its canvas hidden (see createMap). */
export const WHOLE_FIRST_MS = 20_000;

/**
 * createMap returns a MapLibre map in container (an element or its id)
 * drawing style (an object, as fetchStyle gives it). Options:
 *   navigation and scale: where the zoom buttons and the scale bar go
 *     ('top-left', 'bottom-right', …), or absent for none;
 *   rotate: false turns rotation off (dragging with the right button, and
 *     twisting with two fingers), for pages where north stays up;
 *   tileVersion: a function giving the live version (0 for none), added to
 *     the URL of every tile of this server (?v=N), so that a reload after a
 *     change passes the browser's cache (tiles may be cached for 30 s);
 *   wholeFirst: true shows the map's canvas, under software rendering
 *     only (renderer.js: a PC or VM without a GPU, headless Chromium), once
 *     its first picture is whole (MapLibre's load: the style and every tile
 *     in view drawn), not each half-drawn frame before it as tiles come in.
 *     There every frame shown is read back from the renderer, and those
 *     frames cost more than the map's own work: the first picture comes
 *     sooner without them. On a GPU they cost little, and hiding them would
 *     only put off the first pixels: the map draws as it comes. (After
 *     WHOLE_FIRST_MS the canvas shows as it stands.) The map's
 *     wholeFirst property says which was done.
 * anything else (bounds, center, zoom, hash, interactive, locale,
 * attributionControl, …) goes to MapLibre as it is.
 */
export function createMap(container, style, { navigation, scale, rotate = true, tileVersion, wholeFirst = false, ...options } = {}) {
  const tiles = `${location.origin}/tiles/`;
  const map = new Map({
    container,
    style,
    locale: mapLocale(),
    ...(rotate ? {} : { dragRotate: false, pitchWithRotate: false }),
    ...(tileVersion ? {
      transformRequest: (url, type) => {
        const v = tileVersion();
        return type === 'Tile' && v && url.startsWith(tiles) ? { url: `${url}${url.includes('?') ? '&' : '?'}v=${v}` } : undefined;
      },
    } : {}),
    ...options,
  });
  addIcons(map); // the point symbols, drawn as the style asks for them
  // The renderer is known once MapLibre has made its context (in the
  // constructor); the first frame is drawn later, in an animation frame.
  map.wholeFirst = wholeFirst && softwareRendered(map.getCanvas());
  if (map.wholeFirst) {
    const canvas = map.getCanvasContainer();
    canvas.style.visibility = 'hidden';
    let timer = 0;
    const show = () => {
      clearTimeout(timer);
      canvas.style.visibility = '';
    };
    timer = setTimeout(show, WHOLE_FIRST_MS);
    map.once('load', show);
  }
  if (!rotate) map.touchZoomRotate.disableRotation();
  if (navigation) map.addControl(new NavigationControl({ showCompass: false }), navigation);
  if (scale) map.addControl(new ScaleControl({ unit: 'metric' }), scale);
  return map;
}
