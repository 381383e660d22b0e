// The command map's search box (../search.js drives the list): a place
// picked opens its card and moves the map there; coordinates open the
// point's card. An open 周边 panel follows the place picked.

import * as api from '../api.js';
import { setupSearch } from '../search.js';
import { OVERLAYS } from '../overlay.js';
import { t } from '../i18n.js';

/** createSearch wires the box (#search-input, #search-results) and returns setupSearch's handle ({focus}). */
export function createSearch(page) {
  const input = document.getElementById('search-input');
  // The system typed coordinates are in (server's crs=): shown while the
  // box holds two numbers; a position from AMap or WeChat is GCJ-02, from
  // Baidu BD-09.
  const crs = document.getElementById('search-crs');
  const showCRS = () => {
    crs.hidden = !isCoordinates(input.value);
  };
  input.addEventListener('input', showCRS);
  const handle = setupSearch({
    input,
    list: document.getElementById('search-results'),
    layerById: page.layerById,
    context: () => crs.value,
    search: (q) => api.search(q, 20, isCoordinates(q) ? crs.value : ''),
    // A case picked shows its tracking code (its name is its category).
    pickText: (o) => (o.layer === 'cases' ? o.code || o.name : o.name),
    onError: (err) => page.status.notify(t('searchFailed', err.message)),
    onPick: (o) => {
      showCRS(); // the box now holds the text picked
      const around = page.around.isOpen() && page.around.point();
      if (o.kind === 'point') {
        page.overlay(OVERLAYS.pick, { type: 'Point', coordinates: o.point });
        page.camera.showAt(o.point, 15);
        page.card.openPoint(o.point, o.grids);
        if (around) page.around.run(o.point);
        return;
      }
      if (o.layer === 'cases' && page.cases) {
        // A case found by its tracking code opens in the case panel (first:
        // on a phone the map keeps clear of it).
        page.cases.show(true);
        page.camera.showAt(o.center, 15);
        page.cases.open(o.id);
        return;
      }
      if (around && o.center) page.around.run(o.center);
      page.overlay(OVERLAYS.pick);
      const isPoint = o.bbox && o.bbox[0] === o.bbox[2] && o.bbox[1] === o.bbox[3];
      if (o.bbox) page.camera.flyToBbox(o.bbox);
      const known = Object.fromEntries(Object.entries({ name: o.name, level: o.level, kind: o.featureKind })
        .filter(([, v]) => v !== undefined && v !== null));
      page.card.open({ layerId: o.layer, id: o.id, properties: known, at: isPoint ? o.center : null, near: o.center, fly: !o.bbox });
    },
  });
  crs.addEventListener('change', () => {
    handle.refresh();
    input.focus();
  });
  showCRS();
  return handle;
}

// COORDINATES is text that may be a position: two numbers apart (decimal
// degrees, or the digits of degrees, minutes and seconds).
const COORDINATES = /\d+(?:\.\d+)?\D+\d+(?:\.\d+)?/;

// TRACKING_CODE is a case's tracking code as people write it: ten of
// 2-9 and the letters but I and O, in groups of four (ABCD-EFGH-JK),
// with or without the dashes (onemap.ParseTrackingCode). Its digits are
// not coordinates.
const TRACKING_CODE = /^[2-9a-hj-np-z]{4}[-\s]?[2-9a-hj-np-z]{4}[-\s]?[2-9a-hj-np-z]{2}$/i;

/** isCoordinates says whether text may be a position (the coordinate system then matters), not a tracking code. */
export const isCoordinates = (text) => COORDINATES.test(text) && !TRACKING_CODE.test(String(text).trim());
