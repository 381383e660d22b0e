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

/** navLinks returns the hand-off links of a station ({name, address, lon, lat} in WGS-84). */
export function navLinks(st) {
  const [gLng, gLat] = wgs84ToGcj02(st.lon, st.lat);
  const [bLng, bLat] = wgs84ToBd09(st.lon, st.lat);
  const name = st.name || '';
  const addr = (st.address || '').replace(/[;:]/g, ' ');
  const q = (o) => new URLSearchParams(o).toString();
  return {
    // AMap URI API: position is lon,lat; coordinate=gaode says GCJ-02.
    amap: `https://uri.amap.com/marker?${q({ position: `${f6(gLng)},${f6(gLat)}`, name, src: SOURCE, coordinate: 'gaode', callnative: '1' })}`,
    // Baidu URI API: location is lat,lng; coord_type=bd09ll says BD-09.
    baidu: `https://api.map.baidu.com/marker?${q({ location: `${f6(bLat)},${f6(bLng)}`, title: name, content: st.address || '', output: 'html', coord_type: 'bd09ll', src: `webapp.${SOURCE}` })}`,
    // Tencent URI API: coord is lat,lng in GCJ-02.
    tencent: `https://apis.map.qq.com/uri/v1/marker?${q({ marker: `coord:${f6(gLat)},${f6(gLng)};title:${name.replace(/[;:]/g, ' ')};addr:${addr}`, referer: SOURCE })}`,
  };
}

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
