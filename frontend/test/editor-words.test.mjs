// Unit tests of the grid editor's words (src/editor/words.js) and field
// checks (src/editor/checks.js): a version's reason from the server's coded
// reasons, where an imported feature is from its feature and line numbers,
// and refusals in Chinese. Run with `npm test` under Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorText, importErrorText, importRowText, levelName, problemText, reasonText, topTitle, versionText, whereText } from '../src/editor/words.js';
import { CHILD_LEVEL } from '../src/editor/state.js';
import { CHECKS } from '../src/editor/checks.js';
import { HttpError } from '../src/http.js';

test('reasonText: the reason typed wins over the code', () => {
  assert.equal(reasonText({ reason: '调整边界', reason_code: 'update' }), '调整边界');
  assert.equal(reasonText({ reason: '  分村  ', reason_code: 'split' }), '分村');
  // A typed reason that reads like an English code is still what was typed.
  assert.equal(reasonText({ reason: 'update', reason_code: 'restore', restored_version: 2 }), 'update');
});

test('reasonText: without a typed reason, the code in Chinese', () => {
  const cases = [
    [{ reason: '', reason_code: 'create' }, '新建'],
    [{ reason: '', reason_code: 'update' }, '修改'],
    [{ reason: '', reason_code: 'delete' }, '删除'],
    [{ reason: '', reason_code: 'split' }, '分割'],
    [{ reason: '', reason_code: 'merge' }, '合并'],
    [{ reason: '', reason_code: 'restore', restored_version: 4 }, '恢复版本 4'],
    [{ reason: '', reason_code: 'import', import_file: 'grids 2026.geojson' }, '导入 grids 2026.geojson'],
    [{ reason: '', reason_code: 'seed' }, '演示数据'],
  ];
  for (const [v, want] of cases) assert.equal(reasonText(v), want, JSON.stringify(v));
  // A code this client does not know shows as itself, never as nothing.
  assert.equal(reasonText({ reason: '', reason_code: 'rollback' }), 'rollback');
});

test('reasonText reads an older server\'s English defaults', () => {
  assert.equal(reasonText({ reason: 'update' }), '修改');
  assert.equal(reasonText({ reason: 'restore version 7' }), '恢复版本 7');
  assert.equal(reasonText({ reason: 'import a.kml' }), '导入 a.kml');
  assert.equal(reasonText({ reason: 'demo seed' }), '演示数据');
  assert.equal(reasonText({ reason: '' }), '');
});

test('versionText leaves out a reason that says what the operation says', () => {
  const v = { version: 3, op: 'update', changed_by: 'planner', changed_at: '2026-12-05T02:00:00Z', reason: '', reason_code: 'update' };
  const text = versionText(v);
  assert.match(text, /^v3 修改 · planner · /);
  assert.doesNotMatch(text, /· 修改$/);
  assert.match(versionText({ ...v, reason_code: 'restore', restored_version: 1 }), / · 恢复版本 1$/);
  assert.match(versionText({ ...v, op: 'insert', reason_code: 'import', import_file: 'x.zip' }), /^v3 新建 .* · 导入 x\.zip$/);
});

test('whereText uses the feature and line numbers only', () => {
  assert.equal(whereText({ feature: 3, line: 40 }), '第 3 个要素（第 40 行）');
  assert.equal(whereText({ feature: 3 }), '第 3 个要素');
  assert.equal(whereText({ feature: 3, line: 0 }), '第 3 个要素');
  assert.equal(whereText({ line: 12 }), '第 12 行');
  assert.equal(whereText({}), '');
  assert.equal(whereText(), '');
  // Messages are not parsed: a "where" text alone says nothing.
  assert.equal(whereText({ where: 'feature 3 (line 40)' }), '');
});

test('an import error says where from the answer\'s feature and line', () => {
  const e = new HttpError(400, { error: 'feature 2 (line 17): field "code": not 12 digits', field: 'code', feature: 2, line: 17 });
  assert.equal(e.feature, 2);
  assert.equal(e.line, 17);
  const [prefix, text] = importErrorText(e);
  assert.equal(prefix, '导入失败（未导入任何网格）：第 2 个要素（第 17 行）');
  assert.equal(text, `${prefix}：「编码」的值不被接受`);
  // A file the server cannot read: no field, and maybe no place.
  const [p2, t2] = importErrorText(new HttpError(400, { error: 'not GeoJSON' }));
  assert.equal(p2, '导入失败（未导入任何网格）');
  assert.equal(t2, '导入失败（未导入任何网格）：文件的格式、坐标系或内容有误');
  // Numbers that are not whole numbers are not places.
  assert.equal(new HttpError(400, { feature: '2', line: 1.5 }).feature, null);
});

test('importRowText names the feature by its numbers', () => {
  const row = { feature: 1, line: 3, id: 88, name: '东岳一组', code: '532329100201001', area_m2: 12345.6 };
  assert.equal(importRowText(row), '第 1 个要素（第 3 行）：东岳一组（532329100201001）→ 网格 88，12,346 m²');
  assert.equal(importRowText({ ...row, feature: 2, line: undefined }), '第 2 个要素：东岳一组（532329100201001）→ 网格 88，12,346 m²');
});

test('errorText says a refusal in Chinese, naming the field', () => {
  assert.equal(errorText(new HttpError(400, { field: 'worker_phone' })), '「网格员电话」的值不被接受');
  assert.equal(errorText(new HttpError(409, { field: 'code' })), '与已有网格冲突（例如编码已被其他网格使用）');
  assert.equal(errorText(new HttpError(409, { field: 'name' })), '「名称」与已有网格冲突');
  assert.match(errorText(new HttpError(403, {}), 'viewer'), /当前身份：网格员/);
  assert.equal(errorText(new HttpError(418, null)), '服务器出错（418），请稍后再试');
  assert.equal(errorText(new TypeError('Failed to fetch')), '无法连接服务器，请检查网络后重试');
});

test('problemText names the neighbour and the area', () => {
  assert.equal(problemText({ kind: 'overlap', with: 7, area_m2: 2500 }, (id) => `「网格${id}」`), '与相邻网格重叠 「网格7」：2,500 m²');
  assert.equal(problemText({ kind: 'invalid' }), '边界自相交或无效（红点处）');
  assert.equal(problemText({ kind: 'something_new' }), '不符合规则');
});

test('the field checks say the server\'s rules', () => {
  assert.equal(CHECKS.name(''), '请填写名称');
  assert.equal(CHECKS.code('123', 'group'), '村民小组编码应为 15 位数字');
  assert.equal(CHECKS.code('532329100201', 'village'), '');
  assert.equal(CHECKS.worker_phone('0878-1234567，13812345678'), '');
  assert.match(CHECKS.worker_phone('abc'), /电话号码/);
  assert.equal(CHECKS.population('1.5'), '应为不小于 0 的整数');
});

test('the top grids are named by their level, not assumed a county', () => {
  const grid = (level) => ({ properties: { level } });
  assert.equal(levelName('province'), '省');
  assert.equal(levelName('prefecture'), '州（市）');
  assert.equal(topTitle([grid('province')]), '顶级省网格（1）');
  assert.equal(topTitle([grid('prefecture')]), '顶级州（市）网格（1）');
  assert.equal(topTitle([grid('county')]), '顶级县网格（1）');
  assert.equal(topTitle([grid('county'), grid('prefecture'), grid('county')]), '顶级县、州（市）网格（3）');
  assert.equal(topTitle([]), '顶级网格');
  // below a province and a prefecture, the level of their children is named
  assert.equal(levelName(CHILD_LEVEL.province), '州（市）');
  assert.equal(levelName(CHILD_LEVEL.prefecture), '县');
});
