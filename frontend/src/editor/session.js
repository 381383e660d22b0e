// Who is signed in to the editor: the name and role with a button to sign
// in or out; a notice with a sign-in form for a role that may not edit (and
// nothing else for one that may not read grids); signing in again when the
// session ended during an edit, keeping the edit.

import { fetchSession, signIn, signOut } from '../http.js';
import { roleName } from '../i18n.js';
import { $, EDIT_ROLES, state, status } from './state.js';
import { confirmLeave, isDirty } from './form.js';
import { errorText, w } from './words.js';

/** onBeforeUnload asks the browser to warn before unsaved edits are lost. */
export function onBeforeUnload(ev) {
  if (!isDirty()) return;
  ev.preventDefault();
  ev.returnValue = '';
}

/**
 * showSession says who is signed in, with a button to sign in or out; a
 * role that may not edit gets a notice with a sign-in form, and one that
 * may not read grids gets nothing else.
 */
export function showSession(s, canRead) {
  const who = $('who');
  if (!s) return; // a server without sessions: it decides at each request
  who.hidden = false;
  const name = document.createElement('span');
  name.id = 'who-name';
  name.textContent = s.name ? w('who', s.display_name || s.name, roleName(s.role)) : w('notSignedIn', roleName(s.role));
  const b = document.createElement('button');
  b.type = 'button';
  b.id = s.name ? 'btn-sign-out' : 'btn-show-sign-in';
  b.textContent = s.name ? w('signOut') : w('signIn');
  b.addEventListener('click', async () => {
    if (!s.name) {
      $('role-notice').hidden = false;
      $('sign-in-form').elements.name.focus();
      return;
    }
    if (!confirmLeave()) return;
    await signOut().catch(() => {});
    window.removeEventListener('beforeunload', onBeforeUnload);
    location.reload();
  });
  who.append(name, b);
  if (state.canEdit) return;
  const as = s.name ? w('signedInAs', s.display_name || s.name, roleName(s.role)) : w('visitingAs', roleName(s.role));
  $('role-title').textContent = canRead ? w('readOnly') : w('noAccess');
  $('role-text').textContent = w('roleText', as, canRead ? w('mayRead') : w('mayNotRead'));
  $('role-notice').hidden = false;
  document.body.dataset.access = canRead ? 'read' : 'none';
  if (!canRead) {
    $('list-section').hidden = true;
    $('map-notice').hidden = false;
    $('map-notice').textContent = w('roleNoMap', roleName(s.role));
  }
}

/**
 * sessionEnded answers a refusal of an editor who could edit: when the
 * session has ended meanwhile (401, or a 403 because the request came
 * without it: signed out in another tab), it asks to sign in again; else
 * the refusal stands.
 */
export async function sessionEnded(e) {
  const s = e.status === 401 ? null : await fetchSession().catch(() => null);
  if (s?.name && EDIT_ROLES.has(s.role)) {
    status(w('saveFailed', errorText(e, state.role)), true, e.message);
    return;
  }
  askSignIn();
  status(w('sessionExpired'), true, e.message);
}

// askSignIn shows the sign-in form when the session has ended (signed out
// in another tab, expired): the edit stays in the form, to be saved once
// signed in again.
function askSignIn() {
  $('role-title').textContent = w('expiredTitle');
  $('role-text').textContent = w('expiredText');
  $('role-notice').hidden = false;
  $('sign-in-form').elements.name.focus();
}

/** submitSignIn signs in from the notice's form. */
export async function submitSignIn(ev) {
  ev.preventDefault();
  const f = $('sign-in-form');
  const name = f.elements.name.value.trim();
  const password = f.elements.password.value;
  if (!name || !password) {
    $('sign-in-error').textContent = w('nameAndPassword');
    return;
  }
  try {
    await signIn(name, password);
  } catch (e) {
    const why = { 401: w('badPassword'), 429: w('tooManyTries') }[e.status] ?? errorText(e, state.role);
    $('sign-in-error').textContent = w('signInFailed', why);
    $('sign-in-error').title = e.message;
    return;
  }
  // Signed in again with a role that edits: the page stays as it is, with
  // the edit in the form; otherwise it starts over for the new role.
  const s = await fetchSession().catch(() => null);
  if (state.canEdit && EDIT_ROLES.has(s?.role)) {
    state.role = s.role;
    $('role-notice').hidden = true;
    f.elements.password.value = '';
    $('who-name').textContent = w('who', s.display_name || s.name, roleName(s.role));
    status(isDirty() ? w('signedInAgainDirty') : w('signedInAgain'));
    return;
  }
  location.reload();
}
