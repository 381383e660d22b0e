// Unit tests of the commander's tools: search options, grid cards, "what's
// around here" (radius, rows, CSV) and the geometry helpers. Pure functions
// only: no browser, no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOM, csvField, parseCSV, toCSV } from '../src/csv.js';
import {
  aroundGrids, aroundHTML, aroundLayers, aroundRows, csvFileName, csvRows, CSV_HEADER,
  parseRadius, RADII, tally,
} from '../src/around.js';
import { describeOption, optionsHTML, searchOptions } from '../src/search.js';
import { breadcrumbHTML, cardHTML, chainTo, childrenHTML, countsHTML, gridStatsHTML, pointCardHTML } from '../src/card.js';
import { bboxOf, circle, distance, interiorPoint, pointInPolygon } from '../src/geo.js';
import { formatDistance, formatLonLat, formatRadius } from '../src/format.js';
import { orderedCounts } from '../src/labels.js';
import { popupHTML } from '../src/popup.js';
import fs from 'node:fs';
import { useColours } from '../src/style.js';

const LAYERS = new globalThis.Map([
  ['grids', { id: 'grids', title: '网格' }],
  ['risk_points', { id: 'risk_points', title: '风险隐患点' }],
  ['households', { id: 'households', title: '风险户' }],
  ['cameras', { id: 'cameras', title: '视频监控' }],
  ['stations', { id: 'stations', title: '服务站点' }],
]);

// ---- CSV ----

test('csvField quotes what needs it and defuses formulas', () => {
  assert.equal(csvField('狮山镇'), '狮山镇');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  assert.equal(csvField(33.88), '33.88');
  assert.equal(csvField(0), '0');
  assert.equal(csvField(NaN), '');
  assert.equal(csvField(null), '');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(true), 'true');
  // A cell that a spreadsheet would evaluate gets an apostrophe first.
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('+86 138'), "'+86 138");
  assert.equal(csvField('-1'), "'-1");
  assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvField(-1), '-1', 'numbers stay numbers');
});

test('toCSV: BOM, CRLF, header first; parseCSV reads it back', () => {
  const text = toCSV(['名称', '距离'], [['东岳社区, 第四组', 12.5], ['"引号"', 0], ['多\n行', null]]);
  assert.ok(text.startsWith(BOM));
  assert.equal(new TextEncoder().encode(text).slice(0, 3).join(','), '239,187,191', 'UTF-8 BOM bytes EF BB BF');
  assert.ok(text.endsWith('\r\n'));
  assert.equal(text.slice(1).split('\r\n')[0], '名称,距离');
  assert.deepEqual(parseCSV(text), [['名称', '距离'], ['东岳社区, 第四组', '12.5'], ['"引号"', '0'], ['多\n行', '']]);
});

// ---- radius ----

test('parseRadius reads metres and kilometres, in Chinese too', () => {
  assert.equal(parseRadius('500'), 500);
  assert.equal(parseRadius('500 m'), 500);
  assert.equal(parseRadius('500米'), 500);
  assert.equal(parseRadius(' 1km '), 1000);
  assert.equal(parseRadius('1 KM'), 1000);
  assert.equal(parseRadius('1.5 公里'), 1500);
  assert.equal(parseRadius('3千米'), 3000);
  assert.equal(parseRadius(5000), 5000);
  assert.equal(parseRadius('50 km'), 50000);
  for (const bad of ['', '0', '-1', 'abc', '1 mile', '51 km', '1e3', '1,000', null, undefined]) {
    assert.equal(parseRadius(bad), null, String(bad));
  }
});

test('formatRadius and the offered radii', () => {
  assert.deepEqual(RADII.map(formatRadius), ['500 米', '1 公里', '3 公里', '5 公里']);
  assert.equal(formatRadius(1500), '1.5 公里');
  for (const r of RADII) assert.equal(parseRadius(formatRadius(r)), r);
});

// ---- /api/around ----

const pt = (lon, lat) => ({ type: 'Point', coordinates: [lon, lat] });
const AROUND = {
  point: [102.4063, 25.5302],
  radius_m: 500,
  grids: [
    { id: 15, level: 'village', name: '南街社区', worker_name: '刘学明', worker_phone: '13145216233', distance_m: 275.73 },
    { id: 1, level: 'county', name: '武定县', worker_name: '刘国军', worker_phone: '13173238343', distance_m: 0 },
    { id: 2, level: 'township', name: '狮山镇', worker_name: '张丹珍', worker_phone: '18328218824', distance_m: 0 },
  ],
  layers: {
    stations: { count: 2, by_level: { township: 1, county: 1 }, truncated: false, features: [
      { id: 68, geometry: pt(102.4056, 25.5293), properties: { name: '=调解委员会', kind: 'mediation', level: 'township', phone: '0878-8735598', distance_m: 116.37 } },
      { id: 3, geometry: pt(102.4068, 25.5328), properties: { name: '武定县人民调解委员会', kind: 'mediation', level: 'county', distance_m: 40.1 } },
    ] },
    cameras: { count: 700, by_level: {}, truncated: true, features: [
      { id: 561, geometry: pt(102.4064, 25.5303), properties: { name: '客运站, 36号', status: 'fault', kind: 'dome', distance_m: 33.88 } },
      { id: 560, geometry: pt(102.4062, 25.5301), properties: { name: '客运站35号', status: 'online', kind: 'dome', distance_m: 33.88 } },
      { id: 9, geometry: pt(102.4, 25.53), properties: { name: '卫生院1号', status: 'online', kind: 'face', distance_m: 12 } },
    ] },
    households: { count: 1, by_level: { blue: 1 }, truncated: false, features: [
      { id: 478, geometry: pt(102.405, 25.531), properties: { kind: 'contract_debt', level: 'blue', responsible_name: '张强', responsible_phone: '17731686636', distance_m: 174.26 } },
    ] },
    risk_points: { count: 3, by_level: { yellow: 1, blue: 2 } }, // counted only: no features
  },
};

test('aroundLayers: risk points, households, stations, then cameras', () => {
  assert.deepEqual(aroundLayers(AROUND), ['risk_points', 'households', 'stations', 'cameras']);
  assert.deepEqual(aroundLayers({ layers: { zeta: {}, stations: {}, alpha: {} } }), ['stations', 'alpha', 'zeta']);
  assert.deepEqual(aroundLayers(null), []);
});

test('aroundRows: open cases come as the case list\'s briefs, nearest first', () => {
  const rows = aroundRows({ layers: { cases: { count: 2, by_status: { reported: 2 }, features: [
    { id: 9, tracking_code: 'ABCD-EFGH-JK', category: 'sanitation', status: 'reported', level: 'group', position: [102.4, 25.5], distance_m: 80 },
    { id: 4, tracking_code: 'BCDE-FGHJ-KL', category: 'safety', status: 'reported', level: 'group', position: [102.41, 25.5], distance_m: 20 },
  ] } } });
  assert.deepEqual(rows.map((r) => [r.id, r.name, r.kind, r.distance, r.position]), [
    [4, 'BCDE-FGHJ-KL', 'safety', 20, [102.41, 25.5]],
    [9, 'ABCD-EFGH-JK', 'sanitation', 80, [102.4, 25.5]],
  ]);
});

test('aroundRows: per layer, nearest first, ties by id', () => {
  const rows = aroundRows(AROUND);
  assert.deepEqual(rows.map((r) => `${r.layer}/${r.id}`),
    ['households/478', 'stations/3', 'stations/68', 'cameras/9', 'cameras/560', 'cameras/561']);
  const hh = rows.find((r) => r.layer === 'households');
  assert.equal(hh.contact, '张强');
  assert.equal(hh.phone, '17731686636');
  assert.deepEqual(rows.find((r) => r.id === 9).position, [102.4, 25.53]);
  assert.equal(rows.find((r) => r.id === 68).phone, '0878-8735598');
});

test('aroundGrids: the grids holding the point first, county down, then by distance', () => {
  assert.deepEqual(aroundGrids(AROUND).map((g) => g.id), [1, 2, 15]);
});

test('csvRows: grids then features, Chinese labels, distance in metres', () => {
  const rows = csvRows(AROUND, LAYERS);
  assert.deepEqual(rows[0], ['网格', 1, '武定县', '县', '', '', 0, '刘国军', '13173238343']);
  assert.deepEqual(rows[2], ['网格', 15, '南街社区', '村（社区）', '', '', 275.73, '刘学明', '13145216233']);
  assert.deepEqual(rows.find((r) => r[1] === 9), ['视频监控', 9, '卫生院1号', '', '人脸识别', '在线', 12, '', '']);
  assert.deepEqual(rows.find((r) => r[1] === 478), ['风险户', 478, '', '低', '合同债务纠纷', '', 174.26, '张强', '17731686636']);
  assert.equal(rows.length, 3 + 6);
  const text = toCSV(CSV_HEADER, rows);
  const back = parseCSV(text);
  assert.deepEqual(back[0], CSV_HEADER);
  assert.equal(back.length, rows.length + 1);
  assert.deepEqual(back.find((r) => r[1] === '561').slice(0, 3), ['视频监控', '561', '客运站, 36号']);
  assert.equal(back.find((r) => r[1] === '68')[2], "'=调解委员会", 'formula defused');
  assert.equal(csvFileName([102.4063, 25.5302], 500), 'onemap-around-102.40630-25.53020-500m.csv');
});

test('aroundHTML: counts, worker phones, lists in row order, everything escaped', () => {
  const html = aroundHTML(AROUND, LAYERS);
  assert.match(html, /<tr data-layer="cameras" data-count="700">/);
  assert.match(html, /<tr data-layer="risk_points" data-count="3">/);
  assert.ok(html.includes('按最近 3 处统计'), 'camera status tallied from a truncated list says so');
  assert.ok(html.includes('data-key="fault" data-count="1"'));
  assert.ok(html.includes('href="tel:13173238343"'));
  assert.ok(html.includes('所在网格 <small>2 级</small>'));
  assert.ok(html.includes('范围内的其他网格 <small>1 个</small>'));
  assert.ok(html.includes('列出最近 3 处'));
  const ids = [...html.matchAll(/<button type="button" class="om-item" data-layer="(\w+)" data-id="(\d+)"/g)]
    .map((m) => `${m[1]}/${m[2]}`).filter((s) => !s.startsWith('grids/'));
  assert.deepEqual(ids, aroundRows(AROUND).map((r) => `${r.layer}/${r.id}`));
  assert.ok(html.includes('12 米'));
  const evil = aroundHTML({ grids: [], layers: { stations: { count: 1, by_level: {}, features: [
    { id: 1, geometry: pt(1, 2), properties: { name: '<img src=x onerror=alert(1)>', distance_m: 1 } }] } } }, LAYERS);
  assert.ok(!evil.includes('<img'), evil);
  assert.match(aroundHTML({ grids: [], layers: {} }, LAYERS), /范围内没有要素/);
});

test('aroundHTML: the server\'s counts: cameras by status, stations by kind, the rest by level', () => {
  const resp = structuredClone(AROUND);
  resp.layers.cameras.by_status = { online: 650, offline: 40, fault: 10 };
  resp.layers.stations.by_kind = { mediation: 2 };
  const html = aroundHTML(resp, LAYERS);
  const row = (id) => html.match(new RegExp(`<tr data-layer="${id}"[^]*?</tr>`))[0];
  assert.ok(row('cameras').includes('data-key="offline" data-count="40"'), row('cameras'));
  assert.ok(row('cameras').includes('data-key="online" data-count="650"'), row('cameras'));
  assert.ok(!html.includes('按最近'), 'counts over everything need no note');
  assert.ok(row('stations').includes('data-key="mediation" data-count="2"'), row('stations'));
  assert.ok(!row('stations').includes('data-key="township"'), 'stations are broken down by kind, not level');
  assert.ok(row('risk_points').includes('data-key="yellow" data-count="1"'), row('risk_points'));
});

test('tally counts values', () => {
  assert.deepEqual(tally([{ s: 'a' }, { s: 'b' }, { s: 'a' }, { s: '' }], 's'), { a: 2, b: 1 });
});

// ---- search ----

test('searchOptions: names and codes give results in the server order', () => {
  const opts = searchOptions({ query: '狮山', results: [
    { layer: 'grids', id: 2, name: '狮山镇', code: '532329101000', level: 'township', center: [102.39, 25.52], bbox: [102.3, 25.4, 102.5, 25.6] },
    { layer: 'cameras', id: 1, name: '狮山镇卫生院门口1号', code: '53232901001320000001', kind: 'face', center: [102.4, 25.55], bbox: [102.4, 25.55, 102.4, 25.55] },
    { layer: 'stations', id: 15, name: '狮山镇人民调解委员会', kind: 'mediation', level: 'township', center: [102.41, 25.53] },
  ] });
  assert.equal(opts.length, 3);
  assert.deepEqual(opts.map((o) => describeOption(o, LAYERS)), [
    { name: '狮山镇', layer: '网格 · 乡镇', code: '532329101000' },
    { name: '狮山镇卫生院门口1号', layer: '视频监控 · 人脸识别', code: '53232901001320000001' },
    { name: '狮山镇人民调解委员会', layer: '服务站点 · 调解委员会', code: '' },
  ]);
  assert.deepEqual(opts[0].bbox, [102.3, 25.4, 102.5, 25.6]);
  assert.deepEqual(searchOptions({ results: [] }), []);
  assert.deepEqual(searchOptions(null), []);
});

test('searchOptions: coordinates give the point, then the grid chain', () => {
  const resp = { query: '102.4063,25.5302', point: [102.4063, 25.5302], results: [], grids: [
    { id: 1, level: 'county', name: '武定县', code: '532329000000', worker_name: '刘国军', worker_phone: '131' },
    { id: 152, level: 'group', name: '东岳社区第四居民小组', code: '532329101001004' },
  ] };
  const opts = searchOptions(resp);
  assert.equal(opts[0].kind, 'point');
  assert.deepEqual(opts.slice(1).map((o) => o.id), [1, 152]);
  assert.deepEqual(describeOption(opts[0], LAYERS), { name: '坐标 102.40630, 25.53020', layer: '定位', code: '' });
  const html = optionsHTML(opts, LAYERS, 0);
  assert.ok(html.includes('id="search-opt-0" role="option" aria-selected="true"'));
  assert.ok(html.includes('所在网格 2 级'));
  assert.ok(html.includes('网格员 刘国军 131'));
  assert.ok(html.indexOf('武定县') < html.indexOf('东岳社区第四居民小组'));
  assert.match(optionsHTML(searchOptions({ point: [1, 2], grids: [] }), LAYERS), /不在本辖区的网格内/);
  assert.match(optionsHTML([], LAYERS), /无匹配结果/);
  assert.ok(!optionsHTML(searchOptions({ results: [{ layer: 'grids', id: 1, name: '<b>x</b>' }] }), LAYERS).includes('<b>'));
});

// ---- cards ----

const STATS = {
  risk_points: { total: 134, by: 'level', count: { blue: 80, orange: 14, red: 4, yellow: 36 } },
  cameras: { total: 5336, by: 'status', count: { fault: 108, offline: 320, online: 4908 } },
  stations: { total: 3, by: 'kind', count: { police: 1, mystery: 2 } },
};

test('orderedCounts follows the label order, then unknown codes, without zeros', () => {
  assert.deepEqual(orderedCounts('risk_points', 'level', STATS.risk_points.count).map((c) => c.label), ['重大', '较大', '一般', '低']);
  assert.deepEqual(orderedCounts('cameras', 'status', STATS.cameras.count).map((c) => c.key), ['online', 'offline', 'fault']);
  assert.deepEqual(orderedCounts('stations', 'kind', { zz: 1, police: 2, aa: 3, clinic: 0 }).map((c) => c.key), ['police', 'aa', 'zz']);
  assert.deepEqual(orderedCounts('x', 'y', undefined), []);
});

test('gridStatsHTML: a row per layer in order, totals and tallies', () => {
  const html = gridStatsHTML(2, STATS, LAYERS);
  assert.ok(html.indexOf('风险隐患点') < html.indexOf('视频监控'));
  assert.ok(html.indexOf('视频监控') < html.indexOf('服务站点'));
  assert.match(html, /data-stat-layer="cameras" data-total="5336"/);
  assert.ok(html.includes('5,336'));
  assert.ok(html.includes('在线 <b>4,908</b>'));
  assert.ok(html.includes('mystery <b>2</b>'), 'an unknown kind shows as its code');
  // Counts take their colours from the server's style once it is in use.
  useColours(JSON.parse(fs.readFileSync(new URL('./fixtures/style-all.json', import.meta.url), 'utf8')));
  assert.ok(countsHTML('risk_points', 'level', { red: 1 }).includes('background:#d7191c'));
  assert.match(gridStatsHTML(3, {}, LAYERS), /无统计/);
});

test('chainTo cuts the locate chain above a grid', () => {
  const chain = [{ id: 1 }, { id: 2 }, { id: 13 }, { id: 152 }];
  assert.deepEqual(chainTo(chain, 13), [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(chainTo(chain, '1'), []);
  assert.equal(chainTo(chain, 99), null);
  assert.equal(chainTo(undefined, 1), null);
});

test('breadcrumb, children and the grid card', () => {
  const crumbs = breadcrumbHTML([{ id: 1, name: '武定县', level: 'county' }], { id: 2, name: '狮山镇' });
  assert.ok(crumbs.includes('data-grid-id="1"'));
  assert.ok(crumbs.includes('<li aria-current="location">狮山镇</li>'));
  const kids = childrenHTML({ id: 13, name: '东岳社区', level: 'village' }, [
    { id: 152, level: 'group', name: '东岳社区第四居民小组', stats: { risk_points: { total: 5 }, cameras: { total: 241 } } },
  ]);
  assert.ok(kids.includes('1 个村民小组'));
  assert.ok(kids.includes('<span>第四居民小组</span>'), 'parent name dropped');
  assert.ok(kids.includes('title="东岳社区第四居民小组"'));
  assert.ok(kids.includes('隐患 5 · 监控 241'));
  assert.equal(childrenHTML({ id: 152 }, []), '');

  const layer = { id: 'grids', title: '网格', fields: [{ name: 'name', title: '名称' }, { name: 'level', title: '层级' }] };
  const props = { name: '狮山镇', level: 'township', worker_name: '张丹珍', worker_phone: '183 2821 8824' };
  const loading = cardHTML({ layer, properties: props, id: 2, grid: { ancestors: null }, layerById: LAYERS });
  assert.ok(loading.includes('正在加载网格统计'));
  assert.ok(loading.includes('href="tel:18328218824"'));
  assert.ok(!loading.includes('om-crumbs'));
  const full = cardHTML({ layer, properties: props, id: 2, layerById: LAYERS,
    grid: { ancestors: [{ id: 1, name: '武定县', level: 'county' }], stats: STATS, children: [] } });
  assert.ok(full.indexOf('om-crumbs') < full.indexOf('om-popup-body'));
  assert.ok(full.indexOf('data-stats-for="2"') < full.indexOf('<details class="om-props">'), 'statistics before the folded table');
  assert.ok(full.includes('data-action="around"'));
  const failed = cardHTML({ layer, properties: props, id: 2, layerById: LAYERS, grid: { error: 'HTTP 503' } });
  assert.ok(failed.includes('统计暂不可用：HTTP 503'));
  const station = cardHTML({ layer: { id: 'stations', title: '服务站点' }, properties: { name: 'x' }, id: 5, layerById: LAYERS });
  assert.ok(!station.includes('om-stats') && !station.includes('<details'));
});

test('pointCardHTML: the grid chain and the deepest worker', () => {
  const html = pointCardHTML([102.4063, 25.5302], [
    { id: 1, level: 'county', name: '武定县', worker_name: 'A' },
    { id: 152, level: 'group', name: '第四组', worker_name: '马芳英', worker_phone: '13626858711' },
  ]);
  assert.ok(html.includes('102.40630, 25.53020'));
  assert.ok(html.indexOf('data-grid-id="1"') < html.indexOf('data-grid-id="152"'));
  assert.ok(html.includes('网格员 马芳英'));
  assert.match(pointCardHTML([1, 2], []), /不在本辖区的网格内/);
});

test('popupHTML: a clustered point says how many it stands for', () => {
  const layer = { id: 'cameras', title: '视频监控', fields: [{ name: 'name', title: '名称' }] };
  const html = popupHTML(layer, { name: '卫生院1号', point_count: 12 }, 1);
  assert.ok(html.includes('及附近共 12 处'));
  assert.ok(!html.includes('data-field="point_count"'), 'point_count is not listed as a property');
  assert.ok(popupHTML(layer, { name: 'x' }, 1, { pointCount: 1234 }).includes('及附近共 1,234 处'));
  assert.ok(!popupHTML(layer, { name: 'x', point_count: 1 }, 1).includes('及附近'));
  assert.ok(!popupHTML(layer, { name: 'x' }, 1).includes('及附近'));
});

// ---- geometry ----

test('bboxOf, pointInPolygon', () => {
  assert.deepEqual(bboxOf({ type: 'MultiPolygon', coordinates: [[[[0, 0], [2, 0], [2, 1], [0, 0]]], [[[5, -1], [6, 3], [5, 3], [5, -1]]]] }), [0, -1, 6, 3]);
  assert.deepEqual(bboxOf(pt(1, 2)), [1, 2, 1, 2]);
  assert.equal(bboxOf(null), null);
  const square = [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]];
  assert.equal(pointInPolygon([0.5, 0.5], square), true);
  assert.equal(pointInPolygon([2, 2], square), false, 'in the hole');
  assert.equal(pointInPolygon([5, 2], square), false);
});

test('interiorPoint lies inside a concave polygon whose box centre is outside', () => {
  // A "U": the centre of its box (2, 2) is in the notch.
  const u = { type: 'Polygon', coordinates: [[[0, 0], [4, 0], [4, 4], [3, 4], [3, 1], [1, 1], [1, 4], [0, 4], [0, 0]]] };
  const p = interiorPoint(u);
  assert.ok(pointInPolygon(p, u.coordinates), `got ${p}`);
  // The biggest part of a MultiPolygon wins.
  const multi = { type: 'MultiPolygon', coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]]] };
  assert.deepEqual(interiorPoint(multi), [15, 15]);
  assert.deepEqual(interiorPoint(pt(3, 4)), [3, 4]);
  assert.equal(interiorPoint(null), null);
});

test('circle: closed ring at the given distance', () => {
  const c = [102.4063, 25.5302];
  const ring = circle(c, 1000, 64).coordinates[0];
  assert.equal(ring.length, 65);
  assert.deepEqual(ring[0], ring[64]);
  for (const p of ring) assert.ok(Math.abs(distance(c, p) - 1000) < 0.01, `${distance(c, p)}`);
  const b = bboxOf(circle(c, 1000));
  assert.ok(Math.abs((b[3] - b[1]) * 111195 / 2 - 1000) < 5, 'about 1 km north and south');
});

test('formatDistance and formatLonLat', () => {
  assert.equal(formatDistance(33.88), '34 米');
  assert.equal(formatDistance(0), '0 米');
  assert.equal(formatDistance(999.4), '999 米');
  assert.equal(formatDistance(1000), '1 公里');
  assert.equal(formatDistance(1234), '1.23 公里');
  assert.equal(formatDistance(12345), '12.3 公里');
  assert.equal(formatDistance(undefined), '');
  assert.equal(formatLonLat([102.4063, 25.5302]), '102.40630, 25.53020');
});

test('aroundHTML names the open cases 事件, counts them by status and lists them in words (it showed "cases" and codes)', () => {
  const html = aroundHTML({ layers: { cases: { count: 3, by_status: { reported: 2, accepted: 1 }, features: [
    { id: 4, tracking_code: 'BCDE-FGHJ-KL', category: 'safety', status: 'reported', level: 'group', position: [102.41, 25.5], distance_m: 20 },
  ], truncated: true } } }, new Map());
  const text = html.replace(/<[^>]*>/g, ' ');
  assert.match(html, /<tr data-layer="cases" data-count="3"><th>事件<\/th>/);
  assert.match(text, /待受理\s+2/);
  assert.match(text, /已受理\s+1/);
  assert.match(text, /BCDE-FGHJ-KL\s+待受理 · 村民小组 · 安全隐患/);
  assert.doesNotMatch(text, /\bcases\b|reported|group|safety/);
});

test('aroundHTML counts the open cases in 件, every other layer in 处 (cases were counted in 处)', () => {
  const cases = (truncated, byStatus) => ({ count: 3, ...(byStatus ? { by_status: { reported: 3 } } : {}), truncated, features: [
    { id: 4, tracking_code: 'BCDE-FGHJ-KL', category: 'safety', status: 'reported', level: 'group', position: [102.41, 25.5], distance_m: 20 },
  ] });
  const risk = { count: 5, truncated: true, features: [{ type: 'Feature', id: 9, geometry: { type: 'Point', coordinates: [102.4, 25.5] },
    properties: { name: 'r', level: 'red', distance_m: 30 } }] };
  const text = aroundHTML({ layers: { cases: cases(true, true), risk_points: risk } }, new Map()).replace(/<[^>]*>/g, ' ');
  assert.match(text, /事件\s+3 件，列出最近 1 件/);
  assert.match(text, /5 处，列出最近 1 处/);
  // Without the server's counts, the tally of the listed ones says 件 too.
  assert.match(aroundHTML({ layers: { cases: cases(true, false) } }, new Map()), /按最近 1 件统计/);
});
