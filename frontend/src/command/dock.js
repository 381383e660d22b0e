// The command map's dock: the side panels (周边, a grid's statistics, the
// cases, the alarms, who is affected, …: every aside.om-side of the page)
// share one place on the right (below the toolbar; at the bottom on a
// phone), one open at a time, each with its header and close button, as
// Operations Dashboard and 高德 show one side panel at a time. Opening one
// closes the one that was open, through that panel's own close (so its
// toolbar button, its drawing on the map and its focus are put back), and
// the layer column and the map's controls keep clear of the open panel
// (app.css).

/**
 * createDock returns the dock of the page's side panels: {add(el, close),
 * watch(), open(), closeOpen(), onOpen(fn), right}. add registers a panel
 * with its close function (default: a click on its .om-close button);
 * watch registers every aside.om-side not yet registered (panels made later
 * by their controllers), with the default close. When a registered panel's
 * hidden attribute goes away, every other open one is closed. open()
 * returns the open panel, or null; closeOpen() closes it (Escape).
 * onOpen(fn) calls fn(el) after a panel el opened (laid out: the camera
 * keeps clear of it, camera.js refit).
 * right stands for the open panel in camera.js panelPadding ({hidden,
 * offsetWidth, getBoundingClientRect()}).
 */
export function createDock(doc = document) {
  const panels = new Map(); // element → close function
  const opened = []; // onOpen's functions

  function closeOthers(shown) {
    for (const [el, close] of panels) {
      if (el !== shown && !el.hidden) close();
    }
    doc.body.dataset.dock = shown.id || 'open';
    // The map's controls move out from under it (app.css): its width.
    doc.body.style.setProperty('--om-dock-width', `${shown.offsetWidth}px`);
  }

  const observer = new MutationObserver((records) => {
    let shown = null;
    for (const r of records) {
      if (!r.target.hidden) {
        closeOthers(r.target);
        shown = r.target;
      }
    }
    if ([...panels.keys()].every((el) => el.hidden)) delete doc.body.dataset.dock;
    if (shown && !shown.hidden) for (const fn of opened) fn(shown);
  });

  function add(el, close = () => el.querySelector('.om-close')?.click()) {
    if (!el || panels.has(el)) return;
    panels.set(el, close);
    observer.observe(el, { attributes: true, attributeFilter: ['hidden'] });
    if (!el.hidden) closeOthers(el);
  }

  function watch() {
    for (const el of doc.querySelectorAll('aside.om-side')) add(el);
  }

  const open = () => [...panels.keys()].find((el) => !el.hidden) ?? null;

  // closeOpen closes the open panel through its own close; the focus, if
  // it was in the panel, goes to the button that opens it.
  function closeOpen() {
    const el = open();
    if (!el) return;
    const hadFocus = el.contains(doc.activeElement);
    panels.get(el)();
    if (hadFocus && (el.contains(doc.activeElement) || doc.activeElement === doc.body)) doc.querySelector(`[aria-controls="${el.id}"]`)?.focus();
  }

  const right = {
    get hidden() { return !open(); },
    get offsetWidth() { return open()?.offsetWidth ?? 0; },
    getBoundingClientRect() { return open()?.getBoundingClientRect() ?? null; },
  };

  return { add, watch, open, closeOpen, onOpen: (fn) => opened.push(fn), right };
}
