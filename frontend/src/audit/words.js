// What an audit record says, in words: the fields an edit changed by their
// readable names (人口, 网格员姓名, not population, worker_name), before →
// after where the record holds the values, what happened to the boundary,
// the versions and the reason; the object as 网格 #13 rather than grids/13.
// The auditor's role sees the names of the changed fields, not their values
// (api/auditview.go); a record with values shows them. Pure functions, for
// the page and its tests.

import { dictionary, translate } from '../i18n.js';

const WORDS = {
  zh: {
    insert: '新增', update: '修改', delete: '删除',
    fields: '{0}', nothing: '仅系统字段', versions: '第 {0} → {1} 版', version: '第 {0} 版',
    shapeChanged: '边界已改', shapeSame: '边界未变', shapeNew: '含边界', reason: '原因：{0}',
    change: '{0}：{1} → {2}', empty: '（空）', sep: '；', listSep: '、',
    geometry: '边界', attrsOnly: '属性修改', basedOn: '基于第 {0} 版',
    target: '{0} #{1}', account: '账号 {0}',
    accountAdd: '新增账号（角色 {0}）', accountOp: '账号{0}（角色 {1}）', grid: '网格 #{0}',
    ids: '{0} 个', file: '文件 {0}', count: '{0} 条',
    failures: '第 {0} 次失败', unlock: '解除锁定（{0} 个来源）', roleChange: '角色 {0} → {1}', gridChange: '所属网格 {0} → {1}',
    disabledOn: '停用', disabledOff: '启用', passwordChanged: '密码已改', noGrid: '无',
    'reason_no such account': '无此账号', 'reason_account disabled': '账号已停用', 'reason_wrong password': '密码错误',
  },
  en: {
    insert: 'added', update: 'changed', delete: 'deleted',
    fields: '{0}', nothing: 'system fields only', versions: 'version {0} → {1}', version: 'version {0}',
    shapeChanged: 'boundary changed', shapeSame: 'boundary unchanged', shapeNew: 'with a boundary', reason: 'reason: {0}',
    change: '{0}: {1} → {2}', empty: '(empty)', sep: '; ', listSep: ', ',
    geometry: 'boundary', attrsOnly: 'attributes changed', basedOn: 'based on version {0}',
    target: '{0} #{1}', account: 'account {0}',
    accountAdd: 'account added (role {0})', accountOp: 'account {0} (role {1})', grid: 'grid #{0}',
    ids: '{0}', file: 'file {0}', count: '{0} records',
    failures: 'failure {0}', unlock: 'unlocked ({0} clients)', roleChange: 'role {0} → {1}', gridChange: 'grid {0} → {1}',
    disabledOn: 'disabled', disabledOff: 'enabled', passwordChanged: 'password changed', noGrid: 'none',
    'reason_no such account': 'no such account', 'reason_account disabled': 'account disabled', 'reason_wrong password': 'wrong password',
  },
};

const FIELDS = {
  zh: {
    name: '名称', code: '编码', level: '等级', kind: '类别', status: '状态', parent_id: '上级网格', grid_id: '所属网格',
    worker_name: '网格员姓名', worker_phone: '网格员电话', households: '户数', population: '人口',
    responsible_name: '责任人', responsible_phone: '责任人电话', description: '描述', address: '地址',
    device_code: '设备编码', heading: '朝向', fov: '视角', phone: '电话', opening_hours: '开放时间',
    last_assessed_on: '上次评估', next_assessment_due: '下次评估', synthetic: '演示数据',
    version: '版本', created_at: '创建时间', created_by: '创建人', updated_at: '更新时间', updated_by: '更新人', id: '编号',
  },
  en: {
    name: 'name', code: 'code', level: 'level', kind: 'kind', status: 'status', parent_id: 'parent grid', grid_id: 'grid',
    worker_name: 'grid worker', worker_phone: 'grid worker\'s phone', households: 'households', population: 'population',
    responsible_name: 'person responsible', responsible_phone: 'their phone', description: 'description', address: 'address',
    device_code: 'device code', heading: 'heading', fov: 'field of view', phone: 'phone', opening_hours: 'opening hours',
    last_assessed_on: 'last assessed', next_assessment_due: 'next assessment', synthetic: 'demo data',
    version: 'version', created_at: 'created', created_by: 'created by', updated_at: 'updated', updated_by: 'updated by', id: 'id',
  },
};

const LAYERS = {
  zh: { grids: '网格', risk_points: '风险隐患点', households: '风险户', cameras: '视频监控', stations: '服务站点', hazard_zones: '危险区', shelters: '避难安置点', cases: '事件', accounts: '账号' },
  en: { grids: 'grid', risk_points: 'risk point', households: 'household', cameras: 'camera', stations: 'station', hazard_zones: 'hazard zone', shelters: 'shelter', cases: 'case', accounts: 'account' },
};

// BOOKKEEPING are the fields every edit sets: not worth a word.
const BOOKKEEPING = new Set(['version', 'created_at', 'created_by', 'updated_at', 'updated_by', 'id']);

/**
 * auditWords returns the page's describers in language l: {fieldName,
 * targetText, describe}.
 */
export function auditWords(l) {
  const w = dictionary(WORDS, l);
  const fields = FIELDS[l] ?? FIELDS.zh;
  const layers = LAYERS[l] ?? LAYERS.zh;
  const fieldName = (f) => fields[f] ?? f;
  const value = (v) => (v === null || v === undefined || v === '' ? w('empty') : typeof v === 'object' ? JSON.stringify(v) : String(v));

  /** targetText names a record's object: 网格 #13, 账号 planner. */
  function targetText(target) {
    const [layer, id] = String(target ?? '').split('/');
    if (!id) return String(target ?? '');
    if (layer === 'accounts') return w('account', id);
    return layers[layer] ? w('target', layers[layer], id) : String(target);
  }

  // editText says an edit record (the database's trigger wrote it).
  function editText(d) {
    const parts = [];
    const changed = (d.changed ?? []).filter((f) => !BOOKKEEPING.has(f));
    const op = w(d.op) === d.op ? d.op : w(d.op);
    if (d.op === 'update') {
      const before = d.before ?? null;
      const after = d.after ?? null;
      const said = changed.map((f) => (before && after && (f in before || f in after)
        ? w('change', fieldName(f), value(before[f]), value(after[f])) : fieldName(f)));
      parts.push(`${op} ${said.length ? said.join(w('listSep')) : w('nothing')}`);
      if (d.before_geom_md5 || d.after_geom_md5) parts.push(d.before_geom_md5 === d.after_geom_md5 ? w('shapeSame') : w('shapeChanged'));
      if (d.version > 1) parts.push(w('versions', d.version - 1, d.version));
    } else {
      parts.push(op);
      if (d.version) parts.push(w('version', d.version));
    }
    return parts;
  }

  // gridText says a grid editor's record (grid.create, grid.update …).
  function gridText(d) {
    const parts = [];
    if (d.based_on && d.version) parts.push(w('versions', d.based_on, d.version));
    else if (d.version) parts.push(w('version', d.version));
    if (d.geometry === true) parts.push(w('shapeChanged'));
    else if (d.geometry === false) parts.push(w('attrsOnly'));
    for (const k of ['ids', 'merged', 'children', 'into']) {
      if (Array.isArray(d[k])) parts.push(d[k].map((id) => w('grid', id)).join(w('listSep')));
    }
    if (d.file) parts.push(w('file', d.file));
    if (typeof d.count === 'number') parts.push(w('count', d.count));
    return parts;
  }

  // reasonText says a sign-in's failure (signin.go's SignInFailure) in
  // the page's language; a reason the page does not know, as it is.
  const reasonText = (r) => (w(`reason_${r}`) === `reason_${r}` ? r : w(`reason_${r}`));

  // gridOf names an account's grid: #13, or 无 for none.
  const gridOf = (id) => (id ? `#${id}` : w('noGrid'));
  // roleOf names a role in language l (管理员, admin); one the page does
  // not know, as it is.
  const roles = translate(l, 'roles');
  const roleOf = (r) => roles?.[r] ?? r ?? '';

  // accountText says an account record (postgis/accounts.go): added with
  // its role and grid, unlocked, or changed (role, grid, enabled or not,
  // password) from → to.
  function accountText(d) {
    const parts = [];
    if (d.op === 'add') {
      parts.push(w('accountAdd', roleOf(d.role)));
      if (d.grid_id) parts.push(w('grid', d.grid_id));
      return parts;
    }
    if (d.op === 'unlock') return [w('unlock', d.clients ?? 0)];
    if (d.op) parts.push(w('accountOp', d.op, roleOf(d.role)));
    if (d.role && typeof d.role === 'object') parts.push(w('roleChange', roleOf(d.role.from), roleOf(d.role.to)));
    if (d.grid_id && typeof d.grid_id === 'object') parts.push(w('gridChange', gridOf(d.grid_id.from), gridOf(d.grid_id.to)));
    if (typeof d.disabled === 'boolean') parts.push(w(d.disabled ? 'disabledOn' : 'disabledOff'));
    if (d.password === 'changed') parts.push(w('passwordChanged'));
    return parts;
  }

  /**
   * describe says a record's detail in words ('' where there is nothing
   * to say): an edit's changed fields by name (before → after where the
   * record has the values), the boundary and versions; a grid editor's
   * versions and what it did; an account's change; the reason given.
   */
  function describe(action, detail) {
    if (!detail || typeof detail !== 'object') return '';
    let parts = [];
    if (action === 'edit') parts = editText(detail);
    else if (action.startsWith('grid.')) parts = gridText(detail);
    else if (action === 'account') parts = accountText(detail);
    else if (action === 'login.failed') {
      // The server's reason (SignInFailure) in the page's language; the
      // failures counted for the name and client.
      if (detail.reason) parts.push(w('reason', reasonText(detail.reason)));
      if (typeof detail.failures === 'number') parts.push(w('failures', detail.failures));
      return parts.join(w('sep'));
    }
    if (detail.reason) parts.push(w('reason', detail.reason));
    return parts.join(w('sep'));
  }

  return { fieldName, targetText, describe };
}
