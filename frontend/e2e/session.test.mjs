// Signing in and out through the map's header in headless Chromium: the
// e2e server serves callers who have not signed in as commanders and has
// the demo accounts (scripts/e2e.sh). A wrong password is refused in the
// dialog; the demo viewer (bound to 狮山镇) then sees no cameras layer and
// only its township's grids; signing out brings the anonymous role back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openMap, WAIT_MS } from './browser.mjs';

test('sign in as the viewer through the header, and out again', { timeout: 6 * WAIT_MS }, async () => {
  const b = await openMap();
  const { page } = b;
  try {
    assert.equal(await page.locator('#layer-toggle-cameras').count(), 1, 'the anonymous commander sees cameras');
    await page.click('#sign-in');
    await page.fill('#sign-in-dialog input[name="name"]', 'viewer');
    await page.fill('#sign-in-dialog input[name="password"]', 'not-the-password');
    await page.click('#sign-in-dialog button[value="ok"]');
    await page.waitForFunction(() => document.querySelector('#sign-in-dialog .om-dialog-error').textContent !== '');
    assert.match(await page.textContent('#sign-in-dialog .om-dialog-error'), /wrong name or password|用户名或密码|密码/);

    await page.fill('#sign-in-dialog input[name="password"]', 'onemap-demo');
    // Enter in the password signs in (it used to press the first button, 取消).
    await Promise.all([page.waitForEvent('load'), page.press('#sign-in-dialog input[name="password"]', 'Enter')]);
    await page.waitForFunction(() => window.onemap?.map?.loaded());
    await b.waitIdle();
    await page.locator('#session-role').waitFor();
    assert.match(await page.textContent('#session-role'), /viewer/);
    assert.equal(await page.locator('#layer-toggle-cameras').count(), 0, 'the viewer sees no cameras layer');
    assert.equal(await page.locator('#role-page').count(), 0, 'a viewer has no page of its own to go to');
    const layers = await page.evaluate(async () => (await (await fetch('/api/layers')).json()).layers);
    const grids = layers.find((l) => l.id === 'grids');
    assert.ok(grids && grids.count > 1 && grids.count < 1728, `the viewer's grids: ${grids?.count} (its township and below)`);
    await b.screenshot('signed-in-viewer');

    await Promise.all([page.waitForEvent('load'), page.click('#sign-out')]);
    await page.locator('#sign-in').waitFor();
    await page.waitForFunction(() => window.onemap?.map?.loaded());
    assert.equal(await page.locator('#layer-toggle-cameras').count(), 1, 'after sign-out the anonymous commander again');

    // The 401 of the refused sign-in is the browser's own console line, and
    // a reload aborts the page's requests in flight.
    const errors = b.errors.filter((e) => !/status of 401/.test(e) && !/net::ERR_ABORTED/.test(e));
    assert.deepEqual(errors, [], 'errors on the page');
    assert.deepEqual(b.foreign, [], 'requests left the machine');
  } finally {
    await b.close();
  }
});

test('a planner and an auditor find their pages from the map', { timeout: 6 * WAIT_MS }, async () => {
  for (const [name, href, ready] of [
    ['planner', '/editor/', () => document.body.dataset.state === 'ready'],
    ['auditor', '/audit/', () => !document.getElementById('trail').hidden],
  ]) {
    const b = await openMap({ signIn: { name, password: 'onemap-demo' } });
    try {
      const { page } = b;
      await page.locator('#role-page').waitFor();
      assert.equal(await page.getAttribute('#role-page', 'href'), href);
      await Promise.all([page.waitForURL(`**${href}`), page.click('#role-page')]);
      await page.waitForFunction(ready);
      const errors = b.errors.filter((e) => !/net::ERR_ABORTED/.test(e));
      assert.deepEqual(errors, [], `errors on the way to ${href}`);
      assert.deepEqual(b.foreign, [], 'requests left the machine');
    } finally {
      await b.close();
    }
  }
});
