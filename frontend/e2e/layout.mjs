// Layout checks of the browser tests, read in the page: what breaks a
// layout (layout) and whether elements are shown whole and uncovered
// (onScreen). Not a test file itself.

// layout reads, in the page, what breaks a layout: a page wider than the
// screen, panels off the screen, panels over one another and panels that
// cut off what they hold. A panel is a visible box that paints (a
// background, a border or a shadow) of at least 8 px each way: one
// positioned fixed, absolute or sticky, or a child of such a box that does
// not paint itself (a column holding a search box and a panel); not the
// map, nothing inside the map's canvas, a marker or a popup.
export function layout(page) {
  return page.evaluate(() => {
    const vw = innerWidth;
    const vh = innerHeight;
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${[...el.classList].slice(0, 2).map((c) => `.${c}`).join('')}`;
    const paints = (cs) => !/rgba\(\d+, \d+, \d+, 0\)|transparent/.test(cs.backgroundColor) || cs.backgroundImage !== 'none' ||
      cs.boxShadow !== 'none' || ['Top', 'Right', 'Bottom', 'Left'].some((e) => parseFloat(cs[`border${e}Width`]) > 0 && cs[`border${e}Style`] !== 'none');
    const shown = (el, cs) => !el.closest('[hidden]') && cs.display !== 'none' && cs.visibility !== 'hidden' && Number(cs.opacity) > 0 &&
      (cs.clip === 'auto' || cs.clip === '') && cs.clipPath === 'none';
    const panels = [];
    const seen = new Set();
    const take = (el, cs) => {
      const r = el.getBoundingClientRect();
      if (r.width < 8 || r.height < 8 || seen.has(el)) return;
      // A panel inside a scrolling box is where the box scrolls it.
      let scroller = el.parentElement;
      while (scroller && !/(auto|scroll)/.test(getComputedStyle(scroller).overflowY + getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
      if (scroller && scroller !== document.body && scroller !== document.documentElement) return;
      seen.add(el);
      panels.push({ el, r, cs });
    };
    for (const el of document.body.querySelectorAll('*')) {
      const cs = getComputedStyle(el);
      if (!['fixed', 'absolute', 'sticky'].includes(cs.position)) continue;
      if (el.id === 'map' || el.classList.contains('maplibregl-map') || el.closest('.maplibregl-canvas-container, .maplibregl-marker, .maplibregl-popup')) continue;
      if (!shown(el, cs)) continue;
      if (paints(cs)) take(el, cs);
      else {
        for (const child of el.children) {
          const c = getComputedStyle(child);
          if (shown(child, c) && paints(c)) take(child, c);
        }
      }
    }
    const off = panels.filter(({ r }) => r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1)
      .map(({ el, r }) => `${name(el)} [${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)},${Math.round(r.bottom)}]`);
    const over = [];
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        const a = panels[i];
        const b = panels[j];
        if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
        const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
        const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
        if (w > 2 && h > 2) over.push(`${name(a.el)} × ${name(b.el)} (${Math.round(w)}×${Math.round(h)})`);
      }
    }
    // Cut off: a panel that does not scroll and holds more than it shows.
    const cut = panels.filter(({ el, cs }) => /hidden|clip/.test(cs.overflowY + cs.overflowX) &&
      (el.scrollHeight > el.clientHeight + 2 || el.scrollWidth > el.clientWidth + 2))
      .map(({ el }) => `${name(el)} (${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight})`);
    return { wide: document.documentElement.scrollWidth > vw + 1 ? document.documentElement.scrollWidth : 0, off, over, cut, panels: panels.length };
  });
}

// onScreen returns, for each selector, where its element is and what hides
// it: not shown, off the screen (any part), or covered (at its centre and
// four points inset from its corners, the topmost element is neither it,
// inside it nor an ancestor of it). [] when all are shown whole.
export function onScreen(page, selectors) {
  return page.evaluate((sels) => {
    const bad = [];
    for (const sel of sels) {
      const el = document.querySelector(sel);
      const r = el?.getBoundingClientRect();
      if (!r || r.width < 1 || r.height < 1 || el.closest('[hidden]')) {
        bad.push(`${sel}: not shown`);
        continue;
      }
      if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
        bad.push(`${sel}: off the screen at [${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.right)},${Math.round(r.bottom)}] of ${innerWidth}×${innerHeight}`);
        continue;
      }
      const dx = Math.min(6, r.width / 4);
      const dy = Math.min(6, r.height / 4);
      const points = [[(r.left + r.right) / 2, (r.top + r.bottom) / 2], [r.left + dx, r.top + dy], [r.right - dx, r.top + dy],
        [r.left + dx, r.bottom - dy], [r.right - dx, r.bottom - dy]];
      for (const [x, y] of points) {
        const top = document.elementFromPoint(x, y);
        if (!top || !(el.contains(top) || top.contains(el))) {
          bad.push(`${sel}: covered at ${Math.round(x)},${Math.round(y)} by ${top ? top.tagName.toLowerCase() + (top.id ? `#${top.id}` : '') + (top.className && typeof top.className === 'string' ? `.${top.className.split(' ')[0]}` : '') : 'nothing'}`);
          break;
        }
      }
    }
    return bad;
  }, selectors);
}
