// The groups' labels on the command map: one a group, at a point of its
// largest piece among the tiles in view (../style.js groupLabelPoints), so
// that a group the tiles cut in several is labelled once.

import { GROUP_LABELS, groupLabelPoints, SOURCE } from '../style.js';

// GROUP_LABEL_ZOOM is the least zoom at which groups are labelled.
const GROUP_LABEL_ZOOM = 13.5;

/** watchGroupLabels refills the group labels whenever the map comes to rest. */
export function watchGroupLabels(map) {
  let shown = '';
  map.on('idle', () => {
    const source = map.getSource(GROUP_LABELS);
    if (!source) return;
    const data = map.getZoom() < GROUP_LABEL_ZOOM ? { type: 'FeatureCollection', features: [] }
      : groupLabelPoints(map.querySourceFeatures(SOURCE, { sourceLayer: 'grids', filter: ['==', ['get', 'level'], 'group'] }),
        map.getBounds().toArray().flat());
    const key = JSON.stringify(data.features.map((f) => [f.id, f.properties.name, f.geometry.coordinates]));
    if (key === shown) return; // the same labels: no render, so no idle again
    shown = key;
    source.setData(data);
  });
}
