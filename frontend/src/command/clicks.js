// Clicks on the command map: a point within a few pixels wins over the grid
// under the cursor and opens its card; while 周边 waits for its centre, the
// click is the centre.

import { isPointLayer, META_LAYER } from '../style.js';

/** watchClicks wires the map's clicks and the pointer over points. It uses page.map, page.style, page.measure, page.around and page.card. */
export function watchClicks(page) {
  const { map, style } = page;
  const pointLayers = style.layers.filter(isPointLayer).map((l) => l.id);
  const gridLayers = style.layers.filter((l) => l.type === 'fill' && l.metadata?.[META_LAYER]).map((l) => l.id).reverse();
  map.on('click', (e) => {
    if (page.measure.mode() || page.affected?.drawing()) return; // a drawn area's corner (affected.js)
    if (page.around.picking()) {
      page.around.setPicking(false);
      page.around.run([e.lngLat.lng, e.lngLat.lat]);
      return;
    }
    const { x, y } = e.point;
    // Of the points within reach, the one nearest the click: clusters and
    // points a few pixels apart overlap, and the topmost is not always the
    // one aimed at.
    let hits = pointLayers.length ? map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers: pointLayers }) : [];
    if (hits.length > 1) {
      const away = (f) => {
        const p = map.project(f.geometry.coordinates);
        return (p.x - x) ** 2 + (p.y - y) ** 2;
      };
      hits = hits.map((f) => [away(f), f]).sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    }
    if (!hits.length && gridLayers.length) hits = map.queryRenderedFeatures(e.point, { layers: gridLayers });
    const f = hits[0];
    if (!f) return;
    const layerId = f.layer.metadata?.[META_LAYER] ?? f.sourceLayer;
    const at = f.geometry.type === 'Point' ? f.geometry.coordinates : [e.lngLat.lng, e.lngLat.lat];
    page.card.open({ layerId, id: f.id, properties: f.properties, at, pointCount: f.properties.point_count });
  });
  for (const id of pointLayers) {
    map.on('mouseenter', id, () => { if (!page.around.picking()) map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { if (!page.around.picking()) map.getCanvas().style.cursor = ''; });
  }
}
