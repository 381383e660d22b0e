// The public page (/m/): the service stations nearest to where the user is,
// for a cheap phone, often in WeChat's browser, often over plain HTTP where
// the browser gives no location. The list comes first; the map (MapLibre) is
// loaded only when the user opens it. Where the user is comes from the
// browser's location, from a township and village picked from the real list,
// or from a tap on the map. The stations come from the public API
// (/api/public/…); for a point of the browser or the map, /api/public/locate
// names the township and village that hold it, or says that none does: the
// user is outside the county (which it names), and is offered the picker.
// 我要上报 and 查进度 (#report, #track=CODE) open the public report form
// and the follow-up by tracking code (report.js, reporttrack.js), loaded
// when first opened.
import './m.css';
import './report.css'; // the report and follow-up sheets' (report.js), small enough to come first
import { escapeHtml, formatDistanceRough as formatDistance } from '../format.js';
import { capacityText, hoursText, navLinks, nearestText, openLabel, SHELTER, shelterItem, telHref } from './station.js';
import { getJSON } from '../http.js';
import { useOwnFontIfNeeded } from '../font.js';

useOwnFontIfNeeded(); // before anything draws text: see font.css

const $ = (id) => document.getElementById(id);
const LIMIT = 20;
// The kinds a villager looks for most (卫生室, 警务室) first; the others
// follow in the server's order.
const FIRST = ['clinic', 'police', 'service_station', 'mediation', 'governance_centre'];
// The phone remembers the kind chosen last and the map app last navigated with.
const SAVED_KIND = 'onemap.public.kind';
const SAVED_APP = 'onemap.public.navapp';
const APPS = [['amap', '高德'], ['baidu', '百度'], ['tencent', '腾讯']];

function remembered(key) {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function remember(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch { /* private mode: nothing to remember */ }
}

const state = {
  point: null, // [lon, lat], WGS-84
  how: '', // where the point came from: 'gps', 'map' or 'pick' (the picker, a station, a saved place)
  label: '', // the point in the status line: "离{label}最近的…"
  place: null, // promise of where the point is: { outside, name, county } (see placeOf)
  fit: false, // whether the map should bring the next list into view
  kind: remembered(SAVED_KIND), // '' is every kind; the last choice until the kinds are known
  kinds: [], // in the chips' order
  places: null, // promise of the township list
  stations: [],
  seq: 0,
  map: null, // the map module's handle, once opened
  asked: 0, // numbers the questions of where the user is: a late answer of the browser loses to a later pick
  pickFor: null, // a tap on the map goes here instead (the report form's place), once
  report: null, // promise of the report form and follow-up, once opened (openSheet)
};

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('m-error', isError);
}

function setWhere(text) {
  $('where').textContent = text;
}

// --- kinds -------------------------------------------------------------------

/** kindName names the kind chosen, as the status line counts it. */
function kindName() {
  if (state.kind === SHELTER.code) return SHELTER.name;
  return state.kinds.find((k) => k.code === state.kind)?.name ?? '服务站';
}

// The chips: over the list, and again over the map.
const CHIPS = [$('kinds'), $('map-kinds')];

function renderKinds() {
  const html = [{ code: '', name: '全部' }, ...state.kinds.filter((k) => k.count > 0), SHELTER]
    .map((k) => `<button type="button" data-kind="${escapeHtml(k.code)}" aria-pressed="${k.code === state.kind}">${escapeHtml(k.name)}</button>`)
    .join('');
  for (const nav of CHIPS) {
    nav.innerHTML = html;
    fade(nav);
  }
}

// fade marks a chip row that scrolls, on the side where more chips are hidden.
function fade(nav) {
  const more = nav.scrollWidth - nav.clientWidth;
  nav.classList.toggle('m-more-left', more > 1 && nav.scrollLeft > 1);
  nav.classList.toggle('m-more-right', more > 1 && nav.scrollLeft < more - 1);
}

for (const nav of CHIPS) {
  nav.addEventListener('scroll', () => fade(nav), { passive: true });
  nav.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-kind]');
    if (!b) return;
    state.kind = b.dataset.kind;
    remember(SAVED_KIND, state.kind);
    for (const n of CHIPS) {
      for (const x of n.querySelectorAll('button')) x.setAttribute('aria-pressed', String(x.dataset.kind === state.kind));
    }
    for (const n of CHIPS) n.querySelector('[aria-pressed="true"]')?.scrollIntoView({ block: 'nearest', inline: 'center' });
    state.map?.setKind(state.kind);
    state.fit = true;
    load();
  });
}
window.addEventListener('resize', () => CHIPS.forEach(fade));

// --- the list ------------------------------------------------------------------

function cardHTML(s, i) {
  if (s.kind === SHELTER.code) return shelterCardHTML(s, i);
  const open = openLabel(s.open_now);
  const tel = telHref(s.phone);
  const nav = navLinks(s, from());
  const ext = 'target="_blank" rel="noopener noreferrer"';
  const last = remembered(SAVED_APP);
  const apps = [...APPS].sort(([a], [b]) => (b === last) - (a === last));
  return `<li class="m-card" data-id="${s.id}" data-kind="${escapeHtml(s.kind)}">
  <div class="m-card-head"><span class="m-num" aria-hidden="true">${i + 1}</span><span class="m-name">${escapeHtml(s.name)}</span><span class="m-dist" data-m="${s.distance_m}">${formatDistance(s.distance_m)}</span></div>
  <div class="m-meta"><span class="m-kind">${escapeHtml(s.kind_name)}</span><span class="m-open ${open.cls}">${open.text}</span></div>
  ${s.opening_hours ? `<div class="m-hours">办公时间：${escapeHtml(hoursText(s.opening_hours))}</div>` : ''}
  ${s.address ? `<div class="m-addr">地址：${escapeHtml(s.address)}</div>` : ''}
  ${s.services?.length ? `<div class="m-services">服务：${s.services.map(escapeHtml).join('、')}</div>` : ''}
  <div class="m-actions">
    ${tel ? `<a class="m-call" href="${escapeHtml(tel)}">拨打 ${escapeHtml(s.phone)}</a>` : ''}
    ${apps.map(([app, name]) => `<a class="m-nav${app === last ? ' m-nav-last' : ''}" data-app="${app}" href="${escapeHtml(nav[app])}" ${ext}>${name}导航</a>`).join('\n    ')}
  </div>
</li>`;
}

// shelterCardHTML is the card of a shelter: its name, kind, how many it
// takes, its address and the way there.
function shelterCardHTML(s, i) {
  const nav = navLinks(s, from());
  const ext = 'target="_blank" rel="noopener noreferrer"';
  const last = remembered(SAVED_APP);
  const apps = [...APPS].sort(([a], [b]) => (b === last) - (a === last));
  return `<li class="m-card m-shelter" data-id="${s.id}" data-kind="${SHELTER.code}">
  <div class="m-card-head"><span class="m-num" aria-hidden="true">${i + 1}</span><span class="m-name">${escapeHtml(s.name)}</span><span class="m-dist" data-m="${s.distance_m}">${formatDistance(s.distance_m)}</span></div>
  <div class="m-meta"><span class="m-kind">${escapeHtml(s.kind_name)}</span><span class="m-capacity" data-capacity="${s.capacity}">${escapeHtml(capacityText(s.capacity))}</span></div>
  ${s.address ? `<div class="m-addr">地址：${escapeHtml(s.address)}</div>` : ''}
  <div class="m-actions">
    ${apps.map(([app, name]) => `<a class="m-nav${app === last ? ' m-nav-last' : ''}" data-app="${app}" href="${escapeHtml(nav[app])}" ${ext}>${name}导航</a>`).join('\n    ')}
  </div>
</li>`;
}

// from is where a route to a station starts: the point the list is measured
// from, named as the status line names it.
function from() {
  if (!state.point) return null;
  const [lon, lat] = state.point;
  return { lon, lat, name: state.how === 'pick' && state.label ? state.label : '我的位置' };
}

// A tap on a navigation link: the app is remembered and comes first next time.
$('list').addEventListener('click', (e) => {
  const a = e.target.closest('a.m-nav[data-app]');
  if (a) remember(SAVED_APP, a.dataset.app);
});

async function load() {
  if (!state.point) return;
  const seq = ++state.seq;
  const [lon, lat] = state.point;
  const q = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), limit: String(LIMIT) });
  const shelters = state.kind === SHELTER.code;
  if (state.kind && !shelters) q.set('kind', state.kind);
  const what = kindName();
  setStatus(`正在查找附近的${what}…`);
  try {
    // The shelters answer as the stations do; their entries are made to look like them (shelterItem).
    const [body, place] = await Promise.all([
      shelters ? getJSON(`/api/public/shelters?${q}`).then((b) => ({ ...b, stations: b.shelters.map(shelterItem) }))
        : getJSON(`/api/public/stations?${q}`),
      state.place]);
    if (seq !== state.seq) return; // a later question has been asked
    if (place.outside) {
      outside(body.stations[0]);
      return;
    }
    if (place.name) {
      setWhere(`${state.how === 'gps' ? '您的位置' : '地图选点'}：${place.name}`);
      if (state.how === 'map') savePlace(state.point, place.name);
    }
    state.stations = body.stations;
    $('list').innerHTML = body.stations.map(cardHTML).join('');
    setStatus(nearestText(body.stations.length, state.label, what));
    state.map?.update(state.point, state.stations, state.fit);
    state.fit = false;
  } catch (err) {
    if (seq !== state.seq) return;
    setStatus(err.status === 429 ? '查询太频繁，请稍后再试' : `查询失败：${err.message}`, true);
  }
}

// The last place picked is remembered on the phone, for the next visit of
// someone whose browser never gives a location.
const SAVED = 'onemap.public.place';

function savePlace(point, label) {
  try {
    localStorage.setItem(SAVED, JSON.stringify({ point, label }));
  } catch { /* private mode: nothing to remember */ }
}

function savedPlace() {
  try {
    const v = JSON.parse(localStorage.getItem(SAVED));
    return Array.isArray(v?.point) && v.point.length === 2 && typeof v.label === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * setPoint lists the stations near point. how says where it came from:
 * 'gps' and 'map' points are located (placeOf) to name the village or warn
 * that they lie outside the county; 'pick' points carry their label.
 */
function setPoint(point, how, label = '') {
  state.asked++;
  state.point = point;
  state.how = how;
  state.fit = how !== 'map'; // a tap on the map keeps the map where it is
  if (how === 'pick') {
    state.label = label;
    state.place = Promise.resolve({ outside: false, name: '' });
    setWhere(`位置：${label}`);
  } else {
    state.label = how === 'gps' ? '您' : '所选位置';
    state.place = placeOf(point);
    setWhere(how === 'gps' ? '您的位置' : '地图上选的位置');
  }
  load();
}

/**
 * placeOf says where point is, as /api/public/locate answers:
 * { outside: false, name: "狮山镇东岳社区", county: "武定县" } inside the
 * county (the township and village that hold it), { outside: true, county }
 * where none does. Should it not answer, the point counts as inside, unnamed.
 */
async function placeOf([lon, lat]) {
  try {
    const { inside, grids, county } = await getJSON(`/api/public/locate?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}`);
    const name = (level) => grids.find((g) => g.level === level)?.name ?? '';
    return { outside: !inside, name: name('township') + name('village'), county };
  } catch {
    return { outside: false, name: '', county: '' };
  }
}

// outside tells a user whose point lies outside the county, instead of a
// list of stations hundreds of kilometres away, and offers the picker (or
// the place picked last time, when the point came from the browser).
async function outside(nearest) {
  const seq = state.seq;
  const county = (await state.place)?.county || '本县';
  if (seq !== state.seq) return;
  const how = state.how;
  state.point = null;
  state.stations = [];
  $('list').innerHTML = '';
  state.map?.update(null, []);
  setStatus(nearest ? `${county}的服务站离这里最近也有 ${formatDistance(nearest.distance_m)}` : '', true);
  if (how === 'gps') {
    locationFailed(`您不在${county}范围内`);
    return;
  }
  setWhere(`所选位置不在${county}范围内。请在县内点选，或选择村（社区）。`);
  $('map-hint').textContent = `所选位置不在${county}范围内，请在县内点选`;
  showPicker(true);
}

// --- where the user is -----------------------------------------------------------

function useGPS() {
  if (!navigator.geolocation || !window.isSecureContext) {
    locationFailed('浏览器无法提供位置（需要 HTTPS 或已授权）');
    return;
  }
  setWhere('正在获取您的位置…');
  const asked = ++state.asked;
  navigator.geolocation.getCurrentPosition(
    (pos) => asked === state.asked && setPoint([pos.coords.longitude, pos.coords.latitude], 'gps'),
    (err) => asked === state.asked && locationFailed(err.code === 1 ? '未获得位置权限' : '暂时无法获取位置'),
    { enableHighAccuracy: false, timeout: 10_000, maximumAge: 60_000 },
  );
}

function locationFailed(why) {
  const saved = savedPlace();
  if (saved) {
    setPoint(saved.point, 'pick', saved.label);
    setWhere(`位置：${saved.label}（上次选择；${why}）`);
    return;
  }
  setWhere(`${why}。请选择您所在的村（社区），或在地图上点选。`);
  showPicker(true);
}

async function showPicker(show) {
  $('picker').hidden = !show;
  $('pick-place').setAttribute('aria-expanded', String(show));
  if (!show) return;
  const { townships } = await state.places;
  const town = $('township');
  if (!town.options.length) {
    town.innerHTML = '<option value="">请选择乡镇</option>' +
      townships.map((t, i) => `<option value="${i}">${escapeHtml(t.name)}</option>`).join('');
    fillVillages();
  }
}

function fillVillages() {
  state.places.then(({ townships }) => {
    const t = townships[$('township').value];
    $('village').innerHTML = '<option value="">（整个乡镇）</option>' +
      (t ? t.villages.map((v, i) => `<option value="${i}">${escapeHtml(v.name)}</option>`).join('') : '');
  });
}

$('township').addEventListener('change', fillVillages);
$('picker').addEventListener('submit', async (e) => {
  e.preventDefault();
  const { townships } = await state.places;
  const t = townships[$('township').value];
  if (!t) return;
  const v = t.villages[$('village').value];
  const p = v ?? t;
  const label = v ? `${t.name}${v.name}` : t.name;
  setPoint([p.lon, p.lat], 'pick', label);
  savePlace([p.lon, p.lat], label);
  showPicker(false);
});
$('pick-place').addEventListener('click', () => showPicker($('picker').hidden));
$('use-gps').addEventListener('click', useGPS);

// --- the map, loaded on demand ----------------------------------------------------

async function openMap() {
  $('map-view').hidden = false;
  if (!state.map) {
    $('map-hint').textContent = '正在加载地图…';
    try {
      const { createMap } = await import('./map.js');
      state.map = await createMap($('map'), {
        center: state.point,
        kinds: () => [...state.kinds, SHELTER],
        legend: $('map-legend'),
        onPick: (lngLat, name) => {
          $('map-hint').textContent = HINT;
          if (state.pickFor) {
            const pick = state.pickFor;
            state.pickFor = null;
            $('map-view').hidden = true;
            pick(lngLat, name);
            return;
          }
          if (name) setPoint(lngLat, 'pick', name);
          else setPoint(lngLat, 'map'); // saved once located inside the county (load)
        },
        onShow: showInList,
      });
      window.onemapPublic = { map: state.map.map }; // for the browser tests
    } catch (err) {
      $('map-hint').textContent = `地图加载失败：${err.message}`;
      return;
    }
  }
  $('map-hint').textContent = HINT;
  $('map-kinds').querySelector('[aria-pressed="true"]')?.scrollIntoView({ block: 'nearest', inline: 'center' });
  fade($('map-kinds'));
  state.map.resize();
  state.map.setKind(state.kind);
  state.map.update(state.point, state.stations, true);
}

const HINT = '点空白处设为位置，点服务站看名称';

// showInList closes the map and brings the card of station id into view.
function showInList(id) {
  $('map-view').hidden = true;
  const card = $('list').querySelector(`li[data-id="${id}"]`);
  if (!card) return;
  for (const c of $('list').querySelectorAll('.m-focus')) c.classList.remove('m-focus');
  card.classList.add('m-focus');
  card.scrollIntoView({ block: 'center' });
}

$('open-map').addEventListener('click', openMap);
$('close-map').addEventListener('click', () => {
  $('map-view').hidden = true;
  state.pickFor = null;
});

// --- 上报 and 查进度 ------------------------------------------------------------------

// pickOnMap opens the map for the report form: the next tap is its place.
async function pickOnMap(cb) {
  state.pickFor = cb;
  await openMap();
  if (state.pickFor === cb) $('map-hint').textContent = '点地图选择问题发生的位置';
}

/** openSheet shows the sheet the address's hash names (#report, #track, #track=CODE), or none. */
async function openSheet() {
  const hash = decodeURIComponent(location.hash.slice(1));
  const [name, code = ''] = hash.split('=');
  const report = name === 'report';
  const track = name === 'track';
  $('report-view').hidden = !report;
  $('track-view').hidden = !track;
  if (!report && !track) return;
  state.report ??= Promise.all([import('./report.js'), import('./reporttrack.js')]).then(([r, t]) => {
    const categories = getJSON('/api/public/categories').then((b) => b.categories);
    return {
      form: r.initReport({
        place: () => (state.point ? { point: state.point, label: placeLabel($('where').textContent) } : null),
        pickOnMap,
        placeOf,
        places: state.places,
        categories,
      }),
      track: t.initTrack({ categories }),
    };
  });
  const { form, track: follow } = await state.report;
  if (report) form.open();
  else follow.open(code);
}
window.addEventListener('hashchange', openSheet);

// placeLabel turns the status line's "您的位置：狮山镇东岳社区" into
// "狮山镇东岳社区（您的位置）" for the report's place ("位置：…" into "…").
function placeLabel(where) {
  const i = where.indexOf('：');
  if (i < 0) return where;
  const [head, rest] = [where.slice(0, i), where.slice(i + 1)];
  return head === '位置' ? rest : `${rest}（${head}）`;
}

// --- start -------------------------------------------------------------------------

async function start() {
  state.places = getJSON('/api/public/places').catch(() => {
    setStatus('无法加载乡镇和村的列表，请刷新重试', true);
    return { townships: [] };
  });
  getJSON('/api/public/kinds').then(({ kinds }) => {
    const rank = (k) => (FIRST.includes(k.code) ? FIRST.indexOf(k.code) : 99);
    state.kinds = kinds.sort((a, b) => rank(a) - rank(b));
    // The kind remembered from last time, if the county still has it.
    if (state.kind && state.kind !== SHELTER.code && !state.kinds.some((k) => k.code === state.kind && k.count > 0)) state.kind = '';
    renderKinds();
    // A kind remembered: the list asked before the kinds came is asked
    // again, and named by its kind ("最近的 … 个警务室").
    if (remembered(SAVED_KIND)) load();
  }).catch(() => {});
  useGPS();
  openSheet();
}

start();
