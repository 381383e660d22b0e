// The auditor's page (/audit/): sign in, read the audit trail with filters,
// page through it, export it as CSV and check its hash chain. It talks only
// to the server's /api/session and /api/audit routes.
import './audit.css';

const $ = (id) => document.getElementById(id);
let csrf = '';
let nextAfter = 0;

async function json(path, options = {}) {
  const res = await fetch(path, { credentials: 'same-origin', ...options });
  const body = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
  return body;
}

function query(after) {
  const q = new URLSearchParams();
  for (const [key, id] of [['actor', 'f-actor'], ['action', 'f-action'], ['from', 'f-from'], ['to', 'f-to']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  if (after) q.set('after', String(after));
  q.set('limit', '200');
  return q;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function render(records, append) {
  const tbody = $('rows');
  if (!append) tbody.replaceChildren();
  for (const r of records) {
    const tr = document.createElement('tr');
    tr.dataset.action = r.action;
    tr.append(cell(r.seq), cell(new Date(r.at).toLocaleString('zh-CN', { hour12: false })), cell(r.actor), cell(r.role),
      cell(r.client), cell(r.action), cell(r.target), cell(JSON.stringify(r.detail)));
    tbody.append(tr);
  }
}

async function load(append = false) {
  const q = query(append ? nextAfter : 0);
  const body = await json(`/api/audit?${q}`);
  render(body.records, append);
  nextAfter = body.next_after || 0;
  $('more').hidden = !nextAfter;
  const csv = query(0);
  csv.set('format', 'csv');
  csv.set('limit', '10000');
  $('csv').href = `/api/audit?${csv}`;
}

async function show() {
  const s = await json('/api/session');
  csrf = s.csrf || '';
  const auditor = s.role === 'auditor';
  $('signin').hidden = auditor;
  $('trail').hidden = !auditor;
  $('signout').hidden = !s.name;
  $('who').textContent = s.name ? `${s.display_name || s.name}（${s.role}）` : '';
  if (s.name && !auditor) $('signin-error').textContent = '此账号不是审计员：请用审计员账号登录。';
  if (auditor) await load();
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('signin-error').textContent = '';
  try {
    await json('/api/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: $('name').value, password: $('password').value }),
    });
    $('password').value = '';
    await show();
  } catch (err) {
    $('signin-error').textContent = err.status === 429 ? '尝试次数过多，请稍后再试。' : '账号或密码错误。';
  }
});

$('signout').addEventListener('click', async () => {
  await json('/api/session', { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } }).catch(() => {});
  await show();
});

$('filter').addEventListener('submit', (e) => {
  e.preventDefault();
  load().catch((err) => { $('verify-result').textContent = err.message; });
});

$('more').addEventListener('click', () => load(true));

$('verify').addEventListener('click', async () => {
  $('verify-result').textContent = '校验中…';
  const r = await json('/api/audit/verify');
  $('verify-result').textContent = r.ok
    ? `完好：${r.rows} 条记录（${r.first_seq}–${r.last_seq}）`
    : `已被篡改：第 ${r.broken_at} 条起断链（${r.problem}）`;
  $('verify-result').dataset.ok = String(r.ok);
});

show().catch((err) => { $('signin-error').textContent = err.message; $('signin').hidden = false; });
