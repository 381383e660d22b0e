// A row of tools that scrolls sideways (the command map's toolbar where its
// chips do not fit, app.css): where chips lie beyond an edge, a cue (‹ or
// ›) stands over that edge, fading the chip cut there, and a tap on it
// scrolls the row by most of its width. Without it the row ended in half a chip
// (复制链接 cut at the screen's edge) with nothing saying that more followed.

/** MORE_SHARE is how much of the row's width a tap on a cue scrolls. */
const MORE_SHARE = 0.7;

/**
 * moreSides returns which of a scrolled row's ends have chips beyond them,
 * as data-more's words ('left', 'right', both or ''), from its scrollLeft,
 * scrollWidth and clientWidth (a pixel's slack for rounding).
 */
export function moreSides({ scrollLeft, scrollWidth, clientWidth }) {
  const sides = [];
  if (scrollLeft > 1) sides.push('left');
  if (scrollLeft < scrollWidth - clientWidth - 1) sides.push('right');
  return sides.join(' ');
}

/**
 * scrollCues gives row its two cues, kept its first and last children
 * whatever is added to it later, and keeps its data-more attribute (which
 * cue shows, app.css) true as it scrolls, resizes or gains tools. The cues
 * are for pointers and fingers: a keyboard's Tab scrolls the row itself.
 */
export function scrollCues(row) {
  const doc = row.ownerDocument;
  const cue = (side) => {
    const b = doc.createElement('button');
    b.type = 'button';
    b.className = `om-tools-more om-tools-more-${side}`;
    b.tabIndex = -1;
    b.setAttribute('aria-hidden', 'true');
    b.innerHTML = `<span>${side === 'left' ? '‹' : '›'}</span>`;
    b.addEventListener('click', () => row.scrollBy({ left: (side === 'left' ? -1 : 1) * row.clientWidth * MORE_SHARE, behavior: 'smooth' }));
    return b;
  };
  const left = cue('left');
  const right = cue('right');
  const update = () => {
    const more = moreSides(row);
    if (row.dataset.more !== more) row.dataset.more = more;
  };
  const place = () => {
    if (row.firstElementChild !== left) row.prepend(left);
    if (row.lastElementChild !== right) row.append(right);
    update();
  };
  place();
  row.addEventListener('scroll', update, { passive: true });
  new MutationObserver(place).observe(row, { childList: true });
  const view = doc.defaultView;
  if (view?.ResizeObserver) new view.ResizeObserver(update).observe(row);
  view?.addEventListener('resize', update);
  return { update };
}

/**
 * hintHeight returns the room the shown hints take, in whole pixels, from
 * their boxes ({hidden, height}): the tallest shown one's height, 0 when none
 * shows (one hint shows at a time; the tallest if more do).
 */
export function hintHeight(hints) {
  return Math.ceil(Math.max(0, ...hints.filter((h) => !h.hidden).map((h) => h.height)));
}

/**
 * keepHintRoom keeps the height of the shown hint among hints (measuring,
 * picking a place, the view's link) in the page's custom property
 * --om-hint-h, so that on a phone app.css starts the layer column below
 * the hint's bar instead of under it. It follows each hint as it shows,
 * hides or wraps anew. doc is the document.
 */
export function keepHintRoom(hints, doc = globalThis.document) {
  const view = doc?.defaultView;
  if (!hints.length || !view?.ResizeObserver) return;
  const root = doc.documentElement;
  const keep = () => root.style.setProperty('--om-hint-h',
    `${hintHeight(hints.map((el) => ({ hidden: el.hidden, height: el.getBoundingClientRect().height })))}px`);
  const watch = new view.ResizeObserver(keep);
  for (const el of hints) watch.observe(el);
  keep();
}
