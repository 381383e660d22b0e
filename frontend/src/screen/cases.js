// The wall's case figures (issue 16): today's and this month's reported,
// accepted, closed, closure rate, overdue and escalated (and the
// settlement rate of disputes once the server keeps mediation records),
// from /api/cases/stats, and a live list of new and escalated cases from
// the event stream. A wall opened by a role that sees no cases (the public)
// shows none of it.

import { fetchSession, getJSON } from '../http.js';
import { CASE_ROLES, CATEGORIES, chinaDay, LEVELS, liveItems, percent, wallFigures, word } from '../cases-core.js';
import { escapeHtml, formatCount, formatTimeOfDay } from '../format.js';
import { lang } from '../i18n.js';

const W = {
  zh: { today: '今日事件', month: '本月事件', reported: '上报', accepted: '受理', closed: '办结', closureRate: '办结率',
    overdue: '超时', escalated: '提级', settlement: '化解率', live: '新上报与提级', new: '新上报', esc: '提级', noLive: '暂无新上报与提级' },
  en: { today: 'Cases today', month: 'Cases this month', reported: 'Reported', accepted: 'Accepted', closed: 'Closed',
    closureRate: 'Closure rate', overdue: 'Overdue', escalated: 'Escalated', settlement: 'Settled', live: 'New and escalated',
    new: 'New', esc: 'Escalated', noLive: 'No new or escalated case yet' },
};
const L = lang === 'en' ? 'en' : 'zh';
const w = (k) => W[L][k] ?? k;

function periodHTML(id, title, f) {
  const parts = [['reported', f.reported], ['accepted', f.accepted], ['closed', f.closed], ['closureRate', percent(f.closureRate)],
    ['overdue', f.overdue], ['escalated', f.escalated]];
  if (f.settlementRate !== null) parts.push(['settlement', percent(f.settlementRate)]);
  return `<div class="om-figure om-case-figures" id="${id}"><div class="om-figure-label">${escapeHtml(title)}</div>
    <ul class="om-figure-parts">${parts.map(([k, v]) => `<li data-figure="${k}">${escapeHtml(w(k))} <b>${escapeHtml(typeof v === 'number' ? formatCount(v) : v)}</b></li>`).join('')}</ul></div>`;
}

/**
 * liveHTML renders the live list of new and escalated cases; with none yet,
 * a line that says so (an empty list drew an empty box on the wall).
 */
export function liveHTML(items) {
  if (!items.length) return `<li class="om-wall-empty">${escapeHtml(w('noLive'))}</li>`;
  return items.map((i) => `<li data-case="${i.id}"><span class="om-case-kind om-case-${i.kind}">${escapeHtml(i.kind === 'new' ? w('new') : w('esc'))}</span>
        ${escapeHtml(word(CATEGORIES, i.category, L))} · ${escapeHtml(word(LEVELS, i.level, L))} <small>${escapeHtml(i.code ?? '')} ${escapeHtml(i.at ? formatTimeOfDay(i.at) : '')}</small></li>`).join('');
}

/**
 * createCaseWall fills el with the case figures and the live list; it
 * returns {state, changed(changes), refresh()}, or null when the caller
 * sees no cases.
 */
export async function createCaseWall(el) {
  const state = { today: null, month: null, items: [], at: 0 };
  const seen = new Map();
  let seq = 0;
  async function read() {
    const today = chinaDay();
    const [d, m] = await Promise.all([getJSON('/api/cases/stats', { from: today }), getJSON('/api/cases/stats')]);
    return [wallFigures(d.total), wallFigures(m.total)];
  }
  let first;
  try {
    // Only the roles that see cases ask for their figures (a refusal
    // would be an error in the console of every other role's wall).
    const session = await fetchSession().catch(() => null);
    if (session && !CASE_ROLES.includes(session.role)) return null;
    first = await read();
  } catch {
    return null; // no cases for this caller
  }
  function render() {
    el.innerHTML = periodHTML('case-today', w('today'), state.today) + periodHTML('case-month', w('month'), state.month) +
      `<div class="om-figure om-case-live"><div class="om-figure-label">${escapeHtml(w('live'))}</div><ol id="case-live">${liveHTML(state.items)}</ol></div>`;
  }
  [state.today, state.month] = first;
  state.at = Date.now();
  el.hidden = false;
  render();
  async function refresh() {
    const n = ++seq;
    try {
      const [d, m] = await read();
      if (n !== seq) return;
      state.today = d;
      state.month = m;
      state.at = Date.now();
      render();
    } catch (err) {
      console.warn('大屏事件指标刷新失败：', err);
    }
  }
  let timer = null;
  function changed(changes) {
    const cases = changes.filter((c) => c.layer === 'cases');
    if (!cases.length) return;
    state.items = liveItems(state.items, cases, seen);
    render();
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  }
  setInterval(refresh, 60_000);
  return { state, changed, refresh };
}
