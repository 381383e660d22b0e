// A household's personal details (GET /api/households/{id}/details), read
// from its card by the roles that may see them. Each read gives a purpose
// from the server's list (GET /api/purposes) and enters the audit trail;
// the server limits how many an account reads, and a refusal says when to
// come back.

import { escapeHtml } from './format.js';
import { dictionary, lang } from './i18n.js';
import * as api from './api.js';

const WORDS = {
  zh: {
    title: '户详情（个人信息）', ask: '查看详情（需填写用途）', purpose: '查阅目的', read: '查看', reading: '读取中…',
    note: '查阅将记入审计日志。', head: '户主', phone: '电话', members: '人数', address: '地址', notes: '备注',
    failed: '读取失败：{0}', later: '查阅过于频繁：请 {0} 后再试。', minutes: '{0} 分钟', seconds: '{0} 秒',
  },
  en: {
    title: 'Household details (personal)', ask: 'Read the details (a purpose is required)', purpose: 'Purpose', read: 'Read', reading: 'Reading…',
    note: 'The read is recorded in the audit trail.', head: 'Head', phone: 'Phone', members: 'Members', address: 'Address', notes: 'Notes',
    failed: 'Could not read: {0}', later: 'Too many reads: try again in {0}.', minutes: '{0} min', seconds: '{0} s',
  },
};

const w = dictionary(WORDS);

/**
 * mayReadDetails reports whether the layers answer lets the caller read
 * households' details: the households layer shows its responsible person
 * unmasked, which is the server's own test.
 */
export function mayReadDetails(layers) {
  const households = layers?.find?.((l) => l.id === 'households');
  const f = households?.fields?.find((x) => x.name === 'responsible_name');
  return Boolean(f && !f.masked);
}

/** fetchPurposes returns the server's purposes [{code, title, title_en}], or [] when it gives none. */
export async function fetchPurposes() {
  try {
    return (await api.fetchPurposes())?.purposes ?? [];
  } catch {
    return [];
  }
}

/** waitText says a Retry-After of seconds in words. */
export function waitText(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  return s >= 90 ? w('minutes', Math.ceil(s / 60)) : w('seconds', s);
}

/**
 * readDetails reads household id's details for purpose (a code). It returns
 * {details} or {error} (a sentence to show), never throws.
 */
export async function readDetails(id, purpose) {
  try {
    return { details: await api.householdDetails(id, purpose) };
  } catch (err) {
    if (err.status === 429) return { error: w('later', waitText(err.retryAfter)) };
    return { error: w('failed', err.message) };
  }
}

/**
 * detailsHTML renders the details section of a household's card: a button
 * that offers to read them (查看详情（需填写用途）), then the form (a purpose
 * to pick and a button) until details are read, then the details; state is
 * {asking, loading, details, error, purpose}: asking once the offer was
 * taken.
 */
export function detailsHTML(purposes, state = {}) {
  if (!purposes?.length) return '';
  const head = `<h4>${escapeHtml(w('title'))}</h4>`;
  if (state.details) {
    const d = state.details;
    const rows = [['head', d.head_name], ['phone', d.head_phone], ['members', d.members || ''], ['address', d.address], ['notes', d.notes]]
      .filter(([, v]) => v !== '' && v !== null && v !== undefined)
      .map(([k, v]) => `<tr data-field="${k}"><th>${escapeHtml(w(k))}</th><td>${escapeHtml(v)}</td></tr>`).join('');
    return `<section class="om-details" data-state="shown">${head}<table><tbody>${rows}</tbody></table></section>`;
  }
  if (!state.asking && !state.loading && !state.error && !state.purpose) {
    return `<section class="om-details" data-state="offer"><button type="button" data-action="ask-details">${escapeHtml(w('ask'))}</button></section>`;
  }
  const options = purposes.map((p) => `<option value="${escapeHtml(p.code)}"${p.code === state.purpose ? ' selected' : ''}>` +
    `${escapeHtml(lang === 'en' ? p.title_en || p.title : p.title)}</option>`).join('');
  const error = state.error ? `<p class="om-details-error" role="alert">${escapeHtml(state.error)}</p>` : '';
  return `<section class="om-details" data-state="${state.loading ? 'loading' : 'form'}">${head}` +
    `<label>${escapeHtml(w('purpose'))} <select name="purpose">${options}</select></label> ` +
    `<button type="button" data-action="details"${state.loading ? ' disabled aria-busy="true"' : ''}>` +
    `${escapeHtml(state.loading ? w('reading') : w('read'))}</button>` +
    `<p class="om-muted">${escapeHtml(w('note'))}</p>${error}</section>`;
}
