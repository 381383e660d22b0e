// The grid editor's words (through i18n.js's dictionary) and the pure parts
// that turn the server's answers into them: a refusal, a refused save's
// problem, a version's reason, the place in an imported file. No DOM here:
// the unit tests load this file under Node.
//
// The page's fixed text (editor/index.html, data-i18n) takes its words from
// here too; a word missing in English is the Chinese one.

import { dictionary, roleName } from '../i18n.js';
import { HttpError } from '../http.js';
import { formatAreaM2, formatDateTime } from '../format.js';

const WORDS = {
  zh: {
    // levels and fields
    level_province: '省', level_prefecture: '州（市）', level_county: '县', level_township: '乡镇', level_village: '村（社区）', level_group: '村民小组',
    field_name: '名称', field_code: '编码', field_parent_id: '上级网格', field_worker_name: '网格员',
    field_worker_phone: '网格员电话', field_households: '户数', field_population: '人口', field_geometry: '边界',
    field_version: '版本',
    // a refused save's problems
    problem_empty: '无面积', problem_not_polygon: '不是多边形', problem_invalid: '边界自相交或无效',
    problem_outside_parent: '超出上级网格', problem_overlap: '与相邻网格重叠', problem_child_outside: '下级网格将超出',
    problem_child_straddles: '分割线穿过下级网格', problem_other: '不符合规则', problemAtDot: '（红点处）',
    // the server's changes, as the history names them
    op_insert: '新建', op_update: '修改', op_delete: '删除',
    reason_create: '新建', reason_update: '修改', reason_delete: '删除', reason_split: '分割', reason_merge: '合并',
    reason_restore: '恢复版本 {0}', reason_import: '导入 {0}', reason_seed: '演示数据',
    // where in an imported file
    whereFeatureLine: '第 {0} 个要素（第 {1} 行）', whereFeature: '第 {0} 个要素', whereLine: '第 {0} 行',
    // field checks
    checkName: '请填写名称', checkNameLong: '名称最多 100 字（现有 {0} 字）', checkCode: '{0}编码应为 {1} 位数字',
    checkPhone: '应为电话号码，如 13812345678 或 0878-1234567（多个号码用逗号分开）', checkInt: '应为不小于 0 的整数',
    // refusals
    offline: '无法连接服务器，请检查网络后重试',
    e400Field: '「{0}」的值不被接受', e400: '提交的内容不被接受，请检查各字段', e401: '未登录或登录已过期，请重新登录',
    e403: '无权编辑网格：只有规划员和管理员可以编辑（当前身份：{0}）；如刚登录，请刷新页面', unknownRole: '未知',
    e404: '网格不存在或已被删除，请刷新', e409: '与已有网格冲突（例如编码已被其他网格使用）', e409Field: '「{0}」与已有网格冲突',
    e412: '网格已被他人修改', e413: '内容或文件太大', e422: '不符合网格规则', e428: '缺少所依据的版本，请刷新后重试',
    e429: '操作太频繁，请稍后再试', e503: '服务器暂时无法访问数据库，请稍后再试', eOther: '服务器出错（{0}），请稍后再试',
    // the tree and the list
    top: '全部', topGrids: '顶级网格', topGridsOf: '顶级{0}网格（{1}）', levelSep: '、', childrenOf: '{0}的{1}网格（{2}）', gridN: '网格 {0}', quoted: '「{0}」',
    pickForMerge: '选入合并', down: '下级', downTitle: '查看下级网格',
    newGrid: '新建网格', newVersion: '新建', titleOf: '{0}（{1}）', selected: '已选择 {0}，版本 {1}',
    pickOne: '选择一个网格，或点“下级”进入',
    // unsaved edits
    unsavedGrid: '网格「{0}」', unsavedNew: '新建的网格', unsaved: '{0}有未保存的修改，离开将丢失这些修改。确定放弃修改吗？',
    // drawing
    manyParts: '此网格由多个部分组成，不能直接修改边界；可先分割或合并。', cannotReshape: '无法编辑此边界：{0}',
    hintReshape: '拖动顶点修改边界；拖动边中点添加顶点；右键顶点删除。顶点会吸附到相邻网格的顶点和边。',
    hintDraw: '在地图上逐点绘制边界（会吸附到相邻网格），点击起点或按回车结束。',
    hintDrawn: '绘制完成：可拖动、删除（右键）或在边中点添加顶点；点“保存”提交。',
    hintSplit: '从网格外开始画一条穿过网格的线，到网格外结束，按回车完成。',
    finishDrawing: '请先完成绘制（点击起点或按回车）', cancelled: '已取消',
    // saving
    fixFields: '未保存：请先改正标红的字段', noChange: '没有修改', saved: '已保存：{0}，版本 {1}', saveFailed: '保存失败：{0}',
    refused: '保存被拒绝', refusedCount: '{0}：{1} 处不符合网格规则，见红色列表和地图', refusedRules: '{0}：不符合网格规则',
    conflictText: '网格「{0}」已被 {1} 于 {2} 修改，现为版本 {3}；你的修改基于版本 {4}。', someoneElse: '他人',
    unchanged: '（未改）', conflict: '保存冲突：网格已被他人修改', reloaded: '已载入当前版本',
    // split, merge, delete, coverage
    splitDone: '已分割为 {0} 个网格', mergeText: '将 {0} 个相邻网格合并为一个：{1}。', mergeChoice: ' {0}（{1}）',
    mergeName: '请填写合并后的名称', merged: '已合并为「{0}」（{1}）',
    mergeConflict: '合并冲突：所选网格已被他人修改。列表已刷新，请重新选择。',
    confirmDelete: '删除网格 {0}？', deleted: '已删除',
    gap: '空隙', overlap: '重叠', outside: '超出', coverageItem: '{0}{1}：{2}', coverageGrids: '（网格 {0}）',
    coverageSummary: '上级面积 {0}，{1} 个下级共 {2}；空隙 {3} 处，重叠 {4} 处，超出 {5} 处（小于 {6} m² 的忽略）。',
    // history
    oldVersion: '橙色虚线：版本 {0}（{1}，{2}）', restored: '已恢复版本 {0}，成为版本 {1}',
    // import
    imported: '已导入 {0} 个网格', importRow: '{0}：{1}（{2}）→ 网格 {3}，{4}', ignoredFields: '未导入的字段：{0}',
    importFailed: '导入失败（未导入任何网格）', importBadFile: '{0}：文件的格式、坐标系或内容有误',
    // who is signed in
    who: '{0}（{1}）', notSignedIn: '未登录（按「{0}」身份）', signOut: '退出', signIn: '登录',
    signedInAs: '你以「{0}」（{1}）登录', visitingAs: '你尚未登录，按「{0}」身份访问',
    readOnly: '只能查看，不能编辑', noAccess: '不能使用网格编辑', mayRead: '只能查看网格', mayNotRead: '不能查看网格编辑',
    roleText: '{0}，{1}。只有规划员和管理员可以编辑网格，请用其账号登录。',
    roleNoMap: '「{0}」身份不能查看网格编辑。请在右侧用规划员或管理员账号登录。',
    sessionExpired: '保存失败：登录已过期，请重新登录后再保存', expiredTitle: '登录已过期',
    expiredText: '请重新登录。你的修改仍在表单中，登录后再保存。', nameAndPassword: '请填写用户名和密码',
    badPassword: '用户名或密码不正确', tooManyTries: '尝试次数太多，请稍后再试', signInFailed: '登录失败：{0}',
    signedInAgainDirty: '已重新登录：你的修改仍在，请再次保存', signedInAgain: '已重新登录',
    // the page's fixed text
    pageTitle: '网格编辑 · 一张图', mapLabel: '地图', editorTitle: '网格编辑', backToMap: '返回一张图',
    cannotEdit: '不能编辑网格', userName: '用户名', password: '密码', parentGrids: '上级网格', childGrids: '下级网格',
    mergePicked: '合并所选', coverageCheck: '覆盖检查', importExport: '导入 / 导出', exportFormat: '导出格式',
    exportLink: '导出本级及下级', file: '文件', crs: '坐标系', crsAsFile: '按文件（默认 WGS-84）', encoding: '编码',
    encodingAuto: '自动', importAll: '导入（全部成功或全部不导入）', grid: '网格', level: '层级', area: '面积',
    phoneHint: '手机号或 0878-1234567', reasonLabel: '修改原因', reasonHint: '写入历史记录',
    clipSiblings: '裁去与相邻网格重叠的部分', clipSave: '裁去重叠后保存', clipSaveTitle: '裁去与相邻网格重叠的部分，再保存一次', reshape: '修改边界', split: '分割', history: '历史', delete: '删除',
    undo: '撤销', redo: '重做', cancel: '取消', historyTitle: '历史版本', historyNote: '点击一个版本，以橙色虚线叠加在当前边界上。',
    restoreVersion: '恢复此版本', close: '关闭', problemsNote: '地图上红色区域为问题所在。', save: '保存',
    enterSaves: '回车也可保存', mergeTitle: '合并网格', mergeKeep: '合并后保留哪个网格（保留其编号和编码，其余网格并入它）',
    mergedName: '合并后名称', merge: '合并', conflictField: '字段', conflictMine: '我的修改', conflictCurrent: '当前版本',
    conflictNote: '地图上：橙色为我的边界，紫色虚线为当前版本的边界。', conflictReload: '放弃我的修改，载入当前版本',
    conflictOverwrite: '基于当前版本再次保存我的修改',
  },
  en: {
    level_province: 'province', level_prefecture: 'prefecture', level_county: 'county', level_township: 'township', level_village: 'village', level_group: 'group',
    field_name: 'Name', field_code: 'Code', field_parent_id: 'Parent grid', field_worker_name: 'Grid worker',
    field_worker_phone: "Worker's phone", field_households: 'Households', field_population: 'Population', field_geometry: 'Boundary',
    field_version: 'Version',
    problem_empty: 'no area', problem_not_polygon: 'not a polygon', problem_invalid: 'boundary crosses itself or is invalid',
    problem_outside_parent: 'outside the parent grid', problem_overlap: 'overlaps a neighbour', problem_child_outside: 'a child grid would lie outside',
    problem_child_straddles: 'the split line crosses a child grid', problem_other: 'against the rules', problemAtDot: ' (at the red dot)',
    op_insert: 'created', op_update: 'changed', op_delete: 'deleted',
    reason_create: 'created', reason_update: 'changed', reason_delete: 'deleted', reason_split: 'split', reason_merge: 'merged',
    reason_restore: 'version {0} restored', reason_import: 'imported from {0}', reason_seed: 'demo data',
    whereFeatureLine: 'feature {0} (line {1})', whereFeature: 'feature {0}', whereLine: 'line {0}',
    checkName: 'Enter a name', checkNameLong: 'At most 100 characters (now {0})', checkCode: 'A {0} code has {1} digits',
    checkPhone: 'A phone number, such as 13812345678 or 0878-1234567 (several apart by commas)', checkInt: 'A whole number, 0 or more',
    offline: 'Cannot reach the server: check the network and try again',
    e400Field: 'The value of "{0}" is not accepted', e400: 'Not accepted: check the fields', e401: 'Not signed in, or the session has ended: sign in again',
    e403: 'You may not edit grids: only planners and admins may (your role: {0}); if you have just signed in, reload the page', unknownRole: 'unknown',
    e404: 'The grid does not exist or was deleted: reload', e409: 'Conflicts with another grid (its code may be taken)', e409Field: '"{0}" conflicts with another grid',
    e412: 'Someone else changed the grid', e413: 'Too large', e422: 'Against the grid rules', e428: 'The version it is based on is missing: reload and try again',
    e429: 'Too many requests: try again later', e503: 'The server cannot reach its database: try again later', eOther: 'Server error ({0}): try again later',
    top: 'All', topGrids: 'Top grids', topGridsOf: 'Top {0} grids ({1})', levelSep: ', ', childrenOf: '{1} grids of {0} ({2})', gridN: 'grid {0}', quoted: '"{0}"',
    pickForMerge: 'pick for a merge', down: 'Below', downTitle: 'The grids below',
    newGrid: 'New grid', newVersion: 'new', titleOf: '{0} ({1})', selected: '{0} selected, version {1}',
    pickOne: 'Pick a grid, or "Below" to go down',
    unsavedGrid: 'Grid "{0}"', unsavedNew: 'The new grid', unsaved: '{0} has unsaved changes, which leaving would throw away. Throw them away?',
    manyParts: 'This grid has several parts: its boundary cannot be reshaped; split or merge first.', cannotReshape: 'Cannot edit this boundary: {0}',
    hintReshape: 'Drag a vertex to move it; drag a midpoint to add one; right-click a vertex to delete it. Vertices snap to the neighbours.',
    hintDraw: 'Click the boundary point by point (it snaps to the neighbours); click the first point or press Enter to finish.',
    hintDrawn: 'Drawn: drag, delete (right-click) or add vertices at midpoints; then Save.',
    hintSplit: 'Draw a line across the grid, from outside to outside; press Enter to finish.',
    finishDrawing: 'Finish drawing first (click the first point or press Enter)', cancelled: 'Cancelled',
    fixFields: 'Not saved: correct the fields marked in red', noChange: 'Nothing changed', saved: 'Saved: {0}, version {1}', saveFailed: 'Save failed: {0}',
    refused: 'Save refused', refusedCount: '{0}: {1} problems with the grid rules, listed in red and on the map', refusedRules: '{0}: against the grid rules',
    conflictText: 'Grid "{0}" was changed by {1} at {2} and is now version {3}; your change is based on version {4}.', someoneElse: 'someone else',
    unchanged: '(unchanged)', conflict: 'Save conflict: someone else changed the grid', reloaded: 'The current version is loaded',
    splitDone: 'Split into {0} grids', mergeText: 'Merge {0} neighbouring grids into one: {1}.', mergeChoice: ' {0} ({1})',
    mergeName: 'Enter the merged grid\'s name', merged: 'Merged into "{0}" ({1})',
    mergeConflict: 'Merge conflict: someone else changed a grid picked. The list is reloaded; pick again.',
    confirmDelete: 'Delete grid {0}?', deleted: 'Deleted',
    gap: 'gap', overlap: 'overlap', outside: 'outside', coverageItem: '{0}{1}: {2}', coverageGrids: ' (grids {0})',
    coverageSummary: 'Parent {0}; {1} children together {2}; {3} gaps, {4} overlaps, {5} outside (under {6} m² ignored).',
    oldVersion: 'Orange dashes: version {0} ({1}, {2})', restored: 'Version {0} restored as version {1}',
    imported: '{0} grids imported', importRow: '{0}: {1} ({2}) → grid {3}, {4}', ignoredFields: 'Fields not imported: {0}',
    importFailed: 'Import failed (nothing imported)', importBadFile: '{0}: the file\'s format, coordinate system or content is wrong',
    who: '{0} ({1})', notSignedIn: 'Not signed in (as "{0}")', signOut: 'Sign out', signIn: 'Sign in',
    signedInAs: 'You are signed in as "{0}" ({1})', visitingAs: 'You are not signed in: you visit as "{0}"',
    readOnly: 'Read only', noAccess: 'No access to grid editing', mayRead: 'you may read grids only', mayNotRead: 'you may not read grid editing',
    roleText: '{0}; {1}. Only planners and admins edit grids: sign in with such an account.',
    roleNoMap: 'The role "{0}" may not read grid editing. Sign in on the right as a planner or an admin.',
    sessionExpired: 'Save failed: the session has ended; sign in again, then save', expiredTitle: 'Session ended',
    expiredText: 'Sign in again. Your changes are still in the form: save them once signed in.', nameAndPassword: 'Enter the user name and password',
    badPassword: 'Wrong user name or password', tooManyTries: 'Too many tries: try again later', signInFailed: 'Sign-in failed: {0}',
    signedInAgainDirty: 'Signed in again: your changes are still here; save them again', signedInAgain: 'Signed in again',
    pageTitle: 'Grid editing · OneMap', mapLabel: 'Map', editorTitle: 'Grid editing', backToMap: 'Back to the map',
    cannotEdit: 'Cannot edit grids', userName: 'User name', password: 'Password', parentGrids: 'Parent grids', childGrids: 'Grids below',
    mergePicked: 'Merge picked', coverageCheck: 'Coverage', importExport: 'Import / export', exportFormat: 'Export format',
    exportLink: 'Export this level and below', file: 'File', crs: 'Coordinates', crsAsFile: 'As the file says (default WGS-84)', encoding: 'Encoding',
    encodingAuto: 'automatic', importAll: 'Import (all or nothing)', grid: 'Grid', level: 'Level', area: 'Area',
    phoneHint: 'mobile or 0878-1234567', reasonLabel: 'Reason', reasonHint: 'kept in the history',
    clipSiblings: 'Cut away what overlaps the neighbours', clipSave: 'Cut the overlap away and save', clipSaveTitle: 'Cut away what overlaps the neighbours and save again', reshape: 'Reshape', split: 'Split', history: 'History', delete: 'Delete',
    undo: 'Undo', redo: 'Redo', cancel: 'Cancel', historyTitle: 'Versions', historyNote: 'Click a version to show it in orange dashes over the current boundary.',
    restoreVersion: 'Restore this version', close: 'Close', problemsNote: 'The red areas on the map are the problems.', save: 'Save',
    enterSaves: 'Enter saves too', mergeTitle: 'Merge grids', mergeKeep: 'Which grid remains (its number and code are kept; the others join it)',
    mergedName: 'Merged name', merge: 'Merge', conflictField: 'Field', conflictMine: 'Mine', conflictCurrent: 'Current version',
    conflictNote: 'On the map: orange is my boundary, purple dashes the current version\'s.', conflictReload: 'Drop my changes and load the current version',
    conflictOverwrite: 'Save my changes again on the current version',
  },
};

/** w returns the editor's word for key in the page's language, with {0}, {1}, … filled from args. */
export const w = dictionary(WORDS);

/** levelName names a grid level (县, 乡镇, …); '' for none. */
export const levelName = (level) => (level ? w(`level_${level}`).replace(/^level_.*/, '') : '');

/**
 * topTitle is the title of the top grids' list, naming them by their
 * levels (省, 州（市）, 县: whichever the deployment's top is, never
 * assumed a county); the bare title when there are none.
 */
export function topTitle(grids) {
  const names = [...new Set((grids ?? []).map((g) => levelName(g.properties?.level)).filter(Boolean))];
  return names.length ? w('topGridsOf', names.join(w('levelSep')), grids.length) : w('topGrids');
}

/** fieldName names a grid field (名称, 编码, …), or gives the field's own name. */
export function fieldName(field) {
  const s = w(`field_${field}`);
  return s === `field_${field}` ? field : s;
}

/**
 * reasonText says why a version was made, from a history entry of the
 * server ({reason, reason_code, restored_version, import_file}): the reason
 * the user typed when there is one, else the change's code in words
 * (恢复版本 N, 导入 FILE, 演示数据, …). An entry of an older server (an
 * English default reason and no code) is read as that code.
 */
export function reasonText(v) {
  const typed = (v?.reason ?? '').trim();
  let code = v?.reason_code;
  let { restored_version: restored, import_file: file } = v ?? {};
  if (!code) {
    // Older servers: the default reasons were English text.
    const old = /^(create|update|delete|split|merge)$|^(demo seed)$|^restore version (\d+)$|^import (.+)$/.exec(typed);
    if (!old) return typed;
    [code, restored, file] = [old[1] ?? (old[2] ? 'seed' : old[3] ? 'restore' : 'import'), old[3], old[4]];
  } else if (typed) {
    return typed;
  }
  if (code === 'restore') return w('reason_restore', restored ?? '?');
  if (code === 'import') return w('reason_import', file ?? '');
  const s = w(`reason_${code}`);
  return s === `reason_${code}` ? code : s;
}

/**
 * whereText says which feature of an imported file is meant, from the
 * feature (1-based) and line numbers an import error or report row carries:
 * "第 3 个要素（第 40 行）", "第 3 个要素", "第 12 行", or '' when it has neither.
 */
export function whereText({ feature, line } = {}) {
  const f = Number.isInteger(feature) && feature > 0 ? feature : null;
  const l = Number.isInteger(line) && line > 0 ? line : null;
  if (f) return l ? w('whereFeatureLine', f, l) : w('whereFeature', f);
  return l ? w('whereLine', l) : '';
}

/**
 * errorText says what went wrong, from a refusal's status and field (an
 * http.js HttpError); the server's own words are only a tooltip. role is
 * the session's, for a 403. Anything but a refusal: a TypeError is the
 * network, else the error's message.
 */
export function errorText(e, role = null) {
  if (!Number.isInteger(e?.status)) return e instanceof TypeError ? w('offline') : (e?.message || String(e));
  const field = e.field ?? e.body?.field ?? null;
  switch (e.status) {
    case 400: return field ? w('e400Field', fieldName(field)) : w('e400');
    case 401: return w('e401');
    case 403: return w('e403', roleName(role) || w('unknownRole'));
    case 404: return w('e404');
    case 409: return field === 'code' || !field ? w('e409') : w('e409Field', fieldName(field));
    case 412: return w('e412');
    case 413: return w('e413');
    case 422: return w('e422');
    case 428: return w('e428');
    case 429: return w('e429');
    case 503: return w('e503');
    default: return w('eOther', e.status);
  }
}

/** problemText is one refused save's problem; nameOf(id) names a neighbour it concerns. */
export function problemText(p, nameOf = (id) => w('gridN', id)) {
  const kind = w(`problem_${p.kind}`);
  const what = kind === `problem_${p.kind}` ? w('problem_other') : kind;
  const where = p.kind === 'invalid' ? w('problemAtDot') : '';
  return `${what}${p.with ? ` ${nameOf(p.with)}` : ''}${where}${p.area_m2 ? `：${formatAreaM2(p.area_m2)}` : ''}`;
}

/**
 * versionText is a version's line in the history: "v3 修改 · 王规划 ·
 * 2026/12/5 10:00:00 · 调整边界"; the reason is left out when it says the
 * same as the operation.
 */
export function versionText(v) {
  const op = ['insert', 'update', 'delete'].includes(v.op) ? w(`op_${v.op}`) : v.op;
  const why = reasonText(v);
  return `v${v.version} ${op} · ${v.changed_by} · ${formatDateTime(v.changed_at)}${why && why !== op ? ` · ${why}` : ''}`;
}

/** importRowText is a line of the import report: where in the file, the grid made and its area. */
export function importRowText(f) {
  return w('importRow', whereText(f) || f.where || '', f.name, f.code, f.id, formatAreaM2(f.area_m2));
}

/**
 * importErrorText says why an import was refused, and where in the file
 * when the refusal names a feature or line: [heading, text].
 */
export function importErrorText(e, role = null) {
  const where = e instanceof HttpError ? whereText(e) : '';
  const prefix = `${w('importFailed')}${where ? `：${where}` : ''}`;
  if (e instanceof HttpError && e.status === 400 && !e.field) return [prefix, w('importBadFile', prefix)];
  return [prefix, `${prefix}：${errorText(e, role)}`];
}

