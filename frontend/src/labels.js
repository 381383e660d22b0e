// Chinese names of coded values. The fixed enums come from the layer
// catalogue (layer.go); the kinds are the reference rows the migrations seed
// (risk_point_kinds, household_kinds, camera_kinds, station_kinds). A code not
// listed here is shown as it is. The server should send these with
// /api/layers; until it does, they live here. English names are used when
// the page is in English (i18n.js).

import { CATEGORIES, LEVELS, STATUSES } from './cases-core.js';
import { lang } from './i18n.js';

// casesLabels names the codes of a case (its status, level and category as
// kind) in lang, from the case list's tables.
function casesLabels(lang) {
  const of = (table) => Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v[lang] ?? v.zh]));
  return { status: of(STATUSES), level: of(LEVELS), kind: of(CATEGORIES) };
}

const RISK_LEVELS = { red: '重大', orange: '较大', yellow: '一般', blue: '低' };

export const VALUE_LABELS = {
  grids: {
    level: { province: '省', prefecture: '州（市）', county: '县', township: '乡镇', village: '村（社区）', group: '村民小组' },
  },
  risk_points: {
    level: RISK_LEVELS,
    kind: {
      geological_hazard: '地质灾害隐患点',
      flood: '山洪内涝',
      forest_fire: '森林火险',
      dilapidated_housing: '危房',
      hazardous_chemicals: '危险化学品',
      road_traffic: '道路交通隐患',
      other: '其他',
    },
  },
  households: {
    level: RISK_LEVELS,
    // The county's dispute situations (migration 0019: household_kinds
    // holds dispute_kinds' codes).
    kind: {
      marriage_family: '婚姻家庭纠纷', neighbour: '邻里纠纷', land_forest: '土地山林水利权属纠纷', expropriation: '征地拆迁纠纷',
      labour: '劳资纠纷', contract_debt: '合同债务纠纷', medical: '医疗纠纷', other: '其他纠纷',
    },
  },
  cameras: {
    status: { online: '在线', offline: '离线', fault: '故障' },
    kind: { bullet: '枪机', dome: '球机', hemisphere: '半球', face: '人脸识别', plate: '卡口' },
  },
  stations: {
    level: { county: '县级', township: '乡镇级', village: '村级' },
    kind: {
      governance_centre: '综治中心',
      service_hall: '政务服务中心',
      service_station: '政务服务站',
      mediation: '调解委员会',
      police: '警务室',
      clinic: '卫生室',
      hospital: '卫生院',
      legal_aid: '法律服务站',
    },
  },
  // The emergency picture (migration 0020's hazard_zone_kinds, shelter_kinds).
  hazard_zones: {
    level: RISK_LEVELS,
    kind: { geological_hazard: '地质灾害威胁区', flood: '山洪淹没区', forest_fire: '森林火险区', other: '其他危险区' },
  },
  shelters: {
    kind: { emergency_shelter: '应急避难场所', school: '学校', square: '广场空地', village_hall: '村委会活动场所', other: '其他安置点' },
  },
  // The open cases near a place (周边), as the case list names them.
  cases: casesLabels('zh'),
};

const RISK_LEVELS_EN = { red: 'major (red)', orange: 'large (orange)', yellow: 'general (yellow)', blue: 'low (blue)' };

/** VALUE_LABELS_EN are the English names of the same codes. */
export const VALUE_LABELS_EN = {
  grids: { level: { province: 'province', prefecture: 'prefecture', county: 'county', township: 'township', village: 'village', group: 'village group' } },
  risk_points: {
    level: RISK_LEVELS_EN,
    kind: {
      geological_hazard: 'geological hazard', flood: 'flash flood', forest_fire: 'forest fire',
      dilapidated_housing: 'dilapidated housing', hazardous_chemicals: 'hazardous chemicals',
      road_traffic: 'road traffic', other: 'other',
    },
  },
  households: {
    level: RISK_LEVELS_EN,
    kind: {
      marriage_family: 'marriage or family dispute', neighbour: 'neighbour dispute', land_forest: 'land, forest or water dispute',
      expropriation: 'expropriation dispute', labour: 'labour dispute', contract_debt: 'contract or debt dispute', medical: 'medical dispute', other: 'other dispute',
    },
  },
  cameras: {
    status: { online: 'online', offline: 'offline', fault: 'fault' },
    kind: { bullet: 'bullet', dome: 'dome', hemisphere: 'hemisphere', face: 'face recognition', plate: 'number plate' },
  },
  stations: {
    level: { county: 'county', township: 'township', village: 'village' },
    kind: {
      governance_centre: 'governance centre', service_hall: 'service hall', service_station: 'service station',
      mediation: 'mediation committee', police: 'police office', clinic: 'clinic', hospital: 'township hospital',
      legal_aid: 'legal aid',
    },
  },
  hazard_zones: {
    level: RISK_LEVELS_EN,
    kind: { geological_hazard: 'geological hazard threat area', flood: 'flood zone', forest_fire: 'forest fire zone', other: 'other hazard zone' },
  },
  shelters: {
    kind: { emergency_shelter: 'emergency shelter', school: 'school', square: 'open square', village_hall: 'village hall', other: 'other evacuation site' },
  },
  // The open cases near a place (周边), as the case list names them.
  cases: casesLabels('en'),
};

/** valueLabel returns the name of code for field of layer in the page's language, or code. */
export function valueLabel(layer, field, code) {
  if (lang === 'en') return VALUE_LABELS_EN[layer]?.[field]?.[code] ?? code;
  return VALUE_LABELS[layer]?.[field]?.[code] ?? code;
}

/**
 * orderedCounts turns a tally {code: n} of field of layer into
 * [{key, label, count}], in the order the codes are listed above (risk
 * levels from 重大 down, cameras 在线 → 故障), then any other codes by name.
 * Zero counts are left out.
 */
export function orderedCounts(layer, field, counts) {
  const known = Object.keys(VALUE_LABELS[layer]?.[field] ?? {});
  const keys = Object.keys(counts ?? {}).filter((k) => counts[k] > 0);
  const rank = (k) => (known.includes(k) ? known.indexOf(k) : known.length);
  keys.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((key) => ({ key, label: valueLabel(layer, field, key), count: counts[key] }));
}
