// The region picker's pure parts: the tree flattened for the select, and
// the mask that greys out the world outside the picked region.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flatten, maskOf } from '../src/command/regions.js';
import { panelFields } from '../src/panel.js';

describe('region picker', () => {
  it('lists the tree parents first, with depths', () => {
    const tree = [{ id: 1, name: '楚雄彝族自治州', children: [{ id: 2, name: '楚雄市', children: [] }, { id: 3, name: '禄丰市', children: [] }] }];
    assert.deepEqual(flatten(tree).map((r) => [r.id, r.depth]), [[1, 0], [2, 1], [3, 1]]);
    assert.deepEqual(flatten(undefined), []);
  });
  it('masks the world but the outer rings of the region', () => {
    const ring = [[101, 25], [102, 25], [102, 26], [101, 25]];
    const hole = [[101.2, 25.2], [101.3, 25.2], [101.3, 25.3], [101.2, 25.2]];
    const m = maskOf({ type: 'MultiPolygon', coordinates: [[ring, hole], [ring]] });
    assert.equal(m.geometry.coordinates.length, 3);
    assert.deepEqual(m.geometry.coordinates[1], ring);
    assert.equal(maskOf({ type: 'Polygon', coordinates: [ring] }).geometry.coordinates.length, 2);
    assert.equal(maskOf(null).geometry.coordinates.length, 1);
  });
  it('lists the levels above the county in the layer panel only where counted', () => {
    const grids = { id: 'grids', fields: [{ name: 'level', enum: ['province', 'prefecture', 'county', 'township', 'village', 'group'] }] };
    const style = { version: 8, sources: {}, layers: [] };
    const levels = (counts) => panelFields(grids, style, { level: counts }).find((f) => f.field === 'level').values;
    assert.deepEqual(levels({ county: 1, township: 11 }), ['county', 'township', 'village', 'group'], 'a county alone: as before');
    assert.deepEqual(levels({ prefecture: 1, county: 10 }), ['county', 'township', 'village', 'group', 'prefecture']);
  });
});
