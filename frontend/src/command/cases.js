// The case queue on the command map (issue 16): for the roles that see
// cases, the open cases as a map layer (../casestyle.js) and a side panel
// with the operator's queues (new to accept, overdue, escalated to my
// level, all open), filters (status, category, level, grid, period,
// overdue), a CSV export of the filtered list (the server's, audited), a
// case card with the whole timeline and the steps the server allows the
// caller now, and a case entered by hand (a phone call, a walk-in) at a
// place clicked on the map. Every step is sent with the version the card
// shows; a step someone else took first (409) reloads the card and says
// so. The queue, the card and the map follow the event stream.

import { getJSON, HttpError, postJSON, request } from '../http.js';
import { FONT } from '../style.js';
import { addCases, CASE_COLOURS, CASE_LAYERS, CASE_SOURCE } from '../casestyle.js';
import {
  ACTIONS, actionBody, CATEGORIES, conflictMessage, defaultGrid, inQueue, LEVELS, missing, QUEUES, queryString, queueQuery,
  STATUSES, word,
} from '../cases-core.js';
import { escapeHtml, formatDateTime } from '../format.js';
import { lang } from '../i18n.js';
import { JOINT } from '../joint-core.js';
import { createJoint } from './joint.js';
import { dayFieldHTML, parseDay, wireDays } from './days.js';
import './cases.css';

const W = {
  zh: {
    title: '事件', enter: '录入事件', export: '导出 CSV', close: '关闭', empty: '没有事件', pick: '在地图上点击事件发生的位置',
    cancel: '取消', submit: '提交', category: '类别', description: '描述', phone: '回访电话（可不填）', status: '状态',
    level: '层级', grid: '网格 ID', from: '起', to: '止', overdue: '只看超时', allStatus: '全部状态', allCategory: '全部类别',
    allLevel: '全部层级', back: '返回列表', timeline: '办理过程', reason: '理由', note: '说明', assignee: '责任人',
    department: '部门', publicReply: '回复群众（群众可见）', pass: '核查通过', fail: '核查不通过', due: '时限',
    overdueTag: '超时', dueSoonTag: '即将超时', done: '已{0}', entered: '已录入 {0}', needs: '请填写{0}',
    reported: '上报', holder: '承办', place: '位置网格', escalations: '提级次数', failed: '操作失败：{0}',
    parts: '联动分工', part: '分工', task: '任务', dayHint: '年-月-日', pickDay: '选日期',
    badDay: '“{0}”不是日期：请写作 年-月-日，如 2026-12-07',
  },
  en: {
    title: 'Cases', enter: 'Enter a case', export: 'Export CSV', close: 'Close', empty: 'No cases', pick: 'Click the place of the case on the map',
    cancel: 'Cancel', submit: 'Submit', category: 'Category', description: 'Description', phone: 'Phone for a call back (optional)',
    status: 'Status', level: 'Level', grid: 'Grid id', from: 'From', to: 'To', overdue: 'Overdue only', allStatus: 'Every status',
    allCategory: 'Every category', allLevel: 'Every level', back: 'Back to the list', timeline: 'Timeline', reason: 'Reason',
    note: 'Note', assignee: 'Person', department: 'Department', publicReply: 'Reply to the reporter (public)', pass: 'Check: pass',
    fail: 'Check: fail', due: 'Due', overdueTag: 'Overdue', dueSoonTag: 'Due soon', done: '{0}: done', entered: 'Entered {0}',
    needs: 'Fill in: {0}', reported: 'Reported', holder: 'Held by', place: 'Place grid', escalations: 'Escalations',
    failed: 'Failed: {0}', parts: 'Joint handling', part: 'Part', task: 'Task', dayHint: 'yyyy-mm-dd', pickDay: 'Pick a day',
    badDay: '"{0}" is not a day: write it as yyyy-mm-dd, e.g. 2026-12-07',
  },
};
const L = lang === 'en' ? 'en' : 'zh';
const stepWord = (a) => (JOINT[a] ? word(JOINT, a, L) : word(ACTIONS, a, L));
const w = (k, ...a) => (W[L][k] ?? k).replace(/\{(\d)\}/g, (_, i) => a[i] ?? '');

export { CASE_ROLES } from '../cases-core.js';

const options = (table, all) => `<option value="">${escapeHtml(all)}</option>` +
  Object.keys(table).map((k) => `<option value="${k}">${escapeHtml(word(table, k, L))}</option>`).join('');

/**
 * createCases adds the case work to the command map for a session that
 * sees cases: the layer, the panel (el) and its toolbar button. It returns
 * {state, open(id), changed(changes), refresh(), show(on), placing(),
 * stopPlacing()}; state is what the page's tests read; placing() says
 * whether 录入事件 waits for the case's place to be clicked on the map, and
 * stopPlacing() ends that wait (Escape: command/keys.js).
 */
export function createCases(page, session, { el, button }) {
  const { map } = page;
  const state = { queue: 'new', filters: {}, list: [], card: null, loadedAt: 0, message: '', placing: false };
  let myLevel = '';
  let seq = 0;
  let picking = null;

  const onLoad = (fn) => (map.isStyleLoaded() ? fn() : map.once('load', fn));
  onLoad(() => {
    addCases(map, location.origin, FONT);
    map.on('click', CASE_LAYERS[0], (e) => {
      if (picking) return;
      const f = e.features?.[0];
      if (!f) return;
      if (f.properties.point_count) {
        map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
        return;
      }
      show(true);
      open(f.id);
    });
    map.on('mouseenter', CASE_LAYERS[0], () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', CASE_LAYERS[0], () => { map.getCanvas().style.cursor = ''; });
  });
  if (session.grid_id) {
    getJSON(`/api/layers/grids/features/${session.grid_id}`).then((f) => { myLevel = f?.properties?.level ?? ''; refresh(); }).catch(() => {});
  }

  el.innerHTML = `
    <header class="om-side-head"><h2 tabindex="-1">${escapeHtml(w('title'))}</h2>
      <button type="button" class="om-close" data-act="close" aria-label="${escapeHtml(w('close'))}">×</button></header>
    <div class="om-cases-tools">
      ${session.role === 'operator' || session.role === 'commander' ? `<button type="button" data-act="enter">${escapeHtml(w('enter'))}</button>` : ''}
      <a class="om-button" data-act="export" href="/api/cases/export" download>${escapeHtml(w('export'))}</a>
    </div>
    <div class="om-cases-tabs" role="tablist">${Object.keys(QUEUES).map((q) =>
      `<button type="button" role="tab" data-queue="${q}" aria-selected="${q === state.queue}">${escapeHtml(word(QUEUES, q, L))}</button>`).join('')}</div>
    <form class="om-cases-filters">
      <select name="status" aria-label="${escapeHtml(w('status'))}">${options(STATUSES, w('allStatus'))}</select>
      <select name="category" aria-label="${escapeHtml(w('category'))}">${options(CATEGORIES, w('allCategory'))}</select>
      <select name="level" aria-label="${escapeHtml(w('level'))}">${options(LEVELS, w('allLevel'))}</select>
      ${dayFieldHTML('from', w('from'), w('dayHint'), w('pickDay'))}
      ${dayFieldHTML('to', w('to'), w('dayHint'), w('pickDay'))}
      <input name="grid" type="number" min="1" placeholder="${escapeHtml(w('grid'))}" aria-label="${escapeHtml(w('grid'))}">
      <label class="om-cases-overdue"><input name="overdue" type="checkbox"> ${escapeHtml(w('overdue'))}</label>
    </form>
    <p class="om-cases-message" role="status" aria-live="polite"></p>
    <ul class="om-cases-list" aria-label="${escapeHtml(w('title'))}"></ul>
    <section class="om-cases-card" hidden></section>`;
  const $ = (sel) => el.querySelector(sel);
  const listEl = $('.om-cases-list');
  const cardEl = $('.om-cases-card');
  const say = (text, bad = false) => {
    state.message = text;
    const m = $('.om-cases-message');
    m.textContent = text;
    m.classList.toggle('om-error', bad);
  };
  const joint = createJoint({ L, say, reload: () => open(state.card.id) });

  function show(on) {
    if (!on) stopPlacing();
    el.hidden = !on;
    button.setAttribute('aria-pressed', String(on));
    if (on) refresh();
  }
  button.hidden = false;
  button.addEventListener('click', () => show(el.hidden));

  el.addEventListener('click', (e) => {
    const t = e.target.closest('[data-act],[data-queue],[data-case]');
    if (!t) return;
    if (t.dataset.queue) {
      state.queue = t.dataset.queue;
      for (const b of el.querySelectorAll('[data-queue]')) b.setAttribute('aria-selected', String(b === t));
      refresh();
    } else if (t.dataset.case) {
      open(Number(t.dataset.case));
    } else if (t.dataset.act === 'close') {
      show(false);
    } else if (t.dataset.act === 'enter') {
      startEntry();
    } else if (t.dataset.act === 'back') {
      closeCard();
    }
  });
  wireDays($('.om-cases-filters'));
  $('.om-cases-filters').addEventListener('submit', (e) => e.preventDefault());
  $('.om-cases-filters').addEventListener('change', (e) => {
    const form = e.currentTarget;
    const f = new FormData(form);
    const filters = {};
    for (const k of ['status', 'category', 'level', 'grid']) if (f.get(k)) filters[k] = String(f.get(k));
    // The period's days, as written (年-月-日 and the like); one that is
    // not a day says so and leaves the list as it is.
    for (const k of ['from', 'to']) {
      const input = form.elements[k];
      const day = parseDay(input.value);
      if (day === null) {
        input.setAttribute('aria-invalid', 'true');
        say(w('badDay', input.value.trim()), true);
        return;
      }
      input.removeAttribute('aria-invalid');
      if (day) filters[k] = day;
    }
    if (f.get('overdue')) filters.overdue = true;
    state.filters = filters;
    say('');
    refresh();
  });

  async function refresh() {
    if (el.hidden) return;
    const n = ++seq;
    const q = queueQuery(state.queue, state.filters, myLevel);
    $('[data-act="export"]').href = `/api/cases/export?${queryString(q)}`;
    try {
      const r = await getJSON('/api/cases', q);
      if (n !== seq) return;
      state.list = (r.cases ?? []).filter((c) => inQueue(state.queue, c));
      state.loadedAt = Date.now();
      listEl.innerHTML = state.list.length ? state.list.map(itemHTML).join('') : `<li class="om-muted">${escapeHtml(w('empty'))}</li>`;
    } catch (err) {
      if (n === seq) say(w('failed', err.message), true);
    }
  }

  function flags(c) {
    return (c.overdue ? `<span class="om-case-flag om-case-overdue">${escapeHtml(w('overdueTag'))}</span>` : '') +
      (c.due_soon ? `<span class="om-case-flag om-case-soon">${escapeHtml(w('dueSoonTag'))}</span>` : '');
  }
  function badge(c) {
    return `<span class="om-case-status" style="--c:${CASE_COLOURS[c.status] ?? '#5f6368'}">${escapeHtml(word(STATUSES, c.status, L))}</span>`;
  }
  function itemHTML(c) {
    return `<li><button type="button" class="om-case-item" data-case="${c.id}">
      <span class="om-case-code">${escapeHtml(c.tracking_code)}</span> ${badge(c)} ${flags(c)}
      <span class="om-case-line">${escapeHtml(word(CATEGORIES, c.category, L))} · ${escapeHtml(word(LEVELS, c.level, L))} · ${escapeHtml(formatDateTime(c.created_at))}</span>
      <span class="om-case-desc">${escapeHtml(c.description ?? '')}</span></button></li>`;
  }

  async function open(id) {
    try {
      const c = await getJSON(`/api/cases/${id}`);
      state.card = c;
      renderCard();
      if (c.position) page.camera.showAt(c.position, 15);
    } catch (err) {
      say(w('failed', err.message), true);
    }
  }
  function closeCard() {
    state.card = null;
    cardEl.hidden = true;
    listEl.hidden = false;
    refresh();
  }

  function renderCard() {
    const c = state.card;
    listEl.hidden = true;
    cardEl.hidden = false;
    const acts = (c.actions ?? []).filter((a) => ACTIONS[a]);
    cardEl.innerHTML = `
      <button type="button" data-act="back">← ${escapeHtml(w('back'))}</button>
      <h3><span class="om-case-code">${escapeHtml(c.tracking_code)}</span> ${badge(c)} ${flags(c)}</h3>
      <p>${escapeHtml(c.description)}</p>
      <dl class="om-case-facts">
        <dt>${escapeHtml(w('category'))}</dt><dd>${escapeHtml(word(CATEGORIES, c.category, L))}</dd>
        <dt>${escapeHtml(w('holder'))}</dt><dd>${escapeHtml(word(LEVELS, c.level, L))} #${c.holder_grid_id}</dd>
        <dt>${escapeHtml(w('place'))}</dt><dd>#${c.grid_id}</dd>
        <dt>${escapeHtml(w('due'))}</dt><dd>${escapeHtml(formatDateTime(c.due?.next))}</dd>
        <dt>${escapeHtml(w('phone'))}</dt><dd>${escapeHtml(c.reporter_phone ?? '')}</dd>
        <dt>${escapeHtml(w('escalations'))}</dt><dd>${c.escalations}</dd>
      </dl>
      <div class="om-case-inputs">
        <label>${escapeHtml(w('note'))} / ${escapeHtml(w('reason'))}<textarea name="note" rows="2"></textarea></label>
        <label><input type="checkbox" name="public"> ${escapeHtml(w('publicReply'))}</label>
        ${acts.some((a) => ACTIONS[a].grid) ? `<label>${escapeHtml(w('grid'))}<input name="grid_id" type="number" min="1" value="${escapeHtml(String(defaultGrid(acts.includes('assign') ? 'assign' : 'hand_down', c)))}"></label>` : ''}
        ${acts.includes('assign') ? `<label>${escapeHtml(w('assignee'))}<input name="assignee"></label><label>${escapeHtml(w('department'))}<input name="department"></label>` : ''}
      </div>
      <div class="om-case-actions">${acts.map((a) => (a === 'check'
        ? `<button type="button" data-step="check" data-pass="true">${escapeHtml(w('pass'))}</button><button type="button" data-step="check" data-pass="false">${escapeHtml(w('fail'))}</button>`
        : `<button type="button" data-step="${a}">${escapeHtml(word(ACTIONS, a, L))}</button>`)).join('')}</div>
      ${joint.html(c)}
      <h4>${escapeHtml(w('timeline'))}</h4>
      <ol class="om-case-timeline">${(c.timeline ?? []).map((s) => `<li><time>${escapeHtml(formatDateTime(s.at))}</time>
        <b>${escapeHtml(s.action === 'report' ? w('reported') : stepWord(s.action))}${s.part ? ` ${escapeHtml(w('part'))} ${s.part}` : ''}</b> ${escapeHtml(s.actor)}
        → ${escapeHtml(word(STATUSES, s.to, L))}${s.grid_id ? ` #${s.grid_id}` : ''}${s.assignee ? ` ${escapeHtml(s.assignee)}` : ''}${s.department ? ` ${escapeHtml(s.department)}` : ''}
        ${s.note ? `<div class="om-case-note">${s.public ? '💬 ' : ''}${escapeHtml(s.note)}</div>` : ''}
        ${(s.photos ?? []).length ? `<div class="om-case-photos">${s.photos.map((p) => `<a href="${escapeHtml(p.url)}" target="_blank" rel="noopener"><img src="${escapeHtml(p.url)}" alt="" loading="lazy"></a>`).join('')}</div>` : ''}</li>`).join('')}</ol>`;
    for (const b of cardEl.querySelectorAll('[data-step]')) b.addEventListener('click', () => step(b.dataset.step, b.dataset.pass !== 'false'));
    joint.bind(cardEl, c); // joint.js: organise joint handling, work its parts
  }

  async function step(action, pass) {
    const c = state.card;
    const v = (name) => cardEl.querySelector(`[name="${name}"]`);
    const body = actionBody(action, c, {
      note: v('note')?.value, public: v('public')?.checked, grid_id: v('grid_id')?.value,
      assignee: v('assignee')?.value, department: v('department')?.value, pass,
    });
    const need = missing(action, body);
    if (need) {
      say(w('needs', need === 'note' ? w('reason') : w('grid')), true);
      v(need)?.focus();
      return;
    }
    try {
      const r = await postJSON(`/api/cases/${c.id}/actions`, body);
      say(w('done', word(ACTIONS, action, L)));
      state.card = { ...r.case, timeline: [...(c.timeline ?? []), r.step] };
      await open(c.id);
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) {
        say(conflictMessage(err, L), true);
        await open(c.id);
        return;
      }
      say(w('failed', err.message), true);
    }
  }

  // A case entered by hand: a place clicked on the map, then its form.
  function startEntry() {
    stopPlacing();
    say(w('pick'));
    map.getCanvas().style.cursor = 'crosshair';
    picking = (e) => {
      stopPlacing();
      entryForm([e.lngLat.lng, e.lngLat.lat]);
    };
    map.on('click', picking);
    state.placing = true;
  }
  // stopPlacing ends the wait for the place's click (the click came, the
  // panel closed, or Escape: then its hint goes too and the focus is back
  // on 录入事件).
  function stopPlacing({ escaped = false } = {}) {
    if (!picking) return;
    map.off('click', picking);
    picking = null;
    state.placing = false;
    map.getCanvas().style.cursor = '';
    if (escaped) {
      if (state.message === w('pick')) say('');
      $('[data-act="enter"]')?.focus();
    }
  }
  function entryForm(at) {
    listEl.hidden = true;
    cardEl.hidden = false;
    cardEl.innerHTML = `<form class="om-case-entry">
      <p class="om-muted">${at[0].toFixed(6)}, ${at[1].toFixed(6)}</p>
      <label>${escapeHtml(w('category'))}<select name="category">${Object.keys(CATEGORIES).map((k) =>
        `<option value="${k}">${escapeHtml(word(CATEGORIES, k, L))}</option>`).join('')}</select></label>
      <label>${escapeHtml(w('description'))}<textarea name="description" rows="3" required maxlength="2000"></textarea></label>
      <label>${escapeHtml(w('phone'))}<input name="phone" type="tel"></label>
      <div class="om-case-actions"><button type="submit">${escapeHtml(w('submit'))}</button>
        <button type="button" data-act="back">${escapeHtml(w('cancel'))}</button></div></form>`;
    cardEl.querySelector('form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = new FormData(e.currentTarget);
      try {
        const c = await request('POST', '/api/cases', { body: { category: f.get('category'), description: String(f.get('description')).trim(),
          lon: at[0], lat: at[1], phone: String(f.get('phone') ?? '').trim() || undefined } });
        say(w('entered', c.tracking_code));
        await open(c.id);
      } catch (err) {
        say(w('failed', err.message), true);
      }
    });
  }

  // Live: the layer's tiles come again, the list and an open card follow.
  // An open card is drawn again only while nobody is at work in it (a field
  // in focus, the joint form open, a refusal shown beside a field), checked
  // again once the case has come: a refusal shown meanwhile stays.
  let timer = null;
  const busy = () => !!cardEl.querySelector('textarea:focus,input:focus,details.om-joint[open]') ||
    [...cardEl.querySelectorAll('[data-error-for]')].some((s) => s.textContent !== '');
  async function follow(id) {
    try {
      const c = await getJSON(`/api/cases/${id}`);
      if (state.card?.id !== id || busy()) return;
      state.card = c;
      renderCard();
    } catch {
      // the next change or the caller's own step draws it again
    }
  }
  function changed(changes) {
    if (!changes.length) return;
    if (map.getSource(CASE_SOURCE)) map.refreshTiles(CASE_SOURCE);
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (state.card && changes.some((c) => c.id === state.card.id) && !busy()) follow(state.card.id);
      else if (!state.card) refresh();
    }, 300);
  }
  // Overdue and due-soon are the moment's: the tiles come again each minute.
  setInterval(() => { if (map.getSource(CASE_SOURCE)) map.refreshTiles(CASE_SOURCE); }, 60_000);

  return {
    state, open, changed, refresh, show,
    placing: () => !!picking,
    stopPlacing: () => stopPlacing({ escaped: true }),
  };
}
