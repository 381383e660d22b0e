// The auditor's page (/audit/): sign in, read the audit trail with filters,
// page through it, export it as CSV and check its hash chain. It talks only
// to the server's /api/session and /api/audit routes (through http.js).
import './audit.css';
import { applyStatic, dictionary, lang, roleName } from '../i18n.js';
import { auditPage, auditVerify, fetchPurposes } from '../api.js';
import { fetchSession, signIn, signOut } from '../http.js';
import { formatDateTime } from '../format.js';
import { useOwnFontIfNeeded } from '../font.js';
import { auditWords } from './words.js';

useOwnFontIfNeeded(); // before anything draws text: see font.css

// The page's words, its fixed text's too (index.html, data-i18n); a word
// missing in English is the Chinese one. The actions' names in Chinese are
// the filter's options (index.html), in English action_CODE here.
const w = dictionary({
  zh: {
    burst: '{0} 分钟内查阅 {1} 户个人信息（{2}）', purpose: '目的：{0}', anonymous: '（未登录）',
    notAuditor: '此账号不是审计员：请用审计员账号登录。', tooManyTries: '尝试次数过多，请稍后再试。',
    badPassword: '账号或密码错误。', expired: '登录已过期，请重新登录。', fromAfterTo: '起始日期 {0} 晚于结束日期 {1}。',
    verifying: '校验中…', intact: '完好：{0} 条记录（{1}–{2}）', broken: '已被篡改：第 {0} 条起断链（{1}）',
    who: '{0}（{1}）',
    pageTitle: '审计日志 · 一张图', title: '审计日志', signOut: '退出', signInTitle: '审计员登录', account: '账号', password: '密码',
    signIn: '登录', records: '审计记录', actor: '操作人', actorHint: '完整账号名', actorTitle: '账号名须完整，区分大小写',
    action: '操作', order: '顺序', newestFirst: '最新在前', oldestFirst: '最早在前', from: '从', to: '到', query: '查询',
    csv: '导出 CSV', verify: '校验哈希链', seq: '序号', at: '时间', role: '角色', client: '来源', target: '对象', detail: '详情',
    empty: '没有符合条件的记录。', more: '更多', system: '显示系统与导入记录', systemTitle: '演示数据导入、命令行导入等系统自身的记录',
    raw: '原始记录',
  },
  en: {
    burst: '{1} households\' personal details read within {0} minutes ({2})', purpose: 'purpose: {0}', anonymous: '(not signed in)',
    notAuditor: 'This account is not an auditor\'s: sign in as an auditor.', tooManyTries: 'Too many tries: try again later.',
    badPassword: 'Wrong account or password.', expired: 'The session has ended: sign in again.', fromAfterTo: 'The first day {0} is after the last day {1}.',
    verifying: 'Checking…', intact: 'Intact: {0} records ({1}–{2})', broken: 'Tampered with: the chain breaks at record {0} ({1})',
    who: '{0} ({1})',
    pageTitle: 'Audit trail · OneMap', title: 'Audit trail', signOut: 'Sign out', signInTitle: 'Auditor sign-in', account: 'Account', password: 'Password',
    signIn: 'Sign in', records: 'Audit records', actor: 'Actor', actorHint: 'whole account name', actorTitle: 'The whole account name, case-sensitive',
    action: 'Action', order: 'Order', newestFirst: 'newest first', oldestFirst: 'oldest first', from: 'From', to: 'To', query: 'Query',
    csv: 'Export CSV', verify: 'Check the hash chain', seq: 'No.', at: 'Time', role: 'Role', client: 'Client', target: 'Target', detail: 'Detail',
    empty: 'No records match.', more: 'More', system: 'Show the system\'s records', systemTitle: 'The records of the system\'s own work: the demo seed, imports from the command line',
    raw: 'Raw record',
    action_: 'all', action_login: 'sign-in', 'action_login.failed': 'sign-in failed', action_logout: 'sign-out',
    'action_logout.all': 'sign-out everywhere', action_denied: 'refused', 'action_household.read': 'household details read',
    'action_personal.burst': 'many personal reads (flag)', action_export: 'export', action_edit: 'edit (each record)',
    'action_grid.create': 'grid created', 'action_grid.update': 'grid changed', 'action_grid.delete': 'grid deleted',
    'action_grid.split': 'grid split', 'action_grid.merge': 'grids merged', 'action_grid.restore': 'grid version restored',
    'action_grid.import': 'grids imported', action_account: 'account changed',
    'action_case.create': 'case reported', 'action_case.action': 'case handled', 'action_case.phone.read': 'reporter\'s phone read',
    'action_case.photo.read': 'case photo viewed', 'action_case.export': 'cases exported', 'action_visit.create': 'visit recorded',
    'action_visit.read': 'visits read', 'action_dispute.write': 'mediation recorded', 'action_dispute.parties.read': 'dispute parties read',
    'action_source.add': 'source added', 'action_source.revoke': 'source revoked', 'action_source.list': 'sources listed',
    'action_source.rekey': 'source re-keyed', action_ingest: 'events ingested', 'action_alarm.ack': 'alarm acknowledged',
    'action_alarm.dismiss': 'alarm dismissed', 'action_alarm.case': 'alarm turned into a case', 'action_alarm.read': 'face alarms read',
    'action_alarm.snapshot': 'alarm snapshot viewed', 'action_alarm.prune': 'alarms past retention removed', 'action_camera.live': 'live video opened',
    'action_household.edit': 'household details edited',
    'action_assessment.create': 'risk assessed',
    'action_assessment.decide': 'assessment confirmed or rejected',
    'action_assessment.read': 'assessments read',
    'action_assessment.rules': 'assessment rules changed',
    'action_people.read': 'roster phones read',
    'action_affected.read': 'people affected read',
    'action_tag.owner.read': 'tag owner read',
    'action_geofence.add': 'geofence added',
    'action_geofence.delete': 'geofence deleted',
    'action_tag.retention': 'tag positions past retention removed',
  },
});

applyStatic(document, w);
document.title = w('pageTitle');
if (lang === 'en') {
  document.querySelector('h1 small')?.remove(); // the English subtitle of the Chinese title
  for (const o of document.getElementById('f-action').options) {
    const name = w(`action_${o.value}`);
    if (name !== `action_${o.value}`) o.text = name;
  }
}

const $ = (id) => document.getElementById(id);
const aw = auditWords(lang);
// What the table shows: the filter's query (without cursor and limit) and
// the cursor of its next page (a seq to read before, or after oldest first).
let shown = null;
let next = 0;

// midnight is the instant (RFC 3339) a day of a date input (2026-11-26)
// begins in the browser's time zone, days later.
function midnight(date, days = 0) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y, m - 1, d + days).toISOString();
}

// filter is the trail's query from the filter form, newest first unless
// asked otherwise; the days from and to are both whole days of the
// auditor's own time zone.
function filter() {
  const q = new URLSearchParams();
  for (const [key, id] of [['order', 'f-order'], ['actor', 'f-actor'], ['action', 'f-action']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  if ($('f-from').value) q.set('from', midnight($('f-from').value));
  if ($('f-to').value) q.set('to', midnight($('f-to').value, 1));
  // The seed's 20,000 edits and the like are hidden unless asked for.
  if (!$('f-system').checked) q.set('system', 'hide');
  return q;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

// The actions' names, as the filter offers them (one list for both).
const actionNames = new Map([...$('f-action').options].filter((o) => o.value).map((o) => [o.value, o.text]));

// The purposes of reads of personal data, code → title (GET /api/purposes).
let purposeTitles = new Map();

// summaryOf says a record's detail in words, where the page knows how: a
// burst of reads of personal data (a flag for the auditor) and a detail
// read's purpose. The full detail follows, folded.
function summaryOf(action, detail, titles = purposeTitles) {
  const purpose = (code) => titles.get(code) ?? code;
  if (action === 'personal.burst' && detail) {
    const minutes = Math.round((detail.within_s ?? 0) / 60);
    const why = Object.entries(detail.purposes ?? {}).map(([k, n]) => `${purpose(k)} ${n}`).join('、');
    return w('burst', minutes, detail.reads, why);
  }
  if ((action === 'household.read' || action === 'case.phone.read') && detail?.purpose) return w('purpose', purpose(detail.purpose));
  return aw.describe(action, detail);
}

// detailCell shows a record's detail in words (summaryOf), and the record
// as written folded under it.
function detailCell(detail, action) {
  const said = summaryOf(action, detail);
  const td = document.createElement('td');
  const words = document.createElement('span');
  words.className = 'au-words';
  words.textContent = said;
  td.append(words);
  if (detail === null || detail === undefined || (typeof detail === 'object' && !Object.keys(detail).length)) return td;
  const box = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = w('raw');
  const full = document.createElement('pre');
  full.textContent = JSON.stringify(detail, null, 1);
  box.append(summary, full);
  td.append(box);
  return td;
}

function render(records, append) {
  const tbody = $('rows');
  if (!append) tbody.replaceChildren();
  for (const r of records) {
    const tr = document.createElement('tr');
    tr.dataset.action = r.action;
    // An anonymous caller has the server's anonymous role, not an account's.
    const anonymous = r.actor === 'anonymous';
    const action = cell(actionNames.get(r.action) ?? r.action);
    action.title = r.action;
    const target = cell(aw.targetText(r.target));
    target.title = r.target;
    tr.append(cell(r.seq), cell(formatDateTime(r.at)),
      cell(anonymous ? w('anonymous') : r.actor), cell(anonymous ? '' : roleName(r.role)),
      cell(r.client), action, target, detailCell(r.detail, r.action));
    tbody.append(tr);
  }
  $('empty').hidden = tbody.children.length > 0;
}

// load shows the first page of the filter form's query, or with more the
// next page of what is shown (whatever the form holds meanwhile). Each load
// takes a ticket; a response that arrives after a newer load began is
// dropped, so that the table never shows an older filter's rows. The table
// says which query it shows (data-query) and whether a load is under way
// (aria-busy).
let ticket = 0;

async function load(more = false) {
  const mine = ++ticket;
  const rows = $('rows');
  $('more').disabled = true; // 更多 pages on what is shown, not on a query under way
  const q = more ? new URLSearchParams(shown) : filter();
  const page = new URLSearchParams(q);
  if (more) page.set(q.get('order') === 'asc' ? 'after' : 'before', String(next));
  page.set('limit', '200');
  rows.setAttribute('aria-busy', 'true');
  try {
    const body = await auditPage(page);
    if (mine !== ticket) return;
    $('trail-error').textContent = '';
    render(body.records, more);
    shown = q;
    next = body.next_before || body.next_after || 0;
    $('more').hidden = !next;
    rows.dataset.query = q.toString();
    const csv = new URLSearchParams(q); // every record the filter selects
    csv.set('format', 'csv');
    $('csv').href = `/api/audit?${csv}`;
  } finally {
    if (mine === ticket) {
      rows.setAttribute('aria-busy', 'false');
      $('more').disabled = false;
    }
  }
}

async function show() {
  const s = (await fetchSession()) ?? {}; // a server without sessions: no auditor
  const auditor = s.role === 'auditor';
  $('signin').hidden = auditor;
  $('trail').hidden = !auditor;
  $('signout').hidden = !s.name;
  $('who').textContent = s.name ? w('who', s.display_name || s.name, roleName(s.role)) : '';
  if (s.name && !auditor) $('signin-error').textContent = w('notAuditor');
  if (auditor) {
    const p = await fetchPurposes().catch(() => ({}));
    purposeTitles = new Map((p.purposes ?? []).map((x) => [x.code, x.title]));
    await load();
  }
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('signin-error').textContent = '';
  try {
    await signIn($('name').value, $('password').value);
    $('password').value = '';
    await show();
  } catch (err) {
    $('signin-error').textContent = err.status === 429 ? w('tooManyTries') : w('badPassword');
  }
});

$('signout').addEventListener('click', async () => {
  await signOut().catch(() => {});
  await show();
});

// A refused query (from after to, say) says why under the filter; the
// table keeps what it showed. A session that has ended (401) shows the
// sign-in form again.
function refused(err) {
  if (err.status === 401) signInAgain();
  else $('trail-error').textContent = err.message;
}

// signInAgain shows the sign-in form of a session that has ended.
function signInAgain() {
  $('signin-error').textContent = w('expired');
  show().catch(() => {});
}

$('filter').addEventListener('submit', (e) => {
  e.preventDefault();
  const from = $('f-from').value;
  const to = $('f-to').value;
  if (from && to && from > to) {
    $('trail-error').textContent = w('fromAfterTo', from, to);
    return;
  }
  load().catch(refused);
});

$('more').addEventListener('click', () => load(true).catch(refused));

// The export is a download the page cannot watch: it first checks that the
// session still holds, so that an ended one shows the sign-in form instead
// of a download that fails without a word.
$('csv').addEventListener('click', async (e) => {
  if (e.currentTarget.dataset.checked) {
    delete e.currentTarget.dataset.checked;
    return; // checked: let the browser download it
  }
  e.preventDefault();
  const link = e.currentTarget;
  const s = await fetchSession().catch(() => null);
  if (s?.role !== 'auditor') {
    signInAgain();
    return;
  }
  link.dataset.checked = '1';
  link.click();
});

$('verify').addEventListener('click', async () => {
  const result = $('verify-result');
  result.textContent = w('verifying');
  delete result.dataset.ok;
  try {
    const r = await auditVerify();
    result.textContent = r.ok ? w('intact', r.rows, r.first_seq, r.last_seq) : w('broken', r.broken_at, r.problem);
    result.dataset.ok = String(r.ok);
  } catch (err) {
    result.textContent = '';
    refused(err);
  }
});

show().catch((err) => { $('signin-error').textContent = err.message; $('signin').hidden = false; });
