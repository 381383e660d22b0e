// Moving the command map with its panels in mind: on a wide screen the
// layer panel (left) and the 周边 panel (right) lie over the map, so what
// the map shows is kept clear of them.

// A point picked from the search box or a list is shown from this zoom on:
// cameras are clustered below 16 (risk points, households, stations below 14).
const POINT_ZOOM = 16;

/**
 * panelPadding returns the part of the map that the panels leave clear, as
 * MapLibre's padding: left and right are the panels' elements; the right
 * one counts only while shown.
 */
export function panelPadding({ left, right }) {
  const gap = 24;
  const l = Math.min(left.offsetWidth + gap, window.innerWidth / 3);
  const r = right.hidden ? gap : Math.min(right.offsetWidth + gap, window.innerWidth / 3);
  return { top: gap + 36, bottom: gap, right: Math.max(gap, r), left: Math.max(gap, l) };
}

/**
 * createCamera returns the camera moves of map: padding() (the part of the
 * map the panels leave clear, as MapLibre's padding), offset() (a centre's
 * shift into the middle of that part), flyToBbox(bbox), inView(...positions)
 * and showPoint(position); panels are panelPadding's.
 */
export function createCamera(map, { left, right }) {
  const padding = () => panelPadding({ left, right });

  // offset moves a centre into the middle of the part of the map that the
  // panels leave clear. (A camera's padding would stay on the map after the
  // move; an offset does not.)
  const offset = () => {
    const p = padding();
    return [(p.left - p.right) / 2, (p.top - p.bottom) / 2];
  };

  // flyToBbox shows a box, or a single position when the box is a point.
  function flyToBbox(b, { pointZoom = POINT_ZOOM } = {}) {
    if (!b) return;
    if (b[0] === b[2] && b[1] === b[3]) {
      map.flyTo({ center: [b[0], b[1]], zoom: Math.max(map.getZoom(), pointZoom), offset: offset() });
    } else {
      map.fitBounds(b, { padding: padding(), maxZoom: 17 });
    }
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

  return { padding, offset, flyToBbox, inView, showPoint };
}
