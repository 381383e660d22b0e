// The command map's keyboard: "/" goes to the search box, Enter ends a
// measurement, Escape closes what was opened last.

import { OVERLAYS } from '../overlay.js';

/** watchKeys wires the keys. It uses page.search, page.tools, page.around, page.card and page.overlay. */
export function watchKeys(page) {
  const { measure, measureButtons } = page.tools;
  document.addEventListener('keydown', (e) => {
    const target = e.target;
    const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || target?.isContentEditable;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      page.search.focus();
    } else if (e.key === 'Enter' && measure.active() && !typing && !target?.closest?.('#measure-hint')) {
      // Enter ends the measurement, wherever the focus is (but on the
      // hint's own buttons, which do what they say).
      e.preventDefault();
      measure.finish();
    } else if (e.key === 'Escape') {
      const around = page.around;
      const side = document.getElementById('around');
      if (document.querySelector('dialog[open]')) {
        return; // the dialog closes itself
      } else if (page.tools.linkOpen()) {
        page.tools.closeLink();
      } else if (measure.mode()) {
        const m = measure.mode();
        measure.cancel();
        measureButtons[m]?.focus();
      } else if (around.picking()) {
        around.setPicking(false);
        around.focusButton();
      } else if (around.isOpen() && side.contains(document.activeElement)) {
        around.close();
      } else if (page.card.isOpen()) {
        page.card.close();
        page.overlay(OVERLAYS.pick);
      } else if (around.isOpen()) {
        around.close();
      } else {
        page.overlay(OVERLAYS.pick);
      }
    }
  });
}
