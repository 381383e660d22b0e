// A grid's statistics on the command map, in a side panel like 周边 rather
// than in its card: the card on the map stays small (where the grid sits,
// its worker, its actions) and the panel lists what the grid holds and its
// children ranked by risk (../gridpanel.js renders it). The panel follows
// the grid card: it opens with a grid's card, shows the grid the card
// shows, and closes with it; it is one of the dock's panels (dock.js), so
// opening 周边 or another panel closes it.

import { gridPanelHTML } from '../gridpanel.js';
import { t } from '../i18n.js';

/**
 * createGridPanel wires the panel (side, the page's #grid-side). It returns
 * {show({grid, stats, children, error}), close(), isOpen(), grid()}: grid
 * is {id, name, level, worker_name, worker_phone}; without stats or error
 * the panel says they are loading. A child's button opens its card through
 * page.card.openGrid. It uses page.around and page.layerById.
 */
export function createGridPanel(page, side) {
  const title = side.querySelector('#grid-side-title');
  const body = side.querySelector('#grid-side-body');
  let current = null;

  function show({ grid, stats = null, children = [], error = null }) {
    current = grid;
    if (page.around.isOpen()) page.around.close();
    side.hidden = false;
    side.dataset.grid = String(grid.id);
    title.textContent = t('gridPanel', grid.name ?? `#${grid.id}`);
    body.innerHTML = gridPanelHTML({ grid, stats, children, error, layerById: page.layerById });
    if (stats || error) body.removeAttribute('aria-busy');
    else body.setAttribute('aria-busy', 'true');
  }

  function close() {
    if (side.hidden) return;
    const hadFocus = side.contains(document.activeElement);
    current = null;
    side.hidden = true;
    delete side.dataset.grid;
    if (hadFocus) page.map.getCanvas().focus();
  }

  side.querySelector('#grid-side-close').addEventListener('click', () => page.card.close());
  body.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-grid-id]');
    if (btn) page.card.openGrid(btn.dataset.gridId);
  });
  return { show, close, isOpen: () => !side.hidden, grid: () => current };
}
