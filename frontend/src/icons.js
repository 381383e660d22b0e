// The map's point symbols, drawn in the browser as the map asks for them
// (MapLibre's styleimagemissing): no sprite, no image file, nothing fetched.
// Every image is a pure function of its name, so a style names what it
// wants (style.js withSymbols) and this module draws it:
//
//   om-tri, om-square, om-dot    signed-distance-field shapes (sdf: the
//                                style colours them with icon-color and
//                                rings them with icon-halo-color);
//   om-st:KIND:#RRGGBB           a station's badge: a rounded square of the
//                                colour with the kind's pictogram in white;
//   om-ring:SHAPE:RRGGBB=N,…     a cluster: the layer's shape in white, its
//                                border cut into arcs, one per colour, each
//                                as long as its share N of the sum of the Ns
//                                (a truthful mix, not the worst colour).
//
// Pixels are computed here, not painted on a canvas, so the tests run the
// same code in Node.

/** PIXEL_RATIO is the images' pixels per CSS pixel (sharp on high-density screens). */
export const PIXEL_RATIO = 2;

/** SDF_SHAPES are the single-point shapes, by name. */
export const SDF_SHAPES = { 'om-tri': 'triangle', 'om-square': 'square', 'om-dot': 'circle' };

// SDF encoding as MapLibre reads it (its tiny-sdf's): alpha 191 on the edge,
// falling by 255/8 a pixel outwards, with a buffer of 3 pixels around.
const SDF_RADIUS = 8;
const SDF_CUTOFF = 0.25;
const SDF_BUFFER = 3;

// Sizes in CSS pixels: a single shape's, a cluster's, a badge's.
const SHAPE_PX = 14;
const RING_PX = 30;
const BADGE_PX = 20;

/**
 * shapeDistance returns the signed distance (negative inside) of point
 * (x, y) from a shape of radius r centred on the origin, in the units of
 * x and y: a circle, a square (slightly rounded) or an equilateral triangle
 * pointing up (y grows downwards, as on screen).
 */
export function shapeDistance(shape, x, y, r) {
  switch (shape) {
    case 'square': {
      const k = r * 0.82; // a square looks larger than a circle of its radius
      const c = k * 0.18;
      const qx = Math.abs(x) - (k - c);
      const qy = Math.abs(y) - (k - c);
      return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - c;
    }
    case 'triangle': {
      // Inigo Quilez's exact distance to an equilateral triangle, flipped
      // to point up and lowered to sit on its centroid.
      const k = Math.sqrt(3);
      const s = r * 1.1;
      let px = Math.abs(x) - s;
      let py = -(y - s * 0.25) + s / k;
      if (px + k * py > 0) [px, py] = [(px - k * py) / 2, (-k * px - py) / 2];
      px -= Math.min(Math.max(px, -2 * s), 0);
      return -Math.hypot(px, py) * Math.sign(py);
    }
    default:
      return Math.hypot(x, y) - r;
  }
}

/** sdfImage draws shape as a signed distance field MapLibre colours: {width, height, data}. */
export function sdfImage(shape, px = SHAPE_PX) {
  const r = (px / 2) * PIXEL_RATIO;
  const size = Math.ceil(2 * r + 2 * SDF_BUFFER * PIXEL_RATIO);
  const data = new Uint8ClampedArray(size * size * 4);
  const c = size / 2;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const d = shapeDistance(shape, i + 0.5 - c, j + 0.5 - c, r);
      const a = 255 - 255 * (d / SDF_RADIUS + SDF_CUTOFF);
      const o = (j * size + i) * 4;
      data[o] = data[o + 1] = data[o + 2] = 255;
      data[o + 3] = Math.max(0, Math.min(255, Math.round(a)));
    }
  }
  return { width: size, height: size, data };
}

// hex parses #rrggbb (or rrggbb) into [r, g, b]; grey if it cannot.
function hex(s) {
  const m = /^#?([0-9a-f]{6})$/i.exec(String(s ?? '').trim());
  if (!m) return [117, 117, 117];
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// raster draws an image of size×size pixels whose colour at (x, y),
// measured from the centre in pixels, is paint(x, y) → [r, g, b, a] | null,
// sampled 4×4 times a pixel for smooth edges (premultiplied while mixed).
function raster(size, paint) {
  const data = new Uint8ClampedArray(size * size * 4);
  const c = size / 2;
  const n = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0; let g = 0; let b = 0; let a = 0;
      for (let sj = 0; sj < n; sj++) {
        for (let si = 0; si < n; si++) {
          const p = paint(i + (si + 0.5) / n - c, j + (sj + 0.5) / n - c);
          if (!p) continue;
          const pa = p[3] / 255;
          r += p[0] * pa; g += p[1] * pa; b += p[2] * pa; a += pa;
        }
      }
      const o = (j * size + i) * 4;
      if (a > 0) {
        data[o] = r / a; data[o + 1] = g / a; data[o + 2] = b / a;
      }
      data[o + 3] = Math.round((a / (n * n)) * 255);
    }
  }
  return { width: size, height: size, data };
}

/**
 * parseRing reads a cluster image's name, om-ring:SHAPE:RRGGBB=N,…, into
 * {shape, arcs: [{colour: [r, g, b], share}]} with the shares adding up to
 * 1 (arcs of no share dropped), or null.
 */
export function parseRing(name) {
  const m = /^om-ring:(triangle|square|circle):(.*)$/.exec(name);
  if (!m) return null;
  const parts = m[2].split(',').map((p) => p.split('=')).filter((p) => p.length === 2)
    .map(([c, n]) => ({ colour: hex(c), n: Number(n) })).filter((p) => p.n > 0);
  const sum = parts.reduce((s, p) => s + p.n, 0);
  if (!sum) return { shape: m[1], arcs: [] };
  return { shape: m[1], arcs: parts.map((p) => ({ colour: p.colour, share: p.n / sum })) };
}

/**
 * arcAt returns the index of the arc that holds the angle t, in turns
 * clockwise from the top (0 to 1): the arcs follow each other in order.
 */
export function arcAt(arcs, t) {
  let end = 0;
  for (let i = 0; i < arcs.length; i++) {
    end += arcs[i].share;
    if (t < end) return i;
  }
  return arcs.length - 1;
}

/** ringImage draws a cluster's image from its name (parseRing), or null. */
export function ringImage(name, px = RING_PX) {
  const ring = parseRing(name);
  if (!ring) return null;
  const size = Math.ceil(px * PIXEL_RATIO);
  const r = size / 2 - 1.5 * PIXEL_RATIO;
  const band = Math.max(3, r * 0.32);
  const white = [255, 255, 255, 242];
  const edge = [60, 60, 60, 140];
  return raster(size, (x, y) => {
    const d = shapeDistance(ring.shape, x, y, r);
    if (d > 0) return d < PIXEL_RATIO * 0.8 ? edge : null; // a thin dark edge outside
    if (d < -band || !ring.arcs.length) return white;
    const t = ((Math.atan2(x, -y) / (2 * Math.PI)) + 1) % 1;
    const [cr, cg, cb] = ring.arcs[arcAt(ring.arcs, t)].colour;
    return [cr, cg, cb, 255];
  });
}

// Station pictograms: whether (x, y), in a square of -1 to 1, is drawn.
const rect = (x, y, x0, y0, x1, y1) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
const disc = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const roof = (x, y, top, base, half) => y >= top && y <= base && Math.abs(x) <= half * ((y - top) / (base - top));
const PICTOGRAMS = {
  // 综治中心: a civic building, pediment and columns.
  governance_centre: (x, y) => roof(x, y, -0.75, -0.3, 0.75) || rect(x, y, -0.7, 0.55, 0.7, 0.72)
    || [-0.5, -0.1, 0.3].some((c) => rect(x, y, c, -0.25, c + 0.2, 0.5)),
  // 便民服务中心 / 服务站: a house.
  service_hall: (x, y) => roof(x, y, -0.75, -0.1, 0.75) || (rect(x, y, -0.5, -0.1, 0.5, 0.7) && !rect(x, y, -0.15, 0.25, 0.15, 0.7)),
  service_station: (x, y) => roof(x, y, -0.6, 0, 0.6) || rect(x, y, -0.4, 0, 0.4, 0.6),
  // 调解委员会: two people face to face.
  mediation: (x, y) => disc(x, y, -0.38, -0.35, 0.22) || disc(x, y, 0.38, -0.35, 0.22)
    || (disc(x, y, -0.38, 0.45, 0.36) && y <= 0.45) || (disc(x, y, 0.38, 0.45, 0.36) && y <= 0.45),
  // 警务室: a shield.
  police: (x, y) => rect(x, y, -0.55, -0.7, 0.55, 0.05) || (y > 0.05 && y < 0.75 && Math.abs(x) <= 0.55 * (1 - (y - 0.05) / 0.7)),
  // 卫生室: a cross; 卫生院: a cross in a ring.
  clinic: (x, y) => rect(x, y, -0.2, -0.65, 0.2, 0.65) || rect(x, y, -0.65, -0.2, 0.65, 0.2),
  hospital: (x, y) => rect(x, y, -0.16, -0.5, 0.16, 0.5) || rect(x, y, -0.5, -0.16, 0.5, 0.16)
    || (disc(x, y, 0, 0, 0.82) && !disc(x, y, 0, 0, 0.66)),
  // 法律援助: scales.
  legal_aid: (x, y) => rect(x, y, -0.09, -0.7, 0.09, 0.6) || rect(x, y, -0.7, -0.5, 0.7, -0.36) || rect(x, y, -0.4, 0.55, 0.4, 0.7)
    || (disc(x, y, -0.5, -0.05, 0.27) && y >= -0.05) || (disc(x, y, 0.5, -0.05, 0.27) && y >= -0.05),
};

/** pictogramOf returns the pictogram of a station kind (a dot for a kind it does not know). */
export function pictogramOf(kind) {
  return PICTOGRAMS[kind] ?? ((x, y) => disc(x, y, 0, 0, 0.35));
}

/** stationImage draws a station's badge from its name, om-st:KIND:#RRGGBB, or null. */
export function stationImage(name, px = BADGE_PX) {
  const m = /^om-st:([^:]*):(#?[0-9a-fA-F]{6})$/.exec(name);
  if (!m) return null;
  const bg = [...hex(m[2]), 255];
  const fg = [255, 255, 255, 255];
  const rim = [255, 255, 255, 255];
  const glyph = pictogramOf(m[1]);
  const size = Math.ceil(px * PIXEL_RATIO);
  const r = size / 2 - 1;
  const inner = r - 1.5 * PIXEL_RATIO;
  return raster(size, (x, y) => {
    const d = shapeDistance('square', x, y, r);
    if (d > 0) return null;
    if (d > -1.2 * PIXEL_RATIO) return rim;
    return glyph(x / (inner * 0.78), y / (inner * 0.78)) ? fg : bg;
  });
}

/**
 * iconImage returns {image, options} for MapLibre's addImage of the
 * image named name, or null for a name this module does not draw.
 */
export function iconImage(name) {
  if (SDF_SHAPES[name]) return { image: sdfImage(SDF_SHAPES[name]), options: { pixelRatio: PIXEL_RATIO, sdf: true } };
  const img = name.startsWith('om-ring:') ? ringImage(name) : name.startsWith('om-st:') ? stationImage(name) : null;
  return img ? { image: img, options: { pixelRatio: PIXEL_RATIO } } : null;
}

/**
 * addIcons draws the symbols of this module for map as its style asks for
 * them. Call it before the style loads (createMap does). MapLibre 6 asks
 * its missing-image resolver before it lays out a tile's symbols; an image
 * added from the styleimagemissing event comes too late for that layout
 * (the symbols of a tile were left out until something laid it out again),
 * so the event is only the fallback of a MapLibre without the resolver.
 */
export function addIcons(map) {
  const add = (id) => {
    if (map.hasImage(id)) return;
    const icon = iconImage(id);
    if (icon) map.addImage(id, icon.image, icon.options);
  };
  if (typeof map.setMissingStyleImageResolver === 'function') map.setMissingStyleImageResolver((id) => add(id));
  else map.on('styleimagemissing', (e) => add(e.id));
}
