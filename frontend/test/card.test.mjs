// Unit tests of what a feature card shows (card.js cardHTML over popup.js
// popupHTML): words and units instead of raw fields, grids by name, overdue
// assessments flagged, bookkeeping in a footer, masked values kept masked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cardHTML } from '../src/card.js';
import { overdueText, popupHTML } from '../src/popup.js';

// Fields as GET /api/layers sends them to a commander (layer.go).
const SYSTEM = [
  { name: 'version', type: 'Integer', title: '版本', class: 'system' },
  { name: 'created_at', type: 'Time', title: '创建时间', class: 'system' },
  { name: 'created_by', type: 'String', title: '创建人', class: 'system' },
  { name: 'updated_at', type: 'Time', title: '更新时间', class: 'system' },
  { name: 'updated_by', type: 'String', title: '更新人', class: 'system' },
  { name: 'synthetic', type: 'Boolean', title: '合成数据', class: 'public' },
];
const GRID = { name: 'grid_id', type: 'Integer', title: '所属网格' };
const STATIONS = {
  id: 'stations', title: '服务站点', fields: [
    { name: 'name', type: 'String', title: '名称' },
    { name: 'opening_hours', type: 'String', title: '办公时间' },
    GRID, ...SYSTEM,
  ],
};
const CAMERAS = {
  id: 'cameras', title: '视频监控', fields: [
    { name: 'name', type: 'String', title: '名称' },
    { name: 'heading', type: 'Number', title: '朝向', unit: '°' },
    { name: 'fov', type: 'Number', title: '视场角', unit: '°' },
    GRID, ...SYSTEM,
  ],
};
const RISK_POINTS = {
  id: 'risk_points', title: '风险隐患点', fields: [
    { name: 'name', type: 'String', title: '名称' },
    { name: 'last_assessed_on', type: 'Date', title: '上次评估' },
    { name: 'next_assessment_due', type: 'Date', title: '下次评估' },
    GRID, ...SYSTEM,
  ],
};
// A viewer sees households' personal fields masked (policy.go, staff).
const HOUSEHOLDS = {
  id: 'households', title: '风险户', fields: [
    { name: 'level', type: 'String', title: '风险等级' },
    { name: 'responsible_name', type: 'String', title: '挂包责任人', masked: true },
    { name: 'responsible_phone', type: 'String', title: '责任人电话', masked: true },
    GRID, ...SYSTEM,
  ],
};
const BOOK = {
  version: 3, created_at: '2026-11-20T03:00:00Z', created_by: 'seed',
  updated_at: '2026-11-26T11:07:13.20257+00:00', updated_by: 'seed', synthetic: true,
};
const NOW = new Date(2026, 10, 26, 10, 0); // 26 Nov 2026, local time
const cell = (html, field) => html.match(new RegExp(`<tr data-field="${field}"[^>]*><th>[^<]*</th><td>(.*?)</td></tr>`))?.[1];
const title = (html) => html.match(/<h3>(.*?)<\/h3>/)[1];

test('opening hours read as words, not OpenStreetMap syntax', () => {
  const html = cardHTML({ layer: STATIONS, properties: { name: '狮山镇便民服务中心', opening_hours: 'Mo-Su 08:00-18:00' }, id: 87, now: NOW });
  assert.equal(cell(html, 'opening_hours'), '周一至周日 08:00-18:00');
  assert.equal(cell(popupHTML(STATIONS, { opening_hours: 'Mo-Fr 08:30-12:00; Sa off' }, 1), 'opening_hours'),
    '周一至周五 08:30-12:00；周六 休息');
});

test('numbers carry their field\'s unit', () => {
  const html = cardHTML({ layer: CAMERAS, properties: { name: '卫生院门口', heading: 261, fov: 109.5 }, id: 3, now: NOW });
  assert.equal(cell(html, 'heading'), '261°');
  assert.equal(cell(html, 'fov'), '109.5°');
  const metres = { id: 'x', fields: [{ name: 'depth', type: 'Number', title: '深度', unit: '米' }, { name: 'n', type: 'Integer', title: '数' }] };
  const other = popupHTML(metres, { depth: 2.25, n: 7 }, 1);
  assert.equal(cell(other, 'depth'), '2.25 米');
  assert.equal(cell(other, 'n'), '7', 'no unit, no suffix');
});

test('the grid is named, never shown as a bare id', () => {
  const props = { name: '站', grid_id: 150 };
  const named = cardHTML({ layer: STATIONS, properties: props, id: 87, gridNames: new Map([['150', '东岳社区第二居民小组']]), now: NOW });
  assert.equal(cell(named, 'grid_id'), '东岳社区第二居民小组');
  const unknown = cardHTML({ layer: STATIONS, properties: props, id: 87, now: NOW });
  assert.equal(cell(unknown, 'grid_id'), undefined, 'before the name comes the row is left out');
  assert.ok(!/>150</.test(unknown), unknown);
  // A grid's parent is named from its ancestors.
  const grids = { id: 'grids', title: '网格', fields: [{ name: 'name', title: '名称' }, { name: 'parent_id', type: 'Integer', title: '上级网格' }] };
  const grid = cardHTML({ layer: grids, properties: { name: '第二居民小组', parent_id: 13 }, id: 150, now: NOW,
    grid: { ancestors: [{ id: 1, name: '武定县' }, { id: 13, name: '东岳社区' }], stats: {}, children: [] } });
  assert.equal(cell(grid, 'parent_id'), '东岳社区');
});

test('a next assessment in the past is flagged in red with how long ago', () => {
  const html = cardHTML({ layer: RISK_POINTS, properties: { name: '滑坡', last_assessed_on: '2025-04-30', next_assessment_due: '2025-07-30' }, id: 5, now: NOW });
  assert.match(cell(html, 'next_assessment_due'), /^2025-07-30 <span class="om-overdue">逾期 15 个月<\/span>$/);
  assert.equal(cell(html, 'last_assessed_on'), '2025-04-30', 'only due dates are flagged');
  const later = cardHTML({ layer: RISK_POINTS, properties: { next_assessment_due: '2026-12-01' }, id: 5, now: NOW });
  assert.equal(cell(later, 'next_assessment_due'), '2026-12-01');
  assert.ok(!later.includes('om-overdue'));
  // The clock decides: the same date is not overdue the day before.
  const before = cardHTML({ layer: RISK_POINTS, properties: { next_assessment_due: '2025-07-30' }, id: 5, now: new Date(2025, 6, 29) });
  assert.ok(!before.includes('逾期'), before);
});

test('overdueText counts days below a month, whole months from then on', () => {
  assert.equal(overdueText('2026-11-26', NOW), '', 'due today');
  assert.equal(overdueText('2026-11-25', NOW), '逾期 1 天');
  assert.equal(overdueText('2026-10-27', NOW), '逾期 30 天');
  assert.equal(overdueText('2026-10-26', NOW), '逾期 1 个月');
  assert.equal(overdueText('2025-07-30', NOW), '逾期 15 个月');
  assert.equal(overdueText('2025-07-26', NOW), '逾期 16 个月');
  assert.equal(overdueText('2030-01-01', NOW), '');
  assert.equal(overdueText('soon', NOW), '');
});

test('the id stays out of the title; bookkeeping goes to a footer', () => {
  const html = cardHTML({ layer: STATIONS, properties: { name: '武定县综治中心', ...BOOK }, id: 87, now: NOW });
  assert.ok(!title(html).includes('87'), title(html));
  assert.match(title(html), /服务站点.*武定县综治中心/);
  for (const f of ['version', 'created_at', 'created_by', 'updated_at', 'updated_by']) {
    assert.ok(!html.includes(`data-field="${f}"`), `${f} is among the properties`);
  }
  for (const w of ['版本', '创建人', '更新人']) assert.ok(!html.includes(w), `${w} shown`);
  const footer = html.match(/<p class="om-popup-meta[^"]*">(.*?)<\/p>/)?.[1];
  assert.match(footer, /^#87 · v3 · 更新于 2026-11-2[67] \d\d:\d\d 由 seed$/);
  assert.ok(html.indexOf('om-popup-meta') > html.indexOf('</table>'), 'the footer is below the table');
  assert.ok(html.includes('data-field="synthetic"'), 'other fields stay');
});

test('households: masked values stay masked, withheld fields are absent', () => {
  const masked = { level: 'red', responsible_name: '孙**', responsible_phone: '181****2609', ...BOOK };
  const html = cardHTML({ layer: HOUSEHOLDS, properties: masked, id: 9, now: NOW });
  assert.equal(cell(html, 'responsible_name'), '孙**');
  assert.equal(cell(html, 'responsible_phone'), '181****2609');
  assert.equal(cell(html, 'level'), '重大');
  // A role the server withholds fields from gets no rows (and no footer
  // entries) for them, not empty ones.
  const withheld = cardHTML({ layer: HOUSEHOLDS, properties: { level: 'blue' }, id: 9, now: NOW });
  assert.ok(!withheld.includes('data-field="responsible_name"') && !withheld.includes('挂包责任人'));
  assert.ok(!withheld.includes('data-field="grid_id"'));
  assert.match(withheld, /<p class="om-popup-meta[^"]*">#9<\/p>/);
});
