// The grid worker's page (/m/work/) without a network: this service worker
// keeps the page's own files — its HTML and the built scripts, styles and
// fonts it loads from /assets/ and /fonts/ — so that the page opens in the
// field after a first visit, where the outbox (src/work/outbox.js) keeps
// what is made there until the network returns.
//
// It keeps nothing else. The server's answers under /api/ (tasks, cases,
// the session: personal data) and the map's tiles are never handled here:
// they go to the network as they would without a service worker, and the
// browser's cache rules (no-store) apply. Only GET requests of this origin
// are looked at.
//
//   the page (a navigation to /m/work/)   the network first, the kept copy
//                                         when there is none; a fresh copy
//                                         is kept, and the files it no longer
//                                         names are let go
//   /assets/… (names carry a content      the kept copy; else the network,
//   hash: never change), /fonts/…,        and kept
//   /favicon.svg
//   anything else                         not handled
//
// Installing reads the page once and keeps it and every file it names, so
// that the first visit is enough.

const CACHE = 'onemap-work-v1';
const PAGE = '/m/work/';

/** own reports whether a path is one of the page's own files. */
const own = (p) => p.startsWith('/assets/') || p.startsWith('/fonts/') || p === '/favicon.svg';

/** named returns the page's own files an HTML page names (src= and href=). */
function named(html) {
  const out = new Set();
  for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) {
    const u = new URL(m[1], self.location.origin + PAGE);
    if (u.origin === self.location.origin && own(u.pathname)) out.add(u.pathname);
  }
  return [...out];
}

// keepPage keeps a fresh copy of the page, and when it is another build's
// (its HTML changed) the files it names, letting go of the kept files it no
// longer names (the files loaded later, the small map's, are kept again
// when next used).
async function keepPage(res) {
  const cache = await caches.open(CACHE);
  const html = await res.clone().text();
  const kept = await cache.match(PAGE);
  if (kept && (await kept.text()) === html) return;
  const files = named(html);
  await cache.addAll(files); // before the page: never a page without its files
  const keep = new Set([PAGE, ...files]);
  for (const req of await cache.keys()) {
    if (!keep.has(new URL(req.url).pathname)) await cache.delete(req);
  }
  await cache.put(PAGE, res);
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const res = await fetch(PAGE, { cache: 'no-cache', credentials: 'same-origin' });
    if (!res.ok) throw new Error(`${PAGE}: HTTP ${res.status}`);
    await keepPage(res);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k);
    await self.clients.claim(); // the page that installed it: its later files are kept too
  })());
});

async function page(request) {
  try {
    const res = await fetch(request);
    if (res.ok && !res.redirected) await keepPage(res.clone()).catch(() => {});
    return res;
  } catch (err) {
    const kept = await caches.match(PAGE);
    if (kept) return kept;
    throw err;
  }
}

async function file(request) {
  const kept = await caches.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const res = await fetch(request);
  if (res.ok) {
    const cache = await caches.open(CACHE);
    await cache.put(request, res.clone());
  }
  return res;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && (url.pathname === PAGE || url.pathname === `${PAGE}index.html`)) {
    event.respondWith(page(req));
  } else if (own(url.pathname)) {
    event.respondWith(file(req));
  }
});
