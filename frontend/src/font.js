/**
 * font.js: the one source of the pages' own font, "OneMap Sans" (see
 * font.css): its name, where the server serves it, and its bytes, fetched
 * at most once per page however many parts of the page draw with it. The
 * UI's text takes it through the CSS Font Loading API (useOwnFontIfNeeded),
 * the map's labels through the style's font-faces, whose URL (FONT_URL) is
 * answered from the same bytes (map.js registers FONT_PROTOCOL with
 * MapLibre). Before, font.css declared it by URL and MapLibre fetched the
 * same URL again: two downloads of the same 282 KB at once on a machine
 * without a Chinese font.
 */

import { getBytes } from './http.js';

/** FONT is the font's family name, in the pages' CSS and in the map's text-font. */
export const FONT = 'OneMap Sans';

/** FONT_PATH is where the server serves the font (frontend/public/fonts). */
export const FONT_PATH = '/fonts/onemap-sans.woff2';

/** FONT_PROTOCOL is the URL scheme under which MapLibre asks this module for the font. */
export const FONT_PROTOCOL = 'onemap-font';

/** FONT_URL is the font's URL in a map style's font-faces (answered by fontBytes, see map.js). */
export const FONT_URL = `${FONT_PROTOCOL}://onemap-sans`;

/** FONT_RANGE is what the font covers (and is used for): Chinese and full-width forms only. */
export const FONT_RANGE = 'U+2E80-2FFF, U+3000-303F, U+3100-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF';

/** SYSTEM_FONTS are the fonts font.css names before its own. */
const SYSTEM_FONTS = 'system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

// bytes is the one download of the font, shared by every caller.
let bytes = null;

/**
 * fontBytes returns the font file's bytes, a fresh copy for each caller (a
 * FontFace may take over the buffer it is given); the file is fetched on the
 * first call only. A failed download is forgotten, so a later call tries
 * again.
 */
export async function fontBytes() {
  bytes ??= getBytes(FONT_PATH).catch((err) => {
    bytes = null;
    throw err;
  });
  return (await bytes).slice(0);
}

/**
 * hasChineseFont reports whether the machine's fonts draw Chinese: 国 drawn
 * with them must differ from a character no font has (U+F0000, drawn as the
 * box of a missing glyph, or not at all). Without a canvas it assumes so.
 */
export function hasChineseFont(doc = document) {
  const canvas = doc.createElement('canvas');
  canvas.width = 32;
  canvas.height = 32;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return true;
  const draw = (ch) => {
    ctx.clearRect(0, 0, 32, 32);
    ctx.font = `24px ${SYSTEM_FONTS}`;
    ctx.fillText(ch, 2, 26);
    return ctx.getImageData(0, 0, 32, 32).data.join(',');
  };
  return draw('国') !== draw('\u{F0000}');
}

/**
 * useOwnFontIfNeeded, where the machine has no Chinese font, marks the page
 * html.om-own-font (font.css puts OneMap Sans first) and adds the font to
 * the page's fonts from fontBytes. It returns the font's loading (null where
 * the machine's own font serves). A machine with a Chinese font never
 * downloads ours for its text (the map's labels still ask for it).
 */
export function useOwnFontIfNeeded(doc = document) {
  if (hasChineseFont(doc)) return null;
  doc.documentElement.classList.add('om-own-font');
  return fontBytes().then((data) => {
    const face = new FontFace(FONT, data, { unicodeRange: FONT_RANGE, display: 'swap' });
    doc.fonts.add(face);
    return face.load();
  }).catch((err) => {
    console.warn(`OneMap Sans: ${err.message}`); // the text falls back to the machine's fonts
    return null;
  });
}
