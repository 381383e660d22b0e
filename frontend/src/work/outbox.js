// The grid worker's outbox: every report, step and visit made on the phone
// goes here first and is kept (localStorage) until the server has taken it,
// so that what is made without network is sent when the network returns.
// Each item carries a key made on the phone when the item was made, sent as
// the Idempotency-Key of every try: the server writes it once however often
// it arrives (a try whose answer was lost is answered again with the first
// answer), so the outbox may send again whenever it is unsure.
//
// What happens to a try:
//   2xx                       done: the item leaves the outbox (onSent)
//   no answer (offline), 5xx, 401, 408, 429, or 409 naming the key with
//   Retry-After (the first send is being answered)
//                             kept; tried again after a backoff that doubles
//                             (RETRY_MS, up to MAX_RETRY_MS, with jitter), and
//                             at once when the browser says it is online
//   409 naming the key without Retry-After
//                             done: the server made the write but kept no answer
//   any other 4xx             failed: kept apart (failed()) with the server's
//                             words, for the worker to read and dismiss; a
//                             resend would be refused again
// The items of one account are kept under that account's name: keys are an
// account's on the server, and another account signing in on the phone
// neither sends nor sees them.

/** RETRY_MS is the first wait after a failed try; it doubles up to MAX_RETRY_MS. */
export const RETRY_MS = 2_000;
export const MAX_RETRY_MS = 5 * 60_000;

/** backoff returns the wait before try n+1 (n ≥ 1 tries made), with up to a fifth of jitter. */
export function backoff(n, random = Math.random) {
  const base = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** Math.max(0, n - 1));
  return Math.round(base * (1 - 0.2 * random()));
}

/**
 * outcome classifies what a try got: err is what send threw (undefined for
 * an answer). It returns 'sent', 'retry' or 'failed'.
 */
export function outcome(err) {
  if (err === undefined) return 'sent';
  const status = err?.status;
  if (typeof status !== 'number') return 'retry'; // no answer: offline, or the connection broke
  // 401: the session ended (signing in again sends it).
  if (status >= 500 || status === 401 || status === 408 || status === 429) return 'retry';
  if (status === 409 && err.field === 'idempotency_key') return err.retryAfter ? 'retry' : 'sent';
  return 'failed';
}

/** newKey returns a fresh key for an item (a random UUID). */
export function newKey(crypto = globalThis.crypto) {
  if (crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * createOutbox returns the outbox of account. Options:
 *   storage: where items are kept (localStorage, or a test's fake with
 *     getItem/setItem);
 *   send(item): sends one item (item.method, item.path, item.body with
 *     item.key as its Idempotency-Key) and resolves to the answer, or
 *     throws (an HttpError with status and field, or a TypeError with no
 *     answer);
 *   now, random, setTimer, clearTimer: the clock and timers (tests pass
 *     their own);
 *   onChange(outbox): after any change of what waits or failed;
 *   onSent(item, answer): after an item was taken.
 * Methods: add({kind, label, method, path, body}) keeps an item (its key
 * made here) and tries to send it; flush() tries every item that is due
 * (force: every item); pending(), failed() and dismiss(key).
 */
export function createOutbox(account, {
  storage = globalThis.localStorage, send, now = () => Date.now(), random = Math.random,
  setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (t) => clearTimeout(t),
  onChange = () => {}, onSent = () => {}, crypto = globalThis.crypto,
} = {}) {
  const slot = `onemap.work.outbox.${account}`;
  let state = load();
  let running = null;
  let timer = null;

  function load() {
    try {
      const v = JSON.parse(storage.getItem(slot));
      if (Array.isArray(v?.items) && Array.isArray(v?.failed)) return v;
    } catch { /* nothing kept, or not ours */ }
    return { items: [], failed: [] };
  }

  function save() {
    storage.setItem(slot, JSON.stringify(state));
    onChange(api);
  }

  function schedule() {
    if (timer !== null) clearTimer(timer);
    timer = null;
    if (!state.items.length) return;
    const next = Math.min(...state.items.map((i) => i.nextAt));
    timer = setTimer(() => {
      timer = null;
      flush();
    }, Math.max(0, next - now()));
  }

  async function run(force) {
    // One pass over the items in the order they were made; an item that
    // must wait does not hold up the others.
    for (const item of [...state.items]) {
      if (!force && item.nextAt > now()) continue;
      let answer;
      let err;
      try {
        answer = await send(item);
      } catch (e) {
        err = e;
      }
      const i = state.items.findIndex((x) => x.key === item.key);
      if (i < 0) continue; // dismissed meanwhile
      switch (outcome(err)) {
        case 'sent':
          state.items.splice(i, 1);
          save();
          onSent(item, answer ?? null);
          break;
        case 'failed':
          state.items.splice(i, 1);
          state.failed.push({ ...item, error: err?.message ?? String(err), status: err?.status ?? null });
          save();
          break;
        default: {
          const tries = (item.tries ?? 0) + 1;
          const wait = Math.max(backoff(tries, random), (err?.retryAfter ?? 0) * 1000);
          state.items[i] = { ...item, tries, nextAt: now() + wait, error: err?.message ?? '' };
          save();
        }
      }
    }
  }

  /** flush tries every item that is due (force: every item), one pass at a time. */
  function flush({ force = false } = {}) {
    if (running) return running.then(() => (force ? flush({ force }) : undefined));
    running = run(force).finally(() => {
      running = null;
      schedule();
    });
    return running;
  }

  /** add keeps an item and tries to send it; it returns the item (with its key). */
  function add({ kind, label = '', method = 'POST', path, body }) {
    const item = { key: newKey(crypto), kind, label, method, path, body, madeAt: now(), tries: 0, nextAt: now() };
    state.items.push(item);
    save();
    flush();
    return item;
  }

  const api = {
    add,
    flush,
    pending: () => state.items.map((i) => ({ ...i })),
    failed: () => state.failed.map((i) => ({ ...i })),
    dismiss(key) {
      state.failed = state.failed.filter((i) => i.key !== key);
      save();
    },
    /** idle resolves when no pass is running (for tests). */
    idle: () => running ?? Promise.resolve(),
  };
  if (state.items.length) schedule();
  return api;
}
