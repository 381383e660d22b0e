// The grid editor and the auditor's page in English (the language chosen on
// the map, kept in localStorage "onemap.lang"): their fixed text and their
// messages come from i18n.js, not from Chinese written into the pages.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, openMap, WAIT_MS } from './browser.mjs';

const planner = { name: 'planner', password: 'onemap-demo' };
const CJK = /[\u4e00-\u9fff]/;

describe('English in the editor and the audit page', { timeout: 6 * WAIT_MS }, () => {
  let b;
  let page;
  before(async () => {
    b = await openMap({ reducedMotion: 'reduce', signIn: planner }, '/editor/');
    page = b.page;
    await page.evaluate(() => localStorage.setItem('onemap.lang', 'en'));
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: WAIT_MS });
    // The reload cut off the Chinese page's requests: not errors of the English one.
    b.errors.length = 0;
  });
  after(async () => {
    await page?.evaluate(() => localStorage.removeItem('onemap.lang')).catch(() => {});
    await b?.close();
  });

  it('the editor speaks English: its fixed text, list and messages', async () => {
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.title(), 'Grid editing · OneMap');
    assert.equal(await page.locator('h1').innerText(), 'Grid editing');
    assert.equal(await page.locator('#btn-new').innerText(), 'New grid');
    // The top grids named by their level (the demo's top is a county).
    assert.match(await page.locator('#list-title').innerText(), /^Top county grids \(\d+\)$/);
    assert.match(await page.locator('#status').innerText(), /^Pick a grid/);
    assert.match(await page.locator('#who-name').innerText(), /\(planner\)$/);
    // Down to a township: the list's title names its level in English.
    await page.locator('#grid-list li button:has-text("Below")').first().click();
    await page.waitForFunction(() => /township grids of /.test(document.getElementById('list-title').textContent));
    await page.locator('#grid-list li .ed-name').first().click();
    await page.waitForFunction(() => /selected, version \d+$/.test(document.getElementById('status').textContent));
    // Every word of the form is English; only the data (names) may be Chinese.
    const form = await page.locator('#grid-section').evaluate((el) => [...el.querySelectorAll('span[data-i18n], button, h2 ~ .ed-row button')]
      .map((x) => x.textContent).join(' | '));
    assert.doesNotMatch(form, CJK, form);
    await b.screenshot('editor-english');
    assert.deepEqual(b.foreign, []);
    assert.deepEqual(b.errors, []);
  });

  it('the audit page speaks English to a planner (no auditor): sign-in text and refusal', async () => {
    await page.goto(new URL('/audit/', BASE).href);
    await page.locator('#signin').waitFor({ state: 'visible' });
    assert.equal(await page.title(), 'Audit trail · OneMap');
    assert.equal(await page.locator('#signin h2').innerText(), 'Auditor sign-in');
    assert.match(await page.locator('#signin-error').innerText(), /not an auditor/);
    const signin = await page.locator('#signin').innerText();
    assert.doesNotMatch(signin, CJK, signin);
    assert.equal(await page.locator('#f-action option[value="grid.split"]').innerText(), 'grid split');
    await b.screenshot('audit-english');
  });
});
