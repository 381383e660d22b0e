// The view in the page's address, so that a copied link reopens it: MapLibre
// keeps the camera in the hash ("map=zoom/lat/lon"); beside it "off" lists
// the layers switched off, "on" those switched on (a layer the map hides
// until asked, such as cameras at the county view) and "f" the filters, e.g.
//
//   #map=13/25.53/102.4&off=households&on=cameras&f=risk_points.level:red+orange
//
// Filters of several fields or layers are separated by "~". The language is
// the query's (?lang=en, i18n.js).

const params = (hash) => new URLSearchParams(String(hash ?? '').replace(/^#/, ''));

/**
 * readViewState reads the layers switched off and on and the filters from a
 * hash, for the layers given: {visible: {layer: false|true}, chosen:
 * {layer: {field: [values]}}, hasCamera}. A layer named in both is off.
 */
export function readViewState(hash, layerIds = null) {
  const p = params(hash);
  const known = (id) => !layerIds || layerIds.includes(id);
  const visible = {};
  for (const id of (p.get('on') ?? '').split(',').filter(Boolean)) if (known(id)) visible[id] = true;
  for (const id of (p.get('off') ?? '').split(',').filter(Boolean)) if (known(id)) visible[id] = false;
  const chosen = {};
  for (const part of (p.get('f') ?? '').split('~').filter(Boolean)) {
    const m = /^([\w-]+)\.([\w-]+):(.*)$/.exec(part);
    if (!m || !known(m[1])) continue;
    const values = m[3].split(/[+ ]/).filter(Boolean);
    (chosen[m[1]] ??= {})[m[2]] = values;
  }
  const cam = (p.get('map') ?? '').split('/');
  return { visible, chosen, hasCamera: cam.length >= 3 && cam.every((v) => v !== '' && !Number.isNaN(Number(v))) };
}

/**
 * viewHash returns hash with the state's "off", "on" and "f" written in
 * (other parameters kept): a layer whose visible[layer] differs from how
 * the map shows it by default (hidden[layer] true: hidden until switched
 * on) is off or on.
 */
export function viewHash(hash, { visible = {}, chosen = {}, hidden = {} }) {
  const p = params(hash);
  const off = Object.entries(visible).filter(([id, v]) => v === false && !hidden[id]).map(([id]) => id);
  const on = Object.entries(visible).filter(([id, v]) => v === true && hidden[id]).map(([id]) => id);
  const f = [];
  for (const [layer, fields] of Object.entries(chosen)) {
    for (const [field, values] of Object.entries(fields ?? {})) {
      if (values) f.push(`${layer}.${field}:${values.join('+')}`);
    }
  }
  if (off.length) p.set('off', off.join(','));
  else p.delete('off');
  if (on.length) p.set('on', on.join(','));
  else p.delete('on');
  if (f.length) p.set('f', f.join('~'));
  else p.delete('f');
  // MapLibre writes its own parameter unescaped; keep the others readable too.
  return `#${decodeURIComponent(p.toString().replace(/\+/g, '%2B'))}`;
}

/** writeViewState returns href with the state written into its hash. */
export function writeViewState(href, state) {
  const u = new URL(href);
  u.hash = viewHash(u.hash, state);
  return u.href;
}
