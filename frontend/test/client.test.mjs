// Unit tests of the client's pure parts (style, popup, legend), run with
// `npm test` under Node; no browser and no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { dataLayerIds, fetchStyle, filterExpr, legendOf, styleLayerIds, withLabels, SOURCE, META_LAYER, FONT, colourOf, useColours } from '../src/style.js';
import { formatValue, popupHTML } from '../src/popup.js';
import { escapeHtml } from '../src/format.js';
import { panelFields } from '../src/panel.js';

// The server's style for a commander (GET /styles/all.json, api/style.go).
const SERVER_STYLE = JSON.parse(fs.readFileSync(new URL('./fixtures/style-all.json', import.meta.url), 'utf8'));
const style = () => structuredClone(SERVER_STYLE);
const TILES = 'http://127.0.0.1:8099/tiles/all/{z}/{x}/{y}.mvt';

test('fetchStyle resolves the TileJSON into absolute tiles', async () => {
  const asked = [];
  const got = await fetchStyle('all', async (url) => {
    asked.push(url);
    if (url === '/styles/all.json') return style();
    return { tiles: [TILES], minzoom: 0, maxzoom: 22, bounds: [101.9, 25.33, 102.48, 26.19], attribution: 'OneMap' };
  });
  assert.deepEqual(asked, ['/styles/all.json', 'http://127.0.0.1:8099/tiles/all.json']);
  const src = got.sources[SOURCE];
  assert.deepEqual(src.tiles, [TILES]);
  assert.equal(src.url, undefined);
  assert.equal(src.maxzoom, 22);
  assert.deepEqual(src.bounds, [101.9, 25.33, 102.48, 26.19]);
});

test('legendOf reads the colours from the server style', () => {
  const s = style();
  const risk = legendOf(s, 'risk_points');
  assert.equal(risk.field, 'level');
  assert.deepEqual(risk.entries.map((e) => e.value), ['red', 'orange', 'yellow', 'blue']);
  assert.match(risk.entries[0].colour, /^#/);
  const cams = legendOf(s, 'cameras');
  assert.equal(cams.field, 'status');
  assert.deepEqual(cams.entries.map((e) => e.value), ['online', 'offline', 'fault']);
  const st = legendOf(s, 'stations');
  assert.equal(st.field, 'kind');
  assert.ok(st.entries.some((e) => e.value === 'governance_centre'));
  assert.ok(st.other, 'stations have a colour for other kinds');
  const grids = legendOf(s, 'grids');
  assert.equal(grids.field, 'level');
  assert.equal(grids.shape, 'line');
  assert.deepEqual(grids.entries.map((e) => e.value), ['county', 'township', 'village', 'group']);
  assert.ok(grids.entries.every((e) => e.colour && e.fill), 'each level has a line and a fill colour');
  assert.equal(legendOf(s, 'nonsense'), null);
  useColours(s);
  assert.equal(colourOf('risk_points', 'level', 'red'), risk.entries[0].colour);
  assert.equal(colourOf('risk_points', 'kind', 'flood'), undefined);
});

test('styleLayerIds and dataLayerIds follow the metadata', () => {
  const s = style();
  assert.deepEqual(dataLayerIds(s), ['grids', 'cameras', 'stations', 'households', 'risk_points']);
  assert.deepEqual(styleLayerIds(s, 'cameras'), ['cameras']);
  assert.equal(styleLayerIds(s, 'grids').length, 8);
  assert.equal(s.layers.find((l) => l.id === 'cameras').metadata[META_LAYER], 'cameras');
});

test('filterExpr narrows a layer to the chosen values', () => {
  assert.equal(filterExpr(undefined, {}), null);
  assert.deepEqual(filterExpr(['==', ['get', 'level'], 'county'], { kind: null }), ['==', ['get', 'level'], 'county']);
  assert.deepEqual(filterExpr(undefined, { level: ['red'] }), ['in', ['coalesce', ['get', 'level'], ''], ['literal', ['red']]]);
  assert.deepEqual(filterExpr(['has', 'name'], { level: ['red', 'blue'], kind: ['flood'] }), ['all', ['has', 'name'],
    ['in', ['coalesce', ['get', 'level'], ''], ['literal', ['red', 'blue']]],
    ['in', ['coalesce', ['get', 'kind'], ''], ['literal', ['flood']]]]);
  assert.deepEqual(filterExpr(undefined, { level: [] }), ['in', ['coalesce', ['get', 'level'], ''], ['literal', []]]);
});

test('withLabels adds text drawn with the bundled font, and no glyph server', () => {
  const s = withLabels(style(), 'http://127.0.0.1:8099/fonts/onemap-sans.woff2');
  assert.equal(s.glyphs, undefined);
  assert.deepEqual(s['font-faces'], { [FONT]: 'http://127.0.0.1:8099/fonts/onemap-sans.woff2' });
  const labels = s.layers.filter((l) => l.type === 'symbol');
  // Cluster counts first (under the names: a higher symbol layer is placed first).
  assert.deepEqual(labels.map((l) => l.id), ['count-cameras', 'count-stations', 'count-households', 'count-risk_points',
    'label-grids-township', 'label-grids-village', 'label-grids-group', 'label-stations']);
  for (const l of labels) {
    assert.deepEqual(l.layout['text-font'], [FONT]);
    assert.equal(l.source, SOURCE);
  }
  assert.ok(styleLayerIds(s, 'stations').includes('label-stations'), 'a layer switch hides its labels too');
  // A style without stations gets no station labels.
  const only = style();
  only.layers = only.layers.filter((l) => l.metadata?.[META_LAYER] !== 'stations');
  assert.ok(!withLabels(only, 'x').layers.some((l) => l.id === 'label-stations'));
});

test('panelFields: the coloured field first, values from legend, enum and counts', () => {
  const layer = { id: 'stations', fields: [{ name: 'kind' }, { name: 'level', enum: ['county', 'township', 'village'] }] };
  const [kind, level] = panelFields(layer, style(), { kind: { governance_centre: 3, market: 1 }, level: { village: 2 } });
  assert.equal(kind.field, 'kind');
  assert.ok(kind.coloured);
  assert.ok(kind.values.includes('market'), 'a counted kind the legend lacks is listed');
  assert.match(kind.symbol('market'), /om-dot/);
  assert.equal(level.field, 'level');
  assert.deepEqual(level.values, ['county', 'township', 'village']);
  assert.equal(level.symbol('village'), '');
});

test('escapeHtml escapes markup and quotes', () => {
  assert.equal(escapeHtml(`<img src=x onerror="alert('x')">&`),
    '&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;');
  assert.equal(escapeHtml(42), '42');
});

test('popupHTML escapes every value and uses field titles', () => {
  const layer = {
    id: 'stations', title: '服务站点',
    fields: [
      { name: 'name', type: 'String', title: '名称' },
      { name: 'kind', type: 'String', title: '类别' },
      { name: 'services', type: 'String[]', title: '服务事项' },
      { name: 'synthetic', type: 'Boolean', title: '合成数据' },
    ],
  };
  const html = popupHTML(layer, {
    name: '<script>alert(1)</script>',
    kind: 'police',
    services: '["户籍","<b>调解</b>"]',
    synthetic: true,
    extra: '"quoted"',
    empty: '',
  }, 7);
  assert.ok(!html.includes('<script>'), html);
  assert.ok(!html.includes('<b>'), html);
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(html.includes('<th>类别</th><td>警务室</td>'));
  assert.ok(html.includes('<th>服务事项</th><td>户籍、&lt;b&gt;调解&lt;/b&gt;</td>'));
  assert.ok(html.includes('<th>合成数据</th><td>是</td>'));
  assert.ok(html.includes('<th>extra</th><td>&quot;quoted&quot;</td>'));
  assert.ok(!html.includes('data-field="empty"'));
  assert.ok(html.includes('服务站点'));
  assert.ok(html.includes('#7'));
});

test('formatValue', () => {
  assert.equal(formatValue('risk_points', { name: 'level' }, 'red'), '重大');
  assert.equal(formatValue('grids', { name: 'level' }, 'group'), '村民小组');
  assert.equal(formatValue('cameras', { name: 'status' }, 'weird'), 'weird');
  assert.equal(formatValue('cameras', { name: 'heading' }, 12.123456789), '12.123457');
  assert.equal(formatValue('x', null, null), null);
  assert.equal(formatValue('x', null, false), '否');
  assert.match(formatValue('x', null, '2026-11-25T22:18:13.512865+00:00'), /^2026-11-2[56] \d\d:\d\d$/);
  assert.equal(formatValue('x', null, '2026-11-25 22:18:13.512865+00'),
    formatValue('x', null, '2026-11-25T22:18:13Z'));
  assert.equal(formatValue('x', null, '2026-11-25T22:18:13+0800'), formatValue('x', null, '2026-11-25T14:18:00Z'));
  assert.equal(formatValue('x', null, '2026-11-25'), '2026-11-25');
  assert.equal(formatValue('stations', { name: 'services', type: 'String[]' }, ['户籍', '调解']), '户籍、调解');
  assert.equal(formatValue('stations', { name: 'services', type: 'String[]' }, '户籍;调解'), '户籍、调解');
  assert.equal(formatValue('stations', { name: 'services', type: 'String[]' }, '["户籍","调解"]'), '户籍、调解');
});
