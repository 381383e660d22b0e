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
 * read in the browser's time zone), so that a refusal naming parts[i] names
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
    if (due) {
      const t = new Date(due);
      p.due = Number.isNaN(t.getTime()) ? due : t.toISOString();
    }
    return p;
  });
  return body;
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
