// Joint handling (联动) on the command map's case card: the form with which
// the holder organises it (2 to 10 parts, one per department: its task,
// optionally a grid at or below the holder's and a time limit), shown when
// the server offers the step, and each part with its own note and the part
// steps the server offers the caller on it (handle, report back). A refusal
// is shown next to the field it names (parts[1].department beside row 2's
// department); a step someone else took first (409) reloads the card and
// says so. The rules are the server's (casejoint.go); what is sent is
// ../joint-core.js's. Its inputs are named part-… so that they never stand
// for the card's own (department, grid_id of an assignment). A part's time
// limit is typed and shown in China time (Asia/Shanghai), whatever the
// browser's own time zone.

import { HttpError, postJSON } from '../http.js';
import { conflictMessage, word } from '../cases-core.js';
import { errorPlace, formatChinaTime, JOINT, jointBody, MAX_PARTS, MIN_PARTS, partBody } from '../joint-core.js';
import { escapeHtml } from '../format.js';
import { locale } from '../i18n.js';

const W = {
  zh: {
    organise: '组织联动处置', department: '部门', task: '任务', grid: '网格 ID（可不填，本级或下级）', due: '时限（北京时间，可不填）',
    add: '添加部门', remove: '删除', submit: '发起联动', note: '说明（可不填）', part: '分工', partNote: '办理情况',
    parts: '联动分工', overdue: '超时', done: '已{0}', failed: '操作失败：{0}', organised: '已发起联动：{0} 个部门',
  },
  en: {
    organise: 'Organise joint handling', department: 'Department', task: 'Task', grid: 'Grid id (optional: this level or below)',
    due: 'Limit, China time (optional)', add: 'Add a department', remove: 'Remove', submit: 'Organise', note: 'Note (optional)', part: 'Part',
    partNote: 'What was done', parts: 'Joint handling', overdue: 'Overdue', done: '{0}: done', failed: 'Failed: {0}',
    organised: 'Joint handling organised: {0} departments',
  },
};

/** createJoint returns the joint handling of the case card: html(c) and bind(root, c). */
export function createJoint({ L, say, reload }) {
  const w = (k, ...a) => (W[L][k] ?? k).replace(/\{(\d)\}/g, (_, i) => a[i] ?? '');
  const err = (field) => `<span class="om-field-error" role="alert" data-error-for="${escapeHtml(field)}"></span>`;

  function rowHTML(i) {
    const f = (n) => `parts[${i}].${n}`;
    return `<fieldset class="om-joint-row" data-row="${i}"><legend>${escapeHtml(w('part'))} ${i + 1}</legend>
      <label>${escapeHtml(w('department'))}<input name="part-department" maxlength="100" autocomplete="off">${err(f('department'))}</label>
      <label>${escapeHtml(w('task'))}<textarea name="part-task" rows="2" maxlength="2000"></textarea>${err(f('task'))}</label>
      <label>${escapeHtml(w('grid'))}<input name="part-grid" type="number" min="1">${err(f('grid_id'))}</label>
      <label>${escapeHtml(w('due'))}<input name="part-due" type="datetime-local">${err(f('due'))}</label>
      <button type="button" data-joint="remove">${escapeHtml(w('remove'))}</button></fieldset>`;
  }

  function formHTML(c) {
    if (!(c.actions ?? []).includes('joint')) return '';
    return `<details class="om-joint"><summary>${escapeHtml(w('organise'))}</summary>
      <form class="om-joint-form" novalidate>
        <label>${escapeHtml(w('note'))}<textarea name="joint-note" rows="2" maxlength="2000"></textarea>${err('note')}</label>
        <div class="om-joint-rows">${Array.from({ length: MIN_PARTS }, (_, i) => rowHTML(i)).join('')}</div>
        ${err('parts')}${err('')}
        <div class="om-case-actions"><button type="button" data-joint="add">${escapeHtml(w('add'))}</button>
          <button type="submit">${escapeHtml(w('submit'))}</button></div>
      </form></details>`;
  }

  function partsHTML(c) {
    if (!(c.parts ?? []).length) return '';
    return `<h4>${escapeHtml(w('parts'))}</h4>
      <ol class="om-case-parts">${c.parts.map((p) => `<li data-part="${p.part}"><b>${escapeHtml(w('part'))} ${p.part}</b> ${escapeHtml(p.department)}
        · <span class="om-part-status">${escapeHtml(word(JOINT, p.status, L))}</span>${p.overdue ? ` <span class="om-case-flag om-case-overdue">${escapeHtml(w('overdue'))}</span>` : ''}
        ${p.grid_id ? ` #${p.grid_id}` : ''}${p.due ? ` · <span class="om-part-due">${escapeHtml(formatChinaTime(p.due, locale))}</span>` : ''}
        <div class="om-case-note">${escapeHtml(w('task'))}：${escapeHtml(p.task)}</div>
        ${(p.actions ?? []).length ? `<label class="om-part-note">${escapeHtml(w('partNote'))}<textarea name="part-note" rows="2" maxlength="2000"></textarea>${err('note')}</label>
        ${err('')}<div class="om-case-actions">${p.actions.map((a) => `<button type="button" data-part-step="${a}" data-part-no="${p.part}">${escapeHtml(word(JOINT, a, L))}</button>`).join('')}</div>` : ''}</li>`).join('')}</ol>`;
  }

  /** html returns the card's joint handling: the parts, then the form to organise a round. */
  const html = (c) => partsHTML(c) + formHTML(c);

  // showError puts a refusal's words next to the field it names within
  // root (the form or a part), or at root's end.
  function showError(root, e) {
    for (const s of root.querySelectorAll('[data-error-for]')) s.textContent = '';
    for (const i of root.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
    if (!e) return;
    const { row, name } = errorPlace(e.field);
    const scope = row >= 0 ? root.querySelector(`[data-row="${row}"]`) : root;
    const slot = scope?.querySelector(`[data-error-for="${CSS.escape(e.field ?? '')}"]`) ??
      root.querySelector('[data-error-for=""]');
    slot.textContent = e.message;
    const input = slot.closest('label')?.querySelector('input,textarea');
    if (input && name) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  async function send(root, c, body, doneText) {
    try {
      await postJSON(`/api/cases/${c.id}/actions`, body);
      say(doneText);
      await reload();
    } catch (e) {
      if (e instanceof HttpError && e.status === 409) {
        say(conflictMessage(e, L), true);
        await reload();
        return;
      }
      showError(root, e instanceof HttpError ? e : { field: '', message: e.message });
      say(w('failed', e.message), true);
    }
  }

  /** bind wires the card's joint handling (root: the card) to case c. */
  function bind(root, c) {
    const form = root.querySelector('.om-joint-form');
    if (form) {
      const rows = form.querySelector('.om-joint-rows');
      const renumber = () => {
        const all = [...rows.querySelectorAll('.om-joint-row')];
        all.forEach((r, i) => {
          r.dataset.row = String(i);
          r.querySelector('legend').textContent = `${w('part')} ${i + 1}`;
          for (const s of r.querySelectorAll('[data-error-for]')) s.dataset.errorFor = s.dataset.errorFor.replace(/^parts\[\d+\]/, `parts[${i}]`);
          r.querySelector('[data-joint="remove"]').disabled = all.length <= MIN_PARTS;
        });
        form.querySelector('[data-joint="add"]').disabled = all.length >= MAX_PARTS;
      };
      renumber();
      form.addEventListener('click', (e) => {
        const b = e.target.closest('[data-joint]');
        if (!b) return;
        if (b.dataset.joint === 'add' && rows.children.length < MAX_PARTS) rows.insertAdjacentHTML('beforeend', rowHTML(rows.children.length));
        if (b.dataset.joint === 'remove' && rows.children.length > MIN_PARTS) b.closest('.om-joint-row').remove();
        renumber();
      });
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        showError(form, null);
        const list = [...rows.querySelectorAll('.om-joint-row')].map((r) => {
          const v = (n) => r.querySelector(`[name="part-${n}"]`).value;
          return { department: v('department'), task: v('task'), grid_id: v('grid'), due: v('due') };
        });
        const body = jointBody(c, form.querySelector('[name="joint-note"]').value, list);
        send(form, c, body, w('organised', body.parts.length));
      });
    }
    for (const b of root.querySelectorAll('[data-part-step]')) {
      b.addEventListener('click', () => {
        const li = b.closest('[data-part]');
        showError(li, null);
        const body = partBody(c, Number(b.dataset.partNo), b.dataset.partStep, li.querySelector('[name="part-note"]').value);
        send(li, c, body, w('done', word(JOINT, b.dataset.partStep, L)));
      });
    }
  }

  return { html, bind };
}
