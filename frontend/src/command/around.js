// What's around here (周边) on the command map: a centre picked on the map
// (a click after the 周边 button, a right-click, the map's centre from the
// keyboard, a card's button), a radius, the answer of /api/around listed in
// the side panel and drawn as a circle, and its CSV export. ../around.js
// renders the list and the CSV.

import * as api from '../api.js';
import { aroundHTML, aroundLayers, counted, csvFileName, csvRows, CSV_HEADER, DEFAULT_RADIUS, RADII } from '../around.js';
import { toCSV } from '../csv.js';
import { formatLonLat, formatRadius } from '../format.js';
import { bboxOf, circle } from '../geo.js';
import { OVERLAYS } from '../overlay.js';
import { t } from '../i18n.js';

const $ = (id) => document.getElementById(id);

/**
 * createAround wires the 周边 panel (side, the page's #around) and button.
 * It returns {run(point, {radius, keyboard}), close(), isOpen(), point(),
 * picking(), setPicking(on)}; picking is the mode in which the next click
 * on the map is the centre. It uses page.map, page.layerById, page.overlay,
 * page.camera, page.status and page.card.
 */
export function createAround(page, side) {
  const { map, layerById } = page;
  const button = $('around-button');
  const radiusSelect = $('around-radius');
  const exportButton = $('around-export');
  const body = $('around-body');
  const title = $('around-title');
  const hint = $('pick-hint');
  radiusSelect.innerHTML = RADII.map((r) =>
    `<option value="${r}"${r === DEFAULT_RADIUS ? ' selected' : ''}>${formatRadius(r)}</option>`).join('');
  const state = { point: null, radius: DEFAULT_RADIUS, resp: null, seq: 0 };
  let picking = false;

  function setPicking(on) {
    picking = on;
    button.setAttribute('aria-pressed', String(on));
    hint.hidden = !on;
    map.getCanvas().style.cursor = on ? 'crosshair' : '';
    if (on) $('pick-centre').focus();
  }

  async function run(point, { radius = state.radius, keyboard = false } = {}) {
    const n = ++state.seq;
    Object.assign(state, { point, radius, resp: null });
    side.hidden = false;
    title.textContent = t('aroundOf', formatRadius(radius));
    $('around-centre').textContent = t('centreAt', formatLonLat(point));
    exportButton.disabled = true;
    body.setAttribute('aria-busy', 'true');
    body.innerHTML = `<p class="om-muted">${t('querying')}</p>`;
    const ring = circle(point, radius);
    page.overlay(OVERLAYS.around, ring, { type: 'Point', coordinates: point });
    const b = bboxOf(ring);
    if (!page.camera.inView([b[0], b[1]], [b[2], b[3]])) map.fitBounds(b, { padding: page.camera.padding() });
    if (keyboard) title.focus();
    try {
      const resp = await api.around(point.map((v) => Number(v.toFixed(6))), radius);
      if (n !== state.seq) return;
      state.resp = resp;
      body.innerHTML = aroundHTML(resp, layerById);
      exportButton.disabled = false;
      $('around-announce').textContent = `${t('aroundOf', formatRadius(radius))}: ` + aroundLayers(resp)
        .map((id) => `${layerById.get(id)?.title ?? (id === 'cases' ? t('aroundCases') : id)} ${counted('places', id, resp.layers[id].count ?? 0)}`).join(t('listSep'));
    } catch (err) {
      if (n !== state.seq) return;
      body.innerHTML = '';
      page.status.notify(t('aroundFailed', err.message));
    } finally {
      if (n === state.seq) body.removeAttribute('aria-busy');
    }
  }

  function close() {
    state.seq++;
    state.resp = null;
    const hadFocus = side.contains(document.activeElement);
    side.hidden = true;
    page.overlay(OVERLAYS.around);
    if (hadFocus) button.focus();
  }

  function download() {
    const { resp, point, radius } = state;
    if (!resp) return;
    const text = toCSV(CSV_HEADER, csvRows(resp, layerById));
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = csvFileName(point, radius);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  map.on('contextmenu', (e) => {
    e.preventDefault();
    if (page.measure.mode()) return;
    setPicking(false);
    run([e.lngLat.lng, e.lngLat.lat]);
  });
  button.addEventListener('click', () => setPicking(!picking));
  $('pick-centre').addEventListener('click', () => {
    setPicking(false);
    const c = map.getCenter();
    run([c.lng, c.lat], { keyboard: true });
  });
  $('pick-cancel').addEventListener('click', () => {
    setPicking(false);
    button.focus();
  });
  $('around-close').addEventListener('click', close);
  radiusSelect.addEventListener('change', () => {
    const radius = Number(radiusSelect.value);
    state.radius = radius;
    if (state.point) run(state.point, { radius });
  });
  exportButton.addEventListener('click', download);
  body.addEventListener('click', (e) => {
    const btn = e.target.closest('button.om-item');
    if (!btn) return;
    const { layer, id, lon, lat } = btn.dataset;
    const at = lon !== undefined ? [Number(lon), Number(lat)] : null;
    if (at) page.camera.showPoint(at);
    if (layer === 'cases' && page.cases) {
      page.cases.show(true);
      page.cases.open(Number(id));
      return;
    }
    page.card.open({ layerId: layer, id: Number(id), at, fly: !at });
  });

  return {
    run,
    close,
    isOpen: () => !side.hidden,
    point: () => state.point,
    picking: () => picking,
    setPicking,
    focusButton: () => button.focus(),
  };
}
