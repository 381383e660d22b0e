// Label points of townships and villages (style.js placesGeoJSON and
// withLabels with places).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP_LABELS, groupLabelPoints, PLACES, placesGeoJSON, withLabels } from '../src/style.js';

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

test('withLabels with groupLabels labels groups from their own points', () => {
  const style = {
    version: 8,
    sources: { onemap: { type: 'vector', url: 'http://x/tiles/all.json' } },
    layers: [{ id: 'grids-line', type: 'line', source: 'onemap', 'source-layer': 'grids', metadata: { 'onemap:layer': 'grids' } }],
  };
  const out = withLabels(style, 'http://x/font.woff2', { groupLabels: true });
  assert.deepEqual(out.sources[GROUP_LABELS].data.features, []);
  const group = out.layers.find((l) => l.id === 'label-grids-group');
  assert.equal(group.source, GROUP_LABELS);
  assert.equal(group['source-layer'], undefined);
  assert.deepEqual(group.metadata, { 'onemap:layer': 'grids', 'onemap:label': true });
});

test('groupLabelPoints: one point a group, inside its largest piece', () => {
  const square = (x0, y0, d) => ({ type: 'Polygon', coordinates: [[[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]] });
  const piece = (id, name, geometry) => ({ id, geometry, properties: { name, level: 'group' } });
  const fc = groupLabelPoints([
    piece(7, '第一居民小组', square(102.40, 25.50, 0.001)), // the small piece of 7, in one tile
    piece(7, '第一居民小组', square(102.41, 25.50, 0.004)), // its large piece, in the next
    piece(8, '第二居民小组', square(102.42, 25.50, 0.002)),
    piece(9, '', square(102.43, 25.50, 0.002)), // no name: no label
  ]);
  assert.deepEqual(fc.features.map((f) => f.id), [7, 8]);
  const [x, y] = fc.features[0].geometry.coordinates;
  assert.ok(x > 102.41 && x < 102.414 && y > 25.50 && y < 25.504, `label of 7 at ${x},${y}: not in its large piece`);
  assert.deepEqual(fc.features[1].properties, { name: '第二居民小组', level: 'group' });
  assert.deepEqual(groupLabelPoints([]).features, []);
  // In a view that holds only the small piece of 7, the label is there.
  const small = groupLabelPoints([
    piece(7, '第一居民小组', square(102.40, 25.50, 0.001)),
    piece(7, '第一居民小组', square(102.41, 25.50, 0.004)),
  ], [102.399, 25.499, 102.402, 25.502]);
  assert.equal(small.features.length, 1);
  const [sx] = small.features[0].geometry.coordinates;
  assert.ok(sx < 102.401, `label of 7 at ${sx}: not in the piece in view`);
});

test('withLabels writes a cluster\'s count over each point layer: 37, 1.2千, 1.5万', async () => {
  const { createExpression, validateStyleMin } = await import('@maplibre/maplibre-gl-style-spec');
  const style = {
    version: 8,
    sources: { onemap: { type: 'vector', url: 'http://x/tiles/all.json' } },
    layers: [
      { id: 'grids-line', type: 'line', source: 'onemap', 'source-layer': 'grids', metadata: { 'onemap:layer': 'grids' } },
      { id: 'cameras', type: 'circle', source: 'onemap', 'source-layer': 'cameras', minzoom: 8, metadata: { 'onemap:layer': 'cameras' } },
    ],
  };
  const out = withLabels(style, 'http://x/font.woff2');
  const counts = out.layers.filter((l) => l.id.startsWith('count-'));
  assert.deepEqual(counts.map((l) => [l.id, l['source-layer'], l.minzoom, l.metadata['onemap:layer']]), [['count-cameras', 'cameras', 10, 'cameras']]);
  const i = out.layers.indexOf(counts[0]);
  const text = createExpression(counts[0].layout['text-field'], `layers[${i}].layout.text-field`);
  const filter = createExpression(counts[0].filter, `layers[${i}].filter`);
  assert.equal(text.result, 'success', JSON.stringify(text.value));
  const at = (n) => ({ type: 'Point', properties: n === undefined ? {} : { point_count: n } });
  const say = (n) => text.value.evaluate({ zoom: 12 }, at(n));
  assert.equal(say(37), '37');
  assert.equal(say(1234), '1.2千');
  assert.equal(say(15128), '1.5万');
  assert.equal(filter.value.evaluate({ zoom: 12 }, at(4)), false, 'a small cluster shows no number');
  assert.equal(filter.value.evaluate({ zoom: 12 }, at(5)), true);
  assert.equal(filter.value.evaluate({ zoom: 12 }, at(undefined)), false, 'a single point shows no number');
  assert.deepEqual(validateStyleMin(out), [], 'the style with the counts is valid');
});
