// The reassessment form (风险评估) of the command map: a button on the card
// of a household or a risk point opens it, for the roles that record
// assessments (grid workers, operators, commanders). A household is ticked
// against the county's dispute situations and categories of people (each
// with a note); a risk point gets a level and, for a graded kind
// (dilapidated houses A–D), a grade. A reassessment starts from the last
// assessment (GET …/assessments, newest first; the read is audited, its
// notes being personal): its ticks with their notes, its grade or level
// and its remark, so that the worker changes only what changed. The server
// derives the level, the responsible cadre and the next due day from the
// county's rule table (POST /api/{households|risk-points}/{id}/assessments,
// based on the version the form read); the map and the counts follow
// through the live changes.

import { getJSON, postJSON } from '../http.js';
import { escapeHtml } from '../format.js';
import { valueLabel } from '../labels.js';

/** ASSESS_ROLES are the roles that record assessments. */
export const ASSESS_ROLES = ['grid_worker', 'operator', 'commander'];

const PATHS = { households: 'households', risk_points: 'risk-points' };
const LEVELS = ['red', 'orange', 'yellow', 'blue'];

/**
 * tickList renders the checkboxes of a reference table, each with a note;
 * the codes of ticked (code → note) start ticked with their notes.
 */
function tickList(name, title, entries, ticked) {
  const items = entries.filter((e) => e.active !== false).map((e) => {
    const on = ticked.has(e.code);
    return `<li><label><input type="checkbox" name="${name}" value="${escapeHtml(e.code)}"${on ? ' checked' : ''}> ${escapeHtml(e.name)}</label>` +
      ` <input type="text" class="om-assess-note" data-note-for="${escapeHtml(e.code)}" maxlength="500" placeholder="说明"` +
      `${on ? ` value="${escapeHtml(ticked.get(e.code) ?? '')}"` : ' hidden'}></li>`;
  });
  return `<fieldset><legend>${escapeHtml(title)}</legend><ul class="om-assess-ticks">${items.join('')}</ul></fieldset>`;
}

/**
 * lastOf returns the assessment a reassessment starts from: the newest of
 * list (newest first, as GET …/assessments answers) that was not
 * rejected, or null.
 */
export function lastOf(list) {
  return (list ?? []).find((a) => a.status !== 'rejected') ?? null;
}

const ticksOf = (ts) => new Map((ts ?? []).map((t) => [t.code, t.note ?? '']));

/**
 * formHTML renders the form for a feature of layer (households or
 * risk_points), started from last (lastOf's; null: a blank form, but for a
 * risk point's current level).
 */
export function formHTML(layer, feature, ref, last = null) {
  const p = feature.properties ?? {};
  const level = (l) => escapeHtml(valueLabel(layer, 'level', l));
  const head = `<h3>风险评估 · ${escapeHtml(valueLabel(layer, 'kind', p.kind))} #${escapeHtml(feature.id)}</h3>` +
    `<p class="om-muted">当前等级 <b data-current-level>${level(p.level)}</b>，下次评估 ` +
    `<b>${escapeHtml(p.next_assessment_due ?? '—')}</b></p>` +
    (last ? `<p class="om-muted" data-last-assessment="${escapeHtml(last.id)}">按上次评估（${escapeHtml(last.assessed_on)}，${level(last.level)}` +
      `${last.grade ? `，${escapeHtml(last.grade)}级` : ''}${last.status === 'pending' ? '，待确认' : ''}）填好，只改有变化的</p>` : '');
  let body;
  if (layer === 'households') {
    body = tickList('situations', '矛盾纠纷情形', ref.situations, ticksOf(last?.situations)) +
      tickList('categories', '重点人群类别', ref.categories, ticksOf(last?.categories));
  } else {
    const grades = Object.keys(ref.rules?.grades?.[p.kind] ?? {}).sort();
    const grade = last?.grade ?? '';
    // A graded kind's level follows from its grade unless one is chosen.
    const chosen = grades.length ? '' : (last?.level ?? p.level);
    body = `<label>等级 <select name="level"><option value="">（按等级判定）</option>${LEVELS.map((l) =>
      `<option value="${l}"${l === chosen ? ' selected' : ''}>${level(l)}</option>`).join('')}</select></label>` +
      (grades.length ? ` <label>鉴定等级 <select name="grade">${grades.map((g) =>
        `<option value="${escapeHtml(g)}"${g === grade ? ' selected' : ''}>${escapeHtml(g)}级</option>`).join('')}</select></label>` : '');
  }
  return `<form method="dialog" class="om-assess-form">${head}${body}` +
    `<label class="om-assess-remark">备注 <textarea name="note" maxlength="2000" rows="2">${escapeHtml(last?.note ?? '')}</textarea></label>` +
    '<p class="om-assess-message" role="status"></p>' +
    '<div class="om-assess-actions"><button type="submit" value="save" data-assess="save">保存</button> ' +
    '<button type="button" data-assess="cancel">取消</button></div></form>';
}

/** bodyOf reads the form into an assessment's body. */
export function bodyOf(form, layer, version) {
  const ticks = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((c) => {
    const note = form.querySelector(`[data-note-for="${CSS.escape(c.value)}"]`)?.value.trim() ?? '';
    return note ? { code: c.value, note } : { code: c.value };
  });
  const body = { version, note: form.querySelector('[name="note"]')?.value.trim() ?? '' };
  if (layer === 'households') {
    body.situations = ticks('situations');
    body.categories = ticks('categories');
  } else {
    const level = form.querySelector('[name="level"]')?.value;
    const grade = form.querySelector('[name="grade"]')?.value;
    if (level) body.level = level;
    if (grade) body.grade = grade;
  }
  return body;
}

/**
 * createAssess returns the form's controller for the caller's session
 * (null for a role that records no assessment). It adds 风险评估 to the
 * cards of households and risk points; state.last is the last assessment
 * saved, for tests and the page.
 */
export function createAssess(page, sess) {
  if (!sess || !ASSESS_ROLES.includes(sess.role)) return null;
  const state = { open: null, last: null };
  let ref = null;
  const dialog = document.createElement('dialog');
  dialog.className = 'om-dialog om-assess';
  document.body.append(dialog);

  async function reference() {
    if (ref) return ref;
    const [s, c, rules] = await Promise.all([
      getJSON('/api/reference/dispute-kinds'), getJSON('/api/reference/people-categories'),
      getJSON('/api/reference/assessment-rules')]);
    ref = { situations: s.entries ?? [], categories: c.entries ?? [], rules };
    return ref;
  }

  // The button goes into every card of an assessed layer as it opens.
  const container = page.map.getContainer();
  new MutationObserver(() => {
    for (const card of container.querySelectorAll('.om-popup .om-card[data-layer="households"], .om-popup .om-card[data-layer="risk_points"]')) {
      const actions = card.querySelector('.om-card-actions');
      if (!actions || actions.querySelector('[data-action="assess"]') || !card.dataset.id) continue;
      actions.insertAdjacentHTML('beforeend', '<button type="button" data-action="assess">风险评估</button>');
    }
  }).observe(container, { childList: true, subtree: true });
  container.addEventListener('click', (e) => {
    const btn = e.target.closest?.('.om-popup button[data-action="assess"]');
    const card = btn?.closest('.om-card');
    if (card) open(card.dataset.layer, Number(card.dataset.id));
  });

  /**
   * open reads the feature, its assessments and the reference tables and
   * shows the form, started from the last assessment.
   */
  async function open(layer, id) {
    const mine = { layer, id };
    state.open = mine;
    dialog.innerHTML = '<p class="om-muted">…</p>';
    if (!dialog.open) dialog.showModal();
    try {
      const [feature, list, r] = await Promise.all([getJSON(`/api/layers/${layer}/features/${id}`),
        getJSON(`/api/${PATHS[layer]}/${id}/assessments`), reference()]);
      if (state.open !== mine) return;
      mine.version = feature.properties?.version;
      dialog.innerHTML = formHTML(layer, feature, r, lastOf(list.assessments));
    } catch (err) {
      dialog.innerHTML = `<p class="om-assess-message">${escapeHtml(err.message)}</p><button type="button" data-assess="cancel">关闭</button>`;
    }
  }

  dialog.addEventListener('change', (e) => {
    const box = e.target.closest?.('input[type="checkbox"]');
    const note = box && dialog.querySelector(`[data-note-for="${CSS.escape(box.value)}"]`);
    if (note) note.hidden = !box.checked;
  });
  dialog.addEventListener('click', (e) => {
    if (e.target.closest?.('[data-assess="cancel"]')) {
      state.open = null;
      dialog.close();
    }
  });
  dialog.addEventListener('submit', async (e) => {
    e.preventDefault();
    const mine = state.open;
    const form = dialog.querySelector('form');
    if (!mine || !form) return;
    const message = form.querySelector('.om-assess-message');
    const save = form.querySelector('[data-assess="save"]');
    save.disabled = true;
    try {
      const a = await postJSON(`/api/${PATHS[mine.layer]}/${mine.id}/assessments`, bodyOf(form, mine.layer, mine.version));
      state.last = a;
      const level = valueLabel(mine.layer, 'level', a.level);
      page.status.notify(a.status === 'pending'
        ? `已提交：${level}，待综治中心确认`
        : `已保存：${level}，下次评估 ${a.next_due}`);
      page.counts?.schedule();
      state.open = null;
      dialog.close();
    } catch (err) {
      message.textContent = `${err.message}${err.field ? `（${err.field}）` : ''}`;
      save.disabled = false;
    }
  });

  return { state, open };
}
