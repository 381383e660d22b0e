// The public map's kind filter (src/m/kinds.js) over the stations layer as
// style.js draws it: with a kind chosen, every clustered point that holds
// the kind shows (whichever station it is drawn at), as a ring of that
// kind's colour alone, sized by how many of the kind it holds; one that
// holds none does not show. The filter on the point's own kind (before)
// dropped a cluster of a 卫生室 drawn at a 警务室 and drew one drawn at a
// 卫生室 with every kind's colours.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { parseRing } from '../src/icons.js';
import { KIND_COUNT, legendOf, withSymbols } from '../src/style.js';
import { kindFilter, kindImage, kindSize } from '../src/m/kinds.js';

const SERVER_STYLE = JSON.parse(fs.readFileSync(new URL('./fixtures/style-all.json', import.meta.url), 'utf8'));

test('with a kind chosen, every cluster holding it shows, ringed in its colour alone', async () => {
  const { createExpression, featureFilter } = await import('@maplibre/maplibre-gl-style-spec');
  const style = withSymbols(structuredClone(SERVER_STYLE));
  const st = style.layers.find((l) => l.id === 'stations');
  const colour = legendOf(style, 'stations').entries.find((e) => e.value === 'clinic').colour;
  const at = (props) => ({ type: 1, properties: props });
  const clinicAtPolice = { kind: 'police', level: 'village', point_count: 4, [`${KIND_COUNT}police`]: 2, [`${KIND_COUNT}clinic`]: 2 };
  const clinicAtClinic = { kind: 'clinic', level: 'village', point_count: 3, [`${KIND_COUNT}clinic`]: 1, [`${KIND_COUNT}police`]: 2 };
  const noClinic = { kind: 'clinic', level: 'village', point_count: 3, [`${KIND_COUNT}police`]: 3 };
  const single = (kind) => ({ kind, level: 'village' });

  const f = featureFilter(kindFilter('clinic'), 'layers[0].filter');
  const shows = (props) => f.filter({ zoom: 11 }, at(props));
  assert.equal(shows(clinicAtPolice), true, 'a cluster holding 卫生室 drawn at a 警务室 is dropped');
  assert.equal(shows(clinicAtClinic), true);
  assert.equal(shows(noClinic), false, 'a cluster with no 卫生室 is drawn');
  assert.equal(shows(single('clinic')), true);
  assert.equal(shows(single('police')), false);
  assert.equal(kindFilter(''), null);

  const image = createExpression(kindImage('clinic', colour, st.layout['icon-image']), 'layers[0].layout.icon-image');
  assert.equal(image.result, 'success', JSON.stringify(image.value));
  const name = (props) => {
    const v = image.value.evaluate({ zoom: 11 }, at(props));
    return v?.name ?? v;
  };
  const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const ring = parseRing(name(clinicAtPolice));
  assert.deepEqual(ring?.arcs.map((a) => [hex(a.colour), a.share]), [[colour.toLowerCase(), 1]], name(clinicAtPolice));
  // One 卫生室 in a cluster drawn at a 卫生室 or not: the 卫生室's badge.
  assert.equal(name(clinicAtClinic), `om-st:clinic:${colour.toLowerCase()}`);
  assert.equal(name({ ...clinicAtClinic, kind: 'police' }), `om-st:clinic:${colour.toLowerCase()}`);
  assert.equal(name(single('clinic')), `om-st:clinic:${colour}`);
  assert.deepEqual(kindImage('', colour, st.layout['icon-image']), st.layout['icon-image']);

  const size = createExpression(kindSize('clinic', st.layout['icon-size']), 'layers[0].layout.icon-size');
  assert.equal(size.result, 'success', JSON.stringify(size.value));
  const base = createExpression(st.layout['icon-size'], 'layers[0].layout.icon-size').value;
  const sz = (e, props) => e.evaluate({ zoom: 11 }, at(props));
  // Sized by the 卫生室 it holds: 2 of 40 as a ring of 2, not of 40.
  const big = { ...clinicAtPolice, point_count: 40 };
  assert.equal(sz(size.value, big), sz(base, { ...big, point_count: 2 }));
  assert.ok(sz(size.value, big) < sz(base, big));
  // One of the kind: a single station's size.
  assert.equal(sz(size.value, clinicAtClinic), sz(base, single('clinic')));
  for (const zoom of [7, 9, 12, 13.5]) {
    const v = size.value.evaluate({ zoom }, at(clinicAtPolice));
    assert.ok(Number.isFinite(v) && v > 0.2 && v < 2, `z${zoom}: ${v}`);
  }
});
