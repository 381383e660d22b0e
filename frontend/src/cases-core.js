// The case work's logic that needs no page (unit-tested in test/cases.test.mjs):
// the operator's queues as list queries, the filters as a query string, the
// buttons a case's allowed actions give, what each action sends, the
// statistics as the wall's figures, and the live list of new and escalated
// cases. The lifecycle's rules are the server's (case.go): a case's card
// offers exactly the actions the server lists for the caller.

/** CASE_ROLES are the roles that see cases (the server's case rule). */
export const CASE_ROLES = ['viewer', 'grid_worker', 'operator', 'commander'];

/** CATEGORIES are the case categories of the county (migration 0011), code → name. */
export const CATEGORIES = {
  sanitation: { zh: '环境卫生', en: 'Sanitation' },
  dispute: { zh: '矛盾纠纷', en: 'Dispute' },
  public_order: { zh: '治安隐患', en: 'Public order' },
  safety: { zh: '安全隐患', en: 'Safety' },
  livelihood: { zh: '民生诉求', en: 'Livelihood' },
  other: { zh: '其他', en: 'Other' },
};

/** STATUSES are the case statuses, lifecycle order, code → name. */
export const STATUSES = {
  reported: { zh: '待受理', en: 'To accept' },
  accepted: { zh: '已受理', en: 'Accepted' },
  assigned: { zh: '已分拨', en: 'Assigned' },
  handling: { zh: '处置中', en: 'Handling' },
  feedback: { zh: '已反馈', en: 'Reported back' },
  closed: { zh: '办结', en: 'Closed' },
  refused: { zh: '不予受理', en: 'Refused' },
};

/** OPEN are the statuses work is still due on. */
export const OPEN = ['reported', 'accepted', 'assigned', 'handling', 'feedback'];

/** LEVELS are the holders' levels, lowest first, code → name. */
export const LEVELS = {
  group: { zh: '村民小组', en: 'Group' },
  village: { zh: '村（社区）', en: 'Village' },
  township: { zh: '乡镇', en: 'Township' },
  county: { zh: '县', en: 'County' },
};

/** ACTIONS are the steps of a case, in the order the card shows them, with what each needs. */
export const ACTIONS = {
  accept: { zh: '受理', en: 'Accept' },
  refuse: { zh: '不予受理', en: 'Refuse', reason: true },
  assign: { zh: '分拨', en: 'Assign', grid: true },
  handle: { zh: '处置', en: 'Handle', note: true },
  feedback: { zh: '反馈', en: 'Report back', note: true },
  check: { zh: '核查', en: 'Check', pass: true },
  reopen: { zh: '重新办理', en: 'Reopen', reason: true },
  escalate: { zh: '提级', en: 'Escalate', reason: true },
  hand_down: { zh: '下派', en: 'Hand down', grid: true },
};

/** word returns the name of code in a table, in lang (its code if unknown). */
export function word(table, code, lang = 'zh') {
  return table[code]?.[lang] ?? table[code]?.zh ?? code ?? '';
}

/** QUEUES are the operator's queues: new to accept, overdue, escalated to my level, all open. */
export const QUEUES = {
  new: { zh: '待受理', en: 'New' },
  overdue: { zh: '超时', en: 'Overdue' },
  escalated: { zh: '提级到本级', en: 'Escalated to me' },
  open: { zh: '全部在办', en: 'All open' },
};

/**
 * queueQuery returns the list query (GET /api/cases) of a queue under the
 * filters ({status, category, level, grid, from, to, overdue}); a filter
 * narrows the queue, never widens it. myLevel is the level of the caller's
 * grid (the level cases escalated to it are held at).
 */
export function queueQuery(queue, filters = {}, myLevel = '') {
  const q = { limit: 200 };
  let statuses = OPEN;
  if (queue === 'new') statuses = ['reported'];
  if (queue === 'escalated') statuses = ['accepted'];
  if (filters.status) statuses = statuses.includes(filters.status) || queue === 'all' ? [filters.status] : [];
  q.status = statuses.join(',');
  if (queue === 'overdue' || filters.overdue) q.overdue = 'true';
  if (queue === 'escalated' && myLevel) q.level = myLevel;
  if (filters.level) q.level = filters.level;
  for (const k of ['category', 'grid', 'from', 'to']) if (filters[k]) q[k] = filters[k];
  return q;
}

/** inQueue reports whether a listed case belongs to the queue (the list query cannot say "escalated"). */
export function inQueue(queue, c) {
  if (queue === 'escalated') return c.escalations > 0 && c.status === 'accepted';
  return true;
}

/** queryString returns a query object as a URL query (empty values left out). */
export function queryString(q) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '' && k !== 'limit') p.set(k, String(v));
  return p.toString();
}

/** actionBody returns the body of POST /api/cases/{id}/actions: the step, its inputs and the version it is based on. */
export function actionBody(action, c, input = {}) {
  const body = { action, version: c.version };
  const spec = ACTIONS[action] ?? {};
  const note = (input.note ?? '').trim();
  if (note) body.note = note;
  if (input.public && note) body.public = true;
  if (spec.grid) {
    const g = Number(input.grid_id ?? defaultGrid(action, c));
    if (Number.isInteger(g) && g > 0) body.grid_id = g;
  }
  if (action === 'assign') {
    if (input.assignee?.trim()) body.assignee = input.assignee.trim();
    if (input.department?.trim()) body.department = input.department.trim();
  }
  if (spec.pass) body.pass = input.pass !== false;
  return body;
}

/** missing says what an action still needs before it can be sent ('' when nothing). */
export function missing(action, body) {
  const spec = ACTIONS[action] ?? {};
  if ((spec.reason || spec.note) && !body.note) return 'note';
  if (spec.grid && !body.grid_id) return 'grid_id';
  return '';
}

/**
 * defaultGrid is the grid an assignment goes to unless the operator picks
 * another: the deepest grid holding the place (the case's grid_id), the
 * server having found it when the case was reported.
 */
export function defaultGrid(action, c) {
  if (action === 'assign') return c.grid_id || c.holder_grid_id || '';
  if (action === 'hand_down') return c.grid_id && c.grid_id !== c.holder_grid_id ? c.grid_id : '';
  return '';
}

/** conflictMessage is what the card says when another operator stepped first (HTTP 409). */
export function conflictMessage(err, lang = 'zh') {
  const v = err?.body?.current_version ?? null;
  return lang === 'en'
    ? `Someone else changed this case first${v ? ` (now version ${v})` : ''}: it has been reloaded; look again and decide.`
    : `此事件已被他人先一步更新${v ? `（当前版本 ${v}）` : ''}，已重新载入，请核对后再操作。`;
}

/** percent formats a rate (0..1, or null) as a percentage. */
export function percent(r) {
  return r === null || r === undefined || !Number.isFinite(r) ? '—' : `${(r * 100).toFixed(1)}%`;
}

/** wallFigures returns the wall's case figures of a period from a /api/cases/stats answer's total. */
export function wallFigures(total) {
  const t = total ?? {};
  return {
    reported: t.reported ?? 0, accepted: t.accepted ?? 0, closed: t.closed ?? 0,
    closureRate: t.closure_rate ?? null, overdue: t.overdue ?? 0, escalated: t.escalated ?? 0,
    settlementRate: t.settlement_rate ?? null,
  };
}

/** chinaDay returns the date (YYYY-MM-DD) in China time of an instant. */
export function chinaDay(at = new Date()) {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/**
 * liveItems adds a batch of case events to the wall's live list (newest
 * first, at most max): a case reported, and a case escalated (its
 * escalations grew); other steps leave the list alone. seen maps a case's
 * id to the escalations last seen.
 */
export function liveItems(list, changes, seen, max = 12) {
  const out = [...list];
  for (const c of changes) {
    if (c.layer !== 'cases' || !c.properties) continue;
    const p = c.properties;
    const before = seen.get(c.id);
    seen.set(c.id, p.escalations ?? 0);
    // Escalating leaves a case accepted by the new holder with one more
    // escalation; a case not seen before counts when it is in that state.
    const n = p.escalations ?? 0;
    let kind = '';
    if (c.op === 'insert') kind = 'new';
    else if (c.op === 'update' && p.status === 'accepted' && n > 0 && (before === undefined || n > before)) kind = 'escalated';
    if (!kind) continue;
    out.unshift({ kind, id: c.id, code: p.tracking_code, category: p.category, level: p.level, at: p.updated_at ?? p.created_at });
  }
  return out.slice(0, max);
}
