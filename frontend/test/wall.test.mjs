// The wall's pure parts (src/screen/wall.js): its scale by screen height,
// the figures it takes from the statistics only when the server has them
// (网格员 never from grids), camera faults by township, and the live lists of
// alarms and changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  alarmState, alarmsHTML, changeItems, changesHTML, chinaMidnight, faultsHTML, fitZoom, legendHTML, statFigure, townshipFaults, wallLegend,
  wallSymbols, wallFigures, wallScale, wallZoom,
} from '../src/screen/wall.js';
import { countsQuery } from '../src/counts.js';
import { iconImage, parseRing } from '../src/icons.js';
import { darkStyle, withLabels, withSymbols } from '../src/style.js';

test('wallScale draws the map 1.25× at 1080 and 2.5× at 2160, never smaller than the command map', () => {
  assert.equal(wallScale(1080), 1.25);
  assert.equal(wallScale(2160), 2.5);
  assert.equal(wallScale(600), 1);
});

test('wallZoom draws a view fitted just over a whole zoom from the tiles of the zoom below', () => {
  assert.equal(wallZoom(8.997), 8.997); // the demo county at 1920×1080: z8 tiles already
  assert.ok(wallZoom(9.01) < 9 && wallZoom(9.01) > 8.99, 'z9 tiles asked for at 9.01');
  assert.ok(wallZoom(9.0) < 9);
  assert.equal(wallZoom(9.2), 9.2); // well over: the zoom it fits at
  assert.equal(wallZoom(0.01), 0.01);
});

test('countsQuery counts over the padded region with no feature in the answer', () => {
  const q = countsQuery([102, 25.3, 102.5, 26.2]);
  assert.equal(q.bbox, '101.950000,25.250000,102.550000,26.250000');
  assert.deepEqual(Object.keys(q).sort(), ['bbox', 'limit']);
  assert.equal(q.limit, 0, 'the counts alone');
});

test('statFigure reads a member of the answer or of its top grids, and null when absent', () => {
  assert.equal(statFigure({ grid_workers: 132, children: [] }, 'grid_workers'), 132);
  assert.equal(statFigure({ children: [{ grid_workers: 3 }, { grid_workers: 4 }, {}] }, 'grid_workers'), 7);
  assert.equal(statFigure({ children: [{ grid_workers: 0 }] }, 'grid_workers'), 0);
  assert.equal(statFigure({ children: [{ worker_name: '张三' }] }, 'grid_workers'), null);
  assert.equal(statFigure(null, 'grid_workers'), null);
});

test('wallFigures: 重大 first, then overdue and workers only when the server counts them', () => {
  const counts = { risk_points: { total: 900, level: { red: 27, orange: 100 } }, households: { total: 50, level: { red: 5 } },
    grids: { total: 3000, level: { village: 100 } } };
  // Grids with workers' names are not people counted: no card.
  let f = wallFigures(counts, { children: [{ id: 1, level: 'county', worker_name: '李四' }] });
  assert.deepEqual(f.map((x) => x.id), ['major']);
  assert.equal(f[0].value, '27');
  assert.equal(f[0].alert, true);
  assert.deepEqual(f[0].parts.map((p) => p.count), [5]);
  f = wallFigures(counts, { grid_workers: 1234, assessments_overdue: 9, assessments_due: 40, children: [] });
  assert.deepEqual(f.map((x) => x.id), ['major', 'overdue', 'workers']);
  assert.equal(f[1].value, '9');
  assert.deepEqual(f[1].parts.map((p) => [p.key, p.count]), [['due', 40]]);
  assert.equal(f[2].value, '1,234');
  // A caller who may not count risk points sees no 重大 card.
  assert.deepEqual(wallFigures({ grids: counts.grids }, null), []);
});

test('townshipFaults lists the townships with cameras out of order, most faults first', () => {
  const t = (id, name, count) => ({ id, name, level: 'township', stats: { cameras: { total: 10, by: 'status', count } } });
  const rows = townshipFaults([t(1, '甲镇', { online: 10 }), t(2, '乙乡', { online: 5, offline: 4, fault: 1 }),
    t(3, '丙镇', { online: 5, fault: 3 }), { id: 4, name: '丁', stats: {} }]);
  assert.deepEqual(rows.map((r) => [r.name, r.fault, r.offline]), [['丙镇', 3, 0], ['乙乡', 1, 4]]);
  assert.match(faultsHTML(rows), /丙镇<\/td><td class="om-n om-fault">3/);
  assert.match(faultsHTML([]), /om-wall-empty/);
  assert.doesNotMatch(faultsHTML([{ id: 1, name: '<b>', fault: 1, offline: 0 }]), /<b>/);
});

test('faultsHTML sums the townships it leaves out in a last row', () => {
  const rows = [1, 2, 3, 4, 5].map((i) => ({ id: i, name: `镇${i}`, fault: 10 - i, offline: i }));
  const html = faultsHTML(rows, 3);
  assert.equal((html.match(/data-grid=/g) ?? []).length, 2);
  // 镇3, 镇4 and 镇5: faults 7 + 6 + 5, offline 3 + 4 + 5.
  assert.match(html, /data-rest="3"><td>其余 3 个乡镇<\/td><td class="om-n om-fault">18<\/td><td class="om-n">12</);
  assert.doesNotMatch(faultsHTML(rows, 5), /data-rest/);
  assert.equal((faultsHTML(rows, 5).match(/data-grid=/g) ?? []).length, 5);
});

test('wallSymbols leaves the households out of the county view, counts and all', () => {
  const m = (id) => ({ 'onemap:layer': id });
  const style = { layers: [
    { id: 'grids-line', type: 'line', metadata: m('households') },
    { id: 'risk_points', type: 'symbol', metadata: m('risk_points'), layout: { 'icon-image': 'om-tri' } },
    { id: 'households-cluster', type: 'symbol', minzoom: 3, metadata: m('households'), layout: { 'icon-image': 'x' } },
    { id: 'count-households-cluster', type: 'symbol', metadata: m('households'), layout: { 'text-field': 'n' } },
    { id: 'households-dots', type: 'circle', minzoom: 12, metadata: m('households') },
    { id: 'background', type: 'background' },
  ] };
  const out = wallSymbols(style, { households: 11 }).layers;
  assert.equal(out[1], style.layers[1], 'risk points are drawn as they are');
  assert.equal(out[2].minzoom, 11);
  assert.equal(out[3].minzoom, 11, 'the households\' counts go with them');
  assert.equal(out[4].minzoom, 12, 'a later start is kept');
  assert.equal(out[0].minzoom, undefined, 'outlines are not points');
  assert.equal(out[5], style.layers[5]);
  assert.equal(style.layers[2].minzoom, 3, 'the style given is not changed');
});

test('chinaMidnight is the start of the day in China', () => {
  // 2026-12-06 01:30 in China is 2026-12-05T17:30Z; its midnight 2026-12-05T16:00Z.
  assert.equal(chinaMidnight(Date.parse('2026-12-05T17:30:00Z')), Date.parse('2026-12-05T16:00:00Z'));
  assert.equal(chinaMidnight(Date.parse('2026-12-05T15:59:00Z')), Date.parse('2026-12-04T16:00:00Z'));
});

test('alarmState counts today\'s alarms and lists the open ones, newest first, whatever order versions arrive in', () => {
  const now = Date.parse('2026-12-06T04:00:00Z'); // 12:00 in China
  const a = (id, status, first, last, version = 1) => ({ id, status, first_at: first, last_at: last, version, kind: 'smoke_fire',
    kind_name: '烟火预警', severity: 1, count: 1, camera_name: `摄像机${id}` });
  const byId = new Map();
  let s = alarmState(byId, [
    a(1, 'new', '2026-12-06T01:00:00Z', '2026-12-06T01:00:00Z'),
    a(2, 'acknowledged', '2026-12-06T02:00:00Z', '2026-12-06T03:00:00Z'),
    a(3, 'dismissed', '2026-12-06T02:30:00Z', '2026-12-06T02:30:00Z'),
    a(4, 'new', '2026-12-05T10:00:00Z', '2026-12-05T10:00:00Z'), // yesterday in China
  ], { now });
  assert.equal(s.today, 3);
  assert.equal(s.open, 3);
  assert.deepEqual(s.list.map((x) => x.id), [2, 1, 4]);
  // An alarm dismissed leaves the list; an older version arriving late changes nothing.
  s = alarmState(byId, [a(1, 'dismissed', '2026-12-06T01:00:00Z', '2026-12-06T03:30:00Z', 2)], { now });
  assert.deepEqual(s.list.map((x) => x.id), [2, 4]);
  s = alarmState(byId, [a(1, 'new', '2026-12-06T01:00:00Z', '2026-12-06T01:00:00Z', 1)], { now });
  assert.deepEqual(s.list.map((x) => x.id), [2, 4]);
  // A new one comes first.
  s = alarmState(byId, [a(9, 'new', '2026-12-06T03:59:00Z', '2026-12-06T03:59:00Z')], { now });
  assert.equal(s.list[0].id, 9);
  assert.equal(s.today, 4);
  assert.match(alarmsHTML(s.list), /data-alarm="9"[^>]*om-sev-1/);
  assert.match(alarmsHTML([]), /om-wall-empty/);
});

test('changeItems lists feature changes newest first, without cases, at most max', () => {
  let list = changeItems([], [
    { seq: 1, layer: 'cameras', id: 7, op: 'update', properties: { name: '狮山路口', status: 'fault' } },
    { seq: 2, layer: 'cases', id: 8, op: 'insert', properties: {} },
    { seq: 3, layer: 'risk_points', id: 9, op: 'insert', properties: { name: '滑坡点', level: 'red' } },
  ], { at: 0 });
  assert.deepEqual(list.map((c) => [c.layer, c.id, c.detail]), [['risk_points', 9, '重大'], ['cameras', 7, '故障']]);
  list = changeItems(list, [{ seq: 4, layer: 'grids', id: 1, op: 'delete', properties: null }], { at: 0, max: 2 });
  assert.deepEqual(list.map((c) => [c.layer, c.name]), [['grids', '#1'], ['risk_points', '滑坡点']]);
  assert.match(changesHTML(list), /删除/);
  assert.doesNotMatch(changesHTML([{ key: 'x', layer: 'cameras', op: 'update', name: '<img>', detail: '', at: 0 }]), /<img>/);
});

test('legendHTML draws each layer\'s values in its shape and colour', () => {
  const html = legendHTML([{ id: 'risk_points', label: '风险点', legend: { field: 'level', shape: 'triangle', entries: [{ value: 'red', colour: '#d7191c' }] } },
    { id: 'cameras', label: '视频', legend: null }]);
  assert.match(html, /data-layer="risk_points"/);
  assert.match(html, /om-shape-triangle" style="background:#d7191c"/);
  assert.match(html, /重大/);
  assert.doesNotMatch(html, /cameras/);
});

test('changesHTML names the emergency layers as the command map does, not by their ids', () => {
  const html = changesHTML([
    { key: 'a', layer: 'hazard_zones', op: 'update', name: '龙潭滑坡威胁区', detail: '', at: 0 },
    { key: 'b', layer: 'shelters', op: 'insert', name: '狮山小学', detail: '', at: 0 },
  ]);
  assert.match(html, /危险区 · 龙潭滑坡威胁区/);
  assert.match(html, /安置点 · 狮山小学/);
  assert.doesNotMatch(html, /hazard_zones|shelters/);
});

// wallStyle is the wall's style (screen/main.js) over the server's style
// of the demo county, with its hazard zones and shelters as the server
// draws them.
function wallStyle() {
  const server = JSON.parse(fs.readFileSync(new URL('./fixtures/style-all.json', import.meta.url), 'utf8'));
  const byLevel = ['match', ['get', 'level'], 'red', '#d7191c', 'orange', '#fd8d3c', 'yellow', '#fecc5c', 'blue', '#2c7bb6', '#757575'];
  const at = server.layers.findIndex((l) => l.id === 'cameras');
  const src = { source: 'onemap' };
  server.layers.splice(at, 0,
    { id: 'hazard_zones-fill', type: 'fill', ...src, 'source-layer': 'hazard_zones', metadata: { 'onemap:layer': 'hazard_zones' }, paint: { 'fill-color': byLevel, 'fill-opacity': 0.18 } },
    { id: 'hazard_zones-line', type: 'line', ...src, 'source-layer': 'hazard_zones', metadata: { 'onemap:layer': 'hazard_zones' }, paint: { 'line-color': byLevel, 'line-dasharray': [2, 1.5] } },
    { id: 'shelters', type: 'circle', ...src, 'source-layer': 'shelters', metadata: { 'onemap:layer': 'shelters' }, paint: { 'circle-color': '#2e7d32', 'circle-radius': 4 } });
  return wallSymbols(withLabels(darkStyle(withSymbols(server)), 'http://x/font.woff2', { dark: true, skip: ['grids'] }));
}

test('wallLegend keys every layer the county view draws: hazards, zones, stations and their rings, shelters', () => {
  const style = wallStyle();
  const at9 = wallLegend(style, 9);
  // Households from zoom 11 and cameras from 13 are not drawn at the
  // county view: no key (nor for the grids' outlines).
  assert.deepEqual(at9.map((l) => l.id), ['risk_points', 'hazard_zones', 'stations', 'shelters']);
  assert.deepEqual(wallLegend(style, 11.5).map((l) => l.id), ['risk_points', 'households', 'hazard_zones', 'stations', 'shelters']);
  assert.ok(wallLegend(style, 13.5).some((l) => l.id === 'cameras'));
  const by = Object.fromEntries(at9.map((l) => [l.id, l]));
  assert.equal(by.risk_points.legend.shape, 'triangle');
  // Hazard zones: a dashed box per level in the level's colour (the wall's dark style keeps them).
  assert.equal(by.hazard_zones.legend.shape, 'zone');
  assert.deepEqual(by.hazard_zones.legend.entries.map((e) => [e.value, e.colour]),
    [['red', '#d7191c'], ['orange', '#fd8d3c'], ['yellow', '#fecc5c'], ['blue', '#2c7bb6']]);
  // Stations: each kind's badge as the map draws it, then the ring of a cluster cut by the kinds' colours.
  const st = by.stations.legend.entries;
  assert.ok(st.length > 5, `${st.length} station keys`);
  for (const e of st.slice(0, -1)) assert.equal(e.icon, `om-st:${e.value}:${e.colour}`);
  const ring = parseRing(st.at(-1).icon);
  assert.equal(ring?.arcs.length, st.length - 1, st.at(-1).icon);
  assert.match(st.at(-1).label, /多个/);
  for (const e of st) assert.ok(iconImage(e.icon), `no image for ${e.icon}`);
  assert.deepEqual(by.shelters.legend.entries.map((e) => e.colour), ['#2e7d32']);

  const html = legendHTML(at9);
  assert.match(html, /data-layer="hazard_zones"><b>危险区<\/b>/);
  assert.match(html, /<span class="om-zone" style="border-color:#d7191c;background:#d7191c33"><\/span>重大/);
  assert.match(html, /<canvas class="om-key-icon" data-icon="om-st:clinic:#[0-9a-f]{6}"[^>]*><\/canvas>卫生室/);
  assert.match(html, /data-layer="shelters"><b>安置点<\/b>/);
  assert.doesNotMatch(html, /data-layer="(households|cameras|grids)"/);
});

test('fitZoom is the zoom a box just fits a view at', () => {
  // One tile (512 px) spans 360° at zoom 0, 2,048 px at zoom 2: a 1024 px view spans 90° at zoom 3.
  assert.ok(Math.abs(fitZoom([0, -10, 90, 10], 1024, 4096) - 3) < 1e-9);
  // Height bound: the narrower side wins.
  assert.ok(fitZoom([0, -60, 1, 60], 1024, 200) < 0);
  // The demo county between the wall's columns at 1920×1080 (×1.25): about 9.
  const z = fitZoom([101.899067, 25.330913, 102.480947, 26.188932], 1028 / 1.25, 1000 / 1.25);
  assert.ok(z > 8.5 && z < 9.5, `${z}`);
});

test('the live list of new and escalated cases says so when it has none yet (it drew an empty box)', async () => {
  const { liveHTML } = await import('../src/screen/cases.js');
  assert.equal(liveHTML([]), '<li class="om-wall-empty">暂无新上报与提级</li>');
  const html = liveHTML([{ id: 7, kind: 'escalated', category: 'dispute', level: 'town', code: 'SJ-7', at: 0 }]);
  assert.match(html, /data-case="7"/);
  assert.doesNotMatch(html, /om-wall-empty/);
});
