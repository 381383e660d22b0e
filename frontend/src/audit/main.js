// The auditor's page (/audit/): sign in, read the audit trail with filters,
// page through it, export it as CSV and check its hash chain. It talks only
// to the server's /api/session and /api/audit routes (through http.js).
import './audit.css';
import { dictionary, roleName } from '../i18n.js';
import { auditPage, auditVerify, fetchPurposes } from '../api.js';
import { fetchSession, signIn, signOut } from '../http.js';
import { formatDateTime } from '../format.js';

// The page's words. It speaks Chinese only for now (its fixed text is
// Chinese); a word missing in a language is the Chinese one.
const w = dictionary({
  zh: {
    burst: '{0} 分钟内查阅 {1} 户个人信息（{2}）', purpose: '目的：{0}', anonymous: '（未登录）',
    notAuditor: '此账号不是审计员：请用审计员账号登录。', tooManyTries: '尝试次数过多，请稍后再试。',
    badPassword: '账号或密码错误。', expired: '登录已过期，请重新登录。', fromAfterTo: '起始日期 {0} 晚于结束日期 {1}。',
    verifying: '校验中…', intact: '完好：{0} 条记录（{1}–{2}）', broken: '已被篡改：第 {0} 条起断链（{1}）',
    who: '{0}（{1}）',
  },
});

const $ = (id) => document.getElementById(id);
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
  if (action === 'household.read' && detail?.purpose) return w('purpose', purpose(detail.purpose));
  return '';
}

// detailCell shows a record's detail: short ones whole, long ones (an edit's
// fields and digests) folded, first line showing; a summary in words first
// where there is one.
function detailCell(detail, action) {
  const said = summaryOf(action, detail);
  const text = (said ? `${said} ` : '') + (detail === null || detail === undefined ? '' : JSON.stringify(detail));
  const td = document.createElement('td');
  if (text.length <= 120) {
    td.textContent = text;
    return td;
  }
  const box = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = `${text.slice(0, 100)}…`;
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
    tr.append(cell(r.seq), cell(formatDateTime(r.at)),
      cell(anonymous ? w('anonymous') : r.actor), cell(anonymous ? '' : roleName(r.role)),
      cell(r.client), action, cell(r.target), detailCell(r.detail, r.action));
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
