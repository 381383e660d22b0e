// Live changes on the command map: the event stream (../live.js) opens
// before anything else, so that no change made while the map loads is
// missed; once the page is up each batch reloads the tiles in view, asks for
// the counts again, updates an open card and names the last change.

import { connectLive } from '../live.js';
import { SOURCE } from '../style.js';
import { layerTitle, t } from '../i18n.js';

/**
 * createLive opens the event stream and shows its state on el (the
 * header's 实时). It returns {state, attach, followAlarms}: state is what the page and
 * its tests read ({connected, events, version, last}); attach(page) starts
 * acting on the changes, replaying those that came before, once page.map
 * has loaded; followAlarms(alarm, opened) is the alarms panel's way onto
 * the same stream.
 */
export function createLive(el) {
  const state = { connected: false, events: 0, version: 0, last: null };
  let pending = [];
  let onChanges = (changes) => pending.push(...changes);
  let onReset = () => {};
  let onTag = () => {}; // tags moved (command/tags.js), once the page is up
  let onAlarm = () => {}; // alarms raised or changed (command/alarms.js), once its panel is up
  let onOpen = () => {}; // the stream (re)opened: the alarms panel reads its list again
  connectLive({
    onChanges: (changes) => onChanges(changes),
    onReset: () => onReset(),
    on: { tag: (e) => onTag(e), alarm: (e) => onAlarm(e) },
    onState: (on) => {
      state.connected = on;
      el.dataset.state = on ? 'on' : 'off';
      el.title = on ? t('liveOn') : t('liveOff');
      if (on) onOpen();
    },
  });

  /**
   * followAlarms hands the stream's "alarm" events to alarm(data) and calls
   * opened() whenever the stream opens again (alarms are not replayed: the
   * list must be read again then).
   */
  function followAlarms(alarm, opened) {
    onAlarm = alarm;
    onOpen = opened;
  }

  function attach(page) {
    const { map } = page;
    // Every tile in view comes again (the server's cache keeps those that
    // did not change), and the tiles out of view are forgotten.
    const reloadTiles = () => {
      state.version++;
      if (map.getSource(SOURCE)) map.refreshTiles(SOURCE);
    };
    onChanges = (all) => {
      state.events += all.length;
      state.last = all[all.length - 1];
      // Cases are the case queue's (cases.js), not the layers'.
      page.cases?.changed(all.filter((c) => c.layer === 'cases'));
      const changes = all.filter((c) => c.layer !== 'cases');
      if (!changes.length) return;
      reloadTiles();
      page.counts.schedule();
      page.card.changed(changes);
      const c = changes[changes.length - 1];
      const op = { insert: t('opInsert'), update: t('opUpdate'), delete: t('opDelete') }[c.op] ?? c.op;
      el.title = t('liveChange', layerTitle(page.layerById.get(c.layer)), c.id, op);
    };
    onTag = (e) => page.tags?.moved(e);
    onReset = () => {
      reloadTiles();
      page.counts.refresh();
    };
    if (pending.length) map.once('load', () => onChanges(pending.splice(0)));
    pending = [];
  }

  return { state, attach, followAlarms };
}
