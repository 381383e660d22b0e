// The public page (/m/): the service stations nearest to where the user is,
// for a cheap phone, often in WeChat's browser, often over plain HTTP where
// the browser gives no location. The list comes first; the map (MapLibre) is
// loaded only when the user opens it. Where the user is comes from the
// browser's location, from a township and village picked from the real list,
// or from a tap on the map. Only the public API (/api/public/…) is asked.
import './m.css';
import { escapeHtml, formatDistance, hoursText, navLinks, openLabel, telHref } from './format.js';

const $ = (id) => document.getElementById(id);
const LIMIT = 20;
// The kinds a villager looks for first; the others follow in the server's order.
const FIRST = ['service_station', 'mediation', 'police', 'clinic', 'governance_centre'];

const state = {
  point: null, // [lon, lat], WGS-84
  label: '',
  kind: '', // '' is every kind
  kinds: [],
  places: null, // promise of the township list
  stations: [],
  seq: 0,
  map: null, // the map module's handle, once opened
  asked: 0, // numbers the questions of where the user is: a late answer of the browser loses to a later pick
};

async function getJSON(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.error || `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

function setStatus(text, isError = false) {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('m-error', isError);
}

function setWhere(text) {
  $('where').textContent = text;
}

// --- kinds -------------------------------------------------------------------

function renderKinds() {
  const nav = $('kinds');
  const kinds = state.kinds.filter((k) => k.count > 0);
  kinds.sort((a, b) => {
    const ia = FIRST.indexOf(a.code), ib = FIRST.indexOf(b.code);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  nav.innerHTML = [{ code: '', name: '全部' }, ...kinds]
    .map((k) => `<button type="button" data-kind="${escapeHtml(k.code)}" aria-pressed="${k.code === state.kind}">${escapeHtml(k.name)}</button>`)
    .join('');
}

$('kinds').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-kind]');
  if (!b) return;
  state.kind = b.dataset.kind;
  for (const x of $('kinds').querySelectorAll('button')) x.setAttribute('aria-pressed', String(x === b));
  load();
});

// --- the list ------------------------------------------------------------------

function cardHTML(s) {
  const open = openLabel(s.open_now);
  const tel = telHref(s.phone);
  const nav = navLinks(s);
  const ext = 'target="_blank" rel="noopener noreferrer"';
  return `<li class="m-card" data-id="${s.id}" data-kind="${escapeHtml(s.kind)}">
  <div class="m-card-head"><span class="m-name">${escapeHtml(s.name)}</span><span class="m-dist" data-m="${s.distance_m}">${formatDistance(s.distance_m)}</span></div>
  <div class="m-meta"><span class="m-kind">${escapeHtml(s.kind_name)}</span><span class="m-open ${open.cls}">${open.text}</span></div>
  ${s.opening_hours ? `<div class="m-hours">办公时间：${escapeHtml(hoursText(s.opening_hours))}</div>` : ''}
  ${s.address ? `<div class="m-addr">地址：${escapeHtml(s.address)}</div>` : ''}
  ${s.services?.length ? `<div class="m-services">服务：${s.services.map(escapeHtml).join('、')}</div>` : ''}
  <div class="m-actions">
    ${tel ? `<a class="m-call" href="${escapeHtml(tel)}">拨打 ${escapeHtml(s.phone)}</a>` : ''}
    <a class="m-nav" data-app="amap" href="${escapeHtml(nav.amap)}" ${ext}>高德导航</a>
    <a class="m-nav" data-app="baidu" href="${escapeHtml(nav.baidu)}" ${ext}>百度导航</a>
    <a class="m-nav" data-app="tencent" href="${escapeHtml(nav.tencent)}" ${ext}>腾讯导航</a>
  </div>
</li>`;
}

async function load() {
  if (!state.point) return;
  const seq = ++state.seq;
  const [lon, lat] = state.point;
  const q = new URLSearchParams({ lon: lon.toFixed(6), lat: lat.toFixed(6), limit: String(LIMIT) });
  if (state.kind) q.set('kind', state.kind);
  setStatus('正在查找附近的服务站…');
  try {
    const body = await getJSON(`/api/public/stations?${q}`);
    if (seq !== state.seq) return; // a later question has been asked
    state.stations = body.stations;
    $('list').innerHTML = body.stations.map(cardHTML).join('');
    setStatus(body.stations.length ? `离${state.label}最近的 ${body.stations.length} 个服务站` : '附近没有这类服务站');
    state.map?.update(state.point, state.stations);
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

function setPoint(point, label) {
  state.asked++;
  state.point = point;
  state.label = label;
  setWhere(`位置：${label}`);
  load();
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
    (pos) => asked === state.asked && setPoint([pos.coords.longitude, pos.coords.latitude], '您的位置'),
    (err) => asked === state.asked && locationFailed(err.code === 1 ? '未获得位置权限' : '暂时无法获取位置'),
    { enableHighAccuracy: false, timeout: 10_000, maximumAge: 60_000 },
  );
}

function locationFailed(why) {
  const saved = savedPlace();
  if (saved) {
    setPoint(saved.point, saved.label);
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
  setPoint([p.lon, p.lat], label);
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
        onPick: (lngLat) => {
          setPoint(lngLat, '地图上选的位置');
          savePlace(lngLat, '地图上选的位置');
        },
      });
      window.onemapPublic = { map: state.map.map }; // for the browser tests
    } catch (err) {
      $('map-hint').textContent = `地图加载失败：${err.message}`;
      return;
    }
  }
  $('map-hint').textContent = '点击地图，查找该处附近的服务站';
  state.map.resize();
  state.map.update(state.point, state.stations);
}

$('open-map').addEventListener('click', openMap);
$('close-map').addEventListener('click', () => {
  $('map-view').hidden = true;
});

// --- start -------------------------------------------------------------------------

async function start() {
  state.places = getJSON('/api/public/places').catch(() => {
    setStatus('无法加载乡镇和村的列表，请刷新重试', true);
    return { townships: [] };
  });
  getJSON('/api/public/kinds').then(({ kinds }) => {
    state.kinds = kinds;
    renderKinds();
  }).catch(() => {});
  useGPS();
}

start();
