// The region picker of the command map: in a deployment of many counties
// (a prefecture's, a province's) a select in the toolbar lists the regions
// the caller may see (GET /api/regions: province → prefecture → county).
// Picking one flies to it, greys out the map outside it and counts the
// layers within its box; "all" goes back to the caller's whole part. With
// one region (a county alone) the picker stays away: the page is as it was.

import { getJSON } from '../http.js';
import { lang, t } from '../i18n.js';

const MASK = 'om-region-mask';

/** flatten returns the regions of the tree, parents first, with depths. */
export function flatten(regions, depth = 0, out = []) {
  for (const r of regions ?? []) {
    out.push({ ...r, depth });
    flatten(r.children, depth + 1, out);
  }
  return out;
}

/**
 * maskOf returns a GeoJSON polygon that covers the world but the region's
 * outline (a Polygon or MultiPolygon): its rings are the world's box and
 * each outer ring of the outline as a hole.
 */
export function maskOf(geometry) {
  const polys = geometry?.type === 'Polygon' ? [geometry.coordinates] : geometry?.type === 'MultiPolygon' ? geometry.coordinates : [];
  const world = [[-180, -85], [180, -85], [180, 85], [-180, 85], [-180, -85]];
  return { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [world, ...polys.map((p) => p[0])] } };
}

/**
 * createRegions adds the picker to the toolbar when the caller sees more
 * than one region, and returns {regions, pick(id)} (pick(0): all).
 */
export async function createRegions(page, toolbar) {
  let regions = [];
  // Every role is answered a list (empty for an auditor, who reads no grids).
  try {
    regions = flatten((await getJSON('/api/regions')).regions);
  } catch {
    regions = []; // no picker
  }
  const state = { regions, picked: 0 };
  window.onemap.regions = state;
  if (regions.length < 2) return { regions, pick: async () => {} };
  const whole = page.region.bounds;
  const select = document.createElement('select');
  select.id = 'region-picker';
  select.className = 'om-region-picker';
  select.style.font = 'inherit'; // the page's font (OneMap Sans), which draws the names
  select.setAttribute('aria-label', lang === 'en' ? 'Region' : '辖区');
  select.append(new Option(t('all'), '0'));
  for (const r of regions) select.append(new Option(`${'\u3000'.repeat(r.depth)}${r.name}`, String(r.id)));
  toolbar.prepend(select);

  const map = page.map;
  function setMask(feature) {
    const data = feature ?? { type: 'FeatureCollection', features: [] };
    const src = map.getSource(MASK);
    if (src) {
      src.setData(data);
      return;
    }
    map.addSource(MASK, { type: 'geojson', data });
    map.addLayer({ id: MASK, type: 'fill', source: MASK, paint: { 'fill-color': '#263238', 'fill-opacity': 0.45 } });
  }
  let seq = 0;
  async function pick(id) {
    const n = ++seq;
    id = Number(id) || 0;
    const r = regions.find((x) => x.id === id);
    state.picked = r ? id : 0;
    select.value = String(state.picked);
    const bounds = r ? r.bbox : whole;
    page.region.bounds = bounds; // the layer counts are of the picked region's box
    map.fitBounds(bounds, { padding: page.camera.padding(), duration: 600 });
    page.counts.refresh();
    let mask = null;
    if (r) {
      try {
        mask = maskOf((await getJSON(`/api/layers/grids/features/${r.id}`)).geometry);
      } catch (err) {
        page.status.notify(`${r.name}: ${err.message}`);
      }
    }
    if (n !== seq) return; // a later pick wins
    const apply = () => {
      setMask(mask);
      state.mask = mask; // what the map greys out, for the browser tests
    };
    if (map.isStyleLoaded()) apply();
    else map.once('idle', apply);
  }
  select.addEventListener('change', () => pick(select.value));
  return { regions, pick };
}
