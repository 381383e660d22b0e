// CSV for download (RFC 4180): comma-separated, CRLF line ends, fields
// quoted when they need it, and a UTF-8 byte order mark so that Excel reads
// the Chinese text as UTF-8.

/** BOM is the UTF-8 byte order mark (U+FEFF); Excel needs it to read UTF-8. */
export const BOM = '\uFEFF';

// A text field starting with one of these would be read as a formula by a
// spreadsheet (CSV injection); it is prefixed with an apostrophe.
const FORMULA = /^[=+\-@\t\r]/;

/**
 * csvField returns one field as CSV text: null and undefined are empty,
 * numbers are written as they are, text that a spreadsheet would take for a
 * formula gets a leading apostrophe, and a field with a comma, quote or line
 * break is quoted with its quotes doubled.
 */
export function csvField(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** toCSV returns header and rows (arrays of values) as CSV text starting with BOM. */
export function toCSV(header, rows) {
  return BOM + [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/**
 * parseCSV reads CSV text (as toCSV writes it; a leading BOM is dropped)
 * into rows of strings. Used by the tests to read a download back.
 */
export function parseCSV(text) {
  if (text.startsWith(BOM)) text = text.slice(1);
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}
