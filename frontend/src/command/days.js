// Day fields (the cases panel's period): a browser's own date input writes
// its placeholder and its days in the browser's language and order
// (mm/dd/yyyy in an English browser), whatever the page's. These are text
// fields that read a day as the page writes it (年-月-日: 2026-12-07; also
// 2026/12/7, 2026.12.7, 2026年12月7日 or 20261207), each with a button
// that opens the browser's calendar (a date input kept out of sight) and
// writes the day picked into the field.

/**
 * parseDay reads a day written into a day field: '' (nothing written) for
 * an empty field, the day as YYYY-MM-DD, or null for text that is not a day
 * of the calendar.
 */
export function parseDay(text) {
  const s = String(text ?? '').trim();
  if (!s) return '';
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(s) ?? /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = m.slice(1).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const escapeAttr = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * dayFieldHTML returns a day field named name: its label, the text field
 * (placeholder hint, such as 年-月-日), the calendar button (titled pick)
 * and the hidden date input it opens.
 */
export function dayFieldHTML(name, label, hint, pick) {
  return `<span class="om-day"><label>${escapeAttr(label)} <input name="${escapeAttr(name)}" type="text" inputmode="numeric" ` +
    `autocomplete="off" maxlength="11" placeholder="${escapeAttr(hint)}"></label>` +
    `<button type="button" class="om-day-pick" data-day="${escapeAttr(name)}" title="${escapeAttr(pick)}" aria-label="${escapeAttr(`${label} ${pick}`)}">` +
    '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><rect x="1.5" y="3" width="13" height="11.5" rx="1.5" ' +
    'fill="none" stroke="currentColor" stroke-width="1.4"/><path d="M1.5 6.5h13M5 1.5v3M11 1.5v3" stroke="currentColor" stroke-width="1.4"/></svg>' +
    '</button><input class="om-day-native" type="date" tabindex="-1" aria-hidden="true"></span>';
}

/**
 * wireDays makes the calendar buttons of the day fields in form work: a
 * button opens the browser's calendar at the field's day, and the day
 * picked is written into the field as YYYY-MM-DD (the form then sees the
 * change, as when it is typed).
 */
export function wireDays(form) {
  for (const button of form.querySelectorAll('.om-day-pick')) {
    const box = button.closest('.om-day');
    const text = box.querySelector('input[type="text"]');
    const native = box.querySelector('.om-day-native');
    native.addEventListener('change', () => {
      text.value = native.value;
      text.removeAttribute('aria-invalid');
    });
    button.addEventListener('click', () => {
      native.value = parseDay(text.value) || '';
      try {
        native.showPicker();
      } catch {
        native.focus(); // a browser without showPicker: its own field takes the keys
      }
    });
  }
}
