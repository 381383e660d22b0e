// Moving the command map with its panels in mind: on a wide screen the
// layer panel (left) and the open side panel (right) lie over the map; on a
// phone the search box, the tools and the layer panel's heading lie across
// the top and the open side panel across the bottom (app.css). What the map
// is moved to show (a search hit, a feature, a case, an alarm) is kept
// clear of them, and moved again when a panel opens over it.

// A point picked from the search box or a list is shown from this zoom on:
// cameras are clustered below 16 (risk points, households, stations below 14).
const POINT_ZOOM = 16;

/** PHONE is app.css's phone layout: the side panels at the bottom of the screen. */
export const PHONE = '(max-width: 600px)';

// rectOf returns an element's box on the page, or null for none (or one not shown).
const rectOf = (el) => {
  const r = el?.getBoundingClientRect?.();
  return r && r.height > 0 ? r : null;
};

/**
 * panelPadding returns the part of the map that the panels leave clear, as
 * MapLibre's padding. On a wide screen left and right are the panels'
 * elements (the right one counts only while shown). On a phone (PHONE) the
 * top is clear below the lowest of top's elements (at most a third of the
 * screen down) and the bottom above the open panel (right), or with none
 * open above the elements bottom() returns (the map's zoom buttons), so
 * that what is shown lands between them, not under the panel or the
 * buttons; win is the window.
 */
export function panelPadding({ left, right, top = [], bottom = () => [] }, win = globalThis.window) {
  const gap = 24;
  if (win?.matchMedia?.(PHONE).matches) {
    const h = win.innerHeight;
    const over = Math.max(0, ...top.map(rectOf).filter(Boolean).map((r) => r.bottom));
    const panel = right.hidden ? null : rectOf(right);
    // With no panel open the map's own buttons (bottom) are the lowest
    // thing over it; an open panel lies higher (app.css lifts the buttons
    // above it, into the part of the screen's width they take).
    const under = panel ? Math.max(0, h - panel.top) : Math.max(0, ...bottom().map(rectOf).filter(Boolean).map((r) => h - r.top));
    return { top: Math.min(over, h / 3) + gap / 2, bottom: Math.min(under, 0.6 * h) + gap, left: gap / 2, right: gap / 2 };
  }
  const l = Math.min(left.offsetWidth + gap, win.innerWidth / 3);
  const r = right.hidden ? gap : Math.min(right.offsetWidth + gap, win.innerWidth / 3);
  return { top: gap + 36, bottom: gap, right: Math.max(gap, r), left: Math.max(gap, l) };
}

/**
 * createCamera returns the camera moves of map: padding() (the part of the
 * map the panels leave clear, as MapLibre's padding), offset() (a centre's
 * shift into the middle of that part), flyToBbox(bbox), showAt(position,
 * zoom), inView(...positions), showPoint(position) and refit(); panels are
 * panelPadding's. The last place flown to is kept until the user moves the
 * map: refit() (called when a side panel opens) brings it back into the
 * clear part if the panel now covers it.
 */
export function createCamera(map, panels) {
  const padding = () => panelPadding(panels);

  // offset moves a centre into the middle of the part of the map that the
  // panels leave clear. (A camera's padding would stay on the map after the
  // move; an offset does not.)
  const offset = () => {
    const p = padding();
    return [(p.left - p.right) / 2, (p.top - p.bottom) / 2];
  };

  // target is the place last shown: {bbox} or {point, zoom}; null once the user
  // has moved the map since.
  let target = null;
  const forget = (e) => {
    if (e?.originalEvent) target = null;
  };
  map.on('dragstart', () => { target = null; });
  map.on('zoomstart', forget);
  map.on('rotatestart', forget);

  const fitBox = (b) => map.fitBounds(b, { padding: padding(), maxZoom: 17 });

  // flyToBbox shows a box, or a single position when the box is a point.
  function flyToBbox(b, { pointZoom = POINT_ZOOM } = {}) {
    if (!b) return;
    if (b[0] === b[2] && b[1] === b[3]) {
      showAt([b[0], b[1]], pointZoom);
    } else {
      target = { bbox: b };
      fitBox(b);
    }
  }

  // showAt flies to a position, at least at zoom, into the clear part.
  function showAt(p, zoom = POINT_ZOOM) {
    if (!p) return;
    target = { point: p, zoom: Math.max(map.getZoom(), zoom) };
    map.flyTo({ center: p, zoom: target.zoom, offset: offset() });
  }

  // inView says whether every position lies in the part of the map that
  // the panels leave clear.
  function inView(...positions) {
    const { width, height } = map.getCanvas().getBoundingClientRect();
    const pad = padding();
    return positions.every((p) => {
      const { x, y } = map.project(p);
      return x >= pad.left && x <= width - pad.right && y >= pad.top && y <= height - pad.bottom;
    });
  }

  // showPoint pans to a position if it is out of view, keeping the zoom.
  function showPoint(p) {
    if (!inView(p)) map.easeTo({ center: p, offset: offset() });
  }

  // refit moves the map again to the place last shown if the panels now
  // cover it (one opened over it): at the zoom it was flown to while the
  // map is still on its way there, else keeping the zoom.
  function refit() {
    if (!target) return;
    const moving = map.isMoving();
    if (target.point) {
      if (moving || !inView(target.point)) map.easeTo({ center: target.point, ...(moving ? { zoom: target.zoom } : {}), offset: offset() });
      return;
    }
    const b = target.bbox;
    if (moving || !inView([b[0], b[1]], [b[2], b[3]])) fitBox(b);
  }

  return { padding, offset, flyToBbox, showAt, inView, showPoint, refit };
}

/**
 * keepAttributionRoom keeps the height of map's attribution (its text when
 * open, else its ⓘ) in the page's custom property --om-attrib-h, so that on
 * a phone app.css ends the layer column above the opened attribution: its
 * text wraps beside the zoom buttons and ran under the column's lower end.
 * win is the window.
 */
export function keepAttributionRoom(map, win = globalThis.window) {
  const el = map.getContainer().querySelector('.maplibregl-ctrl-attrib');
  if (!el || !win?.ResizeObserver) return;
  const root = win.document.documentElement;
  const keep = () => root.style.setProperty('--om-attrib-h', `${Math.ceil(el.getBoundingClientRect().height)}px`);
  new win.ResizeObserver(keep).observe(el);
  keep();
}

/**
 * collapseAttribution starts map's compact attribution folded on a phone
 * (PHONE; its ⓘ opens it): MapLibre opens it on a narrow map, where it
 * covered a strip of the map over the scale, or over the open side panel's
 * top. It folds it once, when MapLibre has first filled it in; after that
 * it is the user's to open and close. win is the window.
 */
export function collapseAttribution(map, win = globalThis.window) {
  if (!win?.matchMedia?.(PHONE).matches) return;
  const el = map.getContainer().querySelector('.maplibregl-ctrl-attrib');
  if (!el) return;
  const fold = () => {
    if (!el.classList.contains('maplibregl-compact-show')) return false;
    // As MapLibre's own button folds it (AttributionControl._toggleAttribution).
    el.classList.remove('maplibregl-compact-show');
    el.setAttribute('open', '');
    return true;
  };
  if (fold()) return;
  const watch = new MutationObserver(() => {
    if (fold()) watch.disconnect();
  });
  watch.observe(el, { attributes: true, attributeFilter: ['class'] });
  // Once MapLibre has made it compact, it opens it no more by itself.
  map.once('load', () => setTimeout(() => {
    fold();
    if (el.classList.contains('maplibregl-compact')) watch.disconnect();
  }, 0));
}
