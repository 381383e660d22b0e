// The command map's tools: the cursor's coordinates, the link to the view
// (copied, and shown to copy by hand), measuring (../measure.js) and the
// toolbar's scroll cues and the room of the hints (toolrow.js).

import { createMeasure } from '../measure.js';
import { formatLonLat } from '../format.js';
import { lang, t, withLang } from '../i18n.js';
import { keepHintRoom, scrollCues } from './toolrow.js';

const $ = (id) => document.getElementById(id);

/**
 * createTools wires the coordinates, the link box and the measuring
 * buttons. It returns {measure, measureButtons, linkOpen(), closeLink()}:
 * measure is createMeasure's handle. It uses page.map, page.panel,
 * page.around and page.card.
 */
export function createTools(page) {
  const { map } = page;
  const coords = $('coords');
  map.on('mousemove', (e) => { coords.textContent = formatLonLat([e.lngLat.lng, e.lngLat.lat]); });
  map.on('mouseout', () => { coords.textContent = ''; });

  // The tools are one row scrolled sideways where they do not fit, with a
  // cue at an end that has more beyond it (toolrow.js).
  scrollCues($('toolbar'));
  // On a phone the layers start below the hint shown (app.css).
  keepHintRoom([...document.querySelectorAll('.om-hint')]);

  const linkBox = $('link-box');
  const linkText = $('link-text');
  // The link names the page's language too (?lang=), so that it opens in it.
  $('copy-link').addEventListener('click', async () => {
    page.panel.save();
    const href = withLang(location.href);
    linkText.value = href;
    linkBox.hidden = false;
    linkText.focus();
    linkText.select();
    let copied = false;
    try {
      await navigator.clipboard.writeText(href);
      copied = true;
    } catch {
      copied = document.execCommand?.('copy') ?? false; // the selected text
    }
    $('link-done').textContent = copied ? t('linkCopied') : '';
  });
  const closeLink = () => {
    linkBox.hidden = true;
    $('copy-link').focus();
  };
  $('link-close').addEventListener('click', closeLink);

  const hint = $('measure-hint');
  const measureButtons = { distance: $('measure-distance'), area: $('measure-area') };
  const measure = createMeasure(map, {
    lang,
    onChange: ({ mode, text, done }) => {
      for (const [m, b] of Object.entries(measureButtons)) b.setAttribute('aria-pressed', String(mode === m));
      hint.hidden = !mode;
      $('measure-result').textContent = text ? t(mode === 'area' ? 'area' : 'distance', text) : '';
      $('measure-finish').disabled = done;
      $('measure-centre').disabled = done;
      window.onemap.measure = { mode, text, done };
    },
  });
  for (const [m, b] of Object.entries(measureButtons)) {
    b.addEventListener('click', () => {
      if (measure.mode() === m) measure.cancel();
      else {
        page.around.setPicking(false);
        page.card.close(); // a card would hide where one clicks
        measure.start(m);
      }
    });
  }
  $('measure-centre').addEventListener('click', () => measure.addCentre());
  $('measure-finish').addEventListener('click', () => measure.finish());
  $('measure-clear').addEventListener('click', () => {
    const m = measure.mode();
    measure.cancel();
    measureButtons[m]?.focus();
  });

  return { measure, measureButtons, linkOpen: () => !linkBox.hidden, closeLink };
}
