// The grid worker's phone page (/m/work/): sign in; 我的任务, the open cases
// of the worker's grid, those assigned to it marked, newest first, each with
// its time limit counting down; a task opened shows its timeline and the
// steps the worker may take (handle, report back) with a note; 上报, a report
// from the field at the phone's position or a point tapped on a small map;
// 走访, a visit to a household, a risk point or a place with a note. The
// parts of joint handling worked in the worker's grid are among the tasks
// (parts.js): a case with one is marked, and opened shows each part with
// its own form (handle, report back) and its time limit in China time
// (北京时间, whatever the phone's own zone). Every write goes through the outbox
// (outbox.js): kept on the phone, sent with its own key, sent again when
// the network returns, written once. "待发送 N" says how many wait. A case
// opened once (or listed) opens again without network, from what the phone
// last read. After a first visit the page itself opens without network
// (../../public/m/work/sw.js keeps its own files, never the server's
// answers): signed in as the account last seen on this phone (its name,
// role and grid, kept in localStorage), with its outbox; the server is
// asked again for the session when the network returns, before the outbox
// is sent.
import './work.css';
import { escapeHtml, formatMonthDayTime } from '../format.js';
import { fetchSession, getJSON, HttpError, request, signIn, signOut } from '../http.js';
import { useOwnFontIfNeeded } from '../font.js';
import { createOutbox } from './outbox.js';
import { ACTION, CATEGORIES, dueOf, isTask, STATUS } from './due.js';
import { PART_ACTION, PART_STATUS, partItem, sendRebasing } from './parts.js';
import { formatChinaTime, workedParts } from '../joint-core.js';

useOwnFontIfNeeded();

const $ = (id) => document.getElementById(id);
const CATEGORY = Object.fromEntries(CATEGORIES);
const KIND_LAYER = { household: 'households', risk_point: 'risk_points', place: 'stations' };
const KIND_NAME = { household: '风险户', risk_point: '风险隐患点', place: '服务站点' };

const state = {
  session: null,
  outbox: null,
  cases: [],
  now: null, // the server's time of the last list
  open: null, // the case shown in detail
  read: new Map(), // id → the case as last read (its detail), for opening it offline
  offlineStart: false, // the page opened without network: the session is the last one kept
  subjects: {}, // kind → [{id, label, point}]
  reportPoint: null, // [lon, lat]
  visitPoint: null, // null: the subject's position
  map: null,
};

function setStatus(text, bad = false) {
  $('status').textContent = text;
  $('status').classList.toggle('w-bad', bad);
}

// fmtTime writes a time of a case or a visit in China time ("12/6 09:30"), the county's, whatever zone the phone is set to.
const fmtTime = (t) => formatMonthDayTime(t, 'zh-CN');

// --- tabs ---------------------------------------------------------------------

function showTab(name) {
  for (const b of document.querySelectorAll('.w-tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const t of ['tasks', 'report', 'visit']) $(`tab-${t}`).hidden = t !== name;
  $('detail').hidden = true;
  if (name === 'tasks') loadTasks();
  if (name === 'visit') loadVisits();
}
for (const b of document.querySelectorAll('.w-tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));

// --- the outbox -----------------------------------------------------------------

function renderOutbox() {
  const n = state.outbox.pending().length;
  $('pending').hidden = n === 0;
  $('pending').textContent = `待发送 ${n}`;
  const failed = state.outbox.failed();
  $('failed').hidden = failed.length === 0;
  $('failed').innerHTML = failed.map((f) => `<li data-key="${escapeHtml(f.key)}"><span>${escapeHtml(f.label)} 未能发送：${escapeHtml(f.error)}</span><button type="button">知道了</button></li>`).join('');
}
$('failed').addEventListener('click', (e) => {
  const li = e.target.closest('button') && e.target.closest('li');
  if (li) state.outbox.dismiss(li.dataset.key);
});

function sent(item, answer) {
  if (item.kind === 'report') setStatus(`已上报，跟踪码 ${answer?.tracking_code ?? ''}`);
  if (item.kind === 'visit') {
    setStatus('走访记录已发送');
    if (!$('tab-visit').hidden) loadVisits();
  }
  if (item.kind === 'action' || item.kind === 'part') {
    setStatus(`${item.label} 已提交`);
    if (state.open && answer?.case?.id === state.open) openCase(state.open);
    else if (!$('tab-tasks').hidden) loadTasks();
  }
}

// send sends an outbox item; a part step a version behind is sent again
// on the case's version now (parts.js).
// Nothing is sent before the session is known (a page opened without
// network has no CSRF token yet): the outbox tries again.
function send(item) {
  if (state.offlineStart) return Promise.reject(new TypeError('the session is not known yet'));
  return sendRebasing(item, { request, getJSON });
}

function keep(item) {
  state.outbox.add(item);
  if (!navigator.onLine) setStatus('当前离线：已保存在手机上，联网后自动发送');
}

window.addEventListener('online', async () => {
  $('net').hidden = true;
  if (state.offlineStart) {
    // Opened without network: the session (and its CSRF token) now.
    try {
      const s = await fetchSession();
      if (s?.name !== state.session?.name) {
        setStatus('登录已失效：请重新登录，待发送的内容登录后发送', true);
        location.reload();
        return;
      }
      state.offlineStart = false;
      loadTasks();
    } catch {
      return; // not yet: the next online event
    }
  }
  state.outbox?.flush({ force: true });
});
window.addEventListener('offline', () => {
  $('net').hidden = false;
});

// --- tasks --------------------------------------------------------------------

async function loadTasks() {
  try {
    const { cases, now } = await getJSON('/api/cases', { status: 'reported,accepted,assigned,handling,feedback', limit: 100 });
    state.cases = cases;
    state.now = now;
  } catch (err) {
    if (!(err instanceof HttpError)) setStatus('离线：显示上次载入的任务', true);
    else setStatus(`任务载入失败：${err.message}`, true);
  }
  renderTasks();
}

function renderTasks() {
  const grid = state.session?.grid_id;
  $('tasks').innerHTML = state.cases.map((k) => {
    const due = dueOf(k, state.now ?? new Date().toISOString());
    const parts = workedParts([k]);
    const mine = isTask(k, grid) || parts.length > 0;
    return `<li class="w-task${mine ? ' w-mine' : ''}" data-id="${k.id}" tabindex="0">
  <div class="w-task-head"><strong>${escapeHtml(CATEGORY[k.category] ?? k.category)}</strong>
    ${mine ? '<span class="w-badge w-todo">待我处置</span>' : ''}
    ${parts.map(({ part }) => `<span class="w-badge w-part" data-part="${part.part}">联动：${escapeHtml(part.department)}</span>`).join('')}
    <span class="w-badge">${escapeHtml(STATUS[k.status] ?? k.status)}</span>
    ${due ? `<span class="w-badge ${due.cls}" data-due>${escapeHtml(due.text)}</span>` : ''}</div>
  <p>${escapeHtml(k.description)}</p>
  <p>${escapeHtml(k.tracking_code)} · ${fmtTime(k.created_at)}</p>
</li>`;
  }).join('');
  $('tasks-empty').hidden = state.cases.length > 0;
}

$('tasks').addEventListener('click', (e) => {
  const li = e.target.closest('li[data-id]');
  if (li) openCase(Number(li.dataset.id));
});

async function openCase(id) {
  state.open = id;
  let k;
  try {
    k = await getJSON(`/api/cases/${id}`);
    state.read.set(id, k);
  } catch (err) {
    // Without network: the case as last read, or as listed.
    k = err instanceof HttpError ? null : state.read.get(id) ?? state.cases.find((x) => x.id === id);
    if (!k) {
      setStatus(`案件载入失败：${err.message}`, true);
      return;
    }
    setStatus('离线：显示上次载入的案件', true);
  }
  if (state.open !== id) return;
  for (const t of ['tasks', 'report', 'visit']) $(`tab-${t}`).hidden = true;
  $('detail').hidden = false;
  $('detail').dataset.id = String(id);
  const due = dueOf(k, new Date().toISOString());
  $('detail-body').innerHTML = `<h2>${escapeHtml(CATEGORY[k.category] ?? k.category)} <span class="w-badge">${escapeHtml(STATUS[k.status] ?? k.status)}</span>
  ${due ? `<span class="w-badge ${due.cls}">${escapeHtml(due.text)}</span>` : ''}</h2>
<p>${escapeHtml(k.description)}</p>
<p class="w-meta">跟踪码 ${escapeHtml(k.tracking_code)} · 上报于 ${fmtTime(k.created_at)}</p>`;
  $('timeline').innerHTML = (k.timeline ?? []).map((s) => `<li><time>${fmtTime(s.at)}</time>${escapeHtml(ACTION[s.action] ?? s.action)}${s.part ? ` ${s.part}` : ''} · ${escapeHtml(s.actor)}${s.note ? `：${escapeHtml(s.note)}` : ''}</li>`).join('');
  const acts = (k.actions ?? []).filter((a) => a === 'handle' || a === 'feedback');
  $('action-form').hidden = acts.length === 0;
  $('action-form').dataset.version = String(k.version);
  $('action-kind').innerHTML = acts.map((a) => `<option value="${a}">${ACTION[a]}</option>`).join('');
  renderParts(k);
}

// renderParts shows the case's parts of joint handling, each worked part
// with its own form.
function renderParts(k) {
  const parts = k.parts ?? [];
  $('parts-box').hidden = parts.length === 0;
  $('parts').innerHTML = parts.map((p) => `<li class="w-card" data-part="${p.part}">
  <div class="w-task-head"><strong>分工 ${p.part} · ${escapeHtml(p.department)}</strong>
    <span class="w-badge">${escapeHtml(PART_STATUS[p.status] ?? p.status)}</span>
    ${p.overdue ? '<span class="w-badge w-overdue">超时</span>' : ''}</div>
  <p>任务：${escapeHtml(p.task)}</p>
  ${p.due ? `<p class="w-meta w-part-due">时限（北京时间）${escapeHtml(formatChinaTime(p.due, 'zh-CN'))}</p>` : ''}
  ${(p.actions ?? []).length ? `<form class="w-form w-part-form" data-version="${k.version}">
    <label>办理 <select name="action">${p.actions.map((a) => `<option value="${a}">${PART_ACTION[a] ?? a}</option>`).join('')}</select></label>
    <label>情况说明 <textarea name="note" rows="3" maxlength="2000" required></textarea></label>
    <button type="submit" class="w-primary">提交</button></form>` : ''}</li>`).join('');
}

$('parts').addEventListener('submit', (e) => {
  const form = e.target.closest('.w-part-form');
  if (!form) return;
  e.preventDefault();
  const id = Number($('detail').dataset.id);
  const k = state.read.get(id) ?? state.cases.find((x) => x.id === id);
  const note = form.elements.note.value.trim();
  if (!k || !note) return;
  const n = Number(form.closest('[data-part]').dataset.part);
  keep(partItem({ ...k, version: Number(form.dataset.version) }, n, form.elements.action.value, note));
  form.hidden = true; // until the step is taken and the case reloaded
});

$('detail-back').addEventListener('click', () => {
  state.open = null;
  showTab('tasks');
});

$('action-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = Number($('detail').dataset.id);
  const action = $('action-kind').value;
  const note = $('action-note').value.trim();
  if (!note) return;
  keep({
    kind: 'action', label: `${ACTION[action]}（案件 ${id}）`, path: `/api/cases/${id}/actions`,
    body: { action, version: Number($('action-form').dataset.version), note, public: $('action-public').checked },
  });
  $('action-note').value = '';
  $('action-public').checked = false;
  $('action-form').hidden = true; // until the step is taken and the case reloaded
});

// --- positions ------------------------------------------------------------------

function whereText(p) {
  return p ? `位置：${p[0].toFixed(5)}, ${p[1].toFixed(5)}` : '位置：未选择';
}

function gps(done) {
  if (!navigator.geolocation || !window.isSecureContext) {
    setStatus('浏览器无法提供位置，请在地图上选点', true);
    return;
  }
  setStatus('正在获取位置…');
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      setStatus('');
      done([pos.coords.longitude, pos.coords.latitude]);
    },
    (err) => setStatus(err.code === 1 ? '未获得位置权限，请在地图上选点' : '暂时无法获取位置，请在地图上选点', true),
    { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
  );
}

// near is a point of the worker's own part of the county, where the map
// opens when no place has been picked: the map's tiles hold only that part.
function near() {
  const grid = state.session?.grid_id;
  const task = state.cases.find((k) => isTask(k, grid)) ?? state.cases[0];
  const subject = Object.values(state.subjects).flatMap((l) => l ?? []).find((x) => x.point);
  return task?.position ?? subject?.point ?? null;
}

let mapDone = null;
// pickOnMap opens the map on picked (or near the worker) and calls done
// with the point tapped once 确定 is pressed.
async function pickOnMap(done, picked) {
  const center = picked ?? near();
  mapDone = done;
  $('map-view').hidden = false;
  if (!state.map) {
    $('map-hint').textContent = '正在加载地图…';
    try {
      const { createPicker } = await import('./map.js');
      state.map = await createPicker($('map'), { center });
      Object.assign(window.onemapWork, { map: state.map.map }); // for the browser tests
    } catch (err) {
      $('map-hint').textContent = `地图加载失败：${err.message}`;
      return;
    }
  }
  $('map-hint').textContent = '点地图选择位置';
  state.map.resize();
  state.map.set(picked);
  if (!picked && center) state.map.map.jumpTo({ center });
}
$('map-ok').addEventListener('click', () => {
  const p = state.map?.point();
  $('map-view').hidden = true;
  if (p && mapDone) mapDone(p);
});
$('map-cancel').addEventListener('click', () => {
  $('map-view').hidden = true;
});

// --- report ---------------------------------------------------------------------

$('report-category').innerHTML = CATEGORIES.map(([code, name]) => `<option value="${code}">${name}</option>`).join('');
const setReportPoint = (p) => {
  state.reportPoint = p;
  $('report-where').textContent = whereText(p);
};
$('report-gps').addEventListener('click', () => gps(setReportPoint));
$('report-map').addEventListener('click', () => pickOnMap(setReportPoint, state.reportPoint));
$('report-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!state.reportPoint) {
    setStatus('请先确定位置：我的位置，或地图选点', true);
    return;
  }
  const category = $('report-category').value;
  keep({
    kind: 'report', label: `上报：${CATEGORY[category]}`, path: '/api/cases',
    body: { category, description: $('report-desc').value.trim(), lon: state.reportPoint[0], lat: state.reportPoint[1] },
  });
  $('report-desc').value = '';
  setReportPoint(null);
  if (navigator.onLine) setStatus('正在上报…');
});

// --- visits ---------------------------------------------------------------------

async function loadSubjects(kind) {
  if (!kind || state.subjects[kind]) return;
  try {
    const fc = await getJSON(`/api/layers/${KIND_LAYER[kind]}/features`, { limit: 300 });
    state.subjects[kind] = fc.features.map((f) => ({
      id: f.id,
      point: f.geometry?.type === 'Point' ? f.geometry.coordinates : null,
      label: f.properties?.name ?? `${KIND_NAME[kind]} ${f.id}${f.properties?.level ? `（${f.properties.level}）` : ''}`,
    }));
  } catch {
    state.subjects[kind] = null; // offline: ask again next time
  }
}

async function fillSubjects() {
  const kind = $('visit-kind').value;
  $('visit-subject-label').hidden = !kind;
  $('visit-where').textContent = kind && !state.visitPoint ? '位置：走访对象所在位置' : whereText(state.visitPoint);
  if (!kind) return;
  await loadSubjects(kind);
  const list = state.subjects[kind] ?? [];
  $('visit-subject').innerHTML = list.map((s) => `<option value="${s.id}">${escapeHtml(s.label)}</option>`).join('') ||
    '<option value="">（无可选对象）</option>';
}
$('visit-kind').addEventListener('change', fillSubjects);
const setVisitPoint = (p) => {
  state.visitPoint = p;
  $('visit-where').textContent = whereText(p);
};
$('visit-gps').addEventListener('click', () => gps(setVisitPoint));
$('visit-map').addEventListener('click', () => pickOnMap(setVisitPoint, state.visitPoint));

$('visit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const kind = $('visit-kind').value;
  const body = { note: $('visit-note').value.trim(), at: new Date().toISOString() };
  let label = '走访';
  let point = state.visitPoint;
  if (kind) {
    const id = Number($('visit-subject').value);
    const s = (state.subjects[kind] ?? []).find((x) => x.id === id);
    if (!s) {
      setStatus('请选择走访对象', true);
      return;
    }
    Object.assign(body, { subject_kind: kind, subject_id: id });
    label = `走访：${s.label}`;
    point ??= s.point;
  }
  if (!point) {
    setStatus('请先确定位置：我的位置，或地图选点', true);
    return;
  }
  Object.assign(body, { lon: point[0], lat: point[1] });
  keep({ kind: 'visit', label, path: '/api/visits', body });
  $('visit-note').value = '';
  setVisitPoint(null);
  fillSubjects();
});

async function loadVisits() {
  let visits;
  try {
    ({ visits } = await getJSON('/api/visits', { account: state.session.name, limit: 20 }));
  } catch {
    return; // offline: the list stays as it was
  }
  const name = (v) => {
    const s = (state.subjects[v.subject_kind] ?? []).find((x) => x.id === v.subject_id);
    return v.subject_kind ? s?.label ?? `${KIND_NAME[v.subject_kind]} ${v.subject_id}` : '其他地点';
  };
  $('visits').innerHTML = visits.map((v) => `<li class="w-task" data-id="${v.id}"><div class="w-task-head"><strong>${escapeHtml(name(v))}</strong><span class="w-badge">${fmtTime(v.at)}</span></div><p>${escapeHtml(v.note)}</p></li>`).join('');
}

// --- session --------------------------------------------------------------------

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  const data = new FormData($('signin'));
  try {
    await signIn(data.get('name'), data.get('password'));
  } catch (err) {
    $('signin-error').textContent = `登录失败：${err.message}`;
    return;
  }
  location.reload();
});
$('sign-out').addEventListener('click', async () => {
  try {
    localStorage.removeItem(LAST_SESSION);
    await signOut();
  } finally {
    location.reload();
  }
});

// LAST_SESSION keeps the account last signed in on this phone (name,
// display name, role, grid: no token), for opening the page without network.
const LAST_SESSION = 'onemap.work.session';

function lastSession() {
  try {
    const s = JSON.parse(localStorage.getItem(LAST_SESSION));
    return s?.name && s.role === 'grid_worker' ? s : null;
  } catch {
    return null;
  }
}

async function start() {
  let session;
  try {
    session = await fetchSession();
  } catch (err) {
    session = err instanceof HttpError ? null : lastSession();
    if (!session) {
      setStatus(`无法连接服务器：${err.message}`, true);
      return;
    }
    state.offlineStart = true;
    setStatus('离线：联网后发送待发送的内容、载入任务', true);
  }
  if (!session?.name || session.role !== 'grid_worker') {
    $('signin').hidden = false;
    if (session?.name) $('signin-error').textContent = `${session.name} 不是网格员账号，请用网格员账号登录`;
    return;
  }
  state.session = session;
  if (!state.offlineStart) {
    const { name, display_name: displayName, role, grid_id: gridId } = session;
    localStorage.setItem(LAST_SESSION, JSON.stringify({ name, display_name: displayName, role, grid_id: gridId }));
  }
  $('who').textContent = session.display_name || session.name;
  $('sign-out').hidden = false;
  $('app').hidden = false;
  $('net').hidden = navigator.onLine;
  state.outbox = createOutbox(session.name, { send, onChange: renderOutbox, onSent: sent });
  renderOutbox();
  state.outbox.flush({ force: true });
  window.onemapWork = { outbox: state.outbox }; // for the browser tests
  // Every kind's subjects now, while there is network: a visit may be
  // recorded where there is none.
  await Promise.all([loadTasks(), ...Object.keys(KIND_LAYER).map(loadSubjects)]);
  fillSubjects();
}

start();

// The page's own files for opening it without network (sw.js).
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('/m/work/sw.js', { scope: '/m/work/' }).catch((err) => {
    console.warn(`the page will not open without network: ${err.message}`);
  });
}
