// Alarms (预警) on the command map (issue 21): for the roles shown alarms
// (the commander: all; an operator: its part of the county), the open
// alarms as markers coloured by severity and a side panel listing them,
// newest first, with a card per alarm: acknowledge, dismiss with a reason,
// or turn it into a case; the snapshot, fetched through the server, for
// the roles that see camera images. Alarms arrive live as "alarm" events
// on the page's one event stream (command/live.js followAlarms: when it
// reconnects, the list is read again, as the server asks); a new alarm
// can sound (off by default; a tone made with WebAudio, no file).

import { getJSON, HttpError, postJSON } from '../http.js';
import { CATEGORIES, word } from '../cases-core.js';
import { escapeHtml, formatDateTime } from '../format.js';
import { lang } from '../i18n.js';
import { alarmsGeoJSON, beep, mergeAlarm, OPEN, SEVERITY_COLOURS } from './alarms-core.js';
import './alarms.css';

const SOURCE = 'alarms';
const LAYERS = ['alarms-halo', 'alarms-dot'];
const SOUND_KEY = 'onemap.alarmSound';

/** ALARM_ROLES are the roles shown alarms (onemap.View.SeesAlarms). */
export const ALARM_ROLES = ['commander', 'operator'];

const W = {
  zh: {
    title: '预警', close: '关闭', empty: '没有待处置的预警', sound: '声音', soundOn: '预警提示音：开', soundOff: '预警提示音：关',
    ack: '确认', dismiss: '排除', reason: '排除理由', toCase: '转为事件', category: '类别', back: '返回列表',
    snapshot: '查看抓拍', count: '{0} 次', severity: '{0} 级', camera: '摄像机', status: '状态', first: '首次', last: '最近',
    watchlist: '布控类别', description: '说明', done: '已{0}', cased: '已转为事件 {0}', failed: '操作失败：{0}', needReason: '请填写排除理由',
    new: '新预警', acknowledged: '已确认', dismissed: '已排除', statusCased: '已转事件', gone: '该预警已不存在或不可见', on: '：开', off: '：关', casedId: '已转为事件（编号 {0}）',
  },
  en: {
    title: 'Alarms', close: 'Close', empty: 'No open alarms', sound: 'Sound', soundOn: 'Alarm sound: on', soundOff: 'Alarm sound: off',
    ack: 'Acknowledge', dismiss: 'Dismiss', reason: 'Reason', toCase: 'Turn into a case', category: 'Category', back: 'Back to the list',
    snapshot: 'Snapshot', count: '{0}×', severity: 'level {0}', camera: 'Camera', status: 'Status', first: 'First', last: 'Last',
    watchlist: 'Watch list', description: 'Note', done: '{0}: done', cased: 'Case {0} made', failed: 'Failed: {0}', needReason: 'Give a reason to dismiss',
    new: 'New', acknowledged: 'Acknowledged', dismissed: 'Dismissed', statusCased: 'Cased', gone: 'The alarm is gone or not yours to see', on: ': on', off: ': off', casedId: 'Turned into case no. {0}',
  },
};
const L = lang === 'en' ? 'en' : 'zh';
const w = (k, ...a) => (W[L][k] ?? k).replace(/\{(\d)\}/g, (_, i) => a[i] ?? '');

/**
 * createAlarms adds the alarms to the command map for a session shown
 * them: the markers, the side panel and its toolbar button; live is the
 * page's event stream (command/live.js createLive; without it the list is
 * read once and nothing arrives live). It returns
 * {state, open(id), refresh()}; state is what the page's tests read
 * ({list, received, lastAt, card, sound, message, beeps}).
 */
export function createAlarms(page, session, { toolbar, live } = {}) {
  const { map } = page;
  const seesImages = page.layerById.has('cameras');
  const state = { list: [], received: 0, lastAt: 0, card: null, sound: false, message: '', beeps: 0, loadedAt: 0 };
  try {
    state.sound = globalThis.localStorage?.getItem(SOUND_KEY) === 'on';
  } catch { /* storage refused: off */ }
  let audio = null;

  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'alarms-button';
  button.setAttribute('aria-pressed', 'false');
  button.setAttribute('aria-controls', 'alarms');
  button.innerHTML = `${escapeHtml(w('title'))} <span class="om-alarm-badge" hidden></span>`;
  toolbar.insertBefore(button, toolbar.querySelector('#cases-button') ?? toolbar.firstChild?.nextSibling ?? null);

  const el = document.createElement('aside');
  el.id = 'alarms';
  el.className = 'om-side om-alarms';
  el.setAttribute('aria-label', w('title'));
  el.hidden = true;
  el.innerHTML = `
    <header class="om-side-head"><h2 tabindex="-1">${escapeHtml(w('title'))}</h2>
      <button type="button" class="om-alarm-sound" data-act="sound" aria-pressed="false"></button>
      <button type="button" class="om-close" data-act="close" aria-label="${escapeHtml(w('close'))}">×</button></header>
    <p class="om-alarms-message" role="status" aria-live="polite"></p>
    <ul class="om-alarms-list" aria-label="${escapeHtml(w('title'))}"></ul>
    <section class="om-alarm-card" hidden></section>`;
  document.body.append(el);
  const $ = (sel) => el.querySelector(sel);
  const listEl = $('.om-alarms-list');
  const cardEl = $('.om-alarm-card');
  const say = (text, bad = false) => {
    state.message = text;
    const m = $('.om-alarms-message');
    m.textContent = text;
    m.classList.toggle('om-error', bad);
  };
  const showSound = () => {
    const b = $('[data-act="sound"]');
    b.setAttribute('aria-pressed', String(state.sound));
    b.textContent = `${w('sound')}${state.sound ? w('on') : w('off')}`;
    b.title = state.sound ? w('soundOn') : w('soundOff');
  };
  showSound();

  function show(on) {
    el.hidden = !on;
    button.setAttribute('aria-pressed', String(on));
  }
  button.addEventListener('click', () => show(el.hidden));

  // The markers.
  const onLoad = (fn) => (map.isStyleLoaded() ? fn() : map.once('load', fn));
  onLoad(() => {
    map.addSource(SOURCE, { type: 'geojson', data: alarmsGeoJSON(state.list) });
    map.addLayer({ id: LAYERS[0], type: 'circle', source: SOURCE,
      paint: { 'circle-radius': 14, 'circle-color': ['get', 'colour'], 'circle-opacity': ['case', ['==', ['get', 'status'], 'new'], 0.35, 0.15] } });
    map.addLayer({ id: LAYERS[1], type: 'circle', source: SOURCE,
      paint: { 'circle-radius': 6, 'circle-color': ['get', 'colour'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    for (const id of LAYERS) {
      map.on('click', id, (e) => {
        const f = e.features?.[0];
        if (!f) return;
        show(true);
        open(Number(f.properties.id));
      });
      map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
      map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
    }
    draw();
  });

  function draw() {
    map.getSource(SOURCE)?.setData(alarmsGeoJSON(state.list));
    const open = state.list.filter((a) => OPEN.has(a.status));
    const fresh = open.filter((a) => a.status === 'new').length;
    const badge = button.querySelector('.om-alarm-badge');
    badge.hidden = fresh === 0;
    badge.textContent = String(fresh);
    listEl.innerHTML = open.length ? open.map(itemHTML).join('') : `<li class="om-muted">${escapeHtml(w('empty'))}</li>`;
    if (state.card) renderCard();
  }

  const statusName = (s) => w({ new: 'new', acknowledged: 'acknowledged', dismissed: 'dismissed', cased: 'statusCased' }[s] ?? s);
  function itemHTML(a) {
    return `<li><button type="button" class="om-alarm-item" data-alarm="${a.id}" data-status="${escapeHtml(a.status)}">
      <span class="om-alarm-sev" style="--c:${SEVERITY_COLOURS[a.severity] ?? '#5c7cfa'}">${escapeHtml(w('severity', a.severity))}</span>
      <b>${escapeHtml(a.kind_name || a.kind)}</b> <span class="om-alarm-count">${escapeHtml(w('count', a.count))}</span>
      <span class="om-alarm-line">${escapeHtml(a.camera_name)} · ${escapeHtml(formatDateTime(a.last_at))} · ${escapeHtml(statusName(a.status))}</span></button></li>`;
  }

  function renderCard() {
    const a = state.list.find((x) => x.id === state.card);
    if (!a) return;
    const open = OPEN.has(a.status);
    const facts = [
      [w('camera'), a.camera_name], [w('status'), statusName(a.status)], [w('first'), formatDateTime(a.first_at)],
      [w('last'), formatDateTime(a.last_at)], [w('watchlist'), a.watchlist], [w('description'), a.description],
      [w('dismiss'), a.dismiss_reason],
    ].filter(([, v]) => v);
    const cats = Object.keys(CATEGORIES).map((k) => `<option value="${k}"${k === 'public_order' ? ' selected' : ''}>${escapeHtml(word(CATEGORIES, k, L))}</option>`).join('');
    cardEl.innerHTML = `
      <button type="button" data-act="back">← ${escapeHtml(w('back'))}</button>
      <h3><span class="om-alarm-sev" style="--c:${SEVERITY_COLOURS[a.severity] ?? '#5c7cfa'}">${escapeHtml(w('severity', a.severity))}</span>
        ${escapeHtml(a.kind_name || a.kind)} <span class="om-alarm-count">${escapeHtml(w('count', a.count))}</span></h3>
      <dl class="om-alarm-facts">${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>
      ${a.has_snapshot && seesImages ? `<button type="button" data-act="snapshot">${escapeHtml(w('snapshot'))}</button><div class="om-alarm-snapshot"></div>` : ''}
      ${open ? `<div class="om-alarm-actions">
        ${a.status === 'new' ? `<button type="button" data-act="ack">${escapeHtml(w('ack'))}</button>` : ''}
        <label>${escapeHtml(w('reason'))} <input name="reason" maxlength="500"></label>
        <button type="button" data-act="dismiss">${escapeHtml(w('dismiss'))}</button>
        <label>${escapeHtml(w('category'))} <select name="category">${cats}</select></label>
        <button type="button" data-act="case">${escapeHtml(w('toCase'))}</button></div>` : ''}
      ${a.case_id ? `<p>${escapeHtml(w('casedId', a.case_id))}</p>` : ''}`;
  }

  function open(id) {
    state.card = id;
    listEl.hidden = true;
    cardEl.hidden = false;
    const a = state.list.find((x) => x.id === id);
    if (!a) {
      getJSON(`/api/alarms/${id}`).then((got) => { mergeAlarm(state.list, got); draw(); }).catch(() => say(w('gone'), true));
    } else {
      renderCard();
      page.camera.showAt(a.position, 14);
    }
  }
  function closeCard() {
    state.card = null;
    cardEl.hidden = true;
    listEl.hidden = false;
  }

  async function step(a, act) {
    try {
      let got;
      if (act === 'ack') {
        got = await postJSON(`/api/alarms/${a.id}/ack`);
      } else if (act === 'dismiss') {
        const reason = cardEl.querySelector('input[name="reason"]').value.trim();
        if (!reason) {
          say(w('needReason'), true);
          return;
        }
        got = await postJSON(`/api/alarms/${a.id}/dismiss`, { reason });
      } else {
        const made = await postJSON(`/api/alarms/${a.id}/case`, { category: cardEl.querySelector('select[name="category"]').value });
        got = made.alarm;
        state.caseMade = made.case;
        say(w('cased', made.case.tracking_code));
        page.cases?.refresh?.();
      }
      mergeAlarm(state.list, got);
      if (act !== 'case') say(w('done', w(act)));
      draw();
    } catch (err) {
      say(w('failed', err instanceof HttpError ? err.message : String(err)), true);
    }
  }

  async function showSnapshot(a) {
    const box = cardEl.querySelector('.om-alarm-snapshot');
    try {
      const res = await fetch(`/api/alarms/${a.id}/snapshot`, { credentials: 'same-origin' });
      if (!res.ok) throw new HttpError(res.status, await res.json().catch(() => null));
      const url = URL.createObjectURL(await res.blob());
      box.innerHTML = `<img alt="${escapeHtml(w('snapshot'))}" src="${url}">`;
    } catch (err) {
      box.textContent = w('failed', err.message);
    }
  }

  el.addEventListener('click', (e) => {
    const t = e.target.closest('[data-act],[data-alarm]');
    if (!t) return;
    if (t.dataset.alarm) {
      open(Number(t.dataset.alarm));
      return;
    }
    const a = state.list.find((x) => x.id === state.card);
    switch (t.dataset.act) {
      case 'close': show(false); break;
      case 'back': closeCard(); break;
      case 'sound':
        state.sound = !state.sound;
        try { globalThis.localStorage?.setItem(SOUND_KEY, state.sound ? 'on' : 'off'); } catch { /* not kept */ }
        if (state.sound) audio ??= makeAudio(); // made on the click: browsers allow sound after a gesture
        showSound();
        break;
      case 'snapshot': if (a) showSnapshot(a); break;
      case 'ack': case 'dismiss': case 'case': if (a) step(a, t.dataset.act); break;
      default:
    }
  });

  function makeAudio() {
    const Ctx = globalThis.AudioContext ?? globalThis.webkitAudioContext;
    return Ctx ? new Ctx() : null;
  }
  function ring(a) {
    if (!state.sound) return;
    audio ??= makeAudio();
    if (!audio) return;
    try {
      beep(audio, a.severity);
      state.beeps++;
    } catch { /* no sound device */ }
  }

  // The list, read whole at the start and whenever the stream reconnects.
  async function refresh() {
    try {
      const got = await getJSON('/api/alarms', { status: 'new,acknowledged', limit: 200 });
      for (const a of got.alarms ?? []) mergeAlarm(state.list, a);
      state.loadedAt = Date.now();
      draw();
    } catch (err) {
      say(w('failed', err.message), true);
    }
  }

  // The list is read now (what came before the panel), then each alarm
  // comes on the page's stream, and the list is read again whenever the
  // stream opens again (what came while it was away).
  live?.followAlarms((a) => {
    if (!a?.id) return;
    state.received++;
    state.lastAt = Date.now();
    if (mergeAlarm(state.list, a) && a.status === 'new') ring(a);
    draw();
  }, () => refresh());
  refresh();
  return { state, open, refresh, show };
}
