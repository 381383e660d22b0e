// Pure helpers of the public page about a station: tel: links, whether it is
// open, the status line over the list, and the hand-off links to the common
// map apps, with coordinates converted to the system each app expects (AMap
// and Tencent GCJ-02, Baidu BD-09). The links are plain hrefs: the page
// itself never requests them. Distances and escaping are ../format.js's.
import { wgs84ToBd09, wgs84ToGcj02 } from './coords.js';

export { hoursText } from '../hours.js';

const SOURCE = 'onemap'; // the "src"/"referer" the apps ask callers to name

/** telHref returns a tel: link of a phone number, or '' when there is no number. */
export function telHref(phone) {
  const n = String(phone ?? '').replace(/[^\d+\-]/g, '');
  return /\d{3,}/.test(n) ? `tel:${n}` : '';
}

const f6 = (v) => v.toFixed(6);

/**
 * navLinks returns the hand-off links of a station ({name, address, lon, lat}
 * in WGS-84): a route from `from` ({lon, lat, name}, the user's position,
 * WGS-84) to the station in AMap, Baidu and Tencent Maps, driving (the apps
 * offer walking and transit on the same page). Without `from` each app starts
 * from where the phone is.
 */
export function navLinks(st, from = null) {
  const [gLng, gLat] = wgs84ToGcj02(st.lon, st.lat);
  const [bLng, bLat] = wgs84ToBd09(st.lon, st.lat);
  const name = clean(st.name) || '目的地';
  const q = (o) => new URLSearchParams(o).toString();
  const start = from && Number.isFinite(from.lon) && Number.isFinite(from.lat) ? from : null;
  const fromName = clean(start?.name) || '我的位置';
  const [fgLng, fgLat] = start ? wgs84ToGcj02(start.lon, start.lat) : [];
  const [fbLng, fbLat] = start ? wgs84ToBd09(start.lon, start.lat) : [];
  return {
    // AMap URI API, navigation: from/to are "lon,lat,name"; coordinate=gaode says GCJ-02.
    amap: `https://uri.amap.com/navigation?${q({
      ...(start ? { from: `${f6(fgLng)},${f6(fgLat)},${fromName}` } : {}),
      to: `${f6(gLng)},${f6(gLat)},${name}`, mode: 'car', policy: '1', src: SOURCE, coordinate: 'gaode', callnative: '1' })}`,
    // Baidu URI API, direction: "latlng:lat,lng|name:…"; coord_type=bd09ll says BD-09.
    baidu: `https://api.map.baidu.com/direction?${q({
      origin: start ? `latlng:${f6(fbLat)},${f6(fbLng)}|name:${fromName}` : fromName,
      destination: `latlng:${f6(bLat)},${f6(bLng)}|name:${name}`, mode: 'driving', coord_type: 'bd09ll', output: 'html', src: `webapp.${SOURCE}` })}`,
    // Tencent URI API, routeplan: coordinates lat,lng in GCJ-02.
    tencent: `https://apis.map.qq.com/uri/v1/routeplan?${q({
      type: 'drive', from: fromName, ...(start ? { fromcoord: `${f6(fgLat)},${f6(fgLng)}` } : {}),
      to: name, tocoord: `${f6(gLat)},${f6(gLng)}`, referer: SOURCE })}`,
  };
}

// clean keeps a name from breaking the apps' own separators (",", "|", ";", ":").
const clean = (s) => String(s ?? '').replace(/[,|;:，]/g, ' ').trim();

/** openLabel describes open_now: true, false or null (hours unknown). */
export function openLabel(open) {
  if (open === true) return { text: '办公中', cls: 'open' };
  if (open === false) return { text: '已下班', cls: 'closed' };
  return { text: '时间未知', cls: 'unknown' };
}

/** nearestText is the status line over the list: "离您最近的 20 个卫生室", or that there are none. */
export function nearestText(n, from, what) {
  return n ? `离${from}最近的 ${n} 个${what}` : `附近没有${what}`;
}

/**
 * SHELTER is the chip of the shelters and evacuation sites (避难安置点),
 * after the kinds of station: its list comes from /api/public/shelters. On
 * the map it is a kind of its own, drawn by no tile (count 0 keeps it out of
 * the legend of every kind).
 */
export const SHELTER = { code: 'shelter', name: '避难场所', count: 0 };

/**
 * shelterItem turns a shelter of /api/public/shelters into an entry of the
 * list, as the cards and the map take the stations: its kind is SHELTER's,
 * its own kind's name (学校, 广场空地 …) and capacity go into the card.
 */
export function shelterItem(s) {
  return { ...s, kind: SHELTER.code, shelter_kind: s.kind, kind_name: s.kind_name || SHELTER.name, opening_hours: '', services: [] };
}

/** capacityText says how many people a shelter takes: "可容纳 700 人". */
export function capacityText(n) {
  return Number.isFinite(n) && n > 0 ? `可容纳 ${n.toLocaleString('zh-CN')} 人` : '';
}
