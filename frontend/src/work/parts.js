// The parts of joint handling (联动) on the grid worker's phone: the parts
// worked in the worker's grid are among its tasks (the list carries each
// case's parts with the steps the worker may take on them), and a part is
// handled or reported back through the outbox like every other write.
//
// A part step is taken on the case's version, and the case moves on with
// every step of every part: another department reporting its part while
// the phone was offline, or the worker's own handling sent just before its
// report, leaves the step a version behind (409, field "version"). Such a
// step is sent again on the case's version now (sendRebasing): what it
// says is the part's own, and the server still checks everything else (a
// part reported back already, a case no longer in handling), refusing with
// its words, which the outbox keeps for the worker to read. The other steps
// of a case are not: they depend on the case as the worker saw it.

import { HttpError } from '../http.js';

/** PART_ACTION names the part steps as the grid worker reads them. */
export const PART_ACTION = { part_handle: '分工处置', part_report: '分工反馈' };

/** PART_STATUS names the parts' statuses. */
export const PART_STATUS = { open: '待办', handling: '处置中', reported: '已反馈' };

/** REBASES is how often a part step is sent again on a newer version before the outbox is told. */
export const REBASES = 3;

/**
 * partItem returns the outbox item of a part step (action on part n of
 * case k, with the worker's note), based on the version the phone has.
 */
export function partItem(k, n, action, note) {
  const p = (k.parts ?? []).find((x) => x.part === n);
  return {
    kind: 'part', label: `${PART_ACTION[action] ?? action}：${p?.department ?? `分工 ${n}`}（案件 ${k.id}）`,
    path: `/api/cases/${k.id}/actions`,
    body: { action, version: k.version, part: n, note: note.trim() },
  };
}

/**
 * sendRebasing sends an outbox item with request(method, path, {body,
 * headers}) and, for a part step (POST /api/cases/{id}/actions with
 * part_handle or part_report) refused for its version (409, field
 * "version"), reads the case (getJSON) and sends it again on the case's
 * version now, under the same Idempotency-Key (a refused try wrote nothing
 * under it), up to REBASES times. It resolves to the answer, or throws
 * what the last try got.
 */
export async function sendRebasing(item, { request, getJSON }) {
  const headers = { 'Idempotency-Key': item.key };
  const caseId = /^\/api\/cases\/(\d+)\/actions$/.exec(item.path)?.[1];
  const rebase = Boolean(caseId) && Object.hasOwn(PART_ACTION, item.body?.action);
  let body = item.body;
  for (let i = 0; ; i++) {
    try {
      return await request(item.method ?? 'POST', item.path, { body, headers });
    } catch (err) {
      if (!rebase || i >= REBASES || !(err instanceof HttpError) || err.status !== 409 || err.field !== 'version') throw err;
      const k = await getJSON(`/api/cases/${caseId}`);
      body = { ...body, version: k.version };
    }
  }
}
