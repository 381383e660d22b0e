// The public report form (上报) of the phone page /m/: category (the
// server's list), description, the place, up to three photos, an optional
// phone number for a call back; then the tracking code, to copy and to
// follow under 查进度 (reporttrack.js). Loaded when the user first opens it.
//
// The place is the page's own position when there is one (the browser's,
// a tap on the map or the village picker), or one chosen here: the
// browser's location, a tap on the map, the village picker, or a position
// typed or pasted from AMap or WeChat, which are GCJ-02 (or Baidu's BD-09):
// the numbers go to the server as they are, with crs=, and the server
// converts them. Photos larger than MAX_SIDE, or in a format the server
// does not take (a phone's HEIC, where the browser can read it), are drawn
// again on a canvas, scaled down, as JPEG; the server strips what photos
// tell of where and when they were taken, whatever is sent.
import { escapeHtml } from '../format.js';
import { HttpError } from '../http.js';
import { MAX_PHOTOS, fieldOf, parsePosition, rememberReport, scaledSize } from './reportutil.js';

const $ = (id) => document.getElementById(id);
const TAKEN = new Set(['image/jpeg', 'image/png', 'image/webp']);
const SEND_AS_IS = 1.5 * 1024 * 1024; // a photo this small, of a taken type and size, goes as it is

/**
 * initReport wires the form. deps: place() → { point: [lon, lat] WGS-84,
 * label } or null (the page's position); pickOnMap(cb) opens the map and
 * calls cb([lon, lat], name) with the point tapped; placeOf(point) → {
 * outside, name, county }; places (a promise of the townships and
 * villages); categories (a promise of [{ code, name }]); onFiled(code) is
 * called after a report is filed.
 */
export function initReport(deps) {
  const form = $('report-form');
  const photos = []; // { blob, name, url }
  let place = null; // { lon, lat, crs, label }

  deps.categories.then((list) => {
    $('r-category').innerHTML = '<option value="">请选择</option>' +
      list.map((c) => `<option value="${escapeHtml(c.code)}">${escapeHtml(c.name)}</option>`).join('');
  }).catch(() => showError('无法加载问题类别，请刷新重试'));

  function setPlace(p) {
    place = p;
    $('r-where').textContent = p ? `位置：${p.label}` : '尚未选择位置';
    $('r-where').classList.toggle('m-missing', !p);
    mark('place', false);
  }

  // A point of the browser or the map is named by the village that holds it.
  async function located(point, how) {
    setPlace({ lon: point[0], lat: point[1], crs: 'wgs84', label: how });
    const where = await deps.placeOf(point);
    if (place?.lon !== point[0] || place?.lat !== point[1]) return; // a later choice
    if (where.outside) {
      setPlace(null);
      showError(`所选位置不在${where.county || '本县'}范围内，请重新选择`, 'place');
      return;
    }
    if (where.name) setPlace({ ...place, label: `${where.name}（${how}）` });
  }

  function fromPage() {
    const p = deps.place();
    if (p && !place) setPlace({ lon: p.point[0], lat: p.point[1], crs: 'wgs84', label: p.label });
  }

  $('r-gps').addEventListener('click', () => {
    if (!navigator.geolocation || !window.isSecureContext) {
      showError('浏览器无法提供位置，请在地图上点选或选择村（社区）', 'place');
      return;
    }
    $('r-where').textContent = '正在获取您的位置…';
    navigator.geolocation.getCurrentPosition(
      (pos) => located([pos.coords.longitude, pos.coords.latitude], '您的位置'),
      (err) => showError(err.code === 1 ? '未获得位置权限，请在地图上点选或选择村（社区）' : '暂时无法获取位置', 'place'),
      { enableHighAccuracy: true, timeout: 10_000, maximumAge: 60_000 },
    );
  });
  $('r-map').addEventListener('click', () => {
    deps.pickOnMap((point, name) => {
      if (name) setPlace({ lon: point[0], lat: point[1], crs: 'wgs84', label: name });
      else located(point, '地图选点');
    });
  });

  // The village picker, from the public list of townships and villages.
  $('r-pick').addEventListener('click', async () => {
    const box = $('r-picker');
    box.hidden = !box.hidden;
    $('r-pick').setAttribute('aria-expanded', String(!box.hidden));
    if (box.hidden || $('r-township').options.length) return;
    const { townships } = await deps.places;
    $('r-township').innerHTML = '<option value="">请选择乡镇</option>' +
      townships.map((t, i) => `<option value="${i}">${escapeHtml(t.name)}</option>`).join('');
  });
  $('r-township').addEventListener('change', async () => {
    const { townships } = await deps.places;
    const t = townships[$('r-township').value];
    $('r-village').innerHTML = '<option value="">（整个乡镇）</option>' +
      (t ? t.villages.map((v, i) => `<option value="${i}">${escapeHtml(v.name)}</option>`).join('') : '');
  });
  $('r-pick-ok').addEventListener('click', async () => {
    const { townships } = await deps.places;
    const t = townships[$('r-township').value];
    if (!t) return;
    const v = t.villages[$('r-village').value];
    const p = v ?? t;
    setPlace({ lon: p.lon, lat: p.lat, crs: 'wgs84', label: v ? `${t.name}${v.name}` : t.name });
    $('r-picker').hidden = true;
    $('r-pick').setAttribute('aria-expanded', 'false');
  });

  // A position typed or pasted, in the system the user says.
  $('r-coords-ok').addEventListener('click', () => {
    const p = parsePosition($('r-coords').value);
    if (!p) {
      showError('无法识别坐标：请输入“经度,纬度”，如 102.404,25.530，或粘贴高德地图的位置链接', 'place');
      return;
    }
    const crs = $('r-crs').value;
    const sys = $('r-crs').selectedOptions[0].textContent;
    setPlace({ ...p, crs, label: `${p.lon.toFixed(5)}, ${p.lat.toFixed(5)}（${sys}）` });
  });

  // --- photos ---------------------------------------------------------------

  function renderPhotos() {
    $('r-photos').innerHTML = photos.map((p, i) => `<figure class="m-thumb">
  <img src="${escapeHtml(p.url)}" alt="照片 ${i + 1}">
  <button type="button" data-i="${i}" aria-label="删除照片 ${i + 1}">×</button>
</figure>`).join('');
    $('r-add-photo').hidden = photos.length >= MAX_PHOTOS;
    $('r-photo-count').textContent = `${photos.length}/${MAX_PHOTOS}`;
  }
  $('r-photos').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-i]');
    if (!b) return;
    const [p] = photos.splice(Number(b.dataset.i), 1);
    URL.revokeObjectURL(p.url);
    renderPhotos();
  });
  $('r-photo-input').addEventListener('change', async (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    if (photos.length + files.length > MAX_PHOTOS) showError(`最多 ${MAX_PHOTOS} 张照片`, 'photos');
    for (const f of files.slice(0, MAX_PHOTOS - photos.length)) {
      const blob = await prepare(f);
      photos.push({ blob, name: f.name || 'photo.jpg', url: URL.createObjectURL(blob) });
    }
    mark('photos', false);
    renderPhotos();
  });

  // --- filing ------------------------------------------------------------------

  const count = () => { $('r-count').textContent = `${$('r-description').value.length}/2000`; };
  $('r-description').addEventListener('input', count);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    const category = $('r-category').value;
    const description = $('r-description').value.trim();
    if (!category) return showError('请选择问题类别', 'category');
    if (!description) return showError('请描述问题', 'description');
    if (!place) return showError('请选择问题发生的位置', 'place');
    const body = { category, description, lon: Number(place.lon.toFixed(7)), lat: Number(place.lat.toFixed(7)) };
    if (place.crs !== 'wgs84') body.crs = place.crs;
    const phone = $('r-phone').value.trim();
    if (phone) body.phone = phone;
    const fd = new FormData();
    fd.append('report', new Blob([JSON.stringify(body)], { type: 'application/json' }));
    for (const p of photos) fd.append('photo', p.blob, p.name);
    $('r-submit').disabled = true;
    $('r-submit').textContent = photos.length ? '正在上传…' : '正在提交…';
    try {
      const res = await fetch('/api/public/reports', { method: 'POST', body: fd, credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new HttpError(res.status, data, { retryAfter: Number(res.headers.get('Retry-After')) || null });
      done(data.tracking_code, category);
    } catch (err) {
      refused(err);
    } finally {
      $('r-submit').disabled = false;
      $('r-submit').textContent = '提交上报';
    }
  });

  function refused(err) {
    if (!(err instanceof HttpError)) return showError('网络不通，上报未提交，请稍后重试');
    const field = fieldOf(err.field);
    switch (err.status) {
      case 413: return showError(`照片太大：${err.message}`, 'photos');
      case 415: return showError(`只能上传 JPEG、PNG 或 WebP 格式的照片（${err.message}）`, 'photos');
      case 429: return showError(`提交太频繁，请${err.retryAfter ? ` ${Math.ceil(err.retryAfter / 60)} 分钟后` : '稍后'}再试`);
    }
    return showError(`上报未提交：${err.message}`, field);
  }

  function done(code, category) {
    rememberReport({ code, at: new Date().toISOString(), category });
    form.hidden = true;
    $('r-done').hidden = false;
    $('r-code').textContent = code;
    $('r-follow').href = `#track=${encodeURIComponent(code)}`;
    $('r-copied').textContent = '';
    for (const p of photos.splice(0)) URL.revokeObjectURL(p.url);
    renderPhotos();
    $('r-done').scrollIntoView({ block: 'start' });
    deps.onFiled?.(code);
  }
  $('r-copy').addEventListener('click', async () => {
    const code = $('r-code').textContent;
    try {
      await navigator.clipboard.writeText(code);
      $('r-copied').textContent = '已复制';
    } catch {
      // No clipboard (plain HTTP, an old WebView): select the code for a long press.
      const range = document.createRange();
      range.selectNodeContents($('r-code'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      $('r-copied').textContent = '请长按编号复制';
    }
  });
  $('r-again').addEventListener('click', () => {
    form.reset();
    count();
    setPlace(null);
    fromPage();
    $('r-done').hidden = true;
    form.hidden = false;
  });

  function mark(part, bad) {
    const el = { category: $('r-category'), description: $('r-description'), place: $('r-place'), photos: $('r-photos-f'), phone: $('r-phone') }[part];
    if (el) el.toggleAttribute('aria-invalid', bad);
    if (el && bad) el.scrollIntoView?.({ block: 'center' });
  }

  function showError(text, part = '') {
    $('r-error').textContent = text;
    for (const p of ['category', 'description', 'place', 'photos', 'phone']) mark(p, false);
    if (text && part) mark(part, true);
  }

  renderPhotos();
  count();
  return { open: fromPage };
}

/**
 * prepare returns the photo to send: the file as it is when it is small, of
 * a type the server takes and within MAX_SIDE; otherwise drawn again on a
 * canvas, upright, scaled down, as JPEG. A file the browser cannot read
 * goes as it is (the server says what is wrong with it).
 */
async function prepare(file) {
  let img;
  try {
    img = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file;
  }
  const [w, h] = scaledSize(img.width, img.height);
  if (TAKEN.has(file.type) && file.size <= SEND_AS_IS && w === img.width && h === img.height) {
    img.close();
    return file;
  }
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  canvas.getContext('2d').drawImage(img, 0, 0, w, h);
  img.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
  return blob ?? file;
}
