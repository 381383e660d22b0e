// The layer panel's live counts: asked for at start, again a moment after
// the last change of a burst, and after a reset of the event stream.

import { fetchCounts } from '../counts.js';
import { t } from '../i18n.js';

// Counts are asked for again this long after the last change of a burst.
const COUNTS_DELAY_MS = 800;

/**
 * createCounts returns {refresh, schedule}: refresh() asks now, schedule()
 * asks COUNTS_DELAY_MS after its last call. Each refresh takes a ticket and
 * an answer older than the latest one asked for is dropped; an answer goes
 * to page.layers.showCounts.
 */
export function createCounts(page) {
  let seq = 0;
  let timer;
  async function refresh() {
    const n = ++seq;
    try {
      const counts = await fetchCounts(page.region.bounds, { withStatus: page.layerById.has('grids') });
      if (n !== seq) return;
      page.panel.showCounts(counts);
      window.onemap.countsAt = Date.now();
    } catch (err) {
      if (n === seq) page.status.notify(`${t('layers')}: ${err.message}`);
    }
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, COUNTS_DELAY_MS);
  }
  return { refresh, schedule };
}
