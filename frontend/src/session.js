// Signing in and out (POST, GET and DELETE /api/session). The header shows
// the caller's role and a button; after either the page reloads, so the
// role's layers and style are the ones drawn. A server without accounts
// (GET /api/session not found) shows only the role it gives everyone. The
// requests are http.js's.

import { roleName, t } from './i18n.js';
import { fetchSession, signIn, signOut } from './http.js';

/**
 * setupSession fills el (the header's session area) and dialog (a <dialog>
 * with a form of name and password). onError(text) reports a failure.
 */
export async function setupSession(el, dialog, { onError = () => {}, reload = () => location.reload() } = {}) {
  let session;
  try {
    session = await fetchSession();
  } catch {
    session = null;
  }
  if (!session) {
    el.hidden = true;
    return null;
  }
  const signedIn = Boolean(session.name);
  el.hidden = false;
  el.innerHTML = '';
  const who = document.createElement('span');
  who.className = 'om-role';
  who.id = 'session-role';
  who.textContent = signedIn ? `${session.name} · ${roleName(session.role)}` : t('role', roleName(session.role));
  const button = document.createElement('button');
  button.type = 'button';
  button.id = signedIn ? 'sign-out' : 'sign-in';
  button.textContent = signedIn ? t('signOut') : t('signIn');
  el.append(who);
  // The pages of the roles that work elsewhere: planners edit grids,
  // auditors read the audit trail.
  const page = { planner: ['/editor/', 'editorLink'], admin: ['/editor/', 'editorLink'], auditor: ['/audit/', 'auditLink'] }[session.role];
  if (page) {
    const link = document.createElement('a');
    link.id = 'role-page';
    link.href = page[0];
    link.textContent = t(page[1]);
    el.append(link);
  }
  el.append(button);

  button.addEventListener('click', async () => {
    if (!signedIn) {
      dialog.querySelector('.om-dialog-error').textContent = '';
      dialog.showModal();
      dialog.querySelector('input[name="name"]').focus();
      return;
    }
    try {
      await signOut();
    } catch (err) {
      onError(err.message);
      return;
    }
    reload();
  });
  const form = dialog.querySelector('form');
  // 取消 is a plain button: Enter in a field submits with 登录, the form's
  // only submit button.
  form.querySelector('button[value="cancel"]').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      await signIn(data.get('name'), data.get('password'));
    } catch (err) {
      dialog.querySelector('.om-dialog-error').textContent = t('signInFailed', err.message);
      return;
    }
    dialog.close();
    reload();
  });
  return session;
}
