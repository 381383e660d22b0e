// Unit tests of the client's pure parts (style, popup, legend), run with
// `npm test` under Node; no browser and no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStyle, styleLayerIds, SOURCE, META_LAYER } from '../src/style.js';
import { escapeHtml, formatValue, popupHTML } from '../src/popup.js';
import { legendHTML } from '../src/panel.js';

const ALL = ['grids', 'risk_points', 'households', 'cameras', 'stations'].map((id) => ({ id, title: id }));
const TILES = 'http://127.0.0.1:8099/tiles/all/{z}/{x}/{y}.mvt';

test('buildStyle draws only the layers it is given', () => {
  const style = buildStyle({ layers: [{ id: 'stations' }, { id: 'grids' }, { id: 'nonsense' }], tileURL: TILES });
  const drawn = new Set(style.layers.map((l) => l.metadata?.[META_LAYER]).filter(Boolean));
  assert.deepEqual([...drawn].sort(), ['grids', 'stations']);
  assert.ok(!style.layers.some((l) => l['source-layer'] === 'cameras'));
});

test('buildStyle: one vector source, absolute tiles, no glyphs or text', () => {
  const style = buildStyle({ layers: ALL, tileURL: TILES, bounds: [101.9, 25.33, 102.48, 26.19] });
  assert.equal(style.version, 8);
  assert.deepEqual(Object.keys(style.sources), [SOURCE]);
  const src = style.sources[SOURCE];
  assert.equal(src.type, 'vector');
  assert.deepEqual(src.tiles, [TILES]);
  assert.equal(src.minzoom, 0);
  assert.equal(src.maxzoom, 16);
  assert.ok(src.bounds[0] < 101.9 && src.bounds[3] > 26.19, 'bounds are padded');
  assert.equal(style.glyphs, undefined);
  assert.equal(style.sprite, undefined);
  assert.ok(!style.layers.some((l) => l.type === 'symbol'));
  for (const l of style.layers.slice(1)) {
    assert.equal(l.source, SOURCE, l.id);
    assert.equal(l['source-layer'], l.metadata[META_LAYER], l.id);
  }
});

test('buildStyle: draw order and ids', () => {
  const style = buildStyle({ layers: ALL, tileURL: TILES });
  const ids = style.layers.map((l) => l.id);
  assert.equal(ids[0], 'background');
  for (const id of ['cameras', 'stations', 'households', 'risk_points']) assert.ok(ids.includes(id), id);
  assert.ok(ids.indexOf('grids-line-county') > ids.indexOf('grids-line-group'), 'county line above group line');
  assert.ok(ids.indexOf('risk_points') > ids.indexOf('cameras'), 'risk points above cameras');
  assert.equal(style.layers.find((l) => l.id === 'grids-line-group').minzoom, 11);
  assert.deepEqual(styleLayerIds(style, 'cameras'), ['cameras']);
  assert.equal(styleLayerIds(style, 'grids').length, 8);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique');
});

test('buildStyle honours the server min_zoom', () => {
  const style = buildStyle({ layers: [{ id: 'cameras', min_zoom: 12 }, { id: 'grids', min_zoom: 0 }], tileURL: TILES });
  assert.equal(style.layers.find((l) => l.id === 'cameras').minzoom, 12);
  assert.equal(style.layers.find((l) => l.id === 'grids-line-group').minzoom, 11);
  assert.equal(style.layers.find((l) => l.id === 'grids-line-county').minzoom, 0);
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

test('legendHTML has an entry per class', () => {
  assert.equal((legendHTML('grids').match(/<li>/g) ?? []).length, 4);
  assert.equal((legendHTML('risk_points').match(/<li>/g) ?? []).length, 4);
  assert.equal((legendHTML('cameras').match(/<li>/g) ?? []).length, 3);
  assert.ok(legendHTML('stations').includes('综治中心'));
  assert.equal(legendHTML('unknown'), '');
});
