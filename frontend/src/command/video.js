// The hand-off to live video from a camera's card (issue 21, item 5): for
// the roles that may see camera images (those that read the cameras
// layer), a button that asks the server for the camera's live address
// (POST /api/cameras/{id}/live: a short-lived signed address on the video
// platform, or its relay address; each opening audited) and opens it. OneMap
// shows no video itself: the platform's player does.

import { postJSON } from '../http.js';
import { escapeHtml, formatTimeOfDay } from '../format.js';
import { lang } from '../i18n.js';

const W = {
  zh: { live: '实时视频', opened: '已打开实时视频（{0} 前有效）', relay: '实时视频地址：', failed: '无法打开实时视频：{0}' },
  en: { live: 'Live video', opened: 'Live video opened (valid until {0})', relay: 'Live video address: ', failed: 'No live video: {0}' },
};
const w = (k, ...a) => (W[lang === 'en' ? 'en' : 'zh'][k]).replace(/\{(\d)\}/g, (_, i) => a[i] ?? '');

/** liveButtonHTML is the camera card's button. */
export const liveButtonHTML = () =>
  `<div class="om-card-actions"><button type="button" data-action="camera-live">${escapeHtml(w('live'))}</button></div>`;

/**
 * openLive asks for camera id's live address and opens it in a new window
 * (an address a browser cannot open, rtsp://, is shown to copy into a
 * player); it returns the answer, or null. notify(text) tells the outcome.
 */
export async function openLive(id, notify, { openWindow = (u) => globalThis.open(u, '_blank', 'noopener') } = {}) {
  try {
    const got = await postJSON(`/api/cameras/${encodeURIComponent(id)}/live`);
    if (/^https?:/.test(got.url)) {
      openWindow(got.url);
      notify(w('opened', got.expires_at ? formatTimeOfDay(got.expires_at) : '—'));
    } else {
      notify(w('relay') + got.url);
    }
    return got;
  } catch (err) {
    notify(w('failed', err.message));
    return null;
  }
}
