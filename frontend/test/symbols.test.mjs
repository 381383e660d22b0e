// The points' symbology (style.js withSymbols, icons.js) and the base map's
// layers (basemap.js withBasemap): hazards first, 红橙黄蓝 for hazard
// levels only, clusters that show their mix, a quiet base under the data.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { arcAt, iconImage, parseRing, ringImage, sdfImage, shapeDistance, stationImage } from '../src/icons.js';
import { BASE, META_BASE, withBasemap } from '../src/basemap.js';
import {
  CAMERA_MINZOOM, darkStyle, HOUSEHOLD_MINZOOM, META_MINZOOM, isPointLayer, legendOf, META_CLUSTER, KIND_COUNT, ringImageName, STATION_RING, withLabels, withSymbols,
} from '../src/style.js';

const SERVER_STYLE = JSON.parse(fs.readFileSync(new URL('./fixtures/style-all.json', import.meta.url), 'utf8'));
const style = () => structuredClone(SERVER_STYLE);
const RISK = ['#d7191c', '#fd8d3c', '#fecc5c', '#2c7bb6'];
const byId = (s, id) => s.layers.find((l) => l.id === id);

// colours lists every colour a style layer's paint names, in any expression.
function colours(value, out = new Set()) {
  if (typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value)) out.add(value.toLowerCase());
  else if (Array.isArray(value)) for (const v of value) colours(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) colours(v, out);
  return out;
}

test('every point symbol has a size at every zoom, a cluster\'s growing with its count', async () => {
  const { createExpression } = await import('@maplibre/maplibre-gl-style-spec');
  const out = withSymbols(style());
  const sized = out.layers.filter((l) => l.layout?.['icon-size'] !== undefined);
  assert.ok(sized.length >= 5);
  for (const l of sized) {
    // A stop of NaN (a number times an expression) is null once serialised.
    assert.ok(!JSON.stringify(l.layout['icon-size']).includes('null'), `${l.id}: ${JSON.stringify(l.layout['icon-size'])}`);
    const e = createExpression(l.layout['icon-size'], `layers[${out.layers.indexOf(l)}].layout.icon-size`);
    assert.equal(e.result, 'success', `${l.id}: ${JSON.stringify(e.value)}`);
    for (const zoom of [8, 10, 12, 16]) {
      for (const props of [{}, { point_count: 2 }, { point_count: 400 }]) {
        const v = e.value.evaluate({ zoom }, { type: 'Point', properties: { level: 'village', ...props } });
        assert.ok(Number.isFinite(v) && v > 0.2 && v < 2, `${l.id} at z${zoom} ${JSON.stringify(props)}: ${v}`);
      }
    }
  }
  const ring = createExpression(byId(out, 'risk_points-cluster').layout['icon-size'], 'layers[0].layout.icon-size').value;
  const at = (n) => ring.evaluate({ zoom: 10 }, { type: 'Point', properties: { point_count: n } });
  assert.ok(at(400) > at(2), 'a larger cluster, a larger ring');
});

test('a clustered point of stations is a ring cut by its kinds in their colours, with its count, not the badge of one kind', async () => {
  const { createExpression, validateStyleMin } = await import('@maplibre/maplibre-gl-style-spec');
  const out = withLabels(withSymbols(style()), 'http://x/font.woff2');
  assert.deepEqual(validateStyleMin(out), []);
  const st = byId(out, 'stations');
  const i = out.layers.indexOf(st);
  const image = createExpression(st.layout['icon-image'], `layers[${i}].layout.icon-image`);
  assert.equal(image.result, 'success', JSON.stringify(image.value));
  const at = (props) => ({ type: 'Point', properties: props });
  const name = (props) => image.value.evaluate({ zoom: 11 }, at(props)).name ?? image.value.evaluate({ zoom: 11 }, at(props));
  assert.match(name({ kind: 'clinic' }), /^om-st:clinic:#[0-9a-f]{6}$/i);
  const kinds = Object.fromEntries(legendOf(out, 'stations').entries.map((e) => [e.value, e.colour.toLowerCase()]));
  // 4 卫生室 and 2 警务室 of 7 (the tiles' point_count_kind_KIND), one of no
  // counted kind: arcs of 4, 2 and 1 sevenths, in the kinds' colours and
  // the neutral grey.
  const mixed = name({ kind: 'clinic', point_count: 7, [`${KIND_COUNT}clinic`]: 4, [`${KIND_COUNT}police`]: 2 });
  assert.notEqual(mixed, STATION_RING, 'a cluster of kinds drawn in one colour');
  const ring = parseRing(mixed);
  const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const grey = `#${STATION_RING.split(':')[2].split('=')[0]}`;
  assert.deepEqual(ring.arcs.map((a) => [hex(a.colour), Math.round(a.share * 7)]),
    [...Object.keys(kinds).filter((k) => k === 'clinic' || k === 'police').map((k) => [kinds[k], k === 'clinic' ? 4 : 2]), [grey, 1]]);
  assert.ok(iconImage(mixed));
  // Tiles that count no kinds: the neutral ring, of no kind's colour.
  const plain = parseRing(name({ kind: 'clinic', point_count: 7 }));
  assert.deepEqual(plain.arcs.map((a) => [hex(a.colour), a.share]), [[grey, 1]], 'a cluster drawn as the badge of its first station');
  assert.ok(!Object.values(kinds).includes(grey));
  assert.ok(iconImage(STATION_RING));
  // Its count is written over it (from 5, as over the hazards' rings).
  const count = byId(out, 'count-stations');
  assert.ok(count, 'no count over station clusters');
  assert.equal(count.metadata['onemap:layer'], 'stations');
  assert.equal(legendOf(out, 'stations').shape, 'badge');
});

test('withSymbols draws each hazard layer in its own shape, stations as badges, cameras small from z13, households from z11', async () => {
  const { validateStyleMin } = await import('@maplibre/maplibre-gl-style-spec');
  const out = withSymbols(style());
  assert.deepEqual(validateStyleMin(out), [], 'the style is valid');
  const risk = byId(out, 'risk_points');
  const hh = byId(out, 'households');
  assert.equal(risk.type, 'symbol');
  assert.equal(risk.layout['icon-image'], 'om-tri');
  assert.equal(hh.layout['icon-image'], 'om-square');
  assert.notEqual(risk.layout['icon-image'], hh.layout['icon-image'], 'a red dot could be either: not any more');
  assert.equal(byId(out, 'risk_points-cluster').metadata[META_CLUSTER], true);
  assert.equal(byId(out, 'households-cluster').metadata['onemap:layer'], 'households');
  const st = byId(out, 'stations');
  assert.equal(st.type, 'symbol');
  assert.equal(st.layout['icon-image'][0], 'case'); // a badge, or the ring of a cluster
  const cams = byId(out, 'cameras');
  assert.equal(cams.type, 'circle');
  assert.equal(cams.minzoom, CAMERA_MINZOOM, 'cameras are off below z13');
  // Households (squares and clusters) from z11, unless switched on: the county view is not covered in squares.
  for (const id of ['households', 'households-cluster']) {
    assert.equal(byId(out, id).minzoom, HOUSEHOLD_MINZOOM, `${id} drawn at the county view`);
    assert.equal(byId(out, id).metadata[META_MINZOOM], HOUSEHOLD_MINZOOM, `${id} cannot be switched on below z11`);
  }
  assert.equal(byId(out, 'risk_points').minzoom, undefined, 'risk points are drawn at every zoom');
  assert.ok(out.layers.filter(isPointLayer).length === 6, 'singles and clusters of two layers, stations, cameras');
  // 红橙黄蓝 are the hazard layers' only: no other layer's paint names them.
  for (const l of out.layers) {
    const id = l.metadata?.['onemap:layer'];
    if (id === 'risk_points' || id === 'households') continue;
    const used = colours([l.paint, l.layout]);
    for (const c of RISK) assert.ok(!used.has(c), `${l.id} uses hazard colour ${c}`);
  }
  // The legend reads the same colours and says the shapes.
  assert.equal(legendOf(out, 'risk_points').shape, 'triangle');
  assert.equal(legendOf(out, 'households').shape, 'square');
  assert.equal(legendOf(out, 'stations').shape, 'badge');
  assert.deepEqual(legendOf(out, 'risk_points').entries.map((e) => e.colour), RISK);
  assert.equal(legendOf(out, 'cameras').shape, 'dot');
});

test('the server style gives no other layer a hazard colour (camera 故障 ≠ 调解委员会, 卫生院 ≠ 重大)', () => {
  const cams = legendOf(style(), 'cameras');
  const st = legendOf(style(), 'stations');
  const of = (lg, v) => lg.entries.find((e) => e.value === v).colour;
  assert.notEqual(of(cams, 'fault'), of(st, 'mediation'));
  for (const kind of ['clinic', 'hospital']) assert.ok(!RISK.includes(of(st, kind)), `${kind} is a hazard colour`);
});

test('a cluster\'s ring is cut by the share of each level it holds, a rare level still shown', async () => {
  const { createExpression } = await import('@maplibre/maplibre-gl-style-spec');
  const out = withSymbols(style());
  const layer = byId(out, 'risk_points-cluster');
  const expr = createExpression(layer.layout['icon-image'], 'icon-image');
  assert.equal(expr.result, 'success', JSON.stringify(expr.value));
  const name = (props) => {
    const v = expr.value.evaluate({ zoom: 10 }, { type: 'Point', properties: props });
    return typeof v === 'string' ? v : v.name;
  };
  // 27 重大 of 900: a sliver of red, most of it blue and yellow.
  const n = name({ point_count: 900, point_count_red: 27, point_count_orange: 73, point_count_yellow: 300, point_count_blue: 500 });
  assert.equal(n, 'om-ring:triangle:d7191c=1,fd8d3c=2,fecc5c=8,2c7bb6=13,757575=0');
  const ring = parseRing(n);
  assert.equal(ring.shape, 'triangle');
  assert.deepEqual(ring.arcs.map((a) => Math.round(a.share * 24)), [1, 2, 8, 13]);
  // A cluster of only 重大 is all red; one without level counts all grey
  // (the rest), never the representative's colour for all.
  assert.equal(name({ point_count: 5, point_count_red: 5 }), 'om-ring:triangle:d7191c=24,fd8d3c=0,fecc5c=0,2c7bb6=0,757575=0');
  assert.equal(name({ point_count: 5, level: 'red' }), 'om-ring:triangle:d7191c=0,fd8d3c=0,fecc5c=0,2c7bb6=0,757575=24');
  assert.equal(ringImageName('square', ['match', ['get', 'level'], 'red', '#d7191c', '#757575'])[1], 'om-ring:square:');
});

test('icons: shapes by signed distance, SDF encoding, rings by share, station badges', () => {
  for (const shape of ['circle', 'square', 'triangle']) {
    assert.ok(shapeDistance(shape, 0, 0, 10) < 0, `${shape}: the centre is inside`);
    assert.ok(shapeDistance(shape, 30, 30, 10) > 0, `${shape}: far away is outside`);
  }
  // The triangle points up: above the centre it is narrow, below wide.
  assert.ok(shapeDistance('triangle', 6, -6, 10) > 0 && shapeDistance('triangle', 6, 6, 10) < 0);
  const sdf = sdfImage('triangle', 14);
  assert.equal(sdf.data.length, sdf.width * sdf.height * 4);
  const alpha = (img, x, y) => img.data[(y * img.width + x) * 4 + 3];
  const c = Math.floor(sdf.width / 2);
  assert.ok(alpha(sdf, c, c) > 191 && alpha(sdf, 0, 0) === 0, 'inside above the edge value, the corner empty');
  assert.deepEqual([0, 0.1, 0.3, 0.99].map((t) => arcAt([{ share: 0.25 }, { share: 0.5 }, { share: 0.25 }], t)), [0, 0, 1, 2]);
  // A ring half red (first, from the top clockwise), half blue.
  const ring = ringImage('om-ring:circle:d7191c=12,2c7bb6=12');
  const px = (img, x, y) => Array.from(img.data.slice((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
  const w = ring.width;
  const rgb = (p) => p.slice(0, 3).join(',');
  assert.equal(rgb(px(ring, Math.floor(w * 0.75), Math.floor(w * 0.2))), '215,25,28', 'top right is red');
  assert.equal(rgb(px(ring, Math.floor(w * 0.25), Math.floor(w * 0.8))), '44,123,182', 'bottom left is blue');
  assert.equal(rgb(px(ring, Math.floor(w / 2), Math.floor(w / 2))), '255,255,255', 'the centre is white for the count');
  const badge = stationImage('om-st:clinic:#43a047');
  const b = badge.width;
  assert.equal(rgb(px(badge, Math.floor(b / 2), Math.floor(b / 2))), '255,255,255', 'the cross is white');
  assert.equal(rgb(px(badge, Math.floor(b * 0.25), Math.floor(b * 0.25))), '67,160,71', 'around it the kind\'s colour');
  assert.equal(iconImage('om-tri').options.sdf, true);
  assert.equal(iconImage('om-st:police:#263238').options.sdf, undefined);
  assert.equal(iconImage('something-else'), null);
});

test('withBasemap styles a vector base under the data: fills, lines under the grid outlines, names under the points', async () => {
  const { validateStyleMin } = await import('@maplibre/maplibre-gl-style-spec');
  const s = withSymbols(style());
  s.sources[BASE] = { type: 'vector', tiles: ['http://x/basemap/{z}/{x}/{y}.pbf'] };
  const out = withBasemap(s, 'http://x/fonts/onemap-sans.woff2');
  assert.deepEqual(validateStyleMin(out), [], 'the style is valid');
  const ids = out.layers.map((l) => l.id);
  const first = (pred) => out.layers.findIndex(pred);
  const base = (id) => ids.indexOf(id);
  assert.equal(base('base-water-area'), 1, 'water areas right above the background');
  assert.ok(base('base-primary') > ids.indexOf('grids-fill-group') && base('base-primary') < ids.indexOf('grids-line-group'),
    'roads above the grids\' tints, under their outlines');
  assert.ok(base('base-place-village') < first(isPointLayer), 'names under the points');
  assert.equal(out['font-faces']['OneMap Sans'], 'http://x/fonts/onemap-sans.woff2');
  // A raster base or none: nothing added.
  assert.equal(withBasemap(style(), 'f').layers.length, style().layers.length);
  // The wall: the base in its dark colours, the data's fills dark as before.
  const dark = darkStyle(out);
  assert.notEqual(byId(dark, 'base-primary').paint['line-color'], byId(out, 'base-primary').paint['line-color']);
  assert.equal(byId(dark, 'base-primary').metadata[META_BASE], true);
  // Grids dark; hazard zones (as the server draws them) keep their levels'
  // colours (they were the grids' dark blue on the wall).
  assert.equal(byId(dark, 'grids-fill-township').paint['fill-color'], '#16324a');
  const byLevel = ['match', ['get', 'level'], 'red', RISK[0], 'orange', RISK[1], 'yellow', RISK[2], 'blue', RISK[3], '#757575'];
  const zones = { ...out, layers: [...out.layers,
    { id: 'hazard_zones-fill', type: 'fill', source: 'onemap', 'source-layer': 'hazard_zones', metadata: { 'onemap:layer': 'hazard_zones' }, paint: { 'fill-color': byLevel, 'fill-opacity': 0.18 } },
    { id: 'hazard_zones-line', type: 'line', source: 'onemap', 'source-layer': 'hazard_zones', metadata: { 'onemap:layer': 'hazard_zones' }, paint: { 'line-color': byLevel } }] };
  const darkZones = darkStyle(zones);
  assert.deepEqual(byId(darkZones, 'hazard_zones-fill').paint['fill-color'], byLevel);
  assert.deepEqual(byId(darkZones, 'hazard_zones-line').paint['line-color'], byLevel);
  // With labels: the counts of clusters over the rings, none over cameras.
  const labelled = withLabels(out, 'http://x/font.woff2');
  assert.ok(labelled.layers.some((l) => l.id === 'count-risk_points-cluster'));
  assert.ok(!labelled.layers.some((l) => l.id === 'count-cameras'), 'camera counts would crowd');
  assert.deepEqual(validateStyleMin(labelled), []);
});

test('the tags layer is drawn, and its tiles asked for, from TAG_MINZOOM only: no teal discs over the county view', async () => {
  const { tagLayers, TAG_MINZOOM } = await import('../src/command/tags.js');
  assert.ok(TAG_MINZOOM >= 12, `tags from z${TAG_MINZOOM}`);
  for (const l of tagLayers('Noto Sans')) assert.ok((l.minzoom ?? 0) >= TAG_MINZOOM, `${l.id} drawn from z${l.minzoom ?? 0}`);
});
