// Unit tests of the public page's coordinate conversions (src/m/coords.js)
// and hand-off links (src/m/format.js) against published control values:
//  - WGS-84 → GCJ-02: googollee/eviltransform, go/transform_test.go (the
//    same three points, Shanghai, Shenzhen and Beijing, are the fixtures of
//    its JavaScript, Python, Java and Swift ports);
//  - GCJ-02 → BD-09: wandergis/coordtransform, test/app.js
//    (gcj02 [116.404, 39.915] → bd09 [116.41036949371029, 39.92133699351021]);
//  WGS-84 → BD-09 is the two in turn. (eviltransform's ports also list two
//  BD-09/WGS-84 pairs, TESTS_bd; the formulas reproduce them only to 10-40
//  m, as those pairs seem to come from Baidu's own converter, so they are
//  not used.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gcj02ToBd09, outOfChina, wgs84ToBd09, wgs84ToGcj02 } from '../src/m/coords.js';
import { hoursText, navLinks, openLabel, telHref } from '../src/m/station.js';
import { formatDistanceRough as formatDistance } from '../src/format.js';

// [wgsLat, wgsLng, gcjLat, gcjLng]
const EVILTRANSFORM = [
  [31.1774276, 121.5272106, 31.17530398364597, 121.531541859215], // Shanghai
  [22.543847, 113.912316, 22.540796131694766, 113.9171764808363], // Shenzhen
  [39.911954, 116.377817, 39.91334545536069, 116.38404722455657], // Beijing
];

test('wgs84ToGcj02 matches eviltransform to 1e-9 degrees', () => {
  for (const [wLat, wLng, gLat, gLng] of EVILTRANSFORM) {
    const [lng, lat] = wgs84ToGcj02(wLng, wLat);
    assert.ok(Math.abs(lng - gLng) < 1e-9 && Math.abs(lat - gLat) < 1e-9,
      `wgs84ToGcj02(${wLng}, ${wLat}) = ${lng}, ${lat}; want ${gLng}, ${gLat}`);
  }
});

test('gcj02ToBd09 matches coordtransform to 1e-9 degrees', () => {
  const [lng, lat] = gcj02ToBd09(116.404, 39.915);
  assert.ok(Math.abs(lng - 116.41036949371029) < 1e-9 && Math.abs(lat - 39.92133699351021) < 1e-9,
    `gcj02ToBd09(116.404, 39.915) = ${lng}, ${lat}`);
});

test('wgs84ToBd09 is GCJ-02 then BD-09', () => {
  const [gLng, gLat] = wgs84ToGcj02(102.4063, 25.5302);
  assert.deepEqual(wgs84ToBd09(102.4063, 25.5302), gcj02ToBd09(gLng, gLat));
});

test('outside China GCJ-02 is WGS-84', () => {
  assert.ok(outOfChina(2.35, 48.85));
  assert.deepEqual(wgs84ToGcj02(2.35, 48.85), [2.35, 48.85]);
  assert.ok(!outOfChina(102.4063, 25.5302));
});

test('navLinks route from the user to the station with converted coordinates in each app\'s order', () => {
  const st = { name: '狮山镇综治中心', address: '武定县狮山镇 1号', lon: 102.4063, lat: 25.5302 };
  const from = { lon: 102.4101, lat: 25.5255, name: '您的位置' };
  const links = navLinks(st, from);
  const [gLng, gLat] = wgs84ToGcj02(st.lon, st.lat);
  const [bLng, bLat] = wgs84ToBd09(st.lon, st.lat);
  const [fgLng, fgLat] = wgs84ToGcj02(from.lon, from.lat);
  const [fbLng, fbLat] = wgs84ToBd09(from.lon, from.lat);
  const amap = new URL(links.amap);
  assert.equal(amap.origin + amap.pathname, 'https://uri.amap.com/navigation');
  assert.equal(amap.searchParams.get('to'), `${gLng.toFixed(6)},${gLat.toFixed(6)},${st.name}`);
  assert.equal(amap.searchParams.get('from'), `${fgLng.toFixed(6)},${fgLat.toFixed(6)},您的位置`);
  assert.equal(amap.searchParams.get('coordinate'), 'gaode');
  const baidu = new URL(links.baidu);
  assert.equal(baidu.origin + baidu.pathname, 'https://api.map.baidu.com/direction');
  assert.equal(baidu.searchParams.get('destination'), `latlng:${bLat.toFixed(6)},${bLng.toFixed(6)}|name:${st.name}`);
  assert.equal(baidu.searchParams.get('origin'), `latlng:${fbLat.toFixed(6)},${fbLng.toFixed(6)}|name:您的位置`);
  assert.equal(baidu.searchParams.get('coord_type'), 'bd09ll');
  const qq = new URL(links.tencent);
  assert.equal(qq.origin + qq.pathname, 'https://apis.map.qq.com/uri/v1/routeplan');
  assert.equal(qq.searchParams.get('tocoord'), `${gLat.toFixed(6)},${gLng.toFixed(6)}`);
  assert.equal(qq.searchParams.get('fromcoord'), `${fgLat.toFixed(6)},${fgLng.toFixed(6)}`);
  assert.equal(qq.searchParams.get('to'), st.name);
  // The offset in Wuding is a few hundred metres, not zero and not wild.
  const dx = (gLng - st.lon) * 100_000, dy = (gLat - st.lat) * 111_000;
  assert.ok(Math.hypot(dx, dy) > 100 && Math.hypot(dx, dy) < 1000, `GCJ-02 offset ${Math.hypot(dx, dy)} m`);
  // Without a position the apps start from the phone's; a name with the
  // apps' separators does not break their fields.
  const bare = navLinks({ ...st, name: '甲,乙|丙;丁' });
  assert.equal(new URL(bare.amap).searchParams.get('from'), null);
  assert.equal(new URL(bare.baidu).searchParams.get('origin'), '我的位置');
  assert.equal(new URL(bare.tencent).searchParams.get('fromcoord'), null);
  assert.equal(new URL(bare.amap).searchParams.get('to').split(',').length, 3);
});

test('formatDistance and telHref', () => {
  assert.equal(formatDistance(0), '0 米');
  assert.equal(formatDistance(349.6), '350 米');
  assert.equal(formatDistance(999), '999 米');
  assert.equal(formatDistance(1234), '1.2 公里');
  assert.equal(formatDistance(25_400), '25 公里');
  assert.equal(telHref('0878-8712345'), 'tel:0878-8712345');
  assert.equal(telHref(' 0878 871 2345 '), 'tel:08788712345');
  assert.equal(telHref('无'), '');
});

test('hoursText writes opening hours in Chinese; openLabel', () => {
  assert.equal(hoursText('Mo-Fr 08:30-12:00,14:30-18:00'), '周一至周五 08:30-12:00、14:30-18:00');
  assert.equal(hoursText('Mo-Fr 09:00-12:00,14:30-17:30; Sa 09:00-12:00'), '周一至周五 09:00-12:00、14:30-17:30；周六 09:00-12:00');
  assert.equal(hoursText('24/7'), '全天 24 小时');
  assert.equal(hoursText('Mo-Su 08:00-18:00; We off'), '周一至周日 08:00-18:00；周三 休息');
  assert.equal(hoursText(''), '');
  assert.equal(openLabel(true).text, '办公中');
  assert.equal(openLabel(false).text, '已下班');
  assert.equal(openLabel(null).text, '时间未知');
});
