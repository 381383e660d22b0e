// How a task's time limit reads on the grid worker's phone: a countdown to
// the case's next deadline (due.next), measured from the server's clock
// (the list's "now"), and the flag the server set (overdue, due_soon).

/** countdown says how long until due (ms from now; negative: past), in words: "剩 3 天 4 小时", "剩 25 分钟", "超时 2 小时". */
export function countdown(ms) {
  const past = ms < 0;
  let m = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  let text;
  if (d > 0) text = `${d} 天${h ? ` ${h} 小时` : ''}`;
  else if (h > 0) text = `${h} 小时${m ? ` ${m} 分钟` : ''}`;
  else text = `${m} 分钟`;
  return `${past ? '超时' : '剩'} ${text}`;
}

/**
 * dueOf returns how a case's limit reads at the server's time now (ISO
 * strings or Dates): { text, cls } with cls 'w-overdue', 'w-soon' or
 * 'w-ok'; null for a case with no deadline (closed).
 */
export function dueOf(kase, now) {
  const next = kase?.due?.next;
  if (!next) return null;
  const ms = new Date(next) - new Date(now);
  const cls = kase.overdue ? 'w-overdue' : kase.due_soon ? 'w-soon' : 'w-ok';
  return { text: kase.overdue && ms >= 0 ? `超时 · ${countdown(ms)}` : countdown(ms), cls };
}

/** STATUS names the case statuses as the grid worker reads them. */
export const STATUS = {
  reported: '待受理', refused: '不予受理', accepted: '已受理', assigned: '待处置',
  handling: '处置中', feedback: '已反馈', closed: '已办结',
};

/** ACTION names the steps of a timeline. */
export const ACTION = {
  report: '上报', accept: '受理', refuse: '不予受理', assign: '分拨', handle: '处置', feedback: '反馈',
  check: '核查', reopen: '重新办理', escalate: '提级', hand_down: '下派',
  joint: '联动', part_handle: '分工处置', part_report: '分工反馈',
};

/** CATEGORIES are the categories a case is filed under (migration 0011's case_categories). */
export const CATEGORIES = [
  ['sanitation', '环境卫生'], ['dispute', '矛盾纠纷'], ['public_order', '治安隐患'],
  ['safety', '安全隐患'], ['livelihood', '民生诉求'], ['other', '其他'],
];

/** isTask says whether a case is the worker's to do: open and assigned to its grid. */
export function isTask(kase, grid) {
  return Boolean(grid) && kase.assigned_grid_id === grid && !['refused', 'closed'].includes(kase.status);
}
