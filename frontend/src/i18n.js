// The client's words in Chinese (the default) and English. The address
// chooses first (?lang=en or ?lang=zh, so that a link shares a view in its
// language), then the choice kept in localStorage ("onemap.lang"); switching
// reloads the page, which keeps the view (it is in the URL's hash). Words
// not in the table show as their key.

/** LANGS are the languages the client speaks, the default first. */
export const LANGS = ['zh', 'en'];
const KEY = 'onemap.lang';

const WORDS = {
  zh: {
    appName: '一张图',
    loading: '正在加载…',
    loadFailed: '加载失败：{0}',
    mapError: '地图错误：{0}',
    search: '搜索 地名、编码或坐标',
    searchLabel: '搜索地名、编码或坐标',
    around: '周边',
    aroundTitle: '周边：再点击地图上的位置（也可在地图上右键）',
    layers: '图层',
    filters: '筛选',
    all: '全部',
    none: '清空',
    other: '其他',
    level: '等级',
    kind: '类别',
    status: '状态',
    shown: '显示 {0} / {1}',
    measure: '测量',
    measureDistance: '测距离',
    measureArea: '测面积',
    measureHint: '单击添加点，双击或回车结束，Esc 取消',
    measureClear: '清除',
    distance: '距离 {0}',
    area: '面积 {0}',
    coords: '经纬度',
    copyLink: '复制链接',
    linkCopied: '链接已复制',
    linkLabel: '当前视图的链接',
    live: '实时',
    liveOn: '实时更新已连接',
    liveOff: '实时更新已断开，正在重连…',
    liveChange: '{0} #{1} 已{2}',
    opInsert: '新增',
    opUpdate: '更新',
    opDelete: '删除',
    signIn: '登录',
    editorLink: '编辑网格',
    auditLink: '审计日志',
    signOut: '退出',
    signInTitle: '登录',
    userName: '用户名',
    password: '密码',
    cancel: '取消',
    signInFailed: '登录失败：{0}',
    role: '角色：{0}',
    roles: { public: '公众', viewer: '网格员', commander: '指挥', planner: '规划员', admin: '管理员', auditor: '审计员' },
    language: 'English',
    languageLabel: 'Switch to English',
    screen: '大屏',
    fullScreen: '全屏',
    screenTitle: '大屏模式（新窗口）',
    close: '关闭',
    pickHint: '在地图上点击要查询周边的位置',
    pickCentre: '用地图中心',
    radius: '半径',
    exportCSV: '导出 CSV',
    closeAround: '关闭周边',
    grids: '网格',
    gridWorkers: '网格员',
    riskPoints: '风险点',
    camerasOnline: '视频在线率',
    updatedAt: '更新于 {0}',
    noScript: '一张图需要启用 JavaScript。',
    // Cards, search and "around".
    short: { risk_points: '隐患', households: '风险户', cameras: '监控', stations: '站点', hazard_zones: '危险区', shelters: '安置点' },
    gridOf: '所属网格',
    gridsAt: '所在网格',
    noStats: '无统计',
    gridStats: '网格统计',
    gridPanel: '网格统计 · {0}', closeGridPanel: '关闭网格统计', showGridPanel: '统计与下级', byRisk: '按风险排序',
    riskTotal: '隐患与风险户 {0}', noRisk: '无隐患', badgeTitle: '{0}：隐患 {1}，风险户 {2}',
    children: '下级网格',
    childCount: '{0} 个{1}',
    worker: '网格员 {0}',
    aroundHere: '查周边',
    aroundHereTitle: '以此处为中心查询周边',
    zoomTo: '缩放至此',
    statsFailed: '统计暂不可用：{0}',
    statsLoading: '正在加载网格统计…',
    outside: '不在本辖区的网格内',
    coordinate: '坐标',
    locate: '定位',
    yes: '是',
    no: '否',
    noProps: '无可显示的属性',
    allProps: '全部属性',
    overdueMonths: '逾期 {0} 个月',
    overdueDays: '逾期 {0} 天',
    changedBy: '由 {0}',
    cluster: '及附近共 {0} 处',
    clusterHint: '（放大地图可逐一查看）',
    noMatch: '无匹配结果',
    groupSome: '{0} / 共 {1}',
    gridLevels: '所在网格 {0} 级',
    tallyOfNearest: '按最近 {0} 处统计',
    here: '所在',
    otherGrids: '范围内的其他网格',
    levels: '{0} 级',
    gridsCount: '{0} 个',
    listedNearest: '，列出最近 {0} 处',
    places: '{0} 处',
    // The open cases are counted in 件, not 处 (周边: around.js counted).
    placesCases: '{0} 件',
    tallyOfNearestCases: '按最近 {0} 件统计',
    listedNearestCases: '，列出最近 {0} 件',
    nothingAround: '范围内没有要素。',
    cannotShow: '无法显示 {0} #{1}',
    aroundOf: '周边 {0}',
    aroundCases: '事件',
    centreAt: '中心 {0}',
    querying: '正在查询…',
    aroundFailed: '周边查询失败：{0}',
    searchFailed: '搜索失败：{0}',
    overdueOnly: '只看逾期未评估', overdueFailed: '逾期清单暂不可用：{0}',
    crsLabel: '坐标系', crsTitle: '输入的坐标所用的坐标系', crsWGS84: 'WGS-84', crsGCJ02: 'GCJ-02 高德·微信',
    crsBD09: 'BD-09 百度', crsCGCS2000: 'CGCS2000',
    csvHeader: ['图层', '编号', '名称', '等级', '类别', '状态', '距离（米）', '联系人', '电话'],
    metres: '{0} 米',
    kilometres: '{0} 公里',
    listSep: '，',
  },
  en: {
    appName: 'OneMap',
    loading: 'Loading…',
    loadFailed: 'Failed to load: {0}',
    mapError: 'Map error: {0}',
    search: 'Search names, codes or coordinates',
    searchLabel: 'Search names, codes or coordinates',
    around: 'Around',
    aroundTitle: 'Around: then click a place on the map (or right-click the map)',
    layers: 'Layers',
    filters: 'Filters',
    all: 'All',
    none: 'None',
    other: 'Other',
    level: 'Level',
    kind: 'Kind',
    status: 'Status',
    shown: 'showing {0} of {1}',
    measure: 'Measure',
    measureDistance: 'Distance',
    measureArea: 'Area',
    measureHint: 'Click to add points, double-click or Enter to finish, Esc to cancel',
    measureClear: 'Clear',
    distance: 'Distance {0}',
    area: 'Area {0}',
    coords: 'Lon/lat',
    copyLink: 'Copy link',
    linkCopied: 'Link copied',
    linkLabel: 'Link to this view',
    live: 'Live',
    liveOn: 'Live updates connected',
    liveOff: 'Live updates lost, reconnecting…',
    liveChange: '{0} #{1} {2}',
    opInsert: 'added',
    opUpdate: 'updated',
    opDelete: 'deleted',
    signIn: 'Sign in',
    editorLink: 'Edit grids',
    auditLink: 'Audit trail',
    signOut: 'Sign out',
    signInTitle: 'Sign in',
    userName: 'User name',
    password: 'Password',
    cancel: 'Cancel',
    signInFailed: 'Sign-in failed: {0}',
    role: 'Role: {0}',
    roles: { public: 'public', viewer: 'grid staff', commander: 'commander', planner: 'planner', admin: 'admin', auditor: 'auditor' },
    language: '中文',
    languageLabel: '切换到中文',
    screen: 'Wall',
    fullScreen: 'Full screen',
    screenTitle: 'Control-room wall (new window)',
    close: 'Close',
    pickHint: 'Click the place on the map to look around',
    pickCentre: 'Use the map centre',
    radius: 'Radius',
    exportCSV: 'Export CSV',
    closeAround: 'Close "around"',
    grids: 'Grids',
    gridWorkers: 'Grid workers',
    riskPoints: 'Risk points',
    camerasOnline: 'Cameras online',
    updatedAt: 'Updated {0}',
    noScript: 'OneMap needs JavaScript.',
    short: { risk_points: 'risks', households: 'households', cameras: 'cameras', stations: 'stations', hazard_zones: 'hazard zones', shelters: 'shelters' },
    gridOf: 'Grids it belongs to',
    gridsAt: 'Grids here',
    noStats: 'No statistics',
    gridStats: 'Grid statistics',
    gridPanel: 'Statistics · {0}', closeGridPanel: 'Close the grid statistics', showGridPanel: 'Statistics', byRisk: 'by risk',
    riskTotal: 'hazards and households {0}', noRisk: 'no hazard', badgeTitle: '{0}: {1} hazards, {2} households',
    children: 'Grids below',
    childCount: '{0} × {1}',
    worker: 'Grid worker {0}',
    aroundHere: 'Around',
    aroundHereTitle: 'What is around this place',
    zoomTo: 'Zoom to',
    statsFailed: 'Statistics unavailable: {0}',
    statsLoading: 'Loading grid statistics…',
    outside: 'Outside the grids of this region',
    coordinate: 'Point',
    locate: 'Locate',
    yes: 'yes',
    no: 'no',
    noProps: 'No properties to show',
    allProps: 'All properties',
    overdueMonths: '{0} months overdue',
    overdueDays: '{0} days overdue',
    changedBy: 'by {0}',
    cluster: 'and nearby: {0} in all',
    clusterHint: ' (zoom in to see each)',
    noMatch: 'No match',
    groupSome: '{0} of {1}',
    gridLevels: '{0} levels of grids',
    tallyOfNearest: 'counted over the nearest {0}',
    here: 'here',
    otherGrids: 'Other grids in range',
    levels: '{0} levels',
    gridsCount: '{0}',
    listedNearest: ', nearest {0} listed',
    places: '{0}',
    placesCases: '{0}',
    tallyOfNearestCases: 'counted over the nearest {0} cases',
    listedNearestCases: ', nearest {0} cases listed',
    nothingAround: 'Nothing in range.',
    cannotShow: 'Cannot show {0} #{1}',
    aroundOf: 'Around, {0}',
    aroundCases: 'Cases',
    centreAt: 'Centre {0}',
    querying: 'Querying…',
    aroundFailed: 'Around failed: {0}',
    searchFailed: 'Search failed: {0}',
    overdueOnly: 'Overdue for assessment only', overdueFailed: 'Overdue list unavailable: {0}',
    crsLabel: 'Coordinate system', crsTitle: 'The system of the coordinates typed', crsWGS84: 'WGS-84',
    crsGCJ02: 'GCJ-02 AMap, WeChat', crsBD09: 'BD-09 Baidu', crsCGCS2000: 'CGCS2000',
    csvHeader: ['layer', 'id', 'name', 'level', 'kind', 'status', 'distance (m)', 'contact', 'phone'],
    metres: '{0} m',
    kilometres: '{0} km',
    listSep: ', ',
  },
};

// MapLibre's own UI strings.
const MAP_LOCALE = {
  zh: {
    'AttributionControl.ToggleAttribution': '显示/隐藏数据说明',
    'FullscreenControl.Enter': '全屏',
    'FullscreenControl.Exit': '退出全屏',
    'NavigationControl.ResetBearing': '拖动旋转地图，点击恢复正北',
    'NavigationControl.ZoomIn': '放大',
    'NavigationControl.ZoomOut': '缩小',
    'Popup.Close': '关闭',
    'ScaleControl.Meters': '米',
    'ScaleControl.Kilometers': '公里',
  },
  en: {},
};

function stored() {
  try {
    return globalThis.localStorage?.getItem(KEY);
  } catch {
    return null; // storage may be blocked
  }
}

/** PARAM is the address's query parameter that chooses the language (?lang=en). */
export const PARAM = 'lang';

/**
 * langOf returns the language of a page at address search (location.search)
 * with choice stored: the address's ?lang= if it names one of LANGS, else
 * the stored choice if it does, else Chinese.
 */
export function langOf(search, choice) {
  const asked = new URLSearchParams(search ?? '').get(PARAM);
  if (LANGS.includes(asked)) return asked;
  return LANGS.includes(choice) ? choice : LANGS[0];
}

/** lang is the page's language (langOf the page's address and the stored choice). */
export const lang = langOf(globalThis.location?.search, stored());

/**
 * setLang stores the choice of language and reloads the page in it; an
 * address that names a language is changed to name this one.
 */
export function setLang(l) {
  try {
    globalThis.localStorage?.setItem(KEY, l);
  } catch {
    // Not stored: the page still reloads in the default.
  }
  const loc = globalThis.location;
  if (!loc) return;
  const u = new URL(loc.href);
  if (u.searchParams.has(PARAM)) {
    u.searchParams.set(PARAM, l);
    loc.replace(u.href);
  } else {
    loc.reload();
  }
}

/** withLang returns href naming language l (the page's by default) in its query, the rest kept. */
export function withLang(href, l = lang) {
  const u = new URL(href);
  u.searchParams.set(PARAM, l);
  return u.href;
}

/** translate returns the word for key in language l, with {0}, {1}, … filled from args. */
export function translate(l, key, ...args) {
  const w = WORDS[l]?.[key] ?? WORDS.zh[key] ?? key;
  return typeof w === 'string' ? w.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? '')) : w;
}

/**
 * dictionary returns a t of a page's own words ({zh: {key: word}, en: …}),
 * in language l (the page's by default): a word missing in l is the
 * Chinese one, a key missing in both shows as itself. Words take {0}, {1},
 * … as translate's do.
 */
export function dictionary(words, l = lang) {
  return (key, ...args) => {
    const w = words[l]?.[key] ?? words.zh?.[key] ?? key;
    return typeof w === 'string' ? w.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? '')) : w;
  };
}

/** t returns the word for key in the page's language. */
export const t = (key, ...args) => translate(lang, key, ...args);

/** locale is the page's language for numbers, dates and times (toLocaleString). */
export const locale = lang === 'en' ? 'en-US' : 'zh-CN';

/** roleName returns the name of a role in the page's language. */
export const roleName = (role) => WORDS[lang].roles[role] ?? role;

/** mapLocale returns MapLibre's UI strings in language l (the page's by default). */
export const mapLocale = (l = lang) => MAP_LOCALE[l] ?? {};

/** layerTitle returns a layer's title (an entry of /api/layers) in the page's language. */
export const layerTitle = (layer) => (lang === 'en' ? layer?.title_en || layer?.title : layer?.title) || layer?.id;

/**
 * applyStatic translates the page's fixed text: an element's text from
 * data-i18n, and attributes from data-i18n-ATTR (placeholder, title,
 * aria-label), with tr (t by default; a page's dictionary).
 */
export function applyStatic(root, tr = t) {
  root.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = tr(el.dataset.i18n);
  for (const attr of ['placeholder', 'title', 'aria-label']) {
    const key = `i18n${attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`;
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, tr(el.dataset[key]));
  }
}
