// The command map's keyboard: "/" goes to the search box, Enter ends a
// measurement, Escape undoes one thing, the innermost open first.

import { OVERLAYS } from '../overlay.js';

/**
 * ESCAPES are what Escape undoes, the innermost first, one a press (as
 * Google Maps, ArcGIS's sketch tools and QGIS's map tools do: Escape ends
 * the tool in hand before it touches a panel, and closes the popup before
 * the panel it came from): each is [name, open(page), undo(page, target)].
 * A tool in hand (a link box, a measurement being drawn, the centre of 周边
 * being picked, an area being drawn for 受影响, the place of a case being
 * entered from the cases panel: it stays open), then the card on the map
 * (often opened from the panel's list), then a measurement left on the map,
 * then the side panel (周边, a grid's statistics, cases, alarms, 受影响:
 * the dock holds one), last the picked place's mark. (Before, a finished
 * measurement went before the card, a card opened from 周边's list stayed
 * while 周边 closed, and the panels other than 周边 and an area being drawn
 * were not reached; the wait for a case's place was not left at all, and
 * the cases panel closed under it. An empty search box takes its own
 * Escape, search.js: the focus leaves it and nothing else is undone.)
 */
export const ESCAPES = [
  ['link', (page) => page.tools.linkOpen(), (page) => page.tools.closeLink()],
  ['measuring', (page) => page.tools.measure.active(), (page) => endMeasure(page)],
  ['picking', (page) => page.around.picking(), (page) => {
    page.around.setPicking(false);
    page.around.focusButton();
  }],
  ['drawing', (page) => !!page.affected?.drawing(), (page) => page.affected.stopDrawing()],
  ['placing', (page) => !!page.cases?.placing(), (page) => page.cases.stopPlacing()],
  ['card', (page) => page.card.isOpen(), (page) => {
    page.card.close();
    page.overlay(OVERLAYS.pick);
  }],
  ['measured', (page) => !!page.tools.measure.mode(), (page) => endMeasure(page)],
  ['panel', (page) => !!page.dock?.open(), (page) => page.dock.closeOpen()],
  ['mark', () => true, (page) => page.overlay(OVERLAYS.pick)],
];

// endMeasure clears the measurement and gives the focus to its button.
function endMeasure(page) {
  const { measure, measureButtons } = page.tools;
  const m = measure.mode();
  measure.cancel();
  measureButtons[m]?.focus();
}

/**
 * escape undoes the innermost open thing (ESCAPES) and returns its name.
 */
export function escape(page) {
  const [name, , undo] = ESCAPES.find(([, open]) => open(page));
  undo(page);
  return name;
}

/** watchKeys wires the keys. It uses page.search, page.tools, page.around, page.affected, page.cases, page.card, page.dock and page.overlay. */
export function watchKeys(page) {
  const { measure } = page.tools;
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
      if (document.querySelector('dialog[open]')) return; // the dialog closes itself
      escape(page);
    }
  });
}
