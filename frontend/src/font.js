/**
 * font.js: whether the page draws its Chinese with its own font (see
 * font.css). Each page calls useOwnFontIfNeeded() first thing.
 */

/** SYSTEM_FONTS are the fonts font.css names before its own. */
const SYSTEM_FONTS = 'system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';

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

/** useOwnFontIfNeeded marks the page html.om-own-font where the machine has no Chinese font. */
export function useOwnFontIfNeeded(doc = document) {
  if (!hasChineseFont(doc)) doc.documentElement.classList.add('om-own-font');
}
