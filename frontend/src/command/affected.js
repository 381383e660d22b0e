// "Who is affected" (受影响) on the command map: for a hazard zone picked on
// the map (its card's button, or any zone clicked while the panel is open)
// or an area drawn by clicks (a polygon, finished with ✓ or a
// double-click), the side panel tells, from /api/affected, the risk
// households in it, what the hazards there threaten (households and
// people), the people to shelter (and, for the roles that see household
// details, the members the households declare), and the shelters within
// reach with their capacity and the shortfall, nearest first. What a role
// may not see the server leaves out, and so does the panel.

import { getJSON, postJSON } from '../http.js';
import { escapeHtml, formatCount, formatLength } from '../format.js';
import { dictionary } from '../i18n.js';
import { orderedCounts, valueLabel } from '../labels.js';
import { colourOf } from '../style.js';

const SOURCE = 'om-affected';
const COLOUR = '#6a1b9a';
const EMPTY = { type: 'FeatureCollection', features: [] };

/** REACHES are the shelter reaches offered, metres; the server's default first. */
export const REACHES = [3000, 1000, 5000, 10000];

const w = dictionary({
  zh: {
    button: '受影响', buttonTitle: '谁受影响：点击危险区，或圈选范围', title: '谁受影响', close: '关闭',
    hint: '点击地图上的危险区，或圈选一个范围。', draw: '圈选范围', drawing: '单击添加顶点，双击或 ✓ 结束',
    finish: '✓', clear: '清除', reach: '安置点范围', zone: '危险区：{0}', area: '圈选范围（{0} 个顶点）',
    households: '风险户', threatened: '受威胁', threatenedText: '{0} 户 {1} 人', people: '需安置人员',
    fromFigures: '按危险区与隐患点的威胁人数', fromDetails: '按风险户登记的家庭成员', members: '风险户家庭成员',
    shelters: '避难安置点', capacity: '可容纳 {0} 人', shortfall: '缺口 {0} 人', enough: '容量足够',
    noShelter: '范围内没有安置点', within: '{0} 内', inside: '区内', persons: '{0} 人',
    loading: '正在查询…', failed: '查询失败：{0}', list: '风险户名单（{0}）', more: '（仅列出前 {0} 户）', zoneAction: '谁受影响',
  },
  en: {
    button: 'Affected', buttonTitle: 'Who is affected: click a hazard zone, or draw an area', title: 'Who is affected', close: 'Close',
    hint: 'Click a hazard zone on the map, or draw an area.', draw: 'Draw an area', drawing: 'Click to add corners; double-click or ✓ to finish',
    finish: '✓', clear: 'Clear', reach: 'Shelters within', zone: 'Hazard zone: {0}', area: 'Drawn area ({0} corners)',
    households: 'Risk households', threatened: 'Threatened', threatenedText: '{0} households, {1} people', people: 'People to shelter',
    fromFigures: 'from the hazards\' figures', fromDetails: 'from the households\' registered members', members: 'Household members',
    shelters: 'Shelters', capacity: 'capacity {0}', shortfall: 'short of {0} places', enough: 'capacity enough',
    noShelter: 'No shelter within reach', within: 'within {0}', inside: 'inside', persons: '{0}',
    loading: 'Querying…', failed: 'Failed: {0}', list: 'Risk households ({0})', more: ' (the first {0} listed)', zoneAction: 'Who is affected',
  },
});

/** affectedHTML renders an /api/affected answer (ans) for what was asked (ask: {zone, name} or {corners}). */
export function affectedHTML(ans, ask) {
  const rows = [];
  const row = (key, th, td, extra = '') =>
    rows.push(`<tr data-figure="${key}"><th>${escapeHtml(th)}</th><td class="om-num">${td}</td><td>${extra}</td></tr>`);
  if (ans.households) {
    const by = {};
    for (const f of ans.households.features ?? []) by[f.properties?.level] = (by[f.properties?.level] ?? 0) + 1;
    const chips = orderedCounts('households', 'level', by).map(({ key, label, count }) => {
      const c = colourOf('households', 'level', key);
      const dot = c ? `<span class="om-dot om-dot-small" style="background:${escapeHtml(c)}"></span>` : '';
      return `<span class="om-chip" data-key="${escapeHtml(key)}">${dot}${escapeHtml(label)} <b>${formatCount(count)}</b></span>`;
    }).join('');
    row('households', w('households'), escapeHtml(formatCount(ans.households.count)), chips);
  }
  if (ans.threatened) {
    row('threatened', w('threatened'), '', escapeHtml(w('threatenedText', formatCount(ans.threatened.households), formatCount(ans.threatened.people))));
  }
  if (ans.people) {
    const source = ans.people.source === 'household details' ? w('fromDetails') : w('fromFigures');
    row('people', w('people'), escapeHtml(formatCount(ans.people.count)), `<small class="om-muted">${escapeHtml(source)}</small>`);
    if (ans.people.household_members != null) row('members', w('members'), escapeHtml(formatCount(ans.people.household_members)));
  }
  let shelters = '';
  if (ans.shelters) {
    const s = ans.shelters;
    const need = s.shortfall == null ? '' : s.shortfall > 0
      ? `<b class="om-shortfall" data-shortfall="${s.shortfall}">${escapeHtml(w('shortfall', formatCount(s.shortfall)))}</b>`
      : `<span data-shortfall="0">${escapeHtml(w('enough'))}</span>`;
    row('shelters', w('shelters'), escapeHtml(formatCount(s.count)),
      `${escapeHtml(w('capacity', formatCount(s.capacity)))} ${need} <small class="om-muted">${escapeHtml(w('within', formatLength(s.reach_m)))}</small>`);
    shelters = s.features?.length
      ? `<ol class="om-affected-shelters">${s.features.map((f) => {
        const p = f.properties ?? {};
        const d = Number(p.distance_m);
        return `<li data-id="${escapeHtml(f.id)}"><span class="om-affected-name">${escapeHtml(p.name ?? `#${f.id}`)}</span> ` +
          `<small>${escapeHtml(valueLabel('shelters', 'kind', p.kind))} · ${escapeHtml(w('persons', formatCount(p.capacity ?? 0)))} · ` +
          `${escapeHtml(d > 0 ? formatLength(d) : w('inside'))}</small></li>`;
      }).join('')}</ol>`
      : `<p class="om-muted">${escapeHtml(w('noShelter'))}</p>`;
  }
  let list = '';
  const hs = ans.households?.features ?? [];
  if (hs.length) {
    list = `<details class="om-affected-households"><summary>${escapeHtml(w('list', formatCount(ans.households.count)))}` +
      `${ans.households.truncated ? escapeHtml(w('more', formatCount(hs.length))) : ''}</summary><ol>` +
      hs.map((f) => {
        const p = f.properties ?? {};
        return `<li data-id="${escapeHtml(f.id)}">${escapeHtml(p.code ?? `#${f.id}`)} <small>${escapeHtml(valueLabel('households', 'level', p.level))} · ` +
          `${escapeHtml(valueLabel('households', 'kind', p.kind))}${p.responsible_name ? ` · ${escapeHtml(p.responsible_name)}` : ''}</small></li>`;
      }).join('') + '</ol></details>';
  }
  const what = ask.zone ? w('zone', ans.zone?.properties?.name ?? ask.name ?? `#${ask.zone}`) : w('area', ask.corners ?? 0);
  return `<p class="om-muted om-affected-what">${escapeHtml(what)}</p>` +
    `<table class="om-affected-figures"><tbody>${rows.join('')}</tbody></table>${shelters}${list}`;
}

/**
 * createAffected adds the "who is affected" panel to the command map when
 * the caller sees households or hazard zones (the layers of /api/layers),
 * with its toolbar button. It returns {state, drawing(), stopDrawing(),
 * open(), zone(id), close()} (null for a role that sees neither); state is what
 * the page's tests read ({open, drawing, corners, ask, answer, error}).
 */
export function createAffected(page, { toolbar } = {}) {
  if (!page.layerById.has('households') && !page.layerById.has('hazard_zones')) return null;
  const { map } = page;
  const state = { open: false, drawing: false, corners: [], ask: null, answer: null, error: '', seq: 0 };

  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'affected-button';
  button.textContent = w('button');
  button.title = w('buttonTitle');
  button.setAttribute('aria-pressed', 'false');
  button.setAttribute('aria-controls', 'affected');
  toolbar?.insertBefore(button, toolbar.querySelector('#copy-link'));

  const side = document.createElement('aside');
  side.id = 'affected';
  side.className = 'om-side om-affected';
  side.hidden = true;
  side.setAttribute('aria-labelledby', 'affected-title');
  side.innerHTML = `<div class="om-side-head"><h2 id="affected-title" tabindex="-1">${escapeHtml(w('title'))}</h2>` +
    `<button type="button" class="om-close" data-affected="close" aria-label="${escapeHtml(w('close'))}">×</button></div>` +
    '<div class="om-side-tools">' +
    `<button type="button" data-affected="draw" aria-pressed="false">${escapeHtml(w('draw'))}</button>` +
    `<button type="button" data-affected="finish" disabled>${escapeHtml(w('finish'))}</button>` +
    `<button type="button" data-affected="clear">${escapeHtml(w('clear'))}</button>` +
    `<label>${escapeHtml(w('reach'))} <select data-affected="reach">` +
    REACHES.map((r) => `<option value="${r}">${escapeHtml(formatLength(r))}</option>`).join('') + '</select></label></div>' +
    `<p class="om-muted" data-affected="hint">${escapeHtml(w('hint'))}</p>` +
    '<div class="om-side-body" data-affected="body" aria-live="polite"></div>';
  document.body.append(side);
  const $ = (k) => side.querySelector(`[data-affected="${k}"]`);

  // What is shown on the map: the zone's or the drawn area's outline, the corners.
  let ready = false;
  let shown = EMPTY;
  const add = () => {
    map.addSource(SOURCE, { type: 'geojson', data: shown });
    map.addLayer({ id: 'om-affected-fill', type: 'fill', source: SOURCE, filter: ['!=', ['geometry-type'], 'Point'],
      paint: { 'fill-color': COLOUR, 'fill-opacity': 0.1 } });
    map.addLayer({ id: 'om-affected-line', type: 'line', source: SOURCE, filter: ['!=', ['geometry-type'], 'Point'],
      paint: { 'line-color': COLOUR, 'line-width': 2.5 } });
    map.addLayer({ id: 'om-affected-corner', type: 'circle', source: SOURCE, filter: ['==', ['geometry-type'], 'Point'],
      paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-color': COLOUR, 'circle-stroke-width': 2 } });
    ready = true;
  };
  if (map.isStyleLoaded()) add();
  else map.once('load', add);
  const show = (geometries) => {
    shown = { type: 'FeatureCollection', features: geometries.filter(Boolean).map((geometry) => ({ type: 'Feature', properties: {}, geometry })) };
    if (ready) map.getSource(SOURCE).setData(shown);
  };
  const drawn = () => {
    const c = state.corners;
    const geoms = c.map((p) => ({ type: 'Point', coordinates: p }));
    if (c.length >= 3) geoms.push({ type: 'Polygon', coordinates: [[...c, c[0]]] });
    else if (c.length === 2) geoms.push({ type: 'LineString', coordinates: c });
    show(geoms);
  };

  function setDrawing(on) {
    state.drawing = on;
    $('draw').setAttribute('aria-pressed', String(on));
    $('hint').textContent = on ? w('drawing') : w('hint');
    $('finish').disabled = !on || state.corners.length < 3;
    if (on) map.doubleClickZoom.disable();
    else map.doubleClickZoom.enable();
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
  }

  function open() {
    state.open = true;
    side.hidden = false;
    button.setAttribute('aria-pressed', 'true');
    side.querySelector('h2').focus();
  }
  function close() {
    state.open = false;
    setDrawing(false);
    state.corners = [];
    side.hidden = true;
    button.setAttribute('aria-pressed', 'false');
    show([]);
  }

  // stopDrawing ends a drawing without asking (Escape): its corners go.
  function stopDrawing() {
    setDrawing(false);
    state.corners = [];
    show([]);
  }

  /** run asks /api/affected about ask ({zone} or {geometry}) and shows the answer. */
  async function run(ask) {
    const seq = ++state.seq;
    state.ask = ask;
    state.answer = null;
    state.error = '';
    if (!state.open) open();
    const body = $('body');
    body.innerHTML = `<p class="om-muted">${escapeHtml(w('loading'))}</p>`;
    const reach = Number($('reach').value);
    try {
      const ans = ask.zone
        ? await getJSON('/api/affected', { zone: String(ask.zone), reach: String(reach) })
        : await postJSON('/api/affected', { geometry: ask.geometry, reach });
      if (seq !== state.seq) return;
      state.answer = ans;
      if (ask.zone && ans.zone?.geometry) show([ans.zone.geometry]);
      body.innerHTML = affectedHTML(ans, ask);
    } catch (err) {
      if (seq !== state.seq) return;
      state.error = err.message;
      body.innerHTML = `<p class="om-error" role="alert">${escapeHtml(w('failed', err.message))}${err.field ? ` (${escapeHtml(err.field)})` : ''}</p>`;
    }
  }

  /** zone asks who is affected by hazard zone id (named name). */
  const zone = (id, name) => {
    setDrawing(false);
    state.corners = [];
    return run({ zone: Number(id), name });
  };

  function finish() {
    if (state.corners.length < 3) return;
    const ring = [...state.corners, state.corners[0]];
    const corners = state.corners.length;
    setDrawing(false);
    state.corners = [];
    show([{ type: 'Polygon', coordinates: [ring] }]);
    run({ geometry: { type: 'Polygon', coordinates: [ring] }, corners });
  }

  button.addEventListener('click', () => (state.open ? close() : open()));
  side.addEventListener('click', (e) => {
    const act = e.target.closest?.('[data-affected]')?.dataset.affected;
    if (act === 'close') close();
    else if (act === 'draw') {
      page.card?.close();
      state.corners = [];
      show([]);
      setDrawing(!state.drawing);
    } else if (act === 'finish') finish();
    else if (act === 'clear') {
      setDrawing(false);
      state.corners = [];
      state.ask = null;
      state.answer = null;
      show([]);
      $('body').innerHTML = '';
    }
  });
  $('reach').addEventListener('change', () => { if (state.ask) run(state.ask); });

  // While drawing, a click is a corner (command/clicks.js leaves it to us)
  // and a double-click finishes.
  map.on('click', (e) => {
    if (!state.drawing) return;
    state.corners.push([e.lngLat.lng, e.lngLat.lat]);
    $('finish').disabled = state.corners.length < 3;
    drawn();
  });
  map.on('dblclick', (e) => {
    if (!state.drawing) return;
    e.preventDefault();
    finish();
  });

  // A hazard zone's card offers the question; while the panel is open, a
  // zone clicked is asked about at once.
  const container = map.getContainer();
  new MutationObserver(() => {
    for (const card of container.querySelectorAll('.om-popup .om-card[data-layer="hazard_zones"]')) {
      const actions = card.querySelector('.om-card-actions');
      if (!card.dataset.id || card.dataset.affectedSeen) continue;
      card.dataset.affectedSeen = '1';
      if (actions && !actions.querySelector('[data-action="affected"]')) {
        actions.insertAdjacentHTML('beforeend', `<button type="button" data-action="affected">${escapeHtml(w('zoneAction'))}</button>`);
      }
      // A card drawn again (its details came) asks nothing new.
      const asked = state.ask?.zone === Number(card.dataset.id) && !state.error;
      if (state.open && !state.drawing && !asked) zone(card.dataset.id, card.querySelector('h3')?.textContent);
    }
  }).observe(container, { childList: true, subtree: true });
  container.addEventListener('click', (e) => {
    const card = e.target.closest?.('.om-popup button[data-action="affected"]')?.closest('.om-card');
    if (card) zone(card.dataset.id);
  });

  return { state, drawing: () => state.drawing, stopDrawing, open, close, zone };
}
