// Live changes from the server's event stream (/api/events, Server-Sent
// Events): every insert, update and delete of a feature the caller may see.
// The browser reconnects by itself and resumes with Last-Event-ID; a "reset"
// says the server could not replay what was missed.

/**
 * connectLive opens the event stream. onChanges(changes) gets the changes
 * that came within `batchMs` of each other as one batch (a bulk edit
 * refreshes the map once); onReset() when everything must be reloaded;
 * onState(connected) when the connection opens or drops; on, the events
 * of other names ({tag: fn}) with their data parsed. It returns close().
 */
export function connectLive({ url = '/api/events', onChanges, onReset, onState, on = {}, batchMs = 250, EventSourceImpl = globalThis.EventSource }) {
  if (!EventSourceImpl) return () => {};
  const es = new EventSourceImpl(url);
  let pending = [];
  let timer = null;
  const flush = () => {
    timer = null;
    const batch = pending;
    pending = [];
    if (batch.length) onChanges?.(batch);
  };
  es.addEventListener('open', () => onState?.(true));
  es.addEventListener('error', () => onState?.(false));
  es.addEventListener('change', (e) => {
    let c;
    try {
      c = JSON.parse(e.data);
    } catch {
      return; // not ours
    }
    pending.push(c);
    timer ??= setTimeout(flush, batchMs);
  });
  es.addEventListener('reset', () => onReset?.());
  for (const [name, fn] of Object.entries(on)) {
    es.addEventListener(name, (e) => {
      let d;
      try {
        d = JSON.parse(e.data);
      } catch {
        return; // not ours
      }
      fn(d);
    });
  }
  return () => {
    clearTimeout(timer);
    es.close();
  };
}

/** changeBounds returns every box a batch of changes touches (where features were and are). */
export function changeBounds(changes) {
  const out = [];
  for (const c of changes) {
    if (c.bbox) out.push(c.bbox);
    if (c.old_bbox) out.push(c.old_bbox);
  }
  return out;
}
