// The search box: /api/search as the user types (debounced) and on Enter.
// A name or code lists matching features; coordinates give the point and
// the grids that hold it. The list is an ARIA combobox listbox, driven by
// the arrow keys, Enter and Escape. Results come grouped by the server (by
// layer, grids by level), each under a heading with how many were found, and
// each with the place above it ("狮山村 · 狮山镇"). The pure parts (options
// and their HTML) are exported for the tests.

import { escapeHtml, formatLonLat } from './format.js';
import { valueLabel } from './labels.js';
import { t } from './i18n.js';

/** DEBOUNCE_MS is how long typing must pause before the box asks the server. */
export const DEBOUNCE_MS = 250;

/**
 * searchOptions turns an /api/search answer into the options of the list:
 * for coordinates, the point and then each grid that holds it (county
 * first); otherwise one option per result, in the server's order.
 * Each option is {kind: 'point', point, grids} or {kind: 'feature', layer,
 * id, name, code, level, feature kind, center, bbox, parent, group,
 * groupTotal}: group is the server's group of the result (grids.village,
 * cameras …) and groupTotal how many it found of that group.
 */
export function searchOptions(resp) {
  if (!resp) return [];
  if (Array.isArray(resp.point)) {
    const grids = resp.grids ?? [];
    return [
      { kind: 'point', point: resp.point, grids },
      ...grids.map((g) => ({
        kind: 'feature', layer: 'grids', id: g.id, name: g.name, code: g.code, level: g.level,
        worker: g.worker_name, phone: g.worker_phone,
      })),
    ];
  }
  const totals = new globalThis.Map((resp.groups ?? []).map((g) => [g.group, g.total]));
  return (resp.results ?? []).map((r) => ({
    kind: 'feature', layer: r.layer, id: r.id, name: r.name, code: r.code, level: r.level,
    featureKind: r.kind, center: r.center, bbox: r.bbox, matched: r.matched,
    parent: r.parent || '', group: r.group || '', groupTotal: totals.get(r.group) ?? 0,
  }));
}

/**
 * describeOption returns the text of an option: name, the layer's Chinese
 * title with the feature's class (网格 · 乡镇, 视频监控 · 人脸识别 …), and
 * its code.
 */
export function describeOption(o, layerById) {
  if (o.kind === 'point') {
    return { name: `${t('coordinate')} ${formatLonLat(o.point)}`, layer: t('locate'), code: '' };
  }
  const title = layerById?.get(o.layer)?.title || o.layer;
  const cls = o.layer === 'grids' || o.layer === 'stations'
    ? valueLabel(o.layer, o.layer === 'grids' ? 'level' : 'kind', o.layer === 'grids' ? o.level : o.featureKind)
    : o.featureKind ? valueLabel(o.layer, 'kind', o.featureKind) : '';
  const d = { name: o.name || `#${o.id}`, layer: cls ? `${title} · ${cls}` : title, code: o.code ?? '' };
  if (o.parent) d.parent = o.parent;
  return d;
}

/**
 * groupTitle names a group of results: the level for grids (乡镇, 村（社区）,
 * 村民小组), else the layer's title.
 */
export function groupTitle(o, layerById) {
  if (o.layer === 'grids' && o.level) return valueLabel('grids', 'level', o.level);
  return layerById?.get(o.layer)?.title || o.layer;
}

// groupHead is the heading of the group that starts with option o, given
// how many of it are listed.
function groupHead(o, shown, layerById) {
  const count = o.groupTotal > shown ? t('groupSome', shown, o.groupTotal) : String(shown);
  return `<li class="om-opt-head om-opt-group" role="presentation" data-group="${escapeHtml(o.group)}">` +
    `<span>${escapeHtml(groupTitle(o, layerById))}</span><span class="om-opt-count">${escapeHtml(count)}</span></li>`;
}

/**
 * optionsHTML renders the options as <li role="option"> items, the one at
 * active marked selected; ids are `${idPrefix}-${i}`. For coordinates the
 * grids are shown as the chain county → group with their workers.
 */
export function optionsHTML(options, layerById, active = -1, idPrefix = 'search-opt') {
  if (!options.length) return `<li class="om-empty" role="presentation">${escapeHtml(t('noMatch'))}</li>`;
  const point = options[0].kind === 'point' ? options[0] : null;
  const html = options.map((o, i) => {
    const d = describeOption(o, layerById);
    const attrs = `id="${idPrefix}-${i}" role="option" aria-selected="${i === active}" data-index="${i}"` +
      (o.kind === 'feature' ? ` data-layer="${escapeHtml(o.layer)}" data-id="${escapeHtml(o.id)}"` : ' data-point');
    const worker = point && o.kind === 'feature' && o.worker
      ? `<span class="om-opt-worker">${escapeHtml(t('worker', o.worker))}${o.phone ? ` ${escapeHtml(o.phone)}` : ''}</span>` : '';
    const depth = point && o.kind === 'feature' ? ` style="padding-left:${8 + 12 * (i - 1)}px"` : '';
    const parent = d.parent ? `<span class="om-opt-parent"> · ${escapeHtml(d.parent)}</span>` : '';
    const head = !point && o.group && o.group !== options[i - 1]?.group
      ? groupHead(o, options.filter((x) => x.group === o.group).length, layerById) : '';
    return `${head}<li ${attrs}${depth}><span class="om-opt-name">${escapeHtml(d.name)}${parent}</span>` +
      `<span class="om-opt-layer">${escapeHtml(d.layer)}</span>` +
      (d.code ? `<span class="om-opt-code">${escapeHtml(d.code)}</span>` : '') + worker + '</li>';
  });
  if (point) {
    const where = point.grids.length ? t('gridLevels', point.grids.length) : t('outside');
    html.splice(1, 0, `<li class="om-opt-head" role="presentation">${escapeHtml(where)}</li>`);
  }
  return html.join('');
}

/**
 * setupSearch wires the search box. search(q) returns the server's answer
 * (a promise); onPick(option) is called when an option is chosen (click, or
 * Enter on the active or first option); context() names what else the
 * answer depends on (it is asked again when that changes); pickText(option)
 * is what the box shows once a feature is picked (its name by default). It
 * returns {close, focus, refresh} (refresh asks again for the text in the box).
 */
export function setupSearch({ input, list, layerById, search, onPick, onError, context = () => '', pickText = (o) => o.name }) {
  // keyOf is what an answer is for: the text and the context it was asked
  // in (the command map's coordinate system), so that a changed context
  // asks again.
  const keyOf = (q) => `${context()}\u0000${q}`;
  let options = [];
  let active = -1;
  let timer = null;
  let seq = 0; // the number of the latest query; older answers are dropped
  let pending = null; // promise of the latest query's options
  let pendingFor = null; // the key (keyOf) of pending
  let shownFor = null; // the key of the answer on show

  const setActive = (i) => {
    active = i;
    for (const li of list.querySelectorAll('[role="option"]')) {
      const on = Number(li.dataset.index) === i;
      li.setAttribute('aria-selected', String(on));
      if (on) li.scrollIntoView({ block: 'nearest' });
    }
    if (i >= 0) input.setAttribute('aria-activedescendant', `search-opt-${i}`);
    else input.removeAttribute('aria-activedescendant');
  };
  const open = () => {
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  };
  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    setActive(-1);
  };
  const render = (q, opts) => {
    options = opts;
    shownFor = keyOf(q);
    list.dataset.query = q; // which query's answer is on show
    list.innerHTML = optionsHTML(options, layerById, -1);
    active = -1;
    open();
  };

  // query asks the server for q; it resolves to the options, or null when
  // a newer query has been started meanwhile.
  const query = (q) => {
    const n = ++seq;
    pendingFor = keyOf(q);
    list.setAttribute('aria-busy', 'true');
    pending = search(q).then((resp) => {
      if (n !== seq) return null;
      list.removeAttribute('aria-busy');
      const opts = searchOptions(resp);
      render(q, opts);
      return opts;
    }, (err) => {
      if (n !== seq) return null;
      pendingFor = null;
      list.removeAttribute('aria-busy');
      onError?.(err);
      return null;
    });
    return pending;
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      seq++;
      pending = null;
      pendingFor = null;
      shownFor = null;
      list.innerHTML = '';
      close();
      return;
    }
    timer = setTimeout(() => query(q), DEBOUNCE_MS);
  });

  const pick = (i) => {
    const o = options[i];
    if (!o) return;
    if (o.kind === 'feature') {
      input.value = pickText(o) || input.value;
      close();
    } else {
      setActive(i);
    }
    onPick(o);
  };

  input.addEventListener('keydown', async (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (list.hidden && options.length) open();
      if (!options.length) return;
      e.preventDefault();
      const n = options.length;
      setActive(e.key === 'ArrowDown' ? (active + 1) % n : (active - 1 + n) % n);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const q = input.value.trim();
      if (!q) return;
      clearTimeout(timer);
      let opts = options;
      if (shownFor !== keyOf(q)) opts = await (pendingFor === keyOf(q) ? pending : query(q));
      if (!opts || input.value.trim() !== q) return;
      pick(active >= 0 ? active : 0);
    } else if (e.key === 'Escape') {
      if (!list.hidden) {
        e.stopPropagation();
        close();
      } else if (input.value) {
        e.stopPropagation();
        input.value = '';
        input.dispatchEvent(new Event('input'));
      } else {
        // An empty box: Escape leaves it, and does nothing else (the map's
        // own Escape, command/keys.js, would also undo one of its states).
        e.stopPropagation();
        input.blur();
      }
    }
  });

  list.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the box
  list.addEventListener('click', (e) => {
    const li = e.target.closest('[role="option"]');
    if (li) pick(Number(li.dataset.index));
  });
  input.addEventListener('focus', () => {
    if (options.length && keyOf(input.value.trim()) === shownFor) open();
  });
  input.addEventListener('blur', () => close());

  return {
    close,
    refresh: () => {
      if (input.value.trim()) input.dispatchEvent(new Event('input'));
    },
    focus: () => {
      input.focus();
      input.select();
    },
  };
}
