// Joint handling (联动) without a page (unit-tested in test/joint.test.mjs):
// what the command map's form sends to organise it, where a refusal's
// field puts its words on that form, and the parts a grid worker works.
// The rules are the server's (casejoint.go): 2 to 10 parts, one per
// department, each with a task, optionally a grid at or below the holder's
// and a time limit; each part handled and reported back on its own, the
// last one reported back taking the case on to feedback.

/** MIN_PARTS and MAX_PARTS bound a round of joint handling (onemap.CaseMinParts, CaseMaxParts). */
export const MIN_PARTS = 2;
export const MAX_PARTS = 10;

/** JOINT names joint handling's steps and its parts' statuses. */
export const JOINT = {
  joint: { zh: '联动', en: 'Joint handling' },
  part_handle: { zh: '分工处置', en: 'Part: handle' },
  part_report: { zh: '分工反馈', en: 'Part: report back' },
  open: { zh: '待办', en: 'Open' },
  handling: { zh: '处置中', en: 'Handling' },
  reported: { zh: '已反馈', en: 'Reported back' },
};

/**
 * jointBody returns the body of the joint step on case c (its version):
 * the note, and one part per row in the rows' order ({department, task,
 * grid_id, due}: strings as the form has them; due a datetime-local value,
 * read in China time, chinaInstant), so that a refusal naming parts[i] names
 * row i. Empty rows are sent too: the server says what they lack.
 */
export function jointBody(c, note, rows) {
  const body = { action: 'joint', version: c.version };
  if (note?.trim()) body.note = note.trim();
  body.parts = rows.map((r) => {
    const p = { department: (r.department ?? '').trim(), task: (r.task ?? '').trim() };
    const g = String(r.grid_id ?? '').trim();
    if (g) p.grid_id = Number(g);
    const due = String(r.due ?? '').trim();
    if (due) p.due = chinaInstant(due);
    return p;
  });
  return body;
}

/**
 * CHINA_TIME is the zone the county works in: China Standard Time, UTC+8
 * all year (no daylight saving since 1991). Limits are typed and shown in
 * it whatever the browser's own zone (a laptop set to another, a
 * colleague abroad), as the server reads dates (onemap.ChinaTime).
 */
export const CHINA_TIME = 'Asia/Shanghai';

/**
 * chinaInstant returns the instant (ISO 8601, UTC) of a datetime-local
 * value ("2026-12-08T18:00", seconds optional) read as China time; a value
 * of another form is returned as it is, for the server to refuse by name.
 */
export function chinaInstant(local) {
  const v = String(local ?? '').trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(v)) return v;
  const t = new Date(`${v.length === 16 ? `${v}:00` : v}+08:00`);
  return Number.isNaN(t.getTime()) ? v : t.toISOString();
}

/**
 * formatChinaTime writes an instant as a date and a 24-hour time in China
 * time, in the locale given ("2026/12/8 18:00:00" in zh-CN); '' for none.
 */
export function formatChinaTime(at, locale) {
  if (!at) return '';
  const t = new Date(at);
  return Number.isNaN(t.getTime()) ? '' : t.toLocaleString(locale, { timeZone: CHINA_TIME, hour12: false });
}

/**
 * errorPlace says where a refusal's field goes on the joint form:
 * "parts[1].department" → {row: 1, name: 'department'}; "parts" → {row:
 * -1, name: 'parts'}; any other field (note, action, version) → {row: -1,
 * name: field}; none → {row: -1, name: ''}.
 */
export function errorPlace(field) {
  const m = /^parts\[(\d+)\]\.(\w+)$/.exec(field ?? '');
  if (m) return { row: Number(m[1]), name: m[2] };
  return { row: -1, name: field ?? '' };
}

/** partBody returns the body of a part step (part_handle, part_report) on part n of case c. */
export function partBody(c, n, action, note) {
  return { action, version: c.version, part: n, note: (note ?? '').trim() };
}

/**
 * workedParts returns the parts of the listed cases the caller may work
 * now (the server lists each part's steps for the caller), as [{kase,
 * part}], in the list's order.
 */
export function workedParts(cases) {
  const out = [];
  for (const k of cases ?? []) {
    for (const p of k.parts ?? []) if ((p.actions ?? []).length) out.push({ kase: k, part: p });
  }
  return out;
}
