// Layout checks of the browser tests, read in the page: what breaks a
// layout (layout) and whether elements are shown whole and uncovered
// (onScreen). Not a test file itself.

// layout reads, in the page, what breaks a layout: a page wider than the
// screen, panels off the screen, panels over one another and panels that
// cut off what they hold. A panel is a visible box that paints (a
// background, a border or a shadow) of at least 8 px each way: one
// positioned fixed, absolute or sticky, or a box inside such a box that does
// not paint itself, with none between that paints (a column holding a
// search box, whose row paints, and a panel); not the map, nothing inside
// the map's canvas, a marker or a popup.
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
    // within takes the boxes that paint inside a box that does not, through
    // the boxes between that do not paint either (the command map's search
    // row, in its unpainted search box in the unpainted left column). A
    // positioned box is left to the loop below.
    const within = (el) => {
      for (const child of el.children) {
        const c = getComputedStyle(child);
        if (!shown(child, c) || ['fixed', 'absolute', 'sticky'].includes(c.position)) continue;
        if (paints(c)) take(child, c);
        else within(child);
      }
    };
    for (const el of document.body.querySelectorAll('*')) {
      const cs = getComputedStyle(el);
      if (!['fixed', 'absolute', 'sticky'].includes(cs.position)) continue;
      if (el.id === 'map' || el.classList.contains('maplibregl-map') || el.closest('.maplibregl-canvas-container, .maplibregl-marker, .maplibregl-popup')) continue;
      if (!shown(el, cs)) continue;
      if (paints(cs)) take(el, cs);
      else within(el);
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

// lowContrast returns, for every element in the page (or under root, a
// selector) that shows text of its own, the ones whose text is too faint
// on its background: a contrast ratio (WCAG 2) under 4.5, or under 3 for
// large text (24 px, or 18.66 px bold). The background is the first one
// painted at or above the element (a solid colour; one over a picture, a
// gradient or the map is not judged). Each: "selector 'text' r.r:1 (colour
// on background)". [] when all read.
export function lowContrast(page, root = 'body') {
  return page.evaluate((sel) => {
    const rgba = (s) => {
      const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(s);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
    };
    const lum = ([r, g, b]) => {
      const c = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
    };
    const over = (top, under) => { // top (with alpha) over an opaque under
      const a = top[3];
      return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
    };
    // background returns the opaque colour behind el, or null where it is not one colour.
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const cs = getComputedStyle(e);
        if (cs.backgroundImage !== 'none' || e.id === 'map' || e.classList.contains('maplibregl-map') || e.tagName === 'CANVAS') return null;
        const c = rgba(cs.backgroundColor);
        if (c && c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) break;
        }
        // A positioned box with no background of its own lies over something else than its parent.
        if (!layers.length && ['fixed', 'absolute'].includes(cs.position) && e !== el) return null;
      }
      let bg = [255, 255, 255, 1];
      for (const c of layers.reverse()) bg = over(c, bg);
      return bg;
    };
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${[...el.classList].slice(0, 2).map((c) => `.${c}`).join('')}`;
    const bad = [];
    for (const el of document.querySelector(sel).querySelectorAll('*')) {
      const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
      if (!text || el.closest('[hidden]')) continue;
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1 || cs.visibility !== 'visible' || cs.display === 'none') continue;
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      if (opacity < 0.99) continue; // faded on purpose (a disabled or switched-off entry)
      const bg = background(el);
      const fg = rgba(cs.color);
      if (!bg || !fg) continue;
      const [l1, l2] = [lum(over(fg, bg)), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        bad.push(`${name(el)} '${text.slice(0, 20)}' ${ratio.toFixed(2)}:1 (${cs.color} on rgb(${bg.slice(0, 3).map(Math.round).join(', ')}))`);
      }
    }
    return bad;
  }, root);
}

// boxedText returns the texts of the page's shown elements whose Chinese the
// browser drew with no font of the page's (OneMap Sans; so, on a machine
// without a Chinese font, as boxes): for each element with Chinese text of
// its own, the glyphs drawn from a custom font (the fonts the renderer
// reports, over CDP) must be at least its Chinese characters. checked is
// how many elements hold Chinese text; an element under a match of outside
// (a selector, e.g. the map's canvas container) is not judged.
export async function boxedText(page, outside = null) {
  const count = await page.evaluate((skip) => {
    let n = 0;
    for (const el of document.body.querySelectorAll('*')) {
      const own = [...el.childNodes].filter((t) => t.nodeType === Node.TEXT_NODE).map((t) => t.data).join('');
      const cjk = own.match(/[\u3400-\u9fff\uff01-\uff5e]/gu)?.length ?? 0;
      if (cjk && el.getClientRects().length && !(skip && el.closest(skip))) {
        el.dataset.fontProbe = String(cjk);
        n++;
      }
    }
    return n;
  }, outside);
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: '[data-font-probe]' });
    const boxed = [];
    for (const nodeId of nodeIds) {
      const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      const { attributes } = await cdp.send('DOM.getAttributes', { nodeId });
      const want = Number(attributes[attributes.indexOf('data-font-probe') + 1]);
      const custom = fonts.filter((f) => f.isCustomFont).reduce((sum, f) => sum + f.glyphCount, 0);
      if (fonts.length && custom < want) {
        const { outerHTML } = await cdp.send('DOM.getOuterHTML', { nodeId });
        boxed.push(`${outerHTML.slice(0, 100)} (${fonts.map((f) => `${f.familyName} ${f.glyphCount}`).join(', ')})`);
      }
    }
    return { checked: count, boxed };
  } finally {
    await cdp.detach();
  }
}
