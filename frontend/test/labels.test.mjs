// Label points of townships and villages (style.js placesGeoJSON and
// withLabels with places).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLACES, placesGeoJSON, withLabels } from '../src/style.js';

const places = {
  townships: [
    { id: 2, code: '532329101000', name: '狮山镇', lon: 102.4, lat: 25.53, villages: [{ id: 20, code: '532329101001', name: '西门社区', lon: 102.41, lat: 25.54 }] },
    { id: 3, code: '532329102000', name: '高桥镇', lon: 102.3, lat: 25.4, villages: [] },
  ],
};

test('placesGeoJSON makes one point per township and village', () => {
  const fc = placesGeoJSON(places);
  assert.equal(fc.features.length, 3);
  assert.deepEqual(fc.features[1], {
    type: 'Feature', id: 20, geometry: { type: 'Point', coordinates: [102.41, 25.54] }, properties: { name: '西门社区', level: 'village' },
  });
  assert.deepEqual(placesGeoJSON(null).features, []);
});

test('withLabels labels townships and villages from the places, groups from the tiles', () => {
  const style = {
    version: 8,
    sources: { onemap: { type: 'vector', url: 'http://x/tiles/all.json' } },
    layers: [{ id: 'grids-line', type: 'line', source: 'onemap', 'source-layer': 'grids', metadata: { 'onemap:layer': 'grids' } }],
  };
  const out = withLabels(style, 'http://x/font.woff2', { places: placesGeoJSON(places) });
  assert.equal(out.sources[PLACES].type, 'geojson');
  const byId = Object.fromEntries(out.layers.map((l) => [l.id, l]));
  assert.equal(byId['label-grids-township'].source, PLACES);
  assert.equal(byId['label-grids-township']['source-layer'], undefined);
  assert.equal(byId['label-grids-village'].source, PLACES);
  assert.equal(byId['label-grids-group'].source, 'onemap');
  assert.equal(byId['label-grids-group']['source-layer'], 'grids');
  // Without places every label comes from the tiles.
  const plain = withLabels(style, 'http://x/font.woff2');
  assert.equal(plain.sources[PLACES], undefined);
  assert.ok(plain.layers.filter((l) => l.id.startsWith('label-grids')).every((l) => l.source === 'onemap'));
});
