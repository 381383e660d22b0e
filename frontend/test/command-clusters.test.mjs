// The command map's layer-panel filters over clustered points
// (src/command/clusters.js) on the style as the page draws it (withSymbols,
// withLabels: the clusters' rings and counts): a cluster that holds a
// chosen value but is drawn at another shows, ringed and counted for the
// chosen values alone; one that holds none does not. The filter on the
// point's own value (style.js filterExpr, before) dropped the first.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { parseRing } from '../src/icons.js';
import { FONT, KIND_COUNT, filterExpr, legendOf, withLabels, withSymbols } from '../src/style.js';
import { clusterFilter, clusterLayout, countProp } from '../src/command/clusters.js';

const SERVER_STYLE = JSON.parse(fs.readFileSync(new URL('./fixtures/style-all.json', import.meta.url), 'utf8'));
const STYLE = withLabels(withSymbols(structuredClone(SERVER_STYLE)), FONT);
const byId = (id) => STYLE.layers.find((l) => l.id === id);
const at = (props) => ({ type: 1, properties: props });
const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

async function compile(expr, kind = 'filter') {
  const { createExpression, featureFilter } = await import('@maplibre/maplibre-gl-style-spec');
  if (kind === 'filter') return (props) => featureFilter(expr, 'layers[0].filter').filter({ zoom: 11 }, at(props));
  const e = createExpression(expr, `layers[0].layout.${kind}`);
  assert.equal(e.result, 'success', JSON.stringify(e.value));
  return (props) => {
    const v = e.value.evaluate({ zoom: 11 }, at(props));
    return v?.name ?? v?.sections?.map((s) => s.text).join('') ?? v;
  };
}

test('countProp names the tiles’ counts of a cluster', () => {
  assert.equal(countProp('level', 'red'), 'point_count_red');
  assert.equal(countProp('kind', 'clinic'), `${KIND_COUNT}clinic`);
});

test('a risk-point cluster holding a chosen level drawn at another shows, ringed and counted for it', async () => {
  const cluster = byId('risk_points-cluster');
  const counts = byId('count-risk_points-cluster');
  assert.ok(cluster && counts, 'the style has no risk-point clusters or counts');
  const chosen = { level: ['yellow'] };
  // Six points drawn at a 红色 one: 4 红, 2 黄.
  const yellowAtRed = { kind: 'landslide', level: 'red', point_count: 6, point_count_red: 4, point_count_yellow: 2 };
  const onlyRed = { kind: 'landslide', level: 'red', point_count: 6, point_count_red: 6 };
  const single = (level) => ({ kind: 'landslide', level });

  const old = await compile(filterExpr(cluster.filter, chosen));
  assert.equal(old(yellowAtRed), false, 'the old filter should drop it (the bug)');

  const shows = await compile(clusterFilter('risk_points', cluster.filter, chosen));
  assert.equal(shows(yellowAtRed), true, 'a cluster holding 黄色 drawn at a 红色 point is dropped');
  assert.equal(shows(onlyRed), false, 'a cluster with no 黄色 is drawn');
  assert.equal(shows({ ...yellowAtRed, level: 'yellow' }), true);
  const singles = await compile(clusterFilter('risk_points', byId('risk_points').filter, chosen));
  assert.equal(singles(single('yellow')), true);
  assert.equal(singles(single('red')), false);

  // The ring: 黄色 alone.
  const yellow = legendOf(STYLE, 'risk_points').entries.find((e) => e.value === 'yellow').colour.toLowerCase();
  const layout = clusterLayout('risk_points', cluster.layout, chosen);
  const image = await compile(layout['icon-image'], 'icon-image');
  const ring = parseRing(image(yellowAtRed));
  assert.deepEqual(ring?.arcs.map((a) => [hex(a.colour), a.share]), [[yellow, 1]], image(yellowAtRed));
  // Sized as a cluster of 2, not of 6.
  const size = await compile(layout['icon-size'], 'icon-size');
  const baseSize = await compile(cluster.layout['icon-size'], 'icon-size');
  assert.equal(size(yellowAtRed), baseSize({ ...yellowAtRed, point_count: 2 }));
  assert.ok(size(yellowAtRed) < baseSize(yellowAtRed));

  // Counted: 7 黄 of 30 reads 7, and a cluster of fewer than 5 黄 shows no number.
  const big = { ...yellowAtRed, point_count: 30, point_count_red: 23, point_count_yellow: 7 };
  const text = await compile(clusterLayout('risk_points', counts.layout, chosen)['text-field'], 'text-field');
  assert.equal(text(big), '7');
  const countShows = await compile(clusterFilter('risk_points', counts.filter, chosen));
  assert.equal(countShows(big), true);
  assert.equal(countShows({ ...big, point_count_red: 28, point_count_yellow: 2 }), false);

  // Nothing chosen: the style's own.
  assert.deepEqual(clusterLayout('risk_points', cluster.layout, {}), { 'icon-image': cluster.layout['icon-image'],
    'icon-size': cluster.layout['icon-size'], 'symbol-sort-key': cluster.layout['symbol-sort-key'] });
  assert.deepEqual(clusterFilter('risk_points', cluster.filter, { level: null }), cluster.filter);
});

test('stations: chosen kinds ring a cluster; a level filter keeps the kinds’ mix; an uncounted field filters as before', async () => {
  const st = byId('stations');
  const clinic = legendOf(STYLE, 'stations').entries.find((e) => e.value === 'clinic').colour.toLowerCase();
  const clinicAtPolice = { kind: 'police', level: 'village', point_count: 4, [`${KIND_COUNT}police`]: 2, [`${KIND_COUNT}clinic`]: 2,
    point_count_village: 3, point_count_township: 1 };
  const noClinic = { kind: 'police', level: 'village', point_count: 3, [`${KIND_COUNT}police`]: 3, point_count_village: 3 };

  const shows = await compile(clusterFilter('stations', st.filter, { kind: ['clinic'] }));
  assert.equal(shows(clinicAtPolice), true);
  assert.equal(shows(noClinic), false);
  const image = await compile(clusterLayout('stations', st.layout, { kind: ['clinic'] })['icon-image'], 'icon-image');
  assert.deepEqual(parseRing(image(clinicAtPolice))?.arcs.map((a) => [hex(a.colour), a.share]), [[clinic, 1]]);

  // By level: a cluster drawn at a 村级 station holding a 乡镇级 one shows; its ring is still every kind.
  const byLevel = await compile(clusterFilter('stations', st.filter, { level: ['township'] }));
  assert.equal(byLevel(clinicAtPolice), true);
  assert.equal(byLevel(noClinic), false);
  assert.deepEqual(clusterLayout('stations', st.layout, { level: ['township'] })['icon-image'], st.layout['icon-image']);

  // Cameras count no status: filtered by the point's own, as before.
  const cam = STYLE.layers.find((l) => l.metadata?.['onemap:layer'] === 'cameras');
  assert.deepEqual(clusterFilter('cameras', cam.filter, { status: ['fault'] }), filterExpr(cam.filter, { status: ['fault'] }));
});

test('stations: a cluster holding one station of the chosen kinds draws that kind\'s badge, sized as a single station', async () => {
  const st = byId('stations');
  const clinic = legendOf(STYLE, 'stations').entries.find((e) => e.value === 'clinic').colour.toLowerCase();
  const baseImage = await compile(st.layout['icon-image'], 'icon-image');
  const baseSize = await compile(st.layout['icon-size'], 'icon-size');
  const single = { kind: 'clinic', level: 'village' };
  const badge = baseImage(single);
  assert.match(badge, /^om-st:clinic:/, badge);
  // Four stations drawn at a 警务室: one 卫生室, three 警务室.
  const oneClinic = { kind: 'police', level: 'village', point_count: 4, [`${KIND_COUNT}police`]: 3, [`${KIND_COUNT}clinic`]: 1, point_count_village: 4 };
  const twoClinics = { ...oneClinic, [`${KIND_COUNT}police`]: 2, [`${KIND_COUNT}clinic`]: 2 };

  const layout = clusterLayout('stations', st.layout, { kind: ['clinic'] });
  const image = await compile(layout['icon-image'], 'icon-image');
  const size = await compile(layout['icon-size'], 'icon-size');
  assert.equal(image(oneClinic), badge, 'a cluster holding one 卫生室 is a ring round it, not its badge');
  assert.equal(size(oneClinic), baseSize(single), 'the badge is not sized as a single station');
  // Two of the kind: a ring of its colour alone, sized as a cluster of two.
  assert.deepEqual(parseRing(image(twoClinics))?.arcs.map((a) => [hex(a.colour), a.share]), [[clinic, 1]], image(twoClinics));
  assert.equal(size(twoClinics), baseSize({ ...twoClinics, point_count: 2 }));
  // A single station: as before.
  assert.equal(image(single), badge);
  assert.equal(size(single), baseSize(single));

  // Two kinds chosen: one station of them is its kind's badge; one of each, a ring of both.
  const both = clusterLayout('stations', st.layout, { kind: ['clinic', 'police'] });
  const image2 = await compile(both['icon-image'], 'icon-image');
  const onlyClinic = { ...oneClinic, [`${KIND_COUNT}police`]: 0, [`${KIND_COUNT}grid`]: 3 };
  assert.equal(image2(onlyClinic), badge);
  const ring = parseRing(image2({ ...oneClinic, [`${KIND_COUNT}police`]: 1, [`${KIND_COUNT}grid`]: 2 }));
  assert.equal(ring?.arcs.length, 2, 'one 卫生室 and one 警务室 are not a ring of both');
});
