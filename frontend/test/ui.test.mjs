// Unit tests of issue 18's client parts: search results grouped with the
// place above each, a grid's children ranked by risk with badges, the audit
// trail in words, the language from the address, and the view's layers
// switched on in the link. Pure functions only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupTitle, optionsHTML, searchOptions, describeOption } from '../src/search.js';
import { badgesHTML, byRisk, gridPanelHTML, riskLevels } from '../src/gridpanel.js';
import { auditWords } from '../src/audit/words.js';
import { langOf, withLang } from '../src/i18n.js';
import { readViewState, viewHash } from '../src/view.js';
import { detailsHTML } from '../src/details.js';
import { cardHTML } from '../src/card.js';

const LAYERS = new globalThis.Map([
  ['grids', { id: 'grids', title: '网格' }],
  ['risk_points', { id: 'risk_points', title: '风险隐患点' }],
  ['cameras', { id: 'cameras', title: '视频监控' }],
]);

test('search: results grouped under headings, each with the place above it', () => {
  const resp = {
    query: 'ss',
    results: [
      { layer: 'grids', id: 2, name: '狮山镇', level: 'township', group: 'grids.township', parent: '武定县' },
      { layer: 'grids', id: 13, name: '狮山村', level: 'village', group: 'grids.village', parent: '狮山镇' },
      { layer: 'grids', id: 14, name: '所所卡村', level: 'village', group: 'grids.village', parent: '东坡傣族乡' },
      { layer: 'grids', id: 150, name: '狮山村第一村民小组', level: 'group', group: 'grids.group', parent: '狮山村' },
      { layer: 'cameras', id: 7, name: '狮山路口', kind: 'dome', group: 'cameras', parent: '狮山村 第二村民小组' },
    ],
    groups: [
      { group: 'grids.township', layer: 'grids', level: 'township', total: 1, shown: 1 },
      { group: 'grids.village', layer: 'grids', level: 'village', total: 2, shown: 2 },
      { group: 'grids.group', layer: 'grids', level: 'group', total: 37, shown: 1 },
      { group: 'cameras', layer: 'cameras', total: 1, shown: 1 },
    ],
  };
  const opts = searchOptions(resp);
  assert.equal(opts.length, 5, 'headings are not options');
  assert.equal(opts[3].groupTotal, 37);
  assert.deepEqual(describeOption(opts[1], LAYERS), { name: '狮山村', layer: '网格 · 村（社区）', code: '', parent: '狮山镇' });
  assert.equal(groupTitle(opts[3], LAYERS), '村民小组');
  assert.equal(groupTitle(opts[4], LAYERS), '视频监控');
  const html = optionsHTML(opts, LAYERS);
  const heads = [...html.matchAll(/<li class="om-opt-head om-opt-group"[^>]*data-group="([^"]+)"><span>([^<]+)<\/span><span class="om-opt-count">([^<]+)<\/span>/g)]
    .map((m) => [m[1], m[2], m[3]]);
  assert.deepEqual(heads, [
    ['grids.township', '乡镇', '1'], ['grids.village', '村（社区）', '2'], ['grids.group', '村民小组', '1 / 共 37'], ['cameras', '视频监控', '1'],
  ]);
  // Each heading comes right before its group's first option.
  assert.ok(html.indexOf('data-group="grids.village"') < html.indexOf('data-id="13"'));
  assert.ok(html.indexOf('data-id="13"') < html.indexOf('data-id="14"') && html.indexOf('data-id="14"') < html.indexOf('data-group="grids.group"'));
  assert.match(html, /<span class="om-opt-name">狮山村<span class="om-opt-parent"> · 狮山镇<\/span><\/span>/);
  // An older answer without groups lists as before: no heading.
  const plain = optionsHTML(searchOptions({ results: [{ layer: 'grids', id: 1, name: 'x', level: 'county' }] }), LAYERS);
  assert.doesNotMatch(plain, /om-opt-group/);
  assert.ok(!optionsHTML(searchOptions({ results: [{ layer: 'grids', id: 1, name: 'x', parent: '<i>p</i>', group: 'g' }], groups: [] }), LAYERS).includes('<i>'));
});

const child = (id, name, rp = {}, hh = {}) => ({
  id, name, level: 'village',
  stats: { risk_points: { total: Object.values(rp).reduce((a, b) => a + b, 0), by: 'level', count: rp },
    households: { total: Object.values(hh).reduce((a, b) => a + b, 0), by: 'level', count: hh },
    cameras: { total: 9, by: 'status', count: { online: 9 } } },
});

test('grid panel: children ranked by risk, levels as badges', () => {
  const kids = [
    child(1, '甲村', { blue: 30 }),
    child(2, '乙村', { red: 1 }, { orange: 2 }),
    child(3, '丙村', { orange: 1 }, { red: 1 }),
    child(4, '丁村', { orange: 5 }),
    child(5, '戊村'),
  ];
  assert.deepEqual(riskLevels(kids[2].stats).red, { risk_points: 0, households: 1, all: 1 });
  // 乙 and 丙 have one 重大 each; 乙 has more 较大 (2 households against 1 hazard).
  assert.deepEqual(byRisk(kids).map((c) => c.name), ['乙村', '丙村', '丁村', '甲村', '戊村']);
  const badges = badgesHTML(kids[1].stats);
  assert.match(badges, /data-level="red" data-count="1"[^>]*style="background:[^"]+"[^>]*>重大 1</);
  assert.match(badges, /data-level="orange" data-count="2"/);
  assert.doesNotMatch(badges, /data-level="yellow"/, 'no badge for a level it has none of');
  assert.match(badgesHTML(kids[4].stats), /无隐患/);
  const html = gridPanelHTML({ grid: { id: 9, name: '狮山镇', level: 'township', worker_name: '张三' }, stats: kids[0].stats, children: kids, layerById: LAYERS });
  assert.match(html, /data-stats-for="9"/);
  const order = [...html.matchAll(/<li data-grid-id="(\d+)" data-rank="(\d+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(order, [[2, 1], [3, 2], [4, 3], [1, 4], [5, 5]]);
  assert.match(html, /按风险排序/);
  assert.match(gridPanelHTML({ grid: { id: 9 }, error: '<x>' }), /统计暂不可用：&lt;x&gt;/);
  assert.match(gridPanelHTML({ grid: { id: 9 } }), /aria-busy="true"/);
});

test('grid card on the command map: no statistics in it, a link to the panel', () => {
  const html = cardHTML({ layer: { id: 'grids', title: '网格', fields: [] }, properties: { name: '狮山镇', level: 'township' }, id: 2,
    grid: { ancestors: [{ id: 1, name: '武定县', level: 'county' }], inPanel: true }, layerById: LAYERS });
  assert.doesNotMatch(html, /om-stats|om-children|正在加载网格统计/);
  assert.match(html, /data-action="grid-panel"/);
});

test('household card: the read is offered in one button before the form', () => {
  const purposes = [{ code: 'visit', title: '走访核实' }];
  assert.match(detailsHTML(purposes, {}), /data-state="offer"><button type="button" data-action="ask-details">查看详情（需填写用途）</);
  assert.doesNotMatch(detailsHTML(purposes, {}), /select/);
  assert.match(detailsHTML(purposes, { asking: true }), /data-state="form"[\s\S]*<select name="purpose">/);
});

test('audit: records in words', () => {
  const zh = auditWords('zh');
  assert.equal(zh.targetText('grids/13'), '网格 #13');
  assert.equal(zh.targetText('accounts/planner'), '账号 planner');
  assert.equal(zh.targetText('odd'), 'odd');
  const edit = { op: 'update', version: 2, reason: '换人', before_geom_md5: 'a', after_geom_md5: 'a',
    changed: ['population', 'updated_at', 'updated_by', 'version', 'worker_name'] };
  assert.equal(zh.describe('edit', edit), '修改 人口、网格员姓名；边界未变；第 1 → 2 版；原因：换人');
  assert.equal(zh.describe('edit', { ...edit, reason: undefined, after_geom_md5: 'b', changed: ['updated_at'] }), '修改 仅系统字段；边界已改；第 1 → 2 版');
  // Where the record holds the values (a role that may read them): before → after.
  assert.equal(zh.describe('edit', { op: 'update', version: 3, changed: ['worker_name'], before: { worker_name: '李四' }, after: { worker_name: '王五' } }),
    '修改 网格员姓名：李四 → 王五；第 2 → 3 版');
  assert.equal(zh.describe('edit', { op: 'insert', version: 1, changed: ['name'] }), '新增；第 1 版');
  assert.equal(zh.describe('grid.update', { reason: '换人', version: 2, based_on: 1, geometry: false }), '第 1 → 2 版；属性修改；原因：换人');
  assert.equal(zh.describe('account', { op: 'add', role: 'operator', grid_id: 2 }), '新增账号（角色 operator）；网格 #2');
  assert.equal(zh.describe('login', {}), '');
  // A sign-in's failure in the page's words, with the failures counted.
  assert.equal(zh.describe('login.failed', { reason: 'wrong password', failures: 3 }), '原因：密码错误；第 3 次失败');
  assert.equal(zh.describe('login.failed', { reason: 'no such account', failures: 1 }), '原因：无此账号；第 1 次失败');
  assert.equal(zh.describe('login.failed', { reason: 'account disabled' }), '原因：账号已停用');
  assert.equal(zh.describe('login.failed', { reason: 'something new' }), '原因：something new', 'an unknown reason as it is');
  // An account's change: from → to, in words.
  assert.equal(zh.describe('account', { role: { from: 'viewer', to: 'commander' }, grid_id: { from: 13, to: 0 }, disabled: true, password: 'changed' }),
    '角色 网格员 → 指挥；所属网格 #13 → 无；停用；密码已改');
  assert.equal(zh.describe('account', { op: 'unlock', clients: 2 }), '解除锁定（2 个来源）');
  assert.equal(zh.describe('account', { op: 'add', role: 'planner', grid_id: 0 }), '新增账号（角色 规划员）');
  const en = auditWords('en');
  assert.equal(en.describe('edit', edit), 'changed population, grid worker; boundary unchanged; version 1 → 2; reason: 换人');
  assert.equal(en.targetText('risk_points/5'), 'risk point #5');
  assert.equal(en.describe('login.failed', { reason: 'wrong password', failures: 2 }), 'reason: wrong password; failure 2');
  assert.equal(en.describe('account', { disabled: false, grid_id: { from: 0, to: 7 } }), 'grid none → #7; enabled');
});

test('language: the address chooses first, then the stored choice', () => {
  assert.equal(langOf('?lang=en', 'zh'), 'en');
  assert.equal(langOf('?lang=zh', 'en'), 'zh');
  assert.equal(langOf('?x=1&lang=en', null), 'en');
  assert.equal(langOf('?lang=fr', 'en'), 'en', 'an unknown language falls back to the stored one');
  assert.equal(langOf('', 'en'), 'en');
  assert.equal(langOf('', null), 'zh');
  assert.equal(langOf(undefined, 'xx'), 'zh');
  assert.equal(withLang('http://h/?a=1#map=1/2/3&off=x', 'en'), 'http://h/?a=1&lang=en#map=1/2/3&off=x');
  assert.equal(withLang('http://h/?lang=zh#map=1/2/3', 'en'), 'http://h/?lang=en#map=1/2/3');
});

test('view: a layer hidden until switched on is kept on in the link', () => {
  const hash = viewHash('#map=13/25.53/102.4', { visible: { cameras: true, grids: true, households: false }, chosen: {}, hidden: { cameras: true } });
  assert.equal(hash, '#map=13/25.53/102.4&off=households&on=cameras');
  assert.deepEqual(readViewState(hash, ['cameras', 'grids', 'households']).visible, { cameras: true, households: false });
  // Switched off again: as the map has it, no word in the link.
  assert.equal(viewHash(hash, { visible: { cameras: false }, hidden: { cameras: true } }), '#map=13/25.53/102.4');
  assert.deepEqual(readViewState('#on=cameras&off=cameras', ['cameras']).visible, { cameras: false }, 'off wins');
});

test('editor: a label point per grid, inside it, without the parent\'s name', async () => {
  const { labelPoints } = await import('../src/editor/overlays.js');
  const sq = (x) => ({ type: 'Polygon', coordinates: [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]] });
  const out = labelPoints([
    { id: 1, geometry: sq(0), properties: { name: '庄良村第一村民小组' } },
    { id: 2, geometry: sq(5), properties: { name: '别处' } },
    { id: 3, geometry: null, properties: { name: '无边界' } },
  ], 2, '庄良村');
  assert.deepEqual(out.features.map((f) => [f.properties.name, f.properties.full, f.properties.selected]),
    [['第一村民小组', '庄良村第一村民小组', false], ['别处', '别处', true]]);
  const [x, y] = out.features[0].geometry.coordinates;
  assert.ok(x > 0 && x < 1 && y > 0 && y < 1, `label at ${x},${y} is outside its grid`);
});
