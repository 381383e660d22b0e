// The form's field checks, the server's rules said again (validate.go), so
// that a planner sees what is wrong before a save is sent. Pure: the unit
// tests load this file under Node.

import { levelName, w } from './words.js';

// phoneOK is the server's rule for a phone field (validate.go phoneValue):
// one or more numbers apart by , ; 、 or /, each of 3 digits or more with
// + - ( ) and spaces, an extension after 转, 分机, ext or x; full-width
// characters count as their ASCII forms.
const PHONE = /^\s*\+?\(?[0-9][0-9 ()-]*(?:(?:转|分机|ext\.?|x)\s*[0-9]+)?\s*$/;
const phoneOK = (v) => v.normalize('NFKC').split(/[,;、/]/)
  .every((part) => PHONE.test(part) && (part.match(/[0-9]/g) ?? []).length >= 3);
const INT = (v) => (/^\d+$/.test(v) && Number(v) <= 2147483647 ? '' : w('checkInt'));

/** CHECKS are the form's field checks (value, level) → what is wrong, '' for a pass. */
export const CHECKS = {
  name: (v) => (!v ? w('checkName') : [...v].length > 100 ? w('checkNameLong', [...v].length) : ''),
  code: (v, level) => {
    const n = level === 'group' ? 15 : 12;
    return new RegExp(`^\\d{${n}}$`).test(v) ? '' : w('checkCode', levelName(level), n);
  },
  worker_phone: (v) => (phoneOK(v) ? '' : w('checkPhone')),
  households: INT,
  population: INT,
};
