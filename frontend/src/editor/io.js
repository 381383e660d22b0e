// Import and export of grids: the export link of the parent's subtree, and
// a file imported whole or not at all, with a report per feature. Where a
// feature is in the file comes from the feature and line numbers the server
// sends (words.js whereText), never from its messages.

import * as api from '../api.js';
import { HttpError } from '../http.js';
import { $, busy, state, status } from './state.js';
import { fail, clearProblems, showProblems } from './save.js';
import { reopen } from './tree.js';
import { importErrorText, importRowText, w } from './words.js';

/** updateExportLink points the export link at the parent's subtree in the chosen format. */
export function updateExportLink() {
  $('export-link').href = api.exportURL($('export-format').value, state.parent?.id ?? 0);
}

async function doImport(ev) {
  ev.preventDefault();
  const file = $('import-file').files[0];
  if (!file) return;
  clearProblems();
  const ol = $('import-report');
  ol.replaceChildren();
  busy(true);
  try {
    const rep = await api.importFile(file, {
      crs: $('import-crs').value, encoding: $('import-encoding').value,
      clip: $('clip-siblings').checked ? 'parent,siblings' : 'parent',
    });
    for (const f of rep.features) {
      const li = document.createElement('li');
      li.textContent = importRowText(f);
      ol.append(li);
    }
    if (rep.ignored_fields?.length) {
      const li = document.createElement('li');
      li.textContent = w('ignoredFields', rep.ignored_fields.join('、'));
      ol.append(li);
    }
    await reopen();
    status(w('imported', rep.imported));
  } catch (e) {
    const [prefix, text] = importErrorText(e, state.role);
    if (e instanceof HttpError && e.status === 422) showProblems(e.body.problems || [], e.message, prefix);
    else status(text, true, e.message);
  } finally {
    busy(false);
  }
}

/** watchIO wires the export format and the import form. */
export function watchIO() {
  $('export-format').addEventListener('change', updateExportLink);
  $('import-form').addEventListener('submit', (ev) => doImport(ev).catch(fail));
}
