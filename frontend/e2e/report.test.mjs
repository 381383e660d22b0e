// End-to-end test of the public report (上报) and its follow-up (查进度) on
// the phone page /m/, in headless Chromium as a 390×844 phone, against a
// running OneMap server whose anonymous role is the commander's (as
// scripts/e2e.sh starts it: the test reads the case back as staff through
// the API, from Node; the page itself uses the public routes only).
//
// A villager whose browser gives a location opens 我要上报, picks a
// category, describes the matter, types the place as AMap shares it
// (GCJ-02; the server converts it), adds two photos made here on a canvas
// (a small JPEG carrying an Exif segment with a marker, sent as it is, and
// a 3000×1500 PNG, which the page scales down to 2048 px and sends as
// JPEG), and files it. The page shows the tracking code and copies it. The
// staff find the case at the WGS-84 place, with both photos, the marker
// stripped and the large one scaled down; they accept, assign and answer
// in public. The villager follows the code: the status and the reply, and
// nothing of the staff. A mistyped code is refused with a clear message.
// The form at 360×640 fits the screen. Screenshots go to e2e/out/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BASE, openBrowser, OUT } from './browser.mjs';
import { wgs84ToGcj02 } from '../src/m/coords.js';

// The county seat (武定县 狮山镇 东岳社区) and a place in it, a little off.
const SEAT = { longitude: 102.4063, latitude: 25.5302 };
const PLACE = [102.40412, 25.53157];
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const MARKER = 'GPS-E2E-MARKER-25.53N';
const REPLY = '已安排保洁员今天下午清理，谢谢您的反映';

async function api(method, p, body) {
  const res = await fetch(new URL(p, BASE), {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buf, json: () => JSON.parse(buf.toString('utf8')) };
}

// jpegSize reads a JPEG's width and height from its start-of-frame segment.
function jpegSize(b) {
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1];
    const n = b.readUInt16BE(i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
    i += 2 + n;
  }
  return null;
}

describe('public report on a 390 px phone', { timeout: 10 * 60_000 }, () => {
  let browser;
  let page;
  let foreign;
  const errors = [];

  async function shot(name) {
    const file = path.join(OUT, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    console.log(`screenshot: ${file}`);
  }

  before(async () => {
    browser = await openBrowser({
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      geolocation: { ...SEAT, accuracy: 20 },
      permissions: ['geolocation', 'clipboard-read', 'clipboard-write'],
      ...PHONE,
    }, async ({ page }) => {
      page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`); });
      page.on('pageerror', (err) => errors.push(`page error: ${err.stack || err.message}`));
      const res = await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
      assert.equal(res.status(), 200);
    });
    ({ page, foreign } = browser);
  });
  after(async () => {
    await browser?.close();
  });

  let code = '';
  let kase = null;

  it('files a report with photos and shows the tracking code', async () => {
    await page.waitForFunction(() => document.getElementById('where').textContent.startsWith('您的位置：'));
    await page.click('#open-report');
    await page.waitForSelector('#report-view:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#r-category option').length > 1);
    // The page's position is the report's place until another is chosen.
    assert.match(await page.textContent('#r-where'), /^位置：狮山镇东岳社区（您的位置）$/);
    await page.selectOption('#r-category', 'sanitation');
    await page.fill('#r-description', '东岳社区菜市场门口垃圾堆了三天没人清理，气味很大。');
    // The place as AMap shares it: GCJ-02, latitude and longitude in a link.
    const [glon, glat] = wgs84ToGcj02(PLACE[0], PLACE[1]);
    await page.click('#r-place summary');
    await page.fill('#r-coords', `https://uri.amap.com/marker?position=${glon.toFixed(7)},${glat.toFixed(7)}`);
    await page.selectOption('#r-crs', 'gcj02');
    await page.click('#r-coords-ok');
    assert.match(await page.textContent('#r-where'), /高德、微信、腾讯地图/);

    // Two photos, made on a canvas here: a small JPEG with an Exif segment
    // (sent as it is) and a large PNG (scaled down by the page).
    const [small, large] = await page.evaluate(async () => {
      const make = async (w, h, type) => {
        const c = document.createElement('canvas');
        c.width = w;
        c.height = h;
        const g = c.getContext('2d');
        g.fillStyle = '#6a8f3c';
        g.fillRect(0, 0, w, h);
        g.fillStyle = '#c0392b';
        g.fillRect(w / 4, h / 4, w / 2, h / 2);
        const blob = await new Promise((r) => c.toBlob(r, type, 0.9));
        return [...new Uint8Array(await blob.arrayBuffer())];
      };
      return [await make(320, 240, 'image/jpeg'), await make(3000, 1500, 'image/png')];
    });
    const exif = Buffer.concat([Buffer.from('Exif\0\0MM\0*\0\0\0\x08', 'binary'), Buffer.from(MARKER)]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 255]), exif]);
    const jpeg = Buffer.concat([Buffer.from(small.slice(0, 2)), app1, Buffer.from(small.slice(2))]);
    await page.setInputFiles('#r-photo-input', [
      { name: 'IMG_20261206.jpg', mimeType: 'image/jpeg', buffer: jpeg },
      { name: 'wide.png', mimeType: 'image/png', buffer: Buffer.from(large) },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('#r-photos img').length === 2);
    assert.equal(await page.textContent('#r-photo-count'), '2/3');
    await page.fill('#r-phone', '13812345678');
    await shot('report-form');

    await page.click('#r-submit');
    await page.waitForSelector('#r-done:not([hidden])');
    code = (await page.textContent('#r-code')).trim();
    assert.match(code, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2}$/);
    await page.click('#r-copy');
    await page.waitForFunction(() => document.getElementById('r-copied').textContent !== '');
    if ((await page.textContent('#r-copied')) === '已复制') {
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), code);
    }
    await shot('report-filed');
  });

  it('stores the place in WGS-84 and the photos stripped, the large one scaled down', async () => {
    const list = await api('GET', '/api/cases?limit=5');
    assert.equal(list.status, 200, 'the e2e server lets the anonymous commander list cases');
    kase = list.json().cases.find((c) => c.tracking_code === code);
    assert.ok(kase, `case ${code} listed`);
    const [lon, lat] = kase.position;
    const metres = Math.hypot((lon - PLACE[0]) * 100_500, (lat - PLACE[1]) * 111_000);
    assert.ok(metres < 2, `stored ${metres.toFixed(2)} m from the place typed in GCJ-02`);
    assert.equal(kase.source, 'public');
    const full = (await api('GET', `/api/cases/${kase.id}`)).json();
    const photos = full.timeline[0].photos;
    assert.equal(photos.length, 2);
    for (const p of photos) {
      const r = await api('GET', p.url);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'image/jpeg');
      assert.ok(!r.buf.includes(MARKER) && !r.buf.includes('Exif'), 'the Exif segment is stripped');
      const size = jpegSize(r.buf);
      assert.ok(size && Math.max(...size) <= 2048, `photo of ${size}`);
    }
    assert.deepEqual(jpegSize((await api('GET', photos[1].url)).buf), [2048, 1024], 'the 3000×1500 photo was scaled down');
  });

  it('follows the report by its code: the status and the public reply only', async () => {
    const act = async (body) => {
      const r = await api('POST', `/api/cases/${kase.id}/actions`, body);
      assert.equal(r.status, 200, r.buf.toString());
      return r.json().case;
    };
    let k = await act({ action: 'accept', version: 1 });
    k = await act({ action: 'assign', version: k.version, grid_id: kase.grid_id, assignee: '王师傅' });
    k = await act({ action: 'handle', version: k.version, note: REPLY, public: true });
    await act({ action: 'handle', version: k.version, note: '内部：垃圾车周三检修' });

    await page.click('#r-follow');
    await page.waitForSelector('#track-view:not([hidden])');
    await page.waitForSelector('.m-track-card');
    const card = await page.textContent('.m-track-card');
    assert.match(card, /处理中/);
    assert.match(card, /环境卫生/);
    assert.match(card, /已上传 2 张/);
    assert.ok(card.includes(REPLY), 'the public reply');
    for (const secret of ['王师傅', '内部', '13812345678', '菜市场']) assert.ok(!card.includes(secret), `the follow-up tells ${secret}`);
    await shot('report-track');

    // The code as typed from paper: lower case, no hyphens; then a typo.
    await page.goto(new URL('/m/#track', BASE).href, { waitUntil: 'load' });
    await page.waitForSelector('#track-view:not([hidden])');
    assert.match(await page.textContent('#t-mine-list'), new RegExp(code), 'the phone lists the code it filed');
    await page.fill('#t-code', code.replaceAll('-', '').toLowerCase());
    await page.click('#track-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.m-track-card')?.dataset.status === 'handling');
    // A typo is a 400, which Chromium logs as a failed resource: expected here.
    const before400 = errors.length;
    const typo = code.slice(0, 3) + (code[3] === 'A' ? 'B' : 'A') + code.slice(4);
    await page.fill('#t-code', typo);
    await page.click('#track-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#t-result [role=alert]')?.textContent.includes('编号有误'));
    const logged = errors.splice(before400);
    assert.ok(logged.every((e) => e.includes('status of 400')), `errors after the typo: ${logged}`);
  });

  it('fits a 360×640 phone', async () => {
    await page.setViewportSize({ width: 360, height: 640 });
    // A fresh page (the list), then its entry to the form.
    await page.goto(new URL('/m/', BASE).href, { waitUntil: 'load' });
    await page.waitForSelector('#open-report');
    await shot('report-entry-360');
    await page.click('#open-report');
    await page.waitForSelector('#report-form:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#r-category option').length > 1);
    const overflow = await page.evaluate(() => {
      const v = document.getElementById('report-view');
      return [...v.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5).map((el) => el.id || el.className || el.tagName);
    });
    assert.deepEqual(overflow, [], 'nothing of the form runs off the screen');
    await shot('report-form-360');
  });

  it('stayed on this machine without errors', () => {
    assert.deepEqual(foreign, []);
    assert.deepEqual(errors, []);
  });
});
